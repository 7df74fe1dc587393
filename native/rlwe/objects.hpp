// The engine's data objects. Polynomials are stored limb by limb (limb i of a polynomial is N words
// modulo prime i) and always in NTT form; a ciphertext at level l has l+1 limbs per polynomial.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <vector>

#include "rlwe/context.hpp"
#include "rlwe/prng.hpp"
#include "rlwe/secure_memory.hpp"

namespace cipherlm {

using ContextPtr = std::shared_ptr<const Context>;

struct Plaintext {
  ContextPtr context;
  std::size_t level = 0;
  double scale = 1.0;
  std::vector<u64> data;  // (level + 1) limbs

  u64* limb(std::size_t i) { return data.data() + i * context->ring_degree(); }
  const u64* limb(std::size_t i) const { return data.data() + i * context->ring_degree(); }
};

struct Ciphertext {
  ContextPtr context;
  std::size_t level = 0;
  std::size_t size = 2;  // number of polynomials: 2, or 3 after a multiplication before relinearization
  double scale = 1.0;
  std::vector<u64> data;  // size polynomials of (level + 1) limbs
  // A ciphertext made by secret-key encryption may carry the seed that regenerates c1 instead of c1.
  bool seeded = false;
  Seed seed{};

  std::size_t limbs() const { return level + 1; }
  u64* poly(std::size_t p) { return data.data() + p * limbs() * context->ring_degree(); }
  const u64* poly(std::size_t p) const { return data.data() + p * limbs() * context->ring_degree(); }
  u64* limb(std::size_t p, std::size_t i) { return poly(p) + i * context->ring_degree(); }
  const u64* limb(std::size_t p, std::size_t i) const { return poly(p) + i * context->ring_degree(); }
};

// The secret s in NTT form over every prime, data and special.
struct SecretKey {
  ContextPtr context;
  SecureVector<u64> data;
  std::size_t hamming_weight = 0;  // 0: uniform ternary
};

// (b, a) = (-a s + e, a) over every prime.
struct PublicKey {
  ContextPtr context;
  std::vector<u64> data;  // 2 polynomials of prime_count limbs
};

// Switches a ciphertext component from s' to s: for each digit d, (b_d, a_d) over every prime with
// b_d = -a_d s + e_d + P s' on the primes of digit d.
struct KeySwitchKey {
  ContextPtr context;
  std::size_t digits = 0;
  std::vector<u64> data;  // [digit][b or a][limb][coefficient]

  const u64* part(std::size_t digit, std::size_t which, std::size_t limb) const {
    const std::size_t n = context->ring_degree(), limbs = context->prime_count();
    return data.data() + ((digit * 2 + which) * limbs + limb) * n;
  }
  u64* part(std::size_t digit, std::size_t which, std::size_t limb) {
    const std::size_t n = context->ring_degree(), limbs = context->prime_count();
    return data.data() + ((digit * 2 + which) * limbs + limb) * n;
  }
};

struct RelinKey {
  KeySwitchKey key;
};

struct GaloisKeys {
  ContextPtr context;
  std::map<u64, KeySwitchKey> keys;  // by Galois element
};

}  // namespace cipherlm
