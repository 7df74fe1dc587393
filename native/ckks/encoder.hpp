// CKKS encoding through the canonical embedding. Slot j holds m(zeta^(3^j)), zeta = exp(i pi / N),
// so rotation by k is the automorphism X -> X^(3^k) (SEAL's slot order and generator).
#pragma once
#include <complex>
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm {

class Encoder {
 public:
  explicit Encoder(ContextPtr context);

  std::size_t slot_count() const { return n_ / 2; }
  // Fewer values than slots are padded with zeros.
  Plaintext encode(const std::complex<double>* values, std::size_t count, double scale, std::size_t level) const;
  Plaintext encode_real(const double* values, std::size_t count, double scale, std::size_t level) const;
  // Every slot holds `value`: a constant polynomial.
  Plaintext encode_scalar(double value, double scale, std::size_t level) const;
  // Every slot holds the integer `value`, at scale 1.
  Plaintext encode_integer(std::int64_t value, std::size_t level) const;
  // All slot_count() slots.
  void decode(const Plaintext& plaintext, std::complex<double>* out) const;
  // Coefficients of the decoded polynomial divided by the scale (centered CRT lift).
  void decode_coefficients(const Plaintext& plaintext, double* out) const;
  // The rounded integer coefficients (as doubles) that encode() reduces into a plaintext.
  std::vector<double> rounded_coefficients(const std::complex<double>* values, std::size_t count, double scale) const;
  // Signed integer coefficients to an NTT-form plaintext (each |c| must be below Q_level / 2).
  Plaintext from_coefficients(const double* rounded, double scale, std::size_t level) const;

 private:
  void fft(std::complex<double>* a, bool inverse) const;
  void check_level(std::size_t level) const;

  ContextPtr context_;
  std::size_t n_;
  int log_n_;
  std::vector<std::complex<double>> fft_roots_;  // exp(2 pi i k / N), k < N/2
  std::vector<std::complex<double>> twist_;      // exp(i pi k / N), k < N
  std::vector<std::size_t> slot_position_;       // slot j -> index (3^j mod 2N - 1) / 2
  std::vector<std::size_t> conjugate_position_;  // index of (-3^j mod 2N - 1) / 2
  std::vector<std::size_t> bit_reverse_;
  // Multiword CRT constants per level: Q_l, Q_l / q_i (each level + 1 words), (Q_l / q_i)^-1 mod q_i.
  struct CrtLevel {
    std::vector<u64> modulus, half_modulus, punctured, punctured_inverse;
  };
  std::vector<CrtLevel> crt_;
};

}  // namespace cipherlm
