// Everything derived from the parameters once: moduli, NTT tables, rescaling and key-switching
// constants, the thread pool and the SIMD path. Shared (immutable but for threads/SIMD settings) by
// every key, plaintext and ciphertext made under it.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ring/base_converter.hpp"
#include "ring/cpu_features.hpp"
#include "ring/modarith.hpp"
#include "ring/ntt.hpp"
#include "rlwe/parameters.hpp"
#include "rlwe/memory_pool.hpp"
#include "rlwe/thread_pool.hpp"

namespace cipherlm {

// Mod-up of one key-switching digit at one level: which limbs are converted from and to.
// Limb indices are global prime indices: 0..L data primes, L+1.. special primes.
struct ModUpPlan {
  std::vector<std::size_t> source_limbs;
  std::vector<std::size_t> target_limbs;
  BaseConverter converter;
};

class Context {
 public:
  Context(const Parameters& parameters, std::size_t threads);

  const Parameters& parameters() const { return parameters_; }
  std::size_t ring_degree() const { return n_; }
  int log_degree() const { return log_n_; }
  std::size_t slot_count() const { return n_ / 2; }
  std::size_t max_level() const { return parameters_.data_primes.size() - 1; }
  std::size_t data_prime_count() const { return parameters_.data_primes.size(); }
  std::size_t special_prime_count() const { return parameters_.special_primes.size(); }
  std::size_t prime_count() const { return moduli_.size(); }
  std::size_t special_limb(std::size_t j) const { return data_prime_count() + j; }
  const Modulus& modulus(std::size_t limb) const { return moduli_[limb]; }
  const NttTables& ntt(std::size_t limb) const { return *ntt_[limb]; }
  u64 fingerprint() const { return fingerprint_; }
  double log_modulus_at_level(std::size_t level) const;

  std::shared_ptr<ThreadPool> pool() const;
  void set_threads(std::size_t threads);
  std::size_t threads() const { return pool()->size(); }
  SimdPath simd_path() const { return simd_path_; }
  // Whether the IFMA kernels run on this prime (the CPU path is IFMA and the prime is below 2^50).
  bool use_ifma(std::size_t limb) const { return simd_path_ == SimdPath::Avx512Ifma && ntt_[limb]->ifma_capable(); }
  // The AVX-512 path for kernels that work for any prime (additions, subtractions).
  bool use_avx512() const { return simd_path_ == SimdPath::Avx512Ifma; }
  void set_simd_path(SimdPath path);

  // Key switching: digit d covers data primes [digit_first(d), digit_end(d)); all digits have
  // digit_size() primes (the last one maybe fewer) unless the parameters list uneven sizes.
  std::size_t key_switch_digits() const { return digits_; }
  std::size_t digit_size() const { return digit_size_; }
  std::size_t digit_first(std::size_t digit) const { return digit_bounds_[digit]; }
  std::size_t digit_end(std::size_t digit) const { return digit_bounds_[digit + 1]; }
  std::size_t digit_of(std::size_t data_prime) const { return digit_of_[data_prime]; }
  std::size_t digits_at_level(std::size_t level) const { return digit_of_[level] + 1; }
  const ModUpPlan& mod_up_plan(std::size_t level, std::size_t digit) const { return *mod_up_[level][digit]; }
  const BaseConverter& mod_down_converter() const { return *mod_down_; }
  // P^-1 mod q_i with its Shoup companion, P the product of the special primes.
  u64 inverse_special_product(std::size_t i) const { return inv_special_product_[i]; }
  u64 inverse_special_product_shoup(std::size_t i) const { return inv_special_product_shoup_[i]; }
  // (P mod q_i): the gadget factor placed on s' in each key-switching key.
  u64 special_product_mod(std::size_t i) const { return special_product_mod_[i]; }
  // (Q/Q_d) * [(Q/Q_d)^-1]_{Q_d} mod q_i is 1 on digit d and 0 elsewhere, so only P appears.

  // Rescaling by the last prime q_l of level l: q_l^-1 mod q_i for i < l.
  u64 inverse_last_prime(std::size_t level, std::size_t i) const { return inv_last_prime_[level][i]; }
  u64 inverse_last_prime_shoup(std::size_t level, std::size_t i) const { return inv_last_prime_shoup_[level][i]; }

  // Galois automorphism X -> X^g on NTT-form limbs is a permutation of positions.
  std::shared_ptr<const std::vector<std::uint32_t>> automorphism_permutation(u64 galois_element) const;
  u64 galois_element_for_step(long long step) const;
  u64 conjugation_element() const { return 2 * n_ - 1; }

  // `words` uninitialized words from the context's memory pool, returned to it when dropped: the
  // storage of every ciphertext, plaintext and temporary buffer of this context.
  PolyBuffer allocate(std::size_t words) const { return PolyBuffer(&memory_pool_, words); }
  PolyBuffer allocate_zeroed(std::size_t words) const;
  MemoryPool& memory_pool() const { return memory_pool_; }

 private:
  Parameters parameters_;
  std::size_t n_;
  int log_n_;
  std::vector<Modulus> moduli_;
  std::vector<std::unique_ptr<NttTables>> ntt_;
  u64 fingerprint_ = 0;
  SimdPath simd_path_;
  mutable std::mutex pool_mutex_;
  std::shared_ptr<ThreadPool> pool_;

  std::size_t digits_ = 0, digit_size_ = 0;
  std::vector<std::size_t> digit_bounds_, digit_of_;
  std::vector<std::vector<std::unique_ptr<ModUpPlan>>> mod_up_;
  std::unique_ptr<BaseConverter> mod_down_;
  std::vector<u64> inv_special_product_, inv_special_product_shoup_, special_product_mod_;
  std::vector<std::vector<u64>> inv_last_prime_, inv_last_prime_shoup_;

  mutable MemoryPool memory_pool_;
  mutable std::mutex permutation_mutex_;
  mutable std::unordered_map<u64, std::shared_ptr<const std::vector<std::uint32_t>>> permutations_;
};

}  // namespace cipherlm
