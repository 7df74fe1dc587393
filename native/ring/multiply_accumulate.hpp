// Key switching's inner products on one limb, for one or several keys sharing the decomposition x:
// for key k, out0[k] = sum_d x_d * y0[k * terms + d] and out1[k] = sum_d x_d * y1[k * terms + d]
// (mod q), accumulated without intermediate reduction and reduced once per coefficient. The IFMA
// kernel reads each part of x once for all the keys.
#pragma once
#include <cstddef>

#include "ring/cpu_features.hpp"
#include "ring/modarith.hpp"

namespace cipherlm {

// terms <= 64; every input is reduced modulo q; n is a ring degree (a power of two, at least 8). The
// IFMA path needs q < 2^50.
void dot_product_mod(const u64* const* x, const u64* const* y0, const u64* const* y1, std::size_t terms,
                     std::size_t keys, const Modulus& q, u64* const* out0, u64* const* out1, std::size_t n, bool ifma);
// One key.
inline void dot_product_mod(const u64* const* x, const u64* const* y0, const u64* const* y1, std::size_t terms,
                            const Modulus& q, u64* out0, u64* out1, std::size_t n, bool ifma) {
  dot_product_mod(x, y0, y1, terms, 1, q, &out0, &out1, n, ifma);
}

#if CIPHERLM_X86_KERNELS
void dot_product_mod_avx512ifma(const u64* const* x, const u64* const* y0, const u64* const* y1, std::size_t terms,
                                std::size_t keys, const Modulus& q, u64* const* out0, u64* const* out1, std::size_t n);
#endif

}  // namespace cipherlm
