// A linear map on slot vectors stored by its nonzero generalized diagonals:
// y[p] = sum over offsets r of D_r[p] * x[(p + r) mod n]. Offsets are rotation steps in the
// power-of-5 slot order (see slot_order.hpp), so each offset costs one Galois automorphism.
#pragma once
#include <complex>
#include <cstddef>
#include <map>
#include <vector>

namespace cipherlm {

using Complex = std::complex<double>;

class DiagonalMatrix {
 public:
  explicit DiagonalMatrix(std::size_t slots) : slots_(slots) {}

  std::size_t slots() const { return slots_; }
  // Offsets in [0, slots).
  const std::map<std::size_t, std::vector<Complex>>& diagonals() const { return diagonals_; }
  // Adds `values` to diagonal `offset` (any integer; taken mod slots).
  void add_to_diagonal(long long offset, const std::vector<Complex>& values);
  // this after `first`: x -> this(first(x)). Diagonals that cancel out are dropped.
  DiagonalMatrix after(const DiagonalMatrix& first) const;

 private:
  std::size_t slots_;
  std::map<std::size_t, std::vector<Complex>> diagonals_;
};

}  // namespace cipherlm
