#include "ring/elementwise.hpp"

#include <algorithm>

namespace cipherlm {

void multiply_mod(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q, [[maybe_unused]] SimdPath path) {
#if CIPHERLM_X86_KERNELS
  if (path == SimdPath::Avx512Ifma && fits_simd_kernels(q.value)) return multiply_mod_avx512ifma(a, b, out, n, q.value);
  if (path == SimdPath::Avx2 && fits_simd_kernels(q.value)) return multiply_mod_avx2(a, b, out, n, q);
#endif
  for (std::size_t c = 0; c < n; ++c) out[c] = mul_mod(a[c], b[c], q);
}

void tensor_mod(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1, u64* r2, std::size_t n,
                const Modulus& q, [[maybe_unused]] SimdPath path) {
#if CIPHERLM_X86_KERNELS
  if (path == SimdPath::Avx512Ifma && fits_simd_kernels(q.value)) return tensor_mod_avx512ifma(a0, a1, b0, b1, r0, r1, r2, n, q.value);
  if (path == SimdPath::Avx2 && fits_simd_kernels(q.value)) return tensor_mod_avx2(a0, a1, b0, b1, r0, r1, r2, n, q);
#endif
  for (std::size_t c = 0; c < n; ++c) {
    r0[c] = mul_mod(a0[c], b0[c], q);
    r1[c] = q.reduce128(add_wide(multiply_wide(a0[c], b1[c]), multiply_wide(a1[c], b0[c])));
    r2[c] = mul_mod(a1[c], b1[c], q);
  }
}

void reduce_mod(const u64* x, u64* out, std::size_t n, const Modulus& q, [[maybe_unused]] bool ifma) {
#if CIPHERLM_X86_KERNELS
  if (ifma) return reduce_mod_avx512ifma(x, out, n, q.value);
#endif
  for (std::size_t c = 0; c < n; ++c) out[c] = q.reduce(x[c]);
}

void add_mod_vector(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, [[maybe_unused]] SimdPath path) {
#if CIPHERLM_X86_KERNELS
  if (path == SimdPath::Avx512Ifma) return add_mod_avx512(a, b, out, n, q);
  if (path == SimdPath::Avx2) return add_mod_avx2(a, b, out, n, q);
#endif
  // a + b - q wraps above a + b exactly when a + b < q: the smaller of the two is the residue.
  for (std::size_t c = 0; c < n; ++c) {
    const u64 sum = a[c] + b[c];
    out[c] = std::min(sum, sum - q);
  }
}

void sub_mod_vector(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, [[maybe_unused]] SimdPath path) {
#if CIPHERLM_X86_KERNELS
  if (path == SimdPath::Avx512Ifma) return sub_mod_avx512(a, b, out, n, q);
  if (path == SimdPath::Avx2) return sub_mod_avx2(a, b, out, n, q);
#endif
  // a - b wraps above a - b + q exactly when a < b.
  for (std::size_t c = 0; c < n; ++c) {
    const u64 difference = a[c] - b[c];
    out[c] = std::min(difference, difference + q);
  }
}

void centered_residue_mod(const u64* x, u64 p, u64* out, std::size_t n, const Modulus& q, [[maybe_unused]] bool avx512) {
#if CIPHERLM_X86_KERNELS
  if (avx512) return centered_residue_mod_avx512(x, p, out, n, q.value);
#endif
  // (x + p/2) mod p - p/2 is the centered representative; it is reduced mod q in two halves.
  const u64 half = p >> 1, half_mod_q = q.reduce(half);
  for (std::size_t c = 0; c < n; ++c) {
    const u64 shifted = x[c] + half;
    out[c] = sub_mod(q.reduce(std::min(shifted, shifted - p)), half_mod_q, q.value);
  }
}

void reduce_signed_vector(const std::int64_t* x, u64* out, std::size_t n, const Modulus& q, [[maybe_unused]] bool avx512) {
#if CIPHERLM_X86_KERNELS
  if (avx512) return reduce_signed_avx512(x, out, n, q.value);
#endif
  for (std::size_t c = 0; c < n; ++c) out[c] = reduce_signed(x[c], q);
}

void subtract_table_entries(u64* x, const u64* index, const u64* table, std::size_t table_size, std::size_t n, u64 q,
                            [[maybe_unused]] bool avx512) {
#if CIPHERLM_X86_KERNELS
  if (avx512 && table_size <= 8) return subtract_table_entries_avx512(x, index, table, table_size, n, q);
#endif
  for (std::size_t c = 0; c < n; ++c) x[c] = sub_mod(x[c], table[index[c]], q);
}

void multiply_difference_by_constant(const u64* a, const u64* b, u64 w, u64 w_shoup, u64* out, std::size_t n, u64 q,
                                     [[maybe_unused]] bool avx512) {
#if CIPHERLM_X86_KERNELS
  if (avx512) return multiply_difference_by_constant_avx512(a, b, w, w_shoup, out, n, q);
#endif
  for (std::size_t c = 0; c < n; ++c) out[c] = mul_shoup(sub_mod(a[c], b[c], q), w, w_shoup, q);
}

void gather(const u64* a, const std::uint32_t* index, u64* out, std::size_t n, [[maybe_unused]] SimdPath path) {
#if CIPHERLM_X86_KERNELS
  if (path == SimdPath::Avx512Ifma) return gather_avx512(a, index, out, n);
#endif
  for (std::size_t c = 0; c < n; ++c) out[c] = a[index[c]];
}

}  // namespace cipherlm
