// Gaussian-kernel attention on packed activations, for all heads and sequences of a ciphertext:
//   S_ij = exp(-c |q_i - k_j|^2) with exp(x) ~ (1 + x / 2^m)^(2^m), out_i = sum_j S_ij mask_j v_j.
// Keys are reached by cyclic token shifts delta (k_(i + delta mod tokens)), so one query row meets
// every key of its own sequence; filler rows meet none. The kernel values of head h for shift delta
// are packed in block heads * (delta mod d) + h of packed ciphertext delta / d (d = width / heads),
// so the m squarings run on ceil(tokens / d) ciphertexts instead of one per shift:
//   bases:  1 - c |q_i - k_(i+delta)|^2 / 2^m, packed; three levels. With K^(r) the shifted keys
//           placed so that block pair b holds shift (b - r) mod d, the packed squared distances are
//           sum_r rot((q - K^(r))^2, r heads blocks): d squarings and d - 1 rotations per packed
//           ciphertext, no per-shift reduction over features.
//   (the executor squares the bases m times, bootstrapping where needed)
//   apply:  sum_r rot(S, r heads blocks) (x) V^(r), V^(r) the masked shifted values placed alike,
//           accumulated before a single relinearization; the key mask multiplies v first.
#pragma once
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

class GaussianAttention {
 public:
  // kernel_constant: c = 1 / (2 sqrt(head dim)); squarings: m.
  GaussianAttention(std::shared_ptr<const KernelContext> kernels, double kernel_constant, std::size_t squarings);

  std::vector<Ciphertext> bases(const Ciphertext& q, const Ciphertext& k) const;
  // kernel: the packed bases after the squarings; key_mask: 1 on real tokens, replicated on all blocks.
  Ciphertext apply(const std::vector<Ciphertext>& kernel, const Ciphertext& v, const Ciphertext& key_mask) const;

  // Building blocks, shared with the backward pass. A packed operand holds one value per query row,
  // head and shift (the layout of the bases); shifts beyond the tokens are zero where it matters.
  //   weigh:     out_i = sum_d K_d[i] x[i + d] (per head); one level below min(K, x - 2)
  //   inner:     P_d[i] = sum over a head's features of x[i] y[i + d], packed; two levels below min(x, y)
  //   transpose: K^T_e[j] = K_(-e)[j + e], so that weigh(transpose(K), y) gives sum_i K[i, j] y[i]; two levels
  //   head_sums: sum_d K_d[i], replicated on the head's blocks; no level
  Ciphertext weigh(const std::vector<Ciphertext>& kernel, const Ciphertext& x) const;
  std::vector<Ciphertext> inner(const Ciphertext& x, const Ciphertext& y) const;
  std::vector<Ciphertext> transpose(const std::vector<Ciphertext>& kernel) const;
  Ciphertext head_sums(const std::vector<Ciphertext>& kernel) const;

  static constexpr std::size_t bases_depth() { return 3; }
  // apply's output level: min(min(level(v), level(mask)) - value_depth(), min level(kernel)) - 1.
  static constexpr std::size_t value_depth() { return 3; }
  static std::size_t packed_count(const ActivationLayout& layout);
  static std::vector<long long> rotation_steps(const ActivationLayout& layout);

 private:
  // x shifted cyclically by every delta < tokens within each sequence, filler rows zero: one level.
  std::vector<Ciphertext> cyclic_shifts(const Ciphertext& x) const;
  // Every shift placed for each rotation r: block pair b of result [p * per + r] holds shift
  // p * per + (b + sign * r) mod per (sign -1 for weigh, +1 for inner), times value; one level.
  std::vector<Ciphertext> placed(const std::vector<Ciphertext>& shifts, int sign, double value) const;
  // The plaintext keeping block pair `pair` (blocks heads * pair + h), times value.
  std::shared_ptr<const Plaintext> pair_mask(std::size_t pair, double value, std::size_t level) const;
  // sum_r rot(items[r], r * heads * rows), grouped so that every rotation uses one keyed step.
  Ciphertext rotated_sum(std::vector<Ciphertext> items) const;

  std::shared_ptr<const KernelContext> kernels_;
  double kernel_constant_;
  std::size_t squarings_;
};

}  // namespace cipherlm::kernels
