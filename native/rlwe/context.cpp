#include "rlwe/context.hpp"

#include <algorithm>
#include <cmath>

#include "ring/error.hpp"

namespace cipherlm {

namespace {
u64 fnv1a(u64 hash, u64 word) {
  for (int b = 0; b < 8; ++b) {
    hash ^= (word >> (8 * b)) & 0xff;
    hash *= 0x100000001b3ull;
  }
  return hash;
}
}  // namespace

Context::Context(const Parameters& parameters, std::size_t threads)
    : parameters_(parameters), n_(parameters.ring_degree), simd_path_(best_simd_path()) {
  validate_parameters(parameters_);
  log_n_ = bit_width(n_) - 1;
  for (u64 q : parameters_.data_primes) moduli_.emplace_back(q);
  for (u64 p : parameters_.special_primes) moduli_.emplace_back(p);
  for (const Modulus& m : moduli_) ntt_.push_back(std::make_unique<NttTables>(n_, m));
  pool_ = std::make_shared<ThreadPool>(threads == 0 ? 1 : threads);

  const std::size_t data = data_prime_count(), special = special_prime_count();
  std::vector<std::size_t> sizes = parameters_.digit_sizes;
  if (sizes.empty()) {
    digits_ = parameters_.key_switch_digits != 0 ? parameters_.key_switch_digits : (data + special - 1) / special;
    if (digits_ > data) digits_ = data;
    const std::size_t size = (data + digits_ - 1) / digits_;
    for (std::size_t first = 0; first < data; first += size) sizes.push_back(std::min(size, data - first));
  }
  digits_ = sizes.size();
  parameters_.key_switch_digits = digits_;
  digit_bounds_.push_back(0);
  for (std::size_t d = 0; d < digits_; ++d) {
    digit_bounds_.push_back(digit_bounds_.back() + sizes[d]);
    digit_size_ = std::max(digit_size_, sizes[d]);
    for (std::size_t i = 0; i < sizes[d]; ++i) digit_of_.push_back(d);
  }

  // A key switch's decomposition (every digit on every data and special limb) is the largest set of
  // blocks the engine frees and asks for again. The pool keeps freed blocks up to its peak in use plus
  // 16 of them (at least 256 MiB; set_cache_headroom): the transformer bootstrap's blocks of many
  // sizes (1.7 GB cached once none is freed, 0.65 GB in use at most) need about 11 at its top level.
  const std::size_t decomposition_bytes = digits_ * (data + special) * n_ * sizeof(u64);
  memory_pool_.set_cache_headroom(std::max(MemoryPool::kDefaultCacheLimit, 16 * decomposition_bytes));

  u64 hash = 0xcbf29ce484222325ull;
  hash = fnv1a(hash, n_);
  hash = fnv1a(hash, digits_);
  // Uneven digits enter the fingerprint too (equal ones are implied by the count, as before).
  if (!parameters_.digit_sizes.empty()) {
    for (std::size_t size : parameters_.digit_sizes) hash = fnv1a(hash, size);
  }
  for (u64 q : parameters_.data_primes) hash = fnv1a(hash, q);
  hash = fnv1a(hash, 0);
  for (u64 p : parameters_.special_primes) hash = fnv1a(hash, p);
  fingerprint_ = hash;

  std::vector<Modulus> special_moduli(moduli_.begin() + data, moduli_.end());
  std::vector<Modulus> data_moduli(moduli_.begin(), moduli_.begin() + data);
  mod_down_ = std::make_unique<BaseConverter>(special_moduli, data_moduli);
  for (std::size_t i = 0; i < data; ++i) {
    u64 product = 1;
    for (const Modulus& p : special_moduli) product = mul_mod(product, moduli_[i].reduce(p.value), moduli_[i]);
    special_product_mod_.push_back(product);
    inv_special_product_.push_back(inv_mod(product, moduli_[i]));
    inv_special_product_shoup_.push_back(shoup_precompute(inv_special_product_.back(), moduli_[i].value));
  }

  mod_up_.resize(data);
  inv_last_prime_.resize(data);
  inv_last_prime_shoup_.resize(data);
  for (std::size_t level = 0; level < data; ++level) {
    for (std::size_t d = 0; d < digits_at_level(level); ++d) {
      std::vector<std::size_t> source, target;
      std::vector<Modulus> source_moduli, target_moduli;
      for (std::size_t i = 0; i <= level; ++i) {
        const bool in_digit = digit_of_[i] == d;
        (in_digit ? source : target).push_back(i);
      }
      for (std::size_t j = 0; j < special; ++j) target.push_back(data + j);
      for (std::size_t i : source) source_moduli.push_back(moduli_[i]);
      for (std::size_t i : target) target_moduli.push_back(moduli_[i]);
      mod_up_[level].push_back(std::unique_ptr<ModUpPlan>(
          new ModUpPlan{source, target, BaseConverter(source_moduli, target_moduli)}));
    }
    const Modulus& last = moduli_[level];
    for (std::size_t i = 0; i < level; ++i) {
      u64 inv = inv_mod(moduli_[i].reduce(last.value), moduli_[i]);
      inv_last_prime_[level].push_back(inv);
      inv_last_prime_shoup_[level].push_back(shoup_precompute(inv, moduli_[i].value));
    }
  }
}

double Context::log_modulus_at_level(std::size_t level) const {
  double bits = 0;
  for (std::size_t i = 0; i <= level; ++i) bits += std::log2(static_cast<double>(moduli_[i].value));
  return bits;
}

std::shared_ptr<ThreadPool> Context::pool() const {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  return pool_;
}

void Context::set_threads(std::size_t threads) {
  require(threads >= 1 && threads <= 256, ErrorCode::InvalidArgument, "thread count must be in [1, 256]");
  auto replacement = std::make_shared<ThreadPool>(threads);
  std::lock_guard<std::mutex> lock(pool_mutex_);
  // Operations in flight keep the old pool alive through their own shared_ptr.
  pool_ = std::move(replacement);
}

void Context::set_simd_path(SimdPath path) {
  require(cpu_supports(path), ErrorCode::InvalidArgument,
          std::string("this CPU cannot run the ") + simd_path_name(path) + " kernels");
  simd_path_ = path;
}

u64 Context::galois_element_for_step(long long step) const {
  const u64 two_n = 2 * n_;
  const long long slots = static_cast<long long>(n_ / 2);
  long long normalized = step % slots;
  if (normalized < 0) normalized += slots;
  // Rotation left by k is X -> X^(3^k mod 2N) (SEAL's generator 3).
  u64 element = 1, base = 3;
  for (u64 e = static_cast<u64>(normalized); e != 0; e >>= 1) {
    if (e & 1) element = (element * base) & (two_n - 1);
    base = (base * base) & (two_n - 1);
  }
  return element;
}

PolyBuffer Context::allocate_zeroed(std::size_t words) const {
  PolyBuffer buffer = allocate(words);
  std::fill(buffer.begin(), buffer.end(), u64{0});
  return buffer;
}

std::shared_ptr<const std::vector<std::uint32_t>> Context::automorphism_permutation(u64 galois_element) const {
  std::lock_guard<std::mutex> lock(permutation_mutex_);
  auto found = permutations_.find(galois_element);
  if (found != permutations_.end()) return found->second;
  const u64 mask = 2 * n_ - 1;
  auto table = std::make_shared<std::vector<std::uint32_t>>(n_);
  for (std::size_t i = 0; i < n_; ++i) {
    // Position i holds the value at psi^(2 rev(i) + 1); X -> X^g moves it to psi^((2 rev(i) + 1) g).
    const u64 exponent = ((2 * reverse_bits(i, log_n_) + 1) * galois_element) & mask;
    (*table)[i] = static_cast<std::uint32_t>(reverse_bits((exponent - 1) >> 1, log_n_));
  }
  permutations_.emplace(galois_element, table);
  return table;
}

}  // namespace cipherlm
