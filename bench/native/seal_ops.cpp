// Microsoft SEAL on the same primes, operations and inputs, each operation writing into an object
// made once (SEAL's usual style, and what bench/ops.ts does with node-seal).
#include <seal/seal.h>

#include <stdexcept>

#include "implementations.hpp"
#include "median_timer.hpp"

namespace cipherlm::bench {

std::string seal_description() {
#ifdef SEAL_USE_INTEL_HEXL
  return std::string("Microsoft SEAL ") + SEAL_VERSION + " with Intel HEXL";
#else
  return std::string("Microsoft SEAL ") + SEAL_VERSION + " without Intel HEXL";
#endif
}

std::vector<Row> time_seal(const BenchParameters& parameters, const std::vector<std::uint64_t>& primes, int reps,
                           std::ostream& log) {
  const std::size_t n = parameters.ring_degree;
  seal::EncryptionParameters seal_parameters(seal::scheme_type::ckks);
  seal_parameters.set_poly_modulus_degree(n);
  // SEAL picks its primes itself; the comparison is only fair if they are cipherlm's.
  const std::vector<seal::Modulus> modulus = seal::CoeffModulus::Create(n, parameters.all_bits());
  std::vector<std::uint64_t> seal_primes;
  for (const seal::Modulus& q : modulus) seal_primes.push_back(q.value());
  if (seal_primes != primes) {
    throw std::runtime_error("seal-native N=" + std::to_string(n) + ": CoeffModulus::Create gives other primes than cipherlm");
  }
  seal_parameters.set_coeff_modulus(modulus);
  const seal::SEALContext context(seal_parameters, true, seal::sec_level_type::tc128);
  if (!context.parameters_set()) {
    throw std::runtime_error("seal-native N=" + std::to_string(n) + ": parameters rejected: " + context.parameter_error_message());
  }
  seal::KeyGenerator keygen(context);
  const seal::SecretKey& secret_key = keygen.secret_key();
  seal::PublicKey public_key;
  keygen.create_public_key(public_key);
  seal::RelinKeys relin_keys;
  keygen.create_relin_keys(relin_keys);
  seal::GaloisKeys galois_keys;
  keygen.create_galois_keys(std::vector<int>{1}, galois_keys);
  const seal::CKKSEncoder encoder(context);
  const seal::Encryptor encryptor(context, public_key);
  seal::Decryptor decryptor(context, secret_key);
  seal::Evaluator evaluator(context);

  const std::size_t slots = encoder.slot_count();
  const std::vector<double> x = random_vector(slots, 1), y = random_vector(slots, 2);
  seal::Plaintext plain_x, plain_y, plain_out;
  encoder.encode(x, kScale, plain_x);
  encoder.encode(y, kScale, plain_y);
  seal::Ciphertext cipher_x, cipher_y, product, cipher_out;
  encryptor.encrypt(plain_x, cipher_x);
  encryptor.encrypt(plain_y, cipher_y);
  evaluator.multiply(cipher_x, cipher_y, product);
  evaluator.relinearize_inplace(product, relin_keys);

  evaluator.rescale_to_next(product, cipher_out);
  decryptor.decrypt(cipher_out, plain_out);
  std::vector<double> decoded;
  encoder.decode(plain_out, decoded);
  const double error = max_product_error(decoded, x, y);
  if (!(error <= kSanityTolerance)) {
    throw std::runtime_error("seal-native N=" + std::to_string(n) + ": multiply+relinearize+rescale is off by " + std::to_string(error));
  }
  log << "  seal-native N=" << n << ": same primes as cipherlm, sanity check ok (max |err| of x*y = " << error << ")\n";

  std::vector<Row> rows;
  const auto time = [&](const char* op, auto operation) { rows.push_back({op, n, "seal-native", 1, median_ms(reps, operation)}); };
  time("encode", [&] { encoder.encode(x, kScale, plain_out); });
  time("encrypt", [&] { encryptor.encrypt(plain_x, cipher_out); });
  time("decrypt", [&] { decryptor.decrypt(cipher_x, plain_out); });
  time("add", [&] { evaluator.add(cipher_x, cipher_y, cipher_out); });
  time("multiply_plain", [&] { evaluator.multiply_plain(cipher_x, plain_y, cipher_out); });
  time("multiply_relinearize", [&] {
    evaluator.multiply(cipher_x, cipher_y, cipher_out);
    evaluator.relinearize_inplace(cipher_out, relin_keys);
  });
  time("rescale", [&] { evaluator.rescale_to_next(product, cipher_out); });
  time("rotate", [&] { evaluator.rotate_vector(cipher_x, 1, galois_keys, cipher_out); });
  log << "  seal-native N=" << n << ": done\n";
  return rows;
}

}  // namespace cipherlm::bench
