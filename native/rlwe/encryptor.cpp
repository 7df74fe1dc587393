#include "rlwe/encryptor.hpp"

#include "ring/elementwise.hpp"

#include <numeric>

#include "ring/error.hpp"
#include "rlwe/sampling.hpp"
#include "rlwe/secure_memory.hpp"

namespace cipherlm {

namespace {

std::vector<std::size_t> data_primes_up_to(std::size_t level) {
  std::vector<std::size_t> primes(level + 1);
  std::iota(primes.begin(), primes.end(), 0);
  return primes;
}

void check_plaintext(const Context* context, const Plaintext& plaintext) {
  require(plaintext.context.get() == context, ErrorCode::ParameterMismatch,
          "plaintext was made under a different context than the key");
}

}  // namespace

Ciphertext encrypt_public(const PublicKey& key, const Plaintext& plaintext) {
  const Context& context = *key.context;
  check_plaintext(&context, plaintext);
  const std::size_t n = context.ring_degree(), limbs = plaintext.level + 1, key_limbs = context.prime_count();
  Ciphertext ct;
  ct.context = key.context;
  ct.level = plaintext.level;
  ct.scale = plaintext.scale;
  ct.data = ct.context->allocate(2 * limbs * n);
  Prng prng;
  const auto primes = data_primes_up_to(plaintext.level);
  std::vector<std::int64_t> small(n);
  std::vector<u64> u(limbs * n);
  sample_ternary(prng, n, small.data());
  small_to_ntt(context, small.data(), primes.data(), limbs, u.data());
  sample_gaussian(prng, n, small.data());
  small_to_ntt(context, small.data(), primes.data(), limbs, ct.poly(0));
  sample_gaussian(prng, n, small.data());
  small_to_ntt(context, small.data(), primes.data(), limbs, ct.poly(1));
  const u64* pk_b = key.data.data();
  const u64* pk_a = key.data.data() + key_limbs * n;
  context.pool()->parallel_for(limbs, [&](std::size_t k) {
    const Modulus& q = context.modulus(k);
    const u64 *uk = u.data() + k * n, *bk = pk_b + k * n, *ak = pk_a + k * n, *mk = plaintext.limb(k);
    u64 *c0 = ct.limb(0, k), *c1 = ct.limb(1, k);
    for (std::size_t i = 0; i < n; ++i) {
      c0[i] = add_mod(add_mod(c0[i], mul_mod(bk[i], uk[i], q), q.value), mk[i], q.value);
      c1[i] = add_mod(c1[i], mul_mod(ak[i], uk[i], q), q.value);
    }
  });
  return ct;
}

Ciphertext encrypt_secret(const SecretKey& key, const Plaintext& plaintext, bool seeded) {
  const Context& context = *key.context;
  check_plaintext(&context, plaintext);
  const std::size_t n = context.ring_degree(), limbs = plaintext.level + 1;
  Ciphertext ct;
  ct.context = key.context;
  ct.level = plaintext.level;
  ct.scale = plaintext.scale;
  ct.data = ct.context->allocate(2 * limbs * n);
  ct.seeded = seeded;
  ct.seed = os_random_seed();
  expand_seeded_c1(ct);
  Prng prng;
  const auto primes = data_primes_up_to(plaintext.level);
  std::vector<std::int64_t> error(n);
  sample_gaussian(prng, n, error.data());
  small_to_ntt(context, error.data(), primes.data(), limbs, ct.poly(0));
  context.pool()->parallel_for(limbs, [&](std::size_t k) {
    const Modulus& q = context.modulus(k);
    const u64 *s = key.data.data() + k * n, *a = ct.limb(1, k), *m = plaintext.limb(k);
    u64* c0 = ct.limb(0, k);
    for (std::size_t i = 0; i < n; ++i) c0[i] = sub_mod(add_mod(c0[i], m[i], q.value), mul_mod(a[i], s[i], q), q.value);
  });
  return ct;
}

void expand_seeded_c1(Ciphertext& ct) {
  Prng prng(ct.seed);
  const auto primes = data_primes_up_to(ct.level);
  sample_uniform_ntt(prng, *ct.context, primes.data(), ct.limbs(), ct.poly(1));
}

Plaintext decrypt(const SecretKey& key, const Ciphertext& ct) {
  const Context& context = *key.context;
  require(ct.context.get() == &context, ErrorCode::ParameterMismatch,
          "ciphertext was made under a different context than the secret key");
  const std::size_t n = context.ring_degree(), limbs = ct.limbs();
  Plaintext pt;
  pt.context = key.context;
  pt.level = ct.level;
  pt.scale = ct.scale;
  pt.data = pt.context->allocate(limbs * n);
  context.pool()->parallel_for(limbs, [&](std::size_t k) {
    const Modulus& q = context.modulus(k);
    const u64* s = key.data.data() + k * n;
    u64* m = pt.limb(k);
    // c0 + c1 s + c2 s^2, by Horner in s, a whole limb at a time on the SIMD path.
    const u64* last = ct.limb(ct.size - 1, k);
    std::copy(last, last + n, m);
    for (std::size_t p = ct.size - 1; p-- > 0;) {
      multiply_mod(m, s, m, n, q, context.simd_path());
      add_mod_vector(m, ct.limb(p, k), m, n, q.value, context.simd_path());
    }
  });
  return pt;
}

}  // namespace cipherlm
