// Prime moduli for the RNS chain: primality, NTT-friendly prime search, primitive roots.
#pragma once
#include <cstdint>
#include <vector>

#include "ring/modarith.hpp"

namespace cipherlm {

bool is_prime(u64 n);

// SEAL's CoeffModulus::Create: for each bit size b requested c times, the c largest primes
// congruent to 1 mod 2N below 2^b; the first request of a size gets the smallest of them, the last
// the largest. Primes in `exclude` are skipped.
std::vector<u64> ntt_primes_from_bit_sizes(std::size_t ring_degree, const std::vector<int>& bit_sizes,
                                           const std::vector<u64>& exclude = {});

// The smallest primitive 2N-th root of unity modulo q (SEAL picks the minimal one as well).
u64 minimal_primitive_root(std::size_t two_n, const Modulus& q);

}  // namespace cipherlm
