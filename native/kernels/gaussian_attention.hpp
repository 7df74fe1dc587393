// Gaussian-kernel attention on packed activations, for all heads and sequences of a ciphertext:
//   S_ij = exp(-c |q_i - k_j|^2) with exp(x) ~ (1 + x / 2^m)^(2^m), out_i = sum_j S_ij mask_j v_j,
// in the packed-shift arrangement of packed_shifts.hpp:
//   bases:  1 - c |q_i - k_(i+delta)|^2 / 2^m, packed; three levels: sum_r rot((q - K^(r))^2, r heads
//           blocks) with K^(r) the shifted keys placed so that block pair b holds shift (b - r) mod d,
//           times sqrt(c / 2^m).
//   (the executor squares the bases m times, bootstrapping where needed)
//   apply:  the packed kernel times the values, the key mask multiplying v first (weigh).
#pragma once
#include <vector>

#include "kernels/packed_shifts.hpp"

namespace cipherlm::kernels {

class GaussianAttention {
 public:
  // kernel_constant: c = 1 / (2 sqrt(head dim)); squarings: m.
  GaussianAttention(std::shared_ptr<const KernelContext> kernels, double kernel_constant, std::size_t squarings);

  std::vector<Ciphertext> bases(const Ciphertext& q, const Ciphertext& k) const;
  // kernel: the packed bases after the squarings; key_mask: 1 on real tokens, replicated on all blocks.
  Ciphertext apply(const std::vector<Ciphertext>& kernel, const Ciphertext& v, const Ciphertext& key_mask) const;

  // The backward pass uses the packed-shift building blocks (PackedShifts: weigh, inner, transpose,
  // head_sums) directly.

  static constexpr std::size_t bases_depth() { return 3; }
  // apply's output level: min(min(level(v), level(mask)) - value_depth(), min level(kernel)) - 1.
  static constexpr std::size_t value_depth() { return 3; }
  static std::size_t packed_count(const ActivationLayout& layout) { return PackedShifts::packed_count(layout); }
  static std::vector<long long> rotation_steps(const ActivationLayout& layout) { return PackedShifts::rotation_steps(layout); }

 private:
  PackedShifts shifts_;
  double kernel_constant_;
  std::size_t squarings_;
};

}  // namespace cipherlm::kernels
