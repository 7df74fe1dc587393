// The memory pool's size classes (a request takes a cached block of its class; sizes within one
// eighth of a doubling share one, and the pool accounts for the class's bytes), and the limit that
// follows the work.
#include "rlwe/memory_pool.hpp"

#include <algorithm>
#include "tests/suites.hpp"

namespace cipherlm::tests {

void memory_pool_suite(Checks& checks, std::mt19937_64&) {
  MemoryPool pool;
  // 1000 words round up to 1024 (eight classes per doubling: steps of 64 between 512 and 1024).
  u64* block = pool.acquire(1000);
  checks.expect(pool.stats().in_use_bytes == 1024 * sizeof(u64), "a request holds its size class's bytes");
  block[1023] = 1;  // the whole class is the caller's
  pool.release(block, 1000);
  u64* nearby = pool.acquire(970);
  MemoryPoolStats stats = pool.stats();
  checks.expect(nearby == block && stats.reuses == 1 && stats.allocations == 1,
                "a request of the same size class takes the cached block");
  pool.release(nearby, 970);
  u64* larger = pool.acquire(1100);
  stats = pool.stats();
  checks.expect(stats.reuses == 1 && stats.allocations == 2, "a request of the next class does not");
  pool.release(larger, 1100);
  u64* small = pool.acquire(13);
  checks.expect(pool.stats().in_use_bytes == 13 * sizeof(u64), "requests below 16 words are exact");
  pool.release(small, 13);
  pool.trim();
  checks.expect(pool.stats().cached_bytes == 0 && pool.stats().in_use_bytes == 0, "trim frees every cached block");

  // A limit that follows the work: rounds of two blocks each, of forty growing sizes. The pool
  // never holds more than its peak in use plus the headroom, and the last round's blocks stay cached.
  MemoryPool following;
  const std::size_t headroom = 256 * 1024;
  following.set_cache_headroom(headroom);
  std::size_t peak = 0;
  bool bounded = true;
  for (std::size_t round = 0; round < 40; ++round) {
    const std::size_t words = 1024 + 512 * round;
    u64* first = following.acquire(words);
    u64* second = following.acquire(words);
    const MemoryPoolStats held = following.stats();
    peak = std::max(peak, held.in_use_bytes);
    following.release(first, words);
    following.release(second, words);
    const MemoryPoolStats after = following.stats();
    bounded = bounded && held.in_use_bytes + held.cached_bytes <= peak + headroom && after.cached_bytes <= peak + headroom;
  }
  const MemoryPoolStats settled = following.stats();
  checks.expect(bounded && settled.cache_limit_bytes == peak + headroom,
                "a following limit is the peak in use plus the headroom, and the pool evicts to stay within it");
  checks.expect(settled.cached_bytes > headroom && settled.cached_bytes > peak,
                "a following limit keeps freed blocks beyond the headroom and beyond the peak in use");
  const std::size_t last = 1024 + 512 * 39;
  u64* again = following.acquire(last);
  checks.expect(following.stats().allocations == settled.allocations, "the last round's blocks are reused");
  following.release(again, last);
  // Long-lived blocks raise the peak by their own size only: the headroom for freed ones stays.
  u64* resident = following.acquire(1 << 20);
  const MemoryPoolStats with_resident = following.stats();
  checks.expect(with_resident.cache_limit_bytes == with_resident.in_use_bytes + headroom &&
                    with_resident.in_use_bytes + with_resident.cached_bytes <= with_resident.cache_limit_bytes,
                "a long-lived block adds its size to the limit, not a multiple of it");
  following.release(resident, 1 << 20);
}

}  // namespace cipherlm::tests
