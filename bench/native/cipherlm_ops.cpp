// cipherlm's engine called directly, with no N-API in between: the same calls the addon makes for
// bench/ops.ts (encode at the context's top level and scale 2^40, public-key encryption).
#include <complex>
#include <memory>
#include <stdexcept>

#include "ckks/encoder.hpp"
#include "ckks/evaluator.hpp"
#include "implementations.hpp"
#include "median_timer.hpp"
#include "rlwe/encryptor.hpp"
#include "rlwe/keygen.hpp"

namespace cipherlm::bench {

std::vector<Row> time_cipherlm(const BenchParameters& parameters, const std::vector<std::uint64_t>& primes, int reps,
                               std::ostream& log) {
  Parameters engine_parameters;
  engine_parameters.ring_degree = parameters.ring_degree;
  engine_parameters.data_primes.assign(primes.begin(), primes.begin() + parameters.data_bits.size());
  engine_parameters.special_primes.assign(primes.begin() + parameters.data_bits.size(), primes.end());
  const ContextPtr context = std::make_shared<const Context>(engine_parameters, 1);
  const Encoder encoder(context);
  const SecretKey secret_key = generate_secret_key(context, 0);
  const PublicKey public_key = generate_public_key(secret_key);
  const RelinKey relin_key = generate_relin_key(secret_key);
  const GaloisKeys galois_keys = generate_galois_keys(secret_key, galois_elements_for(*context, {1}, false));

  const std::size_t slots = context->slot_count(), top = context->max_level();
  const std::vector<double> x = random_vector(slots, 1), y = random_vector(slots, 2);
  const Plaintext plain_x = encoder.encode_real(x.data(), slots, kScale, top);
  const Plaintext plain_y = encoder.encode_real(y.data(), slots, kScale, top);
  const Ciphertext cipher_x = encrypt_public(public_key, plain_x);
  const Ciphertext cipher_y = encrypt_public(public_key, plain_y);
  const Ciphertext product = multiply_relinearize(cipher_x, cipher_y, relin_key);

  std::vector<std::complex<double>> decoded(slots);
  encoder.decode(decrypt(secret_key, rescale(product)), decoded.data());
  std::vector<double> real(slots);
  for (std::size_t i = 0; i < slots; ++i) real[i] = decoded[i].real();
  const double error = max_product_error(real, x, y);
  if (!(error <= kSanityTolerance)) {
    throw std::runtime_error("cipherlm-native N=" + std::to_string(parameters.ring_degree) +
                             ": multiply+relinearize+rescale is off by " + std::to_string(error));
  }
  log << "  cipherlm-native N=" << parameters.ring_degree << ": sanity check ok (max |err| of x*y = " << error << ")\n";

  std::vector<Row> rows;
  const auto time = [&](const char* op, auto operation) {
    rows.push_back({op, parameters.ring_degree, "cipherlm-native", 1, median_ms(reps, operation)});
  };
  time("encode", [&] { return encoder.encode_real(x.data(), slots, kScale, top); });
  time("encrypt", [&] { return encrypt_public(public_key, plain_x); });
  time("decrypt", [&] { return decrypt(secret_key, cipher_x); });
  time("add", [&] { return add(cipher_x, cipher_y); });
  time("multiply_plain", [&] { return multiply_plain(cipher_x, plain_y); });
  time("multiply_relinearize", [&] { return multiply_relinearize(cipher_x, cipher_y, relin_key); });
  time("rescale", [&] { return rescale(product); });
  time("rotate", [&] { return rotate(cipher_x, 1, galois_keys); });
  log << "  cipherlm-native N=" << parameters.ring_degree << ": done\n";
  return rows;
}

}  // namespace cipherlm::bench
