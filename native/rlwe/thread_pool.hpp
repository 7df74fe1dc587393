// A fixed set of worker threads owned by a context. parallel_for splits an index range among the
// workers and the calling thread; calls made from inside a worker run inline, so nested parallelism
// (a batch of ciphertexts whose operations parallelize over RNS limbs) never deadlocks.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cipherlm {

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Total threads that run work, the caller included.
  std::size_t size() const { return workers_.size() + 1; }
  void parallel_for(std::size_t count, const std::function<void(std::size_t)>& body);

 private:
  struct Job;
  void worker_loop();
  static void run_job(Job& job);

  std::vector<std::thread> workers_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace cipherlm
