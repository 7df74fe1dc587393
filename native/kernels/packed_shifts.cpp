#include "kernels/packed_shifts.hpp"

#include <string>

#include "ckks/evaluator.hpp"
#include "kernels/accumulate.hpp"
#include "kernels/plain_matrix_product.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

namespace {

// Token shifts are composed of a baby step below this and a multiple of it.
constexpr long long kTokenGiant = 8;

}  // namespace

PackedShifts::PackedShifts(std::shared_ptr<const KernelContext> kernels) : kernels_(std::move(kernels)) {
  require(kernels_ != nullptr, ErrorCode::InvalidArgument, "packed shifts: no kernel context");
}

std::size_t PackedShifts::per_packed() const { return kernels_->layout().width / kernels_->layout().heads; }

std::size_t PackedShifts::packed_count(const ActivationLayout& layout) {
  const std::size_t per = layout.width / layout.heads;
  return (layout.tokens + per - 1) / per;
}

std::vector<long long> PackedShifts::rotation_steps(const ActivationLayout& layout) {
  std::vector<long long> steps = baby_giant_keys(1, kTokenGiant, static_cast<long long>(layout.tokens));
  steps.push_back(-static_cast<long long>(layout.tokens));
  return steps;
}

std::shared_ptr<const Plaintext> PackedShifts::pair_mask(std::size_t pair, double value, std::size_t level) const {
  const ActivationLayout& layout = kernels_->layout();
  return kernels_->cached("attention.pair." + std::to_string(pair) + "x" + std::to_string(value), level, [&] {
    return layout.block_mask(pair * layout.heads, layout.heads, value);
  });
}

std::vector<Ciphertext> PackedShifts::cyclic_shifts(const Ciphertext& x) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const long long n = static_cast<long long>(layout.tokens);
  const Ciphertext wrapped = k.rotator().rotate(x, -n);  // rot(wrapped, d) = rot(x, d - n)
  // rotations by every delta < n of x and of wrapped: hoisted baby steps, then hoisted giant steps
  std::vector<long long> babies, giants;
  for (long long b = 0; b < kTokenGiant && b < n; ++b) babies.push_back(b);
  for (long long g = 0; g < n; g += kTokenGiant) giants.push_back(g);
  std::vector<std::vector<Ciphertext>> shifted(2, std::vector<Ciphertext>(static_cast<std::size_t>(n)));
  const Ciphertext* sources[2] = {&x, &wrapped};
  for (int s = 0; s < 2; ++s) {
    const std::vector<Ciphertext> baby = k.rotator().rotate_many(*sources[s], babies);
    k.context().pool()->parallel_for(baby.size(), [&](std::size_t b) {
      std::vector<long long> steps;
      for (long long g : giants)
        if (g + static_cast<long long>(b) < n) steps.push_back(g);
      std::vector<Ciphertext> out = k.rotator().rotate_many(baby[b], steps);
      for (std::size_t i = 0; i < steps.size(); ++i) shifted[s][static_cast<std::size_t>(steps[i]) + b] = std::move(out[i]);
    });
  }
  // row (s, t) takes x at t + delta when that stays in the sequence, else the wrapped copy
  const std::size_t level = x.level;
  std::vector<Ciphertext> result(static_cast<std::size_t>(n));
  k.context().pool()->parallel_for(result.size(), [&](std::size_t d) {
    const auto direct = k.cached("attention.direct." + std::to_string(d), level, [&] {
      return layout.row_mask([&](std::size_t r) { return r < layout.used_rows() && r % layout.tokens + d < layout.tokens; });
    });
    const auto wrap = k.cached("attention.wrap." + std::to_string(d), level, [&] {
      return layout.row_mask([&](std::size_t r) { return r < layout.used_rows() && r % layout.tokens + d >= layout.tokens; });
    });
    Ciphertext sum = d == 0 ? plain_dot({&shifted[0][d]}, {direct.get()})
                            : plain_dot({&shifted[0][d], &shifted[1][d]}, {direct.get(), wrap.get()});
    sum = rescale(sum);
    sum.scale = k.scales().at(level - 1);
    result[d] = std::move(sum);
  });
  return result;
}

