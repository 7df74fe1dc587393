#include "kernels/parameter_packing.hpp"

#include <string>

#include "ckks/evaluator.hpp"
#include "kernels/accumulate.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

namespace {

// sum_k x[p - k] for k < rows: in the block's last row that is the whole block (earlier rows mix in
// the previous block, and later rows do not exist).
Ciphertext sum_behind(const KernelContext& kernels, const Ciphertext& x) {
  return kernels.rotate_sum(x, kernels.layout().rows, -1);
}

// sum_k x[p + k] for k < rows: with x zero but on the blocks' last rows, the last row's value on
// every row of its block.
Ciphertext spread_back(const KernelContext& kernels, const Ciphertext& x) {
  return kernels.rotate_sum(x, kernels.layout().rows, 1);
}

}  // namespace

std::vector<long long> parameter_packing_steps(const ActivationLayout& layout) {
  std::vector<long long> steps;
  for (long long s = 1; s < static_cast<long long>(layout.rows); s *= 2) {
    steps.push_back(s);
    steps.push_back(-s);
  }
  return steps;
}

Ciphertext row_total(const KernelContext& kernels, const Ciphertext& x) {
  kernels.scales().require_canonical(x, "row total input");
  return sum_behind(kernels, x);
}

Ciphertext pack_rows(const KernelContext& kernels, const std::vector<Ciphertext>& totals) {
  const ActivationLayout& layout = kernels.layout();
  require(!totals.empty() && totals.size() <= layout.rows, ErrorCode::InvalidArgument,
          "pack_rows: 1 to " + std::to_string(layout.rows) + " parameters, got " + std::to_string(totals.size()));
  std::size_t level = totals[0].level;
  for (const Ciphertext& t : totals) {
    kernels.scales().require_canonical(t, "packed parameter");
    level = std::min(level, t.level);
  }
  require(level >= 1, ErrorCode::LevelMismatch, "pack_rows: no level left");
  const auto last_row = kernels.cached("pack.last", level, [&] {
    return layout.row_mask([&](std::size_t r) { return r + 1 == layout.rows; });
  });
  // parameter i moves from the last row to row rows-1-i: a rotation by i
  std::vector<Ciphertext> moved(totals.size());
  kernels.context().pool()->parallel_for(totals.size(), [&](std::size_t i) {
    Ciphertext kept = rescale(multiply_plain(kernels.scales().to_level(totals[i], level), *last_row));
    kept.scale = kernels.scales().at(level - 1);
    moved[i] = i == 0 ? std::move(kept) : kernels.rotator().rotate(kept, static_cast<long long>(i));
  });
  Ciphertext packed = std::move(moved[0]);
  for (std::size_t i = 1; i < moved.size(); ++i) packed = cipherlm::add(packed, moved[i]);
  return packed;
}

Ciphertext unpack_row(const KernelContext& kernels, const Ciphertext& packed, std::size_t index) {
  const ActivationLayout& layout = kernels.layout();
  require(index < layout.rows, ErrorCode::InvalidArgument, "unpack_row: index beyond the rows");
  kernels.scales().require_canonical(packed, "packed parameters");
  require(packed.level >= 1, ErrorCode::LevelMismatch, "unpack_row: no level left");
  const auto row = kernels.cached("unpack.row." + std::to_string(index), packed.level, [&] {
    return layout.row_mask([&](std::size_t r) { return r + 1 + index == layout.rows; });
  });
  Ciphertext kept = rescale(multiply_plain(packed, *row));
  kept.scale = kernels.scales().at(packed.level - 1);
  const Ciphertext last = index == 0 ? kept : kernels.rotator().rotate(kept, -static_cast<long long>(index));
  return spread_back(kernels, last);
}

Ciphertext scale_rows(const KernelContext& kernels, const Ciphertext& packed, const std::vector<double>& factors) {
  const ActivationLayout& layout = kernels.layout();
  require(!factors.empty() && factors.size() <= layout.rows, ErrorCode::InvalidArgument, "scale_rows: one factor per packed parameter");
  kernels.scales().require_canonical(packed, "packed parameters");
  std::vector<double> values(layout.slots, 0.0);
  for (std::size_t i = 0; i < factors.size(); ++i)
    for (std::size_t b = 0; b < layout.width; ++b) values[layout.slot(b, layout.rows - 1 - i)] = factors[i];
  return kernels.multiply_plain(packed, kernels.encode(values, packed.level));
}

}  // namespace cipherlm::kernels
