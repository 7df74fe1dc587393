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
  if (fits_simd_kernels(q)) {
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

namespace {

// Values per block of the portable transforms' late (forward) or early (inverse) stages: 16 KiB,
// which stays in any CPU's L1 with its twiddles while every stage inside the block runs.
constexpr std::size_t kPortableBlock = 2048;

// Harvey's forward butterfly: inputs in [0, 4q), outputs in [0, 4q).
inline void forward_butterfly(u64& x, u64& y, u64 w, u64 w_shoup, u64 q, u64 two_q) {
  u64 u = x;
  u -= two_q & (0 - static_cast<u64>(u >= two_q));
  const u64 v = mul_shoup_lazy(y, w, w_shoup, q);
  x = u + v;
  y = u - v + two_q;
}

// Harvey's inverse butterfly: inputs in [0, 2q), outputs in [0, 2q).
inline void inverse_butterfly(u64& x, u64& y, u64 w, u64 w_shoup, u64 q, u64 two_q) {
  const u64 u = x, v = y;
  u64 sum = u + v;
  sum -= two_q & (0 - static_cast<u64>(sum >= two_q));
  x = sum;
  y = mul_shoup_lazy(u - v + two_q, w, w_shoup, q);
}

}  // namespace

// The portable transforms follow the AVX-512 kernels' schedule with scalar butterflies: two stages
// per pass where two remain (radix 4: half the loads and stores), stages that cross blocks over the
// whole array, and the rest block by block while the block stays in L1. Each value goes through the
// same butterflies as in a stage-by-stage transform, so the outputs are the same.

// Forward stages m, 2m, ... below m_end (m groups of span n/m at stage m), on the groups of each
// stage that lie in [begin, begin + length).
void NttTables::forward_stages(u64* a, std::size_t m, std::size_t m_end, std::size_t begin,
                               std::size_t length) const {
  const u64 q = modulus_.value, two_q = 2 * q;
  const u64* w = root_powers.data();
  const u64* ws = root_powers_shoup.data();
  for (; m < m_end; m *= 2) {
    const std::size_t t = n_ / (2 * m), first = begin / (2 * t), last = (begin + length) / (2 * t);
    if (2 * m < m_end) {
      // stages m and 2m: group i of stage m holds [2it, 2it + 2t), split in two groups of span t
      const std::size_t h = t / 2;
      for (std::size_t i = first; i < last; ++i) {
        const u64 w0 = w[m + i], ws0 = ws[m + i];
        const u64 w1 = w[2 * (m + i)], ws1 = ws[2 * (m + i)];
        const u64 w2 = w[2 * (m + i) + 1], ws2 = ws[2 * (m + i) + 1];
        u64* p = a + 2 * i * t;
        for (std::size_t j = 0; j < h; ++j) {
          u64 x0 = p[j], x1 = p[j + h], x2 = p[j + t], x3 = p[j + t + h];
          forward_butterfly(x0, x2, w0, ws0, q, two_q);
          forward_butterfly(x1, x3, w0, ws0, q, two_q);
          forward_butterfly(x0, x1, w1, ws1, q, two_q);
          forward_butterfly(x2, x3, w2, ws2, q, two_q);
          p[j] = x0, p[j + h] = x1, p[j + t] = x2, p[j + t + h] = x3;
        }
      }
      m *= 2;
    } else {
      for (std::size_t i = first; i < last; ++i) {
        const u64 w0 = w[m + i], ws0 = ws[m + i];
        u64* x = a + 2 * i * t;
        for (std::size_t j = 0; j < t; ++j) forward_butterfly(x[j], x[j + t], w0, ws0, q, two_q);
      }
    }
  }
}

void NttTables::forward_portable(u64* a) const {
  const u64 q = modulus_.value, two_q = 2 * q;
  const std::size_t block = std::min(n_, kPortableBlock);
  // Stages whose groups span more than a block (m < n / block), then every block on its own.
  forward_stages(a, 1, n_ / block, 0, n_);
  for (std::size_t begin = 0; begin < n_; begin += block) {
    forward_stages(a, n_ / block, n_, begin, block);
    for (std::size_t i = begin; i < begin + block; ++i) {
      u64 v = a[i];
      v -= two_q & (0 - static_cast<u64>(v >= two_q));
      v -= q & (0 - static_cast<u64>(v >= q));
      a[i] = v;
    }
  }
}

// Inverse stages of span t, 2t, ... below t_end (stage of span t: n/2t groups of 2t values,
// twiddles from n/2t), on the groups of each stage that lie in [begin, begin + length).
void NttTables::inverse_stages(u64* a, std::size_t t, std::size_t t_end, std::size_t begin,
                               std::size_t length) const {
  const u64 q = modulus_.value, two_q = 2 * q;
  const u64* w = inv_root_powers.data();
  const u64* ws = inv_root_powers_shoup.data();
  for (; t < t_end; t *= 2) {
    const std::size_t h = n_ / (2 * t);
    if (2 * t < t_end) {
      // stages of span t and 2t: group i of the second holds [4it, 4it + 4t)
      const std::size_t first = begin / (4 * t), last = (begin + length) / (4 * t);
      for (std::size_t i = first; i < last; ++i) {
        const u64 w0 = w[2 * i + h], ws0 = ws[2 * i + h];
        const u64 w1 = w[2 * i + 1 + h], ws1 = ws[2 * i + 1 + h];
        const u64 w2 = w[h / 2 + i], ws2 = ws[h / 2 + i];
        u64* p = a + 4 * i * t;
        for (std::size_t j = 0; j < t; ++j) {
          u64 x0 = p[j], x1 = p[j + t], x2 = p[j + 2 * t], x3 = p[j + 3 * t];
          inverse_butterfly(x0, x1, w0, ws0, q, two_q);
          inverse_butterfly(x2, x3, w1, ws1, q, two_q);
          inverse_butterfly(x0, x2, w2, ws2, q, two_q);
          inverse_butterfly(x1, x3, w2, ws2, q, two_q);
          p[j] = x0, p[j + t] = x1, p[j + 2 * t] = x2, p[j + 3 * t] = x3;
        }
      }
      t *= 2;
    } else {
      const std::size_t first = begin / (2 * t), last = (begin + length) / (2 * t);
      for (std::size_t i = first; i < last; ++i) {
        const u64 w0 = w[h + i], ws0 = ws[h + i];
        u64* x = a + 2 * i * t;
        for (std::size_t j = 0; j < t; ++j) inverse_butterfly(x[j], x[j + t], w0, ws0, q, two_q);
      }
    }
  }
}

void NttTables::inverse_portable(u64* a) const {
  const u64 q = modulus_.value;
  const std::size_t block = std::min(n_, kPortableBlock), half = n_ / 2;
  // Stages inside a block, every block on its own; then the wider ones over the whole array but the
  // last, which takes the scaling by 1/n with it: (x + y) / n and (x - y) psi^-1 / n.
  for (std::size_t begin = 0; begin < n_; begin += block) inverse_stages(a, 1, std::min(block, half), begin, block);
  inverse_stages(a, std::min(block, half), half, 0, n_);
  const u64 w = mul_mod(inv_root_powers[1], inv_n, modulus_), w_shoup = shoup_precompute(w, q);
  for (std::size_t j = 0; j < half; ++j) {
    const u64 u = a[j], v = a[j + half];
    a[j] = mul_shoup(u + v, inv_n, inv_n_shoup, q);
    a[j + half] = mul_shoup(u - v + 2 * q, w, w_shoup, q);
  }
}

}  // namespace cipherlm
