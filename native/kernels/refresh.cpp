#include "kernels/refresh.hpp"

#include <cmath>
#include <string>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

std::vector<Ciphertext> refresh(const KernelContext& kernels, const Bootstrapper& bootstrapper,
                                const std::vector<Ciphertext>& cts, const std::vector<double>& bounds,
                                const BootstrapProgress& progress) {
  require(cts.size() == bounds.size(), ErrorCode::InvalidArgument, "refresh: one bound per ciphertext");
  const LevelScales& scales = kernels.scales();
  require(bootstrapper.output_level() == scales.top(), ErrorCode::InvalidArgument,
          "refresh: the bootstrapper's output level " + std::to_string(bootstrapper.output_level()) +
              " differs from the pipeline's top level " + std::to_string(scales.top()));
  const double s0 = scales.at(0), top = scales.at(scales.top());
  // Divides by the bound on the way to level 0 (exact); the bootstrap multiplies back.
  const auto prepare = [&](const Ciphertext& ct, double bound) {
    scales.require_canonical(ct, "bootstrap input");
    require(bound > 0 && std::isfinite(bound), ErrorCode::InvalidArgument, "refresh: bounds must be positive");
    if (ct.level == 0) {
      require(bound == 1, ErrorCode::LevelMismatch, "refresh: a ciphertext at level 0 cannot be divided by its bound");
      return ct;
    }
    return scales.lower(ct, 0, 1.0 / bound);
  };
  std::vector<Ciphertext> out(cts.size());
  for (std::size_t i = 0; i < cts.size(); i += 2) {
    if (i + 1 < cts.size()) {
      const double bound = std::max(bounds[i], bounds[i + 1]);
      auto pair = bootstrapper.bootstrap_two_real(prepare(cts[i], bound), prepare(cts[i + 1], bound), kernels.relin(),
                                                  kernels.rotator().keys(), progress, bound * top / s0);
      out[i] = std::move(pair.first);
      out[i + 1] = std::move(pair.second);
    } else {
      out[i] = bootstrapper.bootstrap(prepare(cts[i], bounds[i]), kernels.relin(), kernels.rotator().keys(), progress,
                                      bounds[i] * top / s0);
    }
  }
  for (Ciphertext& c : out) c.scale = top;
  return out;
}

}  // namespace cipherlm::kernels
