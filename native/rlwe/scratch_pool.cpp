#include "rlwe/scratch_pool.hpp"

namespace cipherlm {

ScratchBuffer::~ScratchBuffer() {
  if (pool_ != nullptr && storage_.capacity() != 0) pool_->release(std::move(storage_));
}

ScratchBuffer ScratchPool::acquire(std::size_t words) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Best fit among cached buffers: the smallest that is large enough.
    std::size_t best = free_.size();
    for (std::size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].capacity() >= words && (best == free_.size() || free_[i].capacity() < free_[best].capacity())) best = i;
    }
    if (best != free_.size()) {
      std::vector<u64> storage = std::move(free_[best]);
      free_[best] = std::move(free_.back());
      free_.pop_back();
      storage.resize(words);
      return ScratchBuffer(this, std::move(storage));
    }
  }
  return ScratchBuffer(this, std::vector<u64>(words));
}

void ScratchPool::release(std::vector<u64>&& storage) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.size() < kMaxCached) free_.push_back(std::move(storage));
}

}  // namespace cipherlm
