#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include <algorithm>

#include "ring/elementwise.hpp"
#include "ring/avx512_arith.hpp"
#include "ring/ifma_arith.hpp"

namespace cipherlm {

namespace {

// The lanes of the step at c of a loop over n values: all eight but in a last, partial step, whose
// loads and stores then touch nothing past the end. Full steps use plain loads and stores: masked
// stores are several times slower on some CPUs (AMD Zen 4 and 5).
CIPHERLM_IFMA inline __mmask8 lanes(std::size_t remaining) {
  return remaining >= 8 ? __mmask8(0xff) : static_cast<__mmask8>((1u << remaining) - 1);
}
CIPHERLM_IFMA inline __m512i load(const void* p, __mmask8 k) {
  return k == 0xff ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi64(k, p);
}
CIPHERLM_IFMA inline void store(void* p, __mmask8 k, __m512i v) {
  if (k == 0xff) {
    _mm512_storeu_si512(p, v);
  } else {
    _mm512_mask_storeu_epi64(p, k, v);
  }
}

}  // namespace

CIPHERLM_IFMA void multiply_mod_avx512ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const ifma::ProductReducer reduce(q);
  const __m512i zero = _mm512_set1_epi64(0);
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i x = load(a + c, k), y = load(b + c, k);
    store(out + c, k, reduce(_mm512_madd52hi_epu64(zero, x, y), _mm512_madd52lo_epu64(zero, x, y)));
  }
}

CIPHERLM_IFMA void tensor_mod_avx512ifma(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1,
                                         u64* r2, std::size_t n, u64 q) {
  const ifma::ProductReducer reduce(q);
  const __m512i zero = _mm512_set1_epi64(0);
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i x0 = load(a0 + c, k), x1 = load(a1 + c, k);
    const __m512i y0 = load(b0 + c, k), y1 = load(b1 + c, k);
    store(r0 + c, k, reduce(_mm512_madd52hi_epu64(zero, x0, y0), _mm512_madd52lo_epu64(zero, x0, y0)));
    const __m512i hi = _mm512_madd52hi_epu64(_mm512_madd52hi_epu64(zero, x0, y1), x1, y0);
    const __m512i lo = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, x0, y1), x1, y0);
    store(r1 + c, k, reduce(hi, lo));
    store(r2 + c, k, reduce(_mm512_madd52hi_epu64(zero, x1, y1), _mm512_madd52lo_epu64(zero, x1, y1)));
  }
}

CIPHERLM_IFMA void reduce_mod_avx512ifma(const u64* x, u64* out, std::size_t n, u64 q) {
  const ifma::WideReducer reduce(q);
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    store(out + c, k, reduce.small(load(x + c, k)));
  }
}

CIPHERLM_IFMA void add_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i sum = _mm512_add_epi64(load(a + c, k), load(b + c, k));
    store(out + c, k, _mm512_min_epu64(sum, _mm512_sub_epi64(sum, modulus)));
  }
}

CIPHERLM_IFMA void sub_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i difference = _mm512_sub_epi64(load(a + c, k), load(b + c, k));
    store(out + c, k, _mm512_min_epu64(difference, _mm512_add_epi64(difference, modulus)));
  }
}

CIPHERLM_AVX512 void reduce_signed_avx512(const std::int64_t* x, u64* out, std::size_t n, u64 q) {
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i zero = _mm512_setzero_si512();
  // Shoup's product by 1 reduces any 64-bit magnitude (2^63 included) to [0, 2q).
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i one_shoup = _mm512_set1_epi64(static_cast<long long>(shoup_precompute(1, q)));
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i value = load(x + c, k);
    const __mmask8 negative = _mm512_cmplt_epi64_mask(value, zero);
    const __m512i magnitude = wide::reduce_once(wide::mul_shoup_lazy(_mm512_abs_epi64(value), one, one_shoup, modulus), modulus);
    // q - 0 for a negative multiple of q is q, which the last reduction takes back to 0.
    const __m512i signed_residue = _mm512_mask_sub_epi64(magnitude, negative, modulus, magnitude);
    store(out + c, k, wide::reduce_once(signed_residue, modulus));
  }
}

CIPHERLM_AVX512 void subtract_table_entries_avx512(u64* x, const u64* index, const u64* table, std::size_t table_size,
                                                   std::size_t n, u64 q) {
  u64 padded[8] = {};
  std::copy(table, table + table_size, padded);
  const __m512i entries = _mm512_loadu_si512(padded);
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i entry = _mm512_permutexvar_epi64(load(index + c, k), entries);
    const __m512i difference = _mm512_sub_epi64(load(x + c, k), entry);
    store(x + c, k, _mm512_min_epu64(difference, _mm512_add_epi64(difference, modulus)));
  }
}

CIPHERLM_AVX512 void centered_residue_mod_avx512(const u64* x, u64 p, u64* out, std::size_t n, u64 q) {
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i from = _mm512_set1_epi64(static_cast<long long>(p));
  const __m512i half = _mm512_set1_epi64(static_cast<long long>(p >> 1));
  const __m512i half_mod_q = _mm512_set1_epi64(static_cast<long long>((p >> 1) % q));
  // Shoup's product by 1 reduces any 64-bit value to [0, 2q).
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i one_shoup = _mm512_set1_epi64(static_cast<long long>(shoup_precompute(1, q)));
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i shifted = wide::reduce_once(_mm512_add_epi64(load(x + c, k), half), from);
    const __m512i residue = wide::reduce_once(wide::mul_shoup_lazy(shifted, one, one_shoup, modulus), modulus);
    const __m512i difference = _mm512_sub_epi64(residue, half_mod_q);
    store(out + c, k, _mm512_min_epu64(difference, _mm512_add_epi64(difference, modulus)));
  }
}

CIPHERLM_AVX512 void multiply_difference_by_constant_avx512(const u64* a, const u64* b, u64 w, u64 w_shoup, u64* out,
                                                            std::size_t n, u64 q) {
  const __m512i modulus = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i factor = _mm512_set1_epi64(static_cast<long long>(w));
  const __m512i factor_shoup = _mm512_set1_epi64(static_cast<long long>(w_shoup));
  for (std::size_t c = 0; c < n; c += 8) {
    const __mmask8 k = lanes(n - c);
    const __m512i difference = _mm512_sub_epi64(load(a + c, k), load(b + c, k));
    const __m512i reduced = _mm512_min_epu64(difference, _mm512_add_epi64(difference, modulus));
    store(out + c, k, wide::reduce_once(wide::mul_shoup_lazy(reduced, factor, factor_shoup, modulus), modulus));
  }
}

CIPHERLM_AVX512 void gather_avx512(const u64* a, const std::uint32_t* index, u64* out, std::size_t n) {
  std::size_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256i where = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index + c));
    _mm512_storeu_si512(out + c, _mm512_i32gather_epi64(where, a, 8));
  }
  for (; c < n; ++c) out[c] = a[index[c]];
}

}  // namespace cipherlm

#endif  // CIPHERLM_X86_KERNELS
