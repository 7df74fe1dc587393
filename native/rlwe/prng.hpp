// ChaCha20 keystream as a cryptographic PRNG, seeded from the OS (getrandom) or from a stored seed.
#pragma once
#include <array>
#include <cstdint>

#include "ring/modarith.hpp"

namespace cipherlm {

using Seed = std::array<std::uint8_t, 32>;

Seed os_random_seed();

class Prng {
 public:
  explicit Prng(const Seed& seed);
  Prng() : Prng(os_random_seed()) {}
  ~Prng();
  Prng(const Prng&) = delete;
  Prng& operator=(const Prng&) = delete;

  u64 next_u64();
  // Uniform in [0, bound) by rejection of the biased top range.
  u64 uniform_below(u64 bound);

 private:
  void refill();
  std::array<std::uint32_t, 8> key_{};
  std::uint64_t block_counter_ = 0;
  std::array<std::uint32_t, 16> buffer_{};
  unsigned position_ = 16;
};

}  // namespace cipherlm