Ciphertext PackedShifts::place(const std::vector<Ciphertext>& shifts, std::size_t packed, long long offset,
                               double factor) const {
  const KernelContext& k = *kernels_;
  const std::size_t per = per_packed(), tokens = k.layout().tokens;
  const std::size_t first = packed * per, count = std::min(per, tokens - first);
  require(first < tokens && shifts.size() == tokens, ErrorCode::InvalidArgument, "packed shifts: no such packed ciphertext");
  const std::size_t level = shifts[first].level;
  require(level >= 1, ErrorCode::LevelMismatch, "packed shifts: no level left to place the shifts");
  const long long p = static_cast<long long>(per);
  std::vector<const Ciphertext*> cts;
  std::vector<std::shared_ptr<const Plaintext>> masks;
  std::vector<const Plaintext*> plains;
  for (std::size_t d = 0; d < count; ++d) {
    const long long pair = ((static_cast<long long>(d) - offset) % p + p) % p;
    cts.push_back(&shifts[first + d]);
    masks.push_back(pair_mask(static_cast<std::size_t>(pair), factor, level));
    plains.push_back(masks.back().get());
  }
  Ciphertext placed = rescale(plain_dot(cts, plains));
  placed.scale = k.scales().at(level - 1);
  return placed;
}

Ciphertext PackedShifts::rotated_sum(std::vector<Ciphertext> items) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const long long stride = static_cast<long long>(layout.heads * layout.rows);
  // baby group: the multiples of the stride below the matrix products' giant step (keyed singly)
  const long long giant_blocks = static_cast<long long>(PlainMatrixProduct::giant_size(layout.width));
  const std::size_t group = static_cast<std::size_t>(std::max<long long>(1, giant_blocks / static_cast<long long>(layout.heads)));
  std::vector<Ciphertext> groups((items.size() + group - 1) / group);
  k.context().pool()->parallel_for(groups.size(), [&](std::size_t g) {
    Ciphertext sum = std::move(items[g * group]);
    for (std::size_t b = 1; b < group && g * group + b < items.size(); ++b)
      sum = cipherlm::add(sum, k.rotator().rotate(items[g * group + b], static_cast<long long>(b) * stride));
    groups[g] = g == 0 ? std::move(sum) : k.rotator().rotate(sum, static_cast<long long>(g * group) * stride);
  });
  Ciphertext total = std::move(groups[0]);
  for (std::size_t g = 1; g < groups.size(); ++g) total = cipherlm::add(total, groups[g]);
  return total;
}

Ciphertext PackedShifts::weighted_values(const std::vector<Ciphertext>& weights, const Ciphertext& v,
                                         const Ciphertext& key_mask) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const LevelScales& scales = k.scales();
  require(weights.size() == packed_count(layout), ErrorCode::InvalidArgument,
          "attention: " + std::to_string(weights.size()) + " packed weight ciphertexts, expected " +
              std::to_string(packed_count(layout)));
  scales.require_canonical(v, "attention values");
  scales.require_canonical(key_mask, "attention key mask");
  for (const Ciphertext& s : weights) scales.require_canonical(s, "attention weights");
  const std::size_t per = per_packed();
  const Ciphertext masked = k.multiply(v, key_mask);
  require(masked.level >= 3, ErrorCode::LevelMismatch, "attention values need 4 levels");
  const std::vector<Ciphertext> values = cyclic_shifts(masked);
  const std::size_t value_level = masked.level - 1;
  std::size_t level = value_level - 1;
  for (const Ciphertext& s : weights) level = std::min(level, s.level);
  require(level >= 1, ErrorCode::LevelMismatch, "attention: no level left for the weight-value products");

  const long long stride = static_cast<long long>(layout.heads * layout.rows);
  std::vector<long long> steps;
  for (std::size_t r = 0; r < per; ++r) steps.push_back(static_cast<long long>(r) * stride);
  std::vector<Ciphertext> rotated, placed(weights.size() * per);
  for (const Ciphertext& s : weights) {
    std::vector<Ciphertext> rs = k.rotator().rotate_many(scales.to_level(s, level), steps);
    for (Ciphertext& c : rs) rotated.push_back(std::move(c));
  }
  k.context().pool()->parallel_for(placed.size(), [&](std::size_t job) {
    // V^(r): block pair b holds the values shifted by first + (b + r) mod per
    placed[job] = scales.to_level(place(values, job / per, static_cast<long long>(job % per), 1.0), level);
  });
  std::vector<const Ciphertext*> a, b;
  for (std::size_t i = 0; i < placed.size(); ++i) {
    a.push_back(&rotated[i]);
    b.push_back(&placed[i]);
  }
  Ciphertext out = rescale(relinearize(tensor_dot(a, b), k.relin()));
  out.scale = scales.at(level - 1);
  return out;
}

}  // namespace cipherlm::kernels
