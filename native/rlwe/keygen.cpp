#include "rlwe/keygen.hpp"

#include <algorithm>
#include <numeric>

#include "ring/error.hpp"
#include "rlwe/sampling.hpp"
#include "rlwe/secure_memory.hpp"

namespace cipherlm {

namespace {

std::vector<std::size_t> all_primes(const Context& context) {
  std::vector<std::size_t> primes(context.prime_count());
  std::iota(primes.begin(), primes.end(), 0);
  return primes;
}

// b = -a s + e over every prime, a uniform: the common core of public and key-switching keys.
void rlwe_sample(const SecretKey& secret, Prng& prng, u64* b, u64* a) {
  const Context& context = *secret.context;
  const std::size_t n = context.ring_degree(), limbs = context.prime_count();
  const std::vector<std::size_t> primes = all_primes(context);
  sample_uniform_ntt(prng, context, primes.data(), limbs, a);
  SecureVector<std::int64_t> error(n);
  sample_gaussian(prng, n, error.data());
  small_to_ntt(context, error.data(), primes.data(), limbs, b);
  context.pool()->parallel_for(limbs, [&](std::size_t k) {
    const Modulus& q = context.modulus(k);
    const u64* s = secret.data.data() + k * n;
    u64* bk = b + k * n;
    const u64* ak = a + k * n;
    for (std::size_t i = 0; i < n; ++i) bk[i] = sub_mod(bk[i], mul_mod(ak[i], s[i], q), q.value);
  });
}

}  // namespace

SecretKey generate_secret_key(const ContextPtr& context, std::size_t hamming_weight) {
  const std::size_t n = context->ring_degree();
  SecretKey key;
  key.context = context;
  key.hamming_weight = hamming_weight;
  Prng prng;
  SecureVector<std::int64_t> coefficients(n);
  if (hamming_weight == 0) {
    sample_ternary(prng, n, coefficients.data());
  } else {
    sample_fixed_hamming_weight(prng, n, hamming_weight, coefficients.data());
  }
  key.data.resize(context->prime_count() * n);
  const std::vector<std::size_t> primes = all_primes(*context);
  small_to_ntt(*context, coefficients.data(), primes.data(), primes.size(), key.data.data());
  return key;
}

PublicKey generate_public_key(const SecretKey& secret) {
  const Context& context = *secret.context;
  const std::size_t size = context.prime_count() * context.ring_degree();
  PublicKey key;
  key.context = secret.context;
  key.data.resize(2 * size);
  Prng prng;
  rlwe_sample(secret, prng, key.data.data(), key.data.data() + size);
  return key;
}

KeySwitchKey generate_key_switch_key(const SecretKey& secret, const u64* target_secret) {
  const Context& context = *secret.context;
  const std::size_t n = context.ring_degree(), limbs = context.prime_count();
  KeySwitchKey key;
  key.context = secret.context;
  key.digits = context.key_switch_digits();
  key.data.resize(key.digits * 2 * limbs * n);
  Prng prng;
  for (std::size_t d = 0; d < key.digits; ++d) {
    u64* b = key.part(d, 0, 0);
    rlwe_sample(secret, prng, b, key.part(d, 1, 0));
    // Add P * s' on the data primes of this digit; the CRT gadget factor is 1 there and 0 elsewhere.
    const std::size_t first = d * context.digit_size();
    const std::size_t last = std::min(first + context.digit_size(), context.data_prime_count());
    for (std::size_t i = first; i < last; ++i) {
      const Modulus& q = context.modulus(i);
      const u64 factor = context.special_product_mod(i);
      const u64 factor_shoup = shoup_precompute(factor, q.value);
      u64* bi = b + i * n;
      const u64* t = target_secret + i * n;
      for (std::size_t c = 0; c < n; ++c) bi[c] = add_mod(bi[c], mul_shoup(t[c], factor, factor_shoup, q.value), q.value);
    }
  }
  return key;
}

RelinKey generate_relin_key(const SecretKey& secret) {
  const Context& context = *secret.context;
  const std::size_t n = context.ring_degree(), limbs = context.prime_count();
  SecureVector<u64> square(limbs * n);
  for (std::size_t k = 0; k < limbs; ++k) {
    const Modulus& q = context.modulus(k);
    const u64* s = secret.data.data() + k * n;
    for (std::size_t i = 0; i < n; ++i) square[k * n + i] = mul_mod(s[i], s[i], q);
  }
  return RelinKey{generate_key_switch_key(secret, square.data())};
}

GaloisKeys generate_galois_keys(const SecretKey& secret, const std::vector<u64>& galois_elements) {
  const Context& context = *secret.context;
  const std::size_t n = context.ring_degree(), limbs = context.prime_count();
  GaloisKeys keys;
  keys.context = secret.context;
  SecureVector<u64> rotated(limbs * n);
  for (u64 element : galois_elements) {
    require(element % 2 == 1 && element < 2 * n, ErrorCode::InvalidArgument, "Galois element must be odd and below 2N");
    if (keys.keys.count(element)) continue;
    const auto permutation = context.automorphism_permutation(element);
    for (std::size_t k = 0; k < limbs; ++k) {
      const u64* s = secret.data.data() + k * n;
      u64* r = rotated.data() + k * n;
      for (std::size_t i = 0; i < n; ++i) r[i] = s[(*permutation)[i]];
    }
    keys.keys.emplace(element, generate_key_switch_key(secret, rotated.data()));
  }
  return keys;
}

std::vector<u64> galois_elements_for(const Context& context, const std::vector<long long>& steps, bool conjugate) {
  std::vector<u64> elements;
  for (long long step : steps) {
    const u64 element = context.galois_element_for_step(step);
    if (element != 1 && std::find(elements.begin(), elements.end(), element) == elements.end()) elements.push_back(element);
  }
  if (conjugate) elements.push_back(context.conjugation_element());
  return elements;
}

}  // namespace cipherlm
