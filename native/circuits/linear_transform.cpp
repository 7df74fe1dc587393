#include "circuits/linear_transform.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "ckks/evaluator.hpp"
#include "ring/elementwise.hpp"
#include "ring/multiply_accumulate.hpp"
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

// Coefficients below 2^62 in absolute value are kept as integers; larger ones (never met by the
// bootstrapping transforms) keep the NTT form.
constexpr double kCompactLimit = 4.6e18;

}  // namespace

LinearTransform::LinearTransform(DiagonalMatrix matrix, const SlotOrder& order, std::size_t baby_steps, bool compact)
    : matrix_(std::move(matrix)), compact_(compact) {
  require(matrix_.slots() == order.slots(), ErrorCode::InvalidArgument, "matrix size differs from the slot count");
  const std::vector<long long> offsets = signed_offsets(matrix_);
  long long unit = 0;
  for (long long r : offsets) unit = std::gcd(unit, r < 0 ? -r : r);
  if (unit == 0) unit = 1;
  std::set<u64> elements;
  if (baby_steps == 0) {
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
    for (long long g : giant_steps_) elements.insert(order.galois_element(g));
  } else {
    require((baby_steps & (baby_steps - 1)) == 0, ErrorCode::InvalidArgument, "baby steps must be a power of two");
    horner_ = true;
    giant_ = unit * static_cast<long long>(baby_steps);
    std::set<long long> babies, giants;
    for (long long r : offsets) {
      const long long g = floor_div(r, giant_);
      babies.insert(r - g * giant_);
      giants.insert(g * giant_);
    }
    baby_steps_.assign(babies.begin(), babies.end());
    giant_steps_.assign(giants.begin(), giants.end());
    if (giant_steps_.back() > 0) elements.insert(order.galois_element(giant_));
    if (giant_steps_.front() < 0) elements.insert(order.galois_element(-giant_));
  }
  for (long long b : baby_steps_) elements.insert(order.galois_element(b));
  elements.erase(1);
  galois_elements_.assign(elements.begin(), elements.end());
}

std::shared_ptr<const LinearTransform::EncodedDiagonals> LinearTransform::encoded(Complex factor, double plaintext_scale,
                                                                                  std::size_t level, const Encoder& encoder,
                                                                                  const SlotOrder& order,
                                                                                  std::size_t special_primes) const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_ && cache_->factor == factor && cache_->plaintext_scale == plaintext_scale && cache_->level == level) return cache_;
  cache_.reset();  // the old diagonals go before the new ones are made
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
      const std::vector<Complex> standard = order.to_standard(rotated);
      const std::vector<double> rounded = encoder.rounded_coefficients(standard.data(), matrix_.slots(), plaintext_scale);
      Diagonal diagonal;
      const bool small = std::all_of(rounded.begin(), rounded.end(), [](double c) { return std::fabs(c) < kCompactLimit; });
      if (compact_ && small) {
        diagonal.coefficients.assign(rounded.begin(), rounded.end());
      } else {
        diagonal.plaintext = encoder.from_coefficients(rounded.data(), plaintext_scale, level);
        const std::size_t n = 2 * matrix_.slots(), data_primes = diagonal.plaintext.context->data_prime_count();
        diagonal.special.resize(special_primes * n);
        for (std::size_t j = 0; j < special_primes; ++j)
          encoder.coefficient_residues(rounded.data(), data_primes + j, diagonal.special.data() + j * n);
      }
      fresh->diagonals.emplace(std::make_pair(giant, baby), std::move(diagonal));
    }
  }
  cache_ = std::move(fresh);
  return cache_;
}

