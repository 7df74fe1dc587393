#include "kernels/plain_matrix_product.hpp"

#include <cmath>
#include <string>

#include "ckks/evaluator.hpp"
#include "kernels/accumulate.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

FeatureMap FeatureMap::model(const ActivationLayout& layout, std::size_t features) {
  require(features == layout.width, ErrorCode::InvalidArgument, "the model dimension must equal the layout width");
  FeatureMap map;
  map.chunks = 1;
  for (std::size_t f = 0; f < features; ++f) map.position.emplace_back(0, layout.model_block(f));
  return map;
}

FeatureMap FeatureMap::plain(const ActivationLayout& layout, std::size_t features) {
  FeatureMap map;
  map.chunks = (features + layout.width - 1) / layout.width;
  for (std::size_t f = 0; f < features; ++f) map.position.emplace_back(f / layout.width, f % layout.width);
  return map;
}

Ciphertext feature_affine(const KernelContext& kernels, const Ciphertext& x, const std::vector<double>& scale,
                          const std::vector<double>& shift) {
  const ActivationLayout& layout = kernels.layout();
  require(scale.size() == layout.width && (shift.empty() || shift.size() == layout.width), ErrorCode::InvalidArgument,
          "affine: one scale (and shift) per feature");
  kernels.scales().require_canonical(x, "affine input");
  require(x.level >= 1, ErrorCode::LevelMismatch, "affine: no level left");
  const auto block_constants = [&](const std::vector<double>& values) {
    std::vector<double> out(layout.slots, 0.0);
    for (std::size_t f = 0; f < layout.width; ++f)
      for (std::size_t r = 0; r < layout.rows; ++r) out[layout.slot(layout.model_block(f), r)] = values[f];
    return out;
  };
  Ciphertext y = kernels.multiply_plain(x, kernels.encode(block_constants(scale), x.level));
  if (!shift.empty()) y = add_plain(y, kernels.encode(block_constants(shift), y.level));
  return y;
}

std::size_t PlainMatrixProduct::giant_size(std::size_t width) {
  std::size_t giant = 1;
  while (giant * giant < width) giant *= 2;
  return giant;
}

std::vector<long long> PlainMatrixProduct::rotation_steps(const ActivationLayout& layout) {
  return baby_giant_keys(static_cast<long long>(layout.rows), static_cast<long long>(giant_size(layout.width)),
                         static_cast<long long>(layout.width));
}

PlainMatrixProduct::PlainMatrixProduct(std::shared_ptr<const KernelContext> kernels, std::vector<double> weight,
                                       FeatureMap inputs, FeatureMap outputs, std::vector<double> bias)
    : kernels_(std::move(kernels)), weight_(std::move(weight)), bias_(std::move(bias)), inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      cache_owner_(kernels_->weight_encodings().new_owner()) {
  const ActivationLayout& layout = kernels_->layout();
  const std::size_t in = inputs_.position.size(), out = outputs_.position.size();
  require(weight_.size() == in * out, ErrorCode::InvalidArgument,
          "weight has " + std::to_string(weight_.size()) + " values, expected " + std::to_string(in * out));
  require(bias_.empty() || bias_.size() == out, ErrorCode::InvalidArgument, "bias length differs from the outputs");
  for (double w : weight_) require(std::isfinite(w), ErrorCode::OutOfRange, "weight has a NaN or infinite value");
  input_at_.assign(inputs_.chunks * layout.width, -1);
  output_at_.assign(outputs_.chunks * layout.width, -1);
  for (std::size_t f = 0; f < in; ++f) input_at_[inputs_.position[f].first * layout.width + inputs_.position[f].second] = static_cast<long long>(f);
  for (std::size_t f = 0; f < out; ++f) output_at_[outputs_.position[f].first * layout.width + outputs_.position[f].second] = static_cast<long long>(f);
}

double PlainMatrixProduct::diagonal_entry(std::size_t in_chunk, std::size_t out_chunk, std::size_t k,
                                          std::size_t block) const {
  // rot(x, k blocks) puts input block (block + k) in `block`; output block `block` takes it.
  const std::size_t width = kernels_->layout().width;
  const long long in = input_at_[in_chunk * width + (block + k) % width];
  const long long out = output_at_[out_chunk * width + block];
  if (in < 0 || out < 0) return 0.0;
  return weight_[static_cast<std::size_t>(in) * outputs_.position.size() + static_cast<std::size_t>(out)];
}

PlainMatrixProduct::~PlainMatrixProduct() { kernels_->weight_encodings().forget(cache_owner_); }

std::shared_ptr<const PlainMatrixProduct::Encoded> PlainMatrixProduct::encoded(std::size_t level) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::static_pointer_cast<const Encoded>(kernels_->weight_encodings().get(cache_owner_, level, [&] {
    auto made = encode_all(level);
    std::size_t bytes = 0;
    for (const auto& group : made->terms)
      for (const Plaintext& p : group) bytes += p.data.size() * sizeof(u64);
    for (const Plaintext& p : made->bias) bytes += p.data.size() * sizeof(u64);
    return std::make_pair(std::shared_ptr<const void>(std::move(made)), bytes);
  }));
}

