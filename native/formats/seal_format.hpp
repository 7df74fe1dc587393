// Microsoft SEAL 4.1's binary formats (EncryptionParameters, Plaintext, Ciphertext, SecretKey,
// PublicKey, RelinKeys, GaloisKeys), read and written byte for byte, uncompressed. Compression of
// the payload after the 16-byte header is handled by the caller (formats/zstd_codec.hpp, and zlib in
// the TypeScript layer).
//
// A context is SEAL-compatible when it has one special prime and one key-switching digit per data
// prime (SEAL's key-switching mode: the last prime of SEAL's coefficient modulus is the special
// prime) and N <= 32768. Every loader validates sizes, levels, moduli and coefficient ranges before
// anything is allocated or used, and throws ErrorCode::Deserialization on bad bytes.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm::seal {

using Bytes = std::vector<std::uint8_t>;
using ParmsId = std::array<u64, 4>;

enum class ComprMode : std::uint8_t { None = 0, Zlib = 1, Zstd = 2 };

struct Header {
  ComprMode mode = ComprMode::None;
  std::uint8_t version_major = 4, version_minor = 1;
  u64 size = 0;  // the whole object, header included
};

constexpr std::size_t kHeaderBytes = 16;

// Parses and checks a header: magic, header size, version 4.1, zero reserved bytes, a known mode, size >= 16.
Header read_header(const std::uint8_t* data, std::size_t size);
void write_header(std::uint8_t* out, ComprMode mode, u64 size);

// "" when the context can be expressed in SEAL's formats, else the reason why not.
std::string compatibility_issue(const Context& context);
void require_compatible(const Context& context);

// SEAL's parms_id for the first `prime_count` primes of the context (data primes, then the special
// prime): BLAKE2b-256 over the words (scheme = CKKS, N, primes..., plain modulus = 0).
ParmsId parms_id(const Context& context, std::size_t prime_count);

Bytes save_parameters(const Context& context);
Bytes save(const Plaintext& plaintext);
Bytes save(const Ciphertext& ciphertext);
Bytes save(const SecretKey& key);
Bytes save(const PublicKey& key);
Bytes save(const RelinKey& key);
Bytes save(const GaloisKeys& keys);

// Parameters: data primes = all but the last of SEAL's coefficient modulus, special prime = the last.
Parameters load_parameters(const std::uint8_t* data, std::size_t size);
Plaintext load_plaintext(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
// Seeded ciphertexts (c0 and a Blake2xb or SHAKE-256 seed) are expanded on load.
Ciphertext load_ciphertext(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
SecretKey load_secret_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
PublicKey load_public_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
RelinKey load_relin_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size);
GaloisKeys load_galois_keys(const ContextPtr& context, const std::uint8_t* data, std::size_t size);

// The largest uncompressed size a valid object of each kind can have under a context (for bounding
// decompression). kind: 0 parameters, 1 plaintext, 2 ciphertext, 3 secret key, 4 public key,
// 5 relinearization keys, 6 Galois keys.
u64 max_object_bytes(std::size_t ring_degree, std::size_t prime_count, int kind);

}  // namespace cipherlm::seal
