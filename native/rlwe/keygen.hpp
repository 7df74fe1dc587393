// Key generation: secret, public, relinearization and Galois keys.
#pragma once
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

// hamming_weight 0 gives a uniform ternary secret; otherwise exactly that many +-1 coefficients.
SecretKey generate_secret_key(const ContextPtr& context, std::size_t hamming_weight);
PublicKey generate_public_key(const SecretKey& secret);
// A key that switches from target_secret (NTT form over every prime) to the secret key.
KeySwitchKey generate_key_switch_key(const SecretKey& secret, const u64* target_secret);
RelinKey generate_relin_key(const SecretKey& secret);
GaloisKeys generate_galois_keys(const SecretKey& secret, const std::vector<u64>& galois_elements);

// Galois elements for rotation steps (3^k mod 2N) plus conjugation when asked.
std::vector<u64> galois_elements_for(const Context& context, const std::vector<long long>& steps, bool conjugate);

}  // namespace cipherlm
