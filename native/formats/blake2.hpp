// BLAKE2b (RFC 7693) with the full parameter block, and the BLAKE2Xb extendable-output stream that
// SEAL's default PRNG uses to expand a 64-byte public seed.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/block_stream.hpp"

namespace cipherlm {

struct Blake2bParameters {
  std::uint8_t digest_length = 64;
  std::uint8_t key_length = 0;
  std::uint8_t fanout = 1;
  std::uint8_t depth = 1;
  std::uint32_t leaf_length = 0;
  std::uint32_t node_offset = 0;
  std::uint32_t xof_length = 0;
  std::uint8_t node_depth = 0;
  std::uint8_t inner_length = 0;
};

class Blake2b {
 public:
  // key_length in the parameters must equal key_size (at most 64 bytes).
  Blake2b(const Blake2bParameters& parameters, const std::uint8_t* key, std::size_t key_size);
  ~Blake2b();
  Blake2b(const Blake2b&) = delete;
  Blake2b& operator=(const Blake2b&) = delete;

  void update(const std::uint8_t* data, std::size_t size);
  // Writes digest_length bytes.
  void finish(std::uint8_t* out);

 private:
  void compress(bool last);
  std::array<std::uint64_t, 8> h_{};
  std::array<std::uint8_t, 128> block_{};
  std::size_t filled_ = 0;
  std::uint64_t counter_low_ = 0, counter_high_ = 0;
  std::size_t digest_length_;
};

// Unkeyed BLAKE2b with a 32-byte digest.
std::array<std::uint8_t, 32> blake2b_256(const std::uint8_t* data, std::size_t size);

// SEAL's Blake2xb PRNG: the concatenation of blocks c = 0, 1, ... where block c is the 4096-byte
// BLAKE2Xb output keyed with the seed over the 8-byte little-endian counter c.
class Blake2xbStream final : public BlockStream {
 public:
  explicit Blake2xbStream(const std::array<std::uint8_t, 64>& seed) : seed_(seed) {}
  ~Blake2xbStream();

 private:
  void fill_block(std::uint64_t counter) override;
  std::array<std::uint8_t, 64> seed_;
};

}  // namespace cipherlm
