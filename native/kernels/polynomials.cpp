#include "kernels/polynomials.hpp"

#include "ckks/evaluator.hpp"
#include "circuits/chebyshev.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

Ciphertext chebyshev(const KernelContext& kernels, const Ciphertext& t, const std::vector<double>& coefficients) {
  kernels.scales().require_canonical(t, "Chebyshev input");
  require(coefficients.size() >= 2, ErrorCode::InvalidArgument, "Chebyshev: at least two coefficients");
  ChebyshevEvaluation evaluation(t, coefficients.size() - 1, kernels.relin());
  const std::size_t level = evaluation.output_level(coefficients);
  return evaluation.evaluate(coefficients, kernels.scales().at(level));
}

std::size_t chebyshev_depth(const std::vector<double>& coefficients) {
  return ChebyshevEvaluation::levels_consumed(coefficients);
}

Ciphertext odd_degree7(const KernelContext& kernels, const Ciphertext& t, const std::array<double, 4>& c) {
  const LevelScales& scales = kernels.scales();
  scales.require_canonical(t, "odd polynomial input");
  const std::size_t l = t.level;
  require(l >= odd_degree7_depth(), ErrorCode::LevelMismatch, "an odd polynomial of degree 7 needs 3 levels");
  // (c1 t + c3 t^3) + t^4 (c5 t + c7 t^3): the constants ride in products one level before the last.
  const Ciphertext t2 = kernels.square(t);
  const Ciphertext t4 = kernels.square(t2);
  const Ciphertext c7t3 = kernels.multiply(scales.lower(t, l - 1, c[3]), t2);
  const Ciphertext c3t3 = kernels.multiply(scales.lower(t, l - 1, c[1]), t2);
  const Ciphertext high = cipherlm::add(scales.lower(t, l - 2, c[2]), c7t3);
  const Ciphertext low = cipherlm::add(scales.lower(t, l - 2, c[0]), c3t3);
  return cipherlm::add(scales.lower(low, l - 3), kernels.multiply(t4, high));
}

Ciphertext squarings(const KernelContext& kernels, const Ciphertext& x, std::size_t count) {
  kernels.scales().require_canonical(x, "squaring input");
  require(x.level >= count, ErrorCode::LevelMismatch, "not enough levels for the squarings");
  Ciphertext y = x;
  for (std::size_t i = 0; i < count; ++i) y = kernels.square(y);
  return y;
}

Ciphertext relu_combine(const KernelContext& kernels, const Ciphertext& t, const Ciphertext& sign) {
  const Ciphertext product = kernels.multiply(t, sign);
  return cipherlm::add(kernels.scales().to_level(t, product.level), product);
}

}  // namespace cipherlm::kernels
