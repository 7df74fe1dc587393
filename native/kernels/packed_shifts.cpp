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

Ciphertext PackedShifts::place(const std::vector<Ciphertext>& shifts, std::size_t packed, std::size_t r, int sign,
                               double value) const {
  const KernelContext& k = *kernels_;
  const std::size_t per = per_packed(), tokens = k.layout().tokens;
  const std::size_t first = packed * per, count = std::min(per, tokens - first);
  require(shifts.size() == tokens && first < tokens && r < per, ErrorCode::InvalidArgument, "packed shifts: no such placement");
  const std::size_t level = shifts[first].level;
  std::vector<const Ciphertext*> cts;
  std::vector<std::shared_ptr<const Plaintext>> masks;
  std::vector<const Plaintext*> plains;
  for (std::size_t d = 0; d < count; ++d) {
    // shift d goes to the pair b with b + sign * r = d (mod per)
    const std::size_t pair = sign > 0 ? (d + per - r) % per : (d + r) % per;
    cts.push_back(&shifts[first + d]);
    masks.push_back(pair_mask(pair, value, level));
    plains.push_back(masks.back().get());
  }
  Ciphertext sum = rescale(plain_dot(cts, plains));
  sum.scale = k.scales().at(level - 1);
  return sum;
}

std::vector<Ciphertext> PackedShifts::placed(const std::vector<Ciphertext>& shifts, int sign, double value) const {
  const std::size_t per = per_packed();
  std::vector<Ciphertext> out(packed_count(kernels_->layout()) * per);
  kernels_->context().pool()->parallel_for(out.size(), [&](std::size_t job) { out[job] = place(shifts, job / per, job % per, sign, value); });
  return out;
}

std::vector<Ciphertext> PackedShifts::inner(const Ciphertext& x, const Ciphertext& y) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const LevelScales& scales = k.scales();
  scales.require_canonical(x, "inner product operand");
  scales.require_canonical(y, "inner product operand");
  const std::size_t level = std::min(x.level, y.level);
  require(level >= 3, ErrorCode::LevelMismatch, "packed inner products need 3 levels");
  const std::size_t per = layout.width / layout.heads;
  const std::vector<Ciphertext> ys = placed(cyclic_shifts(scales.to_level(y, level)), -1, 1.0);
  const Ciphertext xs = scales.to_level(x, level - 2);
  std::vector<Ciphertext> out(packed_count(layout));
  for (std::size_t p = 0; p < out.size(); ++p) {
    std::vector<Ciphertext> products(per);
    k.context().pool()->parallel_for(per, [&](std::size_t r) { products[r] = k.multiply(xs, ys[p * per + r]); });
    out[p] = rotated_sum(std::move(products));
  }
  return out;
}

Ciphertext PackedShifts::weigh(const std::vector<Ciphertext>& kernel, const Ciphertext& x) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const LevelScales& scales = k.scales();
  require(kernel.size() == packed_count(layout), ErrorCode::InvalidArgument,
          "attention: " + std::to_string(kernel.size()) + " packed kernel ciphertexts, expected " +
              std::to_string(packed_count(layout)));
  scales.require_canonical(x, "attention values");
  for (const Ciphertext& s : kernel) scales.require_canonical(s, "attention kernel");
  require(x.level >= 3, ErrorCode::LevelMismatch, "attention values need 3 levels");
  const std::size_t per = layout.width / layout.heads;
  // V^(r): block pair b holds the values shifted by (b + r) mod per
  const std::vector<Ciphertext> values = placed(cyclic_shifts(x), +1, 1.0);
  std::size_t level = values[0].level;
  for (const Ciphertext& s : kernel) level = std::min(level, s.level);
  require(level >= 1, ErrorCode::LevelMismatch, "attention: no level left for the kernel-value products");
  const long long stride = static_cast<long long>(layout.heads * layout.rows);
  std::vector<long long> steps;
  for (std::size_t r = 0; r < per; ++r) steps.push_back(static_cast<long long>(r) * stride);
  std::vector<Ciphertext> rotated, aligned(values.size());
  for (const Ciphertext& s : kernel) {
    std::vector<Ciphertext> rs = k.rotator().rotate_many(scales.to_level(s, level), steps);
    for (Ciphertext& c : rs) rotated.push_back(std::move(c));
  }
  k.context().pool()->parallel_for(values.size(), [&](std::size_t i) { aligned[i] = scales.to_level(values[i], level); });
  std::vector<const Ciphertext*> a, b;
  for (std::size_t i = 0; i < aligned.size(); ++i) {
    a.push_back(&rotated[i]);
    b.push_back(&aligned[i]);
  }
  Ciphertext out = rescale(relinearize(tensor_dot(a, b), k.relin()));
  out.scale = scales.at(level - 1);
  return out;
}

