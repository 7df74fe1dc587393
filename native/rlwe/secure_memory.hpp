// Buffers that hold secret material and are wiped before their memory is returned.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cipherlm {

// Zeroes memory with the operating system's wipe, which the compiler may not drop as a dead store
// (secure_memory.cpp: SecureZeroMemory, memset_s or explicit_bzero).
void secure_wipe(void* data, std::size_t bytes);

template <typename T>
class SecureVector {
 public:
  SecureVector() = default;
  explicit SecureVector(std::size_t n) : data_(n) {}
  SecureVector(const SecureVector&) = default;
  SecureVector& operator=(const SecureVector& other) {
    if (this != &other) { wipe(); data_ = other.data_; }
    return *this;
  }
  ~SecureVector() { wipe(); }
  void wipe() { if (!data_.empty()) secure_wipe(data_.data(), data_.size() * sizeof(T)); }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::size_t size() const { return data_.size(); }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  void resize(std::size_t n) { wipe(); data_.assign(n, T{}); }

 private:
  std::vector<T> data_;
};

}  // namespace cipherlm
