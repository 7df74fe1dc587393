// Shared 52-bit modular arithmetic on AVX-512 IFMA lanes, for moduli below 2^50. Include only from
// files whose functions carry CIPHERLM_IFMA.
#pragma once
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false maybe-uninitialized inside its own AVX-512 intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "ring/modarith.hpp"

// GCC and Clang compile a function for AVX-512 when it carries the target attribute; MSVC compiles
// any intrinsic without one.
#if defined(_MSC_VER) && !defined(__clang__)
#define CIPHERLM_IFMA
#else
#define CIPHERLM_IFMA __attribute__((target("avx512f,avx512ifma")))
#endif

namespace cipherlm {
namespace ifma {

// x * w mod q in [0, 2q), for x < 2^52 and w_shoup = floor(w * 2^52 / q).
CIPHERLM_IFMA inline __m512i mul_shoup52_lazy(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
  const __m512i zero = _mm512_set1_epi64(0);
  const __m512i mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  const __m512i quotient = _mm512_madd52hi_epu64(zero, w_shoup, x);
  const __m512i product = _mm512_madd52lo_epu64(zero, w, x);
  return _mm512_and_si512(_mm512_sub_epi64(product, _mm512_madd52lo_epu64(zero, quotient, q)), mask52);
}

CIPHERLM_IFMA inline __m512i reduce_once(__m512i x, __m512i bound) {
  return _mm512_min_epu64(x, _mm512_sub_epi64(x, bound));
}

// Reduces P = hi * 2^52 + lo modulo q (b bits, b <= 50) for P < 2^(2b+1): a product of two residues,
// or the sum of two. Barrett's quotient estimate floor(floor(P / 2^(b-1)) * floor(2^(b+51) / q) / 2^52)
// takes one 52-bit high product (both factors fit in 52 bits) and is low by at most 2, so P minus
// its multiple of q is below 3q, which two conditional subtractions finish.
struct ProductReducer {
  __m512i q, two_q, mask52, ratio;
  __m128i up, down;  // shift counts: 53 - b for hi, b - 1 for lo

  CIPHERLM_IFMA explicit ProductReducer(u64 modulus) {
    const int b = bit_width(modulus);
    const int exponent = b + 51;  // 2^exponent as a 128-bit numerator
    const UInt128 numerator = exponent >= 64 ? UInt128{0, u64(1) << (exponent - 64)} : UInt128{u64(1) << exponent, 0};
    q = _mm512_set1_epi64(static_cast<long long>(modulus));
    two_q = _mm512_set1_epi64(static_cast<long long>(2 * modulus));
    mask52 = _mm512_set1_epi64((1ll << 52) - 1);
    ratio = _mm512_set1_epi64(static_cast<long long>(divide_to_64(numerator, modulus)));
    up = _mm_cvtsi32_si128(53 - b);
    down = _mm_cvtsi32_si128(b - 1);
  }

  CIPHERLM_IFMA __m512i operator()(__m512i hi, __m512i lo) const {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i top = _mm512_add_epi64(_mm512_sll_epi64(hi, up), _mm512_srl_epi64(lo, down));  // floor(P / 2^(b-1))
    const __m512i quotient = _mm512_madd52hi_epu64(zero, top, ratio);
    const __m512i rest = _mm512_and_si512(_mm512_sub_epi64(lo, _mm512_madd52lo_epu64(zero, quotient, q)), mask52);
    return reduce_once(reduce_once(rest, two_q), q);
  }
};

// Reduces hi * 2^52 + lo modulo q, for hi + (lo >> 52) < 2^52.
struct WideReducer {
  __m512i q, two_q, mask52, w, w_shoup, one, one_shoup;

  CIPHERLM_IFMA explicit WideReducer(u64 modulus) {
    const u64 two52 = (u64(1) << 52) % modulus;
    q = _mm512_set1_epi64(static_cast<long long>(modulus));
    two_q = _mm512_set1_epi64(static_cast<long long>(2 * modulus));
    mask52 = _mm512_set1_epi64((1ll << 52) - 1);
    w = _mm512_set1_epi64(static_cast<long long>(two52));
    w_shoup = _mm512_set1_epi64(static_cast<long long>(shoup52_constant(two52, modulus)));
    one = _mm512_set1_epi64(1);
    one_shoup = _mm512_set1_epi64(static_cast<long long>(shoup52_constant(1, modulus)));
  }

  CIPHERLM_IFMA __m512i operator()(__m512i hi, __m512i lo) const {
    hi = _mm512_add_epi64(hi, _mm512_srli_epi64(lo, 52));
    lo = _mm512_and_si512(lo, mask52);
    __m512i sum = _mm512_add_epi64(mul_shoup52_lazy(hi, w, w_shoup, q), mul_shoup52_lazy(lo, one, one_shoup, q));
    return reduce_once(reduce_once(sum, two_q), q);
  }
  // x mod q for x < 2^52.
  CIPHERLM_IFMA __m512i small(__m512i x) const { return reduce_once(mul_shoup52_lazy(x, one, one_shoup, q), q); }
};

}  // namespace ifma
}  // namespace cipherlm
