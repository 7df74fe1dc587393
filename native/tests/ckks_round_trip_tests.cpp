// Encrypt, multiply and relinearize, rescale, rotate, decrypt: the slots must match the same steps
// in float64 to kMinimumBits bits of precision (worst slot) on fresh random inputs.
#include <algorithm>
#include <cmath>
#include <complex>
#include <iostream>
#include <string>

#include "ckks/evaluator.hpp"
#include "rlwe/encryptor.hpp"
#include "tests/small_scheme.hpp"
#include "tests/suites.hpp"

namespace cipherlm::tests {

namespace {

// A fresh encryption at scale 2^40 carries about 2^-23 of error per slot; after these steps the worst
// of 2048 slots measured 20.5 to 23.5 bits over 100 runs. 18 bits leaves room for unlucky draws and
// still fails on any real arithmetic error (those destroy the result, not a few bits of it).
constexpr double kMinimumBits = 18.0;

}  // namespace

void ckks_round_trip_suite(Checks& checks, std::mt19937_64& random) {
  const SmallScheme scheme;
  const Context& context = *scheme.context;
  const std::size_t slots = context.slot_count(), top = context.max_level();
  const std::vector<double> x = random_slots(slots, random), y = random_slots(slots, random);

  const Ciphertext cx = encrypt_public(scheme.public_key, scheme.encoder.encode_real(x.data(), slots, kTestScale, top));
  const Ciphertext cy = encrypt_public(scheme.public_key, scheme.encoder.encode_real(y.data(), slots, kTestScale, top));
  const Ciphertext product = rescale(multiply_relinearize(cx, cy, scheme.relin_key));
  checks.expect(product.level == top - 1, "rescale drops one level");
  checks.expect(product.size == 2, "relinearization leaves two polynomials");
  const Ciphertext rotated = rotate(product, 1, scheme.galois_keys);

  std::vector<std::complex<double>> decoded(slots);
  scheme.encoder.decode(decrypt(scheme.secret_key, rotated), decoded.data());
  double worst = 0;
  for (std::size_t i = 0; i < slots; ++i) {
    const std::size_t source = (i + 1) % slots;  // rotation by 1 moves slot i + 1 to slot i
    worst = std::max(worst, std::abs(decoded[i] - std::complex<double>(x[source] * y[source], 0.0)));
  }
  const double bits = -std::log2(worst);
  std::cout << "ckks round trip: " << bits << " bits of precision (at least " << kMinimumBits << " required)\n";
  checks.expect(bits >= kMinimumBits,
                "multiply, relinearize, rescale, rotate: " + std::to_string(bits) + " bits < " + std::to_string(kMinimumBits));
}

}  // namespace cipherlm::tests
