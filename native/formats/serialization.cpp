#include "formats/serialization.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "ring/error.hpp"
#include "rlwe/encryptor.hpp"
#include "rlwe/keygen.hpp"
#include "rlwe/rotation_keys.hpp"

namespace cipherlm {

namespace {

constexpr std::uint8_t kMagic[4] = {'C', 'L', 'M', 'K'};
constexpr std::uint16_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 4 + 2 + 1 + 1 + 8 + 8;
constexpr std::uint8_t kFlagSeeded = 1;     // ciphertexts and keys: uniform halves stored as seeds
constexpr std::uint8_t kFlagKeyLevels = 2;  // keys: each record states its level and special primes
constexpr std::uint8_t kFlagDigitSizes = 4; // parameters: the primes of each key-switching digit follow

class Writer {
 public:
  Writer(ObjectType type, std::uint8_t flags, u64 fingerprint) {
    bytes_.insert(bytes_.end(), kMagic, kMagic + 4);
    put<std::uint16_t>(kFormatVersion);
    put<std::uint8_t>(static_cast<std::uint8_t>(type));
    put<std::uint8_t>(flags);
    put<u64>(fingerprint);
    put<u64>(0);  // payload length, patched by finish()
  }
  template <typename T>
  void put(T value) {
    std::uint8_t raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    bytes_.insert(bytes_.end(), raw, raw + sizeof(T));
  }
  void put_words(const u64* words, std::size_t count) {
    const auto* raw = reinterpret_cast<const std::uint8_t*>(words);
    bytes_.insert(bytes_.end(), raw, raw + count * sizeof(u64));
  }
  void put_bytes(const std::uint8_t* data, std::size_t count) { bytes_.insert(bytes_.end(), data, data + count); }
  Bytes finish() {
    const u64 payload = bytes_.size() - kHeaderSize;
    std::memcpy(bytes_.data() + kHeaderSize - 8, &payload, 8);
    return std::move(bytes_);
  }

