// bench/ops.ts's timing: one warm-up run, then `reps` timed runs, the median in milliseconds.
// Whatever an operation returns is destroyed after the clock stops (bench/ops.ts disposes results
// untimed too).
#pragma once
#include <algorithm>
#include <chrono>
#include <type_traits>
#include <vector>

namespace cipherlm::bench {

template <typename Operation>
double median_ms(int reps, Operation operation) {
  const auto timed_run = [&operation]() {
    const auto start = std::chrono::steady_clock::now();
    if constexpr (std::is_void_v<decltype(operation())>) {
      operation();
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    } else {
      const auto result = operation();
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
  };
  timed_run();
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) times.push_back(timed_run());
  std::sort(times.begin(), times.end());
  const std::size_t middle = times.size() / 2;
  return times.size() % 2 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
}

}  // namespace cipherlm::bench
