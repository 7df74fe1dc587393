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
    const std::size_t top = secret->context->max_level();
    // Optional: the highest level the keys serve (smaller keys for rotations low in the chain).
    std::size_t level = top;
    if (first + 3 < info.Length() && !info[first + 3].IsUndefined()) {
      level = static_cast<std::size_t>(integer_argument(info, first + 3, "level", 0, static_cast<std::int64_t>(top)));
    }
    std::vector<std::pair<u64, std::size_t>> elements;
    for (u64 element : galois_elements_for(*secret->context, steps, conjugate)) elements.emplace_back(element, level);
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
  // The sparse-secret encapsulation keys of a bootstrapper, alone (a client that makes its Galois keys
  // part by part sends these as one more part).
  table["generateSparseSecretKeys"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto secret = handle_argument<SecretKey>(info, first, "secretKey");
    const auto weight = static_cast<std::size_t>(
        integer_argument(info, first + 1, "hammingWeight", 1, static_cast<std::int64_t>(secret->context->ring_degree())));
    return [secret, weight]() -> Finisher { return wrap_result(generate_sparse_secret_keys(*secret, weight)); };
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
  // Per key: element (or 'toSparse' / 'fromSparse'), level, and bytes in memory.
  table["galoisKeyInfo"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto keys = handle_argument<GaloisKeys>(info, first, "galoisKeys");
    return [keys]() -> Finisher {
      return [keys](Napi::Env env) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env);
        std::uint32_t i = 0;
        auto describe = [&](Napi::Value element, const KeySwitchKey& key) {
          Napi::Object row = Napi::Object::New(env);
          row.Set("element", element);
          row.Set("level", static_cast<double>(key.level));
          row.Set("bytes", static_cast<double>(key.data.size() * 8));
          row.Set("seeded", key.has_seed);
          out.Set(i++, row);
        };
        if (keys->to_sparse) describe(Napi::String::New(env, "toSparse"), *keys->to_sparse);
        if (keys->from_sparse) describe(Napi::String::New(env, "fromSparse"), *keys->from_sparse);
        for (const auto& entry : keys->keys) describe(Napi::Number::New(env, static_cast<double>(entry.first)), *entry.second);
        return out;
      };
    };
  };
  // One GaloisKeys holding every key of several, sharing their memory (no copy). A Galois element
  // held by more than one keeps the key of the first set listed.
  table["combineGaloisKeys"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    auto parts = handle_array_argument<GaloisKeys>(info, first + 1, "galoisKeys");
    for (const auto& part : parts) {
      if (part->context.get() != context.get()) throw Error(ErrorCode::ParameterMismatch, "Galois keys were made under a different context");
    }
    return [context, parts]() -> Finisher {
      GaloisKeys combined;
      combined.context = context;
      for (const auto& part : parts) {
        for (const auto& entry : part->keys) combined.keys.emplace(entry.first, entry.second);
        if (!combined.to_sparse) combined.to_sparse = part->to_sparse;
        if (!combined.from_sparse) combined.from_sparse = part->from_sparse;
      }
      return wrap_result(std::move(combined));
    };
  };
  // Each key of a set as a set of its own (sharing memory): what a client uploads one part at a time.
  table["splitGaloisKeys"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto keys = handle_argument<GaloisKeys>(info, first, "galoisKeys");
    return [keys]() -> Finisher {
      std::vector<GaloisKeys> parts;
      auto single = [&]() -> GaloisKeys& {
        parts.emplace_back();
        parts.back().context = keys->context;
        return parts.back();
      };
      if (keys->to_sparse) single().to_sparse = keys->to_sparse;
      if (keys->from_sparse) single().from_sparse = keys->from_sparse;
      for (const auto& entry : keys->keys) single().keys.emplace(entry.first, entry.second);
      return wrap_results(std::move(parts));
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
