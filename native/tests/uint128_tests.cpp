// The 128-bit helpers (ring/uint128.hpp) on whichever implementation this build uses: products
// checked against products of 32-bit halves, and divisions against the identity
// floor((a * b + r) / b) = a for r < b, on edge values and random words.
#include <string>
#include <vector>

#include "ring/uint128.hpp"
#include "tests/suites.hpp"

namespace cipherlm::tests {

namespace {

// a * b from four 32 x 32-bit products, written independently of the helper's portable branch.
UInt128 schoolbook_product(u64 a, u64 b) {
  const u64 mask = 0xffffffffu;
  UInt128 sum = {(a & mask) * (b & mask), (a >> 32) * (b >> 32)};
  for (const u64 cross : {(a >> 32) * (b & mask), (a & mask) * (b >> 32)}) sum = add_wide(sum, UInt128{cross << 32, cross >> 32});
  return sum;
}

}  // namespace

void uint128_suite(Checks& checks, std::mt19937_64& random) {
  std::vector<u64> words = {0, 1, 2, 3, 0xffffffffu, 0x100000000u, (u64(1) << 50) - 27, (u64(1) << 61) - 1, ~u64(0) - 1, ~u64(0)};
  for (int i = 0; i < 64; ++i) words.push_back(random() >> (random() % 64));
  bool products = true, highs = true, quotients = true;
  std::string first_failure;
  for (u64 a : words) {
    for (u64 b : words) {
      const UInt128 product = multiply_wide(a, b), expected = schoolbook_product(a, b);
      const bool product_ok = product.low == expected.low && product.high == expected.high;
      products = products && product_ok;
      highs = highs && multiply_high(a, b) == expected.high;
      if (b == 0) continue;
      const u64 remainder = b - 1 - random() % b;  // in [0, b)
      const bool quotient_ok = divide_to_64(add_wide(product, remainder), b) == a;
      quotients = quotients && quotient_ok;
      if ((!product_ok || !quotient_ok) && first_failure.empty()) first_failure = " (a=" + std::to_string(a) + " b=" + std::to_string(b) + ")";
    }
  }
  const std::string where = std::string(kUInt128Implementation) + " 128-bit arithmetic: ";
  checks.expect(products, where + "multiply_wide equals the schoolbook product" + first_failure);
  checks.expect(highs, where + "multiply_high is the high word of the product");
  checks.expect(quotients, where + "divide_to_64(a * b + r, b) = a for r < b" + first_failure);
  checks.expect(bit_width(0) == 0 && bit_width(1) == 1 && bit_width(4096) == 13 && bit_width(~u64(0)) == 64, where + "bit_width");
}

}  // namespace cipherlm::tests
