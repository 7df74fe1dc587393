// The row max of the standard model's softmax by comparison polynomials (poly.ts's maxApprox,
// after HETAL): max(a, b) = a + d sgn(d) / 2 - d / 2 with d = a - b, and sgn(d) by the composite of
// odd degree-7 steps (polynomials.hpp's odd_degree7), the last step's coefficients halved so that it
// gives sgn(d) / 2. Split so that the executor can bootstrap between the steps:
//   difference: d = a - b, or d = a - rot(a, step) for the max of a slot and the slot `step` away;
//               no level (both canonical, at the lower level);
//   combine:    a + d half_sign - d / 2; one level below the lower of d and half_sign (or at a's
//               level where that is lower).
// |sgn| <= 1 on [-1, 1], so a pairwise max never exceeds the larger input.
#pragma once
#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

Ciphertext max_difference(const KernelContext& kernels, const Ciphertext& a, const Ciphertext& b);
Ciphertext max_difference(const KernelContext& kernels, const Ciphertext& a, long long step);

Ciphertext max_combine(const KernelContext& kernels, const Ciphertext& a, const Ciphertext& d, const Ciphertext& half_sign);
constexpr std::size_t max_combine_depth() { return 1; }

}  // namespace cipherlm::kernels
