// Coefficient-wise products, sums and differences on every SIMD path this CPU runs against exact
// 128-bit arithmetic reduced modulo q, for primes from 30 to 60 bits (the SIMD products take those
// below 2^50), on random residues with the extremes 0 and q - 1 mixed in, and a length that leaves a
// tail past the vectors. Inner products of up to 40 terms (key switching's) likewise, over a ring
// degree that spans several of the IFMA kernel's chunks.
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ring/cpu_features.hpp"
#include "ring/elementwise.hpp"
#include "ring/multiply_accumulate.hpp"
#include "ring/primes.hpp"
#include "tests/suites.hpp"

namespace cipherlm::tests {

void elementwise_suite(Checks& checks, std::mt19937_64& random) {
  const std::size_t n = 1027;
  for (u64 q : ntt_primes_from_bit_sizes(1024, {30, 45, 49, 50, 60})) {
    const Modulus modulus(q);
    std::uniform_int_distribution<u64> residue(0, q - 1);
    std::vector<std::vector<u64>> inputs(4, std::vector<u64>(n));
    for (auto& input : inputs) {
      for (std::size_t c = 0; c < n; ++c) input[c] = c % 5 == 0 ? q - 1 : c % 5 == 1 ? 0 : residue(random);
    }
    const auto& [a0, a1, b0, b1] = std::tie(inputs[0], inputs[1], inputs[2], inputs[3]);
    std::vector<u64> product(n), r0(n), r1(n), r2(n);
    std::vector<u64> expected_product(n), expected_r1(n), expected_r2(n), expected_sum(n), expected_difference(n);
    for (std::size_t c = 0; c < n; ++c) {
      expected_sum[c] = (a0[c] + b0[c]) % q;
      expected_difference[c] = (a0[c] + q - b0[c]) % q;
      expected_product[c] = modulus.reduce128(multiply_wide(a0[c], b0[c]));
      expected_r1[c] = modulus.reduce128(add_wide(multiply_wide(a0[c], b1[c]), multiply_wide(a1[c], b0[c])));
      expected_r2[c] = modulus.reduce128(multiply_wide(a1[c], b1[c]));
    }
    for (SimdPath path : {SimdPath::Portable, SimdPath::Avx2, SimdPath::Avx512Ifma}) {
      if (!cpu_supports(path)) continue;
      const std::string where = std::string(simd_path_name(path)) + " q=" + std::to_string(q);
      multiply_mod(a0.data(), b0.data(), product.data(), n, modulus, path);
      checks.expect(product == expected_product, where + ": multiply_mod equals the reduced 128-bit product");
      tensor_mod(a0.data(), a1.data(), b0.data(), b1.data(), r0.data(), r1.data(), r2.data(), n, modulus, path);
      checks.expect(r0 == expected_product && r1 == expected_r1 && r2 == expected_r2,
                    where + ": tensor_mod equals the reduced 128-bit products and their sum");
      std::vector<u64> sum(n), difference(n);
      add_mod_vector(a0.data(), b0.data(), sum.data(), n, q, path);
      sub_mod_vector(a0.data(), b0.data(), difference.data(), n, q, path);
      checks.expect(sum == expected_sum && difference == expected_difference, where + ": add_mod_vector and sub_mod_vector");
      // in place, as decryption uses it
      std::vector<u64> in_place = a0;
      multiply_mod(in_place.data(), b0.data(), in_place.data(), n, modulus, path);
      checks.expect(in_place == expected_product, where + ": multiply_mod in place");

      // A permutation of [0, n) gathers.
      std::vector<std::uint32_t> index(n);
      for (std::size_t c = 0; c < n; ++c) index[c] = static_cast<std::uint32_t>((c * 7 + 3) % n);
      std::vector<u64> gathered(n);
      gather(a0.data(), index.data(), gathered.data(), n, path);
      bool gather_ok = true;
      for (std::size_t c = 0; c < n; ++c) gather_ok = gather_ok && gathered[c] == a0[index[c]];
      checks.expect(gather_ok, where + ": gather permutes");
    }
  }
}

void dot_product_suite(Checks& checks, std::mt19937_64& random) {
  const std::size_t n = 2048;
  for (u64 q : ntt_primes_from_bit_sizes(n, {30, 49, 50, 60})) {
    const Modulus modulus(q);
    std::uniform_int_distribution<u64> residue(0, q - 1);
    for (std::size_t terms : {1, 15, 16, 19, 40}) {
      std::vector<std::vector<u64>> x(terms, std::vector<u64>(n)), y0 = x, y1 = x;
      for (std::size_t d = 0; d < terms; ++d) {
        for (std::size_t c = 0; c < n; ++c) {
          // Every term at q - 1 on some coefficients: the largest sums the lazy lanes must hold.
          x[d][c] = c % 3 == 0 ? q - 1 : residue(random);
          y0[d][c] = c % 3 == 0 ? q - 1 : residue(random);
          y1[d][c] = c % 5 == 0 ? q - 1 : residue(random);
        }
      }
      std::vector<const u64*> xs, y0s, y1s;
      for (std::size_t d = 0; d < terms; ++d) xs.push_back(x[d].data()), y0s.push_back(y0[d].data()), y1s.push_back(y1[d].data());
      std::vector<u64> expected0(n, 0), expected1(n, 0);
      for (std::size_t c = 0; c < n; ++c) {
        for (std::size_t d = 0; d < terms; ++d) {
          expected0[c] = add_mod(expected0[c], mul_mod(x[d][c], y0[d][c], modulus), q);
          expected1[c] = add_mod(expected1[c], mul_mod(x[d][c], y1[d][c], modulus), q);
        }
      }
      for (const bool ifma : {false, true}) {
        if (ifma && !(cpu_supports(SimdPath::Avx512Ifma) && q < (u64(1) << 50))) continue;
        std::vector<u64> out0(n), out1(n);
        dot_product_mod(xs.data(), y0s.data(), y1s.data(), terms, modulus, out0.data(), out1.data(), n, ifma);
        const std::string where = std::string(ifma ? "avx512-ifma" : "portable") + " q=" + std::to_string(q) +
                                  " terms=" + std::to_string(terms);
        checks.expect(out0 == expected0 && out1 == expected1, where + ": dot_product_mod equals the exact inner products");
        // Three keys sharing x: the second key swaps y0 and y1, the third repeats the first.
        std::vector<const u64*> keys0, keys1;
        for (const auto& [first, second] : {std::pair(&y0s, &y1s), std::pair(&y1s, &y0s), std::pair(&y0s, &y1s)}) {
          keys0.insert(keys0.end(), first->begin(), first->end());
          keys1.insert(keys1.end(), second->begin(), second->end());
        }
        std::vector<std::vector<u64>> outs(6, std::vector<u64>(n));
        u64* outs0[3] = {outs[0].data(), outs[1].data(), outs[2].data()};
        u64* outs1[3] = {outs[3].data(), outs[4].data(), outs[5].data()};
        dot_product_mod(xs.data(), keys0.data(), keys1.data(), terms, 3, modulus, outs0, outs1, n, ifma);
        checks.expect(outs[0] == expected0 && outs[3] == expected1 && outs[1] == expected1 && outs[4] == expected0 &&
                          outs[2] == expected0 && outs[5] == expected1,
                      where + ": dot_product_mod with three keys equals the exact inner products");
      }
    }
  }
}

}  // namespace cipherlm::tests
