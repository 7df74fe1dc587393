#include "formats/shake256.hpp"

#include <algorithm>
#include <cstring>

#include "rlwe/secure_memory.hpp"

namespace cipherlm {

namespace {

constexpr std::size_t kRate = 136;  // bytes: 1600 - 2 * 256 bits of capacity

constexpr std::uint64_t kRoundConstants[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull};

// The rho rotation of each lane, visited along the pi permutation's cycle starting at lane 1.
constexpr int kRotations[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPiLanes[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

inline std::uint64_t rotl(std::uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

void keccak_f1600(std::uint64_t* a) {
  std::uint64_t c[5];
  for (int round = 0; round < 24; ++round) {
    // theta
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) {
      const std::uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    // rho and pi
    std::uint64_t carried = a[1];
    for (int i = 0; i < 24; ++i) {
      const int lane = kPiLanes[i];
      const std::uint64_t next = a[lane];
      a[lane] = rotl(carried, kRotations[i]);
      carried = next;
    }
    // chi
    for (int y = 0; y < 25; y += 5) {
      for (int x = 0; x < 5; ++x) c[x] = a[y + x];
      for (int x = 0; x < 5; ++x) a[y + x] = c[x] ^ (~c[(x + 1) % 5] & c[(x + 2) % 5]);
    }
    // iota
    a[0] ^= kRoundConstants[round];
  }
  secure_wipe(c, sizeof(c));
}

inline void xor_byte(std::uint64_t* state, std::size_t index, std::uint8_t value) {
  state[index / 8] ^= static_cast<std::uint64_t>(value) << (8 * (index % 8));
}

inline std::uint8_t state_byte(const std::uint64_t* state, std::size_t index) {
  return static_cast<std::uint8_t>(state[index / 8] >> (8 * (index % 8)));
}

}  // namespace

void shake256(const std::uint8_t* input, std::size_t input_size, std::uint8_t* out, std::size_t out_size) {
  std::uint64_t state[25] = {};
  std::size_t filled = 0;
  for (std::size_t i = 0; i < input_size; ++i) {
    xor_byte(state, filled++, input[i]);
    if (filled == kRate) {
      keccak_f1600(state);
      filled = 0;
    }
  }
  // SHAKE domain bits 1111, then the final bit of pad10*1.
  xor_byte(state, filled, 0x1f);
  xor_byte(state, kRate - 1, 0x80);
  keccak_f1600(state);
  std::size_t taken = 0;
  for (std::size_t i = 0; i < out_size; ++i) {
    if (taken == kRate) {
      keccak_f1600(state);
      taken = 0;
    }
    out[i] = state_byte(state, taken++);
  }
  secure_wipe(state, sizeof(state));
}

Shake256Stream::Shake256Stream(const std::array<std::uint8_t, 64>& seed) {
  std::copy(seed.begin(), seed.end(), input_.begin());
}

Shake256Stream::~Shake256Stream() { secure_wipe(input_.data(), input_.size()); }

void Shake256Stream::fill_block(std::uint64_t counter) {
  for (int i = 0; i < 8; ++i) input_[64 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
  shake256(input_.data(), input_.size(), buffer_.data(), kBlockBytes);
}

}  // namespace cipherlm
