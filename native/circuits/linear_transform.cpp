#include "circuits/linear_transform.hpp"

#include <algorithm>
#include <numeric>
#include <set>

#include "ckks/evaluator.hpp"
#include "ring/elementwise.hpp"
#include "ring/error.hpp"

namespace cipherlm {

namespace {

// Offsets as signed steps in (-n/2, n/2], so that a symmetric band needs few giant steps.
std::vector<long long> signed_offsets(const DiagonalMatrix& matrix) {
  const long long n = static_cast<long long>(matrix.slots());
  std::vector<long long> offsets;
  for (const auto& entry : matrix.diagonals()) {
    const long long r = static_cast<long long>(entry.first);
    offsets.push_back(r > n / 2 ? r - n : r);
  }
  return offsets;
}

long long floor_div(long long a, long long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// acc += x * pt on every limb of both polynomials.
void multiply_plain_accumulate(const Ciphertext& x, const Plaintext& pt, Ciphertext& acc) {
  const Context& context = *x.context;
  const std::size_t n = context.ring_degree(), limbs = x.limbs();
  context.pool()->parallel_for(2 * limbs, [&](std::size_t job) {
    const std::size_t p = job / limbs, i = job % limbs;
    const Modulus& q = context.modulus(i);
    ScratchBuffer product = context.scratch(n);
    multiply_mod(x.limb(p, i), pt.limb(i), product.data(), n, q, context.use_ifma(i));
    u64* dst = acc.limb(p, i);
    for (std::size_t c = 0; c < n; ++c) dst[c] = add_mod(dst[c], product.data()[c], q.value);
  });
}

Ciphertext zero_like(const Ciphertext& x, double scale) {
  Ciphertext r;
  r.context = x.context;
  r.level = x.level;
  r.size = 2;
  r.scale = scale;
  r.data.assign(2 * x.limbs() * x.context->ring_degree(), 0);
  return r;
}

}  // namespace

LinearTransform::LinearTransform(DiagonalMatrix matrix, const SlotOrder& order) : matrix_(std::move(matrix)) {
  require(matrix_.slots() == order.slots(), ErrorCode::InvalidArgument, "matrix size differs from the slot count");
  const std::vector<long long> offsets = signed_offsets(matrix_);
  long long unit = 0;
  for (long long r : offsets) unit = std::gcd(unit, r < 0 ? -r : r);
  if (unit == 0) unit = 1;
  // The giant step (a multiple of the unit) that needs the fewest rotations in all.
  std::size_t best = ~std::size_t{0};
  for (long long giant = unit; giant <= static_cast<long long>(matrix_.slots()); giant *= 2) {
    std::set<long long> babies, giants;
    for (long long r : offsets) {
      const long long g = floor_div(r, giant);
      babies.insert(r - g * giant);
      giants.insert(g * giant);
    }
    const std::size_t cost = babies.size() + giants.size();
    if (cost < best) {
      best = cost;
      baby_steps_.assign(babies.begin(), babies.end());
      giant_steps_.assign(giants.begin(), giants.end());
    }
  }
  std::set<u64> elements;
  for (long long b : baby_steps_) elements.insert(order.galois_element(b));
  for (long long g : giant_steps_) elements.insert(order.galois_element(g));
  elements.erase(1);
  galois_elements_.assign(elements.begin(), elements.end());
}

std::shared_ptr<const LinearTransform::EncodedDiagonals> LinearTransform::encoded(Complex factor, double plaintext_scale,
                                                                                  std::size_t level, const Encoder& encoder,
                                                                                  const SlotOrder& order) const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_ && cache_->factor == factor && cache_->plaintext_scale == plaintext_scale && cache_->level == level) return cache_;
  const long long n = static_cast<long long>(matrix_.slots());
  auto fresh = std::make_shared<EncodedDiagonals>();
  fresh->factor = factor;
  fresh->plaintext_scale = plaintext_scale;
  fresh->level = level;
  std::vector<Complex> rotated(matrix_.slots());
  for (long long giant : giant_steps_) {
    for (long long baby : baby_steps_) {
      // Only the exact signed offset: another combination may meet the same diagonal modulo n.
      const long long offset = giant + baby;
      if (offset <= -n / 2 || offset > n / 2) continue;
      const auto found = matrix_.diagonals().find(static_cast<std::size_t>((offset + n) % n));
      if (found == matrix_.diagonals().end()) continue;
      // The giant rotation comes after the product, so the diagonal is rotated back by it first.
      for (long long p = 0; p < n; ++p) rotated[p] = factor * found->second[((p - giant) % n + n) % n];
      fresh->plaintexts.emplace(std::make_pair(giant, baby),
                                encoder.encode(order.to_standard(rotated).data(), matrix_.slots(), plaintext_scale, level));
    }
  }
  cache_ = std::move(fresh);
  return cache_;
}

Ciphertext LinearTransform::apply(const Ciphertext& x, Complex factor, double plaintext_scale, const Encoder& encoder,
                                  const SlotOrder& order, const GaloisKeys& keys) const {
  require(order.slots() == matrix_.slots(), ErrorCode::InvalidArgument, "slot order of another ring degree");
  require(x.level >= 1, ErrorCode::LevelMismatch, "a linear transform needs a level to spend; the ciphertext is at level 0");
  const auto diagonals = encoded(factor, plaintext_scale, x.level, encoder, order);
  std::vector<u64> baby_elements;
  for (long long b : baby_steps_) baby_elements.push_back(order.galois_element(b));
  const std::vector<Ciphertext> babies = apply_galois_hoisted(x, baby_elements, keys);

  Ciphertext result = zero_like(x, x.scale * plaintext_scale);
  for (long long giant : giant_steps_) {
    Ciphertext inner = zero_like(x, x.scale * plaintext_scale);
    bool any = false;
    for (std::size_t b = 0; b < baby_steps_.size(); ++b) {
      const auto found = diagonals->plaintexts.find(std::make_pair(giant, baby_steps_[b]));
      if (found == diagonals->plaintexts.end()) continue;
      multiply_plain_accumulate(babies[b], found->second, inner);
      any = true;
    }
    if (!any) continue;
    if (giant % static_cast<long long>(matrix_.slots()) != 0) inner = apply_galois(inner, order.galois_element(giant), keys);
    result = add(result, inner);
  }
  return rescale(result);
}

}  // namespace cipherlm
