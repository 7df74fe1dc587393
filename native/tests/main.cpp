// Runs the engine's C++ tests on fresh random inputs; the seed is printed so that a failure can be
// reproduced with `engine_tests <seed>`. Exit code 0 and the closing line "engine tests: all N
// checks passed" mean success (test/engine.test.ts asserts both).
#include <exception>
#include <iostream>
#include <random>
#include <string>

#include "ring/cpu_features.hpp"
#include "ring/uint128.hpp"
#include "tests/suites.hpp"

int main(int argc, char** argv) {
  using namespace cipherlm::tests;
  const unsigned long long seed = argc > 1 ? std::stoull(argv[1]) : std::random_device{}();
  std::cout << "engine tests: seed " << seed << '\n';
  // What this build runs, so that a log shows which branches were tested.
  std::cout << "engine tests: 128-bit arithmetic " << cipherlm::kUInt128Implementation << ", SIMD paths portable"
            << (cipherlm::cpu_supports(cipherlm::SimdPath::Avx2) ? " avx2" : "")
            << (cipherlm::cpu_supports(cipherlm::SimdPath::Avx512Ifma) ? " avx512ifma" : "") << '\n';
  std::mt19937_64 random(seed);
  Checks checks;
  const struct {
    const char* name;
    void (*run)(Checks&, std::mt19937_64&);
  } suites[] = {
      {"uint128", uint128_suite},
      {"ntt", ntt_suite},
      {"elementwise", elementwise_suite},
      {"dot product", dot_product_suite},
      {"memory pool", memory_pool_suite},
      {"encoding cache", encoding_cache_suite},
      {"ckks round trip", ckks_round_trip_suite},
      {"serialization", serialization_suite},
      {"linear transform", linear_transform_suite},
  };
  for (const auto& suite : suites) {
    const int before = checks.count();
    try {
      suite.run(checks, random);
    } catch (const std::exception& error) {
      checks.expect(false, std::string(suite.name) + " threw: " + error.what());
    }
    std::cout << suite.name << ": " << checks.count() - before << " checks\n";
  }
  if (checks.failed() > 0) {
    std::cout << "engine tests: " << checks.failed() << " of " << checks.count() << " checks failed\n";
    return 1;
  }
  std::cout << "engine tests: all " << checks.count() << " checks passed\n";
  return 0;
}
