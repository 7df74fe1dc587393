// Canonical scales: every ciphertext a kernel makes at level l has the scale s_l, with s_top the
// scale of fresh inputs and bootstrap outputs and s_(l-1) = s_l^2 / q_l. Products of two canonical
// ciphertexts at level l, and products by plaintexts encoded at s_l, then land exactly on s_(l-1)
// after one rescale, so values from different paths add without scale adjustments. Moving a
// ciphertext to a lower level (with a constant factor) is one constant multiplication, exact.
#pragma once
#include <cstddef>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm::kernels {

class LevelScales {
 public:
  LevelScales(ContextPtr context, std::size_t top, double top_scale);

  std::size_t top() const { return scales_.size() - 1; }
  double at(std::size_t level) const;
  // Whether ct's scale is the canonical one of its level.
  bool canonical(const Ciphertext& ct) const;
  void require_canonical(const Ciphertext& ct, const char* what) const;

  // factor * ct at `level` (below ct.level) with that level's canonical scale: drops to level + 1,
  // multiplies by the constant encoded at the scale that lands exactly on s_level, rescales.
  // Refuses a factor so small that the integer multiplier would lose precision (below 2^20).
  Ciphertext lower(const Ciphertext& ct, std::size_t level, double factor = 1.0) const;
  // ct at `level` with the canonical scale: a drop when it is already canonical there, else lower().
  Ciphertext to_level(const Ciphertext& ct, std::size_t level) const;

 private:
  ContextPtr context_;
  std::vector<double> scales_;
};

}  // namespace cipherlm::kernels
