#include "rlwe/keygen.hpp"

#include <algorithm>
#include <numeric>

#include "ring/error.hpp"
#include "rlwe/rotation_keys.hpp"
#include "rlwe/sampling.hpp"
#include "rlwe/secure_memory.hpp"

namespace cipherlm {

namespace {

std::vector<std::size_t> all_primes(const Context& context) {
  std::vector<std::size_t> primes(context.prime_count());
  std::iota(primes.begin(), primes.end(), 0);
  return primes;
}

// b = -a s + e on the listed primes, a from `uniform` (a seeded stream for keys, so that a can be
// regenerated), e from a fresh OS-seeded stream: the common core of public and key-switching keys.
// `secret` holds s over every prime of its context.
void rlwe_sample(const SecretKey& secret, Prng& uniform, const std::vector<std::size_t>& primes, u64* b, u64* a) {
  const Context& context = *secret.context;
  const std::size_t n = context.ring_degree(), limbs = primes.size();
  sample_uniform_ntt(uniform, context, primes.data(), limbs, a);
  Prng noise;
  SecureVector<std::int64_t> error(n);
  sample_gaussian(noise, n, error.data());
  small_to_ntt(context, error.data(), primes.data(), limbs, b);
  context.pool()->parallel_for(limbs, [&](std::size_t k) {
    const Modulus& q = context.modulus(primes[k]);
    const u64* s = secret.data.data() + primes[k] * n;
    u64* bk = b + k * n;
    const u64* ak = a + k * n;
    for (std::size_t i = 0; i < n; ++i) bk[i] = sub_mod(bk[i], mul_mod(ak[i], s[i], q), q.value);
  });
}

KeySwitchKey empty_key(const ContextPtr& context, std::size_t level, std::size_t special) {
  require(level <= context->max_level(), ErrorCode::InvalidArgument,
          "key level " + std::to_string(level) + " is above the context's top level " + std::to_string(context->max_level()));
  require(special >= 1 && special <= context->special_prime_count(), ErrorCode::InvalidArgument,
          "a key holds between one and all of the special primes");
  KeySwitchKey key;
  key.context = context;
  key.level = level;
  key.special = special;
  key.digits = context->digits_at_level(level);
  return key;
}

// The gadget factor of digit d on data prime i: P mod q_i for the key's special primes P, on the
// primes of the digit (the CRT factor (Q/Q_d)[(Q/Q_d)^-1]_{Q_d} is 1 there and 0 elsewhere).
u64 gadget_factor(const Context& context, std::size_t special, std::size_t i) {
  if (special == context.special_prime_count()) return context.special_product_mod(i);
  const Modulus& q = context.modulus(i);
  u64 product = 1;
  for (std::size_t j = 0; j < special; ++j) product = mul_mod(product, q.reduce(context.modulus(context.special_limb(j)).value), q);
  return product;
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
  Prng uniform;
  rlwe_sample(secret, uniform, all_primes(context), key.data.data(), key.data.data() + size);
  return key;
}

void expand_key_uniform(KeySwitchKey& key) {
  require(key.has_seed, ErrorCode::InvalidArgument, "the key has no seed to expand");
  Prng uniform(key.seed);
  const std::vector<std::size_t> primes = key.primes();
  for (std::size_t d = 0; d < key.digits; ++d) {
    sample_uniform_ntt(uniform, *key.context, primes.data(), primes.size(), key.part(d, 1, 0));
  }
}

KeySwitchKey generate_key_switch_key(const SecretKey& secret, const u64* target_secret, std::size_t level,
                                     std::size_t special) {
  const Context& context = *secret.context;
  const std::size_t n = context.ring_degree();
  KeySwitchKey key = empty_key(secret.context, level, special);
  const std::vector<std::size_t> primes = key.primes();
  key.data.resize(key.digits * 2 * key.limbs() * n);
  key.has_seed = true;
  key.seed = os_random_seed();
  Prng uniform(key.seed);
  for (std::size_t d = 0; d < key.digits; ++d) {
    u64* b = key.part(d, 0, 0);
    rlwe_sample(secret, uniform, primes, b, key.part(d, 1, 0));
    // Add P * s' on the data primes of this digit.
    const std::size_t last = std::min(context.digit_end(d), level + 1);
    for (std::size_t i = context.digit_first(d); i < last; ++i) {
      const Modulus& q = context.modulus(i);
      const u64 factor = gadget_factor(context, special, i);
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
  return RelinKey{generate_key_switch_key(secret, square.data(), context.max_level(), context.special_prime_count())};
}

KeySwitchKey generate_galois_key(const SecretKey& secret, u64 galois_element, std::size_t level) {
  const Context& context = *secret.context;
  const std::size_t n = context.ring_degree(), limbs = context.prime_count();
  require(galois_element % 2 == 1 && galois_element < 2 * n && galois_element != 1, ErrorCode::InvalidArgument,
          "Galois element must be odd, below 2N and not 1");
  SecureVector<u64> rotated(limbs * n);
  const auto permutation = context.automorphism_permutation(galois_element);
  for (std::size_t k = 0; k < limbs; ++k) {
    const u64* s = secret.data.data() + k * n;
    u64* r = rotated.data() + k * n;
    for (std::size_t i = 0; i < n; ++i) r[i] = s[(*permutation)[i]];
  }
  KeySwitchKey key = generate_key_switch_key(secret, rotated.data(), level, context.special_prime_count());
  to_rotation_form(key, galois_element);
  return key;
}

GaloisKeys generate_galois_keys(const SecretKey& secret, const std::vector<u64>& galois_elements) {
  std::vector<std::pair<u64, std::size_t>> at_levels;
  for (u64 element : galois_elements) at_levels.emplace_back(element, secret.context->max_level());
  return generate_galois_keys(secret, at_levels);
}

GaloisKeys generate_galois_keys(const SecretKey& secret, const std::vector<std::pair<u64, std::size_t>>& elements) {
  GaloisKeys keys;
  keys.context = secret.context;
  for (const auto& [element, level] : elements) {
    if (keys.has(element)) continue;
    keys.keys.emplace(element, std::make_shared<const KeySwitchKey>(generate_galois_key(secret, element, level)));
  }
  return keys;
}

GaloisKeys generate_sparse_secret_keys(const SecretKey& secret, std::size_t hamming_weight) {
  const ContextPtr& context = secret.context;
  require(hamming_weight >= 1 && hamming_weight <= context->ring_degree(), ErrorCode::InvalidArgument,
          "the ephemeral secret's Hamming weight must be in [1, N]");
  const SecretKey sparse = generate_secret_key(context, hamming_weight);
  GaloisKeys keys;
  keys.context = context;
  // To the sparse secret: an RLWE sample under s' modulo q_0 p_0 only (the sparse secret is never
  // used with a larger modulus). Back: under the main secret, over the whole chain.
  keys.to_sparse = std::make_shared<const KeySwitchKey>(generate_key_switch_key(sparse, secret.data.data(), 0, 1));
  keys.from_sparse = std::make_shared<const KeySwitchKey>(
      generate_key_switch_key(secret, sparse.data.data(), context->max_level(), context->special_prime_count()));
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
