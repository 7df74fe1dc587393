// CKKS encryption parameters and their validation against the HE standard's 128-bit table.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "ring/modarith.hpp"

namespace cipherlm {

struct Parameters {
  std::size_t ring_degree = 0;
  std::vector<u64> data_primes;     // q_0 .. q_L; rescaling drops them from the end
  std::vector<u64> special_primes;  // p_0 .. p_{k-1}, used only inside key switching
  std::size_t key_switch_digits = 0;  // 0: as many digits as needed for #data / #special primes
  // Data primes per key-switching digit, from q_0 up (they sum to #data primes); empty: equal digits
  // of ceil(#data / key_switch_digits) primes. Uneven digits let a digit of small primes hold more of them.
  std::vector<std::size_t> digit_sizes;
  bool allow_insecure_for_tests_only = false;
};

// Largest log2 of the whole modulus (data and special primes) for 128-bit security with a uniform
// ternary secret, from the HE standard (homomorphicencryption.org, 2018), or 0 if N is not listed.
int max_log_modulus_128(std::size_t ring_degree);

// Throws ErrorCode::InsecureParameters / InvalidArgument with a message naming the limit.
void validate_parameters(const Parameters& parameters);

double total_log_modulus(const Parameters& parameters);

// Key-switching digits balanced by bits rather than by count: consecutive data primes from q_0 up,
// each digit as long as its product stays below P / 2^margin_bits (P the special primes' product),
// so that the key-switching noise Q_d / P stays small and there are as few digits (and as small keys)
// as the special primes allow. Throws InvalidArgument when one prime alone is too large.
std::vector<std::size_t> balanced_digit_sizes(const std::vector<u64>& data_primes, const std::vector<u64>& special_primes,
                                              double margin_bits);

}  // namespace cipherlm
