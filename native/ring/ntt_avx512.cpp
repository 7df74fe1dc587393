// AVX-512 NTT kernels: for primes below 2^50, 52-bit Shoup products with IFMA (madd52lo/hi); for
// larger primes (up to 2^61), 64-bit Shoup products with the high half built from 32-bit products.
// Lazy ranges match the portable code (forward [0, 4q), inverse [0, 2q)), so every path gives
// identical fully reduced outputs.
//
// The schedule keeps data in cache and passes over it few times:
// - butterflies of span 8 or more run eight lanes at once on contiguous data, two stages per pass
//   (radix 4), which halves the loads and stores of radix 2;
// - stages whose butterflies span more than kBlock values run over the whole array; the rest run
//   block by block, each block staying in L1 through all its stages;
// - the three stages of span 4, 2 and 1 run in one pass on 16 values held in two registers, moving
//   lanes between stages with permutes; the forward pass ends there fully reduced, and the inverse's
//   last stage takes the scaling by 1/n with it.
#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include <algorithm>

#include "ring/avx512_arith.hpp"
#include "ring/ifma_arith.hpp"
#include "ring/ntt.hpp"

namespace cipherlm {

namespace {

using ifma::reduce_once;

// Values per L1-resident block: 16 KiB of data, which leaves room for twiddles in any AVX-512 CPU's
// 32-48 KiB L1.
constexpr std::size_t kBlock = 2048;

// x * w mod q in [0, 2q) with 52-bit Shoup constants (q < 2^50, x < 2^52).
struct Ifma52 {
  static const u64* forward_shoup(const NttTables& t) { return t.root_powers_shoup52.data(); }
  static const u64* inverse_shoup(const NttTables& t) { return t.inv_root_powers_shoup52.data(); }
  static u64 shoup(u64 w, u64 q) { return shoup52_constant(w, q); }
  CIPHERLM_AVX512 static __m512i mul(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
    return ifma::mul_shoup52_lazy(x, w, w_shoup, q);
  }
};

// x * w mod q in [0, 2q) with 64-bit Shoup constants (q < 2^62): w x - floor(w_shoup x / 2^64) q.
struct Wide64 {
  static const u64* forward_shoup(const NttTables& t) { return t.root_powers_shoup.data(); }
  static const u64* inverse_shoup(const NttTables& t) { return t.inv_root_powers_shoup.data(); }
  static u64 shoup(u64 w, u64 q) { return shoup_precompute(w, q); }
  CIPHERLM_AVX512 static __m512i mul(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
    return wide::mul_shoup_lazy(x, w, w_shoup, q);
  }
};

CIPHERLM_AVX512 inline __m512i broadcast(u64 value) { return _mm512_set1_epi64(static_cast<long long>(value)); }

CIPHERLM_AVX512 inline __m512i indices(long long i0, long long i1, long long i2, long long i3, long long i4,
                                        long long i5, long long i6, long long i7) {
  return _mm512_set_epi64(i7, i6, i5, i4, i3, i2, i1, i0);
}

// One transform's twiddles and constants.
template <typename Arith>
struct Twiddles {
  const u64* w;
  const u64* w_shoup;
  __m512i q, two_q;

