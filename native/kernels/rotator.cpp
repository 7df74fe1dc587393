#include "kernels/rotator.hpp"

#include <string>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

Rotator::Rotator(std::shared_ptr<const GaloisKeys> keys) : keys_(std::move(keys)) {
  require(keys_ != nullptr && keys_->context != nullptr, ErrorCode::InvalidArgument, "rotator: no Galois keys");
  const Context& context = *keys_->context;
  slots_ = context.slot_count();
  // Inverting step -> Galois element over every step would cost N/2 exponentiations; the keyed
  // elements are few, so walk the powers of 3 once.
  std::map<u64, long long> step_of;
  for (const auto& entry : keys_->keys) step_of.emplace(entry.first, -1);
  const u64 two_n = 2 * context.ring_degree();
  u64 element = 1;
  for (std::size_t step = 0; step < slots_; ++step) {
    auto found = step_of.find(element);
    if (found != step_of.end() && step != 0) {
      found->second = static_cast<long long>(step);
      keyed_.push_back(static_cast<long long>(step));
    }
    element = (element * 3) & (two_n - 1);
  }
}

std::vector<long long> Rotator::decompose(long long step) const {
  const long long slots = static_cast<long long>(slots_);
  long long target = step % slots;
  if (target < 0) target += slots;
  if (target == 0) return {};
  std::lock_guard<std::mutex> lock(mutex_);
  auto cached = decompositions_.find(target);
  if (cached != decompositions_.end()) return cached->second;
  std::vector<long long> found;
  const auto keyed = [&](long long s) {
    const long long m = ((s % slots) + slots) % slots;
    for (long long k : keyed_)
      if (k == m) return true;
    return false;
  };
  if (keyed(target)) {
    found = {target};
  } else {
    for (long long a : keyed_) {
      if (keyed(target - a)) {
        found = {a, ((target - a) % slots + slots) % slots};
        break;
      }
    }
    if (found.empty()) {
      for (long long a : keyed_) {
        for (long long b : keyed_) {
          if (keyed(target - a - b)) {
            found = {a, b, ((target - a - b) % slots + 2 * slots) % slots};
            break;
          }
        }
        if (!found.empty()) break;
      }
    }
  }
  // else signed powers of two, when all are keyed (training keys them below the rows): the
  // non-adjacent form, or the plain binary digits
  const long long signed_step = target > slots / 2 ? target - slots : target;
  std::vector<long long> binary;
  for (long long bit = 1, rest = signed_step < 0 ? -signed_step : signed_step; rest != 0; bit <<= 1, rest >>= 1)
    if (rest & 1) binary.push_back(signed_step < 0 ? -bit : bit);
  for (const std::vector<long long>& terms : {non_adjacent_form(signed_step), binary}) {
    if (!found.empty()) break;
    for (long long term : terms) {
      if (!keyed(term)) {
        found.clear();
        break;
      }
      found.push_back(((term % slots) + slots) % slots);
    }
  }
  require(!found.empty(), ErrorCode::MissingKey,
          "no Galois keys compose a rotation by " + std::to_string(step) + ": generate the keys the plan lists");
  decompositions_.emplace(target, found);
  return found;
}

Ciphertext Rotator::rotate(const Ciphertext& ct, long long step) const {
  Ciphertext r = ct;
  for (long long s : decompose(step)) r = cipherlm::rotate(r, s, *keys_);
  return r;
}

std::vector<Ciphertext> Rotator::rotate_many(const Ciphertext& ct, const std::vector<long long>& steps) const {
  std::vector<std::vector<long long>> parts;
  std::vector<long long> first;
  for (long long step : steps) {
    parts.push_back(decompose(step));
    first.push_back(parts.back().empty() ? 0 : parts.back()[0]);
  }
  std::vector<Ciphertext> results = rotate_hoisted(ct, first, *keys_);
  ct.context->pool()->parallel_for(steps.size(), [&](std::size_t i) {
    for (std::size_t k = 1; k < parts[i].size(); ++k) results[i] = cipherlm::rotate(results[i], parts[i][k], *keys_);
  });
  return results;
}

std::vector<long long> baby_giant_keys(long long unit, long long giant, long long count) {
  std::vector<long long> steps;
  for (long long b = 1; b < giant && b < count; ++b) steps.push_back(b * unit);
  for (long long g = giant; g < count; g += giant) steps.push_back(g * unit);
  return steps;
}

}  // namespace cipherlm::kernels
