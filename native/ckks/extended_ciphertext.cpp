#include "ckks/extended_ciphertext.hpp"

#include <cmath>

#include "ckks/evaluator.hpp"
#include "ckks/key_groups.hpp"
#include "ring/elementwise.hpp"
#include "ring/error.hpp"
#include "rlwe/keyswitch.hpp"

namespace cipherlm {

namespace {

// An extended ciphertext's storage, zeroed, or left uninitialised for a result about to be written in full.
ExtendedCiphertext extended_buffer(const ContextPtr& context, std::size_t level, double scale, bool zeroed) {
  ExtendedCiphertext r;
  r.context = context;
  r.level = level;
  r.scale = scale;
  const std::size_t words = 2 * (level + 1 + context->special_prime_count()) * context->ring_degree();
  r.data = zeroed ? context->allocate_zeroed(words) : context->allocate(words);
  return r;
}

}  // namespace

ExtendedCiphertext extended_zero(const ContextPtr& context, std::size_t level, double scale) {
  return extended_buffer(context, level, scale, true);
}

ExtendedCiphertext extend(const Ciphertext& x) {
  require(x.size == 2, ErrorCode::InvalidArgument, "only a ciphertext of size 2 can be extended (relinearize first)");
  const Context& context = *x.context;
  const std::size_t n = context.ring_degree(), limbs = x.limbs();
  ExtendedCiphertext r = extended_buffer(x.context, x.level, x.scale, false);
  context.pool()->parallel_for(r.limbs(), [&](std::size_t t) {
    for (std::size_t p = 0; p < 2; ++p) {
      u64* out = r.limb(p, t);
      if (t >= limbs) {
        std::fill(out, out + n, 0);
        continue;
      }
      const u64 q = context.modulus(t).value, factor = context.special_product_mod(t);
      const u64 factor_shoup = shoup_precompute(factor, q);
      const u64* in = x.limb(p, t);
      for (std::size_t c = 0; c < n; ++c) out[c] = mul_shoup(in[c], factor, factor_shoup, q);
    }
  });
  return r;
}

std::vector<ExtendedCiphertext> apply_galois_hoisted_extended(const Ciphertext& x, const std::vector<u64>& galois_elements,
                                                              const GaloisKeys& keys) {
  require(x.context.get() == keys.context.get(), ErrorCode::ParameterMismatch, "ciphertext and Galois keys of different contexts");
  require(x.size == 2, ErrorCode::InvalidArgument, "rotation needs a ciphertext of size 2 (relinearize first)");
  const Context& context = *x.context;
  std::vector<const KeySwitchKey*> all_keys(galois_elements.size(), nullptr);
  for (std::size_t e = 0; e < galois_elements.size(); ++e) {
    if (galois_elements[e] != 1) all_keys[e] = &find_galois_key(keys, galois_elements[e]);
  }
  const Decomposition decomposition = decompose(context, x.poly(1), x.level);
  std::vector<ExtendedCiphertext> results(galois_elements.size());
  for_each_key_group(
      galois_elements, [&](std::size_t e) { results[e] = extend(x); },
      [&](const std::vector<std::size_t>& group) {
        std::vector<const KeySwitchKey*> group_keys(group.size());
        std::vector<std::shared_ptr<const std::vector<std::uint32_t>>> permutations(group.size());
        std::vector<ExtendedKeySwitchOutput> outputs(group.size());
        for (std::size_t k = 0; k < group.size(); ++k) {
          const std::size_t e = group[k];
          group_keys[k] = all_keys[e];
          permutations[k] = context.automorphism_permutation(galois_elements[e]);
          results[e] = extended_buffer(x.context, x.level, x.scale, false);
          outputs[k].first = results[e].poly(0);
          outputs[k].second = results[e].poly(1);
          outputs[k].addend = x.poly(0);
          outputs[k].permutation = permutations[k]->data();
        }
        key_switch_decomposed_extended(context, decomposition, group_keys, outputs);
      });
  return results;
}

ExtendedCiphertext apply_galois_extended(ExtendedCiphertext&& x, u64 galois_element, const GaloisKeys& keys) {
  require(x.context.get() == keys.context.get(), ErrorCode::ParameterMismatch, "ciphertext and Galois keys of different contexts");
  const Context& context = *x.context;
  const std::size_t n = context.ring_degree();
  const KeySwitchKey& key = find_galois_key(keys, galois_element);
  PolyBuffer c1 = context.allocate((x.level + 1) * n);
  divide_by_special_primes(context, x.poly(1), x.level, c1.data());
  const auto permutation = context.automorphism_permutation(galois_element);
  // In place: c1 is spent, and c0 (the addend) is read limb by limb before that limb is written.
  ExtendedKeySwitchOutput output;
  output.first = x.poly(0);
  output.second = x.poly(1);
  output.extended_addend = x.poly(0);
  output.permutation = permutation->data();
  key_switch_extended(context, c1.data(), x.level, key, output);
  return std::move(x);
}

void add_to(ExtendedCiphertext& a, const ExtendedCiphertext& b) {
  require(a.context.get() == b.context.get(), ErrorCode::ParameterMismatch, "operands of different contexts");
  require(a.level == b.level, ErrorCode::LevelMismatch, "operands at different levels");
  require(std::fabs(a.scale / b.scale - 1) < kScaleTolerance, ErrorCode::ScaleMismatch, "operands at different scales");
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree(), limbs = a.limbs();
  context.pool()->parallel_for(limbs, [&](std::size_t t) {
    const u64 q = context.modulus(t <= a.level ? t : context.special_limb(t - a.level - 1)).value;
    for (std::size_t p = 0; p < 2; ++p) add_mod_vector(a.limb(p, t), b.limb(p, t), a.limb(p, t), n, q, context.simd_path());
  });
}

Ciphertext divide_by_special_primes(ExtendedCiphertext&& x) {
  const Context& context = *x.context;
  Ciphertext r;
  r.context = x.context;
  r.level = x.level;
  r.size = 2;
  r.scale = x.scale;
  r.data = context.allocate(2 * r.limbs() * context.ring_degree());
  for (std::size_t p = 0; p < 2; ++p) divide_by_special_primes(context, x.poly(p), x.level, r.poly(p));
  return r;
}

}  // namespace cipherlm
