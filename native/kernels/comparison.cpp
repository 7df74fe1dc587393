#include "kernels/comparison.hpp"

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

Ciphertext max_difference(const KernelContext& kernels, const Ciphertext& a, const Ciphertext& b) {
  kernels.scales().require_canonical(a, "max operand");
  kernels.scales().require_canonical(b, "max operand");
  return kernels.sub(a, b);
}

Ciphertext max_difference(const KernelContext& kernels, const Ciphertext& a, long long step) {
  kernels.scales().require_canonical(a, "max operand");
  require(step != 0, ErrorCode::InvalidArgument, "max: a rotation step of 0 compares a slot with itself");
  return cipherlm::sub(a, kernels.rotator().rotate(a, step));
}

Ciphertext max_combine(const KernelContext& kernels, const Ciphertext& a, const Ciphertext& d, const Ciphertext& half_sign) {
  const LevelScales& scales = kernels.scales();
  scales.require_canonical(a, "max operand");
  scales.require_canonical(d, "max difference");
  scales.require_canonical(half_sign, "max sign");
  const Ciphertext product = kernels.multiply(d, half_sign);
  // d / 2 from d, which lies above the product: exact
  const std::size_t level = std::min(a.level, product.level);
  return cipherlm::sub(kernels.add(a, product), scales.lower(d, level, 0.5));
}

}  // namespace cipherlm::kernels
