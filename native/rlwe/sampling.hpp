// Secret and error distributions. Every sampler is branch-free in the values it produces.
#pragma once
#include <cstdint>

#include "rlwe/context.hpp"
#include "rlwe/prng.hpp"

namespace cipherlm {

void sample_ternary(Prng& prng, std::size_t n, std::int64_t* out);
// Exactly `hamming_weight` nonzero (+-1) coefficients at uniformly random positions.
void sample_fixed_hamming_weight(Prng& prng, std::size_t n, std::size_t hamming_weight, std::int64_t* out);
// Discrete Gaussian, sigma 3.2, bounded by 19 (6 sigma), by a full scan of a cumulative table.
void sample_gaussian(Prng& prng, std::size_t n, std::int64_t* out);
// Small signed coefficients to NTT-form limbs [first, first + count) of the context's primes; `limb_of`
// maps output limb k to its prime index.
void small_to_ntt(const Context& context, const std::int64_t* coefficients, const std::size_t* prime_indices,
                  std::size_t count, u64* out);
// A uniform polynomial, sampled directly in NTT form (the uniform distribution is NTT-invariant).
void sample_uniform_ntt(Prng& prng, const Context& context, const std::size_t* prime_indices, std::size_t count,
                        u64* out);

}  // namespace cipherlm
