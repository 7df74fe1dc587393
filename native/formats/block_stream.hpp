// A byte stream made of 4096-byte blocks that a generator refills one at a time: the shape of SEAL's
// seeded PRNGs (Blake2xb, SHAKE-256), whose block c is a function of the seed and the counter c.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cipherlm {

class BlockStream {
 public:
  static constexpr std::size_t kBlockBytes = 4096;
  BlockStream(const BlockStream&) = delete;
  BlockStream& operator=(const BlockStream&) = delete;

  void generate(std::uint8_t* out, std::size_t size);

 protected:
  BlockStream() : buffer_(kBlockBytes) {}
  ~BlockStream();
  // Writes block `counter` into buffer_.
  virtual void fill_block(std::uint64_t counter) = 0;
  std::vector<std::uint8_t> buffer_;

 private:
  std::size_t position_ = kBlockBytes;
  std::uint64_t counter_ = 0;
};

}  // namespace cipherlm
