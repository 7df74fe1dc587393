#include "ring/base_converter.hpp"

#include "ring/elementwise.hpp"
#include "ring/error.hpp"

namespace cipherlm {

BaseConverter::BaseConverter(const std::vector<Modulus>& source, const std::vector<Modulus>& target)
    : source_(source), target_(target) {
  require(!source.empty(), ErrorCode::InvalidArgument, "base conversion needs a source prime");
  // Sums of up to 2^20 products of two 61-bit values fit in 128 bits without reduction.
  require(source.size() < (1u << 6), ErrorCode::InvalidArgument, "too many source primes for base conversion");
  const std::size_t k = source.size();
  punctured_inverse_.resize(k);
  punctured_inverse_shoup_.resize(k);
  for (std::size_t i = 0; i < k; ++i) {
    u64 product = 1;
    for (std::size_t m = 0; m < k; ++m) {
      if (m != i) product = mul_mod(product, source[i].reduce(source[m].value), source[i]);
    }
    punctured_inverse_[i] = inv_mod(product, source[i]);
    punctured_inverse_shoup_[i] = shoup_precompute(punctured_inverse_[i], source[i].value);
  }
  punctured_in_target_.resize(target.size() * k);
  punctured_in_target_shoup_.reserve(target.size() * k);
  for (std::size_t j = 0; j < target.size(); ++j) {
    for (std::size_t i = 0; i < k; ++i) {
      u64 product = 1;
      for (std::size_t m = 0; m < k; ++m) {
        if (m != i) product = mul_mod(product, target[j].reduce(source[m].value), target[j]);
      }
      punctured_in_target_[j * k + i] = product;
      punctured_in_target_shoup_.push_back(shoup_precompute(product, target[j].value));
    }
  }
}

void BaseConverter::scale_source_limb(std::size_t i, const u64* x, u64* y, std::size_t n) const {
  const u64 w = punctured_inverse_[i], ws = punctured_inverse_shoup_[i], q = source_[i].value;
  for (std::size_t c = 0; c < n; ++c) y[c] = mul_shoup(x[c], w, ws, q);
}

void BaseConverter::convert_to_target_limb(std::size_t j, const u64* const* scaled, u64* out, std::size_t n,
                                           SimdPath path) const {
  const std::size_t k = source_.size();
  const Modulus& p = target_[j];
  const u64* factors = punctured_in_target_.data() + j * k;
  const bool simd = path == SimdPath::Avx512Ifma;
  if (k == 1) {
    // One source prime: y < q_0 and the factor is 1, so the conversion is a plain reduction.
    reduce_mod(scaled[0], out, n, p, simd && fits_simd_kernels(p.value) && source_[0].value < (u64(1) << 52));
    return;
  }
#if CIPHERLM_X86_KERNELS
  if (simd && n % 8 == 0) {
    weighted_sum_mod_avx512(scaled, factors, punctured_in_target_shoup_.data() + j * k, k, p.value, out, n);
    return;
  }
#endif
  for (std::size_t c = 0; c < n; ++c) {
    UInt128 acc;
    for (std::size_t i = 0; i < k; ++i) acc = add_wide(acc, multiply_wide(scaled[i][c], factors[i]));
    out[c] = p.reduce128(acc);
  }
}

}  // namespace cipherlm
