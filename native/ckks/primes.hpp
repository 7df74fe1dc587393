// Prime moduli for the RNS chain: primality, NTT-friendly prime search, primitive roots.
#pragma once
#include <cstdint>
#include <vector>

#include "modarith.hpp"

namespace cipherlm {

bool is_prime(u64 n);

// The largest distinct primes congruent to 1 mod 2N below 2^bits, one per requested size, in the
// order requested (SEAL's CoeffModulus::Create convention). Primes already in `exclude` are skipped.
std::vector<u64> ntt_primes_from_bit_sizes(std::size_t ring_degree, const std::vector<int>& bit_sizes,
                                           const std::vector<u64>& exclude = {});

// The smallest primitive 2N-th root of unity modulo q (SEAL picks the minimal one as well).
u64 minimal_primitive_root(std::size_t two_n, const Modulus& q);

}  // namespace cipherlm
