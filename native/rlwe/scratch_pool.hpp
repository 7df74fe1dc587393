// Reusable temporary buffers for hot paths (key switching): fresh multi-megabyte allocations cost page
// faults and zeroing on every operation. Buffers come back uninitialized; never put secrets in them.
#pragma once
#include <cstddef>
#include <mutex>
#include <vector>

#include "ring/modarith.hpp"

namespace cipherlm {

class ScratchPool;

class ScratchBuffer {
 public:
  ScratchBuffer(ScratchPool* pool, std::vector<u64>&& storage) : pool_(pool), storage_(std::move(storage)) {}
  ScratchBuffer(ScratchBuffer&& other) noexcept = default;
  ScratchBuffer& operator=(ScratchBuffer&&) = delete;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ~ScratchBuffer();
  u64* data() { return storage_.data(); }
  const u64* data() const { return storage_.data(); }

 private:
  ScratchPool* pool_;
  std::vector<u64> storage_;
};

class ScratchPool {
 public:
  ScratchBuffer acquire(std::size_t words);
  void release(std::vector<u64>&& storage);

 private:
  static constexpr std::size_t kMaxCached = 64;
  std::mutex mutex_;
  std::vector<std::vector<u64>> free_;
};

}  // namespace cipherlm
