#include "kernels/cipher_products.hpp"

#include <algorithm>
#include <string>

#include "ckks/evaluator.hpp"
#include "kernels/accumulate.hpp"
#include "kernels/parameter_packing.hpp"
#include "kernels/plain_matrix_product.hpp"
#include "ring/error.hpp"

namespace cipherlm::kernels {

std::vector<Ciphertext> feature_dot(const KernelContext& kernels, const Ciphertext& x, const std::vector<Ciphertext>& weights,
                                    const std::vector<Ciphertext>& biases) {
  require(!weights.empty() && (biases.empty() || biases.size() == weights.size()), ErrorCode::InvalidArgument,
          "feature_dot: one bias per weight, or none");
  const ActivationLayout& layout = kernels.layout();
  std::vector<Ciphertext> out(weights.size());
  kernels.context().pool()->parallel_for(weights.size(), [&](std::size_t c) {
    kernels.scales().require_canonical(weights[c], "encrypted weight");
    Ciphertext t = kernels.rotate_sum(kernels.multiply(x, weights[c]), layout.width, static_cast<long long>(layout.rows));
    if (!biases.empty()) {
      kernels.scales().require_canonical(biases[c], "encrypted bias");
      require(biases[c].level >= t.level, ErrorCode::LevelMismatch, "encrypted bias below its product's level");
      t = kernels.add(t, biases[c]);
    }
    out[c] = std::move(t);
  });
  return out;
}

Ciphertext broadcast_sum(const KernelContext& kernels, const std::vector<Ciphertext>& t, const std::vector<Ciphertext>& rows) {
  require(!t.empty() && t.size() == rows.size(), ErrorCode::InvalidArgument, "broadcast_sum: operand lists differ");
  std::size_t level = t[0].level;
  for (std::size_t c = 0; c < t.size(); ++c) {
    kernels.scales().require_canonical(t[c], "broadcast factor");
    kernels.scales().require_canonical(rows[c], "encrypted weight row");
    level = std::min({level, t[c].level, rows[c].level});
  }
  require(level >= 1, ErrorCode::LevelMismatch, "broadcast_sum: no level left");
  std::vector<Ciphertext> a, b;
  for (std::size_t c = 0; c < t.size(); ++c) {
    a.push_back(kernels.scales().to_level(t[c], level));
    b.push_back(kernels.scales().to_level(rows[c], level));
  }
  std::vector<const Ciphertext*> pa, pb;
  for (std::size_t c = 0; c < t.size(); ++c) {
    pa.push_back(&a[c]);
    pb.push_back(&b[c]);
  }
  Ciphertext r = rescale(relinearize(tensor_dot(pa, pb), kernels.relin()));
  r.scale = kernels.scales().at(level - 1);
  return r;
}

Ciphertext cipher_matrix_product(const KernelContext& kernels, const Ciphertext& x, const std::vector<Ciphertext>& diagonals,
                                 const Ciphertext* bias) {
  const ActivationLayout& layout = kernels.layout();
  const LevelScales& scales = kernels.scales();
  const std::size_t width = layout.width, giant = PlainMatrixProduct::giant_size(width), giants = (width + giant - 1) / giant;
  require(diagonals.size() == giants * giant, ErrorCode::InvalidArgument,
          "encrypted matrix: " + std::to_string(diagonals.size()) + " diagonals, expected " + std::to_string(giants * giant));
  scales.require_canonical(x, "matrix product input");
  // the product runs at the lowest of the input's and the diagonals' levels: parameters trained
  // encrypted sit wherever their last update left them, and a refreshed input may be above them
  std::size_t level = x.level;
  for (const Ciphertext& d : diagonals) {
    scales.require_canonical(d, "encrypted diagonal");
    level = std::min(level, d.level);
  }
  require(level >= 1, ErrorCode::LevelMismatch, "matrix product: no level left");
  const Ciphertext input = scales.to_level(x, level);
  const long long rows = static_cast<long long>(layout.rows);
  std::vector<long long> baby_steps;
  for (std::size_t j = 0; j < giant; ++j) baby_steps.push_back(static_cast<long long>(j) * rows);
  const std::vector<Ciphertext> babies = kernels.rotator().rotate_many(input, baby_steps);
  std::vector<Ciphertext> partial(giants);
  kernels.context().pool()->parallel_for(giants, [&](std::size_t g) {
    std::vector<Ciphertext> dropped;
    for (std::size_t j = 0; j < giant; ++j) dropped.push_back(scales.to_level(diagonals[g * giant + j], level));
    std::vector<const Ciphertext*> a, b;
    for (std::size_t j = 0; j < giant; ++j) {
      a.push_back(&babies[j]);
      b.push_back(&dropped[j]);
    }
    Ciphertext sum = relinearize(tensor_dot(a, b), kernels.relin());
    partial[g] = g == 0 ? std::move(sum) : kernels.rotator().rotate(sum, static_cast<long long>(g * giant) * rows);
  });
  Ciphertext y = std::move(partial[0]);
  for (std::size_t g = 1; g < giants; ++g) y = cipherlm::add(y, partial[g]);
  y = rescale(y);
  y.scale = scales.at(level - 1);
  if (bias != nullptr) {
    scales.require_canonical(*bias, "encrypted bias");
    require(bias->level >= y.level, ErrorCode::LevelMismatch, "encrypted bias below the product's level");
    y = kernels.add(y, *bias);
  }
  return y;
}

Ciphertext cipher_matrix_transpose_product(const KernelContext& kernels, const Ciphertext& y,
                                           const std::vector<Ciphertext>& diagonals) {
  const ActivationLayout& layout = kernels.layout();
  const LevelScales& scales = kernels.scales();
  const std::size_t width = layout.width, giant = PlainMatrixProduct::giant_size(width), giants = (width + giant - 1) / giant;
  require(diagonals.size() == giants * giant, ErrorCode::InvalidArgument, "encrypted matrix: wrong number of diagonals");
  scales.require_canonical(y, "transposed product input");
  // as in the product: at the lowest of the input's and the diagonals' levels (trained parameters
  // sit wherever their last update left them)
  std::size_t level = y.level;
  for (const Ciphertext& d : diagonals) {
    scales.require_canonical(d, "encrypted diagonal");
    level = std::min(level, d.level);
  }
  require(level >= 1, ErrorCode::LevelMismatch, "transposed product: no level left");
  const long long rows = static_cast<long long>(layout.rows);
  // x = sum_j rot(sum_g D'_(g,j) * rot(y, -g giant), -j): y's giant rotations are shared
  std::vector<long long> giant_steps;
  for (std::size_t g = 0; g < giants; ++g) giant_steps.push_back(-static_cast<long long>(g * giant) * rows);
  const std::vector<Ciphertext> shifted = kernels.rotator().rotate_many(scales.to_level(y, level), giant_steps);
  std::vector<Ciphertext> partial(giant);
  kernels.context().pool()->parallel_for(giant, [&](std::size_t j) {
    std::vector<Ciphertext> dropped;
    for (std::size_t g = 0; g < giants; ++g) dropped.push_back(scales.to_level(diagonals[g * giant + j], level));
    std::vector<const Ciphertext*> a, b;
    for (std::size_t g = 0; g < giants; ++g) {
      a.push_back(&shifted[g]);
      b.push_back(&dropped[g]);
    }
    Ciphertext sum = relinearize(tensor_dot(a, b), kernels.relin());
    partial[j] = j == 0 ? std::move(sum) : kernels.rotator().rotate(sum, -static_cast<long long>(j) * rows);
  });
  Ciphertext x = std::move(partial[0]);
  for (std::size_t j = 1; j < giant; ++j) x = cipherlm::add(x, partial[j]);
  x = rescale(x);
  x.scale = scales.at(level - 1);
  return x;
}

std::vector<Ciphertext> cipher_matrix_gradient(const KernelContext& kernels, const Ciphertext& x, const Ciphertext& dy) {
  const ActivationLayout& layout = kernels.layout();
  const std::size_t width = layout.width, giant = PlainMatrixProduct::giant_size(width), giants = (width + giant - 1) / giant;
  const long long rows = static_cast<long long>(layout.rows);
  const std::size_t level = std::min(x.level, dy.level);
  require(level >= 1, ErrorCode::LevelMismatch, "matrix gradient: no level left");
  std::vector<long long> baby_steps, giant_steps;
  for (std::size_t j = 0; j < giant; ++j) baby_steps.push_back(static_cast<long long>(j) * rows);
  for (std::size_t g = 0; g < giants; ++g) giant_steps.push_back(-static_cast<long long>(g * giant) * rows);
  const std::vector<Ciphertext> babies = kernels.rotator().rotate_many(kernels.scales().to_level(x, level), baby_steps);
  const std::vector<Ciphertext> shifted = kernels.rotator().rotate_many(kernels.scales().to_level(dy, level), giant_steps);
  std::vector<Ciphertext> out(giants * giant);
  kernels.context().pool()->parallel_for(out.size(), [&](std::size_t i) {
    out[i] = row_total(kernels, kernels.multiply(shifted[i / giant], babies[i % giant]));
  });
  return out;
}

}  // namespace cipherlm::kernels
