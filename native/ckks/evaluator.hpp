// Homomorphic operations on ciphertexts. Every binary operation checks that its operands share the
// context, the level and (for additions) the scale, and throws a typed error otherwise.
#pragma once
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

// Scales are equal when they agree to this relative tolerance.
constexpr double kScaleTolerance = 1e-9;

Ciphertext add(const Ciphertext& a, const Ciphertext& b);
Ciphertext sub(const Ciphertext& a, const Ciphertext& b);
// a = a + b and a = a - b in a's own memory (b may be a itself); the same checks as add and sub,
// made before a is touched.
void add_in_place(Ciphertext& a, const Ciphertext& b);
void sub_in_place(Ciphertext& a, const Ciphertext& b);
Ciphertext negate(const Ciphertext& a);
Ciphertext add_plain(const Ciphertext& a, const Plaintext& b);
Ciphertext sub_plain(const Ciphertext& a, const Plaintext& b);
// Adds value to every slot, encoded at the ciphertext's own scale.
Ciphertext add_scalar(const Ciphertext& a, double value);
Ciphertext multiply(const Ciphertext& a, const Ciphertext& b);  // size 3 result unless relinearized
Ciphertext square(const Ciphertext& a);
Ciphertext multiply_plain(const Ciphertext& a, const Plaintext& b);
// Multiplies every slot by value encoded at `scale` (the result's scale is a.scale * scale).
Ciphertext multiply_scalar(const Ciphertext& a, double value, double scale);
// Multiplies by an integer; the scale is unchanged.
Ciphertext multiply_integer(const Ciphertext& a, std::int64_t value);
Ciphertext relinearize(const Ciphertext& a, const RelinKey& key);
Ciphertext multiply_relinearize(const Ciphertext& a, const Ciphertext& b, const RelinKey& key);
// Divides by the level's last prime and drops it: level - 1, scale / q_level.
Ciphertext rescale(const Ciphertext& a);
Ciphertext drop_to_level(const Ciphertext& a, std::size_t level);
Plaintext drop_plaintext_to_level(const Plaintext& a, std::size_t level);
// Signed powers of two summing to value, no two adjacent (lowest first).
std::vector<long long> non_adjacent_form(long long value);
// Rotates slots left by step (negative: right). Without a key for the step, composes the rotations
// of its non-adjacent form when all of their keys are present (as SEAL does).
Ciphertext rotate(const Ciphertext& a, long long step, const GaloisKeys& keys);
Ciphertext conjugate(const Ciphertext& a, const GaloisKeys& keys);
// One decomposition of c1 shared by every step.
std::vector<Ciphertext> rotate_hoisted(const Ciphertext& a, const std::vector<long long>& steps, const GaloisKeys& keys);
Ciphertext apply_galois(const Ciphertext& a, u64 galois_element, const GaloisKeys& keys);
// The Galois key for an element (in rotation form), or a MissingKey error naming the rotation.
const KeySwitchKey& find_galois_key(const GaloisKeys& keys, u64 galois_element);
// Many automorphisms of one ciphertext from one decomposition of c1 (element 1 gives a copy).
std::vector<Ciphertext> apply_galois_hoisted(const Ciphertext& a, const std::vector<u64>& galois_elements,
                                             const GaloisKeys& keys);

}  // namespace cipherlm
