// What both implementations are timed on: the parameters, operations, inputs and row shape of
// bench/ops.ts, so that the rows of `npm run bench:native` and `npm run bench:ops` line up.
#pragma once
#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace cipherlm::bench {

struct BenchParameters {
  std::size_t ring_degree;
  std::vector<int> data_bits;
  std::vector<int> special_bits;
  int bound_128;  // the HE standard's largest log2(QP) at 128 bits
  int reps;

  // Bit sizes in SEAL's CoeffModulus::Create order: data primes, then the special prime.
  std::vector<int> all_bits() const;
};

const std::vector<BenchParameters>& all_bench_parameters();

constexpr double kScale = 1ull << 40;
constexpr std::array<const char*, 8> kOps = {"encode", "encrypt", "decrypt", "add", "multiply_plain",
                                             "multiply_relinearize", "rescale", "rotate"};

struct Row {
  std::string op;
  std::size_t ring_degree;
  std::string impl;
  int threads;
  double median_ms;
};

// bench/ops.ts's inputs: a 32-bit LCG, values in [-1, 1).
std::vector<double> random_vector(std::size_t n, std::uint32_t seed);

// Largest |decoded - x * y| an implementation's multiply + relinearize + rescale may show before the
// benchmark refuses to time it (as bench/ops.ts does).
constexpr double kSanityTolerance = 1e-3;
double max_product_error(const std::vector<double>& decoded, const std::vector<double>& x, const std::vector<double>& y);

}  // namespace cipherlm::bench
