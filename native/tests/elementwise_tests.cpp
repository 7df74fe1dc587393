// Coefficient-wise products, sums and differences on every SIMD path this CPU runs against exact
// 128-bit arithmetic reduced modulo q, for primes from 30 to 60 bits (the SIMD products take those
// below 2^50), on random residues with the extremes 0 and q - 1 mixed in, and a length that leaves a
// tail past the vectors.
#include <string>
#include <tuple>
#include <vector>

#include "ring/cpu_features.hpp"
#include "ring/elementwise.hpp"
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
    }
  }
}

}  // namespace cipherlm::tests
