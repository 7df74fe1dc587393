// IFMA inner product: each 100-bit product of residues below 2^50 is added as its low and high 52-bit
// halves in two 64-bit lanes; the final value hi * 2^52 + lo is reduced with two 52-bit Shoup products.
#include "ring/cpu_features.hpp"
#if CIPHERLM_X86_KERNELS
#include <algorithm>

#include "ring/ifma_arith.hpp"
#include "ring/multiply_accumulate.hpp"

namespace cipherlm {

namespace {

// Coefficients per chunk: the four lazy accumulators (16 KiB) stay in L1 while each term's three
// inputs stream through it in sequential runs, which the hardware prefetchers follow; reading every
// term at each coefficient instead (dozens of interleaved streams) ran 20 % slower.
constexpr std::size_t kChunk = 512;
// Up to 15 products per group keep hi + (lo >> 52) below 2^52 (each high half is below 2^48).
constexpr std::size_t kGroup = 15;

}  // namespace

CIPHERLM_IFMA void dot_product_mod_avx512ifma(const u64* const* x, const u64* const* y0, const u64* const* y1,
                                              std::size_t terms, std::size_t keys, const Modulus& q, u64* const* out0,
                                              u64* const* out1, std::size_t n) {
  const ifma::WideReducer reduce(q.value);
  const __m512i zero = _mm512_setzero_si512();
  alignas(64) u64 lo0[kChunk], hi0[kChunk], lo1[kChunk], hi1[kChunk];
  const std::size_t chunk = std::min(n, kChunk);
  if (terms == 0) {
    for (std::size_t k = 0; k < keys; ++k) {
      std::fill(out0[k], out0[k] + n, u64(0));
      std::fill(out1[k], out1[k] + n, u64(0));
    }
  }
  // Chunks outermost: a chunk of x stays in cache while every key's terms stream past it.
  for (std::size_t base = 0; base < n; base += chunk) {
    for (std::size_t k = 0; k < keys; ++k) {
      u64* sum0_out = out0[k] + base;
      u64* sum1_out = out1[k] + base;
      for (std::size_t start = 0; start < terms; start += kGroup) {
        const std::size_t end = std::min(start + kGroup, terms);
        for (std::size_t c = 0; c < chunk; c += 8) {
          _mm512_store_si512(lo0 + c, zero);
          _mm512_store_si512(hi0 + c, zero);
          _mm512_store_si512(lo1 + c, zero);
          _mm512_store_si512(hi1 + c, zero);
        }
        for (std::size_t d = start; d < end; ++d) {
          const u64* xd = x[d] + base;
          const u64* a = y0[k * terms + d] + base;
          const u64* b = y1[k * terms + d] + base;
          // The next run (this key's next term, else the next key's first, else the next chunk's) is
          // fetched while this one computes: each run is too short for the hardware prefetchers to
          // get ahead of, and the keys stream from memory, used once.
          std::size_t next_term = d + 1, next_key = k, next_base = base;
          if (next_term == terms) {
            next_term = 0;
            if (++next_key == keys) next_key = 0, next_base = base + chunk < n ? base + chunk : base;
          }
          const char* next_a = reinterpret_cast<const char*>(y0[next_key * terms + next_term] + next_base);
          const char* next_b = reinterpret_cast<const char*>(y1[next_key * terms + next_term] + next_base);
          const char* next_x = reinterpret_cast<const char*>(x[next_term] + next_base);
          for (std::size_t c = 0; c < chunk; c += 8) {
            _mm_prefetch(next_a + 8 * c, _MM_HINT_T1);
            _mm_prefetch(next_b + 8 * c, _MM_HINT_T1);
            _mm_prefetch(next_x + 8 * c, _MM_HINT_T0);
            const __m512i vx = _mm512_loadu_si512(xd + c);
            const __m512i v0 = _mm512_loadu_si512(a + c), v1 = _mm512_loadu_si512(b + c);
            _mm512_store_si512(lo0 + c, _mm512_madd52lo_epu64(_mm512_load_si512(lo0 + c), vx, v0));
            _mm512_store_si512(hi0 + c, _mm512_madd52hi_epu64(_mm512_load_si512(hi0 + c), vx, v0));
            _mm512_store_si512(lo1 + c, _mm512_madd52lo_epu64(_mm512_load_si512(lo1 + c), vx, v1));
            _mm512_store_si512(hi1 + c, _mm512_madd52hi_epu64(_mm512_load_si512(hi1 + c), vx, v1));
          }
        }
        // The first group's sums are the outputs; later groups add theirs.
        for (std::size_t c = 0; c < chunk; c += 8) {
          __m512i sum0 = reduce(_mm512_load_si512(hi0 + c), _mm512_load_si512(lo0 + c));
          __m512i sum1 = reduce(_mm512_load_si512(hi1 + c), _mm512_load_si512(lo1 + c));
          if (start > 0) {
            sum0 = ifma::reduce_once(_mm512_add_epi64(sum0, _mm512_loadu_si512(sum0_out + c)), reduce.q);
            sum1 = ifma::reduce_once(_mm512_add_epi64(sum1, _mm512_loadu_si512(sum1_out + c)), reduce.q);
          }
          _mm512_storeu_si512(sum0_out + c, sum0);
          _mm512_storeu_si512(sum1_out + c, sum1);
        }
      }
    }
  }
}

}  // namespace cipherlm

#endif  // CIPHERLM_X86_KERNELS
