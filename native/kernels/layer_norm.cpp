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

Ciphertext LayerNormKernel::normalize(const Ciphertext& centred, const Ciphertext& w) const {
  return kernels_.multiply(centred, w);
}

}  // namespace cipherlm::kernels
