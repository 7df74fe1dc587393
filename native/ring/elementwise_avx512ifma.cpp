#include "ring/cpu_features.hpp"
#if CIPHERLM_AVX512_KERNELS
#include "ring/elementwise.hpp"
#include "ring/ifma_arith.hpp"

namespace cipherlm {

CIPHERLM_IFMA void multiply_mod_avx512ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const ifma::WideReducer reduce(q);
  const __m512i zero = _mm512_set1_epi64(0);
  for (std::size_t c = 0; c < n; c += 8) {
    const __m512i x = _mm512_loadu_si512(a + c), y = _mm512_loadu_si512(b + c);
    _mm512_storeu_si512(out + c, reduce(_mm512_madd52hi_epu64(zero, x, y), _mm512_madd52lo_epu64(zero, x, y)));
  }
}

CIPHERLM_IFMA void tensor_mod_avx512ifma(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1,
                                         u64* r2, std::size_t n, u64 q) {
  const ifma::WideReducer reduce(q);
  const __m512i zero = _mm512_set1_epi64(0);
  for (std::size_t c = 0; c < n; c += 8) {
    const __m512i x0 = _mm512_loadu_si512(a0 + c), x1 = _mm512_loadu_si512(a1 + c);
    const __m512i y0 = _mm512_loadu_si512(b0 + c), y1 = _mm512_loadu_si512(b1 + c);
    _mm512_storeu_si512(r0 + c, reduce(_mm512_madd52hi_epu64(zero, x0, y0), _mm512_madd52lo_epu64(zero, x0, y0)));
    const __m512i hi = _mm512_madd52hi_epu64(_mm512_madd52hi_epu64(zero, x0, y1), x1, y0);
    const __m512i lo = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, x0, y1), x1, y0);
    _mm512_storeu_si512(r1 + c, reduce(hi, lo));
    _mm512_storeu_si512(r2 + c, reduce(_mm512_madd52hi_epu64(zero, x1, y1), _mm512_madd52lo_epu64(zero, x1, y1)));
  }
}

CIPHERLM_IFMA void reduce_mod_avx512ifma(const u64* x, u64* out, std::size_t n, u64 q) {
  const ifma::WideReducer reduce(q);
  for (std::size_t c = 0; c < n; c += 8) _mm512_storeu_si512(out + c, reduce.small(_mm512_loadu_si512(x + c)));
}

CIPHERLM_IFMA void add_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  for (std::size_t c = 0; c < n; c += 8) {
    const __m512i sum = _mm512_add_epi64(_mm512_loadu_si512(a + c), _mm512_loadu_si512(b + c));
    _mm512_storeu_si512(out + c, _mm512_min_epu64(sum, _mm512_sub_epi64(sum, modulus)));
  }
}

CIPHERLM_IFMA void sub_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  for (std::size_t c = 0; c < n; c += 8) {
    const __m512i difference = _mm512_sub_epi64(_mm512_loadu_si512(a + c), _mm512_loadu_si512(b + c));
    _mm512_storeu_si512(out + c, _mm512_min_epu64(difference, _mm512_add_epi64(difference, modulus)));
  }
}

}  // namespace cipherlm

#endif  // CIPHERLM_AVX512_KERNELS
