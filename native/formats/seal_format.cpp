#include "formats/seal_format.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "formats/blake2.hpp"
#include "formats/shake256.hpp"
#include "ring/error.hpp"
#include "rlwe/rotation_keys.hpp"

namespace cipherlm::seal {

namespace {

constexpr std::uint16_t kMagic = 0xA15E;
constexpr std::uint8_t kSchemeCkks = 2;
constexpr std::uint8_t kPrngBlake2xb = 1;
constexpr std::uint8_t kPrngShake256 = 2;
constexpr u64 kPrngInfoBytes = kHeaderBytes + 1 + 64;
constexpr std::size_t kMaxCoeffModulusCount = 256;  // SEAL's own bound on a coefficient modulus list
constexpr std::size_t kMaxRingDegree = 32768;

[[noreturn]] void bad(const std::string& message) { fail(ErrorCode::Deserialization, "SEAL data: " + message); }

// A bounds-checked little-endian cursor.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : begin_(data), p_(data), end_(data + size) {}
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }
  void need(u64 bytes, const char* what) const {
    if (bytes > remaining()) bad(std::string("truncated ") + what);
  }
  std::uint8_t u8(const char* what) {
    need(1, what);
    return *p_++;
  }
  u64 u64v(const char* what) {
    need(8, what);
    u64 v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p_[i];
    p_ += 8;
    return v;
  }
  double f64(const char* what) {
    const u64 bits = u64v(what);
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  void bytes(std::uint8_t* out, std::size_t n, const char* what) {
    need(n, what);
    std::memcpy(out, p_, n);
    p_ += n;
  }
  const std::uint8_t* here() const { return p_; }
  void skip(std::size_t n) { p_ += n; }

 private:
  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

class Writer {
 public:
  std::size_t begin_object() {
    const std::size_t at = out_.size();
    out_.resize(at + kHeaderBytes);
    return at;
  }
  void end_object(std::size_t at) { write_header(out_.data() + at, ComprMode::None, out_.size() - at); }
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u64v(u64 v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void f64(double v) {
    u64 bits;
    std::memcpy(&bits, &v, 8);
    u64v(bits);
  }
  void words(const u64* data, std::size_t count) {
    const std::size_t at = out_.size();
    out_.resize(at + 8 * count);
    std::uint8_t* p = out_.data() + at;
    for (std::size_t i = 0; i < count; ++i) {
      for (int b = 0; b < 8; ++b) p[8 * i + b] = static_cast<std::uint8_t>(data[i] >> (8 * b));
    }
  }
  void reserve(std::size_t bytes) { out_.reserve(bytes); }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

// A nested (or outer) object starting at the reader's position: its header must say "uncompressed"
// and its size must fit in what is left.
struct Scope {
  std::size_t start;
  u64 size;
};

Scope open_object(Reader& r, const char* what) {
  r.need(kHeaderBytes, what);
  const std::size_t start = r.offset();
  const Header h = read_header(r.here(), r.remaining());
  if (h.mode != ComprMode::None) bad(std::string("a nested ") + what + " must not be compressed");
  if (h.size > r.remaining()) bad(std::string(what) + " is truncated (its header announces more bytes than remain)");
  r.skip(kHeaderBytes);
  return Scope{start, h.size};
}

void close_object(const Reader& r, const Scope& scope, const char* what) {
  if (r.offset() - scope.start != scope.size) bad(std::string("the size in the header of a ") + what + " is wrong");
}

void write_parms_id(Writer& w, const ParmsId& id) {
  for (u64 v : id) w.u64v(v);
}

ParmsId read_parms_id(Reader& r) {
  ParmsId id{};
  for (u64& v : id) v = r.u64v("parms_id");
  return id;
}

// The number of primes (1..K) of the level a parms_id names, or 0 if none.
std::size_t primes_for_parms_id(const Context& context, const ParmsId& id) {
  for (std::size_t m = 1; m <= context.prime_count(); ++m) {
    if (parms_id(context, m) == id) return m;
  }
  return 0;
}

void write_dyn_array(Writer& w, const u64* data, std::size_t count) {
  const std::size_t at = w.begin_object();
  w.u64v(count);
  w.words(data, count);
  w.end_object(at);
}

// A DynArray<u64> whose length must be one of the two given counts (second may equal the first).
std::vector<u64> read_dyn_array(Reader& r, u64 count_a, u64 count_b, const char* what) {
  const Scope scope = open_object(r, what);
  const u64 count = r.u64v(what);
  if (count != count_a && count != count_b) bad(std::string("unexpected number of coefficients in ") + what);
  if (scope.size != kHeaderBytes + 8 + 8 * count) bad(std::string("the size in the header of ") + what + " is wrong");
  r.need(8 * count, what);
  std::vector<u64> data(count);
  for (u64& v : data) v = r.u64v(what);
  close_object(r, scope, what);
  return data;
}

// Every word of `limbs` limbs (repeated `polys` times) is below its prime.
void check_residues(const Context& context, const u64* data, std::size_t polys, std::size_t limbs, const char* what) {
  const std::size_t n = context.ring_degree();
  for (std::size_t p = 0; p < polys; ++p) {
    for (std::size_t j = 0; j < limbs; ++j) {
      const u64 q = context.modulus(j).value;
      const u64* limb = data + (p * limbs + j) * n;
      for (std::size_t i = 0; i < n; ++i) {
        if (limb[i] >= q) bad(std::string(what) + " holds a coefficient that is not reduced modulo its prime");
      }
    }
  }
}

// SEAL's uniform sampling from a seed: 8 k N bytes at once, then rejected words replaced in order.
template <typename Stream>
void expand_seed(const Context& context, std::size_t limbs, const std::array<std::uint8_t, 64>& seed, u64* out) {
  const std::size_t n = context.ring_degree();
  Stream stream(seed);
  std::vector<std::uint8_t> bulk(8 * limbs * n);
  stream.generate(bulk.data(), bulk.size());
  for (std::size_t j = 0; j < limbs; ++j) {
    const u64 q = context.modulus(j).value;
    const u64 max = std::numeric_limits<u64>::max();
    const u64 bound = max - (max % q) - 1;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* b = bulk.data() + 8 * (j * n + i);
      u64 r = 0;
      for (int k = 7; k >= 0; --k) r = (r << 8) | b[k];
      while (r >= bound) {
        std::uint8_t more[8];
        stream.generate(more, 8);
        r = 0;
        for (int k = 7; k >= 0; --k) r = (r << 8) | more[k];
      }
      out[j * n + i] = r % q;
    }
  }
}

struct RawCiphertext {
  std::size_t primes = 0;
  std::size_t size = 0;
  double scale = 1.0;
  std::vector<u64> data;
};

// One Ciphertext object at the reader's position. key_level: a PublicKey-shaped object (key level,
// size 2, scale 1); otherwise a data-level ciphertext of size 2 or 3.
RawCiphertext read_ciphertext(Reader& r, const Context& context, bool key_level, const char* what) {
  const Scope scope = open_object(r, what);
  const std::size_t n = context.ring_degree();
  RawCiphertext ct;
  const ParmsId id = read_parms_id(r);
  ct.primes = primes_for_parms_id(context, id);
  if (ct.primes == 0) bad(std::string("the parms_id of the ") + what + " belongs to other encryption parameters");
  if (key_level && ct.primes != context.prime_count()) bad(std::string("a ") + what + " must be at the key level");
  if (!key_level && ct.primes > context.data_prime_count()) bad(std::string("a ") + what + " cannot be at the key level");
  const std::uint8_t ntt = r.u8(what);
  if (ntt != 1) bad(std::string("a CKKS ") + what + " must be in NTT form (flag 1)");
  const u64 size = r.u64v(what);
  const u64 degree = r.u64v(what);
  const u64 limbs = r.u64v(what);
  ct.scale = r.f64(what);
  const u64 correction = r.u64v(what);
  if (degree != n) bad(std::string("the ring degree of the ") + what + " does not match the parameters");
  if (limbs != ct.primes) bad(std::string("the prime count of the ") + what + " does not match its parms_id");
  if (key_level) {
    if (size != 2) bad(std::string("a ") + what + " must have 2 polynomials");
    if (ct.scale != 1.0) bad(std::string("a ") + what + " must have scale 1");
  } else {
    if (size != 2 && size != 3) bad(std::string("a ") + what + " must have 2 or 3 polynomials");
    if (!std::isfinite(ct.scale) || !(ct.scale > 0)) bad(std::string("the scale of the ") + what + " must be finite and positive");
  }
  if (correction != 1) bad(std::string("the correction factor of a CKKS ") + what + " must be 1");
  ct.size = static_cast<std::size_t>(size);
  const u64 full = size * n * limbs;
  const u64 half = size == 2 ? n * limbs : full;
  ct.data = read_dyn_array(r, full, half, what);
  check_residues(context, ct.data.data(), ct.data.size() / (n * limbs), ct.primes, what);
  if (ct.data.size() != full) {
    // Seeded: c0 only, then the PRNG that regenerates c1.
    const Scope info = open_object(r, "seed");
    if (info.size != kPrngInfoBytes) bad("the size in the header of a seed is wrong");
    const std::uint8_t type = r.u8("seed");
    std::array<std::uint8_t, 64> seed{};
    r.bytes(seed.data(), seed.size(), "seed");
    close_object(r, info, "seed");
    if (type != kPrngBlake2xb && type != kPrngShake256) bad("unknown PRNG type in a seeded " + std::string(what));
    ct.data.resize(full);
    if (type == kPrngBlake2xb) {
      expand_seed<Blake2xbStream>(context, ct.primes, seed, ct.data.data() + n * limbs);
    } else {
      expand_seed<Shake256Stream>(context, ct.primes, seed, ct.data.data() + n * limbs);
    }
    secure_wipe(seed.data(), seed.size());
  }
  close_object(r, scope, what);
  return ct;
}

void write_ciphertext(Writer& w, const Context& context, std::size_t primes, std::size_t size, double scale,
                      const u64* data) {
  const std::size_t n = context.ring_degree();
  const std::size_t at = w.begin_object();
  write_parms_id(w, parms_id(context, primes));
  w.u8(1);
  w.u64v(size);
  w.u64v(n);
  w.u64v(primes);
  w.f64(scale);
  w.u64v(1);
  write_dyn_array(w, data, size * n * primes);
  w.end_object(at);
}

// The outer object of a top-level buffer: uncompressed (the caller decompresses), exact length.
Reader open_buffer(const std::uint8_t* data, std::size_t size) {
  const Header h = read_header(data, size);
  if (h.mode != ComprMode::None) bad("compressed data must be decompressed before parsing");
  if (h.size != size) bad("the size in the header (" + std::to_string(h.size) + ") differs from the data length (" + std::to_string(size) + ")");
  return Reader(data, size);
}

std::vector<std::vector<u64>> read_kswitch_keys(Reader& r, const Context& context, bool galois, const char* what) {
  const Scope scope = open_object(r, what);
  const ParmsId id = read_parms_id(r);
  if (id != parms_id(context, context.prime_count())) bad(std::string("the parms_id of the ") + what + " is not the key level of these parameters");
  const u64 dim1 = r.u64v(what);
  const u64 expected_dim1 = galois ? context.ring_degree() : 1;
  if (dim1 != expected_dim1) {
    if (!galois && dim1 > 1 && dim1 <= 14) {
      fail(ErrorCode::SealIncompatible, "SEAL data: relinearization keys for powers of s above 2 are not supported");
    }
    bad(std::string("a ") + what + " object must have " + std::to_string(expected_dim1) + " key slots");
  }
  const std::size_t digits = context.data_prime_count();
  const std::size_t n = context.ring_degree(), limbs = context.prime_count();
  // Smallest possible bytes of one key slot that is used: dim2 (8) + digits seeded public keys.
  const u64 min_key_bytes = 8 + digits * (kHeaderBytes + 73 + kHeaderBytes + 8 + 8 * n * limbs + kPrngInfoBytes);
  std::vector<std::vector<u64>> keys(dim1);
  for (u64 slot = 0; slot < dim1; ++slot) {
    const u64 dim2 = r.u64v(what);
    if (dim2 == 0) {
      if (!galois) bad("relinearization keys must hold one key per data prime");
      continue;
    }
    if (dim2 != digits) bad(std::string("each key of a ") + what + " object must have one part per data prime");
    r.need(min_key_bytes - 8, what);
    std::vector<u64>& key = keys[slot];
    key.resize(digits * 2 * limbs * n);
    for (std::size_t d = 0; d < digits; ++d) {
      RawCiphertext part = read_ciphertext(r, context, true, "key-switching key");
      std::copy(part.data.begin(), part.data.end(), key.begin() + d * 2 * limbs * n);
    }
  }
  close_object(r, scope, what);
  return keys;
}

void write_kswitch_key(Writer& w, const Context& context, const KeySwitchKey& key) {
  if (key.level != context.max_level() || key.special != context.special_prime_count()) {
    fail(ErrorCode::SealIncompatible, "SEAL's format holds keys for the top level only; this key serves up to level " +
                                          std::to_string(key.level));
  }
  const std::size_t n = context.ring_degree(), limbs = context.prime_count();
  w.u64v(key.digits);
  // Each digit is SEAL's ciphertext (b, a) in SEAL's form (rotation_keys.hpp).
  std::vector<u64> digit(2 * limbs * n);
  std::size_t filled = 0;
  for_each_standard_limb(key, false, [&](const u64* words, std::size_t count) {
    std::copy(words, words + count, digit.begin() + filled);
    filled += count;
    if (filled == digit.size()) {
      write_ciphertext(w, context, limbs, 2, 1.0, digit.data());
      filled = 0;
    }
  });
}

void check_context(const ContextPtr& context) {
  require(context != nullptr, ErrorCode::InvalidArgument, "a context is required");
  require_compatible(*context);
}

}  // namespace

Header read_header(const std::uint8_t* data, std::size_t size) {
  if (size < kHeaderBytes) bad("truncated header (fewer than 16 bytes)");
  const std::uint16_t magic = static_cast<std::uint16_t>(data[0] | (data[1] << 8));
  if (magic != kMagic) bad("not a SEAL object (bad magic number)");
  if (data[2] != kHeaderBytes) bad("unexpected header size");
  Header h;
  h.version_major = data[3];
  h.version_minor = data[4];
  if (h.version_major != 4 || h.version_minor != 1) {
    fail(ErrorCode::SealIncompatible, "SEAL data: version " + std::to_string(h.version_major) + "." +
                                          std::to_string(h.version_minor) + " is not supported (only SEAL 4.1's formats are)");
  }
  // SEAL ignores the two reserved bytes; requiring zeros keeps every accepted object re-savable as is.
  if (data[6] != 0 || data[7] != 0) bad("the reserved header bytes must be zero");
  if (data[5] > 2) bad("unknown compression mode " + std::to_string(data[5]));
  h.mode = static_cast<ComprMode>(data[5]);
  u64 s = 0;
  for (int i = 15; i >= 8; --i) s = (s << 8) | data[i];
  if (s < kHeaderBytes) bad("the size in the header is smaller than the header");
  h.size = s;
  return h;
}

void write_header(std::uint8_t* out, ComprMode mode, u64 size) {
  out[0] = static_cast<std::uint8_t>(kMagic & 0xff);
  out[1] = static_cast<std::uint8_t>(kMagic >> 8);
  out[2] = kHeaderBytes;
  out[3] = 4;
  out[4] = 1;
  out[5] = static_cast<std::uint8_t>(mode);
  out[6] = out[7] = 0;
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<std::uint8_t>(size >> (8 * i));
}

std::string compatibility_issue(const Context& context) {
  if (context.ring_degree() > kMaxRingDegree) {
    return "SEAL 4.1 does not support N = " + std::to_string(context.ring_degree()) +
           " (its largest ring degree with 128-bit security is 32768)";
  }
  if (context.special_prime_count() != 1) {
    return "SEAL uses exactly one special prime (the last prime of its coefficient modulus); this context has " +
           std::to_string(context.special_prime_count());
  }
  if (context.key_switch_digits() != context.data_prime_count()) {
    return "SEAL's key switching uses one digit per data prime; this context uses " +
           std::to_string(context.key_switch_digits()) + " digits for " + std::to_string(context.data_prime_count()) +
           " data primes";
  }
  return "";
}

void require_compatible(const Context& context) {
  const std::string issue = compatibility_issue(context);
  if (!issue.empty()) fail(ErrorCode::SealIncompatible, "not SEAL-compatible: " + issue);
}

ParmsId parms_id(const Context& context, std::size_t prime_count) {
  require(prime_count >= 1 && prime_count <= context.prime_count(), ErrorCode::InvalidArgument, "no such level");
  std::vector<std::uint8_t> words(8 * (3 + prime_count));
  auto put = [&](std::size_t index, u64 v) {
    for (int b = 0; b < 8; ++b) words[8 * index + b] = static_cast<std::uint8_t>(v >> (8 * b));
  };
  put(0, kSchemeCkks);
  put(1, context.ring_degree());
  for (std::size_t i = 0; i < prime_count; ++i) put(2 + i, context.modulus(i).value);
  put(2 + prime_count, 0);
  const std::array<std::uint8_t, 32> digest = blake2b_256(words.data(), words.size());
  ParmsId id{};
  for (int w = 0; w < 4; ++w) {
    for (int b = 7; b >= 0; --b) id[w] = (id[w] << 8) | digest[8 * w + b];
  }
  return id;
}

Bytes save_parameters(const Context& context) {
  require_compatible(context);
  Writer w;
  const std::size_t at = w.begin_object();
  w.u8(kSchemeCkks);
  w.u64v(context.ring_degree());
  w.u64v(context.prime_count());
  for (std::size_t i = 0; i <= context.prime_count(); ++i) {
    const std::size_t m = w.begin_object();
    w.u64v(i < context.prime_count() ? context.modulus(i).value : 0);  // the last one: plain modulus 0
    w.end_object(m);
  }
  w.end_object(at);
  return w.take();
}

Parameters load_parameters(const std::uint8_t* data, std::size_t size) {
  Reader r = open_buffer(data, size);
  const Scope scope = open_object(r, "encryption parameters");
  const std::uint8_t scheme = r.u8("encryption parameters");
  if (scheme > 3) bad("unknown scheme " + std::to_string(scheme));
  if (scheme != kSchemeCkks) fail(ErrorCode::SealIncompatible, "SEAL data: only CKKS parameters are supported (scheme " + std::to_string(scheme) + ")");
  const u64 degree = r.u64v("encryption parameters");
  if (degree < 2 || (degree & (degree - 1)) != 0 || degree > 131072) bad("the ring degree must be a power of two up to 131072");
  if (degree > kMaxRingDegree) {
    fail(ErrorCode::SealIncompatible, "SEAL data: N = " + std::to_string(degree) + " is not supported (SEAL 4.1's largest secure ring degree is 32768)");
  }
  const u64 count = r.u64v("encryption parameters");
  if (count == 0 || count > kMaxCoeffModulusCount) bad("the coefficient modulus must hold 1 to 256 primes");
  if (count == 1) {
    fail(ErrorCode::SealIncompatible, "SEAL data: a single prime leaves no special prime for key switching");
  }
  r.need(count * 24 + 24, "coefficient modulus");
  std::vector<u64> primes;
  for (u64 i = 0; i <= count; ++i) {
    const Scope m = open_object(r, "modulus");
    const u64 value = r.u64v("modulus");
    close_object(r, m, "modulus");
    if (i < count) {
      if (value < 2 || value >= (u64(1) << 61)) bad("a coefficient modulus is out of range");
      primes.push_back(value);
    } else if (value != 0) {
      bad("CKKS parameters must have plain modulus 0");
    }
  }
  close_object(r, scope, "encryption parameters");
  Parameters p;
  p.ring_degree = static_cast<std::size_t>(degree);
  p.data_primes.assign(primes.begin(), primes.end() - 1);
  p.special_primes.assign(primes.end() - 1, primes.end());
  return p;
}

// SEAL's Plaintext in NTT form over the first `primes` primes (a secret key is one over all of them).
static Bytes save_ntt_plaintext(const Context& context, const u64* data, std::size_t primes, double scale) {
  require_compatible(context);
  const std::size_t n = context.ring_degree();
  Writer w;
  w.reserve(100 + 8 * primes * n);
  const std::size_t at = w.begin_object();
  write_parms_id(w, parms_id(context, primes));
  w.u64v(primes * n);
  w.f64(scale);
  write_dyn_array(w, data, primes * n);
  w.end_object(at);
  return w.take();
}

Bytes save(const Plaintext& plaintext) {
  return save_ntt_plaintext(*plaintext.context, plaintext.data.data(), plaintext.level + 1, plaintext.scale);
}

Plaintext load_plaintext(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  check_context(context);
  Reader r = open_buffer(data, size);
  const Scope scope = open_object(r, "plaintext");
  const ParmsId id = read_parms_id(r);
  if (id == ParmsId{}) fail(ErrorCode::SealIncompatible, "SEAL data: plaintexts not in NTT form (BFV/BGV) are not supported");
  const std::size_t primes = primes_for_parms_id(*context, id);
  if (primes == 0) bad("the parms_id of the plaintext belongs to other encryption parameters");
  if (primes > context->data_prime_count()) bad("a plaintext cannot be at the key level");
  const std::size_t n = context->ring_degree();
  const u64 count = r.u64v("plaintext");
  if (count != primes * n) bad("the coefficient count of the plaintext does not match its level");
  const double scale = r.f64("plaintext");
  if (!std::isfinite(scale) || !(scale > 0)) bad("the scale of the plaintext must be finite and positive");
  Plaintext pt;
  pt.context = context;
  pt.level = primes - 1;
  pt.scale = scale;
  const std::vector<u64> values = read_dyn_array(r, count, count, "plaintext");
  pt.data = context->allocate(values.size());
  std::copy(values.begin(), values.end(), pt.data.begin());
  check_residues(*context, pt.data.data(), 1, primes, "plaintext");
  close_object(r, scope, "plaintext");
  return pt;
}

// SEAL's Ciphertext of `size` polynomials over the first `primes` primes (a public key is one of two
// polynomials over all of them).
static Bytes save_ciphertext_form(const Context& context, std::size_t primes, std::size_t size, double scale,
                                  const u64* data) {
  require_compatible(context);
  Writer w;
  w.reserve(120 + 8 * size * primes * context.ring_degree());
  write_ciphertext(w, context, primes, size, scale, data);
  return w.take();
}

Bytes save(const Ciphertext& ciphertext) {
  return save_ciphertext_form(*ciphertext.context, ciphertext.level + 1, ciphertext.size, ciphertext.scale,
                              ciphertext.data.data());
}

Ciphertext load_ciphertext(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  check_context(context);
  Reader r = open_buffer(data, size);
  RawCiphertext raw = read_ciphertext(r, *context, false, "ciphertext");
  Ciphertext ct;
  ct.context = context;
  ct.level = raw.primes - 1;
  ct.size = raw.size;
  ct.scale = raw.scale;
  ct.data = context->allocate(raw.data.size());
  std::copy(raw.data.begin(), raw.data.end(), ct.data.begin());
  return ct;
}

Bytes save(const SecretKey& key) {
  return save_ntt_plaintext(*key.context, key.data.data(), key.context->prime_count(), 1.0);
}

SecretKey load_secret_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  check_context(context);
  Reader r = open_buffer(data, size);
  const Scope scope = open_object(r, "secret key");
  const ParmsId id = read_parms_id(r);
  const std::size_t primes = context->prime_count(), n = context->ring_degree();
  if (id != parms_id(*context, primes)) bad("the parms_id of the secret key is not the key level of these parameters");
  const u64 count = r.u64v("secret key");
  if (count != primes * n) bad("the coefficient count of the secret key does not match the parameters");
  if (r.f64("secret key") != 1.0) bad("a secret key must have scale 1");
  std::vector<u64> words = read_dyn_array(r, count, count, "secret key");
  SecretKey key;
  key.context = context;
  key.data.resize(words.size());
  std::copy(words.begin(), words.end(), key.data.data());
  secure_wipe(words.data(), words.size() * sizeof(u64));
  check_residues(*context, key.data.data(), 1, primes, "secret key");
  close_object(r, scope, "secret key");
  return key;
}

Bytes save(const PublicKey& key) {
  return save_ciphertext_form(*key.context, key.context->prime_count(), 2, 1.0, key.data.data());
}

PublicKey load_public_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  check_context(context);
  Reader r = open_buffer(data, size);
  RawCiphertext raw = read_ciphertext(r, *context, true, "public key");
  PublicKey key;
  key.context = context;
  key.data = std::move(raw.data);
  return key;
}

