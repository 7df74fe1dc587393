#include "kernels/encoding_cache.hpp"

namespace cipherlm::kernels {

std::size_t EncodingCache::new_owner() {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_owner_++;
}

std::shared_ptr<const void> EncodingCache::get(
    std::size_t owner, std::size_t level,
    const std::function<std::pair<std::shared_ptr<const void>, std::size_t>()>& make) {
  const auto key = std::make_pair(owner, level);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    if (found != index_.end()) {
      recent_.splice(recent_.begin(), recent_, found->second);
      return found->second->value;
    }
  }
  auto [value, bytes] = make();
  std::lock_guard<std::mutex> lock(mutex_);
  if (index_.count(key) == 0) {
    recent_.push_front(Entry{owner, level, bytes, value});
    index_[key] = recent_.begin();
    bytes_ += bytes;
    evict_over_budget();
  }
  return value;
}

void EncodingCache::forget(std::size_t owner) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = recent_.begin(); it != recent_.end();) {
    if (it->owner == owner) {
      bytes_ -= it->bytes;
      index_.erase({it->owner, it->level});
      it = recent_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t EncodingCache::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

void EncodingCache::evict_over_budget() {
  while (bytes_ > budget_ && recent_.size() > 1) {
    const Entry& oldest = recent_.back();
    bytes_ -= oldest.bytes;
    index_.erase({oldest.owner, oldest.level});
    recent_.pop_back();
  }
}

}  // namespace cipherlm::kernels
