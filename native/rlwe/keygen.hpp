// Key generation: secret, public, relinearization and Galois keys.
#pragma once
#include <utility>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

// hamming_weight 0 gives a uniform ternary secret; otherwise exactly that many +-1 coefficients.
SecretKey generate_secret_key(const ContextPtr& context, std::size_t hamming_weight);
PublicKey generate_public_key(const SecretKey& secret);
// A key that switches from target_secret (NTT form over every prime) to the secret key, for
// ciphertexts up to `level`, over the first `special` special primes. Its uniform halves come from a
// fresh seed that the key keeps (see expand_key_uniform).
KeySwitchKey generate_key_switch_key(const SecretKey& secret, const u64* target_secret, std::size_t level,
                                     std::size_t special);
// Regenerates the uniform halves a_d of a key from its seed (after a seeded load).
void expand_key_uniform(KeySwitchKey& key);
RelinKey generate_relin_key(const SecretKey& secret);
// The key of one automorphism for ciphertexts up to `level`.
KeySwitchKey generate_galois_key(const SecretKey& secret, u64 galois_element, std::size_t level);
// Keys for the top level.
GaloisKeys generate_galois_keys(const SecretKey& secret, const std::vector<u64>& galois_elements);
// Keys for (element, level) pairs; an element listed twice keeps its first level.
GaloisKeys generate_galois_keys(const SecretKey& secret, const std::vector<std::pair<u64, std::size_t>>& elements);
// The two keys of sparse-secret encapsulation (bootstrapping's ModRaise), in a GaloisKeys with no
// Galois keys: to a fresh ephemeral secret of `hamming_weight` nonzero coefficients at level 0 over q_0
// and the first special prime only, and back to `secret` over the whole chain. The ephemeral secret is
// wiped when this returns.
GaloisKeys generate_sparse_secret_keys(const SecretKey& secret, std::size_t hamming_weight);

// Galois elements for rotation steps (3^k mod 2N) plus conjugation when asked.
std::vector<u64> galois_elements_for(const Context& context, const std::vector<long long>& steps, bool conjugate);

}  // namespace cipherlm
