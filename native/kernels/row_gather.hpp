// After the last layer's attention only the [CLS] rows matter; gathering them from all row groups
// into one ciphertext lets every later stage (and its bootstraps) run once instead of per group.
// Group g's [CLS] row of sequence s (row s * tokens) lands in row s * tokens + g; every other row
// keeps group 0's own value, so that all rows stay values the later polynomials were fitted on.
#pragma once
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

// At most `tokens` groups, canonical at one level >= 1; one level.
Ciphertext gather_first_rows(const KernelContext& kernels, const std::vector<Ciphertext>& groups);
// The backward pass of the gather: group g's [CLS] rows back from rows s * tokens + g, every other
// row zero (they received no gradient); one level.
std::vector<Ciphertext> scatter_first_rows(const KernelContext& kernels, const Ciphertext& gathered, std::size_t groups);

}  // namespace cipherlm::kernels
