// Typed errors of the engine; the addon maps each code to a TypeScript error class.
#pragma once
#include <stdexcept>
#include <string>

namespace cipherlm {

enum class ErrorCode {
  InvalidArgument,
  InsecureParameters,
  ParameterMismatch,
  LevelMismatch,
  ScaleMismatch,
  MissingKey,
  OutOfRange,
  Deserialization,
  Disposed,
  SealIncompatible,
  Unsupported,
};

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "ERR_INVALID_ARGUMENT";
    case ErrorCode::InsecureParameters: return "ERR_INSECURE_PARAMETERS";
    case ErrorCode::ParameterMismatch: return "ERR_PARAMETER_MISMATCH";
    case ErrorCode::LevelMismatch: return "ERR_LEVEL_MISMATCH";
    case ErrorCode::ScaleMismatch: return "ERR_SCALE_MISMATCH";
    case ErrorCode::MissingKey: return "ERR_MISSING_KEY";
    case ErrorCode::OutOfRange: return "ERR_OUT_OF_RANGE";
    case ErrorCode::Deserialization: return "ERR_DESERIALIZATION";
    case ErrorCode::Disposed: return "ERR_DISPOSED";
    case ErrorCode::SealIncompatible: return "ERR_SEAL_INCOMPATIBLE";
    case ErrorCode::Unsupported: return "ERR_UNSUPPORTED";
  }
  return "ERR_UNKNOWN";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] inline void fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

inline void require(bool condition, ErrorCode code, const std::string& message) {
  if (!condition) fail(code, message);
}

}  // namespace cipherlm
