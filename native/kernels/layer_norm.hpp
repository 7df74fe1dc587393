// LayerNorm without its affine part (the executor folds gamma and beta into the next weights):
// (x - mean) / sqrt(v), v = var + eps, with 1/sqrt by the HE-friendly approximation of poly.ts: a
// Chebyshev interpolant of 1/sqrt(u) on [lo/hi, 1], u = v / hi, then Newton steps. Split in stages
// so that the executor can bootstrap between them:
//   statistics: x - mean (one level), the Chebyshev input t = (2u - a - b) / (b - a) and v / 2
//               (two levels);
//   newton:     w <- w (1.5 - (v/2) w^2), two levels, with w ~ 1/sqrt(v) (the Chebyshev
//               coefficients divided by sqrt(hi) give w directly);
//   normalize:  (x - mean) * w, one level.
// v/2 is computed from the unscaled square of width * (x - mean), so that a small variance keeps
// its relative precision (Newton converges to 1/sqrt of whatever v it is given); t needs only
// absolute precision, which the Newton steps correct.
#pragma once
#include <utility>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

struct InvSqrtApproximation {
  double lo = 0;  // the variance interval [lo, hi] of poly.ts (ISQ_LO, ISQ_HI)
  double hi = 0;
  double eps = 0;  // added to the variance
};

struct NormStatistics {
  Ciphertext centred;    // x - mean
  Ciphertext chebyshev;  // t in [-1, 1]
  Ciphertext half_v;     // (var + eps) / 2
};

class LayerNormKernel {
 public:
  LayerNormKernel(const KernelContext& kernels, InvSqrtApproximation approximation);

  NormStatistics statistics(const Ciphertext& x) const;
  Ciphertext newton(const Ciphertext& w, const Ciphertext& half_v) const;
  // The Newton step and the derivative of its result by v: dw' = dw (1.5 - 3 (v/2) w^2) - 0.5 w^3;
  // w' two levels down, dw' three (training carries d(1/sqrt)/dv for the backward pass).
  std::pair<Ciphertext, Ciphertext> newton_with_derivative(const Ciphertext& w, const Ciphertext& dw,
                                                           const Ciphertext& half_v) const;
  Ciphertext normalize(const Ciphertext& centred, const Ciphertext& w) const;
  // dL/dx from dL/dh (h = (x - mean) w, the output before gamma and beta), with r = w and
  // dr = dw/dv: dxc = dh w + (sum dh xc) dr 2 xc / width, dx = dxc - mean(dxc); four levels.
  Ciphertext backward(const Ciphertext& dh, const Ciphertext& centred, const Ciphertext& w, const Ciphertext& dw) const;

  static constexpr std::size_t statistics_depth() { return 2; }
  static constexpr std::size_t newton_depth() { return 2; }
  static constexpr std::size_t normalize_depth() { return 1; }

 private:
  const KernelContext& kernels_;
  InvSqrtApproximation approximation_;
};

}  // namespace cipherlm::kernels
