#include "ring/primes.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "ring/error.hpp"

namespace cipherlm {

bool is_prime(u64 n) {
  if (n < 2) return false;
  for (u64 p : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    if (n % p == 0) return n == p;
  }
  // Deterministic Miller-Rabin for 64-bit inputs with the first twelve prime bases.
  u64 d = n - 1;
  int r = 0;
  while ((d & 1) == 0) { d >>= 1; ++r; }
  Modulus m(n);
  for (u64 a : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    u64 x = pow_mod(a, d, m);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int i = 1; i < r; ++i) {
      x = mul_mod(x, x, m);
      if (x == n - 1) { composite = false; break; }
    }
    if (composite) return false;
  }
  return true;
}

std::vector<u64> ntt_primes_from_bit_sizes(std::size_t ring_degree, const std::vector<int>& bit_sizes,
                                           const std::vector<u64>& exclude) {
  const u64 step = 2 * static_cast<u64>(ring_degree);
  std::map<int, std::size_t> needed;
  for (int bits : bit_sizes) {
    require(bits >= 20 && bits <= 60, ErrorCode::InvalidArgument,
            "prime bit size " + std::to_string(bits) + " is outside the supported range [20, 60]");
    require((u64(1) << bits) > step, ErrorCode::InvalidArgument, "prime bit size too small for the ring degree");
    ++needed[bits];
  }
  // For each size, the `count` largest primes = 1 mod 2N below 2^bits (and at least 2^(bits-1)),
  // scanned downwards and kept in descending order.
  std::map<int, std::vector<u64>> found;
  for (const auto& [bits, count] : needed) {
    std::vector<u64>& primes = found[bits];
    u64 candidate = (u64(1) << bits) - step + 1;
    const u64 lower = u64(1) << (bits - 1);
    while (primes.size() < count && candidate > lower) {
      if (is_prime(candidate) && std::find(exclude.begin(), exclude.end(), candidate) == exclude.end()) {
        primes.push_back(candidate);
      }
      candidate -= step;
    }
    require(primes.size() == count, ErrorCode::InvalidArgument,
            "not enough " + std::to_string(bits) + "-bit primes congruent to 1 mod 2N");
  }
  // Walking the requested sizes in order, each takes the smallest prime left of its size.
  std::vector<u64> chosen;
  for (int bits : bit_sizes) {
    std::vector<u64>& primes = found[bits];
    chosen.push_back(primes.back());
    primes.pop_back();
  }
  return chosen;
}

u64 minimal_primitive_root(std::size_t two_n, const Modulus& q) {
  require((q.value - 1) % two_n == 0, ErrorCode::InvalidArgument, "modulus is not 1 mod 2N");
  const u64 cofactor = (q.value - 1) / two_n;
  // A 2N-th root g is primitive iff g^N == -1. Among all primitive roots pick the smallest.
  u64 root = 0;
  for (u64 x = 2; x < q.value; ++x) {
    u64 g = pow_mod(x, cofactor, q);
    if (pow_mod(g, two_n / 2, q) == q.value - 1) { root = g; break; }
  }
  require(root != 0, ErrorCode::InvalidArgument, "no primitive 2N-th root of unity");
  // The primitive roots are root^k for odd k; walk them by multiplying with root^2.
  const u64 root_sq = mul_mod(root, root, q);
  u64 best = root, current = root;
  for (std::size_t k = 1; k < two_n / 2; ++k) {
    current = mul_mod(current, root_sq, q);
    if (current < best) best = current;
  }
  return best;
}

}  // namespace cipherlm
