#include "kernels/goldschmidt.hpp"

#include <cmath>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

GoldschmidtState goldschmidt_start(const KernelContext& kernels, const Ciphertext& x, double center) {
  const LevelScales& scales = kernels.scales();
  scales.require_canonical(x, "Goldschmidt input");
  require(center > 0 && std::isfinite(center), ErrorCode::InvalidArgument, "Goldschmidt: the centre must be positive");
  require(x.level >= 1, ErrorCode::LevelMismatch, "Goldschmidt start needs a level");
  const Ciphertext minus_y = scales.lower(x, x.level - 1, -1.0 / center);
  return {add_scalar(minus_y, 2.0), add_scalar(minus_y, 1.0)};
}

GoldschmidtState goldschmidt_steps(const KernelContext& kernels, GoldschmidtState state, std::size_t count) {
  const LevelScales& scales = kernels.scales();
  scales.require_canonical(state.a, "Goldschmidt estimate");
  scales.require_canonical(state.b, "Goldschmidt error");
  require(state.b.level >= count && std::min(state.a.level + 1, state.b.level) >= count + 1, ErrorCode::LevelMismatch,
          "Goldschmidt: not enough levels for the iterations");
  for (std::size_t i = 0; i < count; ++i) {
    state.b = kernels.square(state.b);
    state.a = kernels.multiply(state.a, add_scalar(state.b, 1.0));
  }
  return state;
}

}  // namespace cipherlm::kernels
