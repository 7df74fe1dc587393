#include "circuits/homomorphic_dft.hpp"

#include <cmath>

#include "ring/error.hpp"

namespace cipherlm {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Butterfly twiddles of the block of size m: c_j = exp(2 pi i (5^j mod 4m) / 4m), j < m/2.
std::vector<Complex> twiddles(std::size_t m) {
  std::vector<Complex> c(m / 2);
  const std::size_t modulus = 4 * m;
  std::size_t power = 1;
  for (std::size_t j = 0; j < m / 2; ++j) {
    c[j] = std::polar(1.0, 2 * kPi * static_cast<double>(power) / static_cast<double>(modulus));
    power = (power * 5) % modulus;
  }
  return c;
}

// One butterfly stage on blocks of size m, h = m/2, as three diagonals (offsets 0, +h, -h).
// Forward: (x_j, x_{j+h}) -> (x_j + c_j x_{j+h}, x_j - c_j x_{j+h}); its inverse:
// (a, b) -> ((a + b) / 2, (a - b) conj(c_j) / 2).
DiagonalMatrix butterfly_stage(std::size_t slots, std::size_t m, bool inverse) {
  const std::size_t h = m / 2;
  const std::vector<Complex> c = twiddles(m);
  std::vector<Complex> main(slots), up(slots), down(slots);
  for (std::size_t p = 0; p < slots; ++p) {
    const std::size_t j = p % m;
    if (j < h) {
      main[p] = inverse ? 0.5 : 1.0;
      up[p] = inverse ? Complex(0.5) : c[j];
    } else {
      const Complex w = c[j - h];
      main[p] = inverse ? -0.5 * std::conj(w) : -w;
      down[p] = inverse ? 0.5 * std::conj(w) : Complex(1.0);
    }
  }
  DiagonalMatrix stage(slots);
  stage.add_to_diagonal(0, main);
  stage.add_to_diagonal(static_cast<long long>(h), up);
  stage.add_to_diagonal(-static_cast<long long>(h), down);
  return stage;
}

// Merges the stages (in application order) into `levels` groups of near-equal size, the smaller
// groups first or (larger_first) last. CoeffsToSlots takes the smaller groups first and
// SlotsToCoeffs the larger ones, so that with as many levels each SlotsToCoeffs group holds the stages
// of a CoeffsToSlots group and the two share their rotations (and keys).
std::vector<DiagonalMatrix> merge(const std::vector<DiagonalMatrix>& stages, std::size_t levels, bool larger_first) {
  require(levels >= 1 && levels <= stages.size(), ErrorCode::InvalidArgument,
          "the linear transforms need between 1 and " + std::to_string(stages.size()) + " levels");
  std::vector<DiagonalMatrix> groups;
  std::size_t next = 0;
  for (std::size_t g = 0; g < levels; ++g) {
    const std::size_t left = stages.size() - next, groups_left = levels - g;
    const std::size_t count = larger_first ? (left + groups_left - 1) / groups_left : left / groups_left;
    DiagonalMatrix group = stages[next];
    for (std::size_t s = 1; s < count; ++s) group = stages[next + s].after(group);
    groups.push_back(std::move(group));
    next += count;
  }
  return groups;
}

}  // namespace

std::vector<DiagonalMatrix> slots_to_coeffs_groups(std::size_t slots, std::size_t levels) {
  std::vector<DiagonalMatrix> stages;
  for (std::size_t m = 2; m <= slots; m *= 2) stages.push_back(butterfly_stage(slots, m, false));
  return merge(stages, levels, true);
}

std::vector<DiagonalMatrix> coeffs_to_slots_groups(std::size_t slots, std::size_t levels) {
  std::vector<DiagonalMatrix> stages;
  for (std::size_t m = slots; m >= 2; m /= 2) stages.push_back(butterfly_stage(slots, m, true));
  return merge(stages, levels, false);
}

}  // namespace cipherlm
