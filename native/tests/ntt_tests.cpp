// The negacyclic NTT on every SIMD path this CPU runs: inverse(forward(a)) = a, and pointwise
// products of transforms are products in Z_q[X]/(X^N + 1) computed by schoolbook multiplication.
#include <string>
#include <vector>

#include "ring/cpu_features.hpp"
#include "ring/ntt.hpp"
#include "ring/primes.hpp"
#include "tests/suites.hpp"

namespace cipherlm::tests {

namespace {

std::vector<u64> random_residues(std::size_t n, u64 q, std::mt19937_64& random) {
  std::uniform_int_distribution<u64> residue(0, q - 1);
  std::vector<u64> values(n);
  for (u64& v : values) v = residue(random);
  return values;
}

std::vector<u64> schoolbook_negacyclic_product(const std::vector<u64>& a, const std::vector<u64>& b, const Modulus& q) {
  const std::size_t n = a.size();
  std::vector<u64> product(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const u64 term = mul_mod(a[i], b[j], q);
      // X^N = -1: terms of degree N and above wrap around with their sign flipped.
      if (i + j < n) product[i + j] = add_mod(product[i + j], term, q.value);
      else product[i + j - n] = sub_mod(product[i + j - n], term, q.value);
    }
  }
  return product;
}

// The transform stage by stage, radix 2, fully reduced after every butterfly: the textbook
// definition the blocked, lazy kernels must match (twiddles from the same tables).
std::vector<u64> reference_forward(std::vector<u64> a, const NttTables& tables) {
  const std::size_t n = a.size();
  const Modulus& q = tables.modulus();
  for (std::size_t m = 1, t = n / 2; m < n; m *= 2, t /= 2)
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 2 * i * t; j < 2 * i * t + t; ++j) {
        const u64 v = mul_mod(a[j + t], tables.root_powers[m + i], q);
        a[j + t] = sub_mod(a[j], v, q.value);
        a[j] = add_mod(a[j], v, q.value);
      }
  return a;
}

std::vector<u64> reference_inverse(std::vector<u64> a, const NttTables& tables) {
  const std::size_t n = a.size();
  const Modulus& q = tables.modulus();
  for (std::size_t h = n / 2, t = 1; h >= 1; h /= 2, t *= 2)
    for (std::size_t i = 0; i < h; ++i)
      for (std::size_t j = 2 * i * t; j < 2 * i * t + t; ++j) {
        const u64 u = a[j], v = a[j + t];
        a[j] = add_mod(u, v, q.value);
        a[j + t] = mul_mod(sub_mod(u, v, q.value), tables.inv_root_powers[h + i], q);
      }
  for (u64& v : a) v = mul_mod(v, tables.inv_n, q);
  return a;
}

}  // namespace

void ntt_suite(Checks& checks, std::mt19937_64& random) {
  // Up to 2048 every stage runs inside one block of the blocked kernels; above, the first forward
  // (last inverse) stages run over the whole array, in an even or odd number.
  for (std::size_t n : {8, 16, 32, 1024, 2048, 4096, 8192, 16384, 65536}) {
    // Primes below 2^50 take the 52-bit IFMA and the AVX2 kernels, larger ones the 64-bit AVX-512
    // kernels and the portable ones.
    for (u64 q : ntt_primes_from_bit_sizes(n, {30, 45, 50, 60})) {
      const Modulus modulus(q);
      const NttTables tables(n, modulus);
      for (SimdPath path : {SimdPath::Portable, SimdPath::Avx2, SimdPath::Avx512Ifma}) {
        if (!cpu_supports(path)) continue;
        const std::string where = std::string(simd_path_name(path)) + " N=" + std::to_string(n) + " q=" + std::to_string(q);

        const std::vector<u64> a = random_residues(n, q, random);
        std::vector<u64> transformed = a;
        tables.forward(transformed.data(), path);
        bool reduced = true;
        for (u64 v : transformed) reduced = reduced && v < q;
        checks.expect(reduced, where + ": forward output is reduced below q");
        checks.expect(transformed == reference_forward(a, tables), where + ": forward equals the stage-by-stage transform");
        checks.expect(reference_inverse(a, tables) == [&] {
          std::vector<u64> inverse = a;
          tables.inverse(inverse.data(), path);
          return inverse;
        }(), where + ": inverse equals the stage-by-stage transform");
        std::vector<u64> out_of_place(n);
        tables.forward(a.data(), out_of_place.data(), path);
        checks.expect(out_of_place == transformed, where + ": the out-of-place forward transform equals the in-place one");
        std::vector<u64> round_trip = transformed;
        tables.inverse(round_trip.data(), path);
        checks.expect(round_trip == a, where + ": inverse(forward(a)) = a");

        if (n <= 2048) {  // the schoolbook product is quadratic
          const std::vector<u64> b = random_residues(n, q, random);
          std::vector<u64> transformed_b = b;
          tables.forward(transformed_b.data(), path);
          std::vector<u64> product(n);
          for (std::size_t i = 0; i < n; ++i) product[i] = mul_mod(transformed[i], transformed_b[i], modulus);
          tables.inverse(product.data(), path);
          checks.expect(product == schoolbook_negacyclic_product(a, b, modulus),
                        where + ": NTT product equals the schoolbook negacyclic product");
        }

        // Lazy inputs anywhere in the accepted range ([0, 4q) forward, [0, 2q) inverse), extremes
        // included, give the portable kernel's outputs.
        for (const bool forward : {true, false}) {
          const u64 bound = forward ? 4 * q : 2 * q;
          std::vector<u64> lazy(n);
          for (std::size_t i = 0; i < n; ++i) lazy[i] = i % 7 == 0 ? bound - 1 : i % 7 == 1 ? q - 1 : random() % bound;
          std::vector<u64> expected = lazy, got = lazy;
          forward ? tables.forward(expected.data(), SimdPath::Portable) : tables.inverse(expected.data(), SimdPath::Portable);
          forward ? tables.forward(got.data(), path) : tables.inverse(got.data(), path);
          checks.expect(got == expected, where + (forward ? ": forward" : ": inverse") + " of lazy inputs equals the portable kernel's");
          std::vector<u64> canonical = lazy;
          for (u64& v : canonical) v %= q;
          checks.expect(expected == (forward ? reference_forward(canonical, tables) : reference_inverse(canonical, tables)),
                        where + (forward ? ": forward" : ": inverse") + " of lazy inputs equals the stage-by-stage transform");
        }
      }
    }
  }
}

}  // namespace cipherlm::tests
