#include "ckks/encoder.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "ring/elementwise.hpp"
#include "ring/error.hpp"

namespace cipherlm {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Multiword helpers for the CRT lift (little-endian 64-bit words, fixed length).
void multiply_word(const u64* a, std::size_t words, u64 b, u64* out) {
  u64 carry = 0;
  for (std::size_t i = 0; i < words; ++i) {
    const UInt128 p = add_wide(multiply_wide(a[i], b), carry);
    out[i] = p.low;
    carry = p.high;
  }
  out[words] = carry;
}
bool greater_or_equal(const u64* a, const u64* b, std::size_t words) {
  for (std::size_t i = words; i-- > 0;) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return true;
}
void subtract_in_place(u64* a, const u64* b, std::size_t words) {
  u64 borrow = 0;
  for (std::size_t i = 0; i < words; ++i) {
    const u64 difference = a[i] - b[i];
    const u64 next_borrow = static_cast<u64>(a[i] < b[i]) | static_cast<u64>(difference < borrow);
    a[i] = difference - borrow;
    borrow = next_borrow;
  }
}
void add_in_place(u64* a, const u64* b, std::size_t words) {
  u64 carry = 0;
  for (std::size_t i = 0; i < words; ++i) {
    const UInt128 s = add_wide(add_wide(UInt128{a[i], 0}, b[i]), carry);
    a[i] = s.low;
    carry = s.high;
  }
}
// c mod q for an integral double of any magnitude: c = mantissa * 2^exponent exactly, with a 53-bit
// integer mantissa.
u64 reduce_large(double c, const Modulus& q) {
  if (std::fabs(c) < 9.2e18) return reduce_signed(static_cast<std::int64_t>(c), q);
  int exponent = 0;
  const double fraction = std::frexp(std::fabs(c), &exponent);
  const u64 mantissa = static_cast<u64>(std::ldexp(fraction, 53));
  const u64 r = mul_mod(q.reduce(mantissa), pow_mod(2, static_cast<u64>(exponent - 53), q), q);
  return c < 0 ? neg_mod(r, q.value) : r;
}
double to_double(const u64* a, std::size_t words) {
  double v = 0;
  for (std::size_t i = words; i-- > 0;) v = v * 18446744073709551616.0 + static_cast<double>(a[i]);
  return v;
}

}  // namespace

Encoder::Encoder(ContextPtr context) : context_(std::move(context)), n_(context_->ring_degree()), log_n_(context_->log_degree()) {
  const std::size_t slots = n_ / 2, two_n = 2 * n_;
  std::vector<std::size_t> powers_of_five(slots);
  std::vector<std::size_t> five_index(two_n, 0);
  std::vector<bool> five_negated(two_n, false);
  for (std::size_t s = 0, power = 1; s < slots; ++s, power = (power * 5) % two_n) {
    powers_of_five[s] = power;
    five_index[power] = five_index[two_n - power] = s;
    five_negated[two_n - power] = true;
  }
  fft_index_.resize(slots);
  conjugated_.resize(slots);
  for (std::size_t j = 0, power = 1; j < slots; ++j, power = (power * 3) % two_n) {
    fft_index_[j] = five_index[power];
    conjugated_[j] = five_negated[power];
  }
  stage_roots_.resize(slots);
  for (std::size_t half = 1; half < slots; half <<= 1) {
    const std::size_t period = 8 * half;
    for (std::size_t j = 0; j < half; ++j) {
      const std::size_t exponent = (powers_of_five[j] % period) * (two_n / period);
      stage_roots_[half - 1 + j] = std::polar(1.0, 2 * kPi * double(exponent) / double(two_n));
    }
  }
  bit_reverse_.resize(slots);
  for (std::size_t i = 0; i < slots; ++i) bit_reverse_[i] = reverse_bits(i, log_n_ - 1);

  for (std::size_t level = 0; level <= context_->max_level(); ++level) {
    const std::size_t words = level + 1;
    CrtLevel crt;
    crt.modulus.assign(words + 1, 0);
    crt.modulus[0] = 1;
    std::vector<u64> scratch(words + 1);
    for (std::size_t i = 0; i <= level; ++i) {
      multiply_word(crt.modulus.data(), words, context_->modulus(i).value, scratch.data());
      crt.modulus.assign(scratch.begin(), scratch.end());
    }
    crt.half_modulus = crt.modulus;
    for (std::size_t i = 0; i < words + 1; ++i) {
      crt.half_modulus[i] = (crt.half_modulus[i] >> 1) | (i + 1 < words + 1 ? crt.half_modulus[i + 1] << 63 : 0);
    }
    crt.punctured.assign(words * (words + 1), 0);
    for (std::size_t i = 0; i <= level; ++i) {
      std::vector<u64> product(words + 1, 0);
      product[0] = 1;
      u64 product_mod_qi = 1;
      const Modulus& qi = context_->modulus(i);
      for (std::size_t m = 0; m <= level; ++m) {
        if (m == i) continue;
        multiply_word(product.data(), words, context_->modulus(m).value, scratch.data());
        product.assign(scratch.begin(), scratch.end());
        product_mod_qi = mul_mod(product_mod_qi, qi.reduce(context_->modulus(m).value), qi);
      }
      std::copy(product.begin(), product.end(), crt.punctured.begin() + i * (words + 1));
      crt.punctured_inverse.push_back(inv_mod(product_mod_qi, qi));
    }
    crt_.push_back(std::move(crt));
  }
}

