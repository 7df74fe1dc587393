#include "circuits/chebyshev.hpp"

#include <cmath>

#include "ckks/evaluator.hpp"
#include "ring/error.hpp"

namespace cipherlm {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::size_t degree_of(const std::vector<double>& c) {
  std::size_t d = c.size() - 1;
  while (d > 0 && c[d] == 0.0) --d;
  return d;
}

// c = q T_G + r (deg r < G), from T_G T_j = (T_{G+j} + T_{|G-j|}) / 2.
void divide_by_basis(const std::vector<double>& c, std::size_t d, std::size_t giant, std::vector<double>& quotient,
                     std::vector<double>& remainder) {
  quotient.assign(d - giant + 1, 0.0);
  remainder.assign(c.begin(), c.begin() + giant);
  quotient[0] = c[giant];
  for (std::size_t k = giant + 1; k <= d; ++k) {
    quotient[k - giant] = 2 * c[k];
    remainder[2 * giant - k] -= c[k];
  }
}

std::size_t ceil_log2(std::size_t x) {
  std::size_t r = 0;
  while ((std::size_t{1} << r) < x) ++r;
  return r;
}

// acc += round(value * factor) * t on acc's limbs: a term of a linear combination, without the
// copies that drop_to_level, multiply_scalar and add would make.
void accumulate_scaled(const Ciphertext& t, double value, double factor, Ciphertext& acc) {
  const double rounded = std::nearbyint(value * factor);
  require(std::fabs(rounded) < 9.2e18, ErrorCode::OutOfRange, "Chebyshev coefficient times scale does not fit in 63 bits");
  require(t.level >= acc.level && t.size == 2, ErrorCode::LevelMismatch, "Chebyshev basis below the combination's level");
  const Context& context = *acc.context;
  const std::size_t n = context.ring_degree(), limbs = acc.limbs();
  context.pool()->parallel_for(2 * limbs, [&](std::size_t job) {
    const std::size_t p = job / limbs, i = job % limbs;
    const Modulus& q = context.modulus(i);
    const u64 w = reduce_signed(static_cast<std::int64_t>(rounded), q), ws = shoup_precompute(w, q.value);
    const u64* src = t.limb(p, i);
    u64* dst = acc.limb(p, i);
    for (std::size_t c = 0; c < n; ++c) dst[c] = add_mod(dst[c], mul_shoup(src[c], w, ws, q.value), q.value);
  });
}

// 2 a b - c, with c brought to the product's scale first; one level.
Ciphertext twice_product_minus(const Ciphertext& a, const Ciphertext& b, const Ciphertext* c, const RelinKey& relin) {
  const std::size_t level = std::min(a.level, b.level);
  Ciphertext product = relinearize(multiply(drop_to_level(a, level), drop_to_level(b, level)), relin);
  product = multiply_integer(product, 2);
  if (c != nullptr) {
    require(c->level >= level, ErrorCode::LevelMismatch, "Chebyshev basis: subtrahend below the product's level");
    const Ciphertext matched = multiply_scalar(drop_to_level(*c, level), 1.0, product.scale / c->scale);
    product = sub(product, matched);
  }
  return rescale(product);
}

}  // namespace

std::vector<double> chebyshev_interpolate(const std::function<double(double)>& f, double a, double b, std::size_t degree) {
  const std::size_t nodes = degree + 1;
  std::vector<double> values(nodes), c(nodes, 0.0);
  for (std::size_t j = 0; j < nodes; ++j) {
    const double u = std::cos(kPi * (j + 0.5) / nodes);
    values[j] = f(0.5 * (b - a) * u + 0.5 * (a + b));
  }
  for (std::size_t k = 0; k < nodes; ++k) {
    double sum = 0;
    for (std::size_t j = 0; j < nodes; ++j) sum += values[j] * std::cos(kPi * k * (j + 0.5) / nodes);
    c[k] = (k == 0 ? 1.0 : 2.0) * sum / nodes;
  }
  return c;
}

double chebyshev_value(const std::vector<double>& c, double u) {
  double b1 = 0, b2 = 0;
  for (std::size_t k = c.size(); k-- > 1;) {
    const double b0 = 2 * u * b1 - b2 + c[k];
    b2 = b1;
    b1 = b0;
  }
  return u * b1 - b2 + c[0];
}

ChebyshevEvaluation::ChebyshevEvaluation(const Ciphertext& u, std::size_t degree, const RelinKey& relin)
    : relin_(relin), degree_(degree) {
  require(degree >= 1, ErrorCode::InvalidArgument, "Chebyshev degree must be at least 1");
  baby_ = baby_size(degree);
  basis_.emplace(1, u);
}

