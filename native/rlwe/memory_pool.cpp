#include "rlwe/memory_pool.hpp"

#include <algorithm>
#include <new>

namespace cipherlm {

namespace {

constexpr std::align_val_t kAlignment{64};

u64* system_allocate(std::size_t words) { return static_cast<u64*>(::operator new(words * sizeof(u64), kAlignment)); }
void system_free(u64* block) { ::operator delete(block, kAlignment); }

// Blocks come in size classes, eight per doubling (at most 12.5 % above the request): buffers whose
// sizes differ by a limb or two, as a computation descends levels (bootstrapping's at N = 2^16 are
// tens of MB each), then reuse each other's blocks instead of faulting in fresh ones.
std::size_t size_class(std::size_t words) {
  if (words < 16) return words;
  const std::size_t step = std::size_t{1} << (bit_width(words) - 4);
  return (words + step - 1) / step * step;
}

}  // namespace

MemoryPool::~MemoryPool() { trim(); }

u64* MemoryPool::acquire(std::size_t words) {
  if (words == 0) return nullptr;
  words = size_class(words);
  const std::size_t bytes = words * sizeof(u64);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use_bytes += bytes;
    // The peak counts blocks taken from the cache too: the limit follows the most in use at once.
    peak_in_use_ = std::max(peak_in_use_, stats_.in_use_bytes);
    auto it = free_.find(words);
    if (it != free_.end() && !it->second.empty()) {
      u64* block = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= bytes;
      ++stats_.reuses;
      return block;
    }
    ++stats_.allocations;
    evict_over_budget();
    stats_.high_water_bytes = std::max(stats_.high_water_bytes, stats_.in_use_bytes + stats_.cached_bytes);
  }
  try {
    return system_allocate(words);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use_bytes -= bytes;
    throw;
  }
}

void MemoryPool::release(u64* block, std::size_t words) {
  if (block == nullptr) return;
  words = size_class(words);
  const std::size_t bytes = words * sizeof(u64);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.in_use_bytes -= bytes;
  const std::size_t room = follows_peak_ ? budget() - stats_.in_use_bytes : cache_limit_;
  if (bytes > room) {
    system_free(block);
    return;
  }
  evict_until(room - bytes);
  free_[words].push_back(block);
  stats_.cached_bytes += bytes;
}

std::size_t MemoryPool::budget() const {
  return follows_peak_ ? peak_in_use_ + cache_limit_ : cache_limit_;
}

void MemoryPool::evict_over_budget() {
  if (!follows_peak_) return;
  // in_use never exceeds the budget, which follows its peak.
  evict_until(budget() - stats_.in_use_bytes);
}

void MemoryPool::evict_until(std::size_t bytes) {
  for (auto it = free_.begin(); it != free_.end() && stats_.cached_bytes > bytes;) {
    while (!it->second.empty() && stats_.cached_bytes > bytes) {
      system_free(it->second.back());
      it->second.pop_back();
      stats_.cached_bytes -= it->first * sizeof(u64);
    }
    it = it->second.empty() ? free_.erase(it) : std::next(it);
  }
}

void MemoryPool::trim() {
  std::lock_guard<std::mutex> lock(mutex_);
  evict_until(0);
}

void MemoryPool::set_cache_limit(std::size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  cache_limit_ = bytes;
  follows_peak_ = false;
  evict_until(bytes);
}

void MemoryPool::set_cache_headroom(std::size_t headroom) {
  std::lock_guard<std::mutex> lock(mutex_);
  cache_limit_ = headroom;
  follows_peak_ = true;
  evict_over_budget();
}

MemoryPoolStats MemoryPool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  MemoryPoolStats stats = stats_;
  stats.cache_limit_bytes = budget();
  return stats;
}

u64* PolyBuffer::allocate(MemoryPool* pool, std::size_t words) {
  if (words == 0) return nullptr;
  return pool != nullptr ? pool->acquire(words) : system_allocate(words);
}

void PolyBuffer::free() {
  if (data_ == nullptr) return;
  if (pool_ != nullptr) {
    pool_->release(data_, size_);
  } else {
    system_free(data_);
  }
  data_ = nullptr;
  size_ = 0;
}

PolyBuffer::PolyBuffer(const PolyBuffer& other) : pool_(other.pool_), size_(other.size_) {
  data_ = allocate(pool_, size_);
  std::copy(other.begin(), other.end(), data_);
}

PolyBuffer::PolyBuffer(PolyBuffer&& other) noexcept
    : pool_(other.pool_), data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

PolyBuffer& PolyBuffer::operator=(const PolyBuffer& other) {
  if (this != &other) {
    PolyBuffer copy(other);
    *this = std::move(copy);
  }
  return *this;
}

PolyBuffer& PolyBuffer::operator=(PolyBuffer&& other) noexcept {
  if (this != &other) {
    free();
    pool_ = other.pool_;
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

}  // namespace cipherlm
