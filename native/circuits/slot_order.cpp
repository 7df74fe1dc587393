#include "circuits/slot_order.hpp"

#include <unordered_map>

namespace cipherlm {

SlotOrder::SlotOrder(std::size_t ring_degree) : ring_degree_(ring_degree), slots_(ring_degree / 2) {
  const u64 two_n = 2 * ring_degree_;
  std::unordered_map<u64, std::size_t> log_five;
  u64 power = 1;
  for (std::size_t k = 0; k < slots_; ++k) {
    log_five.emplace(power, k);
    power = (power * 5) % two_n;
  }
  source_.resize(slots_);
  conjugated_.resize(slots_);
  power = 1;
  for (std::size_t j = 0; j < slots_; ++j) {
    const bool plus = log_five.count(power) != 0;
    source_[j] = plus ? log_five.at(power) : log_five.at(two_n - power);
    conjugated_[j] = !plus;
    power = (power * 3) % two_n;
  }
}

std::vector<std::complex<double>> SlotOrder::to_standard(const std::vector<std::complex<double>>& power_of_five) const {
  std::vector<std::complex<double>> out(slots_);
  for (std::size_t j = 0; j < slots_; ++j) {
    const std::complex<double> v = power_of_five[source_[j]];
    out[j] = conjugated_[j] ? std::conj(v) : v;
  }
  return out;
}

u64 SlotOrder::galois_element(long long offset) const {
  const long long n = static_cast<long long>(slots_);
  u64 e = static_cast<u64>(((offset % n) + n) % n);
  const u64 mask = 2 * ring_degree_ - 1;
  u64 element = 1, base = 5;
  for (; e != 0; e >>= 1) {
    if (e & 1) element = (element * base) & mask;
    base = (base * base) & mask;
  }
  return element;
}

}  // namespace cipherlm
