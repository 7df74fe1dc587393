// Sums of products accumulated before any reduction or relinearization: the inner loops of the
// matrix products and of attention, where many products land in one result.
#pragma once
#include <vector>

#include "rlwe/objects.hpp"

namespace cipherlm::kernels {

// sum_t cts[t] * plains[t] (size-2 ciphertexts and plaintexts all at one level, not rescaled; the
// result's scale is the first pair's product of scales, which every pair must share).
Ciphertext plain_dot(const std::vector<const Ciphertext*>& cts, const std::vector<const Plaintext*>& plains);
// sum_t a[t] (x) b[t]: a size-3 ciphertext, neither relinearized nor rescaled.
Ciphertext tensor_dot(const std::vector<const Ciphertext*>& a, const std::vector<const Ciphertext*>& b);

}  // namespace cipherlm::kernels
