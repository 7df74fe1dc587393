#include "ring/cpu_features.hpp"

#include <cstdint>

#if CIPHERLM_X86_KERNELS && defined(_MSC_VER)
#include <intrin.h>  // __cpuidex, _xgetbv
#elif CIPHERLM_X86_KERNELS
#include <cpuid.h>  // __cpuid_count
#endif

namespace cipherlm {

namespace {

#if CIPHERLM_X86_KERNELS
struct CpuidLeaf {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidLeaf cpuid(unsigned leaf, unsigned subleaf) {
  CpuidLeaf r;
#if defined(_MSC_VER)
  int registers[4];
  __cpuidex(registers, static_cast<int>(leaf), static_cast<int>(subleaf));
  r = {static_cast<unsigned>(registers[0]), static_cast<unsigned>(registers[1]), static_cast<unsigned>(registers[2]),
       static_cast<unsigned>(registers[3])};
#else
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// XCR0: which register states the operating system saves on a context switch.
std::uint64_t os_saved_register_states() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned low = 0, high = 0;
  __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (std::uint64_t(high) << 32) | low;
#endif
}

// AVX-512 F, DQ and IFMA in the CPU, and the OS saving the SSE, AVX, opmask and ZMM states.
bool avx512ifma_usable() {
  if (cpuid(0, 0).eax < 7) return false;
  constexpr unsigned kOsxsave = 1u << 27;
  if (!(cpuid(1, 0).ecx & kOsxsave)) return false;
  // XCR0 bits 1, 2 (SSE, AVX) and 5, 6, 7 (opmask, ZMM). macOS turns the AVX-512 states on at a
  // thread's first AVX-512 instruction, so XCR0 shows only SSE and AVX beforehand (compiler-rt's CPU
  // check trusts macOS in the same way).
#if defined(__APPLE__)
  constexpr std::uint64_t kRequiredStates = 0x06;
#else
  constexpr std::uint64_t kRequiredStates = 0xe6;
#endif
  if ((os_saved_register_states() & kRequiredStates) != kRequiredStates) return false;
  constexpr unsigned kAvx512f = 1u << 16, kAvx512dq = 1u << 17, kAvx512ifma = 1u << 21;
  const unsigned features = cpuid(7, 0).ebx;
  return (features & kAvx512f) && (features & kAvx512dq) && (features & kAvx512ifma);
}

// AVX2 and FMA in the CPU, and the OS saving the SSE and AVX states.
bool avx2_fma_usable() {
  if (cpuid(0, 0).eax < 7) return false;
  constexpr unsigned kFma = 1u << 12, kOsxsave = 1u << 27, kAvx = 1u << 28;
  const unsigned leaf1 = cpuid(1, 0).ecx;
  if ((leaf1 & (kFma | kOsxsave | kAvx)) != (kFma | kOsxsave | kAvx)) return false;
  constexpr std::uint64_t kSseAvxStates = 0x06;
  if ((os_saved_register_states() & kSseAvxStates) != kSseAvxStates) return false;
  constexpr unsigned kAvx2 = 1u << 5;
  return (cpuid(7, 0).ebx & kAvx2) != 0;
}
#endif

}  // namespace

bool cpu_supports(SimdPath path) {
  if (path == SimdPath::Portable) return true;
#if CIPHERLM_X86_KERNELS
  static const bool avx512ifma = avx512ifma_usable();
  static const bool avx2 = avx2_fma_usable();
  return path == SimdPath::Avx512Ifma ? avx512ifma : avx2;
#else
  return false;
#endif
}

SimdPath best_simd_path() {
  if (cpu_supports(SimdPath::Avx512Ifma)) return SimdPath::Avx512Ifma;
  return cpu_supports(SimdPath::Avx2) ? SimdPath::Avx2 : SimdPath::Portable;
}

const char* simd_path_name(SimdPath path) {
  switch (path) {
    case SimdPath::Avx512Ifma: return "avx512ifma";
    case SimdPath::Avx2: return "avx2";
    case SimdPath::Portable: break;
  }
  return "portable";
}

}  // namespace cipherlm