std::size_t ChebyshevEvaluation::giant_for(std::size_t degree, std::size_t baby) {
  std::size_t giant = baby;
  while (2 * giant <= degree) giant *= 2;
  return giant;
}

std::size_t ChebyshevEvaluation::baby_size(std::size_t degree) {
  return std::size_t{1} << ((ceil_log2(degree + 1) + 1) / 2);
}

const Ciphertext& ChebyshevEvaluation::basis(std::size_t k) {
  auto found = basis_.find(k);
  if (found != basis_.end()) return found->second;
  Ciphertext t;
  if (k % 2 == 0) {
    const Ciphertext& half = basis(k / 2);
    t = add_scalar(twice_product_minus(half, half, nullptr, relin_), -1.0);  // T_2k = 2 T_k^2 - 1
  } else {
    const Ciphertext& low = basis(k / 2);
    const Ciphertext& high = basis(k / 2 + 1);
    t = twice_product_minus(high, low, &basis(1), relin_);  // T_2k+1 = 2 T_k+1 T_k - T_1
  }
  return basis_.emplace(k, std::move(t)).first->second;
}

std::size_t ChebyshevEvaluation::feasible_level(const std::vector<double>& c, std::size_t baby,
                                                std::size_t top) {
  // T_k is made at level top - ceil(log2 k) by the recurrences in basis().
  const auto basis_level = [top](std::size_t k) -> long long {
    return static_cast<long long>(top) - static_cast<long long>(ceil_log2(k));
  };
  const std::size_t d = degree_of(c);
  long long level;
  if (d <= baby) {
    level = basis_level(std::max<std::size_t>(d, 1)) - 1;
  } else {
    const std::size_t giant = giant_for(d, baby);
    std::vector<double> quotient, remainder;
    divide_by_basis(c, d, giant, quotient, remainder);
    const long long high = std::min(static_cast<long long>(feasible_level(quotient, baby, top)), basis_level(giant)) - 1;
    level = std::min(high, static_cast<long long>(feasible_level(remainder, baby, top)));
  }
  require(level >= 0, ErrorCode::LevelMismatch, "not enough levels left for the polynomial evaluation");
  return static_cast<std::size_t>(level);
}

std::size_t ChebyshevEvaluation::levels_consumed(const std::vector<double>& coefficients) {
  const std::size_t top = 1000;
  return top - feasible_level(coefficients, baby_size(coefficients.size() - 1), top);
}

Ciphertext ChebyshevEvaluation::evaluate_at(const std::vector<double>& c, double scale, std::size_t level) {
  const Context& context = *basis(1).context;
  const std::size_t d = degree_of(c);
  const double prime = static_cast<double>(context.modulus(level + 1).value);
  if (d <= baby_) {
    Ciphertext sum;
    sum.context = basis(1).context;
    sum.level = level + 1;
    sum.scale = scale * prime;
    sum.data = sum.context->allocate_zeroed(2 * (level + 2) * context.ring_degree());
    for (std::size_t k = 1; k <= d; ++k) {
      const Ciphertext& t = basis(k);
      if (c[k] != 0.0) accumulate_scaled(t, c[k], sum.scale / t.scale, sum);
    }
    return add_scalar(rescale(sum), c[0]);
  }
  const std::size_t giant = giant_for(d, baby_);
  std::vector<double> quotient, remainder;
  divide_by_basis(c, d, giant, quotient, remainder);
  const Ciphertext giant_basis = drop_to_level(basis(giant), level + 1);
  Ciphertext high = evaluate_at(quotient, scale * prime / giant_basis.scale, level + 1);
  Ciphertext product = rescale(relinearize(multiply(high, giant_basis), relin_));
  product.scale = scale;
  Ciphertext low = evaluate_at(remainder, scale, level);
  return add(product, low);
}

std::size_t ChebyshevEvaluation::output_level(const std::vector<double>& coefficients) const {
  return feasible_level(coefficients, baby_, basis_.at(1).level);
}

Ciphertext ChebyshevEvaluation::evaluate(const std::vector<double>& coefficients, double scale) {
  require(!coefficients.empty(), ErrorCode::InvalidArgument, "no coefficients");
  require(coefficients.size() - 1 <= degree_, ErrorCode::InvalidArgument, "polynomial degree above the prepared basis");
  return evaluate_at(coefficients, scale, output_level(coefficients));
}

}  // namespace cipherlm