Bytes save(const RelinKey& key) {
  const Context& context = *key.key.context;
  require_compatible(context);
  Writer w;
  w.reserve(200 + 8 * key.key.data.size() + 200 * key.key.digits);
  const std::size_t at = w.begin_object();
  write_parms_id(w, parms_id(context, context.prime_count()));
  w.u64v(1);
  write_kswitch_key(w, context, key.key);
  w.end_object(at);
  return w.take();
}

RelinKey load_relin_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  check_context(context);
  Reader r = open_buffer(data, size);
  std::vector<std::vector<u64>> keys = read_kswitch_keys(r, *context, false, "relinearization keys");
  RelinKey key;
  key.key.context = context;
  key.key.level = context->max_level();
  key.key.special = context->special_prime_count();
  key.key.digits = context->data_prime_count();
  key.key.data = std::move(keys[0]);
  return key;
}

Bytes save(const GaloisKeys& keys) {
  const Context& context = *keys.context;
  require_compatible(context);
  const std::size_t n = context.ring_degree();
  Writer w;
  std::size_t bytes = 100 + 8 * n;
  if (keys.to_sparse || keys.from_sparse) {
    fail(ErrorCode::SealIncompatible, "SEAL's format has no place for the sparse-secret keys of bootstrapping");
  }
  for (const auto& entry : keys.keys) bytes += 8 * entry.second->data.size() + 200 * entry.second->digits;
  w.reserve(bytes);
  const std::size_t at = w.begin_object();
  write_parms_id(w, parms_id(context, context.prime_count()));
  w.u64v(n);
  for (std::size_t slot = 0; slot < n; ++slot) {
    const auto found = keys.keys.find(2 * slot + 1);
    if (found == keys.keys.end()) {
      w.u64v(0);
    } else {
      write_kswitch_key(w, context, *found->second);
    }
  }
  w.end_object(at);
  return w.take();
}

