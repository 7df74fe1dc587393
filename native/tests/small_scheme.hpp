// A small CKKS instance shared by the tests: N = 4096, primes of 50, 40, 40 bits and a 50-bit special
// prime, with every key. Far below 128-bit security, hence the engine's explicit insecure opt-in.
#pragma once
#include <random>
#include <vector>

#include "ckks/encoder.hpp"
#include "rlwe/objects.hpp"

namespace cipherlm::tests {

constexpr double kTestScale = 1ull << 40;

struct SmallScheme {
  ContextPtr context;
  Encoder encoder;
  SecretKey secret_key;
  PublicKey public_key;
  RelinKey relin_key;
  GaloisKeys galois_keys;  // rotation by one slot

  SmallScheme();
};

// Uniform in [-1, 1), one value per slot.
std::vector<double> random_slots(std::size_t slots, std::mt19937_64& random);

}  // namespace cipherlm::tests
