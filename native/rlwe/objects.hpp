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
  PolyBuffer data;  // (level + 1) limbs, from the context's memory pool

  u64* limb(std::size_t i) { return data.data() + i * context->ring_degree(); }
  const u64* limb(std::size_t i) const { return data.data() + i * context->ring_degree(); }
};

struct Ciphertext {
  ContextPtr context;
  std::size_t level = 0;
  std::size_t size = 2;  // number of polynomials: 2, or 3 after a multiplication before relinearization
  double scale = 1.0;
  PolyBuffer data;  // size polynomials of (level + 1) limbs, from the context's memory pool
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

// Switches a ciphertext component from s' to s: for each digit d, (b_d, a_d) with
// b_d = -a_d s + e_d + P s' on the primes of digit d. A key serves ciphertexts up to `level`: it holds
// the digits of that level, each over data primes 0..level and the special primes, so a key needed
// only low in the chain is smaller. Keys made with a seed regenerate every a_d from it (seeded save).
// `special` is the number of special primes held: all of them, except for the sparse-secret key of
// bootstrapping (one).
struct KeySwitchKey {
  ContextPtr context;
  std::size_t level = 0;
  std::size_t special = 0;
  std::size_t digits = 0;  // context->digits_at_level(level)
  bool has_seed = false;
  Seed seed{};             // the a_d are this seed's uniform stream, digit after digit
  std::vector<u64> data;   // [digit][b or a][stored limb][coefficient]
  // Non-zero for a Galois key held in rotation form (rotation_keys.hpp): its element g, with
  // sigma_g^-1 applied to every polynomial of the data. The seed regenerates SEAL's form.
  u64 automorphism = 0;

  // Stored limbs: data primes 0..level, then the first `special` special primes.
  std::size_t limbs() const { return level + 1 + special; }
  // Storage position of a global prime index (a data prime up to level, or a special prime).
  std::size_t stored_limb(std::size_t prime) const {
    const std::size_t data = context->data_prime_count();
    return prime < data ? prime : level + 1 + (prime - data);
  }
  const u64* part(std::size_t digit, std::size_t which, std::size_t prime) const {
    return data.data() + ((digit * 2 + which) * limbs() + stored_limb(prime)) * context->ring_degree();
  }
  u64* part(std::size_t digit, std::size_t which, std::size_t prime) {
    return data.data() + ((digit * 2 + which) * limbs() + stored_limb(prime)) * context->ring_degree();
  }
  // Global prime indices of the stored limbs, in order.
  std::vector<std::size_t> primes() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i <= level; ++i) out.push_back(i);
    for (std::size_t j = 0; j < special; ++j) out.push_back(context->special_limb(j));
    return out;
  }
};

struct RelinKey {
  KeySwitchKey key;
};

// Keys for the automorphisms X -> X^g, shared rather than copied: GaloisKeys made by combining or
// selecting others point at the same key data. For bootstrapping with sparse-secret encapsulation it
// also carries the two keys that switch a ciphertext to the ephemeral sparse secret (at level 0,
// modulo q_0 p_0 only) and back (over the whole chain).
struct GaloisKeys {
  ContextPtr context;
  std::map<u64, std::shared_ptr<const KeySwitchKey>> keys;  // by Galois element
  std::shared_ptr<const KeySwitchKey> to_sparse, from_sparse;

  const KeySwitchKey* find(u64 element) const {
    const auto found = keys.find(element);
    return found == keys.end() ? nullptr : found->second.get();
  }
  bool has(u64 element) const { return keys.count(element) != 0; }
};

}  // namespace cipherlm
