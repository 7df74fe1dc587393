// The engine tests' harness: a failed check prints one line and is counted, so one run reports
// every broken property instead of stopping at the first.
#pragma once
#include <iostream>
#include <string>

namespace cipherlm::tests {

class Checks {
 public:
  void expect(bool condition, const std::string& what) {
    ++count_;
    if (!condition) {
      ++failed_;
      std::cout << "FAIL " << what << '\n';
    }
  }
  int count() const { return count_; }
  int failed() const { return failed_; }

 private:
  int count_ = 0;
  int failed_ = 0;
};

}  // namespace cipherlm::tests
