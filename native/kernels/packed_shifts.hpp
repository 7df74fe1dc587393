// The packed-shift arrangement both attention kernels (Gaussian and softmax) compute in, for all
// heads and sequences of a ciphertext. Keys are reached by cyclic token shifts delta
// (k_(i + delta mod tokens)), so one query row meets every key of its own sequence; filler rows meet
// none. The value of head h for shift delta sits in block heads * (delta mod d) + h of packed
// ciphertext delta / d (d = width / heads, the shifts per packed ciphertext), so a per-key
// non-linearity runs on ceil(tokens / d) ciphertexts instead of one per shift:
//   place:  the shifted copies arranged so that block pair b holds shift p d + (b + offset) mod d;
//           with offset -r for the keys K^(r), sum_r rot(f(q, K^(r)), r heads blocks) sums f over the
//           head's features for every shift at once (d products, d - 1 rotations per packed
//           ciphertext, no per-shift reduction);
//   weighted_values: sum_r rot(S, r heads blocks) (x) V^(r), V^(r) the masked shifted values
//           placed with offset r, accumulated before a single relinearization; the key mask
//           multiplies v first.
#pragma once
#include <memory>
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

class PackedShifts {
 public:
  explicit PackedShifts(std::shared_ptr<const KernelContext> kernels);

  const KernelContext& kernels() const { return *kernels_; }
  // Shifts per packed ciphertext (width / heads) and packed ciphertexts per row group.
  std::size_t per_packed() const;
  static std::size_t packed_count(const ActivationLayout& layout);
  static std::vector<long long> rotation_steps(const ActivationLayout& layout);

  // x shifted cyclically by every delta < tokens within each sequence, filler rows zero: one level.
  std::vector<Ciphertext> cyclic_shifts(const Ciphertext& x) const;
  // sum over d of shifts[p d + d] on block pair (d + offset) mod d, times factor: one level (the
  // shifts at one level, canonical; the result canonical one level down).
  Ciphertext place(const std::vector<Ciphertext>& shifts, std::size_t packed, long long offset, double factor) const;
  // sum_r rot(items[r], r * heads * rows), grouped so that every rotation uses one keyed step.
  Ciphertext rotated_sum(std::vector<Ciphertext> items) const;
  // out_i = sum over the keys j of row i of weights_ij mask_j v_j, from the packed weights.
  Ciphertext weighted_values(const std::vector<Ciphertext>& weights, const Ciphertext& v, const Ciphertext& key_mask) const;
  // weighted_values's output level: min(min(level(v), level(mask)) - value_depth(), min level(weights)) - 1.
  static constexpr std::size_t value_depth() { return 3; }

  // The plaintext keeping block pair `pair` (blocks heads * pair + h), times value.
  std::shared_ptr<const Plaintext> pair_mask(std::size_t pair, double value, std::size_t level) const;

 private:
  std::shared_ptr<const KernelContext> kernels_;
};

}  // namespace cipherlm::kernels