  CIPHERLM_AVX512 __m512i mul(__m512i x, std::size_t index) const {
    return Arith::mul(x, broadcast(w[index]), broadcast(w_shoup[index]), q);
  }
};

// Harvey's forward butterfly: x, y in [0, 4q) become x + wy, x - wy in [0, 4q).
template <typename Arith>
CIPHERLM_AVX512 inline void forward_butterfly(__m512i& x, __m512i& y, __m512i w, __m512i w_shoup,
                                              const Twiddles<Arith>& tw) {
  const __m512i u = reduce_once(x, tw.two_q);
  const __m512i v = Arith::mul(y, w, w_shoup, tw.q);
  x = _mm512_add_epi64(u, v);
  y = _mm512_add_epi64(_mm512_sub_epi64(u, v), tw.two_q);
}

// The inverse butterfly: x, y in [0, 2q) become x + y and (x - y) w in [0, 2q).
template <typename Arith>
CIPHERLM_AVX512 inline void inverse_butterfly(__m512i& x, __m512i& y, __m512i w, __m512i w_shoup,
                                              const Twiddles<Arith>& tw) {
  const __m512i u = x;
  x = reduce_once(_mm512_add_epi64(u, y), tw.two_q);
  y = Arith::mul(_mm512_add_epi64(_mm512_sub_epi64(u, y), tw.two_q), w, w_shoup, tw.q);
}

// Forward stage of span t (>= 8) over its groups [first, last), from `in` (which may be a) to a;
// group i, twiddle m + i, holds values [2it, 2it + 2t).
template <typename Arith>
CIPHERLM_AVX512 void forward_stage(const u64* in, u64* a, std::size_t m, std::size_t t, std::size_t first,
                                   std::size_t last, const Twiddles<Arith>& tw) {
  for (std::size_t i = first; i < last; ++i) {
    const __m512i w = broadcast(tw.w[m + i]), ws = broadcast(tw.w_shoup[m + i]);
    const u64* p = in + 2 * i * t;
    u64* x = a + 2 * i * t;
    for (std::size_t j = 0; j < t; j += 8) {
      __m512i u = _mm512_loadu_si512(p + j), v = _mm512_loadu_si512(p + t + j);
      forward_butterfly(u, v, w, ws, tw);
      _mm512_storeu_si512(x + j, u);
      _mm512_storeu_si512(x + t + j, v);
    }
  }
}

// Forward stages of span t and t/2 (>= 8) in one pass over the groups [first, last) of the first,
// from `in` (which may be a) to a.
template <typename Arith>
CIPHERLM_AVX512 void forward_stage_pair(const u64* in, u64* a, std::size_t m, std::size_t t, std::size_t first,
                                        std::size_t last, const Twiddles<Arith>& tw) {
  const std::size_t h = t / 2;
  for (std::size_t i = first; i < last; ++i) {
    const __m512i w = broadcast(tw.w[m + i]), ws = broadcast(tw.w_shoup[m + i]);
    const __m512i w0 = broadcast(tw.w[2 * (m + i)]), ws0 = broadcast(tw.w_shoup[2 * (m + i)]);
    const __m512i w1 = broadcast(tw.w[2 * (m + i) + 1]), ws1 = broadcast(tw.w_shoup[2 * (m + i) + 1]);
    const u64* source = in + 2 * i * t;
    u64* p = a + 2 * i * t;
    for (std::size_t j = 0; j < h; j += 8) {
      __m512i a0 = _mm512_loadu_si512(source + j), a1 = _mm512_loadu_si512(source + j + h);
      __m512i a2 = _mm512_loadu_si512(source + j + t), a3 = _mm512_loadu_si512(source + j + t + h);
      forward_butterfly(a0, a2, w, ws, tw);
      forward_butterfly(a1, a3, w, ws, tw);
      forward_butterfly(a0, a1, w0, ws0, tw);
      forward_butterfly(a2, a3, w1, ws1, tw);
      _mm512_storeu_si512(p + j, a0);
      _mm512_storeu_si512(p + j + h, a1);
      _mm512_storeu_si512(p + j + t, a2);
      _mm512_storeu_si512(p + j + t + h, a3);
    }
  }
}

// Forward stages from span t down to span stop (exclusive, stop >= 4) over the groups [first, last)
// of the stage with m groups: a single stage first when their number is odd, then pairs. The first
// reads `in` (which may be a); returns the number of stages run.
template <typename Arith>
CIPHERLM_AVX512 std::size_t forward_stages(const u64* in, u64* a, std::size_t m, std::size_t t, std::size_t stop,
                                           std::size_t first, std::size_t last, const Twiddles<Arith>& tw) {
  std::size_t stages = 0;
  for (std::size_t s = t; s > stop; s >>= 1) ++stages;
  if (stages % 2 == 1) {
    forward_stage(in, a, m, t, first, last, tw);
    in = a;
    m *= 2, t /= 2, first *= 2, last *= 2;
  }
  for (; t > stop; m *= 4, t /= 4, first *= 4, last *= 4) {
    forward_stage_pair(in, a, m, t, first, last, tw);
    in = a;
  }
  return stages;
}

// The forward stages of span 4, 2 and 1 over values [base, base + count) of an n-value transform,
// outputs reduced below q. Lanes of x and y are the two inputs of each butterfly.
template <typename Arith>
CIPHERLM_AVX512 void forward_last_stages(u64* a, std::size_t n, std::size_t base, std::size_t count,
                                         const Twiddles<Arith>& tw) {
  const __m512i q = tw.q;
  const __m512i pairs_of_four = indices(0, 0, 0, 0, 1, 1, 1, 1), pairs_of_two = indices(0, 0, 1, 1, 2, 2, 3, 3);
  const __m512i span2_x = indices(0, 1, 8, 9, 4, 5, 12, 13), span2_y = indices(2, 3, 10, 11, 6, 7, 14, 15);
  const __m512i out_lo = indices(0, 8, 1, 9, 2, 10, 3, 11), out_hi = indices(4, 12, 5, 13, 6, 14, 7, 15);
  for (std::size_t b = base; b < base + count; b += 16) {
    const __m512i lo = _mm512_loadu_si512(a + b), hi = _mm512_loadu_si512(a + b + 8);
    // Span 4: values 0-3 and 8-11 against 4-7 and 12-15.
    __m512i x = _mm512_shuffle_i64x2(lo, hi, 0x44), y = _mm512_shuffle_i64x2(lo, hi, 0xee);
    std::size_t g = n / 8 + b / 8;
    forward_butterfly(x, y, _mm512_permutexvar_epi64(pairs_of_four, _mm512_loadu_si512(tw.w + g)),
                      _mm512_permutexvar_epi64(pairs_of_four, _mm512_loadu_si512(tw.w_shoup + g)), tw);
    // Span 2: 0,1,4,5,... against 2,3,6,7,...
    __m512i x2 = _mm512_permutex2var_epi64(x, span2_x, y), y2 = _mm512_permutex2var_epi64(x, span2_y, y);
    g = n / 4 + b / 4;
    forward_butterfly(x2, y2, _mm512_permutexvar_epi64(pairs_of_two, _mm512_loadu_si512(tw.w + g)),
                      _mm512_permutexvar_epi64(pairs_of_two, _mm512_loadu_si512(tw.w_shoup + g)), tw);
    // Span 1: even against odd.
    x = _mm512_unpacklo_epi64(x2, y2), y = _mm512_unpackhi_epi64(x2, y2);
    g = n / 2 + b / 2;
    forward_butterfly(x, y, _mm512_loadu_si512(tw.w + g), _mm512_loadu_si512(tw.w_shoup + g), tw);
    x = reduce_once(reduce_once(x, tw.two_q), q);
    y = reduce_once(reduce_once(y, tw.two_q), q);
    _mm512_storeu_si512(a + b, _mm512_permutex2var_epi64(x, out_lo, y));
    _mm512_storeu_si512(a + b + 8, _mm512_permutex2var_epi64(x, out_hi, y));
  }
}

template <typename Arith>
CIPHERLM_AVX512 void forward_kernel(const NttTables& tables, const u64* in, u64* a) {
  const std::size_t n = tables.ring_degree(), block = std::min(n, kBlock);
  const u64 q = tables.modulus().value;
  const Twiddles<Arith> tw{tables.root_powers.data(), Arith::forward_shoup(tables), broadcast(q), broadcast(2 * q)};
  // Stages whose butterflies cross blocks, over the whole array; then each block on its own. The
  // first stage run reads the input, so an out-of-place transform costs no copy.
  const u64* source = forward_stages(in, a, 1, n / 2, block / 2, 0, 1, tw) > 0 ? a : in;
  for (std::size_t i = 0; i < n / block; ++i) {
    forward_stages(source, a, n / block, block / 2, 4, i, i + 1, tw);
    forward_last_stages(a, n, i * block, block, tw);
  }
}

// Inverse stage of span t (>= 8) over its groups [first, last); group i, twiddle h + i with
// h = n / 2t, holds values [2it, 2it + 2t).
template <typename Arith>
CIPHERLM_AVX512 void inverse_stage(u64* a, std::size_t h, std::size_t t, std::size_t first, std::size_t last,
                                   const Twiddles<Arith>& tw) {
  for (std::size_t i = first; i < last; ++i) {
    const __m512i w = broadcast(tw.w[h + i]), ws = broadcast(tw.w_shoup[h + i]);
    u64* x = a + 2 * i * t;
    u64* y = x + t;
    for (std::size_t j = 0; j < t; j += 8) {
      __m512i u = _mm512_loadu_si512(x + j), v = _mm512_loadu_si512(y + j);
      inverse_butterfly(u, v, w, ws, tw);
      _mm512_storeu_si512(x + j, u);
      _mm512_storeu_si512(y + j, v);
    }
  }
}

// Inverse stages of span t and 2t in one pass over the groups [first, last) of the second (h of
// them in all).
template <typename Arith>
CIPHERLM_AVX512 void inverse_stage_pair(u64* a, std::size_t h, std::size_t t, std::size_t first, std::size_t last,
                                        const Twiddles<Arith>& tw) {
  for (std::size_t i = first; i < last; ++i) {
    const __m512i w = broadcast(tw.w[h + i]), ws = broadcast(tw.w_shoup[h + i]);
    const __m512i w0 = broadcast(tw.w[2 * (h + i)]), ws0 = broadcast(tw.w_shoup[2 * (h + i)]);
    const __m512i w1 = broadcast(tw.w[2 * (h + i) + 1]), ws1 = broadcast(tw.w_shoup[2 * (h + i) + 1]);
    u64* p = a + 4 * i * t;
    for (std::size_t j = 0; j < t; j += 8) {
      __m512i a0 = _mm512_loadu_si512(p + j), a1 = _mm512_loadu_si512(p + j + t);
      __m512i a2 = _mm512_loadu_si512(p + j + 2 * t), a3 = _mm512_loadu_si512(p + j + 3 * t);
      inverse_butterfly(a0, a1, w0, ws0, tw);
      inverse_butterfly(a2, a3, w1, ws1, tw);
      inverse_butterfly(a0, a2, w, ws, tw);
      inverse_butterfly(a1, a3, w, ws, tw);
      _mm512_storeu_si512(p + j, a0);
      _mm512_storeu_si512(p + j + t, a1);
      _mm512_storeu_si512(p + j + 2 * t, a2);
      _mm512_storeu_si512(p + j + 3 * t, a3);
    }
  }
}

// Inverse stages from span t up to span stop (exclusive) over the values [base, base + count) of
// an n-value transform: pairs, then a single stage when their number is odd.
template <typename Arith>
CIPHERLM_AVX512 void inverse_stages(u64* a, std::size_t n, std::size_t t, std::size_t stop, std::size_t base,
                                    std::size_t count, const Twiddles<Arith>& tw) {
  for (; 4 * t <= stop; t *= 4) {
    inverse_stage_pair(a, n / (4 * t), t, base / (4 * t), (base + count) / (4 * t), tw);
  }
  if (t < stop) inverse_stage(a, n / (2 * t), t, base / (2 * t), (base + count) / (2 * t), tw);
}

// The inverse stages of span 1, 2 and 4 over values [base, base + count) of an n-value transform.
template <typename Arith>
CIPHERLM_AVX512 void inverse_first_stages(u64* a, std::size_t n, std::size_t base, std::size_t count,
                                          const Twiddles<Arith>& tw) {
  const __m512i pairs_of_four = indices(0, 0, 0, 0, 1, 1, 1, 1), pairs_of_two = indices(0, 0, 1, 1, 2, 2, 3, 3);
  const __m512i even = indices(0, 2, 4, 6, 8, 10, 12, 14), odd = indices(1, 3, 5, 7, 9, 11, 13, 15);
  const __m512i span4_x = indices(0, 1, 8, 9, 4, 5, 12, 13), span4_y = indices(2, 3, 10, 11, 6, 7, 14, 15);
  for (std::size_t b = base; b < base + count; b += 16) {
    const __m512i lo = _mm512_loadu_si512(a + b), hi = _mm512_loadu_si512(a + b + 8);
    // Span 1: even against odd.
    __m512i x = _mm512_permutex2var_epi64(lo, even, hi), y = _mm512_permutex2var_epi64(lo, odd, hi);
    std::size_t g = n / 2 + b / 2;
    inverse_butterfly(x, y, _mm512_loadu_si512(tw.w + g), _mm512_loadu_si512(tw.w_shoup + g), tw);
    // Span 2: 0,1,4,5,... against 2,3,6,7,...
    __m512i x2 = _mm512_unpacklo_epi64(x, y), y2 = _mm512_unpackhi_epi64(x, y);
    g = n / 4 + b / 4;
    inverse_butterfly(x2, y2, _mm512_permutexvar_epi64(pairs_of_two, _mm512_loadu_si512(tw.w + g)),
                      _mm512_permutexvar_epi64(pairs_of_two, _mm512_loadu_si512(tw.w_shoup + g)), tw);
    // Span 4: 0-3 and 8-11 against 4-7 and 12-15.
    x = _mm512_permutex2var_epi64(x2, span4_x, y2), y = _mm512_permutex2var_epi64(x2, span4_y, y2);
    g = n / 8 + b / 8;
    inverse_butterfly(x, y, _mm512_permutexvar_epi64(pairs_of_four, _mm512_loadu_si512(tw.w + g)),
                      _mm512_permutexvar_epi64(pairs_of_four, _mm512_loadu_si512(tw.w_shoup + g)), tw);
    _mm512_storeu_si512(a + b, _mm512_shuffle_i64x2(x, y, 0x44));
    _mm512_storeu_si512(a + b + 8, _mm512_shuffle_i64x2(x, y, 0xee));
  }
}

// The last inverse stage (span n/2) with the scaling by 1/n folded into its twiddles, outputs
// reduced below q.
template <typename Arith>
CIPHERLM_AVX512 void inverse_last_stage(const NttTables& tables, u64* a, const Twiddles<Arith>& tw) {
  const std::size_t half = tables.ring_degree() / 2;
  const u64 q = tables.modulus().value;
  const u64 scaled_root = mul_mod(tables.inv_root_powers[1], tables.inv_n, tables.modulus());
  const __m512i n_inv = broadcast(tables.inv_n), n_inv_shoup = broadcast(Arith::shoup(tables.inv_n, q));
  const __m512i w = broadcast(scaled_root), w_shoup = broadcast(Arith::shoup(scaled_root, q));
  for (std::size_t j = 0; j < half; j += 8) {
    const __m512i u = _mm512_loadu_si512(a + j), v = _mm512_loadu_si512(a + half + j);
    const __m512i x = Arith::mul(_mm512_add_epi64(u, v), n_inv, n_inv_shoup, tw.q);
    const __m512i y = Arith::mul(_mm512_add_epi64(_mm512_sub_epi64(u, v), tw.two_q), w, w_shoup, tw.q);
    _mm512_storeu_si512(a + j, reduce_once(x, tw.q));
    _mm512_storeu_si512(a + half + j, reduce_once(y, tw.q));
  }
}

template <typename Arith>
CIPHERLM_AVX512 void inverse_kernel(const NttTables& tables, u64* a) {
  const std::size_t n = tables.ring_degree(), block = std::min(n, kBlock);
  const u64 q = tables.modulus().value;
  const Twiddles<Arith> tw{tables.inv_root_powers.data(), Arith::inverse_shoup(tables), broadcast(q), broadcast(2 * q)};
  // Each block on its own up to span block/2 (the last stage, span n/2, waits for the scaling);
  // then the stages that cross blocks over the whole array.
  const std::size_t local_stop = std::min(block, n / 2);
  for (std::size_t i = 0; i < n / block; ++i) {
    inverse_first_stages(a, n, i * block, block, tw);
    inverse_stages(a, n, 8, local_stop, i * block, block, tw);
  }
  inverse_stages(a, n, local_stop, n / 2, 0, n, tw);
  inverse_last_stage(tables, a, tw);
}

}  // namespace

void ntt_forward_avx512ifma(const NttTables& tables, const u64* input, u64* output) {
  forward_kernel<Ifma52>(tables, input, output);
}
void ntt_inverse_avx512ifma(const NttTables& tables, u64* values) { inverse_kernel<Ifma52>(tables, values); }
void ntt_forward_avx512_wide(const NttTables& tables, const u64* input, u64* output) {
  forward_kernel<Wide64>(tables, input, output);
}
void ntt_inverse_avx512_wide(const NttTables& tables, u64* values) { inverse_kernel<Wide64>(tables, values); }

}  // namespace cipherlm

#endif  // CIPHERLM_X86_KERNELS
