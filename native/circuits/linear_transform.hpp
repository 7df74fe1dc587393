// A DiagonalMatrix applied to a ciphertext: baby-step giant-step over its offsets, the baby
// rotations hoisted (one decomposition), the products accumulated before a single rescale.
#pragma once
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "circuits/diagonal_matrix.hpp"
#include "circuits/slot_order.hpp"
#include "ckks/encoder.hpp"

namespace cipherlm {

class LinearTransform {
 public:
  LinearTransform(DiagonalMatrix matrix, const SlotOrder& order);
  LinearTransform(LinearTransform&& other) noexcept
      : matrix_(std::move(other.matrix_)), baby_steps_(std::move(other.baby_steps_)), giant_steps_(std::move(other.giant_steps_)),
        galois_elements_(std::move(other.galois_elements_)) {}

  // Galois elements the transform rotates by (keys for all of them are needed).
  const std::vector<u64>& galois_elements() const { return galois_elements_; }

  // factor * matrix applied to x's slots. The diagonals are encoded at plaintext_scale, so the
  // result has scale x.scale * plaintext_scale / q_level at level x.level - 1. The encoded diagonals
  // of the last (factor, plaintext_scale, level) are kept: bootstrapping repeats the same call, and
  // encoding costs as much as the products.
  Ciphertext apply(const Ciphertext& x, Complex factor, double plaintext_scale, const Encoder& encoder,
                   const SlotOrder& order, const GaloisKeys& keys) const;

 private:
  DiagonalMatrix matrix_;
  std::vector<long long> baby_steps_;  // in slots, each in [0, giant)
  std::vector<long long> giant_steps_;
  std::vector<u64> galois_elements_;

  struct EncodedDiagonals {
    Complex factor = 0;
    double plaintext_scale = 0;
    std::size_t level = 0;
    std::map<std::pair<long long, long long>, Plaintext> plaintexts;  // by (giant, baby) step
  };
  mutable std::mutex cache_mutex_;
  mutable std::shared_ptr<const EncodedDiagonals> cache_;
  std::shared_ptr<const EncodedDiagonals> encoded(Complex factor, double plaintext_scale, std::size_t level,
                                                  const Encoder& encoder, const SlotOrder& order) const;
};

}  // namespace cipherlm
