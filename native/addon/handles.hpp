// JavaScript handles for engine objects. A handle owns a shared_ptr: dispose() drops it at once
// (releasing native memory deterministically), the garbage collector's finalizer drops it otherwise,
// and asynchronous work keeps its own reference so disposal during a pending operation is safe.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "addon/tasks.hpp"
#include "circuits/bootstrapper.hpp"
#include "ckks/encoder.hpp"
#include "kernels/kernel_context.hpp"
#include "kernels/plain_matrix_product.hpp"
#include "ring/error.hpp"
#include "rlwe/objects.hpp"

namespace cipherlm::addon {

struct AddonData {
  Napi::FunctionReference context, encoder, plaintext, ciphertext, secret_key, public_key, relin_key, galois_keys,
      bootstrapper, kernel_context, matrix_product;
  OperationTable operations;
};

template <typename T> struct HandleTraits;
#define CIPHERLM_HANDLE(Type, Name, Member)                                                       \
  template <> struct HandleTraits<Type> {                                                          \
    static constexpr const char* name = Name;                                                      \
    static Napi::FunctionReference& constructor(AddonData& data) { return data.Member; }           \
  };
CIPHERLM_HANDLE(Context, "Context", context)
CIPHERLM_HANDLE(Encoder, "Encoder", encoder)
CIPHERLM_HANDLE(Plaintext, "Plaintext", plaintext)
CIPHERLM_HANDLE(Ciphertext, "Ciphertext", ciphertext)
CIPHERLM_HANDLE(SecretKey, "SecretKey", secret_key)
CIPHERLM_HANDLE(PublicKey, "PublicKey", public_key)
CIPHERLM_HANDLE(RelinKey, "RelinKey", relin_key)
CIPHERLM_HANDLE(GaloisKeys, "GaloisKeys", galois_keys)
CIPHERLM_HANDLE(Bootstrapper, "Bootstrapper", bootstrapper)
CIPHERLM_HANDLE(kernels::KernelContext, "KernelContext", kernel_context)
CIPHERLM_HANDLE(kernels::PlainMatrixProduct, "MatrixProduct", matrix_product)
#undef CIPHERLM_HANDLE

// Bytes of native memory an object holds, reported to V8 so that garbage collection sees them.
inline std::int64_t native_bytes(const Context&) { return 0; }
inline std::int64_t native_bytes(const Encoder&) { return 0; }
inline std::int64_t native_bytes(const Bootstrapper&) { return 0; }
inline std::int64_t native_bytes(const kernels::KernelContext&) { return 0; }
inline std::int64_t native_bytes(const kernels::PlainMatrixProduct&) { return 0; }
inline std::int64_t native_bytes(const Plaintext& x) { return static_cast<std::int64_t>(x.data.size() * 8); }
inline std::int64_t native_bytes(const Ciphertext& x) { return static_cast<std::int64_t>(x.data.size() * 8); }
inline std::int64_t native_bytes(const SecretKey& x) { return static_cast<std::int64_t>(x.data.size() * 8); }
inline std::int64_t native_bytes(const PublicKey& x) { return static_cast<std::int64_t>(x.data.size() * 8); }
inline std::int64_t native_bytes(const RelinKey& x) { return static_cast<std::int64_t>(x.key.data.size() * 8); }
// Galois keys share their key data (combined and selected sets point at the same keys), so a
// handle reports the keys it holds; V8 only uses the figure as a hint to collect sooner.
inline std::int64_t native_bytes(const GaloisKeys& x) {
  std::int64_t total = 0;
  for (const auto& entry : x.keys) total += static_cast<std::int64_t>(entry.second->data.size() * 8);
  for (const auto* key : {x.to_sparse.get(), x.from_sparse.get()}) {
    if (key != nullptr) total += static_cast<std::int64_t>(key->data.size() * 8);
  }
  return total;
}

template <typename T>
class Handle : public Napi::ObjectWrap<Handle<T>> {
 public:
  static void Define(Napi::Env env, Napi::Object exports, AddonData& data) {
    Napi::Function ctor = Handle::DefineClass(env, HandleTraits<T>::name,
                                              {Handle::InstanceMethod("dispose", &Handle::Dispose),
                                               Handle::InstanceAccessor("disposed", &Handle::Disposed, nullptr)});
    HandleTraits<T>::constructor(data) = Napi::Persistent(ctor);
    exports.Set(HandleTraits<T>::name, ctor);
  }

  explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Handle<T>>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      Napi::TypeError::New(info.Env(), std::string(HandleTraits<T>::name) + " handles are made by the library only")
          .ThrowAsJavaScriptException();
      return;
    }
    auto* incoming = info[0].As<Napi::External<std::shared_ptr<T>>>().Data();
    value_ = std::move(*incoming);
    bytes_ = native_bytes(*value_);
    if (bytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), bytes_);
  }

  ~Handle() override { release(); }

  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<T> value) {
    AddonData* data = env.GetInstanceData<AddonData>();
    std::shared_ptr<T> holder = std::move(value);
    return HandleTraits<T>::constructor(*data).New({Napi::External<std::shared_ptr<T>>::New(env, &holder)});
  }

  // The object behind a handle, or a typed error naming the argument.
  static std::shared_ptr<T> FromValue(const Napi::Value& value, const char* argument) {
    Napi::Env env = value.Env();
    AddonData* data = env.GetInstanceData<AddonData>();
    if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(HandleTraits<T>::constructor(*data).Value())) {
      throw Error(ErrorCode::InvalidArgument, std::string(argument) + " must be a " + HandleTraits<T>::name);
    }
    Handle* handle = Handle::Unwrap(value.As<Napi::Object>());
    if (!handle->value_) {
      throw Error(ErrorCode::Disposed, std::string(argument) + " (" + HandleTraits<T>::name + ") has been disposed");
    }
    return handle->value_;
  }

 private:
  void release() {
    if (!value_) return;
    if (bytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(this->Env(), -bytes_);
    value_.reset();
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !value_); }

  std::shared_ptr<T> value_;
  std::int64_t bytes_ = 0;
};

}  // namespace cipherlm::addon
