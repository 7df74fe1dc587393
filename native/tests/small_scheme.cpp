#include "tests/small_scheme.hpp"

#include <memory>

#include "ring/primes.hpp"
#include "rlwe/keygen.hpp"

namespace cipherlm::tests {

namespace {

ContextPtr small_context() {
  constexpr std::size_t kRingDegree = 4096;
  const std::vector<u64> primes = ntt_primes_from_bit_sizes(kRingDegree, {50, 40, 40, 50});
  Parameters parameters;
  parameters.ring_degree = kRingDegree;
  parameters.data_primes.assign(primes.begin(), primes.end() - 1);
  parameters.special_primes.assign(primes.end() - 1, primes.end());
  parameters.allow_insecure_for_tests_only = true;
  return std::make_shared<const Context>(parameters, 1);
}

}  // namespace

SmallScheme::SmallScheme()
    : context(small_context()),
      encoder(context),
      secret_key(generate_secret_key(context, 0)),
      public_key(generate_public_key(secret_key)),
      relin_key(generate_relin_key(secret_key)),
      galois_keys(generate_galois_keys(secret_key, galois_elements_for(*context, {1}, false))) {}

std::vector<double> random_slots(std::size_t slots, std::mt19937_64& random) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> values(slots);
  for (double& v : values) v = uniform(random);
  return values;
}

}  // namespace cipherlm::tests
