#include "formats/zstd_codec.hpp"

#include <memory>
#include <string>

#include "ring/error.hpp"

#ifdef CIPHERLM_HAVE_ZSTD
#include <zstd.h>
#endif

namespace cipherlm {

#ifdef CIPHERLM_HAVE_ZSTD

namespace {
struct DStreamDeleter {
  void operator()(ZSTD_DStream* s) const { ZSTD_freeDStream(s); }
};
}  // namespace

bool zstd_available() { return true; }

std::vector<std::uint8_t> zstd_compress(const std::uint8_t* data, std::size_t size, int level) {
  std::vector<std::uint8_t> out(ZSTD_compressBound(size));
  const std::size_t written = ZSTD_compress(out.data(), out.size(), data, size, level);
  if (ZSTD_isError(written)) fail(ErrorCode::InvalidArgument, std::string("zstd compression failed: ") + ZSTD_getErrorName(written));
  out.resize(written);
  return out;
}

std::vector<std::uint8_t> zstd_decompress(const std::uint8_t* data, std::size_t size, std::size_t max_output) {
  std::unique_ptr<ZSTD_DStream, DStreamDeleter> stream(ZSTD_createDStream());
  if (!stream) fail(ErrorCode::OutOfRange, "zstd: out of memory");
  ZSTD_initDStream(stream.get());
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> chunk(ZSTD_DStreamOutSize());
  ZSTD_inBuffer in{data, size, 0};
  for (;;) {
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    const std::size_t status = ZSTD_decompressStream(stream.get(), &o, &in);
    if (ZSTD_isError(status)) fail(ErrorCode::Deserialization, std::string("SEAL data: corrupt zstd payload: ") + ZSTD_getErrorName(status));
    if (out.size() + o.pos > max_output) fail(ErrorCode::Deserialization, "SEAL data: the zstd payload decompresses to more than such an object can hold");
    out.insert(out.end(), chunk.data(), chunk.data() + o.pos);
    if (status == 0) {
      if (in.pos < in.size) fail(ErrorCode::Deserialization, "SEAL data: bytes follow the zstd frame");
      break;
    }
    // The frame is not finished: with all input used and room left in the output, it never will be.
    if (in.pos == in.size && o.pos < o.size) fail(ErrorCode::Deserialization, "SEAL data: truncated zstd payload");
  }
  return out;
}

#else

bool zstd_available() { return false; }

std::vector<std::uint8_t> zstd_compress(const std::uint8_t*, std::size_t, int) {
  fail(ErrorCode::Unsupported, "this build of cipherlm has no zstd support (build it with libzstd-dev installed)");
}

std::vector<std::uint8_t> zstd_decompress(const std::uint8_t*, std::size_t, std::size_t) {
  fail(ErrorCode::Unsupported, "this build of cipherlm has no zstd support (build it with libzstd-dev installed)");
}

#endif

}  // namespace cipherlm
