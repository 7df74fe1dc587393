// Bootstrapping inside the pipeline: ciphertexts go back to the top level with its canonical scale,
// two at a time (packed as a + i b, one bootstrap for both). Each is divided by a power-of-two bound
// first, since EvalMod is accurate only for messages well below q_0 / scale, and multiplied back
// by the bootstrap's last linear transform.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "circuits/bootstrapper.hpp"
#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

// bounds[i] >= max |value| of cts[i] (below 1 for small values, which a bootstrap's absolute error
// would otherwise swamp); a ciphertext at level 0 needs bound 1 (no room to divide).
// progress(stage, seconds) is called as every bootstrap's stages end.
std::vector<Ciphertext> refresh(const KernelContext& kernels, const Bootstrapper& bootstrapper,
                                const std::vector<Ciphertext>& cts, const std::vector<double>& bounds,
                                const BootstrapProgress& progress = nullptr);

}  // namespace cipherlm::kernels
