// AVX-512 NTT kernels: for primes below 2^50, 52-bit Shoup products with IFMA (madd52lo/hi); for
// larger primes (up to 2^61), 64-bit Shoup products with the high half built from 32-bit products.
// Butterflies with a span of 8 or more run eight lanes at once on contiguous data; spans 4, 2 and 1
// gather the two halves of each butterfly from 16 consecutive values with lane permutations. Lazy
// ranges match the portable code, so every path gives identical fully reduced outputs.
#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include "ring/avx512_arith.hpp"
#include "ring/ifma_arith.hpp"
#include "ring/ntt.hpp"

namespace cipherlm {

namespace {

using ifma::reduce_once;

// x * w mod q in [0, 2q) with 52-bit Shoup constants (q < 2^50).
struct Ifma52 {
  static const u64* forward_shoup(const NttTables& t) { return t.root_powers_shoup52.data(); }
  static const u64* inverse_shoup(const NttTables& t) { return t.inv_root_powers_shoup52.data(); }
  static u64 inverse_n_shoup(const NttTables& t) { return t.inv_n_shoup52; }
  CIPHERLM_AVX512 static __m512i mul(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
    return ifma::mul_shoup52_lazy(x, w, w_shoup, q);
  }
};

// x * w mod q in [0, 2q) with 64-bit Shoup constants (q < 2^62): w x - floor(w_shoup x / 2^64) q.
struct Wide64 {
  static const u64* forward_shoup(const NttTables& t) { return t.root_powers_shoup.data(); }
  static const u64* inverse_shoup(const NttTables& t) { return t.inv_root_powers_shoup.data(); }
  static u64 inverse_n_shoup(const NttTables& t) { return t.inv_n_shoup; }
  CIPHERLM_AVX512 static __m512i mul(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
    return wide::mul_shoup_lazy(x, w, w_shoup, q);
  }
};

// Lane selectors for butterflies of span t < 8 over 16 values held in two vectors (lo, hi): which
// values are the first (x) and second (y) inputs, which twiddle (relative group) each lane uses,
// and how to put outputs back in place.
struct ShortSpan {
  __m512i x_select, y_select, twiddle_select, back_lo, back_hi;
};

CIPHERLM_AVX512 ShortSpan short_span(std::size_t t) {
  long long x_index[8], y_index[8], group[8], back[16];
  int k = 0;
  for (int idx = 0; idx < 16; ++idx) {
    if ((idx & static_cast<int>(t)) != 0) continue;
    x_index[k] = idx;
    y_index[k] = idx + static_cast<long long>(t);
    group[k] = idx / static_cast<long long>(2 * t);
    back[idx] = k;
    back[idx + t] = 8 + k;
    ++k;
  }
  ShortSpan s;
  s.x_select = _mm512_loadu_si512(x_index);
  s.y_select = _mm512_loadu_si512(y_index);
  s.twiddle_select = _mm512_loadu_si512(group);
  s.back_lo = _mm512_loadu_si512(back);
  s.back_hi = _mm512_loadu_si512(back + 8);
  return s;
}

template <typename Arith>
CIPHERLM_AVX512 void forward_kernel(const NttTables& tables, u64* a) {
  const std::size_t n = tables.ring_degree();
  const u64 q = tables.modulus().value;
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i v2q = _mm512_set1_epi64(static_cast<long long>(2 * q));
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    if (t >= 8) {
      for (std::size_t i = 0; i < m; ++i) {
        const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.root_powers[m + i]));
        const __m512i ws = _mm512_set1_epi64(static_cast<long long>(Arith::forward_shoup(tables)[m + i]));
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; j += 8) {
          __m512i u = reduce_once(_mm512_loadu_si512(x + j), v2q);
          __m512i v = Arith::mul(_mm512_loadu_si512(y + j), w, ws, vq);
          _mm512_storeu_si512(x + j, _mm512_add_epi64(u, v));
          _mm512_storeu_si512(y + j, _mm512_add_epi64(_mm512_sub_epi64(u, v), v2q));
        }
      }
    } else {
      const ShortSpan span = short_span(t);
      for (std::size_t base = 0; base < n; base += 16) {
        const std::size_t g = m + base / (2 * t);
        const __m512i w = _mm512_permutexvar_epi64(span.twiddle_select, _mm512_loadu_si512(tables.root_powers.data() + g));
        const __m512i ws =
            _mm512_permutexvar_epi64(span.twiddle_select, _mm512_loadu_si512(Arith::forward_shoup(tables) + g));
        const __m512i lo = _mm512_loadu_si512(a + base), hi = _mm512_loadu_si512(a + base + 8);
        const __m512i u = reduce_once(_mm512_permutex2var_epi64(lo, span.x_select, hi), v2q);
        const __m512i v = Arith::mul(_mm512_permutex2var_epi64(lo, span.y_select, hi), w, ws, vq);
        const __m512i x = _mm512_add_epi64(u, v);
        const __m512i y = _mm512_add_epi64(_mm512_sub_epi64(u, v), v2q);
        _mm512_storeu_si512(a + base, _mm512_permutex2var_epi64(x, span.back_lo, y));
        _mm512_storeu_si512(a + base + 8, _mm512_permutex2var_epi64(x, span.back_hi, y));
      }
    }
  }
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i v = _mm512_loadu_si512(a + i);
    v = reduce_once(reduce_once(v, v2q), vq);
    _mm512_storeu_si512(a + i, v);
  }
}

