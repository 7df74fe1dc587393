// What every fused kernel needs besides its inputs: the encoder, the canonical level scales, the
// relinearization key, the rotator over the client's Galois keys, and a cache of the 0/1 masks and
// constant vectors the kernels multiply by (encoded once per level), and the budgeted cache of
// encoded weights. The server builds one per client; it holds evaluation keys only.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ckks/encoder.hpp"
#include "kernels/activation_layout.hpp"
#include "kernels/encoding_cache.hpp"
#include "kernels/level_scales.hpp"
#include "kernels/rotator.hpp"

namespace cipherlm::kernels {

class KernelContext {
 public:
  KernelContext(ContextPtr context, const ActivationLayout& layout, std::size_t top_level, double top_scale,
                std::shared_ptr<const RelinKey> relin, std::shared_ptr<const GaloisKeys> galois);

  const Context& context() const { return *context_; }
  const ContextPtr& context_ptr() const { return context_; }
  const ActivationLayout& layout() const { return layout_; }
  const Encoder& encoder() const { return encoder_; }
  const LevelScales& scales() const { return scales_; }
  const RelinKey& relin() const { return *relin_; }
  const Rotator& rotator() const { return rotator_; }
  // Matrix products' encoded diagonals, at most 256 top-level plaintexts' worth beside the set in use.
  EncodingCache& weight_encodings() const { return weight_encodings_; }

  // values encoded at `level` with that level's canonical scale (a product with a canonical
  // ciphertext lands on the canonical scale one level down).
  Plaintext encode(const std::vector<double>& values, std::size_t level) const;
  // The same, cached under `name` (masks and constants reused by every call of a kernel).
  std::shared_ptr<const Plaintext> cached(const std::string& name, std::size_t level,
                                          const std::function<std::vector<double>()>& values) const;

  // Canonical a (x) b, relinearized and rescaled (both brought to the lower of their levels first).
  Ciphertext multiply(const Ciphertext& a, const Ciphertext& b) const;
  Ciphertext square(const Ciphertext& a) const;
  // a * plaintext, rescaled (a at the plaintext's level).
  Ciphertext multiply_plain(const Ciphertext& a, const Plaintext& p) const;
  // a + b with both brought to the lower of their levels.
  Ciphertext add(const Ciphertext& a, const Ciphertext& b) const;
  Ciphertext sub(const Ciphertext& a, const Ciphertext& b) const;
  // Sum over i of rotate(ct, i * stride) for i < count (count a power of two): log2(count) rotations.
  Ciphertext rotate_sum(const Ciphertext& ct, std::size_t count, long long stride) const;

 private:
  ContextPtr context_;
  ActivationLayout layout_;
  Encoder encoder_;
  LevelScales scales_;
  std::shared_ptr<const RelinKey> relin_;
  Rotator rotator_;
  mutable EncodingCache weight_encodings_;
  mutable std::mutex cache_mutex_;
  mutable std::map<std::pair<std::string, std::size_t>, std::shared_ptr<const Plaintext>> cache_;
};

}  // namespace cipherlm::kernels
