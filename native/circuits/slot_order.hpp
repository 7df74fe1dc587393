// Our slots follow SEAL: slot j holds m(zeta^(3^j)). Bootstrapping works in the power-of-5 order,
// slot j = m(zeta^(5^j)), where decoding is C-linear in the packed coefficients and a shift by r
// slots is the single automorphism X -> X^(5^r). Since Z*_2N = <5> x <-1> and 3^j = +-5^k, each
// standard slot is a power-of-5 slot or its conjugate.
#pragma once
#include <complex>
#include <cstddef>
#include <vector>

#include "ring/modarith.hpp"

namespace cipherlm {

class SlotOrder {
 public:
  explicit SlotOrder(std::size_t ring_degree);

  // Values given in the power-of-5 order, rearranged into the encoder's (power-of-3) order.
  std::vector<std::complex<double>> to_standard(const std::vector<std::complex<double>>& power_of_five) const;
  // The Galois element that shifts power-of-5 slots left by `offset`: 5^offset mod 2N.
  u64 galois_element(long long offset) const;
  std::size_t slots() const { return slots_; }

 private:
  std::size_t ring_degree_, slots_;
  std::vector<std::size_t> source_;  // standard slot j takes power-of-5 slot source_[j]
  std::vector<bool> conjugated_;     // ... conjugated when 3^j = -5^k
};

}  // namespace cipherlm
