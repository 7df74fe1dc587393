#include "kernels/layer_norm.hpp"

#include <cmath>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

LayerNormKernel::LayerNormKernel(const KernelContext& kernels, InvSqrtApproximation approximation)
    : kernels_(kernels), approximation_(approximation) {
  require(approximation_.lo > 0 && approximation_.hi > approximation_.lo && approximation_.eps >= 0,
          ErrorCode::InvalidArgument, "LayerNorm: invalid 1/sqrt interval");
}

NormStatistics LayerNormKernel::statistics(const Ciphertext& x) const {
  const KernelContext& k = kernels_;
  const LevelScales& scales = k.scales();
  scales.require_canonical(x, "LayerNorm input");
  require(x.level >= statistics_depth() + 1, ErrorCode::LevelMismatch, "LayerNorm statistics need 3 levels");
  const ActivationLayout& layout = k.layout();
  const double width = static_cast<double>(layout.width);
  const long long rows = static_cast<long long>(layout.rows);
  const double a = approximation_.lo / approximation_.hi, b = 1.0;
  NormStatistics out;
  // width * (x - mean) = width * x - (sum over the feature blocks): no level
  const Ciphertext centred = cipherlm::sub(multiply_integer(x, static_cast<std::int64_t>(layout.width)),
                                           k.rotate_sum(x, layout.width, rows));
  out.centred = scales.lower(centred, x.level - 1, 1.0 / width);
  // v / 2 = sum(centred^2) / (2 width^3) + eps / 2
  const Ciphertext sum_sq = k.rotate_sum(k.square(centred), layout.width, rows);
  out.half_v = add_scalar(scales.lower(sum_sq, x.level - 2, 0.5 / (width * width * width)), 0.5 * approximation_.eps);
  // t = alpha sum(centred^2) + beta, alpha = 2 / (width^3 hi (b - a)), from the square of
  // sqrt(alpha) * centred so that the constant stays large enough to apply exactly
  const double alpha = 2.0 / (width * width * width * approximation_.hi * (b - a));
  const Ciphertext scaled = scales.lower(centred, x.level - 1, std::sqrt(alpha));
  out.chebyshev = add_scalar(k.rotate_sum(k.square(scaled), layout.width, rows),
                             (2.0 * approximation_.eps / approximation_.hi - a - b) / (b - a));
  return out;
}

Ciphertext LayerNormKernel::newton(const Ciphertext& w, const Ciphertext& half_v) const {
  const KernelContext& k = kernels_;
  k.scales().require_canonical(w, "Newton iterate");
  k.scales().require_canonical(half_v, "Newton v/2");
  require(std::min(w.level, half_v.level) >= newton_depth(), ErrorCode::LevelMismatch, "a Newton step needs 2 levels");
  // 1.5 w - w^2 (v/2 w)
  const Ciphertext vw = k.multiply(w, half_v);
  const Ciphertext w2 = k.square(w);
  const Ciphertext cubic = k.multiply(w2, vw);
  const Ciphertext linear = k.scales().lower(w, cubic.level, 1.5);
  return cipherlm::sub(linear, cubic);
}

std::pair<Ciphertext, Ciphertext> LayerNormKernel::newton_with_derivative(const Ciphertext& w, const Ciphertext& dw,
                                                                          const Ciphertext& half_v) const {
  const KernelContext& k = kernels_;
  const LevelScales& scales = k.scales();
  scales.require_canonical(dw, "Newton derivative");
  const Ciphertext vw = k.multiply(w, half_v);
  const Ciphertext w2 = k.square(w);
  const Ciphertext cubic = k.multiply(w2, vw);
  const Ciphertext next = cipherlm::sub(scales.lower(w, cubic.level, 1.5), cubic);
  // 1.5 - 3 (v/2) w^2 = 1.5 - 3 (vw) w, and w^3 = w^2 w
  const Ciphertext factor = add_scalar(multiply_integer(negate(k.multiply(vw, w)), 3), 1.5);
  const Ciphertext w3 = k.multiply(w2, w);
  const Ciphertext scaled = k.multiply(dw, factor);
  const Ciphertext slope = cipherlm::sub(scaled, scales.lower(w3, scaled.level, 0.5));
  return {next, slope};
}

Ciphertext LayerNormKernel::backward(const Ciphertext& dh, const Ciphertext& centred, const Ciphertext& w,
                                     const Ciphertext& dw) const {
  const KernelContext& k = kernels_;
  const ActivationLayout& layout = k.layout();
  const long long rows = static_cast<long long>(layout.rows);
  const double width = static_cast<double>(layout.width);
  // A = sum over features of dh xc; ds = A dr
  const Ciphertext a = k.rotate_sum(k.multiply(dh, centred), layout.width, rows);
  const Ciphertext ds = k.multiply(a, dw);
  // dxc = dh w + ds (2 / width) xc
  const Ciphertext first = k.multiply(dh, w);
  const Ciphertext second = k.multiply(ds, k.scales().lower(centred, centred.level - 1, 2.0 / width));
  const Ciphertext dxc = k.add(first, second);
  // dx = dxc - mean(dxc) = (width dxc - sum dxc) / width
  const Ciphertext spread = cipherlm::sub(multiply_integer(dxc, static_cast<std::int64_t>(layout.width)),
                                          k.rotate_sum(dxc, layout.width, rows));
  return k.scales().lower(spread, spread.level - 1, 1.0 / width);
}

Ciphertext LayerNormKernel::normalize(const Ciphertext& centred, const Ciphertext& w) const {
  return kernels_.multiply(centred, w);
}

}  // namespace cipherlm::kernels
