#include "ring/ntt.hpp"

#include <algorithm>

#include "ring/error.hpp"
#include "ring/primes.hpp"

namespace cipherlm {

NttTables::NttTables(std::size_t ring_degree, const Modulus& modulus)
    : n_(ring_degree), log_n_(bit_width(ring_degree) - 1), modulus_(modulus) {
  require(ring_degree >= 8 && (ring_degree & (ring_degree - 1)) == 0, ErrorCode::InvalidArgument,
          "ring degree must be a power of two");
  require(modulus.value < (u64(1) << 61), ErrorCode::InvalidArgument, "NTT modulus must be below 2^61");
  const u64 q = modulus.value;
  root_ = minimal_primitive_root(2 * n_, modulus_);
  const u64 inv_root = inv_mod(root_, modulus_);
  root_powers.resize(n_);
  inv_root_powers.resize(n_);
  u64 power = 1, inv_power = 1;
  for (std::size_t i = 0; i < n_; ++i) {
    const std::size_t r = reverse_bits(i, log_n_);
    root_powers[r] = power;
    inv_root_powers[r] = inv_power;
    power = mul_mod(power, root_, modulus_);
    inv_power = mul_mod(inv_power, inv_root, modulus_);
  }
  root_powers_shoup.resize(n_);
  inv_root_powers_shoup.resize(n_);
  root_powers_shoup52.resize(n_);
  inv_root_powers_shoup52.resize(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    root_powers_shoup[i] = shoup_precompute(root_powers[i], q);
    inv_root_powers_shoup[i] = shoup_precompute(inv_root_powers[i], q);
    if (ifma_capable()) {
      root_powers_shoup52[i] = shoup52_constant(root_powers[i], q);
      inv_root_powers_shoup52[i] = shoup52_constant(inv_root_powers[i], q);
    }
  }
#if CIPHERLM_X86_KERNELS
  if (q < (u64(1) << 50)) {
    root_powers_f64.assign(root_powers.begin(), root_powers.end());
    inv_root_powers_f64.assign(inv_root_powers.begin(), inv_root_powers.end());
  }
#endif
  inv_n = inv_mod(n_ % q, modulus_);
  inv_n_shoup = shoup_precompute(inv_n, q);
  if (ifma_capable()) inv_n_shoup52 = shoup52_constant(inv_n, q);
}

void NttTables::forward(const u64* input, u64* output, [[maybe_unused]] SimdPath path) const {
#if CIPHERLM_X86_KERNELS
  // The AVX-512 kernels work on blocks of 16 values.
  if (path == SimdPath::Avx512Ifma && n_ >= 16) {
    if (ifma_capable()) return ntt_forward_avx512ifma(*this, input, output);
    return ntt_forward_avx512_wide(*this, input, output);
  }
#endif
  if (input != output) std::copy(input, input + n_, output);
#if CIPHERLM_X86_KERNELS
  if (path == SimdPath::Avx2 && fma_capable()) return ntt_forward_avx2(*this, output);
#endif
  forward_portable(output);
}

void NttTables::inverse(u64* values, [[maybe_unused]] SimdPath path) const {
#if CIPHERLM_X86_KERNELS
  if (path == SimdPath::Avx512Ifma && n_ >= 16) {
    if (ifma_capable()) return ntt_inverse_avx512ifma(*this, values);
    return ntt_inverse_avx512_wide(*this, values);
  }
  if (path == SimdPath::Avx2 && fma_capable()) return ntt_inverse_avx2(*this, values);
#endif
  inverse_portable(values);
}

void NttTables::forward_portable(u64* a) const {
  const u64 q = modulus_.value, two_q = 2 * q;
  std::size_t t = n_;
  for (std::size_t m = 1; m < n_; m <<= 1) {
    t >>= 1;
    for (std::size_t i = 0; i < m; ++i) {
      const u64 w = root_powers[m + i], w_shoup = root_powers_shoup[m + i];
      u64* x = a + 2 * i * t;
      u64* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        // Inputs in [0, 4q); outputs in [0, 4q).
        u64 u = x[j];
        u -= two_q & (0 - static_cast<u64>(u >= two_q));
        const u64 v = mul_shoup_lazy(y[j], w, w_shoup, q);
        x[j] = u + v;
        y[j] = u - v + two_q;
      }
    }
  }
  for (std::size_t i = 0; i < n_; ++i) {
    u64 v = a[i];
    v -= two_q & (0 - static_cast<u64>(v >= two_q));
    v -= q & (0 - static_cast<u64>(v >= q));
    a[i] = v;
  }
}

void NttTables::inverse_portable(u64* a) const {
  const u64 q = modulus_.value, two_q = 2 * q;
  std::size_t t = 1;
  for (std::size_t m = n_; m > 1; m >>= 1) {
    const std::size_t h = m >> 1;
    for (std::size_t i = 0; i < h; ++i) {
      const u64 w = inv_root_powers[h + i], w_shoup = inv_root_powers_shoup[h + i];
      u64* x = a + 2 * i * t;
      u64* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        // Inputs in [0, 2q); outputs in [0, 2q).
        const u64 u = x[j], v = y[j];
        u64 sum = u + v;
        sum -= two_q & (0 - static_cast<u64>(sum >= two_q));
        x[j] = sum;
        y[j] = mul_shoup_lazy(u - v + two_q, w, w_shoup, q);
      }
    }
    t <<= 1;
  }
  for (std::size_t i = 0; i < n_; ++i) a[i] = mul_shoup(a[i], inv_n, inv_n_shoup, q);
}

}  // namespace cipherlm
