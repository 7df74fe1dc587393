// Hybrid key switching (mod-up per digit, inner product with the key, mod-down by P), with a
// hoisted variant that decomposes once and applies many keys (Galois keys in rotation form:
// rotation_keys.hpp).
#pragma once
#include <cstdint>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

// The digit decomposition of one polynomial, raised to Q_l P: [digit][extended limb][coefficient].
// Extended limbs are the level's data primes followed by the special primes.
struct Decomposition {
  std::size_t level = 0;
  std::size_t digits = 0;
  PolyBuffer data;  // from the context's memory pool
  const u64* limb(const Context& context, std::size_t digit, std::size_t ext_limb) const {
    return data.data() + (digit * (level + 1 + context.special_prime_count()) + ext_limb) * context.ring_degree();
  }
};

Decomposition decompose(const Context& context, const u64* poly, std::size_t level);

// out0 += first part (out0 = first part when add_to_first is false), out1 = second part of switching
// `poly` (NTT form, level + 1 limbs) with `key`.
void key_switch(const Context& context, const u64* poly, std::size_t level, const KeySwitchKey& key, u64* out0, u64* out1,
                bool add_to_first);

// The same on a decomposition (hoisting: one decomposition serves many keys).
void key_switch_decomposed(const Context& context, const Decomposition& decomposition, const KeySwitchKey& key,
                           u64* out0, u64* out1, bool add_to_first);

// Key switching of a level-0 polynomial with a key over q_0 and the first special prime only (one
// digit): out0 += first part, out1 = second part. Used to move a level-0 ciphertext to the ephemeral
// sparse secret of bootstrapping, whose key must not exist over a larger modulus.
void key_switch_level0(const Context& context, const u64* poly, const KeySwitchKey& key, u64* out0, u64* out1);

}  // namespace cipherlm
