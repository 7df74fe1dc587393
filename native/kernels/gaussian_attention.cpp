#include "kernels/gaussian_attention.hpp"

#include <cmath>
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

GaussianAttention::GaussianAttention(std::shared_ptr<const KernelContext> kernels, double kernel_constant,
                                     std::size_t squarings)
    : kernels_(std::move(kernels)), kernel_constant_(kernel_constant), squarings_(squarings) {
  require(kernel_constant_ > 0 && std::isfinite(kernel_constant_), ErrorCode::InvalidArgument,
          "Gaussian attention: the kernel constant must be positive");
  require(squarings_ >= 1 && squarings_ <= 20, ErrorCode::InvalidArgument, "Gaussian attention: squarings in [1, 20]");
}

std::size_t GaussianAttention::packed_count(const ActivationLayout& layout) {
  const std::size_t per = layout.width / layout.heads;
  return (layout.tokens + per - 1) / per;
}

std::vector<long long> GaussianAttention::rotation_steps(const ActivationLayout& layout) {
  std::vector<long long> steps = baby_giant_keys(1, kTokenGiant, static_cast<long long>(layout.tokens));
  steps.push_back(-static_cast<long long>(layout.tokens));
  return steps;
}

std::shared_ptr<const Plaintext> GaussianAttention::pair_mask(std::size_t pair, double value, std::size_t level) const {
  const ActivationLayout& layout = kernels_->layout();
  return kernels_->cached("attention.pair." + std::to_string(pair) + "x" + std::to_string(value), level, [&] {
    return layout.block_mask(pair * layout.heads, layout.heads, value);
  });
}

std::vector<Ciphertext> GaussianAttention::cyclic_shifts(const Ciphertext& x) const {
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

Ciphertext GaussianAttention::rotated_sum(std::vector<Ciphertext> items) const {
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

std::vector<Ciphertext> GaussianAttention::bases(const Ciphertext& q, const Ciphertext& k_in) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const LevelScales& scales = k.scales();
  scales.require_canonical(q, "attention queries");
  scales.require_canonical(k_in, "attention keys");
  const std::size_t level = std::min(q.level, k_in.level);
  require(level >= bases_depth(), ErrorCode::LevelMismatch, "attention bases need 3 levels");
  const std::size_t per = layout.width / layout.heads, tokens = layout.tokens;
  const double root = std::sqrt(kernel_constant_ / std::ldexp(1.0, static_cast<int>(squarings_)));
  const std::vector<Ciphertext> keys = cyclic_shifts(scales.to_level(k_in, level));
  const Ciphertext queries = scales.lower(q, level - 2, root);
  std::vector<Ciphertext> bases(packed_count(layout));
  for (std::size_t p = 0; p < bases.size(); ++p) {
    const std::size_t first = p * per, count = std::min(per, tokens - first);
    std::vector<Ciphertext> squares(per);
    k.context().pool()->parallel_for(per, [&](std::size_t r) {
      // K^(r): block pair b holds shift first + (b - r) mod per, times sqrt(c / 2^m)
      std::vector<const Ciphertext*> cts;
      std::vector<std::shared_ptr<const Plaintext>> masks;
      std::vector<const Plaintext*> plains;
      for (std::size_t d = 0; d < count; ++d) {
        cts.push_back(&keys[first + d]);
        masks.push_back(pair_mask((d + r) % per, root, level - 1));
        plains.push_back(masks.back().get());
      }
      Ciphertext placed = rescale(plain_dot(cts, plains));
      placed.scale = scales.at(level - 2);
      squares[r] = k.square(cipherlm::sub(queries, placed));
    });
    bases[p] = add_scalar(negate(rotated_sum(std::move(squares))), 1.0);
  }
  return bases;
}

Ciphertext GaussianAttention::apply(const std::vector<Ciphertext>& kernel, const Ciphertext& v,
                                    const Ciphertext& key_mask) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const LevelScales& scales = k.scales();
  require(kernel.size() == packed_count(layout), ErrorCode::InvalidArgument,
          "attention: " + std::to_string(kernel.size()) + " packed kernel ciphertexts, expected " +
              std::to_string(packed_count(layout)));
  scales.require_canonical(v, "attention values");
  scales.require_canonical(key_mask, "attention key mask");
  for (const Ciphertext& s : kernel) scales.require_canonical(s, "attention kernel");
  const std::size_t per = layout.width / layout.heads, tokens = layout.tokens;
  const Ciphertext masked = k.multiply(v, key_mask);
  require(masked.level >= 3, ErrorCode::LevelMismatch, "attention values need 4 levels");
  const std::vector<Ciphertext> values = cyclic_shifts(masked);
  const std::size_t value_level = masked.level - 1;
  std::size_t level = value_level - 1;
  for (const Ciphertext& s : kernel) level = std::min(level, s.level);
  require(level >= 1, ErrorCode::LevelMismatch, "attention: no level left for the kernel-value products");

  const long long stride = static_cast<long long>(layout.heads * layout.rows);
  std::vector<long long> steps;
  for (std::size_t r = 0; r < per; ++r) steps.push_back(static_cast<long long>(r) * stride);
  std::vector<Ciphertext> rotated, placed(kernel.size() * per);
  for (const Ciphertext& s : kernel) {
    std::vector<Ciphertext> rs = k.rotator().rotate_many(scales.to_level(s, level), steps);
    for (Ciphertext& c : rs) rotated.push_back(std::move(c));
  }
  k.context().pool()->parallel_for(placed.size(), [&](std::size_t job) {
    const std::size_t p = job / per, r = job % per;
    const std::size_t first = p * per, count = std::min(per, tokens - first);
    // V^(r): block pair b holds the values shifted by first + (b + r) mod per
    std::vector<const Ciphertext*> cts;
    std::vector<std::shared_ptr<const Plaintext>> masks;
    std::vector<const Plaintext*> plains;
    for (std::size_t d = 0; d < count; ++d) {
      cts.push_back(&values[first + d]);
      masks.push_back(pair_mask((d + per - r) % per, 1.0, value_level));
      plains.push_back(masks.back().get());
    }
    Ciphertext sum = rescale(plain_dot(cts, plains));
    sum.scale = scales.at(value_level - 1);
    placed[job] = scales.to_level(sum, level);
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
