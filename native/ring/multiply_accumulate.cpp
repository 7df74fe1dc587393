#include "ring/multiply_accumulate.hpp"

namespace cipherlm {

void dot_product_mod(const u64* const* x, const u64* const* y0, const u64* const* y1, std::size_t terms,
                     std::size_t keys, const Modulus& q, u64* const* out0, u64* const* out1, std::size_t n,
                     [[maybe_unused]] bool ifma) {
#if CIPHERLM_X86_KERNELS
  if (ifma) return dot_product_mod_avx512ifma(x, y0, y1, terms, keys, q, out0, out1, n);
#endif
  // Products of 60-bit residues are below 2^120; 64 of them fit in 128 bits.
  for (std::size_t k = 0; k < keys; ++k) {
    const u64* const* key0 = y0 + k * terms;
    const u64* const* key1 = y1 + k * terms;
    for (std::size_t c = 0; c < n; ++c) {
      UInt128 acc0, acc1;
      for (std::size_t d = 0; d < terms; ++d) {
        acc0 = add_wide(acc0, multiply_wide(x[d][c], key0[d][c]));
        acc1 = add_wide(acc1, multiply_wide(x[d][c], key1[d][c]));
      }
      out0[k][c] = q.reduce128(acc0);
      out1[k][c] = q.reduce128(acc1);
    }
  }
}

}  // namespace cipherlm
