// A DiagonalMatrix applied to a ciphertext: baby-step giant-step over its offsets, the baby
// rotations hoisted (one decomposition), the products accumulated before a single rescale.
#pragma once
#include <vector>

#include "diagonal_matrix.hpp"
#include "encoder.hpp"
#include "slot_order.hpp"

namespace cipherlm {

class LinearTransform {
 public:
  LinearTransform(DiagonalMatrix matrix, const SlotOrder& order);

  // Galois elements the transform rotates by (keys for all of them are needed).
  const std::vector<u64>& galois_elements() const { return galois_elements_; }
  std::size_t rotations() const { return galois_elements_.size(); }
  const DiagonalMatrix& matrix() const { return matrix_; }

  // factor * matrix applied to x's slots. The diagonals are encoded at plaintext_scale, so the
  // result has scale x.scale * plaintext_scale / q_level at level x.level - 1.
  Ciphertext apply(const Ciphertext& x, Complex factor, double plaintext_scale, const Encoder& encoder,
                   const SlotOrder& order, const GaloisKeys& keys) const;

 private:
  DiagonalMatrix matrix_;
  long long unit_ = 1;                 // every offset is a multiple of unit_ slots
  std::vector<long long> baby_steps_;  // in slots, each in [0, giant)
  std::vector<long long> giant_steps_;
  long long giant_ = 1;
  std::vector<u64> galois_elements_;
};

}  // namespace cipherlm
