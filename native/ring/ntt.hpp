// Negacyclic number-theoretic transform modulo one prime (Harvey's lazy butterflies, Shoup twiddles).
// Forward input is in coefficient order, output in bit-reversed order: output i holds the polynomial
// evaluated at psi^(2 bitrev(i) + 1), psi the minimal primitive 2N-th root (SEAL's layout).
#pragma once
#include <cstddef>
#include <vector>

#include "ring/cpu_features.hpp"
#include "ring/modarith.hpp"

namespace cipherlm {

class NttTables {
 public:
  NttTables(std::size_t ring_degree, const Modulus& modulus);

  void forward(u64* values, SimdPath path) const { forward(values, values, path); }
  // output = the forward transform of input (which may be output): the AVX-512 kernels read the
  // input in their first pass; the others copy it first.
  void forward(const u64* input, u64* output, SimdPath path) const;
  void inverse(u64* values, SimdPath path) const;

  std::size_t ring_degree() const { return n_; }
  int log_degree() const { return log_n_; }
  const Modulus& modulus() const { return modulus_; }
  u64 root() const { return root_; }
  // Whether the 52-bit IFMA kernels may be used with this prime (4q must fit in 52 bits).
  bool ifma_capable() const { return fits_simd_kernels(modulus_.value); }
  // Whether the AVX2 kernels may be used with this prime (their lazy values, a few q, must stay
  // exact in a double's 53 bits); their twiddle tables exist only then, and only on x86-64.
  bool fma_capable() const { return !root_powers_f64.empty(); }

  // Tables, public for the SIMD kernels: powers of psi (and psi^-1) in bit-reversed order with
  // 64-bit and 52-bit Shoup companions.
  std::vector<u64> root_powers, root_powers_shoup, root_powers_shoup52;
  std::vector<u64> inv_root_powers, inv_root_powers_shoup, inv_root_powers_shoup52;
  u64 inv_n = 0, inv_n_shoup = 0, inv_n_shoup52 = 0;
  // The same powers as doubles (exact below 2^50) for the AVX2 kernels.
  std::vector<double> root_powers_f64, inv_root_powers_f64;

 private:
  void forward_portable(u64* values) const;
  void inverse_portable(u64* values) const;
  void forward_stages(u64* values, std::size_t m, std::size_t m_end, std::size_t begin, std::size_t length) const;
  void inverse_stages(u64* values, std::size_t t, std::size_t t_end, std::size_t begin, std::size_t length) const;

  std::size_t n_;
  int log_n_;
  Modulus modulus_;
  u64 root_;
};

#if CIPHERLM_X86_KERNELS
// AVX-512 kernels (ntt_avx512.cpp), compiled with target attributes: 52-bit IFMA products for
// primes below 2^50, 64-bit products for larger ones.
void ntt_forward_avx512ifma(const NttTables& tables, const u64* input, u64* output);
void ntt_inverse_avx512ifma(const NttTables& tables, u64* values);
void ntt_forward_avx512_wide(const NttTables& tables, const u64* input, u64* output);
void ntt_inverse_avx512_wide(const NttTables& tables, u64* values);
// AVX2 + FMA kernels (ntt_avx2.cpp) for primes below 2^50: the transform runs on doubles in place.
void ntt_forward_avx2(const NttTables& tables, u64* values);
void ntt_inverse_avx2(const NttTables& tables, u64* values);
#endif

inline std::size_t reverse_bits(std::size_t x, int bits) {
  std::size_t r = 0;
  for (int i = 0; i < bits; ++i) { r = (r << 1) | (x & 1); x >>= 1; }
  return r;
}

}  // namespace cipherlm
