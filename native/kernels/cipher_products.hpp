// Products with weights the client encrypted (LoRA adapters and the classification head), each
// weight a ciphertext whose feature blocks hold constants:
//   feature_dot:   t_c = sum over features of x * w_c (+ bias_c), replicated on every slot of a row;
//   broadcast_sum: sum_c t_c * r_c, with r_c holding a row of weights, relinearized once;
//   CipherMatrixProduct: x W by the diagonal method with encrypted diagonals (baby-step giant-step,
//                  the client pre-rotates each diagonal by its giant step).
#pragma once
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

// One level; biases (empty, or one per weight) are canonical ciphertexts at any level >= x's - 1.
std::vector<Ciphertext> feature_dot(const KernelContext& kernels, const Ciphertext& x, const std::vector<Ciphertext>& weights,
                                    const std::vector<Ciphertext>& biases);
// One level.
Ciphertext broadcast_sum(const KernelContext& kernels, const std::vector<Ciphertext>& t, const std::vector<Ciphertext>& rows);

// diagonals[g * giant + j] for giant step g and baby step j (giant = PlainMatrixProduct::giant_size);
// one level; bias (optional) a canonical ciphertext.
Ciphertext cipher_matrix_product(const KernelContext& kernels, const Ciphertext& x, const std::vector<Ciphertext>& diagonals,
                                 const Ciphertext* bias);

}  // namespace cipherlm::kernels
