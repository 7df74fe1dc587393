#include "rlwe/sampling.hpp"

#include <array>
#include <cmath>

#include "ring/elementwise.hpp"
#include "ring/error.hpp"
#include "rlwe/secure_memory.hpp"

namespace cipherlm {

void sample_ternary(Prng& prng, std::size_t n, std::int64_t* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int64_t>(prng.uniform_below(3)) - 1;
}

namespace {

// Branch-free compare-exchange on (key, value) pairs ordered by key.
inline void compare_exchange(u64& key_a, std::int64_t& value_a, u64& key_b, std::int64_t& value_b) {
  const u64 swap = 0 - static_cast<u64>(key_a > key_b);
  const u64 key_diff = (key_a ^ key_b) & swap;
  key_a ^= key_diff;
  key_b ^= key_diff;
  const u64 value_diff = (static_cast<u64>(value_a) ^ static_cast<u64>(value_b)) & swap;
  value_a = static_cast<std::int64_t>(static_cast<u64>(value_a) ^ value_diff);
  value_b = static_cast<std::int64_t>(static_cast<u64>(value_b) ^ value_diff);
}

}  // namespace

void sample_fixed_hamming_weight(Prng& prng, std::size_t n, std::size_t hamming_weight, std::int64_t* out) {
  require(hamming_weight > 0 && hamming_weight <= n, ErrorCode::InvalidArgument,
          "Hamming weight must be in [1, N]");
  // Place h random signs first, then shuffle obliviously: a bitonic network sorts by random keys with
  // a fixed sequence of memory accesses, independent of where the nonzero entries end up.
  SecureVector<u64> keys(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t sign = static_cast<std::int64_t>(prng.next_u64() & 2) - 1;
    const std::int64_t nonzero = static_cast<std::int64_t>(i < hamming_weight);
    out[i] = sign * nonzero;
    keys[i] = prng.next_u64();
  }
  for (std::size_t size = 2; size <= n; size <<= 1) {
    for (std::size_t stride = size >> 1; stride > 0; stride >>= 1) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t partner = i ^ stride;
        if (partner <= i) continue;  // public index arithmetic only
        if ((i & size) == 0) {
          compare_exchange(keys[i], out[i], keys[partner], out[partner]);
        } else {
          compare_exchange(keys[partner], out[partner], keys[i], out[i]);
        }
      }
    }
  }
}

void sample_gaussian(Prng& prng, std::size_t n, std::int64_t* out) {
  constexpr double sigma = 3.2;
  constexpr int bound = 19;
  // thresholds[k] = 2^63 * P(|e| <= k) for k in [0, bound).
  std::array<u64, bound> thresholds{};
  double total = 1.0;
  for (int k = 1; k <= bound; ++k) total += 2.0 * std::exp(-double(k) * k / (2 * sigma * sigma));
  double cumulative = 1.0 / total;
  for (int k = 0; k < bound; ++k) {
    thresholds[k] = static_cast<u64>(std::ldexp(cumulative, 63));
    cumulative += 2.0 * std::exp(-double(k + 1) * (k + 1) / (2 * sigma * sigma)) / total;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const u64 r = prng.next_u64();
    const u64 u = r >> 1;
    std::int64_t magnitude = 0;
    for (int k = 0; k < bound; ++k) magnitude += static_cast<std::int64_t>(u >= thresholds[k]);
    const std::int64_t sign = static_cast<std::int64_t>((r & 1) << 1) - 1;
    out[i] = magnitude * sign;
  }
}

void small_to_ntt(const Context& context, const std::int64_t* coefficients, const std::size_t* prime_indices,
                  std::size_t count, u64* out) {
  const std::size_t n = context.ring_degree();
  context.pool()->parallel_for(count, [&](std::size_t k) {
    const std::size_t prime = prime_indices[k];
    const Modulus& q = context.modulus(prime);
    u64* limb = out + k * n;
    reduce_signed_vector(coefficients, limb, n, q, context.use_avx512());
    context.ntt(prime).forward(limb, context.simd_path());
  });
}

void sample_uniform_ntt(Prng& prng, const Context& context, const std::size_t* prime_indices, std::size_t count,
                        u64* out) {
  const std::size_t n = context.ring_degree();
  for (std::size_t k = 0; k < count; ++k) {
    const u64 q = context.modulus(prime_indices[k]).value;
    u64* limb = out + k * n;
    for (std::size_t i = 0; i < n; ++i) limb[i] = prng.uniform_below(q);
  }
}

}  // namespace cipherlm
