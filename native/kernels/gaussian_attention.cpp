#include "kernels/gaussian_attention.hpp"

#include <cmath>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

GaussianAttention::GaussianAttention(std::shared_ptr<const KernelContext> kernels, double kernel_constant,
                                     std::size_t squarings)
    : shifts_(std::move(kernels)), kernel_constant_(kernel_constant), squarings_(squarings) {
  require(kernel_constant_ > 0 && std::isfinite(kernel_constant_), ErrorCode::InvalidArgument,
          "Gaussian attention: the kernel constant must be positive");
  require(squarings_ >= 1 && squarings_ <= 20, ErrorCode::InvalidArgument, "Gaussian attention: squarings in [1, 20]");
}

std::vector<Ciphertext> GaussianAttention::bases(const Ciphertext& q, const Ciphertext& k_in) const {
  const KernelContext& k = shifts_.kernels();
  const LevelScales& scales = k.scales();
  scales.require_canonical(q, "attention queries");
  scales.require_canonical(k_in, "attention keys");
  const std::size_t level = std::min(q.level, k_in.level);
  require(level >= bases_depth(), ErrorCode::LevelMismatch, "attention bases need 3 levels");
  const std::size_t per = shifts_.per_packed();
  const double root = std::sqrt(kernel_constant_ / std::ldexp(1.0, static_cast<int>(squarings_)));
  // K^(r) (pair b holds shift b - r, times sqrt(c / 2^m)): the packed squared distances are
  // sum_r rot((q - K^(r))^2, r pairs)
  const std::vector<Ciphertext> keys = shifts_.placed(shifts_.cyclic_shifts(scales.to_level(k_in, level)), -1, root);
  const Ciphertext queries = scales.lower(q, level - 2, root);
  std::vector<Ciphertext> bases(packed_count(k.layout()));
  for (std::size_t p = 0; p < bases.size(); ++p) {
    std::vector<Ciphertext> squares(per);
    k.context().pool()->parallel_for(per, [&](std::size_t r) { squares[r] = k.square(cipherlm::sub(queries, keys[p * per + r])); });
    bases[p] = add_scalar(negate(shifts_.rotated_sum(std::move(squares))), 1.0);
  }
  return bases;
}

Ciphertext GaussianAttention::apply(const std::vector<Ciphertext>& kernel, const Ciphertext& v,
                                    const Ciphertext& key_mask) const {
  return shifts_.weigh_masked(kernel, v, key_mask);
}

}  // namespace cipherlm::kernels
