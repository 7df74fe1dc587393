#include "ckks/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "ckks/key_groups.hpp"
#include "ring/elementwise.hpp"
#include "ring/error.hpp"
#include "rlwe/keyswitch.hpp"

namespace cipherlm {

namespace {

std::string describe_scale(double scale) { return "2^" + std::to_string(std::log2(scale)); }

void check_same_context(const ContextPtr& a, const ContextPtr& b, const char* what) {
  require(a.get() == b.get(), ErrorCode::ParameterMismatch, std::string(what) + " were made under different contexts");
}

void check_level(std::size_t a, std::size_t b) {
  if (a != b) {
    fail(ErrorCode::LevelMismatch, "operands are at different levels (" + std::to_string(a) + " and " +
                                       std::to_string(b) + "): drop the higher one with dropToLevel first");
  }
}

void check_scale(double a, double b) {
  if (std::fabs(a - b) > kScaleTolerance * std::max(a, b)) {
    fail(ErrorCode::ScaleMismatch, "operands have different scales (" + describe_scale(a) + " and " + describe_scale(b) +
                                       "): rescale or adjust one of them first");
  }
}

void check_size2(const Ciphertext& a, const char* operation) {
  require(a.size == 2, ErrorCode::InvalidArgument,
          std::string(operation) + " needs a relinearized ciphertext (size 2); got size " + std::to_string(a.size));
}

Ciphertext like(const Ciphertext& a, std::size_t size) {
  Ciphertext r;
  r.context = a.context;
  r.level = a.level;
  r.scale = a.scale;
  r.size = size;
  // every caller writes every word
  r.data = r.context->allocate(size * a.limbs() * a.context->ring_degree());
  return r;
}

// Applies f(q, dst, x, y, n) to every limb of the first `polys` polynomials, in parallel.
template <typename F>
void for_each_limb(const Context& context, std::size_t polys, std::size_t limbs, F&& f) {
  context.pool()->parallel_for(polys * limbs, [&](std::size_t job) { f(job / limbs, job % limbs); });
}

Ciphertext add_or_sub(const Ciphertext& a, const Ciphertext& b, bool subtract) {
  check_same_context(a.context, b.context, "ciphertexts");
  check_level(a.level, b.level);
  check_scale(a.scale, b.scale);
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  const Ciphertext& larger = a.size >= b.size ? a : b;
  Ciphertext r = like(larger, larger.size);
  r.scale = a.scale;
  for_each_limb(context, r.size, r.limbs(), [&](std::size_t p, std::size_t i) {
    const u64 q = context.modulus(i).value;
    u64* dst = r.limb(p, i);
    if (p < a.size && p < b.size) {
      (subtract ? sub_mod_vector : add_mod_vector)(a.limb(p, i), b.limb(p, i), dst, n, q, context.simd_path());
    } else if (p < a.size) {
      std::copy(a.limb(p, i), a.limb(p, i) + n, dst);
    } else {
      const u64* y = b.limb(p, i);
      for (std::size_t c = 0; c < n; ++c) dst[c] = subtract ? neg_mod(y[c], q) : y[c];
    }
  });
  return r;
}

void add_or_sub_in_place(Ciphertext& a, const Ciphertext& b, bool subtract) {
  check_same_context(a.context, b.context, "ciphertexts");
  check_level(a.level, b.level);
  check_scale(a.scale, b.scale);
  if (b.size > a.size) {
    a = add_or_sub(a, b, subtract);
    return;
  }
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  for_each_limb(context, b.size, a.limbs(), [&](std::size_t p, std::size_t i) {
    (subtract ? sub_mod_vector : add_mod_vector)(a.limb(p, i), b.limb(p, i), a.limb(p, i), n, context.modulus(i).value,
                                                 context.simd_path());
  });
  a.seeded = false;
}

Ciphertext plain_add_or_sub(const Ciphertext& a, const Plaintext& b, bool subtract) {
  check_same_context(a.context, b.context, "ciphertext and plaintext");
  check_level(a.level, b.level);
  check_scale(a.scale, b.scale);
  Ciphertext r = like(a, a.size);
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  for_each_limb(context, a.size, a.limbs(), [&](std::size_t p, std::size_t i) {
    if (p == 0) {
      (subtract ? sub_mod_vector : add_mod_vector)(a.limb(0, i), b.limb(i), r.limb(0, i), n, context.modulus(i).value,
                                                   context.simd_path());
    } else {
      std::copy(a.limb(p, i), a.limb(p, i) + n, r.limb(p, i));
    }
  });
  return r;
}

const KeySwitchKey& galois_key(const GaloisKeys& keys, u64 element, const std::string& what) {
  const KeySwitchKey* key = keys.find(element);
  if (key == nullptr) {
    fail(ErrorCode::MissingKey, "no Galois key for " + what + " (Galois element " + std::to_string(element) +
                                    "): generate Galois keys that include it");
  }
  require(key->automorphism == element, ErrorCode::InvalidArgument, "the Galois key for element " + std::to_string(element) + " is not in rotation form");
  return *key;
}

std::string step_name(const Context& context, u64 element) {
  if (element == context.conjugation_element()) return "conjugation";
  return "this rotation step";
}

// Where a rotation with a key in rotation form (rotation_keys.hpp) writes: sigma_g of (c0 + u0, u1),
// where (u0, u1) switches c1 itself. `permutation` must outlive the switch.
KeySwitchOutput rotation_output(const Ciphertext& a, Ciphertext& result,
                                const std::shared_ptr<const std::vector<std::uint32_t>>& permutation) {
  KeySwitchOutput output;
  output.first = result.poly(0);
  output.second = result.poly(1);
  output.first_addend = a.poly(0);
  output.permutation = permutation->data();
  return output;
}

}  // namespace

Ciphertext add(const Ciphertext& a, const Ciphertext& b) { return add_or_sub(a, b, false); }
Ciphertext sub(const Ciphertext& a, const Ciphertext& b) { return add_or_sub(a, b, true); }
void add_in_place(Ciphertext& a, const Ciphertext& b) { add_or_sub_in_place(a, b, false); }
void sub_in_place(Ciphertext& a, const Ciphertext& b) { add_or_sub_in_place(a, b, true); }
Ciphertext add_plain(const Ciphertext& a, const Plaintext& b) { return plain_add_or_sub(a, b, false); }
Ciphertext sub_plain(const Ciphertext& a, const Plaintext& b) { return plain_add_or_sub(a, b, true); }

Ciphertext negate(const Ciphertext& a) {
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  Ciphertext r = like(a, a.size);
  for_each_limb(context, a.size, a.limbs(), [&](std::size_t p, std::size_t i) {
    const u64 q = context.modulus(i).value;
    const u64* x = a.limb(p, i);
    u64* dst = r.limb(p, i);
    for (std::size_t c = 0; c < n; ++c) dst[c] = neg_mod(x[c], q);
  });
  return r;
}

Ciphertext add_scalar(const Ciphertext& a, double value) {
  require(std::isfinite(value), ErrorCode::OutOfRange, "cannot add a NaN or infinite value");
  const double rounded = std::nearbyint(value * a.scale);
  require(std::fabs(rounded) < 9.2e18, ErrorCode::OutOfRange, "scalar times scale does not fit in 63 bits");
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  Ciphertext r = a;
  r.seeded = false;
  // A constant polynomial is the same value at every NTT point.
  context.pool()->parallel_for(a.limbs(), [&](std::size_t i) {
    const Modulus& q = context.modulus(i);
    const u64 v = reduce_signed(static_cast<std::int64_t>(rounded), q);
    u64* dst = r.limb(0, i);
    for (std::size_t c = 0; c < n; ++c) dst[c] = add_mod(dst[c], v, q.value);
  });
  return r;
}

Ciphertext multiply(const Ciphertext& a, const Ciphertext& b) {
  check_same_context(a.context, b.context, "ciphertexts");
  check_level(a.level, b.level);
  check_size2(a, "multiply");
  check_size2(b, "multiply");
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  Ciphertext r = like(a, 3);
  r.scale = a.scale * b.scale;
  context.pool()->parallel_for(a.limbs(), [&](std::size_t i) {
    tensor_mod(a.limb(0, i), a.limb(1, i), b.limb(0, i), b.limb(1, i), r.limb(0, i), r.limb(1, i), r.limb(2, i), n,
               context.modulus(i), context.simd_path());
  });
  return r;
}

Ciphertext square(const Ciphertext& a) { return multiply(a, a); }

Ciphertext multiply_plain(const Ciphertext& a, const Plaintext& b) {
  check_same_context(a.context, b.context, "ciphertext and plaintext");
  check_level(a.level, b.level);
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  Ciphertext r = like(a, a.size);
  r.scale = a.scale * b.scale;
  for_each_limb(context, a.size, a.limbs(), [&](std::size_t p, std::size_t i) {
    multiply_mod(a.limb(p, i), b.limb(i), r.limb(p, i), n, context.modulus(i), context.simd_path());
  });
  return r;
}

Ciphertext multiply_scalar(const Ciphertext& a, double value, double scale) {
  require(std::isfinite(value), ErrorCode::OutOfRange, "cannot multiply by a NaN or infinite value");
  require(std::isfinite(scale) && scale >= 1.0, ErrorCode::OutOfRange, "scalar scale must be finite and at least 1");
  const double rounded = std::nearbyint(value * scale);
  require(std::fabs(rounded) < 9.2e18, ErrorCode::OutOfRange, "scalar times scale does not fit in 63 bits");
  Ciphertext r = multiply_integer(a, static_cast<std::int64_t>(rounded));
  r.scale = a.scale * scale;
  return r;
}

Ciphertext multiply_integer(const Ciphertext& a, std::int64_t value) {
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree();
  Ciphertext r = like(a, a.size);
  for_each_limb(context, a.size, a.limbs(), [&](std::size_t p, std::size_t i) {
    const Modulus& q = context.modulus(i);
    const u64 w = reduce_signed(value, q), ws = shoup_precompute(w, q.value);
    const u64* x = a.limb(p, i);
    u64* dst = r.limb(p, i);
    for (std::size_t c = 0; c < n; ++c) dst[c] = mul_shoup(x[c], w, ws, q.value);
  });
  return r;
}

Ciphertext relinearize(const Ciphertext& a, const RelinKey& key) {
  check_same_context(a.context, key.key.context, "ciphertext and relinearization key");
  if (a.size == 2) return a;
  require(a.size == 3, ErrorCode::InvalidArgument, "relinearize supports ciphertexts of size 3");
  Ciphertext r = like(a, 2);
  // (c0, c1) + the switch of c2, added in the switch's last pass.
  KeySwitchOutput output;
  output.first = r.poly(0);
  output.second = r.poly(1);
  output.first_addend = a.poly(0);
  output.second_addend = a.poly(1);
  key_switch(*a.context, a.poly(2), a.level, key.key, output);
  return r;
}

Ciphertext multiply_relinearize(const Ciphertext& a, const Ciphertext& b, const RelinKey& key) {
  return relinearize(multiply(a, b), key);
}

Ciphertext rescale(const Ciphertext& a) {
  require(a.level > 0, ErrorCode::LevelMismatch, "cannot rescale a ciphertext at level 0: no prime left to divide by");
  const Context& context = *a.context;
  const std::size_t n = context.ring_degree(), level = a.level;
  Ciphertext r;
  r.context = a.context;
  r.level = level - 1;
  r.size = a.size;
  r.scale = a.scale / static_cast<double>(context.modulus(level).value);
  r.data = r.context->allocate(r.size * r.limbs() * n);
  const u64 last = context.modulus(level).value;
  // The last limb in coefficient form; its centered residue is subtracted so that the division rounds.
  PolyBuffer last_coefficients = context.allocate(a.size * n);
  context.pool()->parallel_for(a.size, [&](std::size_t p) {
    u64* t = last_coefficients.data() + p * n;
    std::copy(a.limb(p, level), a.limb(p, level) + n, t);
    context.ntt(level).inverse(t, context.simd_path());
  });
  for_each_limb(context, a.size, level, [&](std::size_t p, std::size_t i) {
    const Modulus& q = context.modulus(i);
    PolyBuffer t = context.allocate(n);
    centered_residue_mod(last_coefficients.data() + p * n, last, t.data(), n, q, context.use_avx512());
    context.ntt(i).forward(t.data(), context.simd_path());
    multiply_difference_by_constant(a.limb(p, i), t.data(), context.inverse_last_prime(level, i),
                                    context.inverse_last_prime_shoup(level, i), r.limb(p, i), n, q.value,
                                    context.use_avx512());
  });
  return r;
}

Ciphertext drop_to_level(const Ciphertext& a, std::size_t level) {
  require(level <= a.level, ErrorCode::LevelMismatch,
          "cannot raise a ciphertext from level " + std::to_string(a.level) + " to " + std::to_string(level));
  if (level == a.level) return a;
  const std::size_t n = a.context->ring_degree();
  Ciphertext r;
  r.context = a.context;
  r.level = level;
  r.size = a.size;
  r.scale = a.scale;
  r.data = r.context->allocate(r.size * r.limbs() * n);
  for (std::size_t p = 0; p < a.size; ++p) std::copy(a.poly(p), a.poly(p) + r.limbs() * n, r.poly(p));
  return r;
}

Plaintext drop_plaintext_to_level(const Plaintext& a, std::size_t level) {
  require(level <= a.level, ErrorCode::LevelMismatch,
          "cannot raise a plaintext from level " + std::to_string(a.level) + " to " + std::to_string(level));
  Plaintext r;
  r.context = a.context;
  r.level = level;
  r.scale = a.scale;
  r.data = r.context->allocate((level + 1) * a.context->ring_degree());
  std::copy(a.data.begin(), a.data.begin() + r.data.size(), r.data.begin());
  return r;
}

const KeySwitchKey& find_galois_key(const GaloisKeys& keys, u64 galois_element) {
  return galois_key(keys, galois_element, step_name(*keys.context, galois_element));
}

Ciphertext apply_galois(const Ciphertext& a, u64 galois_element, const GaloisKeys& keys) {
  check_same_context(a.context, keys.context, "ciphertext and Galois keys");
  check_size2(a, "rotation");
  const Context& context = *a.context;
  const KeySwitchKey& key = galois_key(keys, galois_element, step_name(context, galois_element));
  Ciphertext r = like(a, 2);
  const auto permutation = context.automorphism_permutation(galois_element);
  key_switch(context, a.poly(1), a.level, key, rotation_output(a, r, permutation));
  return r;
}

std::vector<long long> non_adjacent_form(long long value) {
  std::vector<long long> terms;
  const bool negative = value < 0;
  unsigned long long v = negative ? 0ull - static_cast<unsigned long long>(value) : static_cast<unsigned long long>(value);
  for (int bit = 0; v != 0; ++bit, v >>= 1) {
    if ((v & 1) == 0) continue;
    // Digit +1 when v = 1 mod 4, -1 when v = 3 mod 4: no two adjacent digits are non-zero.
    const bool plus = (v & 3) == 1;
    const long long term = static_cast<long long>(1ull << bit);
    terms.push_back((plus != negative) ? term : -term);
    v = plus ? v - 1 : v + 1;
  }
  return terms;
}

Ciphertext rotate(const Ciphertext& a, long long step, const GaloisKeys& keys) {
  const u64 element = a.context->galois_element_for_step(step);
  if (element == 1) {
    Ciphertext copy = a;
    copy.seeded = false;
    return copy;
  }
  if (keys.has(element)) return apply_galois(a, element, keys);
  // As SEAL does: without a key for the step itself, rotate by the terms of its non-adjacent form
  // (signed powers of two), provided every one of them has a key.
  const std::vector<long long> terms = non_adjacent_form(step);
  std::vector<u64> elements;
  for (long long term : terms) {
    const u64 e = a.context->galois_element_for_step(term);
    if (e != 1) elements.push_back(e);
  }
  bool all_present = elements.size() > 1;
  for (u64 e : elements) all_present = all_present && keys.has(e);
  if (!all_present) {
    fail(ErrorCode::MissingKey, "no Galois key for rotation by " + std::to_string(step) + " (Galois element " +
                                    std::to_string(element) + "): generate Galois keys that include this step");
  }
  Ciphertext r = apply_galois(a, elements[0], keys);
  for (std::size_t i = 1; i < elements.size(); ++i) r = apply_galois(r, elements[i], keys);
  return r;
}

Ciphertext conjugate(const Ciphertext& a, const GaloisKeys& keys) {
  return apply_galois(a, a.context->conjugation_element(), keys);
}

std::vector<Ciphertext> rotate_hoisted(const Ciphertext& a, const std::vector<long long>& steps, const GaloisKeys& keys) {
  check_same_context(a.context, keys.context, "ciphertext and Galois keys");
  std::vector<u64> elements;
  for (long long step : steps) {
    const u64 element = a.context->galois_element_for_step(step);
    if (element != 1 && !keys.has(element)) {
      fail(ErrorCode::MissingKey, "no Galois key for rotation by " + std::to_string(step) + " (Galois element " +
                                      std::to_string(element) + "): generate Galois keys that include this step");
    }
    elements.push_back(element);
  }
  return apply_galois_hoisted(a, elements, keys);
}

std::vector<Ciphertext> apply_galois_hoisted(const Ciphertext& a, const std::vector<u64>& galois_elements,
                                             const GaloisKeys& keys) {
  check_same_context(a.context, keys.context, "ciphertext and Galois keys");
  check_size2(a, "rotation");
  const Context& context = *a.context;
  for (u64 element : galois_elements) {
    if (element != 1) galois_key(keys, element, step_name(context, element));
  }
  const Decomposition decomposition = decompose(context, a.poly(1), a.level);
  std::vector<Ciphertext> results(galois_elements.size());
  for_each_key_group(
      galois_elements,
      [&](std::size_t e) {
        results[e] = a;
        results[e].seeded = false;
      },
      [&](const std::vector<std::size_t>& group) {
        std::vector<const KeySwitchKey*> group_keys(group.size());
        std::vector<std::shared_ptr<const std::vector<std::uint32_t>>> permutations(group.size());
        std::vector<KeySwitchOutput> outputs(group.size());
        for (std::size_t k = 0; k < group.size(); ++k) {
          const std::size_t e = group[k];
          group_keys[k] = keys.find(galois_elements[e]);
          permutations[k] = context.automorphism_permutation(galois_elements[e]);
          results[e] = like(a, 2);
          outputs[k] = rotation_output(a, results[e], permutations[k]);
        }
        key_switch_decomposed(context, decomposition, group_keys, outputs);
      });
  return results;
}

}  // namespace cipherlm
