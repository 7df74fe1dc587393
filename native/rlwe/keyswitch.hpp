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

// Where the two parts of a key switch go (each level + 1 limbs, NTT form): first = first addend +
// first part, second = second addend + second part (no addend: the part alone). With a permutation,
// both are permuted limb by limb on the way out, addends included: a rotation with a key in rotation
// form (rotation_keys.hpp) switches c1 and writes sigma(c0 + u0), sigma(u1) in the same pass. An
// addend may be its own output only without a permutation.
struct KeySwitchOutput {
  u64* first = nullptr;
  u64* second = nullptr;
  const u64* first_addend = nullptr;
  const u64* second_addend = nullptr;
  const std::uint32_t* permutation = nullptr;
};

// Switches `poly` (NTT form, level + 1 limbs) with `key`.
void key_switch(const Context& context, const u64* poly, std::size_t level, const KeySwitchKey& key,
                const KeySwitchOutput& output);

// The same on a decomposition with several keys (hoisting: one decomposition serves many keys), key
// k writing to outputs[k]. The keys are applied together, limb by limb, so that each limb of the
// decomposition is read once, from cache, for all of them.
void key_switch_decomposed(const Context& context, const Decomposition& decomposition,
                           const std::vector<const KeySwitchKey*>& keys, const std::vector<KeySwitchOutput>& outputs);

// Double hoisting (Bossuat, Troncoso-Pastoriza, Hubaux, Eurocrypt 2021): key switching that keeps
// its result over Q_l P, not divided by P, so that sums of many switched ciphertexts are divided once.
// Each part has level + 1 + special limbs and stands for P times the switched value:
// first = sigma(A + u0), second = sigma(u1), where A is P * addend (addend over Q_l; P * addend is 0
// on the special primes) or extended_addend as is (over Q_l P), and sigma the permutation if any.
// Each limb is finished before it is written, so an addend may be its own output.
struct ExtendedKeySwitchOutput {
  u64* first = nullptr;
  u64* second = nullptr;
  const u64* addend = nullptr;
  const u64* extended_addend = nullptr;
  const std::uint32_t* permutation = nullptr;
};

void key_switch_decomposed_extended(const Context& context, const Decomposition& decomposition,
                                    const std::vector<const KeySwitchKey*>& keys,
                                    const std::vector<ExtendedKeySwitchOutput>& outputs);
// The same for one key, without a decomposition kept in memory: each digit's raised limb is made,
// used and dropped, as in key_switch (less memory traffic when there is one key only).
void key_switch_extended(const Context& context, const u64* poly, std::size_t level, const KeySwitchKey& key,
                         const ExtendedKeySwitchOutput& output);

// A polynomial over Q_l P (level + 1 + special limbs, NTT form) divided by P with rounding, onto the
// level's limbs: out = addend + extended / P (addend optional, and may be out). Overwrites the
// special limbs of `extended`.
void divide_by_special_primes(const Context& context, u64* extended, std::size_t level, u64* out,
                              const u64* addend = nullptr);

// Key switching of a level-0 polynomial with a key over q_0 and the first special prime only (one
// digit): out0 += first part, out1 = second part. Used to move a level-0 ciphertext to the ephemeral
// sparse secret of bootstrapping, whose key must not exist over a larger modulus.
void key_switch_level0(const Context& context, const u64* poly, const KeySwitchKey& key, u64* out0, u64* out1);

}  // namespace cipherlm
