#include "kernels/level_scales.hpp"

#include <cmath>
#include <string>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

LevelScales::LevelScales(ContextPtr context, std::size_t top, double top_scale) : context_(std::move(context)) {
  require(top <= context_->max_level(), ErrorCode::InvalidArgument, "level scales: top level above the context's");
  require(std::isfinite(top_scale) && top_scale > 1.0, ErrorCode::InvalidArgument, "level scales: invalid top scale");
  scales_.assign(top + 1, 0.0);
  scales_[top] = top_scale;
  for (std::size_t l = top; l > 0; --l)
    scales_[l - 1] = scales_[l] * scales_[l] / static_cast<double>(context_->modulus(l).value);
}

double LevelScales::at(std::size_t level) const {
  require(level < scales_.size(), ErrorCode::LevelMismatch,
          "level " + std::to_string(level) + " is above the pipeline's top level " + std::to_string(top()));
  return scales_[level];
}

bool LevelScales::canonical(const Ciphertext& ct) const {
  return ct.level < scales_.size() && std::fabs(ct.scale - scales_[ct.level]) <= kScaleTolerance * scales_[ct.level];
}

void LevelScales::require_canonical(const Ciphertext& ct, const char* what) const {
  require(ct.level < scales_.size(), ErrorCode::LevelMismatch,
          std::string(what) + " is at level " + std::to_string(ct.level) + ", above the pipeline's top level " +
              std::to_string(top()));
  require(canonical(ct), ErrorCode::ScaleMismatch,
          std::string(what) + " has scale 2^" + std::to_string(std::log2(ct.scale)) + ", not the pipeline's 2^" +
              std::to_string(std::log2(scales_[ct.level])) + " at level " + std::to_string(ct.level));
}

Ciphertext LevelScales::lower(const Ciphertext& ct, std::size_t level, double factor) const {
  require(level < ct.level, ErrorCode::LevelMismatch,
          "cannot lower a ciphertext from level " + std::to_string(ct.level) + " to " + std::to_string(level));
  const double prime = static_cast<double>(context_->modulus(level + 1).value);
  const double constant_scale = at(level) * prime / ct.scale;
  require(std::fabs(factor) * constant_scale >= std::ldexp(1.0, 20) || factor == 0.0, ErrorCode::InvalidArgument,
          "constant " + std::to_string(factor) + " too small to apply exactly at this scale");
  Ciphertext r = rescale(multiply_scalar(drop_to_level(ct, level + 1), factor, constant_scale));
  r.scale = at(level);
  return r;
}

Ciphertext LevelScales::to_level(const Ciphertext& ct, std::size_t level) const {
  if (level == ct.level && canonical(ct)) return ct;
  if (canonical(ct) && level < ct.level && std::fabs(at(level) - ct.scale) <= kScaleTolerance * ct.scale)
    return drop_to_level(ct, level);
  return lower(ct, level);
}

}  // namespace cipherlm::kernels
