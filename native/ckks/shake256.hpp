// SHAKE-256 (FIPS 202) and the stream of SEAL's Shake256 PRNG: block c (4096 bytes) is
// SHAKE-256(seed || c as an 8-byte little-endian counter).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cipherlm {

void shake256(const std::uint8_t* input, std::size_t input_size, std::uint8_t* out, std::size_t out_size);

class Shake256Stream {
 public:
  static constexpr std::size_t kBlockBytes = 4096;
  explicit Shake256Stream(const std::array<std::uint8_t, 64>& seed);
  ~Shake256Stream();
  Shake256Stream(const Shake256Stream&) = delete;
  Shake256Stream& operator=(const Shake256Stream&) = delete;

  void generate(std::uint8_t* out, std::size_t size);

 private:
  void refill();
  std::array<std::uint8_t, 72> input_{};  // the seed, then the counter
  std::vector<std::uint8_t> buffer_;
  std::size_t position_ = kBlockBytes;
  std::uint64_t counter_ = 0;
};

}  // namespace cipherlm
