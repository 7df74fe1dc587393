#include "kernels/kernel_context.hpp"

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

KernelContext::KernelContext(ContextPtr context, const ActivationLayout& layout, std::size_t top_level,
                             double top_scale, std::shared_ptr<const RelinKey> relin,
                             std::shared_ptr<const GaloisKeys> galois)
    : context_(std::move(context)),
      layout_(layout),
      encoder_(context_),
      scales_(context_, top_level, top_scale),
      relin_(std::move(relin)),
      rotator_(std::move(galois)),
      weight_encodings_(256 * (top_level + 1) * context_->ring_degree() * sizeof(u64)) {
  require(relin_ != nullptr && relin_->key.context.get() == context_.get() &&
              rotator_.keys().context.get() == context_.get(),
          ErrorCode::ParameterMismatch, "evaluation keys were made under a different context");
  require(layout_.slots == context_->slot_count(), ErrorCode::InvalidArgument,
          "the layout's slot count differs from the context's");
}

Plaintext KernelContext::encode(const std::vector<double>& values, std::size_t level) const {
  return encoder_.encode_real(values.data(), values.size(), scales_.at(level), level);
}

std::shared_ptr<const Plaintext> KernelContext::cached(const std::string& name, std::size_t level,
                                                       const std::function<std::vector<double>()>& values) const {
  const auto key = std::make_pair(name, level);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto found = cache_.find(key);
    if (found != cache_.end()) return found->second;
  }
  auto plain = std::make_shared<const Plaintext>(encode(values(), level));
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return cache_.emplace(key, std::move(plain)).first->second;
}

Ciphertext KernelContext::multiply(const Ciphertext& a, const Ciphertext& b) const {
  const std::size_t level = std::min(a.level, b.level);
  require(level >= 1, ErrorCode::LevelMismatch, "no level left for a multiplication");
  const Ciphertext x = scales_.to_level(a, level), y = scales_.to_level(b, level);
  Ciphertext r = rescale(relinearize(cipherlm::multiply(x, y), *relin_));
  r.scale = scales_.at(level - 1);
  return r;
}

Ciphertext KernelContext::square(const Ciphertext& a) const {
  require(a.level >= 1, ErrorCode::LevelMismatch, "no level left for a squaring");
  Ciphertext r = rescale(relinearize(cipherlm::square(scales_.to_level(a, a.level)), *relin_));
  r.scale = scales_.at(a.level - 1);
  return r;
}

Ciphertext KernelContext::multiply_plain(const Ciphertext& a, const Plaintext& p) const {
  require(a.level >= 1, ErrorCode::LevelMismatch, "no level left for a plaintext product");
  Ciphertext r = rescale(cipherlm::multiply_plain(scales_.to_level(a, p.level), p));
  r.scale = scales_.at(p.level - 1);
  return r;
}

Ciphertext KernelContext::add(const Ciphertext& a, const Ciphertext& b) const {
  const std::size_t level = std::min(a.level, b.level);
  return cipherlm::add(scales_.to_level(a, level), scales_.to_level(b, level));
}

Ciphertext KernelContext::sub(const Ciphertext& a, const Ciphertext& b) const {
  const std::size_t level = std::min(a.level, b.level);
  return cipherlm::sub(scales_.to_level(a, level), scales_.to_level(b, level));
}

Ciphertext KernelContext::rotate_sum(const Ciphertext& ct, std::size_t count, long long stride) const {
  require(count != 0 && (count & (count - 1)) == 0, ErrorCode::InvalidArgument, "rotate_sum: count must be a power of two");
  Ciphertext sum = ct;
  for (std::size_t span = 1; span < count; span *= 2)
    sum = cipherlm::add(sum, rotator_.rotate(sum, static_cast<long long>(span) * stride));
  return sum;
}

}  // namespace cipherlm::kernels
