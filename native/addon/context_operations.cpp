// Context creation and inspection, thread and SIMD settings, and NTT hooks for the test suite.
#include <cmath>

#include "addon/arguments.hpp"
#include "ring/primes.hpp"

namespace cipherlm::addon {

namespace {

std::vector<u64> primes_from(const Napi::Object& options, const char* primes_key, const char* bits_key,
                             std::size_t ring_degree, const std::vector<u64>& exclude) {
  const bool has_primes = options.Has(primes_key) && !options.Get(primes_key).IsUndefined();
  const bool has_bits = options.Has(bits_key) && !options.Get(bits_key).IsUndefined();
  if (has_primes == has_bits) {
    throw Error(ErrorCode::InvalidArgument, std::string("give exactly one of ") + primes_key + " and " + bits_key);
  }
  if (has_primes) {
    Napi::Value v = options.Get(primes_key);
    if (!v.IsArray()) throw Error(ErrorCode::InvalidArgument, std::string(primes_key) + " must be an array of bigint");
    Napi::Array array = v.As<Napi::Array>();
    std::vector<u64> primes;
    for (std::uint32_t i = 0; i < array.Length(); ++i) {
      Napi::Value element = array.Get(i);
      if (!element.IsBigInt()) throw Error(ErrorCode::InvalidArgument, std::string(primes_key) + " must hold bigint values");
      bool lossless = false;
      const u64 prime = element.As<Napi::BigInt>().Uint64Value(&lossless);
      if (!lossless) throw Error(ErrorCode::OutOfRange, std::string(primes_key) + " values must fit in 64 bits");
      primes.push_back(prime);
    }
    return primes;
  }
  Napi::Value v = options.Get(bits_key);
  if (!v.IsArray()) throw Error(ErrorCode::InvalidArgument, std::string(bits_key) + " must be an array of integers");
  Napi::Array array = v.As<Napi::Array>();
  std::vector<int> bits;
  for (std::uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value element = array.Get(i);
    if (!element.IsNumber()) throw Error(ErrorCode::InvalidArgument, std::string(bits_key) + " must hold integers");
    bits.push_back(element.As<Napi::Number>().Int32Value());
  }
  if (ring_degree < 2 || (ring_degree & (ring_degree - 1)) != 0 || ring_degree > 65536) {
    throw Error(ErrorCode::InvalidArgument, "ring degree must be a power of two up to 65536");
  }
  return ntt_primes_from_bit_sizes(ring_degree, bits, exclude);
}

Napi::Array bigint_array(Napi::Env env, const std::vector<u64>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (std::size_t i = 0; i < values.size(); ++i) array.Set(static_cast<std::uint32_t>(i), Napi::BigInt::New(env, values[i]));
  return array;
}

std::vector<u64> words_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array) {
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a BigUint64Array");
  }
  Napi::BigUint64Array array = v.As<Napi::BigUint64Array>();
  return std::vector<u64>(array.Data(), array.Data() + array.ElementLength());
}

SimdPath simd_path_argument(const Napi::CallbackInfo& info, std::size_t index) {
  Napi::Value v = argument(info, index, "path");
  const std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (name == "portable") return SimdPath::Portable;
  if (name == "avx2") return SimdPath::Avx2;
  if (name == "avx512ifma") return SimdPath::Avx512Ifma;
  throw Error(ErrorCode::InvalidArgument, "SIMD path must be 'portable', 'avx2' or 'avx512ifma'");
}

Work ntt_hook(const Napi::CallbackInfo& info, std::size_t first, bool forward) {
  auto context = handle_argument<Context>(info, first, "context");
  const auto limb = static_cast<std::size_t>(integer_argument(info, first + 1, "limb", 0, 63));
  auto values = words_argument(info, first + 2, "values");
  const SimdPath path = simd_path_argument(info, first + 3);
  if (limb >= context->prime_count()) throw Error(ErrorCode::OutOfRange, "limb index beyond the context's primes");
  if (values.size() != context->ring_degree()) throw Error(ErrorCode::InvalidArgument, "values must hold N words");
  if (!cpu_supports(path)) throw Error(ErrorCode::InvalidArgument, "this CPU cannot run that SIMD path");
  for (u64 x : values) {
    if (x >= context->modulus(limb).value) throw Error(ErrorCode::OutOfRange, "values must be reduced modulo the prime");
  }
  return [context, limb, values, path, forward]() mutable -> Finisher {
    if (forward) {
      context->ntt(limb).forward(values.data(), path);
    } else {
      context->ntt(limb).inverse(values.data(), path);
    }
    return [values](Napi::Env env) -> Napi::Value {
      Napi::BigUint64Array out = Napi::BigUint64Array::New(env, values.size());
      std::copy(values.begin(), values.end(), out.Data());
      return out;
    };
  };
}

}  // namespace