void LinearTransform::add_inner_sum(const EncodedDiagonals& diagonals, long long giant,
                                    const std::vector<ExtendedCiphertext>& babies, ExtendedCiphertext& sum) const {
  const Context& context = *sum.context;
  const std::size_t n = context.ring_degree(), level = sum.level;
  std::vector<std::pair<const Diagonal*, const ExtendedCiphertext*>> terms;
  for (std::size_t b = 0; b < baby_steps_.size(); ++b) {
    const auto found = diagonals.diagonals.find(std::make_pair(giant, baby_steps_[b]));
    if (found != diagonals.diagonals.end()) terms.emplace_back(&found->second, &babies[b]);
  }
  if (terms.empty()) return;
  // Per extended limb: each diagonal's residues (made from its coefficients when compact), and one
  // dot product with the babies' two polynomials, reduced once, added to the sum.
  context.pool()->parallel_for(sum.limbs(), [&](std::size_t t) {
    const std::size_t prime = t <= level ? t : context.special_limb(t - level - 1);
    const Modulus& q = context.modulus(prime);
    PolyBuffer residues = context.allocate(terms.size() * n), product = context.allocate(2 * n);
    const u64* d[64] = {};
    const u64* c0[64] = {};
    const u64* c1[64] = {};
    for (std::size_t k = 0; k < terms.size(); ++k) {
      const Diagonal& diagonal = *terms[k].first;
      if (!diagonal.coefficients.empty()) {
        u64* r = residues.data() + k * n;
        reduce_signed_vector(diagonal.coefficients.data(), r, n, q, context.use_avx512());
        context.ntt(prime).forward(r, context.simd_path());
        d[k] = r;
      } else {
        d[k] = t <= level ? diagonal.plaintext.limb(t) : diagonal.special.data() + (t - level - 1) * n;
      }
      c0[k] = terms[k].second->limb(0, t);
      c1[k] = terms[k].second->limb(1, t);
    }
    dot_product_mod(d, c0, c1, terms.size(), q, product.data(), product.data() + n, n, context.use_ifma(prime));
    for (std::size_t p = 0; p < 2; ++p)
      add_mod_vector(sum.limb(p, t), product.data() + p * n, sum.limb(p, t), n, q.value, context.simd_path());
  });
}

Ciphertext LinearTransform::apply(const Ciphertext& x, Complex factor, double plaintext_scale, const Encoder& encoder,
                                  const SlotOrder& order, const GaloisKeys& keys) const {
  require(order.slots() == matrix_.slots(), ErrorCode::InvalidArgument, "slot order of another ring degree");
  require(x.level >= 1, ErrorCode::LevelMismatch, "a linear transform needs a level to spend; the ciphertext is at level 0");
  const auto diagonals = encoded(factor, plaintext_scale, x.level, encoder, order, x.context->special_prime_count());
  std::vector<u64> baby_elements;
  for (long long b : baby_steps_) baby_elements.push_back(order.galois_element(b));
  const std::vector<ExtendedCiphertext> babies = apply_galois_hoisted_extended(x, baby_elements, keys);
  const double scale = x.scale * plaintext_scale;
  const auto inner_sum = [&](long long giant) {
    ExtendedCiphertext sum = extended_zero(x.context, x.level, scale);
    add_inner_sum(*diagonals, giant, babies, sum);
    return sum;
  };

  if (!horner_) {
    ExtendedCiphertext result = extended_zero(x.context, x.level, scale);
    for (long long giant : giant_steps_) {
      if (giant % static_cast<long long>(matrix_.slots()) == 0) {
        add_inner_sum(*diagonals, giant, babies, result);
      } else {
        add_to(result, apply_galois_extended(inner_sum(giant), order.galois_element(giant), keys));
      }
    }
    return rescale(divide_by_special_primes(std::move(result)));
  }

  // Horner's rule over the giants j G, j >= 0: I_0 + rot_G(I_1 + rot_G(I_2 + ...)); over j < 0:
  // rot_-G(I_-1 + rot_-G(I_-2 + ...)).
  const long long first = giant_steps_.front() / giant_, last = giant_steps_.back() / giant_;
  ExtendedCiphertext result = extended_zero(x.context, x.level, scale);
  if (last >= 0) {
    ExtendedCiphertext acc = inner_sum(last * giant_);
    for (long long j = last - 1; j >= 0; --j) {
      acc = apply_galois_extended(std::move(acc), order.galois_element(giant_), keys);
      add_inner_sum(*diagonals, j * giant_, babies, acc);
    }
    result = std::move(acc);
  }
  if (first < 0) {
    ExtendedCiphertext acc = inner_sum(first * giant_);
    for (long long j = first + 1; j < 0; ++j) {
      acc = apply_galois_extended(std::move(acc), order.galois_element(-giant_), keys);
      add_inner_sum(*diagonals, j * giant_, babies, acc);
    }
    add_to(result, apply_galois_extended(std::move(acc), order.galois_element(-giant_), keys));
  }
  return rescale(divide_by_special_primes(std::move(result)));
}

}  // namespace cipherlm
