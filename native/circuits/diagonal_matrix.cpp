#include "circuits/diagonal_matrix.hpp"

#include <algorithm>
#include <cmath>

namespace cipherlm {

void DiagonalMatrix::add_to_diagonal(long long offset, const std::vector<Complex>& values) {
  const long long n = static_cast<long long>(slots_);
  const std::size_t key = static_cast<std::size_t>(((offset % n) + n) % n);
  auto found = diagonals_.find(key);
  if (found == diagonals_.end()) {
    diagonals_.emplace(key, values);
    return;
  }
  for (std::size_t p = 0; p < slots_; ++p) found->second[p] += values[p];
}

DiagonalMatrix DiagonalMatrix::after(const DiagonalMatrix& first) const {
  DiagonalMatrix result(slots_);
  std::vector<Complex> product(slots_);
  double largest = 0;
  for (const auto& [r, a] : diagonals_) {
    for (const auto& [s, b] : first.diagonals_) {
      // (A B)_{r+s}[p] += A_r[p] * B_s[p + r]
      for (std::size_t p = 0; p < slots_; ++p) product[p] = a[p] * b[(p + r) % slots_];
      result.add_to_diagonal(static_cast<long long>(r + s), product);
    }
  }
  for (const auto& [r, d] : result.diagonals_)
    for (const Complex& v : d) largest = std::max(largest, std::abs(v));
  // Exact cancellations leave rounding residue; such a diagonal would cost a rotation for nothing.
  for (auto it = result.diagonals_.begin(); it != result.diagonals_.end();) {
    double size = 0;
    for (const Complex& v : it->second) size = std::max(size, std::abs(v));
    it = size <= 1e-12 * largest ? result.diagonals_.erase(it) : std::next(it);
  }
  return result;
}

}  // namespace cipherlm
