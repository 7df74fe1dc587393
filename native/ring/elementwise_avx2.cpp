// AVX2 coefficient-wise kernels for x86-64 CPUs without AVX-512 IFMA: products for primes below 2^50
// (avx2_arith.hpp's exact double-precision products), sums and differences for any prime below 2^62
// (whose values compare correctly as signed 64-bit lanes); outputs equal the portable kernels' bit
// for bit.
#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include "ring/avx2_arith.hpp"
#include "ring/elementwise.hpp"

namespace cipherlm {

CIPHERLM_AVX2 void multiply_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q) {
  const avx2::PrimeLanes p = avx2::prime_lanes(q.value);
  std::size_t c = 0;
  for (; c + 4 <= n; c += 4) avx2::store_reduced(out + c, avx2::mul_mod(avx2::to_double(a + c), avx2::to_double(b + c), p), p);
  for (; c < n; ++c) out[c] = mul_mod(a[c], b[c], q);
}

CIPHERLM_AVX2 void tensor_mod_avx2(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1, u64* r2,
                                   std::size_t n, const Modulus& q) {
  const avx2::PrimeLanes p = avx2::prime_lanes(q.value);
  std::size_t c = 0;
  for (; c + 4 <= n; c += 4) {
    const __m256d x0 = avx2::to_double(a0 + c), x1 = avx2::to_double(a1 + c);
    const __m256d y0 = avx2::to_double(b0 + c), y1 = avx2::to_double(b1 + c);
    avx2::store_reduced(r0 + c, avx2::mul_mod(x0, y0, p), p);
    // two signed residues of magnitude at most 2.2q each: their sum is within store_reduced's range
    avx2::store_reduced(r1 + c, _mm256_add_pd(avx2::mul_mod(x0, y1, p), avx2::mul_mod(x1, y0, p)), p);
    avx2::store_reduced(r2 + c, avx2::mul_mod(x1, y1, p), p);
  }
  for (; c < n; ++c) {
    r0[c] = mul_mod(a0[c], b0[c], q);
    r1[c] = q.reduce128(add_wide(multiply_wide(a0[c], b1[c]), multiply_wide(a1[c], b0[c])));
    r2[c] = mul_mod(a1[c], b1[c], q);
  }
}

CIPHERLM_AVX2 void add_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m256i modulus = _mm256_set1_epi64x(static_cast<long long>(q));
  std::size_t c = 0;
  for (; c + 4 <= n; c += 4) {
    const __m256i sum = _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + c)),
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + c)));
    const __m256i below_q = _mm256_cmpgt_epi64(modulus, sum);
    const __m256i reduced = _mm256_blendv_epi8(_mm256_sub_epi64(sum, modulus), sum, below_q);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), reduced);
  }
  for (; c < n; ++c) out[c] = add_mod(a[c], b[c], q);
}

CIPHERLM_AVX2 void sub_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m256i modulus = _mm256_set1_epi64x(static_cast<long long>(q));
  std::size_t c = 0;
  for (; c + 4 <= n; c += 4) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + c));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + c));
    const __m256i borrow = _mm256_cmpgt_epi64(y, x);
    const __m256i difference = _mm256_add_epi64(_mm256_sub_epi64(x, y), _mm256_and_si256(modulus, borrow));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), difference);
  }
  for (; c < n; ++c) out[c] = sub_mod(a[c], b[c], q);
}

}  // namespace cipherlm
#endif
