// SHAKE-256 (FIPS 202) and the stream of SEAL's Shake256 PRNG: block c (4096 bytes) is
// SHAKE-256(seed || c as an 8-byte little-endian counter).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/block_stream.hpp"

namespace cipherlm {

void shake256(const std::uint8_t* input, std::size_t input_size, std::uint8_t* out, std::size_t out_size);

class Shake256Stream final : public BlockStream {
 public:
  explicit Shake256Stream(const std::array<std::uint8_t, 64>& seed);
  ~Shake256Stream();

 private:
  void fill_block(std::uint64_t counter) override;
  std::array<std::uint8_t, 72> input_{};  // the seed, then the counter
};

}  // namespace cipherlm