std::shared_ptr<PlainMatrixProduct::Encoded> PlainMatrixProduct::encode_all(std::size_t level) const {
  const ActivationLayout& layout = kernels_->layout();
  const std::size_t width = layout.width, giant = giant_size(width), giants = (width + giant - 1) / giant;
  auto result = std::make_shared<Encoded>();
  result->terms.resize(outputs_.chunks * giants);
  for (auto& t : result->terms) t.resize(inputs_.chunks * giant);
  const std::size_t jobs = outputs_.chunks * giants * inputs_.chunks * giant;
  kernels_->context().pool()->parallel_for(jobs, [&](std::size_t job) {
    const std::size_t j = job % giant, i = (job / giant) % inputs_.chunks, g = (job / giant / inputs_.chunks) % giants,
                      o = job / giant / inputs_.chunks / giants;
    const std::size_t k = g * giant + j;
    std::vector<double> values(layout.slots, 0.0);
    if (k < width) {
      // diagonal k, pre-rotated right by the giant step g * giant blocks
      for (std::size_t block = 0; block < width; ++block) {
        const double w = diagonal_entry(i, o, k, (block + width - g * giant) % width);
        if (w != 0.0)
          for (std::size_t r = 0; r < layout.rows; ++r) values[layout.slot(block, r)] = w;
      }
    }
    result->terms[o * giants + g][i * giant + j] = kernels_->encode(values, level);
  });
  if (!bias_.empty()) {
    for (std::size_t o = 0; o < outputs_.chunks; ++o) {
      std::vector<double> values(layout.slots, 0.0);
      for (std::size_t block = 0; block < width; ++block) {
        const long long f = output_at_[o * width + block];
        if (f >= 0)
          for (std::size_t r = 0; r < layout.rows; ++r) values[layout.slot(block, r)] = bias_[static_cast<std::size_t>(f)];
      }
      result->bias.push_back(kernels_->encode(values, level - 1));
    }
  }
  return result;
}

std::vector<Ciphertext> PlainMatrixProduct::apply(const std::vector<Ciphertext>& x) const {
  require(x.size() == inputs_.chunks, ErrorCode::InvalidArgument,
          "matrix product: " + std::to_string(x.size()) + " input ciphertexts, expected " + std::to_string(inputs_.chunks));
  const ActivationLayout& layout = kernels_->layout();
  const LevelScales& scales = kernels_->scales();
  const std::size_t level = x[0].level;
  for (const Ciphertext& c : x) {
    require(c.level == level, ErrorCode::LevelMismatch, "matrix product: input ciphertexts at different levels");
    scales.require_canonical(c, "matrix product input");
  }
  require(level >= 1, ErrorCode::LevelMismatch, "matrix product: no level left");
  const std::size_t width = layout.width, giant = giant_size(width), giants = (width + giant - 1) / giant;
  const auto plains = encoded(level);
  const long long rows = static_cast<long long>(layout.rows);

  std::vector<long long> baby_steps;
  for (std::size_t j = 0; j < giant; ++j) baby_steps.push_back(static_cast<long long>(j) * rows);
  std::vector<std::vector<Ciphertext>> babies(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) babies[i] = kernels_->rotator().rotate_many(x[i], baby_steps);

  std::vector<Ciphertext> partial(outputs_.chunks * giants);
  kernels_->context().pool()->parallel_for(partial.size(), [&](std::size_t job) {
    const std::size_t g = job % giants;
    std::vector<const Ciphertext*> cts;
    std::vector<const Plaintext*> ps;
    for (std::size_t i = 0; i < x.size(); ++i)
      for (std::size_t j = 0; j < giant && g * giant + j < width; ++j) {
        cts.push_back(&babies[i][j]);
        ps.push_back(&plains->terms[job][i * giant + j]);
      }
    Ciphertext sum = plain_dot(cts, ps);
    partial[job] = g == 0 ? std::move(sum) : kernels_->rotator().rotate(sum, static_cast<long long>(g * giant) * rows);
  });
  std::vector<Ciphertext> y(outputs_.chunks);
  for (std::size_t o = 0; o < outputs_.chunks; ++o) {
    Ciphertext sum = std::move(partial[o * giants]);
    for (std::size_t g = 1; g < giants; ++g) sum = cipherlm::add(sum, partial[o * giants + g]);
    sum = rescale(sum);
    sum.scale = scales.at(level - 1);
    if (!bias_.empty()) sum = add_plain(sum, plains->bias[o]);
    y[o] = std::move(sum);
  }
  return y;
}

}  // namespace cipherlm::kernels
