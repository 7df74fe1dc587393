// Coefficient-wise products and reductions of residue vectors, with an IFMA path for primes below
// 2^50 (and an AVX2 path for the products), and a portable path; all give identical results.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ring/cpu_features.hpp"
#include "ring/modarith.hpp"

namespace cipherlm {

// out = a * b mod q (inputs reduced), on the kernels of `path` where q is below 2^50.
void multiply_mod(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q, SimdPath path);
// The degree-2 tensor of (a0, a1) and (b0, b1): r0 = a0 b0, r1 = a0 b1 + a1 b0, r2 = a1 b1.
void tensor_mod(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1, u64* r2, std::size_t n,
                const Modulus& q, SimdPath path);
// out = x mod q for inputs below 2^52 (IFMA) or any 64-bit input (portable).
void reduce_mod(const u64* x, u64* out, std::size_t n, const Modulus& q, bool ifma);
// out = a + b and out = a - b mod q (inputs reduced, q < 2^62; out may be a or b), branch-free, on
// the kernels of `path` (AVX-512 or AVX2) for any such q.
void add_mod_vector(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, SimdPath path);
void sub_mod_vector(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, SimdPath path);
// out = (the centered representative of x mod p, in [-p/2, p/2)) mod q, for x < p < 2^62 and
// q < 2^62: the residue rescaling subtracts so that its division by p rounds to nearest.
void centered_residue_mod(const u64* x, u64 p, u64* out, std::size_t n, const Modulus& q, bool avx512);
// out = x mod q for signed x (any 64-bit value), branch-free.
void reduce_signed_vector(const std::int64_t* x, u64* out, std::size_t n, const Modulus& q, bool avx512);
// x[c] = x[c] - table[index[c]] mod q, for x and table reduced and every index below table_size;
// AVX-512 lanes for tables of at most 8 entries.
void subtract_table_entries(u64* x, const u64* index, const u64* table, std::size_t table_size, std::size_t n, u64 q,
                            bool avx512);
// out = (a - b) * w mod q for a, b < q < 2^62 and w_shoup = shoup_precompute(w, q).
void multiply_difference_by_constant(const u64* a, const u64* b, u64 w, u64 w_shoup, u64* out, std::size_t n, u64 q,
                                     bool avx512);

// out[c] = a[index[c]] (every index below the length of a; out does not alias a): an automorphism
// in NTT form. AVX-512 gathers on that path.
void gather(const u64* a, const std::uint32_t* index, u64* out, std::size_t n, SimdPath path);

#if CIPHERLM_X86_KERNELS
void gather_avx512(const u64* a, const std::uint32_t* index, u64* out, std::size_t n);
void multiply_mod_avx512ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void tensor_mod_avx512ifma(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1, u64* r2,
                           std::size_t n, u64 q);
void reduce_mod_avx512ifma(const u64* x, u64* out, std::size_t n, u64 q);
void add_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void sub_mod_avx512(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void reduce_signed_avx512(const std::int64_t* x, u64* out, std::size_t n, u64 q);
void subtract_table_entries_avx512(u64* x, const u64* index, const u64* table, std::size_t table_size, std::size_t n,
                                   u64 q);
void centered_residue_mod_avx512(const u64* x, u64 p, u64* out, std::size_t n, u64 q);
void multiply_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q);
void add_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void sub_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void tensor_mod_avx2(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* r0, u64* r1, u64* r2, std::size_t n,
                     const Modulus& q);
void multiply_difference_by_constant_avx512(const u64* a, const u64* b, u64 w, u64 w_shoup, u64* out, std::size_t n,
                                            u64 q);
#endif

}  // namespace cipherlm
