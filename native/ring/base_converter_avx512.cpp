// The AVX-512 kernel of RNS base conversion: a sum of Shoup products by per-prime constants, kept in
// [0, 2p) after every term, so it holds for any number of source primes.
#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include "ring/avx512_arith.hpp"
#include "ring/base_converter.hpp"

namespace cipherlm {

CIPHERLM_AVX512 void weighted_sum_mod_avx512(const u64* const* y, const u64* factors, const u64* factors_shoup,
                                             std::size_t terms, u64 p, u64* out, std::size_t n) {
  const __m512i vp = _mm512_set1_epi64(static_cast<long long>(p));
  const __m512i v2p = _mm512_set1_epi64(static_cast<long long>(2 * p));
  for (std::size_t c = 0; c < n; c += 8) {
    __m512i acc = _mm512_setzero_si512();
    for (std::size_t i = 0; i < terms; ++i) {
      const __m512i w = _mm512_set1_epi64(static_cast<long long>(factors[i]));
      const __m512i ws = _mm512_set1_epi64(static_cast<long long>(factors_shoup[i]));
      const __m512i term = wide::mul_shoup_lazy(_mm512_loadu_si512(y[i] + c), w, ws, vp);
      acc = wide::reduce_once(_mm512_add_epi64(acc, term), v2p);
    }
    _mm512_storeu_si512(out + c, wide::reduce_once(acc, vp));
  }
}

}  // namespace cipherlm

#endif  // CIPHERLM_X86_KERNELS
