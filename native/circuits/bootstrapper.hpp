// CKKS bootstrapping (full slots): ModRaise, CoeffsToSlots, EvalMod, SlotsToCoeffs.
// The input at level 0 decrypts to M + e modulo q_0; raised to the top modulus it decrypts to
// M + e + q_0 I with a small integer polynomial I (|I| <= mod_range with overwhelming probability
// for a sparse secret). CoeffsToSlots puts t = (M + q_0 I) / q_0 into slots (real and imaginary
// halves separately), EvalMod removes I with sin(2 pi t) / 2 pi = M / q_0 + O(t^3) (a Chebyshev
// interpolant of a cosine, then double-angle steps), and SlotsToCoeffs moves the result back into
// coefficients at the input's scale. Levels are spent from the top of the chain.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "circuits/linear_transform.hpp"
#include "circuits/slot_order.hpp"
#include "ckks/encoder.hpp"
#include "rlwe/objects.hpp"

namespace cipherlm {

// Stage name and seconds spent in it, reported as each stage ends.
using BootstrapProgress = std::function<void(const std::string& stage, double seconds)>;
// For diagnostics and tests: the ciphertexts between stages ("raised", "coeffsToSlots" (the real half
// that EvalMod takes), "evalMod" (its output), "slotsToCoeffs").
using BootstrapInspector = std::function<void(const std::string& stage, const Ciphertext& ciphertext)>;

struct BootstrapConfig {
  std::size_t coeffs_to_slots_levels = 3;
  std::size_t slots_to_coeffs_levels = 3;
  std::size_t mod_range = 12;      // K: EvalMod is accurate for |I| <= K
  std::size_t double_angles = 3;   // r: the interpolant is of cos(2 pi (t - 1/4) / 2^r)
  std::size_t sine_degree = 40;    // Chebyshev degree of that interpolant
  // Sparse-secret encapsulation (Bossuat, Troncoso-Pastoriza, Hubaux, ePrint 2022/024): the level-0
  // ciphertext is switched to an ephemeral secret of this Hamming weight (modulo q_0 p_0 only) before
  // ModRaise and back to the main secret after it, so that |I| <= (h + 1) / 2 whatever the main
  // secret. 0: none (the main secret itself must be sparse).
  std::size_t ephemeral_hamming_weight = 0;
  // log2 of q_0 / (message scale) during the bootstrap: the level-0 input is multiplied by the power
  // of two that brings its scale up to q_0 / 2^ratio (noise added after ModRaise then counts against
  // the larger scale). 0: the input's own scale.
  std::size_t message_ratio = 0;
  // Baby steps of every linear transform: 0 for the fewest rotations, else that many babies and giant
  // steps by Horner's rule (fewest keys; see linear_transform.hpp).
  std::size_t baby_steps = 0;
  // Keep the linear transforms' diagonals as integer coefficients (one NTT per prime when used).
  bool compact_diagonals = false;
  // Sees the intermediate ciphertexts of every bootstrap; none by default.
  BootstrapInspector inspector;
};


class Bootstrapper {
 public:
  Bootstrapper(ContextPtr context, const BootstrapConfig& config);

  const BootstrapConfig& config() const { return config_; }
  // Galois elements of the keys bootstrapping needs, conjugation included.
  const std::vector<u64>& galois_elements() const { return galois_elements_; }
  // The highest level at which each of them is used: its key need not serve higher levels.
  const std::map<u64, std::size_t>& galois_levels() const { return galois_levels_; }
  // Every key bootstrapping needs but the relinearization key: the Galois keys (each for the levels
  // it is used at) and, with encapsulation, the keys to and from a fresh ephemeral sparse secret
  // (made here and wiped). `secret` is the main secret.
  GaloisKeys generate_keys(const SecretKey& secret) const;
  // Levels one bootstrap consumes and the level of its output.
  std::size_t depth() const { return depth_; }
  std::size_t output_level() const;
  // Largest |error| of the EvalMod approximation itself on its whole domain, relative to q_0 (float64).
  double eval_mod_error() const { return eval_mod_error_; }

  // A fresh ciphertext at output_level() with the same slots and scale as `input` (any level; it is
  // dropped to level 0 first). `factor` multiplies the result's slots (used by the variants below).
  Ciphertext bootstrap(const Ciphertext& input, const RelinKey& relin, const GaloisKeys& galois,
                       const BootstrapProgress& progress = nullptr, double factor = 1.0) const;
  // Two real-valued ciphertexts (same level and scale) for the price of one: packed as a + i b.
  // `factor` multiplies both results' slots, as in bootstrap().
  std::pair<Ciphertext, Ciphertext> bootstrap_two_real(const Ciphertext& a, const Ciphertext& b, const RelinKey& relin,
                                                       const GaloisKeys& galois,
                                                       const BootstrapProgress& progress = nullptr,
                                                       double factor = 1.0) const;
  // Bootstraps, then bootstraps the remaining error amplified by 2^boost_bits and subtracts it:
  // about boost_bits more bits of precision for twice the time.
  Ciphertext bootstrap_precise(const Ciphertext& input, const RelinKey& relin, const GaloisKeys& galois,
                               int boost_bits, const BootstrapProgress& progress = nullptr) const;

 private:
  // The level-0 input raised to the top level (under the main secret, its scale taken as q_0).
  Ciphertext mod_raise(const Ciphertext& input, const GaloisKeys& keys) const;
  Ciphertext eval_mod(const Ciphertext& u, const RelinKey& relin) const;
  Plaintext monomial(long long sign, std::size_t level) const;  // sign * X^(N/2): multiplication by +-i

  ContextPtr context_;
  BootstrapConfig config_;
  Encoder encoder_;
  SlotOrder order_;
  std::vector<LinearTransform> coeffs_to_slots_, slots_to_coeffs_;
  std::vector<double> cosine_;  // Chebyshev coefficients on u = t / (K + 1) in [-1, 1]
  std::size_t depth_ = 0;
  std::vector<u64> galois_elements_;
  std::map<u64, std::size_t> galois_levels_;
  double eval_mod_error_ = 0;
};

}  // namespace cipherlm
