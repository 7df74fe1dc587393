// AVX2 + FMA NTT kernels for x86-64 CPUs without AVX-512 IFMA, primes below 2^50. AVX2 has no 64-bit
// multiply, so the transform runs on doubles, in place, with avx2_arith.hpp's exact products. Values
// are kept signed and small; the last pass brings them to [0, q), so the outputs equal the portable
// kernels' bit for bit.
#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include "ring/avx2_arith.hpp"
#include "ring/ntt.hpp"

namespace cipherlm {

namespace {

using avx2::mul_mod;
using avx2::reduce;
using avx2::store_reduced;
using avx2::to_double;

// A prime's lanes with 1/n for the inverse transform's last pass.
struct PrimeLanes : avx2::PrimeLanes {
  __m256d inverse_n;
};

CIPHERLM_AVX2 inline PrimeLanes prime_lanes(const NttTables& tables) {
  PrimeLanes p;
  static_cast<avx2::PrimeLanes&>(p) = avx2::prime_lanes(tables.modulus().value);
  p.inverse_n = _mm256_set1_pd(static_cast<double>(tables.inv_n));
  return p;
}

// Cooley-Tukey butterflies (x, y) -> (x + w y, x - w y) on inputs of magnitude at most 4.2q. Every
// other stage reduces x first (outputs at most q/2 + 1 + 2.2q); the stages between take x as it is
// (outputs at most 2.7q + 1.5q), which saves a third of the multiplications there.
template <bool ReduceX>
CIPHERLM_AVX2 inline void forward_butterfly(__m256d& x, __m256d& y, __m256d w, const PrimeLanes& p) {
  const __m256d u = ReduceX ? reduce(x, p) : x;
  const __m256d v = mul_mod(y, w, p);
  x = _mm256_add_pd(u, v);
  y = _mm256_sub_pd(u, v);
}

// Gentleman-Sande butterflies (x, y) -> (x + y, (x - y) w): inputs of magnitude at most 2.5q, outputs
// at most q/2 + 1 and 2q.
CIPHERLM_AVX2 inline void inverse_butterfly(__m256d& x, __m256d& y, __m256d w, const PrimeLanes& p) {
  const __m256d sum = reduce(_mm256_add_pd(x, y), p);
  y = mul_mod(_mm256_sub_pd(x, y), w, p);
  x = sum;
}

// Twiddles of spans 2 and 1, in the lane order the shuffles below give the butterflies.
CIPHERLM_AVX2 inline __m256d pairs_of(const double* w) {  // w0 w0 w1 w1
  return _mm256_permute4x64_pd(_mm256_castpd128_pd256(_mm_loadu_pd(w)), 0x50);
}
CIPHERLM_AVX2 inline __m256d interleaved(const double* w) {  // w0 w2 w1 w3
  return _mm256_permute4x64_pd(_mm256_loadu_pd(w), 0xd8);
}

// The first pass of a transform reads the caller's integers and the last one writes them back
// reduced (the inverse's scaled by 1/n), so no pass over memory converts alone.
template <bool FromIntegers>
CIPHERLM_AVX2 inline __m256d load(const double* source) {
  if constexpr (FromIntegers) {
    return to_double(reinterpret_cast<const u64*>(source));
  } else {
    return _mm256_loadu_pd(source);
  }
}
template <bool Forward, bool ToIntegers>
CIPHERLM_AVX2 inline void store(double* destination, __m256d x, const PrimeLanes& p) {
  if constexpr (!ToIntegers) {
    _mm256_storeu_pd(destination, x);
  } else if constexpr (Forward) {
    store_reduced(reinterpret_cast<u64*>(destination), x, p);
  } else {
    store_reduced(reinterpret_cast<u64*>(destination), mul_mod(x, p.inverse_n, p), p);
  }
}

template <bool Forward, bool ReduceX = true>
CIPHERLM_AVX2 inline void butterfly(__m256d& x, __m256d& y, __m256d w, const PrimeLanes& p) {
  if constexpr (Forward) {
    forward_butterfly<ReduceX>(x, y, w, p);
  } else {
    inverse_butterfly(x, y, w, p);
  }
}

// One stage of butterflies with span t >= 4 over the n doubles at d, group i using twiddles[i].
template <bool Forward>
CIPHERLM_AVX2 void wide_stage(double* d, std::size_t n, std::size_t t, const double* twiddles, const PrimeLanes& p) {
  for (std::size_t i = 0; i < n / (2 * t); ++i) {
    const __m256d w = _mm256_broadcast_sd(twiddles + i);
    double* xs = d + 2 * i * t;
    double* ys = xs + t;
    for (std::size_t j = 0; j < t; j += 4) {
      __m256d x = _mm256_loadu_pd(xs + j), y = _mm256_loadu_pd(ys + j);
      butterfly<Forward>(x, y, w, p);
      _mm256_storeu_pd(xs + j, x);
      _mm256_storeu_pd(ys + j, y);
    }
  }
}

// Two stages in one pass over memory: span t >= 8 (groups i, twiddles[i]) and span t / 2 (groups
// 2i and 2i + 1, next[2i] and next[2i + 1]); forward runs the wide span first, inverse the narrow one.
template <bool Forward, bool FromIntegers = false, bool ToIntegers = false>
CIPHERLM_AVX2 void double_stage(double* d, std::size_t n, std::size_t t, const double* twiddles, const double* next,
                                const PrimeLanes& p) {
  const std::size_t half = t / 2;
  for (std::size_t i = 0; i < n / (2 * t); ++i) {
    const __m256d w = _mm256_broadcast_sd(twiddles + i);
    const __m256d w0 = _mm256_broadcast_sd(next + 2 * i), w1 = _mm256_broadcast_sd(next + 2 * i + 1);
    double* a = d + 2 * i * t;
    for (std::size_t j = 0; j < half; j += 4) {
      __m256d v0 = load<FromIntegers>(a + j), v1 = load<FromIntegers>(a + half + j);
      __m256d v2 = load<FromIntegers>(a + t + j), v3 = load<FromIntegers>(a + t + half + j);
      if constexpr (Forward) {
        butterfly<true>(v0, v2, w, p);
        butterfly<true>(v1, v3, w, p);
        butterfly<true, false>(v0, v1, w0, p);
        butterfly<true, false>(v2, v3, w1, p);
      } else {
        butterfly<false>(v0, v1, w0, p);
        butterfly<false>(v2, v3, w1, p);
        butterfly<false>(v0, v2, w, p);
        butterfly<false>(v1, v3, w, p);
      }
      store<Forward, ToIntegers>(a + j, v0, p);
      store<Forward, ToIntegers>(a + half + j, v1, p);
      store<Forward, ToIntegers>(a + t + j, v2, p);
      store<Forward, ToIntegers>(a + t + half + j, v3, p);
    }
  }
}

// Spans 2 and 1: each vector holds values of several groups, sorted into x and y lanes by shuffles.
template <bool Forward, bool FromIntegers = false, bool ToIntegers = false, bool ReduceX = true>
CIPHERLM_AVX2 void narrow_stage(double* d, std::size_t n, std::size_t t, const double* twiddles, const PrimeLanes& p) {
  if (t == 2) {  // eight values x0 x1 y0 y1 | x2 x3 y2 y3 of two groups
    for (std::size_t i = 0; i < n / 4; i += 2) {
      double* block = d + 4 * i;
      const __m256d a = load<FromIntegers>(block), b = load<FromIntegers>(block + 4);
      __m256d x = _mm256_permute2f128_pd(a, b, 0x20), y = _mm256_permute2f128_pd(a, b, 0x31);
      butterfly<Forward, ReduceX>(x, y, pairs_of(twiddles + i), p);
      store<Forward, ToIntegers>(block, _mm256_permute2f128_pd(x, y, 0x20), p);
      store<Forward, ToIntegers>(block + 4, _mm256_permute2f128_pd(x, y, 0x31), p);
    }
  } else {  // eight values x0 y0 x1 y1 | x2 y2 x3 y3 of four groups
    for (std::size_t i = 0; i < n / 2; i += 4) {
      double* block = d + 2 * i;
      const __m256d a = load<FromIntegers>(block), b = load<FromIntegers>(block + 4);
      __m256d x = _mm256_unpacklo_pd(a, b), y = _mm256_unpackhi_pd(a, b);
      butterfly<Forward, ReduceX>(x, y, interleaved(twiddles + i), p);
      store<Forward, ToIntegers>(block, _mm256_unpacklo_pd(x, y), p);
      store<Forward, ToIntegers>(block + 4, _mm256_unpackhi_pd(x, y), p);
    }
  }
}

}  // namespace

// Input in [0, 4q), output in [0, q), as the portable kernel.
CIPHERLM_AVX2 void ntt_forward_avx2(const NttTables& tables, u64* values) {
  const std::size_t n = tables.ring_degree();
  const PrimeLanes p = prime_lanes(tables);
  double* d = reinterpret_cast<double*>(values);  // the same 8 bytes per value, reused in place
  const double* twiddles = tables.root_powers_f64.data();
  // Stages alternate between reducing x and not, starting with reducing: a double stage does one of
  // each, a wide stage reduces, and the two narrow stages follow the parity.
  std::size_t m = 1, t = n / 2;  // stage m has m groups of span t; its twiddles start at m
  if (n < 16) {  // too short for a double stage to read the integers: convert in a pass of its own
    for (std::size_t i = 0; i < n; i += 4) _mm256_storeu_pd(d + i, to_double(values + i));
  } else {
    double_stage<true, true>(d, n, t, twiddles + m, twiddles + 2 * m, p);
    m <<= 2;
    t >>= 2;
  }
  for (; t >= 8; m <<= 2, t >>= 2) double_stage<true>(d, n, t, twiddles + m, twiddles + 2 * m, p);
  if (t == 4) {
    wide_stage<true>(d, n, 4, twiddles + m, p);
    narrow_stage<true, false, false, false>(d, n, 2, twiddles + 2 * m, p);
    narrow_stage<true, false, true, true>(d, n, 1, twiddles + 4 * m, p);
  } else {
    narrow_stage<true, false, false, true>(d, n, 2, twiddles + m, p);
    narrow_stage<true, false, true, false>(d, n, 1, twiddles + 2 * m, p);
  }
}

// Input in [0, 4q), output in [0, q), multiplied by 1/n, as the portable kernel.
CIPHERLM_AVX2 void ntt_inverse_avx2(const NttTables& tables, u64* values) {
  const std::size_t n = tables.ring_degree();
  const PrimeLanes p = prime_lanes(tables);
  double* d = reinterpret_cast<double*>(values);
  const double* twiddles = tables.inv_root_powers_f64.data();
  narrow_stage<false, true>(d, n, 1, twiddles + n / 2, p);
  narrow_stage<false>(d, n, 2, twiddles + n / 4, p);
  if (n < 16) {
    wide_stage<false>(d, n, 4, twiddles + 1, p);
    for (std::size_t i = 0; i < n; i += 4) store<false, true>(d + i, _mm256_loadu_pd(d + i), p);
    return;
  }
  // Spans 4 .. n/2 remain, h = n/8 .. 1 groups: one alone when their number is odd, then in pairs,
  // the last pair writing the integers.
  std::size_t h = n / 8, t = 4;  // stage h has h groups of span t; its twiddles start at h
  std::size_t remaining = 0;
  for (std::size_t k = h; k >= 1; k >>= 1) ++remaining;
  if (remaining % 2 == 1) {
    wide_stage<false>(d, n, t, twiddles + h, p);
    h >>= 1;
    t <<= 1;
  }
  for (; h > 2; h >>= 2, t <<= 2) double_stage<false>(d, n, 2 * t, twiddles + h / 2, twiddles + h, p);
  double_stage<false, false, true>(d, n, 2 * t, twiddles + 1, twiddles + 2, p);
}

}  // namespace cipherlm
#endif
