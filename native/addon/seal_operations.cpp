// Microsoft SEAL 4.1 formats: sealSave(object), sealLoad*(context, bytes), SEAL parameters, parms_id,
// compatibility and the zstd codec. Bytes reaching the loaders are uncompressed (the TypeScript
// layer inflates zlib/zstd payloads first, within sealMaxBytes).
#include "addon/arguments.hpp"
#include "formats/seal_format.hpp"
#include "formats/zstd_codec.hpp"

#include <type_traits>

#include "rlwe/secure_memory.hpp"

namespace cipherlm::addon {

namespace {

// secret: the bytes hold a secret key, wiped once handed to JavaScript.
Finisher bytes_finisher(std::vector<std::uint8_t> bytes, bool secret = false) {
  auto shared = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
  return [shared, secret](Napi::Env env) -> Napi::Value {
    Napi::Uint8Array out = Napi::Uint8Array::New(env, shared->size());
    std::copy(shared->begin(), shared->end(), out.Data());
    if (secret) secure_wipe(shared->data(), shared->size());
    return out;
  };
}

template <typename T>
bool holds(const Napi::Value& value) {
  AddonData* data = value.Env().GetInstanceData<AddonData>();
  return value.IsObject() && value.As<Napi::Object>().InstanceOf(HandleTraits<T>::constructor(*data).Value());
}

template <typename T>
Work seal_save_handle(const Napi::Value& value) {
  auto object = Handle<T>::FromValue(value, "object");
  return [object]() -> Finisher { return bytes_finisher(seal::save(*object), std::is_same<T, SecretKey>::value); };
}

template <typename T, typename Loader>
void register_seal_loader(OperationTable& table, const char* name, Loader loader) {
  table[name] = [loader](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    std::shared_ptr<const Context> context = handle_argument<Context>(info, first, "context");
    auto bytes = std::make_shared<std::vector<std::uint8_t>>(bytes_argument(info, first + 1, "bytes"));
    return [context, bytes, loader]() -> Finisher {
      // The copy of a secret key's bytes is wiped whether or not it loads.
      struct Wipe {
        std::vector<std::uint8_t>& bytes;
        ~Wipe() {
          if (std::is_same<T, SecretKey>::value) secure_wipe(bytes.data(), bytes.size());
        }
      } wipe{*bytes};
      return wrap_result<T>(loader(context, bytes->data(), bytes->size()));
    };
  };
}

}  // namespace

void register_seal_operations(OperationTable& table) {
  table["sealCompatibility"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    return [context]() -> Finisher {
      const std::string issue = seal::compatibility_issue(*context);
      return [issue](Napi::Env env) -> Napi::Value { return Napi::String::New(env, issue); };
    };
  };
  table["sealParmsId"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    const auto primes = static_cast<std::size_t>(
        integer_argument(info, first + 1, "primeCount", 1, static_cast<std::int64_t>(context->prime_count())));
    return [context, primes]() -> Finisher {
      const seal::ParmsId id = seal::parms_id(*context, primes);
      return [id](Napi::Env env) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env, 4);
        for (std::uint32_t i = 0; i < 4; ++i) out.Set(i, Napi::BigInt::New(env, static_cast<std::uint64_t>(id[i])));
        return out;
      };
    };
  };
  table["sealSave"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    Napi::Value value = argument(info, first, "object");
    if (holds<Context>(value)) {
      auto context = Handle<Context>::FromValue(value, "context");
      return [context]() -> Finisher { return bytes_finisher(seal::save_parameters(*context)); };
    }
    if (holds<Plaintext>(value)) return seal_save_handle<Plaintext>(value);
    if (holds<Ciphertext>(value)) return seal_save_handle<Ciphertext>(value);
    if (holds<SecretKey>(value)) return seal_save_handle<SecretKey>(value);
    if (holds<PublicKey>(value)) return seal_save_handle<PublicKey>(value);
    if (holds<RelinKey>(value)) return seal_save_handle<RelinKey>(value);
    if (holds<GaloisKeys>(value)) return seal_save_handle<GaloisKeys>(value);
    throw Error(ErrorCode::InvalidArgument, "only contexts, plaintexts, ciphertexts and keys can be saved in SEAL's format");
  };
  table["sealLoadContext"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bytes = bytes_argument(info, first, "bytes");
    const auto threads = static_cast<std::size_t>(integer_argument(info, first + 1, "threads", 1, 256));
    const bool insecure = bool_argument(info, first + 2, "allowInsecureParametersForTestsOnly");
    return [bytes, threads, insecure]() -> Finisher {
      Parameters parameters = seal::load_parameters(bytes.data(), bytes.size());
      parameters.allow_insecure_for_tests_only = insecure;
      std::shared_ptr<Context> context;
      try {
        context = std::make_shared<Context>(parameters, threads);
      } catch (const Error& e) {
        // Well-formed bytes whose primes cannot make a CKKS context (not prime, not 1 mod 2N, ...).
        if (e.code() == ErrorCode::InvalidArgument) fail(ErrorCode::Deserialization, std::string("SEAL parameters: ") + e.what());
        throw;
      }
      return wrap_shared(context);
    };
  };
  table["sealMaxBytes"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const int kind = static_cast<int>(integer_argument(info, first + 1, "kind", 0, 6));
    std::size_t n = 0, primes = 0;
    if (kind != 0) {
      auto context = handle_argument<Context>(info, first, "context");
      n = context->ring_degree();
      primes = context->prime_count();
    }
    const double bytes = static_cast<double>(seal::max_object_bytes(n, primes, kind));
    return [bytes]() -> Finisher { return [bytes](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, bytes); }; };
  };
  table["zstdAvailable"] = [](const Napi::CallbackInfo&, std::size_t) -> Work {
    const bool available = zstd_available();
    return [available]() -> Finisher {
      return [available](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, available); };
    };
  };
  table["zstdCompress"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bytes = bytes_argument(info, first, "bytes");
    const int level = static_cast<int>(integer_argument(info, first + 1, "level", 1, 19));
    return [bytes, level]() -> Finisher { return bytes_finisher(zstd_compress(bytes.data(), bytes.size(), level)); };
  };
  table["zstdDecompress"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bytes = bytes_argument(info, first, "bytes");
    const double max_output = number_argument(info, first + 1, "maxOutput");
    return [bytes, max_output]() -> Finisher {
      return bytes_finisher(zstd_decompress(bytes.data(), bytes.size(), static_cast<std::size_t>(max_output)));
    };
  };
  register_seal_loader<Plaintext>(table, "sealLoadPlaintext", seal::load_plaintext);
  register_seal_loader<Ciphertext>(table, "sealLoadCiphertext", seal::load_ciphertext);
  register_seal_loader<SecretKey>(table, "sealLoadSecretKey", seal::load_secret_key);
  register_seal_loader<PublicKey>(table, "sealLoadPublicKey", seal::load_public_key);
  register_seal_loader<RelinKey>(table, "sealLoadRelinKey", seal::load_relin_key);
  register_seal_loader<GaloisKeys>(table, "sealLoadGaloisKeys", seal::load_galois_keys);
}

}  // namespace cipherlm::addon
