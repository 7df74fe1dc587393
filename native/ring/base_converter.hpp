// Fast (approximate) RNS base conversion from a source set of primes to a target set:
//   y_i = [x_i * (Q/q_i)^-1]_{q_i},  out_j = sum_i y_i * (Q/q_i) mod p_j.
// The result is x + u Q for a small u in [0, #source): exact enough for key switching, where the u Q
// term cancels against the gadget (see rlwe/keyswitch.cpp).
#pragma once
#include <vector>

#include "ring/cpu_features.hpp"
#include "ring/modarith.hpp"

namespace cipherlm {

class BaseConverter {
 public:
  BaseConverter(const std::vector<Modulus>& source, const std::vector<Modulus>& target);

  std::size_t source_size() const { return source_.size(); }
  std::size_t target_size() const { return target_.size(); }

  // Step one, per source limb: y = x * (Q/q_i)^-1 mod q_i.
  void scale_source_limb(std::size_t i, const u64* x, u64* y, std::size_t n) const;
  // Step two, per target limb: out = sum_i y_i * (Q/q_i) mod p_j, given the scaled source limbs.
  // On the AVX-512 path each term is a Shoup product by the constant (Q/q_i) mod p_j.
  void convert_to_target_limb(std::size_t j, const u64* const* scaled, u64* out, std::size_t n, SimdPath path) const;

 private:
  std::vector<Modulus> source_, target_;
  std::vector<u64> punctured_inverse_, punctured_inverse_shoup_;  // (Q/q_i)^-1 mod q_i
  std::vector<u64> punctured_in_target_;                          // [j * source + i] = (Q/q_i) mod p_j
  std::vector<u64> punctured_in_target_shoup_;
};

#if CIPHERLM_X86_KERNELS
// sum_i y_i * factor_i mod p over n coefficients, with 64-bit Shoup factors (p below 2^61).
void weighted_sum_mod_avx512(const u64* const* y, const u64* factors, const u64* factors_shoup, std::size_t terms,
                             u64 p, u64* out, std::size_t n);
#endif

}  // namespace cipherlm
