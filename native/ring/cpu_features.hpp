// Which SIMD kernel family this CPU can run; chosen at run time so one binary runs on any CPU of its
// architecture.
#pragma once

// CIPHERLM_X86_KERNELS is 1 when this build contains the x86-64 SIMD kernels (AVX2 + FMA, AVX-512,
// AVX-512 IFMA): on x86-64 unless CIPHERLM_PORTABLE is defined (cmake -DCIPHERLM_PORTABLE=ON, which
// leaves only the portable kernels). A file of SIMD kernels wraps its code in
// `#if CIPHERLM_X86_KERNELS`, and so does every call into it; its functions carry a target attribute
// (CIPHERLM_AVX2, CIPHERLM_AVX512 or CIPHERLM_IFMA), never a -m flag for the whole file. Elsewhere
// (ARM64 included) the portable kernels run.
#if !defined(CIPHERLM_PORTABLE) && (defined(__x86_64__) || defined(_M_X64))
#define CIPHERLM_X86_KERNELS 1
#else
#define CIPHERLM_X86_KERNELS 0
#endif

namespace cipherlm {

// Avx2: the NTT in double precision with FMA (primes below 2^50), everything else portable; for
// x86-64 CPUs without AVX-512 IFMA. Avx512Ifma: every kernel family on AVX-512.
enum class SimdPath { Portable = 0, Avx512Ifma = 1, Avx2 = 2 };

bool cpu_supports(SimdPath path);
SimdPath best_simd_path();
const char* simd_path_name(SimdPath path);

}  // namespace cipherlm
