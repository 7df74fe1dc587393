// Public-key and secret-key encryption, and decryption.
#pragma once
#include "rlwe/objects.hpp"

namespace cipherlm {

Ciphertext encrypt_public(const PublicKey& key, const Plaintext& plaintext);
// With seeded = true the ciphertext remembers the seed of c1, so serialization can store 32 bytes
// instead of c1 (half the size); the in-memory ciphertext is complete either way.
Ciphertext encrypt_secret(const SecretKey& key, const Plaintext& plaintext, bool seeded);
// Regenerates c1 of a seeded secret-key ciphertext from its seed.
void expand_seeded_c1(Ciphertext& ciphertext);
Plaintext decrypt(const SecretKey& key, const Ciphertext& ciphertext);

}  // namespace cipherlm
