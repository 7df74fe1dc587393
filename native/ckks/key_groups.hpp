#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "ring/uint128.hpp"

namespace cipherlm {

// Hoisted rotations apply their keys a group at a time: each limb of the shared decomposition is read
// once per group, from cache, so that the inner products stream only the keys; the group size bounds
// the memory held for the group's results. Calls identity(e) for every Galois element 1 (nothing to
// switch) and group(indices) for each group of at most kKeyGroup other elements, in order.
constexpr std::size_t kKeyGroup = 4;

template <typename Identity, typename Group>
void for_each_key_group(const std::vector<u64>& galois_elements, Identity&& identity, Group&& group) {
  std::vector<std::size_t> pending;
  for (std::size_t e = 0; e < galois_elements.size(); ++e) {
    if (galois_elements[e] == 1) {
      identity(e);
    } else {
      pending.push_back(e);
    }
  }
  for (std::size_t start = 0; start < pending.size(); start += kKeyGroup) {
    const std::size_t count = std::min(kKeyGroup, pending.size() - start);
    group(std::vector<std::size_t>(pending.begin() + start, pending.begin() + start + count));
  }
}

}  // namespace cipherlm
