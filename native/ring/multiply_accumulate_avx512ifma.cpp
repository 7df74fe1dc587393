// IFMA inner product: each 100-bit product of residues below 2^50 is added as its low and high 52-bit
// halves in two 64-bit lanes; the final value hi * 2^52 + lo is reduced with two 52-bit Shoup products.
#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include "ring/ifma_arith.hpp"
#include "ring/multiply_accumulate.hpp"

namespace cipherlm {

// Words ahead of the loads (a few cache lines), prefetched on every stream.
constexpr std::size_t kPrefetchDistance = 64;

CIPHERLM_IFMA void dot_product_mod_avx512ifma(const u64* const* x, const u64* const* y0, const u64* const* y1,
                                              std::size_t terms, const Modulus& q, u64* out0, u64* out1,
                                              std::size_t n) {
  const ifma::WideReducer reduce(q.value);
  const __m512i zero = _mm512_set1_epi64(0);
  // Up to 15 products per chunk keep hi + (lo >> 52) below 2^52 (each high half is below 2^48).
  constexpr std::size_t chunk = 15;
  for (std::size_t c = 0; c < n; c += 8) {
    __m512i sum0 = zero, sum1 = zero;
    for (std::size_t start = 0; start < terms; start += chunk) {
      const std::size_t end = start + chunk < terms ? start + chunk : terms;
      __m512i lo0 = zero, hi0 = zero, lo1 = zero, hi1 = zero;
      for (std::size_t d = start; d < end; ++d) {
        // Key switching streams dozens of limbs at once, more than the hardware prefetchers follow.
        _mm_prefetch(reinterpret_cast<const char*>(y0[d] + c + kPrefetchDistance), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(y1[d] + c + kPrefetchDistance), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(x[d] + c + kPrefetchDistance), _MM_HINT_T0);
        const __m512i vx = _mm512_loadu_si512(x[d] + c);
        const __m512i v0 = _mm512_loadu_si512(y0[d] + c);
        const __m512i v1 = _mm512_loadu_si512(y1[d] + c);
        lo0 = _mm512_madd52lo_epu64(lo0, vx, v0);
        hi0 = _mm512_madd52hi_epu64(hi0, vx, v0);
        lo1 = _mm512_madd52lo_epu64(lo1, vx, v1);
        hi1 = _mm512_madd52hi_epu64(hi1, vx, v1);
      }
      sum0 = _mm512_add_epi64(sum0, reduce(hi0, lo0));
      sum0 = _mm512_min_epu64(sum0, _mm512_sub_epi64(sum0, reduce.q));
      sum1 = _mm512_add_epi64(sum1, reduce(hi1, lo1));
      sum1 = _mm512_min_epu64(sum1, _mm512_sub_epi64(sum1, reduce.q));
    }
    _mm512_storeu_si512(out0 + c, sum0);
    _mm512_storeu_si512(out1 + c, sum1);
  }
}

}  // namespace cipherlm

#endif  // CIPHERLM_X86_KERNELS