GaloisKeys load_galois_keys(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  check_context(context);
  Reader r = open_buffer(data, size);
  std::vector<std::vector<u64>> slots = read_kswitch_keys(r, *context, true, "Galois keys");
  GaloisKeys keys;
  keys.context = context;
  for (std::size_t slot = 0; slot < slots.size(); ++slot) {
    if (slots[slot].empty()) continue;
    auto key = std::make_shared<KeySwitchKey>();
    key->context = context;
    key->level = context->max_level();
    key->special = context->special_prime_count();
    key->digits = context->data_prime_count();
    key->data = std::move(slots[slot]);
    to_rotation_form(*key, 2 * slot + 1);
    keys.keys.emplace(2 * slot + 1, std::move(key));
  }
  return keys;
}

u64 max_object_bytes(std::size_t ring_degree, std::size_t prime_count, int kind) {
  const u64 n = ring_degree, k = prime_count, l = prime_count > 0 ? prime_count - 1 : 0;
  const u64 key_part = 113 + 16 * n * k;
  const u64 cap = u64(1) << 32;
  switch (kind) {
    case 0: return kHeaderBytes + 17 + 24 * (kMaxCoeffModulusCount + 1);
    case 1: return 88 + 8 * n * k;
    case 2: return 113 + 24 * n * k + kPrngInfoBytes;
    case 3: return 88 + 8 * n * k;
    case 4: return key_part;
    case 5: return 64 + l * key_part;
    case 6: {
      // Every odd element below 2N could hold a key; the total is capped at 4 GiB.
      const double total = 56.0 + 8.0 * double(n) + double(n) * double(l) * double(key_part);
      return total >= double(cap) ? cap : static_cast<u64>(total);
    }
    default: return 0;
  }
}

}  // namespace cipherlm::seal
