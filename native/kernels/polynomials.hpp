// The polynomial stand-ins of the HE-friendly model on packed ciphertexts, with coefficients from
// poly.ts's exportPolys() so that both executors evaluate the same approximations:
//   chebyshev:   sum c_k T_k(t) by baby-step giant-step (circuits/chebyshev), t already in [-1, 1];
//   odd degree 7: c1 t + c3 t^3 + c5 t^5 + c7 t^7 in three levels (one step of the composite sign);
//   squarings:   x^(2^count), the Gaussian kernel's (1 + x / 2^k)^(2^k);
//   relu_combine: t + t s, with s ~ sign(t) (ReLU up to the factors folded into the weights).
// Every result is canonical at its level.
#pragma once
#include <array>
#include <utility>
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

Ciphertext chebyshev(const KernelContext& kernels, const Ciphertext& t, const std::vector<double>& coefficients);
// Several polynomials of one input from one Chebyshev basis (a function and its derivative series).
std::vector<Ciphertext> chebyshev_many(const KernelContext& kernels, const Ciphertext& t,
                                       const std::vector<std::vector<double>>& polynomials);
std::size_t chebyshev_depth(const std::vector<double>& coefficients);

Ciphertext odd_degree7(const KernelContext& kernels, const Ciphertext& t, const std::array<double, 4>& coefficients);
// The same step and its derivative c1 + 3 c3 t^2 + 5 c5 t^4 + 7 c7 t^6, both three levels down.
std::pair<Ciphertext, Ciphertext> odd_degree7_with_derivative(const KernelContext& kernels, const Ciphertext& t,
                                                              const std::array<double, 4>& coefficients);
constexpr std::size_t odd_degree7_depth() { return 3; }

Ciphertext squarings(const KernelContext& kernels, const Ciphertext& x, std::size_t count);

Ciphertext relu_combine(const KernelContext& kernels, const Ciphertext& t, const Ciphertext& sign);

}  // namespace cipherlm::kernels
