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
// y W^T with the same pre-rotated diagonals (the backward pass of cipher_matrix_product): giant
// rotations of y, the products of each baby step summed, one rotation per baby step; one level.
Ciphertext cipher_matrix_transpose_product(const KernelContext& kernels, const Ciphertext& y,
                                           const std::vector<Ciphertext>& diagonals);
// The gradient of every pre-rotated diagonal for x W with upstream gradient dy: the row totals of
// rot(dy, -g giant blocks) * rot(x, j blocks), valid on each block's last row; one level.
std::vector<Ciphertext> cipher_matrix_gradient(const KernelContext& kernels, const Ciphertext& x, const Ciphertext& dy);

}  // namespace cipherlm::kernels