 private:
  Bytes bytes_;
};

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  template <typename T>
  T get(const char* field) {
    need(sizeof(T), field);
    T value;
    std::memcpy(&value, data_ + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }
  void get_bytes(std::uint8_t* out, std::size_t count, const char* field) {
    need(count, field);
    std::memcpy(out, data_ + offset_, count);
    offset_ += count;
  }
  // Words that must each be below the modulus of their limb; `limb_prime` maps limb -> prime index.
  template <typename PrimeOf>
  void get_residues(const Context& context, u64* out, std::size_t limbs, PrimeOf prime_of, const char* field) {
    const std::size_t n = context.ring_degree();
    if (limbs != 0 && n > (size_ - offset_) / 8 / limbs) truncated(field);
    need(limbs * n * 8, field);
    std::memcpy(out, data_ + offset_, limbs * n * 8);
    offset_ += limbs * n * 8;
    for (std::size_t k = 0; k < limbs; ++k) {
      const u64 q = context.modulus(prime_of(k)).value;
      for (std::size_t c = 0; c < n; ++c) {
        if (out[k * n + c] >= q) {
          fail(ErrorCode::Deserialization, std::string(field) + ": coefficient " + std::to_string(c) + " of limb " +
                                               std::to_string(k) + " is not reduced modulo its prime");
        }
      }
    }
  }
  void expect_end() const {
    if (offset_ != size_) {
      fail(ErrorCode::Deserialization, std::to_string(size_ - offset_) + " unexpected trailing bytes after the object");
    }
  }
  std::size_t remaining() const { return size_ - offset_; }
  // Fails unless `words` 64-bit words remain (checked before allocating room for them).
  void expect_words(std::size_t words, const char* field) const {
    if (words > remaining() / 8) truncated(field);
  }

 private:
  void need(std::size_t count, const char* field) const {
    if (count > size_ - offset_) truncated(field);
  }
  [[noreturn]] void truncated(const char* field) const {
    fail(ErrorCode::Deserialization, std::string("truncated data: not enough bytes for ") + field);
  }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

const char* type_name(ObjectType type) {
  switch (type) {
    case ObjectType::Parameters: return "parameters";
    case ObjectType::Plaintext: return "plaintext";
    case ObjectType::Ciphertext: return "ciphertext";
    case ObjectType::SecretKey: return "secret key";
    case ObjectType::PublicKey: return "public key";
    case ObjectType::RelinKey: return "relinearization key";
    case ObjectType::GaloisKeys: return "Galois keys";
  }
  return "unknown";
}

// Checks the header and returns a reader positioned at the payload, and the flags.
Reader open(const std::uint8_t* data, std::size_t size, ObjectType expected, const Context* context, std::uint8_t& flags) {
  Reader header(data, size);
  const ObjectType type = peek_object_type(data, size);
  if (type != expected) {
    fail(ErrorCode::Deserialization,
         std::string("bytes hold a ") + type_name(type) + ", not a " + type_name(expected));
  }
  std::uint8_t skipped[6];
  header.get_bytes(skipped, 6, "header");
  header.get<std::uint8_t>("object type");
  flags = header.get<std::uint8_t>("flags");
  const u64 fingerprint = header.get<u64>("parameter fingerprint");
  const u64 payload = header.get<u64>("payload length");
  if (context != nullptr && fingerprint != context->fingerprint()) {
    fail(ErrorCode::ParameterMismatch,
         std::string("the ") + type_name(expected) + " was saved under different encryption parameters than this context");
  }
  if (payload != header.remaining()) {
    fail(ErrorCode::Deserialization, "payload length " + std::to_string(payload) + " does not match the " +
                                         std::to_string(header.remaining()) + " bytes present");
  }
  return Reader(data + kHeaderSize, size - kHeaderSize);
}

std::size_t check_level(const Context& context, std::uint32_t level) {
  if (level > context.max_level()) {
    fail(ErrorCode::Deserialization, "level " + std::to_string(level) + " exceeds the context's top level " +
                                         std::to_string(context.max_level()));
  }
  return level;
}

double check_scale(double scale) {
  if (!std::isfinite(scale) || scale <= 0 || scale > std::ldexp(1.0, 1800)) {
    fail(ErrorCode::Deserialization, "scale is not a positive finite number in range");
  }
  return scale;
}

auto identity = [](std::size_t k) { return k; };

// A key record: digits, level, special primes held, then each digit's b and a over the stored limbs;
// seeded, the seed replaces every a (regenerated on load).
void write_switch_key(Writer& w, const KeySwitchKey& key, bool seeded) {
  if (seeded) {
    require(key.has_seed, ErrorCode::InvalidArgument,
            "this key has no seed (it was loaded unseeded or from SEAL's format): save it unseeded");
  }
  w.put<std::uint32_t>(static_cast<std::uint32_t>(key.digits));
  w.put<std::uint32_t>(static_cast<std::uint32_t>(key.level));
  w.put<std::uint32_t>(static_cast<std::uint32_t>(key.special));
  // Galois keys travel in SEAL's form (rotation_keys.hpp); seeded, the seed stands for every a.
  if (seeded) w.put_bytes(key.seed.data(), key.seed.size());
  for_each_standard_limb(key, seeded, [&](const u64* words, std::size_t count) { w.put_words(words, count); });
}

// `leveled`: the record carries digits, level and special count (keys saved by this version); older
// records hold the full key, digits only. `sparse_switch`: the level-0 key over one special prime.
KeySwitchKey read_switch_key(Reader& r, const ContextPtr& context, bool leveled, bool seeded, bool sparse_switch) {
  KeySwitchKey key;
  key.context = context;
  key.digits = r.get<std::uint32_t>("key digits");
  key.level = context->max_level();
  key.special = context->special_prime_count();
  if (leveled) {
    key.level = check_level(*context, r.get<std::uint32_t>("key level"));
    key.special = r.get<std::uint32_t>("key special primes");
  }
  const std::size_t expected_special = sparse_switch ? 1 : context->special_prime_count();
  if (key.special != expected_special || (sparse_switch && key.level != 0)) {
    fail(ErrorCode::Deserialization, sparse_switch ? "the sparse-secret key must be a level-0 key over one special prime"
                                                   : "key must hold every special prime");
  }
  if (key.digits != context->digits_at_level(key.level)) {
    fail(ErrorCode::Deserialization, "key has " + std::to_string(key.digits) + " digits; level " + std::to_string(key.level) +
                                         " of this context has " + std::to_string(context->digits_at_level(key.level)));
  }
  const std::vector<std::size_t> primes = key.primes();
  const std::size_t n = context->ring_degree(), part = key.limbs() * n;
  auto prime_of = [&](std::size_t k) { return primes[k]; };
  if (seeded) {
    key.has_seed = true;
    r.get_bytes(key.seed.data(), key.seed.size(), "key seed");
    r.expect_words(key.digits * part, "key-switching key");
    key.data.resize(key.digits * 2 * part);
    for (std::size_t d = 0; d < key.digits; ++d) {
      r.get_residues(*context, key.data.data() + 2 * d * part, key.limbs(), prime_of, "key-switching key");
    }
    expand_key_uniform(key);
  } else {
    r.expect_words(key.digits * 2 * part, "key-switching key");
    key.data.resize(key.digits * 2 * part);
    for (std::size_t k = 0; k < key.digits * 2; ++k) {
      r.get_residues(*context, key.data.data() + k * part, key.limbs(), prime_of, "key-switching key");
    }
  }
  return key;
}

}  // namespace

ObjectType peek_object_type(const std::uint8_t* data, std::size_t size) {
  if (size < kHeaderSize) fail(ErrorCode::Deserialization, "truncated data: shorter than the header");
  if (std::memcmp(data, kMagic, 4) != 0) fail(ErrorCode::Deserialization, "not cipherlm data (bad magic bytes)");
  std::uint16_t version;
  std::memcpy(&version, data + 4, 2);
  if (version != kFormatVersion) {
    fail(ErrorCode::Deserialization, "unsupported format version " + std::to_string(version) + " (this build reads " +
                                         std::to_string(kFormatVersion) + ")");
  }
  const std::uint8_t type = data[6];
  if (type < 1 || type > 7) fail(ErrorCode::Deserialization, "unknown object type " + std::to_string(type));
  return static_cast<ObjectType>(type);
}

Bytes save_parameters(const Context& context) {
  const Parameters& p = context.parameters();
  Writer w(ObjectType::Parameters, p.digit_sizes.empty() ? 0 : kFlagDigitSizes, context.fingerprint());
  w.put<std::uint32_t>(static_cast<std::uint32_t>(p.ring_degree));
  w.put<std::uint32_t>(static_cast<std::uint32_t>(p.data_primes.size()));
  w.put<std::uint32_t>(static_cast<std::uint32_t>(p.special_primes.size()));
  w.put<std::uint32_t>(static_cast<std::uint32_t>(p.key_switch_digits));
  w.put<std::uint8_t>(p.allow_insecure_for_tests_only ? 1 : 0);
  for (u64 q : p.data_primes) w.put<u64>(q);
  for (u64 q : p.special_primes) w.put<u64>(q);
  for (std::size_t size : p.digit_sizes) w.put<std::uint32_t>(static_cast<std::uint32_t>(size));
  return w.finish();
}

Parameters load_parameters(const std::uint8_t* data, std::size_t size) {
  std::uint8_t flags;
  Reader r = open(data, size, ObjectType::Parameters, nullptr, flags);
  Parameters p;
  p.ring_degree = r.get<std::uint32_t>("ring degree");
  const std::uint32_t data_count = r.get<std::uint32_t>("data prime count");
  const std::uint32_t special_count = r.get<std::uint32_t>("special prime count");
  if (data_count == 0 || special_count == 0 || data_count + special_count > 64) {
    fail(ErrorCode::Deserialization, "prime counts out of range");
  }
  p.key_switch_digits = r.get<std::uint32_t>("digits");
  const std::uint8_t insecure = r.get<std::uint8_t>("security flag");
  if (insecure > 1) fail(ErrorCode::Deserialization, "invalid security flag");
  p.allow_insecure_for_tests_only = insecure == 1;
  for (std::uint32_t i = 0; i < data_count; ++i) p.data_primes.push_back(r.get<u64>("data prime"));
  for (std::uint32_t i = 0; i < special_count; ++i) p.special_primes.push_back(r.get<u64>("special prime"));
  if (flags & ~kFlagDigitSizes) fail(ErrorCode::Deserialization, "unknown parameter flags");
  if (flags & kFlagDigitSizes) {
    if (p.key_switch_digits == 0 || p.key_switch_digits > data_count) fail(ErrorCode::Deserialization, "digit count out of range");
    for (std::size_t d = 0; d < p.key_switch_digits; ++d) p.digit_sizes.push_back(r.get<std::uint32_t>("digit size"));
  }
  r.expect_end();
  try {
    validate_parameters(p);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::InsecureParameters) throw;
    fail(ErrorCode::Deserialization, std::string("invalid parameters: ") + e.what());
  }
  return p;
}

Bytes save(const Plaintext& pt) {
  Writer w(ObjectType::Plaintext, 0, pt.context->fingerprint());
  w.put<std::uint32_t>(static_cast<std::uint32_t>(pt.level));
  w.put<double>(pt.scale);
  w.put_words(pt.data.data(), pt.data.size());
  return w.finish();
}

Plaintext load_plaintext(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  std::uint8_t flags;
  Reader r = open(data, size, ObjectType::Plaintext, context.get(), flags);
  Plaintext pt;
  pt.context = context;
  pt.level = check_level(*context, r.get<std::uint32_t>("level"));
  pt.scale = check_scale(r.get<double>("scale"));
  pt.data = pt.context->allocate((pt.level + 1) * context->ring_degree());
  r.get_residues(*context, pt.data.data(), pt.level + 1, identity, "plaintext");
  r.expect_end();
  return pt;
}

Bytes save(const Ciphertext& ct) {
  Writer w(ObjectType::Ciphertext, ct.seeded ? kFlagSeeded : 0, ct.context->fingerprint());
  w.put<std::uint32_t>(static_cast<std::uint32_t>(ct.level));
  w.put<std::uint32_t>(static_cast<std::uint32_t>(ct.size));
  w.put<double>(ct.scale);
  if (ct.seeded) {
    w.put_words(ct.poly(0), ct.limbs() * ct.context->ring_degree());
    w.put_bytes(ct.seed.data(), ct.seed.size());
  } else {
    w.put_words(ct.data.data(), ct.data.size());
  }
  return w.finish();
}

Ciphertext load_ciphertext(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  std::uint8_t flags;
  Reader r = open(data, size, ObjectType::Ciphertext, context.get(), flags);
  if (flags & ~kFlagSeeded) fail(ErrorCode::Deserialization, "unknown ciphertext flags");
  Ciphertext ct;
  ct.context = context;
  ct.level = check_level(*context, r.get<std::uint32_t>("level"));
  ct.size = r.get<std::uint32_t>("size");
  if (ct.size != 2 && ct.size != 3) fail(ErrorCode::Deserialization, "ciphertext size must be 2 or 3");
  ct.scale = check_scale(r.get<double>("scale"));
  ct.seeded = (flags & kFlagSeeded) != 0;
  if (ct.seeded && ct.size != 2) fail(ErrorCode::Deserialization, "a seeded ciphertext must have size 2");
  const std::size_t poly_words = ct.limbs() * context->ring_degree();
  ct.data = ct.context->allocate(ct.size * poly_words);
  const std::size_t stored_polys = ct.seeded ? 1 : ct.size;
  for (std::size_t p = 0; p < stored_polys; ++p) r.get_residues(*context, ct.poly(p), ct.limbs(), identity, "ciphertext");
  if (ct.seeded) {
    r.get_bytes(ct.seed.data(), ct.seed.size(), "seed");
    expand_seeded_c1(ct);
  }
  r.expect_end();
  return ct;
}

Bytes save(const SecretKey& key) {
  Writer w(ObjectType::SecretKey, 0, key.context->fingerprint());
  w.put<std::uint32_t>(static_cast<std::uint32_t>(key.hamming_weight));
  w.put_words(key.data.data(), key.data.size());
  return w.finish();
}

SecretKey load_secret_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  std::uint8_t flags;
  Reader r = open(data, size, ObjectType::SecretKey, context.get(), flags);
  SecretKey key;
  key.context = context;
  key.hamming_weight = r.get<std::uint32_t>("Hamming weight");
  if (key.hamming_weight > context->ring_degree()) fail(ErrorCode::Deserialization, "Hamming weight exceeds N");
  key.data.resize(context->prime_count() * context->ring_degree());
  r.get_residues(*context, key.data.data(), context->prime_count(), identity, "secret key");
  r.expect_end();
  return key;
}

