#include "rlwe/prng.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#if defined(_WIN32)
#include <windows.h>
#include <bcrypt.h>  // BCryptGenRandom (link bcrypt)
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <stdlib.h>  // arc4random_buf
#else
#include <sys/random.h>  // getrandom (Linux)
#endif

#include "ring/error.hpp"
#include "rlwe/secure_memory.hpp"

namespace cipherlm {

// The operating system's cryptographic random bytes: BCryptGenRandom on Windows, arc4random_buf on
// macOS and the BSDs (it never fails), getrandom on Linux (retried when a signal interrupts it).
Seed os_random_seed() {
  Seed seed{};
#if defined(_WIN32)
  const NTSTATUS status = BCryptGenRandom(nullptr, seed.data(), static_cast<ULONG>(seed.size()), BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  require(BCRYPT_SUCCESS(status), ErrorCode::InvalidArgument, "BCryptGenRandom failed: status " + std::to_string(status));
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
  arc4random_buf(seed.data(), seed.size());
#else
  std::size_t filled = 0;
  while (filled < seed.size()) {
    const auto got = getrandom(seed.data() + filled, seed.size() - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(ErrorCode::InvalidArgument, std::string("getrandom failed: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(got);
  }
#endif
  return seed;
}

namespace {
inline std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
inline void quarter_round(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d) {
  a += b; d ^= a; d = rotl(d, 16);
  c += d; b ^= c; b = rotl(b, 12);
  a += b; d ^= a; d = rotl(d, 8);
  c += d; b ^= c; b = rotl(b, 7);
}
}  // namespace

Prng::Prng(const Seed& seed) {
  for (int i = 0; i < 8; ++i) {
    key_[i] = std::uint32_t(seed[4 * i]) | (std::uint32_t(seed[4 * i + 1]) << 8) |
              (std::uint32_t(seed[4 * i + 2]) << 16) | (std::uint32_t(seed[4 * i + 3]) << 24);
  }
}

Prng::~Prng() {
  secure_wipe(key_.data(), sizeof(key_));
  secure_wipe(buffer_.data(), sizeof(buffer_));
}

void Prng::refill() {
  std::array<std::uint32_t, 16> state = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
                                         key_[0], key_[1], key_[2], key_[3],
                                         key_[4], key_[5], key_[6], key_[7],
                                         std::uint32_t(block_counter_), std::uint32_t(block_counter_ >> 32), 0, 0};
  std::array<std::uint32_t, 16> x = state;
  for (int round = 0; round < 10; ++round) {
    quarter_round(x[0], x[4], x[8], x[12]);
    quarter_round(x[1], x[5], x[9], x[13]);
    quarter_round(x[2], x[6], x[10], x[14]);
    quarter_round(x[3], x[7], x[11], x[15]);
    quarter_round(x[0], x[5], x[10], x[15]);
    quarter_round(x[1], x[6], x[11], x[12]);
    quarter_round(x[2], x[7], x[8], x[13]);
    quarter_round(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; ++i) buffer_[i] = x[i] + state[i];
  secure_wipe(x.data(), sizeof(x));
  secure_wipe(state.data(), sizeof(state));
  ++block_counter_;
  position_ = 0;
}

u64 Prng::next_u64() {
  if (position_ + 2 > 16) refill();
  u64 v = u64(buffer_[position_]) | (u64(buffer_[position_ + 1]) << 32);
  position_ += 2;
  return v;
}

u64 Prng::uniform_below(u64 bound) {
  // Lemire's multiply-and-reject: no division on the sampled value, so the time taken depends only on
  // whether a (public, discarded) draw is rejected, never on the value returned.
  const u64 threshold = (0 - bound) % bound;
  for (;;) {
    const UInt128 product = multiply_wide(next_u64(), bound);
    if (product.low >= threshold) return product.high;
  }
}

}  // namespace cipherlm