Ciphertext PackedShifts::weigh_masked(const std::vector<Ciphertext>& kernel, const Ciphertext& v,
                                      const Ciphertext& key_mask) const {
  kernels_->scales().require_canonical(v, "attention values");
  kernels_->scales().require_canonical(key_mask, "attention key mask");
  return weigh(kernel, kernels_->multiply(v, key_mask));
}

std::vector<Ciphertext> PackedShifts::transpose(const std::vector<Ciphertext>& kernel) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const LevelScales& scales = k.scales();
  require(kernel.size() == packed_count(layout), ErrorCode::InvalidArgument, "transpose: wrong number of packed ciphertexts");
  std::size_t level = kernel[0].level;
  for (const Ciphertext& s : kernel) {
    scales.require_canonical(s, "packed kernel");
    level = std::min(level, s.level);
  }
  require(level >= 2, ErrorCode::LevelMismatch, "transpose needs 2 levels");
  const std::size_t per = layout.width / layout.heads, tokens = layout.tokens;
  const long long pair_stride = static_cast<long long>(layout.heads * layout.rows), n = static_cast<long long>(tokens);
  std::vector<Ciphertext> parts(tokens);
  // K^T_e[j] = K_d[j + e] with d = -e mod tokens: select pair d, move it to pair e, shift its rows by e
  k.context().pool()->parallel_for(tokens, [&](std::size_t e) {
    const std::size_t d = (tokens - e) % tokens;
    const std::size_t src = d % per, dst = e % per;
    const Ciphertext source = scales.to_level(kernel[d / per], level);
    Ciphertext selected = rescale(multiply_plain(source, *pair_mask(src, 1.0, level)));
    selected.scale = scales.at(level - 1);
    const Ciphertext moved = src == dst ? selected : k.rotator().rotate(selected, static_cast<long long>(src) * pair_stride - static_cast<long long>(dst) * pair_stride);
    const long long shift = static_cast<long long>(e);
    const auto direct = k.cached("attention.direct." + std::to_string(e), level - 1, [&] {
      return layout.row_mask([&](std::size_t r) { return r < layout.used_rows() && r % layout.tokens + e < layout.tokens; });
    });
    Ciphertext sum;
    if (e == 0) {
      sum = rescale(plain_dot({&moved}, {direct.get()}));
    } else {
      const auto wrap = k.cached("attention.wrap." + std::to_string(e), level - 1, [&] {
        return layout.row_mask([&](std::size_t r) { return r < layout.used_rows() && r % layout.tokens + e >= layout.tokens; });
      });
      const Ciphertext ahead = k.rotator().rotate(moved, shift), behind = k.rotator().rotate(moved, shift - n);
      sum = rescale(plain_dot({&ahead, &behind}, {direct.get(), wrap.get()}));
    }
    sum.scale = scales.at(level - 2);
    parts[e] = std::move(sum);
  });
  std::vector<Ciphertext> out(packed_count(layout));
  for (std::size_t e = 0; e < tokens; ++e) out[e / per] = out[e / per].data.empty() ? std::move(parts[e]) : cipherlm::add(out[e / per], parts[e]);
  return out;
}

Ciphertext PackedShifts::head_sums(const std::vector<Ciphertext>& kernel) const {
  const KernelContext& k = *kernels_;
  const ActivationLayout& layout = k.layout();
  const std::size_t per = layout.width / layout.heads;
  require(!kernel.empty(), ErrorCode::InvalidArgument, "head sums: no packed ciphertexts");
  std::size_t level = kernel[0].level;
  for (const Ciphertext& s : kernel) level = std::min(level, s.level);
  // the packed ciphertexts first, then one rotated sum over the pairs
  Ciphertext total = k.scales().to_level(kernel[0], level);
  for (std::size_t p = 1; p < kernel.size(); ++p) total = cipherlm::add(total, k.scales().to_level(kernel[p], level));
  return k.rotate_sum(total, per, static_cast<long long>(layout.heads * layout.rows));
}

}  // namespace cipherlm::kernels
