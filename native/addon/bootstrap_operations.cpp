// Bootstrapping: the bootstrapper (its linear transforms and EvalMod polynomial), its key set, and
// the three bootstrapping calls, with optional progress reports delivered to a JavaScript callback.
#include <cmath>

#include "addon/arguments.hpp"
#include "addon/progress.hpp"
#include "circuits/bootstrapper.hpp"
#include "rlwe/keygen.hpp"

namespace cipherlm::addon {

namespace {

std::size_t config_field(const Napi::Object& options, const char* key, std::size_t fallback, std::size_t max) {
  if (!options.Has(key) || options.Get(key).IsUndefined()) return fallback;
  Napi::Value v = options.Get(key);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 1 && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<std::size_t>(d))) {
    throw Error(ErrorCode::OutOfRange, std::string(key) + " must be an integer in [1, " + std::to_string(max) + "]");
  }
  return static_cast<std::size_t>(d);
}

// An integer option that may be 0 (off); absent gives the fallback.
std::size_t optional_field(const Napi::Object& options, const char* key, std::size_t fallback, std::size_t max) {
  if (!options.Has(key) || options.Get(key).IsUndefined()) return fallback;
  Napi::Value v = options.Get(key);
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<std::size_t>(d))) {
    throw Error(ErrorCode::OutOfRange, std::string(key) + " must be an integer in [0, " + std::to_string(max) + "]");
  }
  return static_cast<std::size_t>(d);
}

// An optional factor on the result's slots (undefined: 1), finite and nonzero.
double factor_argument(const Napi::CallbackInfo& info, std::size_t index) {
  if (index >= info.Length() || info[index].IsUndefined()) return 1.0;
  const double factor = number_argument(info, index, "factor");
  if (!std::isfinite(factor) || factor == 0.0 || std::fabs(factor) > 1e12 || std::fabs(factor) < 1e-12) {
    throw Error(ErrorCode::OutOfRange, "factor must be finite, nonzero and within [1e-12, 1e12] in magnitude");
  }
  return factor;
}

}  // namespace

