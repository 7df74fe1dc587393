// Coefficient-wise products and reductions of residue vectors, with an IFMA path for primes below
// 2^50 and a portable path; both give identical results.
#pragma once
#include <cstddef>

#include "ring/cpu_features.hpp"
#include "ring/modarith.hpp"

namespace cipherlm {

// out = a * b mod q (inputs reduced).
void multiply_mod(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q, bool ifma);
// The degree-2 tensor of (a0, a1) and (b0, b1): r0 = a0 b0, r1 = a0 b1 + a1 b0, r2 = a1 b1.
void tensor_mod(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1, u64* r2, std::size_t n,
                const Modulus& q, bool ifma);
// out = x mod q for inputs below 2^52 (IFMA) or any 64-bit input (portable).
void reduce_mod(const u64* x, u64* out, std::size_t n, const Modulus& q, bool ifma);
// out = a + b and out = a - b mod q (inputs reduced, q < 2^63; out may be a or b), branch-free;
// `avx512` on the AVX-512 path for any such q.
void add_mod_vector(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, bool avx512);
void sub_mod_vector(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, bool avx512);

#if CIPHERLM_AVX512_KERNELS
void multiply_mod_avx512ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void tensor_mod_avx512ifma(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1, u64* r2,
                           std::size_t n, u64 q);
void reduce_mod_avx512ifma(const u64* x, u64* out, std::size_t n, u64 q);
void add_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void sub_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
#endif

}  // namespace cipherlm
