#include "kernels/accumulate.hpp"

#include <cmath>
#include <string>

#include "ring/elementwise.hpp"
#include "ring/error.hpp"
#include "ring/multiply_accumulate.hpp"

namespace cipherlm::kernels {

namespace {

// dot_product_mod takes at most this many terms per call (its accumulators hold 64 products).
constexpr std::size_t kTermsPerPass = 64;

void check_terms(std::size_t count, std::size_t other, const char* what) {
  require(count != 0 && count == other, ErrorCode::InvalidArgument, std::string(what) + ": operand lists differ or are empty");
}

Ciphertext zero_like(const Ciphertext& a, std::size_t size, double scale) {
  Ciphertext r;
  r.context = a.context;
  r.level = a.level;
  r.size = size;
  r.scale = scale;
  r.data = r.context->allocate_zeroed(size * a.limbs() * a.context->ring_degree());
  return r;
}

}  // namespace

Ciphertext plain_dot(const std::vector<const Ciphertext*>& cts, const std::vector<const Plaintext*>& plains) {
  check_terms(cts.size(), plains.size(), "plain_dot");
  const Ciphertext& first = *cts[0];
  const double scale = first.scale * plains[0]->scale;
  for (std::size_t t = 0; t < cts.size(); ++t) {
    require(cts[t]->size == 2 && cts[t]->level == first.level && plains[t]->level == first.level &&
                cts[t]->context.get() == first.context.get() && plains[t]->context.get() == first.context.get(),
            ErrorCode::LevelMismatch, "plain_dot: every term must be a size-2 ciphertext and a plaintext at one level");
    require(std::fabs(cts[t]->scale * plains[t]->scale - scale) <= 1e-9 * scale, ErrorCode::ScaleMismatch,
            "plain_dot: terms of different scales");
  }
  const Context& context = *first.context;
  const std::size_t n = context.ring_degree(), limbs = first.limbs();
  Ciphertext r = zero_like(first, 2, scale);
  context.pool()->parallel_for(limbs, [&](std::size_t i) {
    std::vector<const u64*> x, y0, y1;
    std::vector<u64> part0(n), part1(n);
    for (std::size_t start = 0; start < cts.size(); start += kTermsPerPass) {
      const std::size_t count = std::min(kTermsPerPass, cts.size() - start);
      x.clear();
      y0.clear();
      y1.clear();
      for (std::size_t t = start; t < start + count; ++t) {
        x.push_back(plains[t]->limb(i));
        y0.push_back(cts[t]->limb(0, i));
        y1.push_back(cts[t]->limb(1, i));
      }
      const bool ifma = context.use_ifma(i);
      u64* out0 = start == 0 ? r.limb(0, i) : part0.data();
      u64* out1 = start == 0 ? r.limb(1, i) : part1.data();
      dot_product_mod(x.data(), y0.data(), y1.data(), count, context.modulus(i), out0, out1, n, ifma);
      if (start != 0) {
        const u64 q = context.modulus(i).value;
        add_mod_vector(r.limb(0, i), part0.data(), r.limb(0, i), n, q, context.simd_path());
        add_mod_vector(r.limb(1, i), part1.data(), r.limb(1, i), n, q, context.simd_path());
      }
    }
  });
  return r;
}

Ciphertext tensor_dot(const std::vector<const Ciphertext*>& a, const std::vector<const Ciphertext*>& b) {
  check_terms(a.size(), b.size(), "tensor_dot");
  const Ciphertext& first = *a[0];
  const double scale = first.scale * b[0]->scale;
  for (std::size_t t = 0; t < a.size(); ++t) {
    require(a[t]->size == 2 && b[t]->size == 2 && a[t]->level == first.level && b[t]->level == first.level &&
                a[t]->context.get() == first.context.get() && b[t]->context.get() == first.context.get(),
            ErrorCode::LevelMismatch, "tensor_dot: every term must be two size-2 ciphertexts at one level");
    require(std::fabs(a[t]->scale * b[t]->scale - scale) <= 1e-9 * scale, ErrorCode::ScaleMismatch,
            "tensor_dot: terms of different scales");
  }
  const Context& context = *first.context;
  const std::size_t n = context.ring_degree(), limbs = first.limbs();
  Ciphertext r = zero_like(first, 3, scale);
  // r0 = sum a0 b0, r1 = sum a0 b1 + a1 b0, r2 = sum a1 b1: two dot products per limb and pass.
  context.pool()->parallel_for(limbs, [&](std::size_t i) {
    std::vector<const u64*> a0, a1, b0, b1;
    std::vector<u64> s00(n), s01(n), s10(n), s11(n);
    const u64 q = context.modulus(i).value;
    const bool ifma = context.use_ifma(i);
    for (std::size_t start = 0; start < a.size(); start += kTermsPerPass) {
      const std::size_t count = std::min(kTermsPerPass, a.size() - start);
      a0.clear();
      a1.clear();
      b0.clear();
      b1.clear();
      for (std::size_t t = start; t < start + count; ++t) {
        a0.push_back(a[t]->limb(0, i));
        a1.push_back(a[t]->limb(1, i));
        b0.push_back(b[t]->limb(0, i));
        b1.push_back(b[t]->limb(1, i));
      }
      dot_product_mod(a0.data(), b0.data(), b1.data(), count, context.modulus(i), s00.data(), s01.data(), n, ifma);
      dot_product_mod(a1.data(), b0.data(), b1.data(), count, context.modulus(i), s10.data(), s11.data(), n, ifma);
      const SimdPath path = context.simd_path();
      add_mod_vector(r.limb(0, i), s00.data(), r.limb(0, i), n, q, path);
      add_mod_vector(s01.data(), s10.data(), s01.data(), n, q, path);
      add_mod_vector(r.limb(1, i), s01.data(), r.limb(1, i), n, q, path);
      add_mod_vector(r.limb(2, i), s11.data(), r.limb(2, i), n, q, path);
    }
  });
  return r;
}

}  // namespace cipherlm::kernels