Bytes save(const PublicKey& key) {
  Writer w(ObjectType::PublicKey, 0, key.context->fingerprint());
  w.put_words(key.data.data(), key.data.size());
  return w.finish();
}

PublicKey load_public_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  std::uint8_t flags;
  Reader r = open(data, size, ObjectType::PublicKey, context.get(), flags);
  PublicKey key;
  key.context = context;
  const std::size_t limbs = context->prime_count(), n = context->ring_degree();
  key.data.resize(2 * limbs * n);
  r.get_residues(*context, key.data.data(), limbs, identity, "public key");
  r.get_residues(*context, key.data.data() + limbs * n, limbs, identity, "public key");
  r.expect_end();
  return key;
}

Bytes save(const RelinKey& key, bool seeded) {
  Writer w(ObjectType::RelinKey, static_cast<std::uint8_t>(kFlagKeyLevels | (seeded ? kFlagSeeded : 0)),
           key.key.context->fingerprint());
  write_switch_key(w, key.key, seeded);
  return w.finish();
}

namespace {
void check_key_flags(std::uint8_t flags) {
  if (flags & ~(kFlagSeeded | kFlagKeyLevels)) fail(ErrorCode::Deserialization, "unknown key flags");
  if ((flags & kFlagSeeded) && !(flags & kFlagKeyLevels)) fail(ErrorCode::Deserialization, "invalid key flags");
}
// Record tags of a Galois key set: an odd Galois element, or one of the sparse-secret keys.
constexpr u64 kTagToSparse = 0, kTagFromSparse = 2;
}  // namespace

