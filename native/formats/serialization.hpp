// cipherlm's own binary format: a fixed header (magic "CLMK", format version, object type, flags,
// parameter fingerprint, payload length) and a payload whose every size, level, modulus and
// coefficient range is validated before an object is built from it.
#pragma once
#include <cstdint>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

enum class ObjectType : std::uint8_t {
  Parameters = 1,
  Plaintext = 2,
  Ciphertext = 3,
  SecretKey = 4,
  PublicKey = 5,
  RelinKey = 6,
  GaloisKeys = 7,
};

using Bytes = std::vector<std::uint8_t>;

Bytes save_parameters(const Context& context);
Bytes save(const Plaintext& plaintext);
// Seeded secret-key ciphertexts are stored as c0 and the 32-byte seed of c1.
Bytes save(const Ciphertext& ciphertext);
Bytes save(const SecretKey& key);
Bytes save(const PublicKey& key);
// Keys: seeded, every uniform half a_d is stored as the key's 32-byte seed (about half the bytes); the
// loader regenerates it. Keys loaded from SEAL's format, or loaded unseeded, have no seed.
Bytes save(const RelinKey& key, bool seeded = false);
Bytes save(const GaloisKeys& keys, bool seeded = false);

Parameters load_parameters(const std::uint8_t* data, std::size_t size);
Plaintext load_plaintext(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
Ciphertext load_ciphertext(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
SecretKey load_secret_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
PublicKey load_public_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
RelinKey load_relin_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
GaloisKeys load_galois_keys(const ContextPtr& context, const std::uint8_t* data, std::size_t size);

// The object type named in a header, after checking magic and version.
ObjectType peek_object_type(const std::uint8_t* data, std::size_t size);

}  // namespace cipherlm
