// The memory pool's size classes: a request takes a cached block of its class (sizes within one
// eighth of a doubling share one), and the pool accounts for the class's bytes.
#include "rlwe/memory_pool.hpp"
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
}

}  // namespace cipherlm::tests
