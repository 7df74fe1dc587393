// save(object) and load*(context, bytes): every loader validates before it builds an object.
#include "addon/arguments.hpp"
#include "formats/serialization.hpp"

namespace cipherlm::addon {

namespace {

Finisher bytes_result(Bytes bytes) {
  auto shared = std::make_shared<Bytes>(std::move(bytes));
  return [shared](Napi::Env env) -> Napi::Value {
    Napi::Uint8Array out = Napi::Uint8Array::New(env, shared->size());
    std::copy(shared->begin(), shared->end(), out.Data());
    return out;
  };
}

template <typename T>
bool is_handle(const Napi::Value& value) {
  AddonData* data = value.Env().GetInstanceData<AddonData>();
  return value.IsObject() && value.As<Napi::Object>().InstanceOf(HandleTraits<T>::constructor(*data).Value());
}

template <typename T>
Work save_handle(const Napi::Value& value) {
  auto object = Handle<T>::FromValue(value, "object");
  return [object]() -> Finisher { return bytes_result(save(*object)); };
}

// Keys may be saved seeded: each uniform half as its 32-byte seed.
template <typename T>
Work save_key_handle(const Napi::Value& value, bool seeded) {
  auto object = Handle<T>::FromValue(value, "object");
  return [object, seeded]() -> Finisher { return bytes_result(save(*object, seeded)); };
}

template <typename T, typename Loader>
void register_loader(OperationTable& table, const char* name, Loader loader) {
  table[name] = [loader](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    std::shared_ptr<const Context> context = handle_argument<Context>(info, first, "context");
    auto bytes = bytes_argument(info, first + 1, "bytes");
    return [context, bytes, loader]() -> Finisher { return wrap_result<T>(loader(context, bytes.data(), bytes.size())); };
  };
}

}  // namespace

void register_serialization_operations(OperationTable& table) {
  table["save"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    Napi::Value value = argument(info, first, "object");
    bool seeded = false;
    if (first + 1 < info.Length() && !info[first + 1].IsUndefined()) seeded = bool_argument(info, first + 1, "seeded");
    if (seeded && !is_handle<RelinKey>(value) && !is_handle<GaloisKeys>(value)) {
      throw Error(ErrorCode::InvalidArgument, "only keys can be saved seeded (a ciphertext chooses at encryption)");
    }
    if (is_handle<Context>(value)) {
      auto context = Handle<Context>::FromValue(value, "context");
      return [context]() -> Finisher { return bytes_result(save_parameters(*context)); };
    }
    if (is_handle<Plaintext>(value)) return save_handle<Plaintext>(value);
    if (is_handle<Ciphertext>(value)) return save_handle<Ciphertext>(value);
    if (is_handle<SecretKey>(value)) return save_handle<SecretKey>(value);
    if (is_handle<PublicKey>(value)) return save_handle<PublicKey>(value);
    if (is_handle<RelinKey>(value)) return save_key_handle<RelinKey>(value, seeded);
    if (is_handle<GaloisKeys>(value)) return save_key_handle<GaloisKeys>(value, seeded);
    throw Error(ErrorCode::InvalidArgument, "only contexts, plaintexts, ciphertexts and keys can be saved");
  };
  table["loadContext"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bytes = bytes_argument(info, first, "bytes");
    const auto threads = static_cast<std::size_t>(integer_argument(info, first + 1, "threads", 1, 256));
    return [bytes, threads]() -> Finisher {
      return wrap_shared(std::make_shared<Context>(load_parameters(bytes.data(), bytes.size()), threads));
    };
  };
  table["peekType"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bytes = bytes_argument(info, first, "bytes");
    return [bytes]() -> Finisher {
      const double type = static_cast<double>(peek_object_type(bytes.data(), bytes.size()));
      return [type](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, type); };
    };
  };
  register_loader<Plaintext>(table, "loadPlaintext", load_plaintext);
  register_loader<Ciphertext>(table, "loadCiphertext", load_ciphertext);
  register_loader<SecretKey>(table, "loadSecretKey", load_secret_key);
  register_loader<PublicKey>(table, "loadPublicKey", load_public_key);
  register_loader<RelinKey>(table, "loadRelinKey", load_relin_key);
  register_loader<GaloisKeys>(table, "loadGaloisKeys", load_galois_keys);
  // Moves the keys of a saved GaloisKeys into `target` (keys arrive one part at a time, so the
  // whole set is never held twice). Only while no other operation uses `target`.
  table["appendGaloisKeys"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto target = handle_argument<GaloisKeys>(info, first, "galoisKeys");
    const std::vector<std::uint8_t> bytes = bytes_argument(info, first + 1, "bytes");
    return [target, bytes]() -> Finisher {
      GaloisKeys part = load_galois_keys(target->context, bytes.data(), bytes.size());
      for (const auto& entry : part.keys)
        require(target->keys.count(entry.first) == 0, ErrorCode::InvalidArgument,
                "Galois element " + std::to_string(entry.first) + " arrived twice");
      // The sparse-secret keys of a bootstrapper with encapsulation arrive the same way.
      require(!(part.to_sparse && target->to_sparse) && !(part.from_sparse && target->from_sparse),
              ErrorCode::InvalidArgument, "a sparse-secret key arrived twice");
      for (auto& entry : part.keys) target->keys.emplace(entry.first, std::move(entry.second));
      if (part.to_sparse) target->to_sparse = std::move(part.to_sparse);
      if (part.from_sparse) target->from_sparse = std::move(part.from_sparse);
      return no_result();
    };
  };
  table["emptyGaloisKeys"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    return [context]() -> Finisher {
      GaloisKeys keys;
      keys.context = context;
      return wrap_result(std::move(keys));
    };
  };
}

}  // namespace cipherlm::addon
