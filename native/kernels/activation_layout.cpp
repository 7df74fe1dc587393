#include "kernels/activation_layout.hpp"

#include <string>

#include "ring/error.hpp"

namespace cipherlm::kernels {

namespace {
bool power_of_two(std::size_t x) { return x != 0 && (x & (x - 1)) == 0; }
}  // namespace

ActivationLayout ActivationLayout::create(std::size_t slots, std::size_t width, std::size_t tokens, std::size_t heads) {
  require(power_of_two(slots) && power_of_two(width) && width <= slots, ErrorCode::InvalidArgument,
          "layout: slots and width must be powers of two with width <= slots");
  require(heads >= 1 && width % heads == 0, ErrorCode::InvalidArgument, "layout: heads must divide the width");
  ActivationLayout layout;
  layout.slots = slots;
  layout.width = width;
  layout.rows = slots / width;
  layout.tokens = tokens;
  layout.heads = heads;
  require(tokens >= 1 && tokens <= layout.rows, ErrorCode::InvalidArgument,
          "layout: " + std::to_string(tokens) + " tokens do not fit in " + std::to_string(layout.rows) + " rows");
  layout.sequences = layout.rows / tokens;
  return layout;
}

std::size_t ActivationLayout::model_block(std::size_t feature) const {
  const std::size_t head_dim = width / heads;
  return (feature % head_dim) * heads + feature / head_dim;
}

std::vector<double> ActivationLayout::block_mask(std::size_t first, std::size_t count, double value) const {
  std::vector<double> mask(slots, 0.0);
  for (std::size_t b = first; b < first + count && b < width; ++b)
    for (std::size_t r = 0; r < rows; ++r) mask[slot(b, r)] = value;
  return mask;
}

}  // namespace cipherlm::kernels
