// Which SIMD kernel family this CPU can run; chosen at run time so one binary runs on any CPU of its
// architecture.
#pragma once

// CIPHERLM_AVX512_KERNELS is 1 when this build contains the x86-64 AVX-512 kernels: on x86-64 unless
// CIPHERLM_PORTABLE is defined (cmake -DCIPHERLM_PORTABLE=ON, which leaves only the portable
// kernels). A file of AVX-512 kernels wraps its code in `#if CIPHERLM_AVX512_KERNELS`, and so does
// every call into it; its functions carry a target attribute (CIPHERLM_AVX512 or CIPHERLM_IFMA), never
// a -m flag for the whole file. Elsewhere (ARM64 included) the portable kernels run.
#if !defined(CIPHERLM_PORTABLE) && (defined(__x86_64__) || defined(_M_X64))
#define CIPHERLM_AVX512_KERNELS 1
#else
#define CIPHERLM_AVX512_KERNELS 0
#endif

namespace cipherlm {

enum class SimdPath { Portable = 0, Avx512Ifma = 1 };

bool cpu_supports(SimdPath path);
SimdPath best_simd_path();
const char* simd_path_name(SimdPath path);

}  // namespace cipherlm
