// A plaintext weight applied to packed activations: y = x W + bias, by the diagonal method over
// feature blocks with baby-step giant-step. The baby rotations of each input ciphertext are hoisted
// (one decomposition), the products of a giant step accumulate before any reduction, and one
// rescale per output ends it: one level. The weight's diagonals are encoded per level and kept in the
// kernel context's budgeted cache of encodings.
#pragma once
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "kernels/kernel_context.hpp"

namespace cipherlm::kernels {

// Where each feature of a vector lives: (ciphertext index, block) per feature.
struct FeatureMap {
  std::vector<std::pair<std::size_t, std::size_t>> position;
  std::size_t chunks = 0;

  // The model dimension, heads interleaved (ActivationLayout::model_block); one ciphertext.
  static FeatureMap model(const ActivationLayout& layout, std::size_t features);
  // Features in order, `layout.width` per ciphertext (the feed-forward hidden layer).
  static FeatureMap plain(const ActivationLayout& layout, std::size_t features);
};

// x * scale + shift per model feature (scale and shift in model order, block constants; shift may
// be empty): LayerNorm's gamma and beta where they cannot be folded into a product; one level.
Ciphertext feature_affine(const KernelContext& kernels, const Ciphertext& x, const std::vector<double>& scale,
                          const std::vector<double>& shift);

class PlainMatrixProduct {
 public:
  // weight: inputs x outputs, row-major; bias: outputs values or empty.
  PlainMatrixProduct(std::shared_ptr<const KernelContext> kernels, std::vector<double> weight, FeatureMap inputs,
                     FeatureMap outputs, std::vector<double> bias);
  ~PlainMatrixProduct();
  PlainMatrixProduct(const PlainMatrixProduct&) = delete;
  PlainMatrixProduct& operator=(const PlainMatrixProduct&) = delete;

  // x: one ciphertext per input chunk, canonical at one level >= 1; result one level lower.
  std::vector<Ciphertext> apply(const std::vector<Ciphertext>& x) const;

  static constexpr std::size_t depth() { return 1; }
  // Baby steps j * rows (j < giant) and giant steps g * rows (multiples of giant below width).
  static std::size_t giant_size(std::size_t width);
  static std::vector<long long> rotation_steps(const ActivationLayout& layout);

 private:
  struct Encoded {
    std::vector<std::vector<Plaintext>> terms;  // [output chunk * giants + g] -> [input chunk * giant + j]
    std::vector<Plaintext> bias;                // per output chunk, one level below
  };
  std::shared_ptr<const Encoded> encoded(std::size_t level) const;  // from the cache, or encode_all
  std::shared_ptr<Encoded> encode_all(std::size_t level) const;
  double diagonal_entry(std::size_t in_chunk, std::size_t out_chunk, std::size_t k, std::size_t block) const;

  std::shared_ptr<const KernelContext> kernels_;
  std::vector<double> weight_, bias_;
  FeatureMap inputs_, outputs_;
  // feature index at (chunk, block), or -1: the inverse maps
  std::vector<long long> input_at_, output_at_;
  std::size_t cache_owner_;      // this product's key in the kernel context's encoding cache
  mutable std::mutex mutex_;     // one encoding of a level at a time
};

}  // namespace cipherlm::kernels
