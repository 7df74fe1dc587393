// Polynomial memory reused instead of faulted in afresh. Every ciphertext, plaintext and temporary
// buffer of a context takes its words from the context's pool (SEAL's MemoryPool is the model):
// freed blocks wait in free lists by size class (eight per doubling) and the next request of that
// class takes one, so a steady computation stops paying for page faults and zeroing. Blocks come
// back uninitialized; the secret key never lives here (secure_memory.hpp). Cached blocks above the
// cache limit are freed (other sizes first), and trim() frees them all.
#pragma once
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ring/modarith.hpp"

namespace cipherlm {

struct MemoryPoolStats {
  std::size_t in_use_bytes = 0;      // held by live buffers
  std::size_t cached_bytes = 0;      // freed, kept for reuse
  std::size_t high_water_bytes = 0;  // most in use + cached at once
  std::size_t allocations = 0;       // blocks taken from the system
  std::size_t reuses = 0;            // requests served from the cache
  std::size_t cache_limit_bytes = 0; // most freed bytes kept (following the work: most bytes held in all)
};

class MemoryPool {
 public:
  explicit MemoryPool(std::size_t cache_limit_bytes = kDefaultCacheLimit) : cache_limit_(cache_limit_bytes) {}
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // `words` uninitialized words, 64-byte aligned (nullptr for zero words).
  u64* acquire(std::size_t words);
  void release(u64* block, std::size_t words);
  // Frees every cached block.
  void trim();
  // A fixed limit on the freed bytes kept.
  void set_cache_limit(std::size_t bytes);
  // A limit that follows the work (Context's default): the pool keeps freed blocks as long as it
  // holds no more in all (in use and cached) than the most it has had in use at once plus
  // `headroom`. A computation that repeats (bootstrapping, a training step) then finds its blocks in
  // the cache from its second round on: the transformer bootstrap at N = 2^16 (0.65 GB in use at
  // most, but blocks of many sizes, 1.7 GB cached once none is freed) took 16-17 s on 2 threads with
  // a fixed 350 MB cache, re-faulting blocks every round while the system allocator kept the freed
  // memory in fragments (resident memory grew 0.5 GB a round), against 8-9 s with every block kept.
  // The headroom is added to the peak, not a multiple of it: long-lived blocks (a pipeline's encoded
  // weights, gigabytes at N = 2^16) raise the peak without raising what a round frees and asks
  // for again, and a multiple of them let the private pipeline's cache outgrow a 24 GB machine.
  void set_cache_headroom(std::size_t headroom);
  MemoryPoolStats stats() const;

  // The least of a context's floor (Context sizes it to its key switching): a few dozen ciphertexts
  // at N = 2^15.
  static constexpr std::size_t kDefaultCacheLimit = std::size_t{256} << 20;

 private:
  void evict_until(std::size_t bytes);  // frees cached blocks until at most `bytes` are cached; caller holds the lock
  void evict_over_budget();             // the same, down to what the limit leaves beside the bytes in use
  std::size_t budget() const;           // the effective limit; caller holds the lock
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<u64*>> free_;  // by size in words
  std::size_t cache_limit_;
  bool follows_peak_ = false;     // set_cache_headroom: the limit is on in-use plus cached bytes
  std::size_t peak_in_use_ = 0;
  MemoryPoolStats stats_;
};

// An owning handle on a block of a pool (or of the heap when made without one), with the part of
// std::vector's interface the engine uses. Copies take a block of the same pool.
class PolyBuffer {
 public:
  PolyBuffer() = default;
  PolyBuffer(MemoryPool* pool, std::size_t words) : pool_(pool), size_(words) { data_ = allocate(pool, words); }
  PolyBuffer(const PolyBuffer& other);
  PolyBuffer(PolyBuffer&& other) noexcept;
  PolyBuffer& operator=(const PolyBuffer& other);
  PolyBuffer& operator=(PolyBuffer&& other) noexcept;
  ~PolyBuffer() { free(); }

  u64* data() { return data_; }
  const u64* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  u64* begin() { return data_; }
  u64* end() { return data_ + size_; }
  const u64* begin() const { return data_; }
  const u64* end() const { return data_ + size_; }
  u64& operator[](std::size_t i) { return data_[i]; }
  const u64& operator[](std::size_t i) const { return data_[i]; }
  MemoryPool* pool() const { return pool_; }

 private:
  static u64* allocate(MemoryPool* pool, std::size_t words);
  void free();
  MemoryPool* pool_ = nullptr;
  u64* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cipherlm
