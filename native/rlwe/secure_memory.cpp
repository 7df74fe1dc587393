// memset_s is declared only when this is defined before the first C header of the file.
#define __STDC_WANT_LIB_EXT1__ 1
#include "rlwe/secure_memory.hpp"

#if defined(_WIN32)
#include <windows.h>  // SecureZeroMemory
#else
#include <string.h>  // memset_s (macOS), explicit_bzero (glibc 2.25+, musl, the BSDs)
#endif

namespace cipherlm {

void secure_wipe(void* data, std::size_t bytes) {
#if defined(_WIN32)
  SecureZeroMemory(data, bytes);
#elif defined(__APPLE__)
  memset_s(data, bytes, 0, bytes);
#else
  explicit_bzero(data, bytes);
#endif
}

}  // namespace cipherlm
