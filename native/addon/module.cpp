// Addon entry point: the handle classes and two dispatchers, call(name, ...args) and
// callAsync(name, ...args), over one table of checked operations.
#include <napi.h>

#include "addon/handles.hpp"
#include "addon/tasks.hpp"
#include "ring/cpu_features.hpp"

namespace cipherlm::addon {

Napi::Error to_js_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

namespace {

struct Failure {
  std::string code, message;
};

Failure describe(const std::exception_ptr& exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const Error& e) {
    return {error_code_name(e.code()), e.what()};
  } catch (const std::bad_alloc&) {
    return {"ERR_OUT_OF_MEMORY", "out of memory"};
  } catch (const std::exception& e) {
    return {"ERR_INTERNAL", e.what()};
  }
}

Work prepare(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  if (info.Length() < 1 || !info[0].IsString()) throw Error(ErrorCode::InvalidArgument, "operation name must be a string");
  const std::string name = info[0].As<Napi::String>();
  auto found = data->operations.find(name);
  if (found == data->operations.end()) throw Error(ErrorCode::InvalidArgument, "unknown operation: " + name);
  return found->second(info, 1);
}

Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    return prepare(info)()(env);
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    Failure f = describe(std::current_exception());
    throw to_js_error(env, f.code, f.message);
  }
}

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, Work work)
      : Napi::AsyncWorker(env, "cipherlm"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      finisher_ = work_();
    } catch (...) {
      failure_ = describe(std::current_exception());
      SetError(failure_.message);
    }
    work_ = nullptr;
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(finisher_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error&) override {
    deferred_.Reject(to_js_error(Env(), failure_.code, failure_.message).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Finisher finisher_;
  Failure failure_;
};

Napi::Value CallAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Work work;
  try {
    work = prepare(info);
  } catch (const Napi::Error& e) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(e.Value());
    return deferred.Promise();
  } catch (...) {
    Failure f = describe(std::current_exception());
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(to_js_error(env, f.code, f.message).Value());
    return deferred.Promise();
  }
  auto* worker = new PromiseWorker(env, std::move(work));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  Handle<Context>::Define(env, exports, *data);
  Handle<Encoder>::Define(env, exports, *data);
  Handle<Plaintext>::Define(env, exports, *data);
  Handle<Ciphertext>::Define(env, exports, *data);
  Handle<SecretKey>::Define(env, exports, *data);
  Handle<PublicKey>::Define(env, exports, *data);
  Handle<RelinKey>::Define(env, exports, *data);
  Handle<GaloisKeys>::Define(env, exports, *data);
  Handle<Bootstrapper>::Define(env, exports, *data);
  Handle<kernels::KernelContext>::Define(env, exports, *data);
  Handle<kernels::PlainMatrixProduct>::Define(env, exports, *data);
  register_context_operations(data->operations);
  register_key_operations(data->operations);
  register_encoding_operations(data->operations);
  register_evaluation_operations(data->operations);
  register_serialization_operations(data->operations);
  register_bootstrap_operations(data->operations);
  register_seal_operations(data->operations);
  register_kernel_operations(data->operations);
  exports.Set("call", Napi::Function::New(env, Call, "call"));
  exports.Set("callAsync", Napi::Function::New(env, CallAsync, "callAsync"));
  Napi::Array names = Napi::Array::New(env);
  std::uint32_t i = 0;
  for (const auto& entry : data->operations) names.Set(i++, entry.first);
  exports.Set("operations", names);
  return exports;
}

}  // namespace

}  // namespace cipherlm::addon

static Napi::Object InitCipherlm(Napi::Env env, Napi::Object exports) { return cipherlm::addon::Init(env, exports); }

NODE_API_MODULE(cipherlm, InitCipherlm)
