// Save, load, save again: both of the engine's formats (cipherlm's own and SEAL 4.1's) give the same
// bytes back, and a loaded ciphertext or secret key decrypts exactly as the original.
#include <algorithm>
#include <string>
#include <vector>

#include "formats/seal_format.hpp"
#include "formats/serialization.hpp"
#include "rlwe/encryptor.hpp"
#include "tests/small_scheme.hpp"
#include "tests/suites.hpp"

namespace cipherlm::tests {

namespace {

template <typename Object, typename Save, typename Load>
Object expect_same_bytes(Checks& checks, const std::string& what, const Object& object, Save save, Load load) {
  const auto bytes = save(object);
  Object loaded = load(bytes.data(), bytes.size());
  checks.expect(save(loaded) == bytes, what + ": save, load, save gives the same bytes");
  return loaded;
}

bool same_decryption(const SecretKey& key_a, const Ciphertext& a, const SecretKey& key_b, const Ciphertext& b) {
  const Plaintext x = decrypt(key_a, a), y = decrypt(key_b, b);
  return std::equal(x.data.begin(), x.data.end(), y.data.begin(), y.data.end());
}

// One format's round trips; `Format` gives its save and load functions.
template <typename Format>
void format_round_trips(Checks& checks, const std::string& name, const SmallScheme& scheme, const Plaintext& plaintext,
                        const std::vector<const Ciphertext*>& ciphertexts) {
  const ContextPtr& context = scheme.context;
  const SecretKey& secret = scheme.secret_key;
  const auto bind = [&context](auto load) {
    return [&context, load](const std::uint8_t* data, std::size_t size) { return load(context, data, size); };
  };
  const auto save = [](const auto& object) { return Format::save(object); };

  const auto parameter_bytes = Format::save_parameters(*context);
  const Parameters parameters = Format::load_parameters(parameter_bytes.data(), parameter_bytes.size());
  checks.expect(parameters.ring_degree == context->ring_degree() && parameters.data_primes == context->parameters().data_primes &&
                    parameters.special_primes == context->parameters().special_primes,
                name + " parameters: loaded parameters equal the originals");

  expect_same_bytes(checks, name + " plaintext", plaintext, save, bind(Format::load_plaintext));
  for (const Ciphertext* ciphertext : ciphertexts) {
    const std::string what = name + (ciphertext->seeded ? " seeded ciphertext" : " ciphertext");
    const Ciphertext loaded = expect_same_bytes(checks, what, *ciphertext, save, bind(Format::load_ciphertext));
    checks.expect(same_decryption(secret, *ciphertext, secret, loaded), what + ": the loaded copy decrypts the same");
  }
  const SecretKey loaded_secret = expect_same_bytes(checks, name + " secret key", secret, save, bind(Format::load_secret_key));
  checks.expect(same_decryption(secret, *ciphertexts.front(), loaded_secret, *ciphertexts.front()),
                name + " secret key: the loaded key decrypts the same");
  expect_same_bytes(checks, name + " public key", scheme.public_key, save, bind(Format::load_public_key));
  expect_same_bytes(checks, name + " relinearization key", scheme.relin_key, save, bind(Format::load_relin_key));
  expect_same_bytes(checks, name + " Galois keys", scheme.galois_keys, save, bind(Format::load_galois_keys));
}

struct CipherlmFormat {
  template <typename Object>
  static Bytes save(const Object& object) { return cipherlm::save(object); }
  static Bytes save_parameters(const Context& context) { return cipherlm::save_parameters(context); }
  static constexpr auto load_parameters = cipherlm::load_parameters;
  static constexpr auto load_plaintext = cipherlm::load_plaintext;
  static constexpr auto load_ciphertext = cipherlm::load_ciphertext;
  static constexpr auto load_secret_key = cipherlm::load_secret_key;
  static constexpr auto load_public_key = cipherlm::load_public_key;
  static constexpr auto load_relin_key = cipherlm::load_relin_key;
  static constexpr auto load_galois_keys = cipherlm::load_galois_keys;
};

struct SealFormat {
  template <typename Object>
  static seal::Bytes save(const Object& object) { return seal::save(object); }
  static seal::Bytes save_parameters(const Context& context) { return seal::save_parameters(context); }
  static constexpr auto load_parameters = seal::load_parameters;
  static constexpr auto load_plaintext = seal::load_plaintext;
  static constexpr auto load_ciphertext = seal::load_ciphertext;
  static constexpr auto load_secret_key = seal::load_secret_key;
  static constexpr auto load_public_key = seal::load_public_key;
  static constexpr auto load_relin_key = seal::load_relin_key;
  static constexpr auto load_galois_keys = seal::load_galois_keys;
};

}  // namespace

void serialization_suite(Checks& checks, std::mt19937_64& random) {
  const SmallScheme scheme;
  const std::size_t slots = scheme.context->slot_count(), top = scheme.context->max_level();
  const std::vector<double> values = random_slots(slots, random);
  const Plaintext plaintext = scheme.encoder.encode_real(values.data(), slots, kTestScale, top);
  const Ciphertext public_ciphertext = encrypt_public(scheme.public_key, plaintext);
  // Seeded: cipherlm's format stores c0 and the seed of c1 and regenerates c1 on load; SEAL's stores c1.
  const Ciphertext seeded_ciphertext = encrypt_secret(scheme.secret_key, plaintext, true);

  format_round_trips<CipherlmFormat>(checks, "cipherlm", scheme, plaintext, {&public_ciphertext, &seeded_ciphertext});
  format_round_trips<SealFormat>(checks, "SEAL", scheme, plaintext, {&public_ciphertext, &seeded_ciphertext});
}

}  // namespace cipherlm::tests
