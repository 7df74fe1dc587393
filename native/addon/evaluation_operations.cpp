// Homomorphic evaluation, single and batched (a batch runs its independent items on the context's
// thread pool, each item's own limb loops running inline).
#include "addon/arguments.hpp"
#include "ckks/evaluator.hpp"

namespace cipherlm::addon {

namespace {

using CtPtr = std::shared_ptr<Ciphertext>;

template <typename F>
Work unary(const Napi::CallbackInfo& info, std::size_t first, F f) {
  CtPtr a = handle_argument<Ciphertext>(info, first, "ciphertext");
  return [a, f]() -> Finisher { return wrap_result(f(*a)); };
}

template <typename F>
Work binary(const Napi::CallbackInfo& info, std::size_t first, F f) {
  CtPtr a = handle_argument<Ciphertext>(info, first, "first ciphertext");
  CtPtr b = handle_argument<Ciphertext>(info, first + 1, "second ciphertext");
  return [a, b, f]() -> Finisher { return wrap_result(f(*a, *b)); };
}

// f(a, b) updates the first ciphertext itself; nothing is returned.
template <typename F>
Work in_place(const Napi::CallbackInfo& info, std::size_t first, F f) {
  CtPtr a = handle_argument<Ciphertext>(info, first, "first ciphertext");
  CtPtr b = handle_argument<Ciphertext>(info, first + 1, "second ciphertext");
  return [a, b, f]() -> Finisher {
    f(*a, *b);
    return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
  };
}

template <typename F>
Work with_plain(const Napi::CallbackInfo& info, std::size_t first, F f) {
  CtPtr a = handle_argument<Ciphertext>(info, first, "ciphertext");
  auto b = handle_argument<Plaintext>(info, first + 1, "plaintext");
  return [a, b, f]() -> Finisher { return wrap_result(f(*a, *b)); };
}

// Runs f on every index of a batch on the pool of the first item's context.
template <typename F>
std::vector<Ciphertext> run_batch(const std::vector<CtPtr>& items, F f) {
  std::vector<Ciphertext> results(items.size());
  if (items.empty()) return results;
  items[0]->context->pool()->parallel_for(items.size(), [&](std::size_t i) { results[i] = f(i); });
  return results;
}

void check_same_length(std::size_t a, std::size_t b) {
  if (a != b) throw Error(ErrorCode::InvalidArgument, "batch operands must have the same length");
}

}  // namespace

void register_evaluation_operations(OperationTable& table) {
  table["ciphertextInfo"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    CtPtr ct = handle_argument<Ciphertext>(info, first, "ciphertext");
    return [ct]() -> Finisher {
      return [ct](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("level", static_cast<double>(ct->level));
        out.Set("scale", ct->scale);
        out.Set("size", static_cast<double>(ct->size));
        out.Set("seeded", ct->seeded);
        return out;
      };
    };
  };
  table["add"] = [](const Napi::CallbackInfo& i, std::size_t f) { return binary(i, f, add); };
  table["sub"] = [](const Napi::CallbackInfo& i, std::size_t f) { return binary(i, f, sub); };
  table["addInPlace"] = [](const Napi::CallbackInfo& i, std::size_t f) { return in_place(i, f, add_in_place); };
  table["subInPlace"] = [](const Napi::CallbackInfo& i, std::size_t f) { return in_place(i, f, sub_in_place); };
  table["multiply"] = [](const Napi::CallbackInfo& i, std::size_t f) { return binary(i, f, multiply); };
  table["negate"] = [](const Napi::CallbackInfo& i, std::size_t f) { return unary(i, f, negate); };
  table["square"] = [](const Napi::CallbackInfo& i, std::size_t f) { return unary(i, f, square); };
  table["rescale"] = [](const Napi::CallbackInfo& i, std::size_t f) { return unary(i, f, rescale); };
  table["addPlain"] = [](const Napi::CallbackInfo& i, std::size_t f) { return with_plain(i, f, add_plain); };
  table["subPlain"] = [](const Napi::CallbackInfo& i, std::size_t f) { return with_plain(i, f, sub_plain); };
  table["multiplyPlain"] = [](const Napi::CallbackInfo& i, std::size_t f) { return with_plain(i, f, multiply_plain); };
  table["addScalar"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const double value = number_argument(info, first + 1, "value");
    return unary(info, first, [value](const Ciphertext& a) { return add_scalar(a, value); });
  };
  table["multiplyScalar"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const double value = number_argument(info, first + 1, "value");
    const double scale = number_argument(info, first + 2, "scale");
    return unary(info, first, [value, scale](const Ciphertext& a) { return multiply_scalar(a, value, scale); });
  };
  table["multiplyInteger"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const auto value = integer_argument(info, first + 1, "value", -(1ll << 53), 1ll << 53);
    return unary(info, first, [value](const Ciphertext& a) { return multiply_integer(a, value); });
  };
  table["relinearize"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto key = handle_argument<RelinKey>(info, first + 1, "relinKey");
    return unary(info, first, [key](const Ciphertext& a) { return relinearize(a, *key); });
  };
  table["multiplyRelinearize"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto key = handle_argument<RelinKey>(info, first + 2, "relinKey");
    return binary(info, first, [key](const Ciphertext& a, const Ciphertext& b) { return multiply_relinearize(a, b, *key); });
  };
  table["dropToLevel"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const auto level = static_cast<std::size_t>(integer_argument(info, first + 1, "level", 0, 1 << 20));
    return unary(info, first, [level](const Ciphertext& a) { return drop_to_level(a, level); });
  };
  table["dropPlaintextToLevel"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto pt = handle_argument<Plaintext>(info, first, "plaintext");
    const auto level = static_cast<std::size_t>(integer_argument(info, first + 1, "level", 0, 1 << 20));
    return [pt, level]() -> Finisher { return wrap_result(drop_plaintext_to_level(*pt, level)); };
  };
  table["rotate"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const auto step = integer_argument(info, first + 1, "step", -(1ll << 40), 1ll << 40);
    auto keys = handle_argument<GaloisKeys>(info, first + 2, "galoisKeys");
    return unary(info, first, [step, keys](const Ciphertext& a) { return rotate(a, step, *keys); });
  };
  table["conjugate"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto keys = handle_argument<GaloisKeys>(info, first + 1, "galoisKeys");
    return unary(info, first, [keys](const Ciphertext& a) { return conjugate(a, *keys); });
  };
  table["rotateHoisted"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    CtPtr a = handle_argument<Ciphertext>(info, first, "ciphertext");
    const auto steps = steps_argument(info, first + 1, "steps");
    auto keys = handle_argument<GaloisKeys>(info, first + 2, "galoisKeys");
    return [a, steps, keys]() -> Finisher { return wrap_results(rotate_hoisted(*a, steps, *keys)); };
  };
  table["multiplyRelinearizeBatch"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto as = handle_array_argument<Ciphertext>(info, first, "first ciphertexts");
    auto bs = handle_array_argument<Ciphertext>(info, first + 1, "second ciphertexts");
    auto key = handle_argument<RelinKey>(info, first + 2, "relinKey");
    check_same_length(as.size(), bs.size());
    return [as, bs, key]() -> Finisher {
      return wrap_results(run_batch(as, [&](std::size_t i) { return multiply_relinearize(*as[i], *bs[i], *key); }));
    };
  };
  table["multiplyPlainBatch"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto as = handle_array_argument<Ciphertext>(info, first, "ciphertexts");
    auto bs = handle_array_argument<Plaintext>(info, first + 1, "plaintexts");
    check_same_length(as.size(), bs.size());
    return [as, bs]() -> Finisher {
      return wrap_results(run_batch(as, [&](std::size_t i) { return multiply_plain(*as[i], *bs[i]); }));
    };
  };
  table["rotateBatch"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto as = handle_array_argument<Ciphertext>(info, first, "ciphertexts");
    const auto step = integer_argument(info, first + 1, "step", -(1ll << 40), 1ll << 40);
    auto keys = handle_argument<GaloisKeys>(info, first + 2, "galoisKeys");
    return [as, step, keys]() -> Finisher {
      return wrap_results(run_batch(as, [&](std::size_t i) { return rotate(*as[i], step, *keys); }));
    };
  };
  table["rescaleBatch"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto as = handle_array_argument<Ciphertext>(info, first, "ciphertexts");
    return [as]() -> Finisher { return wrap_results(run_batch(as, [&](std::size_t i) { return rescale(*as[i]); })); };
  };
}

}  // namespace cipherlm::addon
