// Galois keys in rotation form. A Galois key for X -> X^g (SEAL's form, and the form on the wire)
// switches sigma_g(s) to s: rotating (c0, c1) applies sigma_g to both, then switches sigma_g(c1).
// In memory the key is held with sigma_g^-1 applied to every polynomial, a key from s to
// sigma_g^-1(s): the switch then runs on c1 itself and sigma_g is applied to its two outputs. The
// two agree up to key-switching noise, and the second needs no permutation of c1's raised digits,
// so a hoisted rotation decomposes c1 once and each further step costs an inner product, a mod-down
// and two permutations (Lattigo's hoisted rotations rest on the same order).
#pragma once
#include <cstdint>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

// g^-1 mod 2N for an odd Galois element g.
u64 inverse_galois_element(const Context& context, u64 galois_element);

// A key in SEAL's form for element g, turned into rotation form in place (key.automorphism = g).
void to_rotation_form(KeySwitchKey& key, u64 galois_element);

// Calls emit(words, count) with the key's limbs in SEAL's form, in storage order: digit by digit, b
// then (unless `b_only`) a, limb by limb. A key not in rotation form is passed through as stored.
template <typename Emit>
void for_each_standard_limb(const KeySwitchKey& key, bool b_only, Emit&& emit);

// --- implementation of the template

std::shared_ptr<const std::vector<std::uint32_t>> standard_form_permutation(const KeySwitchKey& key);

template <typename Emit>
void for_each_standard_limb(const KeySwitchKey& key, bool b_only, Emit&& emit) {
  const std::size_t n = key.context->ring_degree(), limbs = key.limbs();
  const auto permutation = standard_form_permutation(key);
  PolyBuffer limb = key.context->allocate(n);
  for (std::size_t d = 0; d < key.digits; ++d) {
    for (std::size_t which = 0; which < (b_only ? 1u : 2u); ++which) {
      const u64* part = key.data.data() + (d * 2 + which) * limbs * n;
      if (!permutation) {
        emit(part, limbs * n);
        continue;
      }
      for (std::size_t i = 0; i < limbs; ++i) {
        const u64* src = part + i * n;
        for (std::size_t c = 0; c < n; ++c) limb[c] = src[(*permutation)[c]];
        emit(static_cast<const u64*>(limb.data()), n);
      }
    }
  }
}

}  // namespace cipherlm