template <typename Arith>
CIPHERLM_AVX512 void inverse_kernel(const NttTables& tables, u64* a) {
  const std::size_t n = tables.ring_degree();
  const u64 q = tables.modulus().value;
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i v2q = _mm512_set1_epi64(static_cast<long long>(2 * q));
  std::size_t t = 1;
  for (std::size_t m = n; m > 1; m >>= 1) {
    const std::size_t h = m >> 1;
    if (t >= 8) {
      for (std::size_t i = 0; i < h; ++i) {
        const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.inv_root_powers[h + i]));
        const __m512i ws = _mm512_set1_epi64(static_cast<long long>(Arith::inverse_shoup(tables)[h + i]));
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; j += 8) {
          __m512i u = _mm512_loadu_si512(x + j);
          __m512i v = _mm512_loadu_si512(y + j);
          _mm512_storeu_si512(x + j, reduce_once(_mm512_add_epi64(u, v), v2q));
          __m512i diff = _mm512_add_epi64(_mm512_sub_epi64(u, v), v2q);
          _mm512_storeu_si512(y + j, Arith::mul(diff, w, ws, vq));
        }
      }
    } else {
      const ShortSpan span = short_span(t);
      for (std::size_t base = 0; base < n; base += 16) {
        const std::size_t g = h + base / (2 * t);
        const __m512i w =
            _mm512_permutexvar_epi64(span.twiddle_select, _mm512_loadu_si512(tables.inv_root_powers.data() + g));
        const __m512i ws =
            _mm512_permutexvar_epi64(span.twiddle_select, _mm512_loadu_si512(Arith::inverse_shoup(tables) + g));
        const __m512i lo = _mm512_loadu_si512(a + base), hi = _mm512_loadu_si512(a + base + 8);
        const __m512i u = _mm512_permutex2var_epi64(lo, span.x_select, hi);
        const __m512i v = _mm512_permutex2var_epi64(lo, span.y_select, hi);
        const __m512i x = reduce_once(_mm512_add_epi64(u, v), v2q);
        const __m512i y = Arith::mul(_mm512_add_epi64(_mm512_sub_epi64(u, v), v2q), w, ws, vq);
        _mm512_storeu_si512(a + base, _mm512_permutex2var_epi64(x, span.back_lo, y));
        _mm512_storeu_si512(a + base + 8, _mm512_permutex2var_epi64(x, span.back_hi, y));
      }
    }
    t <<= 1;
  }
  const __m512i w = _mm512_set1_epi64(static_cast<long long>(tables.inv_n));
  const __m512i ws = _mm512_set1_epi64(static_cast<long long>(Arith::inverse_n_shoup(tables)));
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i v = Arith::mul(_mm512_loadu_si512(a + i), w, ws, vq);
    _mm512_storeu_si512(a + i, reduce_once(v, vq));
  }
}

}  // namespace

void ntt_forward_avx512ifma(const NttTables& tables, u64* values) { forward_kernel<Ifma52>(tables, values); }
void ntt_inverse_avx512ifma(const NttTables& tables, u64* values) { inverse_kernel<Ifma52>(tables, values); }
void ntt_forward_avx512_wide(const NttTables& tables, u64* values) { forward_kernel<Wide64>(tables, values); }
void ntt_inverse_avx512_wide(const NttTables& tables, u64* values) { inverse_kernel<Wide64>(tables, values); }

}  // namespace cipherlm

#endif  // CIPHERLM_X86_KERNELS
