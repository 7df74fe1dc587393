// Shared 64-bit modular arithmetic on AVX-512 lanes (F + DQ), for moduli below 2^62. Include only
// from files whose functions carry CIPHERLM_AVX512 (they run only where the IFMA path is chosen,
// whose CPUs all have AVX-512 F and DQ).
#pragma once
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "ring/modarith.hpp"

// As CIPHERLM_IFMA in ifma_arith.hpp: a target attribute for GCC and Clang, nothing for MSVC.
#if defined(_MSC_VER) && !defined(__clang__)
#define CIPHERLM_AVX512
#else
#define CIPHERLM_AVX512 __attribute__((target("avx512f,avx512dq,avx512ifma")))
#endif

namespace cipherlm {
namespace wide {

// The high 64 bits of a * b, from four 32 x 32-bit products.
CIPHERLM_AVX512 inline __m512i mul_high(__m512i a, __m512i b) {
  const __m512i mask32 = _mm512_set1_epi64(0xffffffffll);
  const __m512i a_hi = _mm512_srli_epi64(a, 32), b_hi = _mm512_srli_epi64(b, 32);
  const __m512i lo_lo = _mm512_mul_epu32(a, b), hi_lo = _mm512_mul_epu32(a_hi, b);
  const __m512i lo_hi = _mm512_mul_epu32(a, b_hi), hi_hi = _mm512_mul_epu32(a_hi, b_hi);
  __m512i middle = _mm512_add_epi64(_mm512_srli_epi64(lo_lo, 32), _mm512_and_si512(hi_lo, mask32));
  middle = _mm512_add_epi64(middle, _mm512_and_si512(lo_hi, mask32));
  const __m512i high = _mm512_add_epi64(hi_hi, _mm512_add_epi64(_mm512_srli_epi64(hi_lo, 32), _mm512_srli_epi64(lo_hi, 32)));
  return _mm512_add_epi64(high, _mm512_srli_epi64(middle, 32));
}

// x * w mod q in [0, 2q) for w_shoup = floor(w * 2^64 / q): w x - floor(w_shoup x / 2^64) q.
CIPHERLM_AVX512 inline __m512i mul_shoup_lazy(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
  const __m512i quotient = mul_high(x, w_shoup);
  return _mm512_sub_epi64(_mm512_mullo_epi64(x, w), _mm512_mullo_epi64(quotient, q));
}

CIPHERLM_AVX512 inline __m512i reduce_once(__m512i x, __m512i bound) {
  return _mm512_min_epu64(x, _mm512_sub_epi64(x, bound));
}

}  // namespace wide
}  // namespace cipherlm
