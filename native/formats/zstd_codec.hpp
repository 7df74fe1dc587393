// Zstandard compression for SEAL's zstd mode, available when the engine was built with libzstd
// (linked statically); otherwise every call throws ErrorCode::Unsupported.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cipherlm {

bool zstd_available();
// One frame at `level` with its content size recorded (as SEAL writes it).
std::vector<std::uint8_t> zstd_compress(const std::uint8_t* data, std::size_t size, int level);
// Exactly one complete frame that uses all of the input and decompresses to at most max_output
// bytes; anything else throws ErrorCode::Deserialization.
std::vector<std::uint8_t> zstd_decompress(const std::uint8_t* data, std::size_t size, std::size_t max_output);

}  // namespace cipherlm
