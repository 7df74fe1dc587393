// A DiagonalMatrix applied to a ciphertext: baby-step giant-step over its offsets, double hoisted
// (Bossuat, Troncoso-Pastoriza, Hubaux, Eurocrypt 2021): the baby rotations share one decomposition
// and stay over Q_l P (extended_ciphertext.hpp), the inner sums are made there, and each giant step
// divides by P once (its c1, to switch it) while c0 and the sum of the giants stay over Q_l P until
// one division and one rescale at the end.
// Two ways to lay out the giant steps:
//  - fewest rotations (baby_steps 0): the giant step that needs the fewest rotations in all, each
//    giant rotation with a key of its own;
//  - fewest keys (baby_steps g): g babies of the matrix's unit offset and giant steps of g units,
//    summed by Horner's rule (I_0 + rot_G(I_1 + rot_G(I_2 + ...)), and the same with -G for the
//    negative giants), so the giants need the keys of +G and -G only, for the same number of rotations.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "circuits/diagonal_matrix.hpp"
#include "circuits/slot_order.hpp"
#include "ckks/encoder.hpp"
#include "ckks/extended_ciphertext.hpp"

namespace cipherlm {

class LinearTransform {
 public:
  // compact: keep the encoded diagonals as integer coefficients (one word per coefficient instead of
  // one per coefficient and prime) and bring each to NTT form per prime when used: much less memory
  // for one NTT per diagonal and prime per application.
  LinearTransform(DiagonalMatrix matrix, const SlotOrder& order, std::size_t baby_steps = 0, bool compact = false);
  LinearTransform(LinearTransform&& other) noexcept
      : matrix_(std::move(other.matrix_)), compact_(other.compact_), horner_(other.horner_), giant_(other.giant_),
        baby_steps_(std::move(other.baby_steps_)), giant_steps_(std::move(other.giant_steps_)),
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
  // One encoded diagonal: an NTT-form plaintext and its residues on the special primes (NTT form,
  // one limb per prime), or (compact) its signed integer coefficients.
  struct Diagonal {
    Plaintext plaintext;
    std::vector<u64> special;
    std::vector<std::int64_t> coefficients;
  };
  struct EncodedDiagonals {
    Complex factor = 0;
    double plaintext_scale = 0;
    std::size_t level = 0;
    std::map<std::pair<long long, long long>, Diagonal> diagonals;  // by (giant, baby) step
  };

  std::shared_ptr<const EncodedDiagonals> encoded(Complex factor, double plaintext_scale, std::size_t level,
                                                  const Encoder& encoder, const SlotOrder& order,
                                                  std::size_t special_primes) const;
  // sum += sum over babies b of diagonal(giant, b) * babies[b], over Q_l P (sum at the babies' level,
  // at their scale times the plaintext scale).
  void add_inner_sum(const EncodedDiagonals& diagonals, long long giant, const std::vector<ExtendedCiphertext>& babies,
                     ExtendedCiphertext& sum) const;

  DiagonalMatrix matrix_;
  bool compact_ = false;
  bool horner_ = false;
  long long giant_ = 0;                 // the giant step (slots) of the Horner layout
  std::vector<long long> baby_steps_;   // in slots, each in [0, giant)
  std::vector<long long> giant_steps_;  // multiples of the giant step, ascending
  std::vector<u64> galois_elements_;

  mutable std::mutex cache_mutex_;
  mutable std::shared_ptr<const EncodedDiagonals> cache_;
};

}  // namespace cipherlm