void register_bootstrap_operations(OperationTable& table) {
  table["createBootstrapper"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    Napi::Value v = argument(info, first + 1, "options");
    if (!v.IsObject()) throw Error(ErrorCode::InvalidArgument, "options must be an object");
    const Napi::Object options = v.As<Napi::Object>();
    BootstrapConfig config;
    config.coeffs_to_slots_levels = config_field(options, "coeffsToSlotsLevels", config.coeffs_to_slots_levels, 16);
    config.slots_to_coeffs_levels = config_field(options, "slotsToCoeffsLevels", config.slots_to_coeffs_levels, 16);
    config.mod_range = config_field(options, "modRange", config.mod_range, 256);
    config.double_angles = config_field(options, "doubleAngles", config.double_angles, 8);
    config.sine_degree = config_field(options, "sineDegree", config.sine_degree, 255);
    config.ephemeral_hamming_weight = optional_field(options, "ephemeralHammingWeight", 0, context->ring_degree());
    config.message_ratio = optional_field(options, "messageRatio", 0, 40);
    config.baby_steps = optional_field(options, "babySteps", 0, 64);
    if (options.Has("compactDiagonals") && !options.Get("compactDiagonals").IsUndefined()) {
      if (!options.Get("compactDiagonals").IsBoolean()) throw Error(ErrorCode::InvalidArgument, "compactDiagonals must be a boolean");
      config.compact_diagonals = options.Get("compactDiagonals").As<Napi::Boolean>().Value();
    }
    const std::size_t max_levels = context->log_degree() - 1;
    if (config.coeffs_to_slots_levels > max_levels || config.slots_to_coeffs_levels > max_levels) {
      throw Error(ErrorCode::OutOfRange, "the linear transforms take at most log2(N/2) = " + std::to_string(max_levels) + " levels");
    }
    return [context, config]() -> Finisher { return wrap_result(Bootstrapper(context, config)); };
  };
  table["bootstrapperInfo"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bootstrapper = handle_argument<Bootstrapper>(info, first, "bootstrapper");
    return [bootstrapper]() -> Finisher {
      return [bootstrapper](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("depth", static_cast<double>(bootstrapper->depth()));
        out.Set("outputLevel", static_cast<double>(bootstrapper->output_level()));
        out.Set("evalModError", bootstrapper->eval_mod_error());
        const auto elements = bootstrapper->galois_elements();
        Napi::Array array = Napi::Array::New(env, elements.size());
        for (std::size_t i = 0; i < elements.size(); ++i) array.Set(static_cast<std::uint32_t>(i), static_cast<double>(elements[i]));
        out.Set("galoisElements", array);
        Napi::Array levels = Napi::Array::New(env, elements.size());
        for (std::size_t i = 0; i < elements.size(); ++i) {
          levels.Set(static_cast<std::uint32_t>(i), static_cast<double>(bootstrapper->galois_levels().at(elements[i])));
        }
        out.Set("galoisLevels", levels);
        out.Set("encapsulation", bootstrapper->config().ephemeral_hamming_weight != 0);
        return out;
      };
    };
  };
  table["generateBootstrapKeys"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto secret = handle_argument<SecretKey>(info, first, "secretKey");
    auto bootstrapper = handle_argument<Bootstrapper>(info, first + 1, "bootstrapper");
    return [secret, bootstrapper]() -> Finisher {
      return wrap_result(bootstrapper->generate_keys(*secret));
    };
  };
  table["bootstrap"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bootstrapper = handle_argument<Bootstrapper>(info, first, "bootstrapper");
    auto ct = handle_argument<Ciphertext>(info, first + 1, "ciphertext");
    auto relin = handle_argument<RelinKey>(info, first + 2, "relinKey");
    auto galois = handle_argument<GaloisKeys>(info, first + 3, "galoisKeys");
    auto relay = progress_argument(info, first + 4);
    const double factor = factor_argument(info, first + 5);
    return [bootstrapper, ct, relin, galois, relay, factor]() -> Finisher {
      return wrap_result(bootstrapper->bootstrap(*ct, *relin, *galois, as_progress(relay), factor));
    };
  };
  table["bootstrapTwoReal"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bootstrapper = handle_argument<Bootstrapper>(info, first, "bootstrapper");
    auto a = handle_argument<Ciphertext>(info, first + 1, "first");
    auto b = handle_argument<Ciphertext>(info, first + 2, "second");
    auto relin = handle_argument<RelinKey>(info, first + 3, "relinKey");
    auto galois = handle_argument<GaloisKeys>(info, first + 4, "galoisKeys");
    auto relay = progress_argument(info, first + 5);
    const double factor = factor_argument(info, first + 6);
    return [bootstrapper, a, b, relin, galois, relay, factor]() -> Finisher {
      auto pair = bootstrapper->bootstrap_two_real(*a, *b, *relin, *galois, as_progress(relay), factor);
      std::vector<Ciphertext> results;
      results.push_back(std::move(pair.first));
      results.push_back(std::move(pair.second));
      return wrap_results(std::move(results));
    };
  };
  table["bootstrapPrecise"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto bootstrapper = handle_argument<Bootstrapper>(info, first, "bootstrapper");
    auto ct = handle_argument<Ciphertext>(info, first + 1, "ciphertext");
    auto relin = handle_argument<RelinKey>(info, first + 2, "relinKey");
    auto galois = handle_argument<GaloisKeys>(info, first + 3, "galoisKeys");
    const int boost = static_cast<int>(integer_argument(info, first + 4, "boostBits", 1, 30));
    auto relay = progress_argument(info, first + 5);
    return [bootstrapper, ct, relin, galois, boost, relay]() -> Finisher {
      return wrap_result(bootstrapper->bootstrap_precise(*ct, *relin, *galois, boost, as_progress(relay)));
    };
  };
}

}  // namespace cipherlm::addon
