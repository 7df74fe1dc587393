// c/x by Goldschmidt iterations (the standard model's softmax row sums, poly.ts's inverseApprox):
// with y = x / c, c the centre of x's interval, a = 2 - y and b = 1 - y, then per iteration
// b <- b^2 and a <- a (1 + b), so that a y = 1 - b_0^(2^(n+1)). The caller applies 1/c: folded into
// a = (2 - y) / c, the first factor would be a small difference (y near 2) carrying the absolute
// noise of a larger one. Split so that the executor can bootstrap between iterations:
//   start: a and b from x; one level;
//   steps: `count` iterations; b drops one level per iteration, a to one below the lower of a and b.
// An x of 0 (a row without keys) gives b = 1 and a = 2^(n+1): bounded, but far above c / x.
#pragma once
#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

struct GoldschmidtState {
  Ciphertext a;  // the estimate of 1/x
  Ciphertext b;  // its relative error, 1 - a x (up to the iteration's power)
};

GoldschmidtState goldschmidt_start(const KernelContext& kernels, const Ciphertext& x, double center);
GoldschmidtState goldschmidt_steps(const KernelContext& kernels, GoldschmidtState state, std::size_t count);

}  // namespace cipherlm::kernels
