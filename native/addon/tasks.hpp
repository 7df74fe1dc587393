// Every addon operation is prepared on the JavaScript thread (arguments checked and unwrapped into
// shared references) and then run either at once or on a libuv worker thread behind a Promise.
#pragma once
#include <napi.h>

#include <functional>
#include <map>
#include <string>

namespace cipherlm::addon {

// Builds the JavaScript result on the JavaScript thread.
using Finisher = std::function<Napi::Value(Napi::Env)>;
// The heavy part: runs on any thread, touches no JavaScript value.
using Work = std::function<Finisher()>;
// Reads arguments (after the operation name) and returns the work to do.
using Preparer = std::function<Work(const Napi::CallbackInfo& info, std::size_t first)>;

using OperationTable = std::map<std::string, Preparer>;

void register_context_operations(OperationTable& table);
void register_key_operations(OperationTable& table);
void register_encoding_operations(OperationTable& table);
void register_evaluation_operations(OperationTable& table);
void register_serialization_operations(OperationTable& table);
void register_bootstrap_operations(OperationTable& table);
void register_seal_operations(OperationTable& table);
void register_kernel_operations(OperationTable& table);

// Converts an engine or standard exception into a JavaScript Error whose `code` names the error kind.
Napi::Error to_js_error(Napi::Env env, const std::string& code, const std::string& message);

}  // namespace cipherlm::addon
