// 128-bit unsigned arithmetic: the one place in native/ that knows how a compiler forms a 64 x 64 ->
// 128-bit product or divides 128 bits by 64. Every wide product, 128-bit accumulation and 128-by-64
// division in the engine goes through these functions; `unsigned __int128`, `_umul128` and friends
// appear nowhere else (native/ring/README.md, "Portable code").
//
// One implementation is chosen at compile time; all give identical results:
//   - GCC and Clang on 64-bit targets: unsigned __int128;
//   - MSVC on x64: _umul128, __umulh, _udiv128; MSVC on ARM64: __umulh with portable division;
//   - portable C++ (32-bit halves, Hacker's Delight division) everywhere else, and on every compiler
//     when CIPHERLM_PORTABLE is defined: the build option (cmake -DCIPHERLM_PORTABLE=ON) that runs
//     the whole test suite on this branch.
#pragma once
#include <cstdint>

#if !defined(CIPHERLM_PORTABLE) && defined(__SIZEOF_INT128__)
#define CIPHERLM_UINT128_COMPILER 1
#elif !defined(CIPHERLM_PORTABLE) && defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
#define CIPHERLM_UINT128_MSVC 1
#include <intrin.h>
#endif

namespace cipherlm {

using u64 = std::uint64_t;

struct UInt128 {
  u64 low = 0;
  u64 high = 0;
};

// Which implementation this build uses ("compiler", "msvc" or "portable"), for test reports.
constexpr const char* kUInt128Implementation =
#if defined(CIPHERLM_UINT128_COMPILER)
    "compiler";
#elif defined(CIPHERLM_UINT128_MSVC)
    "msvc";
#else
    "portable";
#endif

// Number of significant bits of x (0 for 0). Not on hot paths.
inline int bit_width(u64 x) {
  int bits = 0;
  while (x) { ++bits; x >>= 1; }
  return bits;
}

inline UInt128 multiply_wide(u64 a, u64 b) {
#if defined(CIPHERLM_UINT128_COMPILER)
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return {static_cast<u64>(product), static_cast<u64>(product >> 64)};
#elif defined(CIPHERLM_UINT128_MSVC) && defined(_M_X64)
  UInt128 product;
  product.low = _umul128(a, b, &product.high);
  return product;
#elif defined(CIPHERLM_UINT128_MSVC)
  return {a * b, __umulh(a, b)};
#else
  // Four 32 x 32-bit products; the middle sum cannot overflow (each term is below 2^64 - 2^33).
  const u64 a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const u64 lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const u64 middle = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  return {(middle << 32) | (lo_lo & 0xffffffffu), hi_hi + (hi_lo >> 32) + (middle >> 32)};
#endif
}

// The high 64 bits of a * b.
inline u64 multiply_high(u64 a, u64 b) {
#if defined(CIPHERLM_UINT128_MSVC)
  return __umulh(a, b);
#else
  return multiply_wide(a, b).high;
#endif
}

inline UInt128 add_wide(UInt128 a, UInt128 b) {
  const u64 low = a.low + b.low;
  return {low, a.high + b.high + static_cast<u64>(low < a.low)};
}
inline UInt128 add_wide(UInt128 a, u64 b) {
  const u64 low = a.low + b;
  return {low, a.high + static_cast<u64>(low < a.low)};
}

// floor(numerator / divisor) for numerator.high < divisor, so that the quotient fits in 64 bits.
inline u64 divide_to_64(UInt128 numerator, u64 divisor) {
#if defined(CIPHERLM_UINT128_COMPILER)
  return static_cast<u64>(((static_cast<unsigned __int128>(numerator.high) << 64) | numerator.low) / divisor);
#elif defined(CIPHERLM_UINT128_MSVC) && defined(_M_X64)
  u64 remainder;
  return _udiv128(numerator.high, numerator.low, divisor, &remainder);
#else
  // Hacker's Delight's divlu: normalize the divisor, then two steps of one 32-bit quotient digit.
  const int shift = 64 - bit_width(divisor);
  const u64 d = divisor << shift, d_hi = d >> 32, d_lo = d & 0xffffffffu;
  const u64 n_hi = shift == 0 ? numerator.high : (numerator.high << shift) | (numerator.low >> (64 - shift));
  const u64 n_lo = numerator.low << shift, n_lo_hi = n_lo >> 32, n_lo_lo = n_lo & 0xffffffffu;
  const auto digit = [&](u64 top, u64 next) {
    u64 q = top / d_hi, r = top - q * d_hi;
    while (q >> 32 || q * d_lo > ((r << 32) | next)) {
      --q;
      r += d_hi;
      if (r >> 32) break;
    }
    return q;
  };
  const u64 q1 = digit(n_hi, n_lo_hi);
  const u64 partial = ((n_hi << 32) | n_lo_hi) - q1 * d;
  const u64 q0 = digit(partial, n_lo_lo);
  return (q1 << 32) | q0;
#endif
}

}  // namespace cipherlm
