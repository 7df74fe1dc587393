#include "rlwe/keyswitch.hpp"

#include <algorithm>

#include "ring/elementwise.hpp"
#include "ring/error.hpp"
#include "ring/multiply_accumulate.hpp"

namespace cipherlm {

// Why the fast (approximate) base conversion is enough: mod-up of digit d yields [c]_{Q_d} + u Q_d
// for a small u. The key's gadget factor F_d (P on the primes of digit d, 0 on every other prime)
// times u Q_d is 0 modulo every prime of Q_l P, so the u Q_d term vanishes from the inner product.
// The same argument covers automorphisms applied after mod-up in the hoisted path.

namespace {

std::size_t extended_limbs(const Context& context, std::size_t level) { return level + 1 + context.special_prime_count(); }

// Global prime index of extended limb t at a level.
std::size_t prime_of(const Context& context, std::size_t level, std::size_t t) {
  return t <= level ? t : context.special_limb(t - level - 1);
}

// Inverse NTT of every limb, scaled by its digit's punctured inverse: the input of every conversion.
PolyBuffer scaled_coefficients(const Context& context, const u64* poly, std::size_t level) {
  const std::size_t n = context.ring_degree();
  PolyBuffer scaled = context.allocate((level + 1) * n);
  context.pool()->parallel_for(level + 1, [&](std::size_t i) {
    u64* out = scaled.data() + i * n;
    std::copy(poly + i * n, poly + (i + 1) * n, out);
    context.ntt(i).inverse(out, context.simd_path());
    const std::size_t digit = context.digit_of(i);
    const ModUpPlan& plan = context.mod_up_plan(level, digit);
    const std::size_t position = i - context.digit_first(digit);
    plan.converter.scale_source_limb(position, out, out, n);
  });
  return scaled;
}

// Digit d of the decomposition on extended limb t, in NTT form, written to out.
void digit_limb(const Context& context, const u64* poly, const PolyBuffer& scaled, std::size_t level,
                std::size_t digit, std::size_t t, u64* out) {
  const std::size_t n = context.ring_degree();
  const std::size_t first = context.digit_first(digit);
  const ModUpPlan& plan = context.mod_up_plan(level, digit);
  const std::size_t sources = plan.source_limbs.size();
  if (t <= level && t >= first && t < first + sources) {
    std::copy(poly + t * n, poly + (t + 1) * n, out);
    return;
  }
  // Target position of t in the plan: data limbs outside the digit, then special limbs.
  const std::size_t position = t <= level ? (t < first ? t : t - sources) : (level + 1 - sources) + (t - level - 1);
  const u64* source_rows[64] = {};
  for (std::size_t s = 0; s < sources; ++s) source_rows[s] = scaled.data() + (first + s) * n;
  const std::size_t prime = prime_of(context, level, t);
  if (sources == 1 && context.modulus(first).value < 4 * context.modulus(prime).value) {
    // A one-prime digit is already below 4q, which the forward NTT takes as it is.
    context.ntt(prime).forward(source_rows[0], out, context.simd_path());
    return;
  }
  plan.converter.convert_to_target_limb(position, source_rows, out, n, context.simd_path());
  context.ntt(prime).forward(out, context.simd_path());
}

// (acc - [acc]_P converted) * P^-1 for one of the two output polynomials, extended limbs in, level
// limbs out: out = addend + result (addend optional, and may be out), permuted limb by limb when a
// permutation is given.
void mod_down(const Context& context, u64* extended, std::size_t level, u64* out, const u64* addend,
              const std::uint32_t* permutation) {
  const std::size_t n = context.ring_degree(), special = context.special_prime_count();
  const BaseConverter& converter = context.mod_down_converter();
  u64* special_limbs = extended + (level + 1) * n;
  // Rounding instead of flooring: divide acc + (P - 1)/2, then take (P - 1)/2 / P back off. A floor
  // would leave a bias of -1/2 on every coefficient, which the all-ones polynomial turns into errors
  // of order N at the slots near zeta^1.
  // One special prime p (SEAL's layout): (acc + (p - 1)/2) mod p - (p - 1)/2 is the centered
  // representative of acc mod p, taken to each q_i in one pass; the general path's offset, scaling
  // (by 1) and overflow count (always 0) reduce to that, with the same result.
  const bool one_special = special == 1;
  const u64* rows[64] = {};
  PolyBuffer overflow;
  if (one_special) {
    context.ntt(context.special_limb(0)).inverse(special_limbs, context.simd_path());
    rows[0] = special_limbs;
  } else {
    context.pool()->parallel_for(special, [&](std::size_t j) {
      u64* limb = special_limbs + j * n;
      const std::size_t prime = context.special_limb(j);
      context.ntt(prime).inverse(limb, context.simd_path());
      const u64 p = context.modulus(prime).value, half = (p - 1) / 2;  // (P - 1)/2 mod p_j
      for (std::size_t c = 0; c < n; ++c) limb[c] = add_mod(limb[c], half, p);
      converter.scale_source_limb(j, limb, limb, n);
    });
    for (std::size_t j = 0; j < special; ++j) rows[j] = special_limbs + j * n;
    // The fast conversion yields x + u P with 0 <= u < #special primes; u = floor(sum_j y_j / p_j) is
    // found in float64 and taken off, since a biased u would act like the floor above.
    overflow = context.allocate(n);
    std::vector<double> inverse_primes(special);
    for (std::size_t j = 0; j < special; ++j) inverse_primes[j] = 1.0 / static_cast<double>(context.modulus(context.special_limb(j)).value);
    for (std::size_t c = 0; c < n; ++c) {
      double sum = 0;
      for (std::size_t j = 0; j < special; ++j) sum += static_cast<double>(rows[j][c]) * inverse_primes[j];
      overflow.data()[c] = std::min<u64>(static_cast<u64>(sum), special - 1);  // sum < #special; guard the rounding
    }
  }
  context.pool()->parallel_for(level + 1, [&](std::size_t i) {
    PolyBuffer buffer = context.allocate(n);
    u64* converted = buffer.data();
    const Modulus& modulus = context.modulus(i);
    const u64 q = modulus.value;
    if (one_special) {
      centered_residue_mod(rows[0], context.modulus(context.special_limb(0)).value, converted, n, modulus,
                           context.use_avx512());
    } else {
      converter.convert_to_target_limb(i, rows, converted, n, context.simd_path());
      const u64 half = mul_mod(sub_mod(context.special_product_mod(i), 1, q), (q + 1) / 2, modulus);  // (P - 1)/2 mod q_i
      // (P - 1)/2 + u P mod q_i for each possible overflow u < #special primes.
      u64 excess[64];
      for (std::size_t u = 0; u < special; ++u) excess[u] = add_mod(half, mul_mod(u, context.special_product_mod(i), modulus), q);
      subtract_table_entries(converted, overflow.data(), excess, special, n, q, context.use_avx512());
    }
    context.ntt(i).forward(converted, context.simd_path());
    const u64 w = context.inverse_special_product(i), ws = context.inverse_special_product_shoup(i);
    const u64* acc = extended + i * n;
    u64* dst = out + i * n;
    const u64* add = addend != nullptr ? addend + i * n : nullptr;
    // With an addend or a permutation the result stays in `converted`, still in cache, for the last
    // step; permuting here saves a pass over the whole output.
    const bool direct = add == nullptr && permutation == nullptr;
    multiply_difference_by_constant(acc, converted, w, ws, direct ? dst : converted, n, q, context.use_avx512());
    if (permutation != nullptr) {
      // The addend joins in order (a stream) and the gather reads only `converted`, in cache:
      // gathering from the addend itself is random access to memory.
      if (add != nullptr) add_mod_vector(add, converted, converted, n, q, context.simd_path());
      gather(converted, permutation, dst, n, context.simd_path());
    } else if (add != nullptr) {
      add_mod_vector(add, converted, dst, n, q, context.simd_path());
    }
  });
}

void check_key(const Context& context, const KeySwitchKey& key, std::size_t level) {
  require(key.context.get() == &context, ErrorCode::ParameterMismatch, "key was made under a different context");
  require(key.special == context.special_prime_count(), ErrorCode::InvalidArgument,
          "this key switches only at level 0 (it is the sparse-secret key of bootstrapping)");
  if (key.level < level) {
    fail(ErrorCode::LevelMismatch, "the key serves ciphertexts up to level " + std::to_string(key.level) +
                                       "; this one is at level " + std::to_string(level) +
                                       ": make the key for a higher level, or lower the ciphertext first");
  }
}

// Inner products of the digits' values on extended limb t (values[d]) with each key: out0[k] and
// out1[k] for keys[k]. The values are read once for all the keys.
void inner_products_limb(const Context& context, const KeySwitchKey* const* keys, std::size_t count, std::size_t level,
                         std::size_t t, const u64* const* values, std::size_t digits, u64* const* out0,
                         u64* const* out1) {
  const std::size_t prime = prime_of(context, level, t);
  std::vector<const u64*> key_b(count * digits), key_a(count * digits);
  for (std::size_t k = 0; k < count; ++k) {
    for (std::size_t d = 0; d < digits; ++d) {
      key_b[k * digits + d] = keys[k]->part(d, 0, prime);
      key_a[k * digits + d] = keys[k]->part(d, 1, prime);
    }
  }
  dot_product_mod(values, key_b.data(), key_a.data(), digits, count, context.modulus(prime), out0, out1,
                  context.ring_degree(), context.use_ifma(prime));
}

void inner_product_limb(const Context& context, const KeySwitchKey& key, std::size_t level, std::size_t t,
                        const u64* const* values, std::size_t digits, u64* ext0, u64* ext1) {
  const KeySwitchKey* keys[1] = {&key};
  inner_products_limb(context, keys, 1, level, t, values, digits, &ext0, &ext1);
}

// Checks the keys against the decomposition's level, then calls product(t, values) for every extended
// limb t of the decomposition (values[d]: digit d on it), limbs in parallel; the product serves all
// the keys, so that each limb of the decomposition is read once, from cache, for all of them.
template <typename Product>
void for_each_decomposed_limb(const Context& context, const Decomposition& decomposition,
                              const std::vector<const KeySwitchKey*>& keys, Product&& product) {
  for (const KeySwitchKey* key : keys) check_key(context, *key, decomposition.level);
  context.pool()->parallel_for(extended_limbs(context, decomposition.level), [&](std::size_t t) {
    const u64* values[64] = {};
    for (std::size_t d = 0; d < decomposition.digits; ++d) values[d] = decomposition.limb(context, d, t);
    product(t, static_cast<const u64* const*>(values));
  });
}

// Limb t of an extended output: the inner products of the digits' values on it with the key, the
// addend, the permutation.
void extended_output_limb(const Context& context, const KeySwitchKey& key, std::size_t level, std::size_t t,
                          const u64* const* values, std::size_t digits, const ExtendedKeySwitchOutput& output) {
  const std::size_t n = context.ring_degree();
  const std::size_t prime = prime_of(context, level, t);
  const Modulus& modulus = context.modulus(prime);
  const u64 q = modulus.value;
  u64* first = output.first + t * n;
  u64* second = output.second + t * n;
  // The parts are made in place, or in a limb of scratch (in cache) when a permutation reads them
  // afterwards or the addend is the output itself.
  const bool in_scratch = output.permutation != nullptr || output.extended_addend == output.first;
  PolyBuffer scratch = in_scratch ? context.allocate(2 * n) : PolyBuffer();
  u64* u0 = in_scratch ? scratch.data() : first;
  u64* u1 = in_scratch ? scratch.data() + n : second;
  inner_product_limb(context, key, level, t, values, digits, u0, u1);
  if (output.extended_addend != nullptr) {
    add_mod_vector(u0, output.extended_addend + t * n, u0, n, q, context.simd_path());
  } else if (output.addend != nullptr && t <= level) {
    // P * addend; on the special primes P * addend is 0.
    const u64 p = context.special_product_mod(t), p_shoup = shoup_precompute(p, q);
    const u64* a = output.addend + t * n;
    for (std::size_t c = 0; c < n; ++c) u0[c] = add_mod(u0[c], mul_shoup(a[c], p, p_shoup, q), q);
  }
  if (output.permutation != nullptr) {
    gather(u0, output.permutation, first, n, context.simd_path());
    gather(u1, output.permutation, second, n, context.simd_path());
  } else if (in_scratch) {
    std::copy(u0, u0 + n, first);
    std::copy(u1, u1 + n, second);
  }
}

}  // namespace

Decomposition decompose(const Context& context, const u64* poly, std::size_t level) {
  const std::size_t n = context.ring_degree(), ext = extended_limbs(context, level);
  Decomposition result;
  result.level = level;
  result.digits = context.digits_at_level(level);
  result.data = context.allocate(result.digits * ext * n);
  const PolyBuffer scaled = scaled_coefficients(context, poly, level);
  context.pool()->parallel_for(result.digits * ext, [&](std::size_t job) {
    const std::size_t d = job / ext, t = job % ext;
    digit_limb(context, poly, scaled, level, d, t, result.data.data() + job * n);
  });
  return result;
}

void key_switch(const Context& context, const u64* poly, std::size_t level, const KeySwitchKey& key,
                const KeySwitchOutput& output) {
  check_key(context, key, level);
  const std::size_t n = context.ring_degree(), ext = extended_limbs(context, level);
  const std::size_t digits = context.digits_at_level(level);
  const PolyBuffer scaled = scaled_coefficients(context, poly, level);
  PolyBuffer ext0 = context.allocate(ext * n), ext1 = context.allocate(ext * n);
  // Stream over target limbs: each digit's raised limb is made, used and dropped.
  context.pool()->parallel_for(ext, [&](std::size_t t) {
    PolyBuffer raised = context.allocate(digits * n);
    const u64* values[64] = {};
    for (std::size_t d = 0; d < digits; ++d) {
      digit_limb(context, poly, scaled, level, d, t, raised.data() + d * n);
      values[d] = raised.data() + d * n;
    }
    inner_product_limb(context, key, level, t, values, digits, ext0.data() + t * n, ext1.data() + t * n);
  });
  mod_down(context, ext0.data(), level, output.first, output.first_addend, output.permutation);
  mod_down(context, ext1.data(), level, output.second, output.second_addend, output.permutation);
}

void key_switch_decomposed(const Context& context, const Decomposition& decomposition,
                           const std::vector<const KeySwitchKey*>& keys, const std::vector<KeySwitchOutput>& outputs) {
  const std::size_t level = decomposition.level;
  const std::size_t n = context.ring_degree(), ext = extended_limbs(context, level), count = keys.size();
  std::vector<PolyBuffer> extended;
  for (std::size_t k = 0; k < 2 * count; ++k) extended.push_back(context.allocate(ext * n));
  for_each_decomposed_limb(context, decomposition, keys, [&](std::size_t t, const u64* const* values) {
    std::vector<u64*> out0(count), out1(count);
    for (std::size_t k = 0; k < count; ++k) {
      out0[k] = extended[2 * k].data() + t * n;
      out1[k] = extended[2 * k + 1].data() + t * n;
    }
    inner_products_limb(context, keys.data(), count, level, t, values, decomposition.digits, out0.data(), out1.data());
  });
  for (std::size_t k = 0; k < count; ++k) {
    mod_down(context, extended[2 * k].data(), level, outputs[k].first, outputs[k].first_addend, outputs[k].permutation);
    mod_down(context, extended[2 * k + 1].data(), level, outputs[k].second, outputs[k].second_addend, outputs[k].permutation);
  }
}

void key_switch_decomposed_extended(const Context& context, const Decomposition& decomposition,
                                    const std::vector<const KeySwitchKey*>& keys,
                                    const std::vector<ExtendedKeySwitchOutput>& outputs) {
  for_each_decomposed_limb(context, decomposition, keys, [&](std::size_t t, const u64* const* values) {
    for (std::size_t k = 0; k < keys.size(); ++k) {
      extended_output_limb(context, *keys[k], decomposition.level, t, values, decomposition.digits, outputs[k]);
    }
  });
}

void key_switch_extended(const Context& context, const u64* poly, std::size_t level, const KeySwitchKey& key,
                         const ExtendedKeySwitchOutput& output) {
  check_key(context, key, level);
  const std::size_t n = context.ring_degree(), digits = context.digits_at_level(level);
  const PolyBuffer scaled = scaled_coefficients(context, poly, level);
  // Streamed over target limbs, as key_switch does.
  context.pool()->parallel_for(extended_limbs(context, level), [&](std::size_t t) {
    PolyBuffer raised = context.allocate(digits * n);
    const u64* values[64] = {};
    for (std::size_t d = 0; d < digits; ++d) {
      digit_limb(context, poly, scaled, level, d, t, raised.data() + d * n);
      values[d] = raised.data() + d * n;
    }
    extended_output_limb(context, key, level, t, values, digits, output);
  });
}

void divide_by_special_primes(const Context& context, u64* extended, std::size_t level, u64* out, const u64* addend) {
  mod_down(context, extended, level, out, addend, nullptr);
}

void key_switch_level0(const Context& context, const u64* poly, const KeySwitchKey& key, u64* out0, u64* out1) {
  require(key.context.get() == &context, ErrorCode::ParameterMismatch, "key was made under a different context");
  require(key.level == 0 && key.special == 1 && key.digits == 1, ErrorCode::InvalidArgument,
          "a level-0 key over one special prime is needed here");
  const std::size_t n = context.ring_degree(), special = context.special_limb(0);
  const Modulus& q = context.modulus(0);
  const Modulus& p = context.modulus(special);
  const u64 q_half = q.value / 2, p_half = p.value / 2, q_mod_p = p.reduce(q.value);
  // One digit (all of q_0): the raise to p is exact, from the centred representative.
  PolyBuffer raised = context.allocate(n);
  std::copy(poly, poly + n, raised.data());
  context.ntt(0).inverse(raised.data(), context.simd_path());
  for (std::size_t c = 0; c < n; ++c) {
    const u64 v = raised.data()[c];
    raised.data()[c] = v > q_half ? sub_mod(p.reduce(v), q_mod_p, p.value) : p.reduce(v);
  }
  context.ntt(special).forward(raised.data(), context.simd_path());
  const u64 p_inverse = inv_mod(q.reduce(p.value), q), p_inverse_shoup = shoup_precompute(p_inverse, q.value);
  const u64 p_mod_q = q.reduce(p.value);
  PolyBuffer on_p = context.allocate(n), on_q = context.allocate(n);
  for (std::size_t which = 0; which < 2; ++which) {
    u64* out = which == 0 ? out0 : out1;
    for (std::size_t c = 0; c < n; ++c) {
      on_q.data()[c] = mul_mod(poly[c], key.part(0, which, 0)[c], q);
      on_p.data()[c] = mul_mod(raised.data()[c], key.part(0, which, special)[c], p);
    }
    // Divide by p, rounding: (x - [x]_p) / p with the centred representative of [x]_p.
    context.ntt(special).inverse(on_p.data(), context.simd_path());
    for (std::size_t c = 0; c < n; ++c) {
      const u64 v = on_p.data()[c];
      on_p.data()[c] = v > p_half ? sub_mod(q.reduce(v), p_mod_q, q.value) : q.reduce(v);
    }
    context.ntt(0).forward(on_p.data(), context.simd_path());
    for (std::size_t c = 0; c < n; ++c) {
      const u64 r = mul_shoup(sub_mod(on_q.data()[c], on_p.data()[c], q.value), p_inverse, p_inverse_shoup, q.value);
      out[c] = which == 0 ? add_mod(out[c], r, q.value) : r;
    }
  }
}

}  // namespace cipherlm
