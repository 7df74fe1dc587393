// Arithmetic modulo a word-sized prime: Barrett reduction, Shoup multiplication by a constant.
#pragma once
#include <cstdint>

#include "ring/uint128.hpp"

namespace cipherlm {

// Primes below 2^50 fit the SIMD kernels: the 52-bit IFMA products and the exact double-precision
// AVX2 products both need a few q to stay below 2^52. Larger primes take the 64-bit kernels.
inline bool fits_simd_kernels(u64 q) { return q < (u64(1) << 50); }

// A prime modulus below 2^61 with its Barrett constant floor(2^128 / q).
struct Modulus {
  u64 value = 0;
  u64 barrett_hi = 0;  // floor(2^128 / q) >> 64
  u64 barrett_lo = 0;  // floor(2^128 / q) mod 2^64
  int bits = 0;

  Modulus() = default;
  explicit Modulus(u64 q) : value(q) {
    // floor(2^128 / q) == floor((2^128 - 1) / q) for odd q, as two 64-bit long division steps.
    const u64 all_ones = ~u64(0);
    barrett_hi = all_ones / q;
    barrett_lo = divide_to_64({all_ones, all_ones % q}, q);
    bits = bit_width(q);
  }

  // x mod q for any 128-bit x.
  u64 reduce128(UInt128 x) const {
    // Estimate floor(x / q) as the top 64 bits of x * floor(2^128 / q) / 2^128.
    const UInt128 mid = add_wide(multiply_wide(x.low, barrett_hi), multiply_high(x.low, barrett_lo));
    const UInt128 mid2 = multiply_wide(x.high, barrett_lo);
    const u64 carry = static_cast<u64>(mid.low + mid2.low < mid.low);
    const u64 quotient = mid.high + mid2.high + carry + x.high * barrett_hi;
    u64 r = x.low - quotient * value;
    // The estimate is low by at most 2.
    r -= value & (0 - static_cast<u64>(r >= value));
    r -= value & (0 - static_cast<u64>(r >= value));
    return r;
  }
  // x mod q for a 64-bit x: floor(2^64 / q) is barrett_hi, and the estimate is low by at most 1.
  u64 reduce(u64 x) const {
    u64 r = x - multiply_high(x, barrett_hi) * value;
    return r - (value & (0 - static_cast<u64>(r >= value)));
  }
};

inline u64 add_mod(u64 a, u64 b, u64 q) {
  u64 s = a + b;
  return s - (q & (0 - static_cast<u64>(s >= q)));
}
inline u64 sub_mod(u64 a, u64 b, u64 q) {
  u64 d = a - b;
  return d + (q & (0 - static_cast<u64>(a < b)));
}
inline u64 neg_mod(u64 a, u64 q) { return (q - a) & (0 - static_cast<u64>(a != 0)); }
inline u64 mul_mod(u64 a, u64 b, const Modulus& q) { return q.reduce128(multiply_wide(a, b)); }

// Shoup: w' = floor(w * 2^64 / q) makes w * x mod q one high multiply and two low ones (w < q).
inline u64 shoup_precompute(u64 w, u64 q) { return divide_to_64({0, w}, q); }
// Result in [0, 2q) for any 64-bit x.
inline u64 mul_shoup_lazy(u64 x, u64 w, u64 w_shoup, u64 q) { return x * w - multiply_high(x, w_shoup) * q; }
inline u64 mul_shoup(u64 x, u64 w, u64 w_shoup, u64 q) {
  u64 r = mul_shoup_lazy(x, w, w_shoup, q);
  return r - (q & (0 - static_cast<u64>(r >= q)));
}
// The 52-bit Shoup constant floor(w * 2^52 / q) of the IFMA kernels (w < q < 2^50).
inline u64 shoup52_constant(u64 w, u64 q) { return divide_to_64({w << 52, w >> 12}, q); }

inline u64 pow_mod(u64 base, u64 exponent, const Modulus& q) {
  u64 result = 1 % q.value, b = q.reduce(base);
  while (exponent) {
    if (exponent & 1) result = mul_mod(result, b, q);
    b = mul_mod(b, b, q);
    exponent >>= 1;
  }
  return result;
}
// Inverse modulo a prime by Fermat; only for public values.
inline u64 inv_mod(u64 a, const Modulus& q) { return pow_mod(a, q.value - 2, q); }

// Reduces a signed 64-bit value into [0, q) without a branch on its sign.
inline u64 reduce_signed(std::int64_t v, const Modulus& q) {
  u64 mask = static_cast<u64>(v >> 63);
  u64 magnitude = q.reduce((static_cast<u64>(v) ^ mask) - mask);
  return (magnitude ^ mask) - mask + (q.value & mask & (0 - static_cast<u64>(magnitude != 0))) ;
}

}  // namespace cipherlm
