#include "rlwe/rotation_keys.hpp"

#include "ring/error.hpp"

namespace cipherlm {

u64 inverse_galois_element(const Context& context, u64 galois_element) {
  require(galois_element % 2 == 1, ErrorCode::InvalidArgument, "a Galois element is odd");
  // Newton's iteration doubles the correct low bits of an inverse modulo a power of two.
  u64 inverse = galois_element;
  for (int i = 0; i < 6; ++i) inverse *= 2 - galois_element * inverse;
  return inverse & (2 * context.ring_degree() - 1);
}

void to_rotation_form(KeySwitchKey& key, u64 galois_element) {
  require(key.automorphism == 0, ErrorCode::InvalidArgument, "the key is already in rotation form");
  const Context& context = *key.context;
  const std::size_t n = context.ring_degree(), polys = key.digits * 2 * key.limbs();
  const auto inverse = context.automorphism_permutation(inverse_galois_element(context, galois_element));
  context.pool()->parallel_for(polys, [&](std::size_t k) {
    u64* limb = key.data.data() + k * n;
    PolyBuffer original = context.allocate(n);
    std::copy(limb, limb + n, original.data());
    for (std::size_t c = 0; c < n; ++c) limb[c] = original[(*inverse)[c]];
  });
  key.automorphism = galois_element;
}

std::shared_ptr<const std::vector<std::uint32_t>> standard_form_permutation(const KeySwitchKey& key) {
  if (key.automorphism == 0) return nullptr;
  return key.context->automorphism_permutation(key.automorphism);
}

}  // namespace cipherlm