void Encoder::check_level(std::size_t level) const {
  require(level <= context_->max_level(), ErrorCode::OutOfRange,
          "level " + std::to_string(level) + " is above the top level " + std::to_string(context_->max_level()));
}

namespace {

// Spelled out: std::complex's operator* checks for NaN and infinities, which the FFT never meets.
inline std::complex<double> times(std::complex<double> a, std::complex<double> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

}  // namespace

void Encoder::embedding_fft(std::complex<double>* a) const {
  const std::size_t slots = n_ / 2;
  for (std::size_t i = 0; i < slots; ++i) {
    if (i < bit_reverse_[i]) std::swap(a[i], a[bit_reverse_[i]]);
  }
  for (std::size_t half = 1; half < slots; half <<= 1) {
    const std::complex<double>* roots = stage_roots_.data() + half - 1;
    for (std::size_t start = 0; start < slots; start += 2 * half) {
      for (std::size_t j = 0; j < half; ++j) {
        const std::complex<double> u = a[start + j], v = times(a[start + j + half], roots[j]);
        a[start + j] = u + v;
        a[start + j + half] = u - v;
      }
    }
  }
}

// The inverse without the division by slot_count(), which the caller folds into its scale.
void Encoder::embedding_fft_inverse(std::complex<double>* a) const {
  const std::size_t slots = n_ / 2;
  for (std::size_t half = slots / 2; half >= 1; half >>= 1) {
    const std::complex<double>* roots = stage_roots_.data() + half - 1;
    for (std::size_t start = 0; start < slots; start += 2 * half) {
      for (std::size_t j = 0; j < half; ++j) {
        const std::complex<double> u = a[start + j], v = a[start + j + half];
        a[start + j] = u + v;
        a[start + j + half] = times(u - v, std::conj(roots[j]));
      }
    }
  }
  for (std::size_t i = 0; i < slots; ++i) {
    if (i < bit_reverse_[i]) std::swap(a[i], a[bit_reverse_[i]]);
  }
}

Plaintext Encoder::from_coefficients(const double* rounded, double scale, std::size_t level) const {
  check_level(level);
  const Context& context = *context_;
  const std::size_t limbs = level + 1;
  // |c| < Q_level / 2, checked in floating point with a margin of one bit.
  const double limit = std::ldexp(1.0, static_cast<int>(std::floor(context.log_modulus_at_level(level))) - 2);
  for (std::size_t k = 0; k < n_; ++k) {
    if (!std::isfinite(rounded[k])) fail(ErrorCode::OutOfRange, "cannot encode a NaN or infinite value");
    if (std::fabs(rounded[k]) >= limit) {
      fail(ErrorCode::OutOfRange,
           "encoded value times scale (about 2^" + std::to_string(static_cast<int>(std::log2(std::fabs(rounded[k])))) +
               ") does not fit the modulus at level " + std::to_string(level) + " (2^" +
               std::to_string(static_cast<int>(context.log_modulus_at_level(level))) +
               "): lower the scale or the values, or encode at a higher level");
    }
  }
  Plaintext pt;
  pt.context = context_;
  pt.level = level;
  pt.scale = scale;
  pt.data = pt.context->allocate(limbs * n_);
  // The common case, every |c| below 2^63, converts once and reduces limb by limb in SIMD lanes.
  const bool fits_64_bits = limit <= 9.2e18 || std::all_of(rounded, rounded + n_, [](double c) { return std::fabs(c) < 9.2e18; });
  std::vector<std::int64_t> integers;
  if (fits_64_bits) {
    integers.resize(n_);
    for (std::size_t k = 0; k < n_; ++k) integers[k] = static_cast<std::int64_t>(rounded[k]);
  }
  context.pool()->parallel_for(limbs, [&](std::size_t i) {
    const Modulus& q = context.modulus(i);
    u64* limb = pt.limb(i);
    if (fits_64_bits) {
      reduce_signed_vector(integers.data(), limb, n_, q, context.use_avx512());
    } else {
      for (std::size_t k = 0; k < n_; ++k) limb[k] = reduce_large(rounded[k], q);
    }
    context.ntt(i).forward(limb, context.simd_path());
  });
  return pt;
}

void Encoder::coefficient_residues(const double* rounded, std::size_t prime, u64* out) const {
  const Context& context = *context_;
  require(prime < context.prime_count(), ErrorCode::InvalidArgument, "no such prime in this context");
  const Modulus& q = context.modulus(prime);
  for (std::size_t k = 0; k < n_; ++k) out[k] = reduce_large(rounded[k], q);
  context.ntt(prime).forward(out, context.simd_path());
}

Plaintext Encoder::encode(const std::complex<double>* values, std::size_t count, double scale, std::size_t level) const {
  check_level(level);
  const std::vector<double> rounded = rounded_coefficients(values, count, scale);
  return from_coefficients(rounded.data(), scale, level);
}

std::vector<double> Encoder::rounded_coefficients(const std::complex<double>* values, std::size_t count, double scale) const {
  require(count <= slot_count(), ErrorCode::OutOfRange,
          std::to_string(count) + " values do not fit in " + std::to_string(slot_count()) + " slots");
  require(std::isfinite(scale) && scale >= 1.0, ErrorCode::OutOfRange, "scale must be finite and at least 1");
  const std::size_t slots = n_ / 2;
  std::vector<std::complex<double>> a(slots, 0.0);
  for (std::size_t j = 0; j < count; ++j) {
    // Not require(): its message would be built for every slot.
    if (!std::isfinite(values[j].real()) || !std::isfinite(values[j].imag())) {
      fail(ErrorCode::OutOfRange, "cannot encode a NaN or infinite value (slot " + std::to_string(j) + ")");
    }
    a[fft_index_[j]] = conjugated_[j] ? std::conj(values[j]) : values[j];
  }
  embedding_fft_inverse(a.data());
  // The real parts are the first half of the coefficients, the imaginary parts the second.
  std::vector<double> rounded(n_);
  const double factor = scale / double(slots);
  for (std::size_t k = 0; k < slots; ++k) {
    rounded[k] = std::nearbyint(a[k].real() * factor);
    rounded[k + slots] = std::nearbyint(a[k].imag() * factor);
  }
  return rounded;
}

Plaintext Encoder::encode_real(const double* values, std::size_t count, double scale, std::size_t level) const {
  std::vector<std::complex<double>> complex_values(values, values + count);
  return encode(complex_values.data(), count, scale, level);
}

Plaintext Encoder::encode_scalar(double value, double scale, std::size_t level) const {
  require(std::isfinite(value), ErrorCode::OutOfRange, "cannot encode a NaN or infinite value");
  require(std::isfinite(scale) && scale >= 1.0, ErrorCode::OutOfRange, "scale must be finite and at least 1");
  std::vector<double> rounded(n_, 0.0);
  rounded[0] = std::nearbyint(value * scale);
  return from_coefficients(rounded.data(), scale, level);
}

Plaintext Encoder::encode_integer(std::int64_t value, std::size_t level) const {
  std::vector<double> rounded(n_, 0.0);
  rounded[0] = static_cast<double>(value);
  require(static_cast<std::int64_t>(rounded[0]) == value, ErrorCode::OutOfRange, "integer is too large to encode exactly");
  return from_coefficients(rounded.data(), 1.0, level);
}

void Encoder::decode_coefficients(const Plaintext& pt, double* out) const {
  require(pt.context.get() == context_.get(), ErrorCode::ParameterMismatch, "plaintext belongs to a different context");
  const Context& context = *context_;
  const std::size_t limbs = pt.level + 1, words = limbs + 1;
  std::vector<u64> coefficients(pt.data.begin(), pt.data.end());
  context.pool()->parallel_for(limbs, [&](std::size_t i) { context.ntt(i).inverse(coefficients.data() + i * n_, context.simd_path()); });
  const CrtLevel& crt = crt_[pt.level];
  const double inverse_scale = 1.0 / pt.scale;
  context.pool()->parallel_for(n_ / 256 + (n_ % 256 != 0), [&](std::size_t block) {
    std::vector<u64> acc(words), term(words), negated(words);
    const std::size_t end = std::min(n_, (block + 1) * 256);
    for (std::size_t k = block * 256; k < end; ++k) {
      std::fill(acc.begin(), acc.end(), 0);
      for (std::size_t i = 0; i < limbs; ++i) {
        const Modulus& q = context.modulus(i);
        const u64 y = mul_mod(coefficients[i * n_ + k], crt.punctured_inverse[i], q);
        multiply_word(crt.punctured.data() + i * words, limbs, y, term.data());
        add_in_place(acc.data(), term.data(), words);
      }
      while (greater_or_equal(acc.data(), crt.modulus.data(), words)) subtract_in_place(acc.data(), crt.modulus.data(), words);
      double value;
      if (greater_or_equal(crt.half_modulus.data(), acc.data(), words)) {
        value = to_double(acc.data(), words);
      } else {
        negated = crt.modulus;
        subtract_in_place(negated.data(), acc.data(), words);
        value = -to_double(negated.data(), words);
      }
      out[k] = value * inverse_scale;
    }
  });
}

void Encoder::decode(const Plaintext& pt, std::complex<double>* out) const {
  std::vector<double> coefficients(n_);
  decode_coefficients(pt, coefficients.data());
  const std::size_t slots = n_ / 2;
  std::vector<std::complex<double>> a(slots);
  for (std::size_t k = 0; k < slots; ++k) a[k] = {coefficients[k], coefficients[k + slots]};
  embedding_fft(a.data());
  for (std::size_t j = 0; j < slots; ++j) out[j] = conjugated_[j] ? std::conj(a[fft_index_[j]]) : a[fft_index_[j]];
}

}  // namespace cipherlm
