#include "ring/cpu_features.hpp"

namespace cipherlm {

bool cpu_supports(SimdPath path) {
  switch (path) {
    case SimdPath::Portable: return true;
    case SimdPath::Avx512Ifma:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512ifma");
#else
      return false;
#endif
  }
  return false;
}

SimdPath best_simd_path() { return cpu_supports(SimdPath::Avx512Ifma) ? SimdPath::Avx512Ifma : SimdPath::Portable; }

const char* simd_path_name(SimdPath path) { return path == SimdPath::Avx512Ifma ? "avx512ifma" : "portable"; }

}  // namespace cipherlm
