// Softmax attention on packed activations (the standard model's encrypted baseline; poly.ts's
// softmaxApproxRow gives every constant), in the packed-shift arrangement of packed_shifts.hpp:
//   packed_key_mask: M_p, 1 on block pair b of packed ciphertext p where a row meets a real key
//           (the key mask shifted and placed like the scores). Rows past the layout's sequences
//           (filler) meet their own zero key in block pair 0, so every row has a live key and a
//           row sum of at least 1. Two levels; computed once per forward pass.
//   scores: u = q.k / (sqrt(d_h) 2B) on live slots and -1/2 elsewhere, packed: the packed inner
//           products (PackedShifts::inner) of q / (sqrt(d_h) 2B) with the masked keys, where the
//           Gaussian kernel has distances, plus -1/2 (1 - M_p). Four levels below the lowest of q, k
//           and the key mask; M_p must lie above that.
//   (the executor takes the row max by comparison.hpp over the packed ciphertexts and the block
//    pairs, then evaluates exp by Chebyshev and squarings on exp_input's t)
//   exp_input: t = factor (u - max) + offset, the Chebyshev input of the exp; one level.
//   row_sums: e M_p (one level) and its sum over the packed ciphertexts and block pairs, replicated
//           on every block pair of the head (PackedShifts::head_sums).
//   normalize: the weights factor e M_p (x) inverse (inverse ~ c / sum, factor 1 / c); one level
//           below the lower of the inverse and the masked exps' level - 1. The weights then multiply
//           the values by PackedShifts::weigh_masked, as the Gaussian kernel's do.
#pragma once
#include <vector>

#include "kernels/packed_shifts.hpp"

namespace cipherlm::kernels {

struct SoftmaxConstants {
  double score_factor = 0;   // 1 / (sqrt(d_h) 2B): scores normalised into [-1/2, 1/2]
  double masked_score = 0;   // the normalised score of masked keys and empty slots (-1/2)
};

class SoftmaxAttention {
 public:
  SoftmaxAttention(std::shared_ptr<const KernelContext> kernels, SoftmaxConstants constants);

  std::vector<Ciphertext> packed_key_mask(const Ciphertext& key_mask) const;
  std::vector<Ciphertext> scores(const Ciphertext& q, const Ciphertext& k, const Ciphertext& key_mask,
                                 const std::vector<Ciphertext>& packed_mask) const;
  std::vector<Ciphertext> exp_input(const std::vector<Ciphertext>& scores, const Ciphertext& row_max, double factor,
                                    double offset) const;
  // [e_0 M_0, ..., e_(P-1) M_(P-1), row sum]
  std::vector<Ciphertext> row_sums(const std::vector<Ciphertext>& exps, const std::vector<Ciphertext>& packed_mask) const;
  std::vector<Ciphertext> normalize(const std::vector<Ciphertext>& masked_exps, const Ciphertext& inverse, double factor) const;

  static constexpr std::size_t packed_mask_depth() { return 2; }
  static constexpr std::size_t scores_depth() { return 4; }

 private:
  void require_packed(const std::vector<Ciphertext>& cts, const char* what) const;

  PackedShifts shifts_;
  SoftmaxConstants constants_;
};

}  // namespace cipherlm::kernels
