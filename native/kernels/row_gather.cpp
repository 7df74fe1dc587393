#include "kernels/row_gather.hpp"

#include <string>

#include "ckks/evaluator.hpp"
#include "kernels/accumulate.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

Ciphertext gather_first_rows(const KernelContext& kernels, const std::vector<Ciphertext>& groups) {
  const ActivationLayout& layout = kernels.layout();
  const std::size_t count = groups.size();
  require(count >= 1 && count <= layout.tokens, ErrorCode::InvalidArgument,
          "gather: 1 to " + std::to_string(layout.tokens) + " row groups, got " + std::to_string(count));
  std::size_t level = groups[0].level;
  for (const Ciphertext& g : groups) {
    kernels.scales().require_canonical(g, "gathered row group");
    level = std::min(level, g.level);
  }
  require(level >= 1, ErrorCode::LevelMismatch, "gather: no level left");
  const auto target = [&](std::size_t r, std::size_t g) { return r < layout.used_rows() && r % layout.tokens == g; };
  // group g rotated right by g rows, keeping rows s * tokens + g; group 0 also keeps every other row
  std::vector<Ciphertext> moved(count);
  kernels.context().pool()->parallel_for(count, [&](std::size_t g) {
    const Ciphertext x = kernels.scales().to_level(groups[g], level);
    moved[g] = g == 0 ? x : kernels.rotator().rotate(x, -static_cast<long long>(g));
  });
  std::vector<std::shared_ptr<const Plaintext>> masks;
  std::vector<const Ciphertext*> cts;
  std::vector<const Plaintext*> plains;
  for (std::size_t g = 0; g < count; ++g) {
    masks.push_back(kernels.cached("gather.row." + std::to_string(g), level,
                                   [&] { return layout.row_mask([&](std::size_t r) { return target(r, g); }); }));
    cts.push_back(&moved[g]);
    plains.push_back(masks.back().get());
  }
  masks.push_back(kernels.cached("gather.rest." + std::to_string(count), level, [&] {
    return layout.row_mask([&](std::size_t r) {
      for (std::size_t g = 0; g < count; ++g)
        if (target(r, g)) return false;
      return true;
    });
  }));
  cts.push_back(&moved[0]);
  plains.push_back(masks.back().get());
  Ciphertext out = rescale(plain_dot(cts, plains));
  out.scale = kernels.scales().at(level - 1);
  return out;
}

std::vector<Ciphertext> scatter_first_rows(const KernelContext& kernels, const Ciphertext& gathered, std::size_t groups) {
  const ActivationLayout& layout = kernels.layout();
  require(groups >= 1 && groups <= layout.tokens, ErrorCode::InvalidArgument, "scatter: 1 to tokens row groups");
  kernels.scales().require_canonical(gathered, "scattered ciphertext");
  require(gathered.level >= 1, ErrorCode::LevelMismatch, "scatter: no level left");
  const auto first_rows = kernels.cached("scatter.first", gathered.level, [&] {
    return layout.row_mask([&](std::size_t r) { return r < layout.used_rows() && r % layout.tokens == 0; });
  });
  std::vector<Ciphertext> out(groups);
  kernels.context().pool()->parallel_for(groups, [&](std::size_t g) {
    const Ciphertext moved = g == 0 ? gathered : kernels.rotator().rotate(gathered, static_cast<long long>(g));
    Ciphertext kept = rescale(multiply_plain(moved, *first_rows));
    kept.scale = kernels.scales().at(gathered.level - 1);
    out[g] = std::move(kept);
  });
  return out;
}

}  // namespace cipherlm::kernels
