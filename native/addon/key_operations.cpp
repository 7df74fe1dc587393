// Key generation and key inspection.
#include "addon/arguments.hpp"
#include "rlwe/keygen.hpp"

namespace cipherlm::addon {

void register_key_operations(OperationTable& table) {
  table["generateSecretKey"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    std::shared_ptr<const Context> context = handle_argument<Context>(info, first, "context");
    const auto weight = static_cast<std::size_t>(integer_argument(info, first + 1, "hammingWeight", 0, 65536));
    if (weight > context->ring_degree()) throw Error(ErrorCode::OutOfRange, "Hamming weight cannot exceed N");
    return [context, weight]() -> Finisher { return wrap_result(generate_secret_key(context, weight)); };
  };
  table["generatePublicKey"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto secret = handle_argument<SecretKey>(info, first, "secretKey");
    return [secret]() -> Finisher { return wrap_result(generate_public_key(*secret)); };
  };
  table["generateRelinKey"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto secret = handle_argument<SecretKey>(info, first, "secretKey");
    return [secret]() -> Finisher { return wrap_result(generate_relin_key(*secret)); };
  };
  table["generateGaloisKeys"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto secret = handle_argument<SecretKey>(info, first, "secretKey");
    const auto steps = steps_argument(info, first + 1, "steps");
    const bool conjugate = bool_argument(info, first + 2, "conjugate");
    const auto elements = galois_elements_for(*secret->context, steps, conjugate);
    return [secret, elements]() -> Finisher { return wrap_result(generate_galois_keys(*secret, elements)); };
  };
  table["generateGaloisKeyElements"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto secret = handle_argument<SecretKey>(info, first, "secretKey");
    const auto requested = steps_argument(info, first + 1, "elements");
    const long long two_n = 2 * static_cast<long long>(secret->context->ring_degree());
    std::vector<u64> elements;
    for (long long e : requested) {
      if (e <= 1 || e >= two_n || e % 2 == 0) throw Error(ErrorCode::OutOfRange, "Galois elements must be odd, in (1, 2N)");
      elements.push_back(static_cast<u64>(e));
    }
    return [secret, elements]() -> Finisher { return wrap_result(generate_galois_keys(*secret, elements)); };
  };
  table["galoisKeyElements"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto keys = handle_argument<GaloisKeys>(info, first, "galoisKeys");
    return [keys]() -> Finisher {
      return [keys](Napi::Env env) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env);
        std::uint32_t i = 0;
        for (const auto& entry : keys->keys) out.Set(i++, static_cast<double>(entry.first));
        return out;
      };
    };
  };
  table["galoisElement"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    const auto step = integer_argument(info, first + 1, "step", -(1ll << 40), 1ll << 40);
    return [context, step]() -> Finisher {
      const double element = static_cast<double>(context->galois_element_for_step(step));
      return [element](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, element); };
    };
  };
  table["secretKeyInfo"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto secret = handle_argument<SecretKey>(info, first, "secretKey");
    return [secret]() -> Finisher {
      const double weight = static_cast<double>(secret->hamming_weight);
      return [weight](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("hammingWeight", weight);
        return out;
      };
    };
  };
}

}  // namespace cipherlm::addon
