// Which SIMD kernel family this CPU can run; chosen at run time so one binary runs on any x86-64.
#pragma once

namespace cipherlm {

enum class SimdPath { Portable = 0, Avx512Ifma = 1 };

bool cpu_supports(SimdPath path);
SimdPath best_simd_path();
const char* simd_path_name(SimdPath path);

}  // namespace cipherlm
