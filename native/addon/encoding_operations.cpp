// Encoding, decoding, encryption and decryption.
#include "addon/arguments.hpp"
#include "rlwe/encryptor.hpp"

namespace cipherlm::addon {

namespace {

// The encoder checks the level against its context.
std::size_t level_argument(const Napi::CallbackInfo& info, std::size_t index) {
  return static_cast<std::size_t>(integer_argument(info, index, "level", 0, 1 << 20));
}

Finisher plaintext_info(const std::shared_ptr<Plaintext>& pt) {
  return [pt](Napi::Env env) -> Napi::Value {
    Napi::Object out = Napi::Object::New(env);
    out.Set("level", static_cast<double>(pt->level));
    out.Set("scale", pt->scale);
    return out;
  };
}

}  // namespace

void register_encoding_operations(OperationTable& table) {
  table["createEncoder"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    std::shared_ptr<const Context> context = handle_argument<Context>(info, first, "context");
    return [context]() -> Finisher { return wrap_shared(std::make_shared<Encoder>(context)); };
  };
  table["encode"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto encoder = handle_argument<Encoder>(info, first, "encoder");
    auto real = float64_argument(info, first + 1, "real");
    std::vector<double> imaginary;
    if (!argument(info, first + 2, "imaginary").IsNull()) imaginary = float64_argument(info, first + 2, "imaginary");
    if (!imaginary.empty() && imaginary.size() != real.size()) {
      throw Error(ErrorCode::InvalidArgument, "real and imaginary parts must have the same length");
    }
    const double scale = number_argument(info, first + 3, "scale");
    const std::size_t level = level_argument(info, first + 4);
    return [encoder, real, imaginary, scale, level]() -> Finisher {
      std::vector<std::complex<double>> values(real.size());
      for (std::size_t i = 0; i < real.size(); ++i) values[i] = {real[i], imaginary.empty() ? 0.0 : imaginary[i]};
      return wrap_result(encoder->encode(values.data(), values.size(), scale, level));
    };
  };
  table["encodeScalar"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto encoder = handle_argument<Encoder>(info, first, "encoder");
    const double value = number_argument(info, first + 1, "value");
    const double scale = number_argument(info, first + 2, "scale");
    const std::size_t level = level_argument(info, first + 3);
    return [encoder, value, scale, level]() -> Finisher { return wrap_result(encoder->encode_scalar(value, scale, level)); };
  };
  table["encodeInteger"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto encoder = handle_argument<Encoder>(info, first, "encoder");
    const auto value = integer_argument(info, first + 1, "value", -(1ll << 53), 1ll << 53);
    const std::size_t level = level_argument(info, first + 2);
    return [encoder, value, level]() -> Finisher { return wrap_result(encoder->encode_integer(value, level)); };
  };
  table["decode"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto encoder = handle_argument<Encoder>(info, first, "encoder");
    auto pt = handle_argument<Plaintext>(info, first + 1, "plaintext");
    return [encoder, pt]() -> Finisher {
      auto values = std::make_shared<std::vector<std::complex<double>>>(encoder->slot_count());
      encoder->decode(*pt, values->data());
      return [values](Napi::Env env) -> Napi::Value {
        Napi::Float64Array real = Napi::Float64Array::New(env, values->size());
        Napi::Float64Array imaginary = Napi::Float64Array::New(env, values->size());
        for (std::size_t i = 0; i < values->size(); ++i) {
          real[i] = (*values)[i].real();
          imaginary[i] = (*values)[i].imag();
        }
        Napi::Object out = Napi::Object::New(env);
        out.Set("real", real);
        out.Set("imaginary", imaginary);
        return out;
      };
    };
  };
  table["plaintextInfo"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto pt = handle_argument<Plaintext>(info, first, "plaintext");
    return [pt]() -> Finisher { return plaintext_info(pt); };
  };
  table["encryptPublic"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto key = handle_argument<PublicKey>(info, first, "publicKey");
    auto pt = handle_argument<Plaintext>(info, first + 1, "plaintext");
    return [key, pt]() -> Finisher { return wrap_result(encrypt_public(*key, *pt)); };
  };
  table["encryptSecret"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto key = handle_argument<SecretKey>(info, first, "secretKey");
    auto pt = handle_argument<Plaintext>(info, first + 1, "plaintext");
    const bool seeded = bool_argument(info, first + 2, "seeded");
    return [key, pt, seeded]() -> Finisher { return wrap_result(encrypt_secret(*key, *pt, seeded)); };
  };
  table["decrypt"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto key = handle_argument<SecretKey>(info, first, "secretKey");
    auto ct = handle_argument<Ciphertext>(info, first + 1, "ciphertext");
    return [key, ct]() -> Finisher { return wrap_result(decrypt(*key, *ct)); };
  };
}

}  // namespace cipherlm::addon
