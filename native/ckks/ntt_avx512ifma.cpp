// AVX-512 IFMA NTT kernels for primes below 2^50: 52-bit Shoup products with madd52lo/madd52hi.
// Butterflies with a span of 8 or more run eight lanes at once; the last (forward) or first (inverse)
// three stages have shorter spans and use the same lazy scalar arithmetic, so every path gives
// identical fully reduced outputs.
// GCC 12 reports a false maybe-uninitialized inside its own AVX-512 intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "ntt.hpp"

#define CIPHERLM_IFMA __attribute__((target("avx512f,avx512ifma")))

namespace cipherlm {

namespace {

CIPHERLM_IFMA inline __m512i mul_shoup52_lazy(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
  const __m512i zero = _mm512_set1_epi64(0);
  const __m512i mask52 = _mm512_set1_epi64((1ll << 52) - 1);
  __m512i quotient = _mm512_madd52hi_epu64(zero, w_shoup, x);
  __m512i product = _mm512_madd52lo_epu64(zero, w, x);
  __m512i correction = _mm512_madd52lo_epu64(zero, quotient, q);
  return _mm512_and_si512(_mm512_sub_epi64(product, correction), mask52);
}

CIPHERLM_IFMA inline __m512i reduce_once(__m512i x, __m512i bound) {
  return _mm512_min_epu64(x, _mm512_sub_epi64(x, bound));
}

}  // namespace

CIPHERLM_IFMA void ntt_forward_avx512ifma(const NttTables& tables, u64* a) {
  const std::size_t n = tables.ring_degree();
  const u64 q = tables.modulus().value, two_q = 2 * q;
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i v2q = _mm512_set1_epi64(static_cast<long long>(two_q));
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    if (t >= 8) {
      for (std::size_t i = 0; i < m; ++i) {
        const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.root_powers[m + i]));
        const __m512i ws = _mm512_set1_epi64(static_cast<long long>(tables.root_powers_shoup52[m + i]));
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; j += 8) {
          __m512i u = reduce_once(_mm512_loadu_si512(x + j), v2q);
          __m512i v = mul_shoup52_lazy(_mm512_loadu_si512(y + j), w, ws, vq);
          _mm512_storeu_si512(x + j, _mm512_add_epi64(u, v));
          _mm512_storeu_si512(y + j, _mm512_add_epi64(_mm512_sub_epi64(u, v), v2q));
        }
      }
    } else {
      for (std::size_t i = 0; i < m; ++i) {
        const u64 w = tables.root_powers[m + i], w_shoup = tables.root_powers_shoup[m + i];
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; ++j) {
          u64 u = x[j];
          u -= two_q & (0 - static_cast<u64>(u >= two_q));
          const u64 v = mul_shoup_lazy(y[j], w, w_shoup, q);
          x[j] = u + v;
          y[j] = u - v + two_q;
        }
      }
    }
  }
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i v = _mm512_loadu_si512(a + i);
    v = reduce_once(reduce_once(v, v2q), vq);
    _mm512_storeu_si512(a + i, v);
  }
}

CIPHERLM_IFMA void ntt_inverse_avx512ifma(const NttTables& tables, u64* a) {
  const std::size_t n = tables.ring_degree();
  const u64 q = tables.modulus().value, two_q = 2 * q;
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i v2q = _mm512_set1_epi64(static_cast<long long>(two_q));
  std::size_t t = 1;
  for (std::size_t m = n; m > 1; m >>= 1) {
    const std::size_t h = m >> 1;
    if (t >= 8) {
      for (std::size_t i = 0; i < h; ++i) {
        const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.inv_root_powers[h + i]));
        const __m512i ws = _mm512_set1_epi64(static_cast<long long>(tables.inv_root_powers_shoup52[h + i]));
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; j += 8) {
          __m512i u = _mm512_loadu_si512(x + j);
          __m512i v = _mm512_loadu_si512(y + j);
          _mm512_storeu_si512(x + j, reduce_once(_mm512_add_epi64(u, v), v2q));
          __m512i diff = _mm512_add_epi64(_mm512_sub_epi64(u, v), v2q);
          _mm512_storeu_si512(y + j, mul_shoup52_lazy(diff, w, ws, vq));
        }
      }
    } else {
      for (std::size_t i = 0; i < h; ++i) {
        const u64 w = tables.inv_root_powers[h + i], w_shoup = tables.inv_root_powers_shoup[h + i];
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; ++j) {
          const u64 u = x[j], v = y[j];
          u64 sum = u + v;
          sum -= two_q & (0 - static_cast<u64>(sum >= two_q));
          x[j] = sum;
          y[j] = mul_shoup_lazy(u - v + two_q, w, w_shoup, q);
        }
      }
    }
    t <<= 1;
  }
  const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.inv_n));
  const __m512i ws = _mm512_set1_epi64(static_cast<long long>(tables.inv_n_shoup52));
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i v = mul_shoup52_lazy(_mm512_loadu_si512(a + i), w, ws, vq);
    _mm512_storeu_si512(a + i, reduce_once(v, vq));
  }
}

}  // namespace cipherlm