RelinKey load_relin_key(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  std::uint8_t flags;
  Reader r = open(data, size, ObjectType::RelinKey, context.get(), flags);
  check_key_flags(flags);
  RelinKey key{read_switch_key(r, context, flags & kFlagKeyLevels, flags & kFlagSeeded, false)};
  r.expect_end();
  return key;
}

Bytes save(const GaloisKeys& keys, bool seeded) {
  Writer w(ObjectType::GaloisKeys, static_cast<std::uint8_t>(kFlagKeyLevels | (seeded ? kFlagSeeded : 0)),
           keys.context->fingerprint());
  const std::uint32_t count = static_cast<std::uint32_t>(keys.keys.size() + (keys.to_sparse ? 1 : 0) + (keys.from_sparse ? 1 : 0));
  w.put<std::uint32_t>(count);
  if (keys.to_sparse) {
    w.put<u64>(kTagToSparse);
    write_switch_key(w, *keys.to_sparse, seeded);
  }
  if (keys.from_sparse) {
    w.put<u64>(kTagFromSparse);
    write_switch_key(w, *keys.from_sparse, seeded);
  }
  for (const auto& [element, key] : keys.keys) {
    w.put<u64>(element);
    write_switch_key(w, *key, seeded);
  }
  return w.finish();
}

