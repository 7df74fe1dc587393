#include "formats/block_stream.hpp"

#include <algorithm>
#include <cstring>

#include "rlwe/secure_memory.hpp"

namespace cipherlm {

BlockStream::~BlockStream() { secure_wipe(buffer_.data(), buffer_.size()); }

void BlockStream::generate(std::uint8_t* out, std::size_t size) {
  while (size > 0) {
    if (position_ == kBlockBytes) {
      fill_block(counter_++);
      position_ = 0;
    }
    const std::size_t take = std::min(size, kBlockBytes - position_);
    std::memcpy(out, buffer_.data() + position_, take);
    position_ += take;
    out += take;
    size -= take;
  }
}

}  // namespace cipherlm
