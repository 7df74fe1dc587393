// Polynomials in the Chebyshev basis: interpolation in float64 and homomorphic evaluation by
// baby-step giant-step (T_1..T_g, then T_g, T_2g, T_4g, ...), with every partial sum brought to an
// exact scale so that terms of different depths add without error.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

// c_0..c_degree with f(x) ~ sum c_k T_k(u), u = (2x - a - b) / (b - a), from the Chebyshev nodes.
std::vector<double> chebyshev_interpolate(const std::function<double(double)>& f, double a, double b, std::size_t degree);
// sum c_k T_k(u) in float64 (Clenshaw).
double chebyshev_value(const std::vector<double>& coefficients, double u);

class ChebyshevEvaluation {
 public:
  // u: a ciphertext whose slots are real and within [-1, 1].
  ChebyshevEvaluation(const Ciphertext& u, std::size_t degree, const RelinKey& relin);

  // sum c_k T_k(u) at exactly `scale`, at output_level(coefficients): the highest the basis allows.
  Ciphertext evaluate(const std::vector<double>& coefficients, double scale);
  std::size_t output_level(const std::vector<double>& coefficients) const;
  // Levels an evaluation of these coefficients consumes.
  static std::size_t levels_consumed(const std::vector<double>& coefficients);

 private:
  static std::size_t baby_size(std::size_t degree);
  static std::size_t giant_for(std::size_t degree, std::size_t baby);
  static std::size_t feasible_level(const std::vector<double>& c, std::size_t baby, std::size_t top);
  const Ciphertext& basis(std::size_t k);
  Ciphertext evaluate_at(const std::vector<double>& c, double scale, std::size_t level);

  const RelinKey& relin_;
  std::size_t degree_;
  std::size_t baby_ = 1;
  std::map<std::size_t, Ciphertext> basis_;
};

}  // namespace cipherlm
