// Key switching's inner product on one limb: out0 = sum_d x_d * y0_d, out1 = sum_d x_d * y1_d (mod q),
// accumulated without intermediate reduction and reduced once per coefficient.
#pragma once
#include <cstddef>

#include "ring/cpu_features.hpp"
#include "ring/modarith.hpp"

namespace cipherlm {

// terms <= 64; every input is reduced modulo q; n is a ring degree (a power of two, at least 8). The
// IFMA path needs q < 2^50.
void dot_product_mod(const u64* const* x, const u64* const* y0, const u64* const* y1, std::size_t terms,
                     const Modulus& q, u64* out0, u64* out1, std::size_t n, bool ifma);

#if CIPHERLM_X86_KERNELS
void dot_product_mod_avx512ifma(const u64* const* x, const u64* const* y0, const u64* const* y1, std::size_t terms,
                                const Modulus& q, u64* out0, u64* out1, std::size_t n);
#endif

}  // namespace cipherlm
