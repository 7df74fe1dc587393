#include "kernels/softmax_attention.hpp"

#include <cmath>
#include <string>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

SoftmaxAttention::SoftmaxAttention(std::shared_ptr<const KernelContext> kernels, SoftmaxConstants constants)
    : shifts_(std::move(kernels)), constants_(constants) {
  require(constants_.score_factor > 0 && std::isfinite(constants_.score_factor) && std::isfinite(constants_.masked_score),
          ErrorCode::InvalidArgument, "softmax attention: invalid score constants");
}

void SoftmaxAttention::require_packed(const std::vector<Ciphertext>& cts, const char* what) const {
  const KernelContext& k = shifts_.kernels();
  require(cts.size() == PackedShifts::packed_count(k.layout()), ErrorCode::InvalidArgument,
          std::string("softmax attention: ") + std::to_string(cts.size()) + " packed " + what + " ciphertexts, expected " +
              std::to_string(PackedShifts::packed_count(k.layout())));
  for (const Ciphertext& c : cts) k.scales().require_canonical(c, what);
}

std::vector<Ciphertext> SoftmaxAttention::packed_key_mask(const Ciphertext& key_mask) const {
  const KernelContext& k = shifts_.kernels();
  const ActivationLayout& layout = k.layout();
  k.scales().require_canonical(key_mask, "attention key mask");
  require(key_mask.level >= packed_mask_depth(), ErrorCode::LevelMismatch, "the packed key mask needs 2 levels");
  const std::vector<Ciphertext> shifted = shifts_.cyclic_shifts(key_mask);
  std::vector<Ciphertext> packed(PackedShifts::packed_count(layout));
  k.context().pool()->parallel_for(packed.size(), [&](std::size_t p) { packed[p] = shifts_.place(shifted, p, 0, +1, 1.0); });
  // filler rows: their own (zero) key in block pair 0 counts as live
  const auto filler = k.cached("softmax.filler", packed[0].level, [&] {
    std::vector<double> values(layout.slots, 0.0);
    for (std::size_t h = 0; h < layout.heads; ++h)
      for (std::size_t r = layout.used_rows(); r < layout.rows; ++r) values[layout.slot(h, r)] = 1.0;
    return values;
  });
  packed[0] = add_plain(packed[0], *filler);
  return packed;
}

std::vector<Ciphertext> SoftmaxAttention::scores(const Ciphertext& q, const Ciphertext& k_in, const Ciphertext& key_mask,
                                                 const std::vector<Ciphertext>& packed_mask) const {
  const KernelContext& k = shifts_.kernels();
  const LevelScales& scales = k.scales();
  scales.require_canonical(q, "attention queries");
  scales.require_canonical(k_in, "attention keys");
  scales.require_canonical(key_mask, "attention key mask");
  require_packed(packed_mask, "key mask");
  const std::size_t level = std::min({q.level, k_in.level, key_mask.level});
  require(level >= scores_depth(), ErrorCode::LevelMismatch, "attention scores need 4 levels");
  const std::size_t out = level - scores_depth();
  for (const Ciphertext& m : packed_mask)
    require(m.level > out, ErrorCode::LevelMismatch, "the packed key mask lies below the scores' level");
  // masked keys: a masked key's inner products vanish, and its slot then gets the masked score
  const Ciphertext keys = k.multiply(scales.to_level(k_in, level), scales.to_level(key_mask, level));
  const std::vector<Ciphertext> dots = shifts_.inner(scales.lower(q, level - 1, constants_.score_factor), keys);
  std::vector<Ciphertext> result(dots.size());
  for (std::size_t p = 0; p < result.size(); ++p)
    result[p] = add_scalar(cipherlm::add(dots[p], scales.lower(packed_mask[p], out, -constants_.masked_score)), constants_.masked_score);
  return result;
}

std::vector<Ciphertext> SoftmaxAttention::exp_input(const std::vector<Ciphertext>& scores, const Ciphertext& row_max,
                                                    double factor, double offset) const {
  const KernelContext& k = shifts_.kernels();
  const LevelScales& scales = k.scales();
  require_packed(scores, "scores");
  scales.require_canonical(row_max, "row max");
  require(std::isfinite(factor) && std::isfinite(offset), ErrorCode::InvalidArgument, "exp input: invalid constants");
  std::size_t level = row_max.level;
  for (const Ciphertext& s : scores) level = std::min(level, s.level);
  require(level >= 1, ErrorCode::LevelMismatch, "exp input needs a level");
  const Ciphertext max = scales.lower(row_max, level - 1, factor);
  std::vector<Ciphertext> out(scores.size());
  for (std::size_t p = 0; p < scores.size(); ++p)
    out[p] = add_scalar(cipherlm::sub(scales.lower(scores[p], level - 1, factor), max), offset);
  return out;
}

std::vector<Ciphertext> SoftmaxAttention::row_sums(const std::vector<Ciphertext>& exps,
                                                   const std::vector<Ciphertext>& packed_mask) const {
  const KernelContext& k = shifts_.kernels();
  require_packed(exps, "exponentials");
  require_packed(packed_mask, "key mask");
  std::vector<Ciphertext> out(exps.size());
  k.context().pool()->parallel_for(exps.size(), [&](std::size_t p) { out[p] = k.multiply(exps[p], packed_mask[p]); });
  out.push_back(shifts_.head_sums(out));
  return out;
}

std::vector<Ciphertext> SoftmaxAttention::normalize(const std::vector<Ciphertext>& masked_exps, const Ciphertext& inverse,
                                                    double factor) const {
  const KernelContext& k = shifts_.kernels();
  require_packed(masked_exps, "masked exponentials");
  k.scales().require_canonical(inverse, "row-sum inverse");
  require(std::isfinite(factor) && factor != 0, ErrorCode::InvalidArgument, "softmax weights: invalid factor");
  std::vector<Ciphertext> out(masked_exps.size());
  k.context().pool()->parallel_for(out.size(), [&](std::size_t p) {
    // the factor rides on the exps, which wait at a higher level than the inverse
    const std::size_t level = std::min(masked_exps[p].level - 1, inverse.level);
    require(masked_exps[p].level >= 1 && level >= 1, ErrorCode::LevelMismatch, "softmax weights need a level");
    out[p] = k.multiply(k.scales().lower(masked_exps[p], level, factor), inverse);
  });
  return out;
}

}  // namespace cipherlm::kernels
