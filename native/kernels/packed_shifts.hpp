// The packed-shift arrangement the attention kernels (Gaussian and softmax, forward and backward)
// compute in, for all heads and sequences of a ciphertext. Keys are reached by cyclic token shifts
// delta (k_(i + delta mod tokens)), so one query row meets every key of its own sequence; filler
// rows meet none. A packed operand holds one value per query row, head and shift: head h, shift
// delta in block heads * (delta mod d) + h of packed ciphertext delta / d (d = width / heads), so a
// per-key non-linearity runs on ceil(tokens / d) ciphertexts instead of one per shift.
//   place:     the shifted copies arranged for rotation r: block pair b holds shift
//              p d + (b + sign r) mod d; with sign -1 (the keys K^(r)), sum_r rot(f(q, K^(r)), r pairs)
//              reduces f over the head's features for every shift at once (d products and d - 1
//              rotations per packed ciphertext, no per-shift reduction);
//   weigh:     out_i = sum_d K_d[i] x[i + d] (per head): sum_r rot(K, r pairs) (x) X^(r) with sign +1,
//              accumulated before a single relinearization; one level below min(K, x - 2);
//   weigh_masked: weigh of x = v mask (the attention output: masked keys' values vanish); one level
//              below min(K, min(v, mask) - 3);
//   inner:     P_d[i] = sum over a head's features of x[i] y[i + d], packed; three levels below min(x, y);
//   transpose: K^T_e[j] = K_(-e)[j + e], so that weigh(transpose(K), y) gives sum_i K[i, j] y[i]; two levels;
//   head_sums: sum_d K_d[i], replicated on the head's blocks; no level.
#pragma once
#include <memory>
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

class PackedShifts {
 public:
  explicit PackedShifts(std::shared_ptr<const KernelContext> kernels);

  const KernelContext& kernels() const { return *kernels_; }
  // Shifts per packed ciphertext (width / heads), and packed ciphertexts per row group.
  std::size_t per_packed() const;
  static std::size_t packed_count(const ActivationLayout& layout);
  static std::vector<long long> rotation_steps(const ActivationLayout& layout);

  // x shifted cyclically by every delta < tokens within each sequence, filler rows zero: one level.
  std::vector<Ciphertext> cyclic_shifts(const Ciphertext& x) const;
  // Packed ciphertext `packed` of the shifts placed for rotation r (see above), times value; one level.
  Ciphertext place(const std::vector<Ciphertext>& shifts, std::size_t packed, std::size_t r, int sign, double value) const;
  // Every packed ciphertext placed for every rotation: result [p * per + r].
  std::vector<Ciphertext> placed(const std::vector<Ciphertext>& shifts, int sign, double value) const;
  // sum_r rot(items[r], r * heads * rows), grouped so that every rotation uses one keyed step.
  Ciphertext rotated_sum(std::vector<Ciphertext> items) const;

  Ciphertext weigh(const std::vector<Ciphertext>& kernel, const Ciphertext& x) const;
  Ciphertext weigh_masked(const std::vector<Ciphertext>& kernel, const Ciphertext& v, const Ciphertext& key_mask) const;
  std::vector<Ciphertext> inner(const Ciphertext& x, const Ciphertext& y) const;
  std::vector<Ciphertext> transpose(const std::vector<Ciphertext>& kernel) const;
  Ciphertext head_sums(const std::vector<Ciphertext>& kernel) const;

  // The plaintext keeping block pair `pair` (blocks heads * pair + h), times value.
  std::shared_ptr<const Plaintext> pair_mask(std::size_t pair, double value, std::size_t level) const;

 private:
  std::shared_ptr<const KernelContext> kernels_;
};

}  // namespace cipherlm::kernels
