#include "rlwe/parameters.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "ring/error.hpp"
#include "ring/primes.hpp"

namespace cipherlm {

int max_log_modulus_128(std::size_t ring_degree) {
  switch (ring_degree) {
    case 4096: return 109;
    case 8192: return 218;
    case 16384: return 438;
    case 32768: return 881;
    case 65536: return 1772;
    default: return 0;
  }
}

double total_log_modulus(const Parameters& p) {
  double bits = 0;
  for (u64 q : p.data_primes) bits += std::log2(static_cast<double>(q));
  for (u64 q : p.special_primes) bits += std::log2(static_cast<double>(q));
  return bits;
}

std::vector<std::size_t> balanced_digit_sizes(const std::vector<u64>& data_primes, const std::vector<u64>& special_primes,
                                              double margin_bits) {
  double special_bits = 0;
  for (u64 p : special_primes) special_bits += std::log2(static_cast<double>(p));
  const double limit = special_bits - margin_bits;
  std::vector<std::size_t> sizes;
  double bits = 0;
  for (u64 q : data_primes) {
    const double b = std::log2(static_cast<double>(q));
    require(b <= limit, ErrorCode::InvalidArgument,
            "a data prime alone exceeds the special primes' product less the margin: add special primes");
    if (sizes.empty() || bits + b > limit) {
      sizes.push_back(0);
      bits = 0;
    }
    ++sizes.back();
    bits += b;
  }
  return sizes;
}

void validate_parameters(const Parameters& p) {
  const std::size_t n = p.ring_degree;
  const bool power_of_two = n != 0 && (n & (n - 1)) == 0;
  require(power_of_two, ErrorCode::InvalidArgument, "ring degree must be a power of two");
  if (p.allow_insecure_for_tests_only) {
    require(n >= 16 && n <= 65536, ErrorCode::InvalidArgument, "ring degree must be in [16, 65536]");
  } else {
    require(n >= 4096 && n <= 65536, ErrorCode::InvalidArgument,
            "ring degree must be in [4096, 65536] (2^12 .. 2^16); got " + std::to_string(n));
  }
  require(!p.data_primes.empty(), ErrorCode::InvalidArgument, "at least one data prime is required");
  require(!p.special_primes.empty(), ErrorCode::InvalidArgument, "at least one special prime is required for key switching");
  require(p.data_primes.size() + p.special_primes.size() <= 64, ErrorCode::InvalidArgument, "at most 64 primes in all");
  std::set<u64> seen;
  auto check_prime = [&](u64 q, const char* role) {
    require(q >= 3 && q < (u64(1) << 60), ErrorCode::InvalidArgument, std::string(role) + " prime out of range (must be below 2^60)");
    require(is_prime(q), ErrorCode::InvalidArgument, std::string(role) + " modulus " + std::to_string(q) + " is not prime");
    require(q % (2 * n) == 1, ErrorCode::InvalidArgument,
            std::string(role) + " prime " + std::to_string(q) + " is not congruent to 1 mod 2N");
    require(seen.insert(q).second, ErrorCode::InvalidArgument, "prime " + std::to_string(q) + " appears twice");
  };
  for (u64 q : p.data_primes) check_prime(q, "data");
  for (u64 q : p.special_primes) check_prime(q, "special");
  if (p.key_switch_digits != 0) {
    require(p.key_switch_digits <= p.data_primes.size(), ErrorCode::InvalidArgument,
            "key-switching digits cannot exceed the number of data primes");
  }
  if (!p.digit_sizes.empty()) {
    std::size_t total = 0;
    for (std::size_t size : p.digit_sizes) {
      require(size >= 1, ErrorCode::InvalidArgument, "every key-switching digit needs at least one data prime");
      total += size;
    }
    require(total == p.data_primes.size(), ErrorCode::InvalidArgument,
            "the key-switching digit sizes add up to " + std::to_string(total) + " primes; there are " +
                std::to_string(p.data_primes.size()) + " data primes");
    require(p.key_switch_digits == 0 || p.key_switch_digits == p.digit_sizes.size(), ErrorCode::InvalidArgument,
            "the digit count disagrees with the list of digit sizes");
  }
  if (!p.allow_insecure_for_tests_only) {
    // Bit count of the product of all primes, as SEAL's total_coeff_modulus_bit_count counts it.
    const int bits = static_cast<int>(std::floor(total_log_modulus(p))) + 1;
    const int limit = max_log_modulus_128(n);
    if (bits > limit) {
      fail(ErrorCode::InsecureParameters,
           "parameters are below 128-bit security: log2 of the whole modulus (data and special primes) is " +
               std::to_string(bits) + " bits, the HE standard allows at most " +
               std::to_string(limit) + " bits for N = " + std::to_string(n) + " with a ternary secret");
    }
  }
}

}  // namespace cipherlm
