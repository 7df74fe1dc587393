// The engine test suites; main.cpp runs each with one shared random generator.
#pragma once
#include <random>

#include "tests/checks.hpp"

namespace cipherlm::tests {

void uint128_suite(Checks& checks, std::mt19937_64& random);
void ntt_suite(Checks& checks, std::mt19937_64& random);
void elementwise_suite(Checks& checks, std::mt19937_64& random);
void dot_product_suite(Checks& checks, std::mt19937_64& random);
void memory_pool_suite(Checks& checks, std::mt19937_64& random);
void encoding_cache_suite(Checks& checks, std::mt19937_64& random);
void ckks_round_trip_suite(Checks& checks, std::mt19937_64& random);
void serialization_suite(Checks& checks, std::mt19937_64& random);
void linear_transform_suite(Checks& checks, std::mt19937_64& random);

}  // namespace cipherlm::tests
