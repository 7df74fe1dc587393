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
  // The same coefficients modulo one of the context's primes (data or special, by index), in NTT
  // form: the limbs a plaintext needs over Q_l P.
  void coefficient_residues(const double* rounded, std::size_t prime, u64* out) const;

 private:
  // The canonical embedding's FFT over slot_count() points, in the order of the powers of 5
  // (where its butterflies line up); slots in SEAL's order of powers of 3 map onto it.
  void embedding_fft(std::complex<double>* a) const;
  void embedding_fft_inverse(std::complex<double>* a) const;
  void check_level(std::size_t level) const;

  ContextPtr context_;
  std::size_t n_;
  int log_n_;
  // Per butterfly stage of half-length h, at offset h - 1: zeta^((5^j mod 8h) * 2N / 8h), j < h.
  std::vector<std::complex<double>> stage_roots_;
  // Slot j evaluates at 3^j = +-5^s mod 2N: the FFT's index s, and whether the sign is minus
  // (the slot is then the conjugate of the FFT's value).
  std::vector<std::size_t> fft_index_;
  std::vector<bool> conjugated_;
  std::vector<std::size_t> bit_reverse_;  // over slot_count() points
  // Multiword CRT constants per level: Q_l, Q_l / q_i (each level + 1 words), (Q_l / q_i)^-1 mod q_i.
  struct CrtLevel {
    std::vector<u64> modulus, half_modulus, punctured, punctured_inverse;
  };
  std::vector<CrtLevel> crt_;
};

}  // namespace cipherlm
