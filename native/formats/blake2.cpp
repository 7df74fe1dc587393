#include "formats/blake2.hpp"

#include <algorithm>
#include <cstring>

#include "ring/error.hpp"
#include "rlwe/secure_memory.hpp"

namespace cipherlm {

namespace {

constexpr std::uint64_t kIv[8] = {0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull,
                                  0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull, 0x9b05688c2b3e6c1full,
                                  0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull};

constexpr std::uint8_t kSigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

inline std::uint64_t rotr(std::uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

inline std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline void mix(std::uint64_t* v, int a, int b, int c, int d, std::uint64_t x, std::uint64_t y) {
  v[a] = v[a] + v[b] + x;
  v[d] = rotr(v[d] ^ v[a], 32);
  v[c] = v[c] + v[d];
  v[b] = rotr(v[b] ^ v[c], 24);
  v[a] = v[a] + v[b] + y;
  v[d] = rotr(v[d] ^ v[a], 16);
  v[c] = v[c] + v[d];
  v[b] = rotr(v[b] ^ v[c], 63);
}

}  // namespace

Blake2b::Blake2b(const Blake2bParameters& p, const std::uint8_t* key, std::size_t key_size)
    : digest_length_(p.digest_length) {
  require(p.digest_length >= 1 && p.digest_length <= 64, ErrorCode::InvalidArgument, "BLAKE2b digest length must be 1..64");
  require(key_size <= 64 && key_size == p.key_length, ErrorCode::InvalidArgument, "BLAKE2b key length mismatch");
  // The parameter block, read as eight little-endian words.
  std::uint64_t words[8] = {};
  words[0] = std::uint64_t(p.digest_length) | (std::uint64_t(p.key_length) << 8) | (std::uint64_t(p.fanout) << 16) |
             (std::uint64_t(p.depth) << 24) | (std::uint64_t(p.leaf_length) << 32);
  words[1] = std::uint64_t(p.node_offset) | (std::uint64_t(p.xof_length) << 32);
  words[2] = std::uint64_t(p.node_depth) | (std::uint64_t(p.inner_length) << 8);
  for (int i = 0; i < 8; ++i) h_[i] = kIv[i] ^ words[i];
  if (key_size != 0) {
    std::memcpy(block_.data(), key, key_size);
    filled_ = 128;  // the zero-padded key is the first block
  }
}

Blake2b::~Blake2b() {
  secure_wipe(block_.data(), block_.size());
  secure_wipe(h_.data(), sizeof(h_));
}

void Blake2b::compress(bool last) {
  std::uint64_t m[16], v[16];
  for (int i = 0; i < 16; ++i) m[i] = load64(block_.data() + 8 * i);
  for (int i = 0; i < 8; ++i) {
    v[i] = h_[i];
    v[i + 8] = kIv[i];
  }
  v[12] ^= counter_low_;
  v[13] ^= counter_high_;
  if (last) v[14] = ~v[14];
  for (int r = 0; r < 12; ++r) {
    const std::uint8_t* s = kSigma[r];
    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; ++i) h_[i] ^= v[i] ^ v[i + 8];
  secure_wipe(m, sizeof(m));
  secure_wipe(v, sizeof(v));
}

void Blake2b::update(const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    if (filled_ == 128) {
      // Only compress a full block once more input follows: the last block is compressed in finish().
      counter_low_ += 128;
      if (counter_low_ < 128) ++counter_high_;
      compress(false);
      filled_ = 0;
    }
    const std::size_t take = std::min(size, std::size_t(128) - filled_);
    std::memcpy(block_.data() + filled_, data, take);
    filled_ += take;
    data += take;
    size -= take;
  }
}

void Blake2b::finish(std::uint8_t* out) {
  counter_low_ += filled_;
  if (counter_low_ < filled_) ++counter_high_;
  std::fill(block_.begin() + filled_, block_.end(), std::uint8_t(0));
  compress(true);
  for (std::size_t i = 0; i < digest_length_; ++i) out[i] = static_cast<std::uint8_t>(h_[i / 8] >> (8 * (i % 8)));
}

std::array<std::uint8_t, 32> blake2b_256(const std::uint8_t* data, std::size_t size) {
  Blake2bParameters p;
  p.digest_length = 32;
  Blake2b hash(p, nullptr, 0);
  hash.update(data, size);
  std::array<std::uint8_t, 32> out{};
  hash.finish(out.data());
  return out;
}

Blake2xbStream::~Blake2xbStream() { secure_wipe(seed_.data(), seed_.size()); }

void Blake2xbStream::fill_block(std::uint64_t counter) {
  // Root: keyed BLAKE2b over the counter, with the XOF length in the parameter block.
  Blake2bParameters root_parameters;
  root_parameters.key_length = 64;
  root_parameters.xof_length = kBlockBytes;
  Blake2b root(root_parameters, seed_.data(), seed_.size());
  std::uint8_t counter_bytes[8];
  for (int i = 0; i < 8; ++i) counter_bytes[i] = static_cast<std::uint8_t>(counter >> (8 * i));
  root.update(counter_bytes, 8);
  std::uint8_t root_digest[64];
  root.finish(root_digest);
  // Output node i: unkeyed BLAKE2b of the root digest with node offset i.
  for (std::uint32_t i = 0; i < kBlockBytes / 64; ++i) {
    Blake2bParameters node;
    node.fanout = 0;
    node.depth = 0;
    node.leaf_length = 64;
    node.node_offset = i;
    node.xof_length = kBlockBytes;
    node.inner_length = 64;
    Blake2b hash(node, nullptr, 0);
    hash.update(root_digest, 64);
    hash.finish(buffer_.data() + 64 * i);
  }
  secure_wipe(root_digest, sizeof(root_digest));
}

}  // namespace cipherlm
