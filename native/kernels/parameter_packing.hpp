// Training touches every encrypted parameter with the same elementwise optimizer, but the forward
// pass wants each parameter in its own ciphertext of block constants (one value per feature block,
// replicated on every row). So gradients are summed over rows, packed one parameter per row into a
// single ciphertext for the optimizer, and the updates unpacked again:
//   row_total:  sum over the rows of each block, valid on the block's last row; no level
//   pack_rows:  parameter i (valid on the last row) into row rows-1-i of one ciphertext; one level
//   unpack_row: row rows-1-i replicated over every row of its block; one level
#pragma once
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

Ciphertext row_total(const KernelContext& kernels, const Ciphertext& x);
Ciphertext pack_rows(const KernelContext& kernels, const std::vector<Ciphertext>& totals);
Ciphertext unpack_row(const KernelContext& kernels, const Ciphertext& packed, std::size_t index);
// Packed parameter i (row rows-1-i) times factors[i] (the optimizer's per-parameter weight decay); one level.
Ciphertext scale_rows(const KernelContext& kernels, const Ciphertext& packed, const std::vector<double>& factors);
// Row steps the three need beyond the pipeline's (powers of two, both directions, below the rows).
std::vector<long long> parameter_packing_steps(const ActivationLayout& layout);

}  // namespace cipherlm::kernels
