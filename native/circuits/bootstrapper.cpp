#include "circuits/bootstrapper.hpp"

#include <chrono>
#include <cmath>
#include <set>

#include "circuits/chebyshev.hpp"
#include "circuits/homomorphic_dft.hpp"
#include "ckks/evaluator.hpp"
#include "ring/elementwise.hpp"
#include "ring/error.hpp"
#include "rlwe/keygen.hpp"
#include "rlwe/keyswitch.hpp"

namespace cipherlm {

namespace {

constexpr double kPi = 3.14159265358979323846;

class StageClock {
 public:
  explicit StageClock(const BootstrapProgress& progress) : progress_(progress), start_(std::chrono::steady_clock::now()) {}
  void done(const char* stage) {
    const auto now = std::chrono::steady_clock::now();
    if (progress_) progress_(stage, std::chrono::duration<double>(now - start_).count());
    start_ = now;
  }

 private:
  const BootstrapProgress& progress_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

Bootstrapper::Bootstrapper(ContextPtr context, const BootstrapConfig& config)
    : context_(std::move(context)), config_(config), encoder_(context_), order_(context_->ring_degree()) {
  const std::size_t slots = context_->slot_count();
  require(config_.mod_range >= 1 && config_.mod_range <= 256, ErrorCode::InvalidArgument, "modRange must be in [1, 256]");
  require(config_.double_angles <= 8, ErrorCode::InvalidArgument, "doubleAngles must be at most 8");
  require(config_.sine_degree >= 4 && config_.sine_degree <= 255, ErrorCode::InvalidArgument,
          "sineDegree must be in [4, 255]");
  require(config_.ephemeral_hamming_weight <= context_->ring_degree(), ErrorCode::InvalidArgument,
          "the ephemeral secret's Hamming weight cannot exceed N");
  require(config_.message_ratio <= 40, ErrorCode::InvalidArgument, "messageRatio must be at most 40");
  require(config_.baby_steps == 0 || (config_.baby_steps <= 64 && (config_.baby_steps & (config_.baby_steps - 1)) == 0),
          ErrorCode::InvalidArgument, "babySteps must be 0 or a power of two up to 64");
  for (DiagonalMatrix& m : coeffs_to_slots_groups(slots, config_.coeffs_to_slots_levels))
    coeffs_to_slots_.emplace_back(std::move(m), order_, config_.baby_steps, config_.compact_diagonals);
  for (DiagonalMatrix& m : slots_to_coeffs_groups(slots, config_.slots_to_coeffs_levels))
    slots_to_coeffs_.emplace_back(std::move(m), order_, config_.baby_steps, config_.compact_diagonals);

  const double range = static_cast<double>(config_.mod_range + 1);
  const double angle_divisor = std::ldexp(1.0, static_cast<int>(config_.double_angles));
  cosine_ = chebyshev_interpolate(
      [&](double u) { return std::cos(2 * kPi * (range * u - 0.25) / angle_divisor); }, -1.0, 1.0, config_.sine_degree);
  const std::size_t eval_mod_levels = ChebyshevEvaluation::levels_consumed(cosine_) + config_.double_angles;
  depth_ = config_.coeffs_to_slots_levels + eval_mod_levels + config_.slots_to_coeffs_levels;
  require(depth_ <= context_->max_level(), ErrorCode::InvalidArgument,
          "bootstrapping needs " + std::to_string(depth_) + " levels above level 0; the context has " +
              std::to_string(context_->max_level()));

  // Each element at the highest level it is used: CoeffsToSlots from the top down, the conjugation
  // that splits its output, SlotsToCoeffs from the level EvalMod leaves.
  const std::size_t top = context_->max_level();
  auto use = [&](u64 element, std::size_t level) {
    auto& highest = galois_levels_[element];
    highest = std::max(highest, level);
  };
  for (std::size_t g = 0; g < coeffs_to_slots_.size(); ++g)
    for (u64 e : coeffs_to_slots_[g].galois_elements()) use(e, top - g);
  use(context_->conjugation_element(), top - coeffs_to_slots_.size());
  const std::size_t slots_to_coeffs_top = output_level() + slots_to_coeffs_.size();
  for (std::size_t g = 0; g < slots_to_coeffs_.size(); ++g)
    for (u64 e : slots_to_coeffs_[g].galois_elements()) use(e, slots_to_coeffs_top - g);
  for (const auto& entry : galois_levels_) galois_elements_.push_back(entry.first);

  // The approximation error of EvalMod alone, measured on a grid of its domain.
  const int samples = 4096 * static_cast<int>(config_.mod_range + 1);
  for (int i = 0; i <= samples; ++i) {
    const double u = -1.0 + 2.0 * i / samples;
    double y = chebyshev_value(cosine_, u);
    for (std::size_t r = 0; r < config_.double_angles; ++r) y = 2 * y * y - 1;
    eval_mod_error_ = std::max(eval_mod_error_, std::fabs(y - std::sin(2 * kPi * range * u)) / (2 * kPi));
  }
}

std::size_t Bootstrapper::output_level() const { return context_->max_level() - depth_; }

Plaintext Bootstrapper::monomial(long long sign, std::size_t level) const {
  std::vector<double> coefficients(context_->ring_degree(), 0.0);
  coefficients[context_->ring_degree() / 2] = static_cast<double>(sign);
  return encoder_.from_coefficients(coefficients.data(), 1.0, level);
}

Ciphertext Bootstrapper::mod_raise(const Ciphertext& input, const GaloisKeys& keys) const {
  const Context& context = *context_;
  const std::size_t n = context.ring_degree(), top = context.max_level();
  const Modulus& q0 = context.modulus(0);
  const bool encapsulate = config_.ephemeral_hamming_weight != 0;
  // With encapsulation, (c0, c1) under s becomes (c0 + ks_0(c1), ks_1(c1)) under the sparse s'.
  Ciphertext low = input;
  if (encapsulate) {
    PolyBuffer second = context.allocate(n);
    key_switch_level0(context, input.limb(1, 0), *keys.to_sparse, low.limb(0, 0), second.data());
    std::copy(second.data(), second.data() + n, low.limb(1, 0));
  }
  Ciphertext raised;
  raised.context = context_;
  raised.level = top;
  raised.size = 2;
  raised.scale = static_cast<double>(q0.value);
  raised.data = raised.context->allocate(2 * (top + 1) * n);
  std::vector<std::int64_t> centered(2 * n);
  context.pool()->parallel_for(2, [&](std::size_t p) {
    std::vector<u64> coefficients(low.limb(p, 0), low.limb(p, 0) + n);
    context.ntt(0).inverse(coefficients.data(), context.simd_path());
    for (std::size_t c = 0; c < n; ++c) {
      const u64 v = coefficients[c];
      centered[p * n + c] = v > q0.value / 2 ? static_cast<std::int64_t>(v) - static_cast<std::int64_t>(q0.value)
                                             : static_cast<std::int64_t>(v);
    }
  });
  context.pool()->parallel_for(2 * (top + 1), [&](std::size_t job) {
    const std::size_t p = job / (top + 1), i = job % (top + 1);
    u64* dst = raised.limb(p, i);
    if (i == 0) {
      std::copy(low.limb(p, 0), low.limb(p, 0) + n, dst);
      return;
    }
    const Modulus& q = context.modulus(i);
    reduce_signed_vector(centered.data() + p * n, dst, n, q, context.use_avx512());
    context.ntt(i).forward(dst, context.simd_path());
  });
  if (!encapsulate) return raised;
  // Back to the main secret over the whole chain: (c0 + KS_0(c1), KS_1(c1)).
  Ciphertext result = raised;
  KeySwitchOutput output;
  output.first_addend = output.first = result.poly(0);
  output.second = result.poly(1);
  key_switch(context, raised.poly(1), top, *keys.from_sparse, output);
  return result;
}

GaloisKeys Bootstrapper::generate_keys(const SecretKey& secret) const {
  require(secret.context.get() == context_.get(), ErrorCode::ParameterMismatch,
          "secret key and bootstrapper were made under different contexts");
  std::vector<std::pair<u64, std::size_t>> elements(galois_levels_.begin(), galois_levels_.end());
  GaloisKeys keys = generate_galois_keys(secret, elements);
  if (config_.ephemeral_hamming_weight != 0) {
    GaloisKeys sparse = generate_sparse_secret_keys(secret, config_.ephemeral_hamming_weight);
    keys.to_sparse = std::move(sparse.to_sparse);
    keys.from_sparse = std::move(sparse.from_sparse);
  }
  return keys;
}

Ciphertext Bootstrapper::eval_mod(const Ciphertext& u, const RelinKey& relin) const {
  ChebyshevEvaluation evaluation(u, cosine_.size() - 1, relin);
  const std::size_t level = evaluation.output_level(cosine_);
  Ciphertext y = evaluation.evaluate(cosine_, static_cast<double>(context_->modulus(level).value));
  for (std::size_t r = 0; r < config_.double_angles; ++r) {
    y = add_scalar(multiply_integer(rescale(relinearize(square(y), relin)), 2), -1.0);  // cos 2x = 2 cos^2 x - 1
  }
  return y;
}

Ciphertext Bootstrapper::bootstrap(const Ciphertext& input, const RelinKey& relin, const GaloisKeys& galois,
                                   const BootstrapProgress& progress, double factor) const {
  require(input.context.get() == context_.get() && relin.key.context.get() == context_.get() &&
              galois.context.get() == context_.get(),
          ErrorCode::ParameterMismatch, "ciphertext, keys and bootstrapper were made under different contexts");
  require(input.size == 2, ErrorCode::InvalidArgument, "bootstrapping needs a relinearized ciphertext (size 2)");
  for (u64 element : galois_elements()) {
    require(galois.has(element), ErrorCode::MissingKey,
            "the Galois keys lack element " + std::to_string(element) +
                " that bootstrapping needs: generate them with the bootstrapper's key set");
  }
  if (config_.ephemeral_hamming_weight != 0) {
    require(galois.to_sparse != nullptr && galois.from_sparse != nullptr, ErrorCode::MissingKey,
            "the Galois keys lack the sparse-secret keys of this bootstrapper (encapsulation): generate them with "
            "the bootstrapper's key set");
  }
  const double scale = input.scale;
  const double q0 = static_cast<double>(context_->modulus(0).value);
  require(scale < q0 / 8, ErrorCode::ScaleMismatch,
          "the input scale must be well below q_0 (2^" + std::to_string(std::log2(q0)) + ") for bootstrapping");
  StageClock clock(progress);

  // Raise the message to q_0 / 2^ratio: an exact integer product at level 0 (the input's own error
  // is part of the message by now).
  Ciphertext x0 = drop_to_level(input, 0);
  if (config_.message_ratio != 0) {
    const int shift = static_cast<int>(std::lround(std::log2(q0) - static_cast<double>(config_.message_ratio) - std::log2(scale)));
    if (shift > 0) {
      x0 = multiply_integer(x0, std::int64_t{1} << std::min(shift, 62));
      x0.scale = scale * std::ldexp(1.0, std::min(shift, 62));
    }
  }
  const double message_scale = x0.scale;
  Ciphertext x = mod_raise(x0, galois);
  clock.done("modRaise");
  if (config_.inspector) config_.inspector("raised", x);

  // The 1/2 of the real/imaginary split below and the 1/(K+1) of EvalMod's domain ride along.
  const double range = static_cast<double>(config_.mod_range + 1);
  // The last group lands on the scale of the prime below it, where EvalMod's squarings keep it.
  for (std::size_t g = 0; g < coeffs_to_slots_.size(); ++g) {
    const bool last = g + 1 == coeffs_to_slots_.size();
    const Complex f = last ? Complex(0.5 / range) : Complex(1.0);
    const double prime = static_cast<double>(context_->modulus(x.level).value);
    const double target = static_cast<double>(context_->modulus(x.level - 1).value);
    x = coeffs_to_slots_[g].apply(x, f, last ? target * prime / x.scale : prime, encoder_, order_, galois);
  }
  clock.done("coeffsToSlots");

  const Ciphertext conjugated = conjugate(x, galois);
  const Ciphertext real = add(x, conjugated);
  const Ciphertext imaginary = multiply_plain(sub(x, conjugated), monomial(-1, x.level));
  if (config_.inspector) config_.inspector("coeffsToSlots", real);
  const Ciphertext real_mod = eval_mod(real, relin);
  if (config_.inspector) config_.inspector("evalMod", real_mod);
  const Ciphertext imaginary_mod = eval_mod(imaginary, relin);
  Ciphertext y = add(real_mod, multiply_plain(imaginary_mod, monomial(1, imaginary_mod.level)));
  clock.done("evalMod");
  if (config_.inspector) config_.inspector("evalModCombined", y);

  // y holds sin(2 pi t) ~ 2 pi M / q_0 at about the scale of a prime; the result lands exactly on the
  // input's scale. The scale falls in even steps (each group's plaintext scale its prime over the same
  // ratio, the last group's factor counted), so that no group's diagonals are encoded at a small
  // scale relative to their entries: a descent left to the last group alone would encode it at a
  // fraction of its prime.
  const double output_factor = factor * q0 / (2 * kPi * message_scale);
  const double groups = static_cast<double>(slots_to_coeffs_.size());
  const double step = std::max(1.0, std::pow(y.scale / scale / std::fabs(output_factor), 1.0 / groups));
  for (std::size_t g = 0; g < slots_to_coeffs_.size(); ++g) {
    const bool last = g + 1 == slots_to_coeffs_.size();
    const double prime = static_cast<double>(context_->modulus(y.level).value);
    const Complex f = last ? Complex(output_factor) : Complex(1.0);
    y = slots_to_coeffs_[g].apply(y, f, last ? scale * prime / y.scale : prime / step, encoder_, order_, galois);
  }
  y.scale = scale;
  clock.done("slotsToCoeffs");
  if (config_.inspector) config_.inspector("slotsToCoeffs", y);
  return y;
}

std::pair<Ciphertext, Ciphertext> Bootstrapper::bootstrap_two_real(const Ciphertext& a, const Ciphertext& b,
                                                                   const RelinKey& relin, const GaloisKeys& galois,
                                                                   const BootstrapProgress& progress,
                                                                   double factor) const {
  require(std::fabs(a.scale - b.scale) <= 1e-9 * a.scale, ErrorCode::ScaleMismatch,
          "the two ciphertexts must have the same scale");
  const Ciphertext a0 = drop_to_level(a, 0), b0 = drop_to_level(b, 0);
  const Ciphertext packed = add(a0, multiply_plain(b0, monomial(1, 0)));           // a + i b
  const Ciphertext y = bootstrap(packed, relin, galois, progress, 0.5 * factor);   // factor (a + i b) / 2
  const Ciphertext conjugated = conjugate(y, galois);
  return {add(y, conjugated), multiply_plain(sub(y, conjugated), monomial(-1, y.level))};
}

Ciphertext Bootstrapper::bootstrap_precise(const Ciphertext& input, const RelinKey& relin, const GaloisKeys& galois,
                                           int boost_bits, const BootstrapProgress& progress) const {
  require(boost_bits >= 1 && boost_bits <= 30, ErrorCode::InvalidArgument, "boostBits must be in [1, 30]");
  const Ciphertext x0 = drop_to_level(input, 0);
  const Ciphertext first = bootstrap(x0, relin, galois, progress);
  // What the first pass got wrong, amplified so that a second pass resolves it to full precision.
  const Ciphertext error = multiply_integer(sub(x0, drop_to_level(first, 0)), std::int64_t{1} << boost_bits);
  const Ciphertext correction = bootstrap(error, relin, galois, progress, std::ldexp(1.0, -boost_bits));
  return add(first, correction);
}

}  // namespace cipherlm
