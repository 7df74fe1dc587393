// Linear transforms (baby-step giant-step, double hoisted) against the same matrix-vector product in
// float64, on fresh random diagonals and inputs: both giant-step layouts, plaintext and compact
// diagonals, with three digits and two special primes so that every division by P is exercised.
#include <cmath>
#include <complex>
#include <iostream>
#include <string>
#include <vector>

#include "circuits/linear_transform.hpp"
#include "ckks/encoder.hpp"
#include "ring/primes.hpp"
#include "rlwe/encryptor.hpp"
#include "rlwe/keygen.hpp"
#include "tests/suites.hpp"

namespace cipherlm::tests {

namespace {

// The fresh encryption's error (about 2^-23 of a slot at scale 2^40) times the matrix's row sums
// (up to 12 here), plus key switching and rescaling: the worst of 2048 slots measured 20-22 bits.
// 15 bits still fails on any real error (a wrong rotation or a missing P destroys the result).
constexpr double kMinimumBits = 15.0;

ContextPtr transform_context() {
  constexpr std::size_t kRingDegree = 4096;
  const std::vector<u64> primes = ntt_primes_from_bit_sizes(kRingDegree, {55, 45, 45, 45, 50, 50});
  Parameters parameters;
  parameters.ring_degree = kRingDegree;
  parameters.data_primes.assign(primes.begin(), primes.begin() + 4);
  parameters.special_primes.assign(primes.begin() + 4, primes.end());
  parameters.key_switch_digits = 3;
  parameters.allow_insecure_for_tests_only = true;
  return std::make_shared<const Context>(parameters, 2);
}

}  // namespace

void linear_transform_suite(Checks& checks, std::mt19937_64& random) {
  const ContextPtr context = transform_context();
  const Encoder encoder(context);
  const SlotOrder order(context->ring_degree());
  const std::size_t slots = context->slot_count(), top = context->max_level();
  const SecretKey secret = generate_secret_key(context, 0);
  const PublicKey public_key = generate_public_key(secret);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  const auto random_vector = [&] {
    std::vector<Complex> v(slots);
    for (Complex& z : v) z = Complex(uniform(random), uniform(random));
    return v;
  };
  // Offsets of both signs, near and far, and some in the same giant step.
  const long long offsets[] = {0, 1, 2, 3, 5, 8, -1, -4, -7, 64, -100, 513};
  DiagonalMatrix matrix(slots);
  for (long long r : offsets) matrix.add_to_diagonal(r, random_vector());
  const std::vector<Complex> x = random_vector();  // in the power-of-5 order
  std::vector<Complex> expected(slots, 0.0);
  for (const auto& [offset, diagonal] : matrix.diagonals())
    for (std::size_t p = 0; p < slots; ++p) expected[p] += diagonal[p] * x[(p + offset) % slots];
  const std::vector<Complex> expected_standard = order.to_standard(expected);
  const std::vector<Complex> x_standard = order.to_standard(x);
  const Ciphertext input = encrypt_public(public_key, encoder.encode(x_standard.data(), slots, std::ldexp(1.0, 40), top));
  const double plaintext_scale = static_cast<double>(context->modulus(top).value);

  for (const std::size_t baby_steps : {std::size_t{0}, std::size_t{4}}) {
    for (const bool compact : {false, true}) {
      const LinearTransform transform(matrix, order, baby_steps, compact);
      const GaloisKeys keys = generate_galois_keys(secret, transform.galois_elements());
      const Ciphertext result = transform.apply(input, 1.0, plaintext_scale, encoder, order, keys);
      std::vector<Complex> decoded(slots);
      encoder.decode(decrypt(secret, result), decoded.data());
      double worst = 0;
      for (std::size_t j = 0; j < slots; ++j) worst = std::max(worst, std::abs(decoded[j] - expected_standard[j]));
      const double bits = -std::log2(worst);
      const std::string name = std::string(baby_steps == 0 ? "fewest rotations" : "Horner giants") +
                               (compact ? ", compact diagonals" : ", plaintext diagonals");
      std::cout << "linear transform (" << name << "): " << bits << " bits of precision (at least " << kMinimumBits
                << " required)\n";
      checks.expect(result.level == top - 1, name + ": one level spent");
      checks.expect(std::fabs(result.scale / std::ldexp(1.0, 40) - 1) < 1e-9, name + ": the input's scale back");
      checks.expect(bits >= kMinimumBits, name + ": " + std::to_string(bits) + " bits < " + std::to_string(kMinimumBits));
    }
  }
}

}  // namespace cipherlm::tests
