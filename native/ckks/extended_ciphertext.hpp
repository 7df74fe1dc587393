// A ciphertext over Q_l P: both polynomials on the level's data primes and on the special primes,
// holding P times its value. Double hoisting (Bossuat, Troncoso-Pastoriza, Hubaux, Eurocrypt 2021)
// keeps the baby-step rotations and the inner sums of a linear transform in this form: a rotation
// then costs its inner product only (no division by P), and a sum of rotations is divided by P once.
#pragma once
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

struct ExtendedCiphertext {
  ContextPtr context;
  std::size_t level = 0;
  double scale = 1.0;  // of the value, as for a Ciphertext (P is not counted)
  PolyBuffer data;     // 2 polynomials of limbs() limbs, NTT form

  std::size_t limbs() const { return level + 1 + context->special_prime_count(); }
  u64* poly(std::size_t p) { return data.data() + p * limbs() * context->ring_degree(); }
  const u64* poly(std::size_t p) const { return data.data() + p * limbs() * context->ring_degree(); }
  u64* limb(std::size_t p, std::size_t t) { return poly(p) + t * context->ring_degree(); }
  const u64* limb(std::size_t p, std::size_t t) const { return poly(p) + t * context->ring_degree(); }
};

// Zero at a level and scale.
ExtendedCiphertext extended_zero(const ContextPtr& context, std::size_t level, double scale);
// x over Q_l P: P x on the data primes, 0 on the special primes.
ExtendedCiphertext extend(const Ciphertext& x);
// The automorphisms of x (size 2), each over Q_l P, from one decomposition of c1 and without any
// division by P (element 1 gives extend(x)).
std::vector<ExtendedCiphertext> apply_galois_hoisted_extended(const Ciphertext& x, const std::vector<u64>& galois_elements,
                                                              const GaloisKeys& keys);
// The automorphism of x, over Q_l P: c1 is divided by P to be decomposed and switched, while c0 stays
// over Q_l P and joins the switched part undivided. x's memory is reused.
ExtendedCiphertext apply_galois_extended(ExtendedCiphertext&& x, u64 galois_element, const GaloisKeys& keys);
// a += b (same context, level and scale).
void add_to(ExtendedCiphertext& a, const ExtendedCiphertext& b);
// x divided by P: the ciphertext it stands for, at its level and scale. x's special limbs are spent.
Ciphertext divide_by_special_primes(ExtendedCiphertext&& x);

}  // namespace cipherlm
