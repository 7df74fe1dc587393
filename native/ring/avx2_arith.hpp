// Modular arithmetic on AVX2 + FMA lanes in double precision, for primes below 2^50: residues up to a
// few q are exact in a double, and a product x * w is split exactly into hi + lo by one FMA, so
// x * w - round(hi / q) * q is computed without rounding. Include only from files whose functions
// carry CIPHERLM_AVX2 (they run only where the AVX2 path is chosen).
#pragma once
#include <immintrin.h>

#include "ring/modarith.hpp"

// As CIPHERLM_IFMA in ifma_arith.hpp: a target attribute for GCC and Clang, nothing for MSVC.
#if defined(_MSC_VER) && !defined(__clang__)
#define CIPHERLM_AVX2
#else
#define CIPHERLM_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace cipherlm {
namespace avx2 {

constexpr int kRoundNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
// 2^52 as a double: x + 2^52 holds an integer 0 <= x < 2^52 in its low mantissa bits.
constexpr long long kTwoPow52Bits = 0x4330000000000000ll;

struct PrimeLanes {
  __m256d q, q_inverse;
};

CIPHERLM_AVX2 inline PrimeLanes prime_lanes(u64 q) {
  const double value = static_cast<double>(q);
  return {_mm256_set1_pd(value), _mm256_set1_pd(1.0 / value)};
}

// x * w mod q as a signed value of magnitude at most 2.2q, exactly, for |x| <= 4.2q and
// 0 <= w < q < 2^50: the quotient estimate from hi / q is off by at most 1.7 besides its rounding, and
// hi - quotient * q and its sum with lo are integers below 2^53.
CIPHERLM_AVX2 inline __m256d mul_mod(__m256d x, __m256d w, const PrimeLanes& p) {
  const __m256d hi = _mm256_mul_pd(x, w);
  const __m256d lo = _mm256_fmsub_pd(x, w, hi);
  const __m256d quotient = _mm256_round_pd(_mm256_mul_pd(hi, p.q_inverse), kRoundNearest);
  return _mm256_add_pd(_mm256_fnmadd_pd(quotient, p.q, hi), lo);
}

// x mod q as a signed value of magnitude at most q/2 + 1, for |x| <= 8.4q.
CIPHERLM_AVX2 inline __m256d reduce(__m256d x, const PrimeLanes& p) {
  const __m256d quotient = _mm256_round_pd(_mm256_mul_pd(x, p.q_inverse), kRoundNearest);
  return _mm256_fnmadd_pd(quotient, p.q, x);
}

// Integers 0 <= x < 2^52 to doubles.
CIPHERLM_AVX2 inline __m256d to_double(const u64* source) {
  const __m256i magic = _mm256_set1_epi64x(kTwoPow52Bits);
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(source));
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(x, magic)), _mm256_castsi256_pd(magic));
}

// A signed value of magnitude at most 4.2q to its residue in [0, q), as an integer.
CIPHERLM_AVX2 inline void store_reduced(u64* destination, __m256d x, const PrimeLanes& p) {
  x = reduce(x, p);
  x = _mm256_add_pd(x, _mm256_and_pd(p.q, _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ)));
  x = _mm256_sub_pd(x, _mm256_and_pd(p.q, _mm256_cmp_pd(x, p.q, _CMP_GE_OQ)));
  const __m256d magic = _mm256_castsi256_pd(_mm256_set1_epi64x(kTwoPow52Bits));
  const __m256i bits = _mm256_xor_si256(_mm256_castpd_si256(_mm256_add_pd(x, magic)), _mm256_castpd_si256(magic));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(destination), bits);
}

}  // namespace avx2
}  // namespace cipherlm
