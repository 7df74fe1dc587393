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

std::vector<Ciphertext> chebyshev_many(const KernelContext& kernels, const Ciphertext& t,
                                       const std::vector<std::vector<double>>& polynomials) {
  kernels.scales().require_canonical(t, "Chebyshev input");
  std::size_t degree = 1;
  for (const auto& c : polynomials) {
    require(c.size() >= 2, ErrorCode::InvalidArgument, "Chebyshev: at least two coefficients");
    degree = std::max(degree, c.size() - 1);
  }
  ChebyshevEvaluation evaluation(t, degree, kernels.relin());
  std::vector<Ciphertext> out;
  for (const auto& c : polynomials) out.push_back(evaluation.evaluate(c, kernels.scales().at(evaluation.output_level(c))));
  return out;
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

std::pair<Ciphertext, Ciphertext> odd_degree7_with_derivative(const KernelContext& kernels, const Ciphertext& t,
                                                              const std::array<double, 4>& c) {
  const LevelScales& scales = kernels.scales();
  scales.require_canonical(t, "odd polynomial input");
  const std::size_t l = t.level;
  require(l >= odd_degree7_depth(), ErrorCode::LevelMismatch, "an odd polynomial of degree 7 needs 3 levels");
  const Ciphertext t2 = kernels.square(t);
  const Ciphertext t4 = kernels.square(t2);
  const Ciphertext c7t3 = kernels.multiply(scales.lower(t, l - 1, c[3]), t2);
  const Ciphertext c3t3 = kernels.multiply(scales.lower(t, l - 1, c[1]), t2);
  const Ciphertext high = cipherlm::add(scales.lower(t, l - 2, c[2]), c7t3);
  const Ciphertext low = cipherlm::add(scales.lower(t, l - 2, c[0]), c3t3);
  Ciphertext value = cipherlm::add(scales.lower(low, l - 3), kernels.multiply(t4, high));
  // c1 + 3 c3 t^2 + 5 c5 t^4 + 7 c7 t^6, with 7 c7 t^6 = (7 c7 t^2) t^4
  const Ciphertext sextic = kernels.multiply(scales.lower(t2, l - 2, 7 * c[3]), t4);
  Ciphertext slope = cipherlm::add(cipherlm::add(scales.lower(t2, l - 3, 3 * c[1]), scales.lower(t4, l - 3, 5 * c[2])), sextic);
  slope = add_scalar(slope, c[0]);
  return {std::move(value), std::move(slope)};
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
