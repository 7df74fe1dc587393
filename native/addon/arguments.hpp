// Checked reading of JavaScript arguments; every failure is a typed InvalidArgument error.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "addon/handles.hpp"
#include "ring/error.hpp"

namespace cipherlm::addon {

inline Napi::Value argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  if (index >= info.Length()) throw Error(ErrorCode::InvalidArgument, std::string("missing argument: ") + name);
  return info[index];
}

inline double number_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsNumber()) throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline std::int64_t integer_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name,
                                     std::int64_t min, std::int64_t max) {
  const double v = number_argument(info, index, name);
  if (!(v >= static_cast<double>(min) && v <= static_cast<double>(max)) || v != static_cast<double>(static_cast<std::int64_t>(v))) {
    throw Error(ErrorCode::OutOfRange, std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
                                           std::to_string(max) + "]");
  }
  return static_cast<std::int64_t>(v);
}

inline bool bool_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsBoolean()) throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::vector<double> float64_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a Float64Array");
  }
  Napi::Float64Array array = v.As<Napi::Float64Array>();
  return std::vector<double>(array.Data(), array.Data() + array.ElementLength());
}

inline std::vector<std::uint8_t> bytes_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be a Uint8Array");
  }
  Napi::Uint8Array array = v.As<Napi::Uint8Array>();
  return std::vector<std::uint8_t>(array.Data(), array.Data() + array.ElementLength());
}

inline std::vector<long long> steps_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsArray()) throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be an array of integers");
  Napi::Array array = v.As<Napi::Array>();
  std::vector<long long> steps;
  for (std::uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value element = array.Get(i);
    if (!element.IsNumber()) throw Error(ErrorCode::InvalidArgument, std::string(name) + " must hold integers only");
    const double d = element.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<long long>(d)) || std::abs(d) > 1e15) {
      throw Error(ErrorCode::InvalidArgument, std::string(name) + " must hold integers only");
    }
    steps.push_back(static_cast<long long>(d));
  }
  return steps;
}

template <typename T>
std::shared_ptr<T> handle_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return Handle<T>::FromValue(argument(info, index, name), name);
}

template <typename T>
std::vector<std::shared_ptr<T>> handle_array_argument(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  Napi::Value v = argument(info, index, name);
  if (!v.IsArray()) throw Error(ErrorCode::InvalidArgument, std::string(name) + " must be an array");
  Napi::Array array = v.As<Napi::Array>();
  std::vector<std::shared_ptr<T>> items;
  for (std::uint32_t i = 0; i < array.Length(); ++i) items.push_back(Handle<T>::FromValue(array.Get(i), name));
  return items;
}

// Results as JavaScript values.
template <typename T>
Finisher wrap_shared(std::shared_ptr<T> shared) {
  return [shared](Napi::Env env) -> Napi::Value { return Handle<T>::Wrap(env, shared); };
}

template <typename T>
Finisher wrap_result(T value) {
  return wrap_shared(std::make_shared<T>(std::move(value)));
}

inline Finisher no_result() {
  return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
}

template <typename T>
Finisher wrap_results(std::vector<T> values) {
  auto shared = std::make_shared<std::vector<T>>(std::move(values));
  return [shared](Napi::Env env) -> Napi::Value {
    Napi::Array array = Napi::Array::New(env, shared->size());
    for (std::size_t i = 0; i < shared->size(); ++i) {
      array.Set(static_cast<std::uint32_t>(i), Handle<T>::Wrap(env, std::make_shared<T>(std::move((*shared)[i]))));
    }
    return array;
  };
}

}  // namespace cipherlm::addon