GaloisKeys load_galois_keys(const ContextPtr& context, const std::uint8_t* data, std::size_t size) {
  std::uint8_t flags;
  Reader r = open(data, size, ObjectType::GaloisKeys, context.get(), flags);
  check_key_flags(flags);
  const bool leveled = flags & kFlagKeyLevels, seeded = flags & kFlagSeeded;
  GaloisKeys keys;
  keys.context = context;
  const std::uint32_t count = r.get<std::uint32_t>("key count");
  if (count > context->ring_degree() + 2) fail(ErrorCode::Deserialization, "more Galois keys than Galois elements");
  bool first = true;
  u64 previous = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const u64 tag = r.get<u64>("Galois element");
    const bool sparse_key = leveled && (tag == kTagToSparse || tag == kTagFromSparse);
    if (!sparse_key && (tag % 2 == 0 || tag >= 2 * context->ring_degree() || tag == 1)) {
      fail(ErrorCode::Deserialization, "invalid Galois element " + std::to_string(tag));
    }
    if (!first && tag <= previous) fail(ErrorCode::Deserialization, "Galois elements must be stored in increasing order");
    first = false;
    previous = tag;
    KeySwitchKey read = read_switch_key(r, context, leveled, seeded, tag == kTagToSparse && sparse_key);
    if (!sparse_key) to_rotation_form(read, tag);
    auto key = std::make_shared<const KeySwitchKey>(std::move(read));
    if (tag == kTagToSparse && sparse_key) {
      keys.to_sparse = std::move(key);
    } else if (tag == kTagFromSparse && sparse_key) {
      keys.from_sparse = std::move(key);
    } else {
      keys.keys.emplace(tag, std::move(key));
    }
  }
  r.expect_end();
  return keys;
}

}  // namespace cipherlm