void register_context_operations(OperationTable& table) {
  table["createContext"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    Napi::Value v = argument(info, first, "options");
    if (!v.IsObject()) throw Error(ErrorCode::InvalidArgument, "options must be an object");
    Napi::Object options = v.As<Napi::Object>();
    Parameters parameters;
    if (!options.Get("ringDegree").IsNumber()) throw Error(ErrorCode::InvalidArgument, "ringDegree must be a number");
    parameters.ring_degree = static_cast<std::size_t>(options.Get("ringDegree").As<Napi::Number>().Int64Value());
    parameters.allow_insecure_for_tests_only = options.Get("allowInsecureParametersForTestsOnly").ToBoolean();
    const bool all_bits = options.Get("dataPrimes").IsUndefined() && options.Get("specialPrimes").IsUndefined() &&
                          options.Get("dataBits").IsArray() && options.Get("specialBits").IsArray();
    if (all_bits) {
      // One CoeffModulus::Create over data then special sizes, so the primes equal SEAL's for the
      // same list (the special prime last).
      Napi::Object combined = Napi::Object::New(info.Env());
      Napi::Array data_bits = options.Get("dataBits").As<Napi::Array>();
      Napi::Array special_bits = options.Get("specialBits").As<Napi::Array>();
      Napi::Array bits = Napi::Array::New(info.Env(), data_bits.Length() + special_bits.Length());
      for (std::uint32_t i = 0; i < data_bits.Length(); ++i) bits.Set(i, data_bits.Get(i));
      for (std::uint32_t i = 0; i < special_bits.Length(); ++i) bits.Set(data_bits.Length() + i, special_bits.Get(i));
      combined.Set("bits", bits);
      std::vector<u64> primes = primes_from(combined, "primes", "bits", parameters.ring_degree, {});
      parameters.data_primes.assign(primes.begin(), primes.begin() + data_bits.Length());
      parameters.special_primes.assign(primes.begin() + data_bits.Length(), primes.end());
    } else {
      parameters.data_primes = primes_from(options, "dataPrimes", "dataBits", parameters.ring_degree, {});
      parameters.special_primes =
          primes_from(options, "specialPrimes", "specialBits", parameters.ring_degree, parameters.data_primes);
    }
    Napi::Value digits = options.Get("keySwitchDigits");
    if (digits.IsString()) {
      if (digits.As<Napi::String>().Utf8Value() != "balanced") {
        throw Error(ErrorCode::InvalidArgument, "keySwitchDigits must be a number, a list of digit sizes or 'balanced'");
      }
      // Each digit's product at most P / 2^20: key-switching noise well below a rescale's.
      parameters.digit_sizes = balanced_digit_sizes(parameters.data_primes, parameters.special_primes, 20.0);
    } else if (digits.IsArray()) {
      // Data primes per digit, from q_0 up.
      Napi::Array sizes = digits.As<Napi::Array>();
      if (sizes.Length() < 1 || sizes.Length() > 64) throw Error(ErrorCode::InvalidArgument, "keySwitchDigits: 1 to 64 digit sizes");
      for (std::uint32_t i = 0; i < sizes.Length(); ++i) {
        Napi::Value size = sizes.Get(i);
        const double d = size.IsNumber() ? size.As<Napi::Number>().DoubleValue() : 0;
        if (!(d >= 1 && d <= 64 && d == std::floor(d))) throw Error(ErrorCode::InvalidArgument, "keySwitchDigits: each digit size must be an integer in [1, 64]");
        parameters.digit_sizes.push_back(static_cast<std::size_t>(d));
      }
    } else if (!digits.IsUndefined()) {
      if (!digits.IsNumber() || digits.As<Napi::Number>().DoubleValue() < 1) {
        throw Error(ErrorCode::InvalidArgument, "keySwitchDigits must be a positive integer or a list of digit sizes");
      }
      parameters.key_switch_digits = static_cast<std::size_t>(digits.As<Napi::Number>().Int64Value());
    }
    std::size_t threads = 1;
    Napi::Value threads_value = options.Get("threads");
    if (!threads_value.IsUndefined()) {
      if (!threads_value.IsNumber()) throw Error(ErrorCode::InvalidArgument, "threads must be a number");
      const double t = threads_value.As<Napi::Number>().DoubleValue();
      if (!(t >= 1 && t <= 256 && t == std::floor(t))) throw Error(ErrorCode::InvalidArgument, "threads must be an integer in [1, 256]");
      threads = static_cast<std::size_t>(t);
    }
    return [parameters, threads]() -> Finisher { return wrap_shared(std::make_shared<Context>(parameters, threads)); };
  };

  table["contextInfo"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    return [context]() -> Finisher {
      return [context](Napi::Env env) -> Napi::Value {
        const Parameters& p = context->parameters();
        Napi::Object out = Napi::Object::New(env);
        out.Set("ringDegree", static_cast<double>(p.ring_degree));
        out.Set("slotCount", static_cast<double>(context->slot_count()));
        out.Set("maxLevel", static_cast<double>(context->max_level()));
        out.Set("dataPrimes", bigint_array(env, p.data_primes));
        out.Set("specialPrimes", bigint_array(env, p.special_primes));
        out.Set("keySwitchDigits", static_cast<double>(context->key_switch_digits()));
        out.Set("digitSize", static_cast<double>(context->digit_size()));
        Napi::Array sizes = Napi::Array::New(env, context->key_switch_digits());
        for (std::size_t d = 0; d < context->key_switch_digits(); ++d) {
          sizes.Set(static_cast<std::uint32_t>(d), static_cast<double>(context->digit_end(d) - context->digit_first(d)));
        }
        out.Set("digitSizes", sizes);
        out.Set("logModulus", total_log_modulus(p));
        out.Set("securityLimitBits", static_cast<double>(max_log_modulus_128(p.ring_degree)));
        out.Set("insecure", p.allow_insecure_for_tests_only);
        out.Set("threads", static_cast<double>(context->threads()));
        out.Set("simdPath", simd_path_name(context->simd_path()));
        out.Set("fingerprint", Napi::BigInt::New(env, context->fingerprint()));
        return out;
      };
    };
  };

  table["setThreads"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    const auto threads = static_cast<std::size_t>(integer_argument(info, first + 1, "threads", 1, 256));
    return [context, threads]() -> Finisher {
      context->set_threads(threads);
      return no_result();
    };
  };

  table["setSimdPath"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    const SimdPath path = simd_path_argument(info, first + 1);
    return [context, path]() -> Finisher {
      context->set_simd_path(path);
      return no_result();
    };
  };

  table["memoryPool"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    return [context]() -> Finisher {
      const MemoryPoolStats stats = context->memory_pool().stats();
      return [stats](Napi::Env env) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("inUseBytes", static_cast<double>(stats.in_use_bytes));
        out.Set("cachedBytes", static_cast<double>(stats.cached_bytes));
        out.Set("highWaterBytes", static_cast<double>(stats.high_water_bytes));
        out.Set("allocations", static_cast<double>(stats.allocations));
        out.Set("reuses", static_cast<double>(stats.reuses));
        out.Set("cacheLimitBytes", static_cast<double>(stats.cache_limit_bytes));
        return out;
      };
    };
  };

  table["trimMemoryPool"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    return [context]() -> Finisher {
      context->memory_pool().trim();
      return no_result();
    };
  };

  table["setMemoryPoolCacheLimit"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    auto context = handle_argument<Context>(info, first, "context");
    const auto bytes = static_cast<std::size_t>(integer_argument(info, first + 1, "bytes", 0, 1LL << 50));
    return [context, bytes]() -> Finisher {
      context->memory_pool().set_cache_limit(bytes);
      return no_result();
    };
  };

  table["cpuSupports"] = [](const Napi::CallbackInfo& info, std::size_t first) -> Work {
    const SimdPath path = simd_path_argument(info, first);
    return [path]() -> Finisher {
      return [path](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, cpu_supports(path)); };
    };
  };

  table["nttForward"] = [](const Napi::CallbackInfo& info, std::size_t first) { return ntt_hook(info, first, true); };
  table["nttInverse"] = [](const Napi::CallbackInfo& info, std::size_t first) { return ntt_hook(info, first, false); };
}

}  // namespace cipherlm::addon
