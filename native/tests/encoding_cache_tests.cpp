// The budgeted cache of encoded weights: hits return the kept set, the least recently used sets go
// beyond the budget but never the newest, an evicted set lives on with its user, and forget drops an
// owner's sets.
#include <string>

#include "kernels/encoding_cache.hpp"
#include "tests/suites.hpp"

namespace cipherlm::tests {

void encoding_cache_suite(Checks& checks, std::mt19937_64&) {
  kernels::EncodingCache cache(250);
  int made = 0;
  auto maker = [&](std::size_t bytes) {
    return [&made, bytes] {
      ++made;
      return std::make_pair(std::shared_ptr<const void>(std::make_shared<const std::string>(std::to_string(bytes))), bytes);
    };
  };
  const std::size_t a = cache.new_owner(), b = cache.new_owner(), c = cache.new_owner();
  checks.expect(a != b && b != c && a != c, "owners get keys of their own");

  const auto a1 = cache.get(a, 1, maker(100));
  checks.expect(cache.get(a, 1, maker(100)) == a1 && made == 1, "a second request of a set returns the kept one");
  const auto a2 = cache.get(a, 2, maker(100));
  checks.expect(a2 != a1 && made == 2 && cache.bytes() == 200, "another level of the same owner is another set");

  cache.get(a, 1, maker(100));  // a1 becomes the most recently used
  cache.get(b, 1, maker(100));  // 300 bytes: the least recently used (a at level 2) goes
  checks.expect(cache.bytes() == 200, "the cache evicts beyond its budget");
  const int before = made;
  cache.get(a, 1, maker(100));
  checks.expect(made == before, "the recently used set stays");
  cache.get(a, 2, maker(100));
  checks.expect(made == before + 1, "the least recently used set was the one evicted");
  checks.expect(a2 != nullptr && *std::static_pointer_cast<const std::string>(a2) == "100",
                "an evicted set lives on with its user");

  const auto huge = cache.get(c, 1, maker(1000));
  checks.expect(cache.bytes() == 1000 && cache.get(c, 1, maker(1000)) == huge,
                "the newest set stays even above the budget, alone");

  cache.forget(c);
  checks.expect(cache.bytes() == 0, "forget drops an owner's sets");
  const int after_forget = made;
  cache.get(c, 1, maker(1000));
  checks.expect(made == after_forget + 1, "a forgotten set is made again");
}

}  // namespace cipherlm::tests
