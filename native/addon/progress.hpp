// Progress reports from native work on any thread, delivered to a JavaScript callback.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <utility>

#include "addon/arguments.hpp"
#include "circuits/bootstrapper.hpp"

namespace cipherlm::addon {

// Forwards (stage, seconds) from any thread to a JavaScript function; released when dropped.
class ProgressRelay {
 public:
  ProgressRelay(Napi::Env env, Napi::Function callback)
      : function_(Napi::ThreadSafeFunction::New(env, callback, "cipherlm bootstrap progress", 0, 1)) {}
  ~ProgressRelay() { function_.Release(); }
  ProgressRelay(const ProgressRelay&) = delete;
  ProgressRelay& operator=(const ProgressRelay&) = delete;

  void report(const std::string& stage, double seconds) {
    auto* payload = new std::pair<std::string, double>(stage, seconds);
    const napi_status status = function_.NonBlockingCall(payload, [](Napi::Env env, Napi::Function js, std::pair<std::string, double>* data) {
      std::unique_ptr<std::pair<std::string, double>> owned(data);
      if (env != nullptr && js != nullptr) js.Call({Napi::String::New(env, owned->first), Napi::Number::New(env, owned->second)});
    });
    if (status != napi_ok) delete payload;
  }

 private:
  Napi::ThreadSafeFunction function_;
};

// An optional callback argument: undefined/null gives no reports.
inline std::shared_ptr<ProgressRelay> progress_argument(const Napi::CallbackInfo& info, std::size_t index) {
  if (index >= info.Length() || info[index].IsUndefined() || info[index].IsNull()) return nullptr;
  if (!info[index].IsFunction()) throw Error(ErrorCode::InvalidArgument, "onProgress must be a function");
  return std::make_shared<ProgressRelay>(info.Env(), info[index].As<Napi::Function>());
}

inline BootstrapProgress as_progress(const std::shared_ptr<ProgressRelay>& relay) {
  if (!relay) return nullptr;
  return [relay](const std::string& stage, double seconds) { relay->report(stage, seconds); };
}

}  // namespace cipherlm::addon
