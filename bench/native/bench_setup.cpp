#include "bench_setup.hpp"

#include <algorithm>
#include <cmath>

namespace cipherlm::bench {

std::vector<int> BenchParameters::all_bits() const {
  std::vector<int> bits = data_bits;
  bits.insert(bits.end(), special_bits.begin(), special_bits.end());
  return bits;
}

const std::vector<BenchParameters>& all_bench_parameters() {
  static const std::vector<BenchParameters> parameters = {
      {8192, {50, 40, 40, 40}, {48}, 218, 31},
      {16384, {50, 40, 40, 40, 40, 40, 40, 40, 40}, {50}, 438, 15},
      {32768, {50, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40}, {50}, 881, 7},
  };
  return parameters;
}

std::vector<double> random_vector(std::size_t n, std::uint32_t seed) {
  std::uint32_t state = seed == 0 ? 1 : seed;
  std::vector<double> values(n);
  for (double& v : values) {
    state = state * 1664525u + 1013904223u;
    v = state / 4294967296.0 * 2 - 1;
  }
  return values;
}

double max_product_error(const std::vector<double>& decoded, const std::vector<double>& x, const std::vector<double>& y) {
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(decoded[i] - x[i] * y[i]));
  return worst;
}

}  // namespace cipherlm::bench
