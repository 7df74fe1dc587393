// Encoded weights kept for reuse under a byte budget. A matrix product's diagonals at one level are
// hundreds of megabytes at N = 2^16 (64 plaintexts of up to 14 limbs), and a forward pass uses each
// matrix at its own level: kept without a bound, they filled 5.6 GB of a 24 GB machine in one pass
// of the private pipeline. The cache evicts the least recently used sets beyond its budget (never
// the newest, so a set in use by every row group of a stage is encoded once); a set evicted while
// a kernel still uses it lives on with that user. Re-encoding a matrix costs about a second at
// N = 2^16, small beside a pass of minutes.
#pragma once
#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace cipherlm::kernels {

class EncodingCache {
 public:
  explicit EncodingCache(std::size_t budget_bytes) : budget_(budget_bytes) {}

  // A key of its own for each owner (a matrix product), so that entries never outlive their meaning.
  std::size_t new_owner();
  // The set of `owner` at `level`, made by `make` (which returns it and its bytes) when absent.
  // Callers serialise the calls for one owner (a second make of the same set is wasted, not wrong).
  std::shared_ptr<const void> get(std::size_t owner, std::size_t level,
                                  const std::function<std::pair<std::shared_ptr<const void>, std::size_t>()>& make);
  // Drops every set of `owner` (its product is gone).
  void forget(std::size_t owner);

  std::size_t bytes() const;
  std::size_t budget() const { return budget_; }

 private:
  struct Entry {
    std::size_t owner, level, bytes;
    std::shared_ptr<const void> value;
  };
  void evict_over_budget();  // caller holds the lock

  const std::size_t budget_;
  mutable std::mutex mutex_;
  std::size_t next_owner_ = 0;
  std::size_t bytes_ = 0;
  std::list<Entry> recent_;  // most recently used first
  std::map<std::pair<std::size_t, std::size_t>, std::list<Entry>::iterator> index_;
};

}  // namespace cipherlm::kernels
