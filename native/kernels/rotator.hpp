// Rotations from a small set of Galois keys. A step without its own key is composed from the
// fewest keyed steps that sum to it (the pipeline keeps baby and giant steps, so any step it uses
// takes at most two rotations); the decompositions are computed once per step.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm::kernels {

class Rotator {
 public:
  explicit Rotator(std::shared_ptr<const GaloisKeys> keys);

  // Keyed steps (in [1, slots)) whose sum is `step` modulo the slot count; empty for 0: at most
  // three, or else the step's non-adjacent form when its powers of two are keyed. Throws MissingKey
  // when neither reaches it.
  std::vector<long long> decompose(long long step) const;
  Ciphertext rotate(const Ciphertext& ct, long long step) const;
  // Rotations of one ciphertext by many steps: the first keyed step of every decomposition shares
  // one decomposition of ct (hoisted); the rest follow one by one.
  std::vector<Ciphertext> rotate_many(const Ciphertext& ct, const std::vector<long long>& steps) const;

  const GaloisKeys& keys() const { return *keys_; }
  std::size_t slots() const { return slots_; }

 private:
  std::shared_ptr<const GaloisKeys> keys_;
  std::size_t slots_;
  std::vector<long long> keyed_;  // keyed rotation steps in [1, slots)
  mutable std::mutex mutex_;
  mutable std::map<long long, std::vector<long long>> decompositions_;
};

// The rotation steps a set of needed steps requires as keys when every step is composed of one
// baby step (below `giant`) and one multiple of `giant` (both in units of `unit` slots).
std::vector<long long> baby_giant_keys(long long unit, long long giant, long long count);

}  // namespace cipherlm::kernels
