// The implementations timed: cipherlm's engine always, Microsoft SEAL when the benchmark was built
// against an install of it (CIPHERLM_BENCH_WITH_SEAL).
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "bench_setup.hpp"

namespace cipherlm::bench {

// A row for every op in kOps, 1 thread. `primes`: data primes, then the special prime.
std::vector<Row> time_cipherlm(const BenchParameters& parameters, const std::vector<std::uint64_t>& primes, int reps,
                               std::ostream& log);

// SEAL's version and whether it uses Intel HEXL.
std::string seal_description();
// Refuses to time SEAL if CoeffModulus::Create(N, bits) does not give `primes`.
std::vector<Row> time_seal(const BenchParameters& parameters, const std::vector<std::uint64_t>& primes, int reps,
                           std::ostream& log);

}  // namespace cipherlm::bench
