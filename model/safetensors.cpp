// safetensors.cpp: see safetensors.h. The reader validates the header in one
// pass (JSON with duplicate-key detection, then each entry, then the layout of
// the data buffer); nothing is read from the buffer until a conversion asks.
#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this code reads it in place");

namespace sf::st {

namespace {

using json = nlohmann::json;

struct DTypeRow {
  DType type;
  const char* name;
  size_t size;
};

// The one table of dtype names and sizes.
constexpr std::array<DTypeRow, 15> kDTypes{{
    {DType::BOOL, "BOOL", 1},
    {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},
    {DType::U16, "U16", 2},
    {DType::I16, "I16", 2},
    {DType::U32, "U32", 4},
    {DType::I32, "I32", 4},
    {DType::U64, "U64", 8},
    {DType::I64, "I64", 8},
    {DType::F8_E4M3, "F8_E4M3", 1},
    {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},
}};

const DTypeRow& row(DType t) {
  for (const auto& r : kDTypes)
    if (r.type == t) return r;
  throw std::invalid_argument("safetensors: invalid DType value");
}

// Makes untrusted text safe and short for an error message.
std::string quote(std::string_view s) {
  constexpr size_t kMax = 120;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

const char* json_kind(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a non-integer number";
    default:
      return "an unexpected JSON value";
  }
}

// A JSON integer that is >= 0, as uint64.
std::optional<uint64_t> as_unsigned(const json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

size_t dtype_size(DType t) { return row(t).size; }
std::string_view dtype_name(DType t) { return row(t).name; }
std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& r : kDTypes)
    if (name == r.name) return r.type;
  return std::nullopt;
}
bool is_float_dtype(DType t) {
  return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F64;
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// ---- half / bfloat16 ------------------------------------------------------

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in fp32.
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t f32_to_f16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u;   // NaN (quiet)
  if (abs >= 0x477ff000u) return sign | 0x7c00u;  // rounds to +-inf (>= 65520)
  if (abs < 0x38800000u) {                        // below the smallest normal half
    const uint32_t exp = abs >> 23;
    if (exp < 102) return sign;  // under half the smallest subnormal (or fp32 subnormal)
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14..24
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t h = ((abs >> 23) - 112) << 10 | ((abs >> 13) & 0x3ffu);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

uint16_t f32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(rounded >> 16);
}

// ---- File -----------------------------------------------------------------

File::File(const std::string& path) : name_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path + ": cannot open: " + errno_text(errno));
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) {
    int e = errno;
    ::close(fd);
    throw IoError(path + ": cannot stat: " + errno_text(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    ::close(fd);
    throw IoError(path + ": not a regular file");
  }
  size_ = static_cast<uint64_t>(sb.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw IoError(path + ": cannot map: " + errno_text(e));
    }
    map_ = p;
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  try {
    parse();
  } catch (...) {
    release();
    throw;
  }
}

File::File(std::vector<uint8_t> bytes, std::string name)
    : name_(std::move(name)), owned_(std::move(bytes)) {
  data_ = owned_.data();
  size_ = owned_.size();
  parse();
}

File::~File() { release(); }

void File::release() noexcept {
  if (map_ != nullptr) ::munmap(map_, size_);
  map_ = nullptr;
  data_ = nullptr;
}

File::File(File&& o) noexcept { *this = std::move(o); }

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    release();
    name_ = std::move(o.name_);
    owned_ = std::move(o.owned_);  // moving keeps the buffer, so spans stay valid
    map_ = std::exchange(o.map_, nullptr);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    data_offset_ = o.data_offset_;
    metadata_ = std::move(o.metadata_);
    tensors_ = std::move(o.tensors_);
    index_ = std::move(o.index_);
  }
  return *this;
}

void File::parse() {
  auto fail = [&](const std::string& what) -> void { throw FormatError(name_ + ": " + what); };

  if (size_ < 8) {
    fail("file is " + std::to_string(size_) +
         " bytes, shorter than the 8-byte header length field (not a safetensors file?)");
  }
  uint64_t n = 0;
  std::memcpy(&n, data_, 8);
  if (n > kMaxHeaderBytes) {
    fail("header length " + std::to_string(n) + " bytes exceeds the cap of " +
         std::to_string(kMaxHeaderBytes) + " bytes (16 MiB); file is " + std::to_string(size_) +
         " bytes");
  }
  if (n > size_ - 8) {
    fail("header length " + std::to_string(n) + " bytes runs past the end of the file (" +
         std::to_string(size_) + " bytes, so at most " + std::to_string(size_ - 8) +
         " header bytes); truncated file?");
  }
  data_offset_ = 8 + n;
  const uint64_t buffer_size = size_ - data_offset_;
  const char* hdr = reinterpret_cast<const char*>(data_ + 8);

  // Parse, recording the first duplicate key at any depth (nlohmann would keep
  // only one of them silently).
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  json root;
  try {
    root = json::parse(hdr, hdr + n, [&](int /*depth*/, json::parse_event_t ev, json& parsed) {
      if (ev == json::parse_event_t::object_start) {
        open_objects.emplace_back();
      } else if (ev == json::parse_event_t::object_end) {
        if (!open_objects.empty()) open_objects.pop_back();
      } else if (ev == json::parse_event_t::key && !open_objects.empty()) {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!open_objects.back().insert(key).second && !duplicate) duplicate = key;
      }
      return true;
    });
  } catch (const json::exception& e) {
    fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (duplicate) fail("header has a duplicate key " + quote(*duplicate));
  if (!root.is_object()) fail(std::string("header is ") + json_kind(root) + ", not a JSON object");

  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail(std::string("__metadata__ is ") + json_kind(v) + ", not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) {
          fail("metadata value for key " + quote(m.key()) + " is " + json_kind(m.value()) +
               ", not a string");
        }
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor " + quote(key);
    if (key.empty()) fail("a tensor has an empty name");
    if (!v.is_object()) fail(where + ": entry is " + json_kind(v) + ", not an object");
    for (auto f = v.begin(); f != v.end(); ++f) {
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        fail(where + ": unexpected field " + quote(f.key()));
    }
    TensorInfo t;
    t.name = key;

    auto d = v.find("dtype");
    if (d == v.end()) fail(where + ": missing \"dtype\"");
    if (!d->is_string()) fail(where + ": dtype is " + json_kind(*d) + ", not a string");
    auto dt = parse_dtype(d->get_ref<const std::string&>());
    if (!dt) fail(where + ": unknown dtype " + quote(d->get_ref<const std::string&>()));
    t.dtype = *dt;

    auto s = v.find("shape");
    if (s == v.end()) fail(where + ": missing \"shape\"");
    if (!s->is_array()) fail(where + ": shape is " + json_kind(*s) + ", not an array");
    uint64_t numel = 1;
    for (size_t i = 0; i < s->size(); ++i) {
      const json& dim = (*s)[i];
      if (dim.is_number_integer() && !dim.is_number_unsigned() && dim.get<int64_t>() < 0) {
        fail(where + ": shape dimension " + std::to_string(i) + " is negative (" +
             std::to_string(dim.get<int64_t>()) + ")");
      }
      auto u = as_unsigned(dim);
      if (!u) {
        fail(where + ": shape dimension " + std::to_string(i) + " is " + json_kind(dim) +
             ", not a non-negative integer");
      }
      if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          __builtin_mul_overflow(numel, *u, &numel) ||
          numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail(where + ": shape element count overflows 64 bits");
      }
      t.shape.push_back(static_cast<int64_t>(*u));
    }
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(t.dtype)), &nbytes))
      fail(where + ": shape byte size overflows 64 bits");

    auto o = v.find("data_offsets");
    if (o == v.end()) fail(where + ": missing \"data_offsets\"");
    if (!o->is_array() || o->size() != 2)
      fail(where + ": data_offsets is not an array of two integers");
    auto b = as_unsigned((*o)[0]);
    auto e = as_unsigned((*o)[1]);
    if (!b || !e) fail(where + ": data_offsets are not non-negative integers");
    t.begin = *b;
    t.end = *e;
    const std::string offsets =
        "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.begin > t.end) fail(where + ": " + offsets + " have begin > end");
    if (t.end > buffer_size) {
      fail(where + ": " + offsets + " run past the end of the data buffer (" +
           std::to_string(buffer_size) + " bytes); truncated file?");
    }
    if (t.end - t.begin != nbytes) {
      fail(where + ": byte size " + std::to_string(t.end - t.begin) +
           " does not match shape and dtype (" + std::to_string(numel) + " elements of " +
           std::string(dtype_name(t.dtype)) + " = " + std::to_string(nbytes) + " bytes)");
    }
    t.bytes = std::span<const std::byte>(
        reinterpret_cast<const std::byte*>(data_ + data_offset_ + t.begin), nbytes);
    tensors_.push_back(std::move(t));
  }

  std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& x, const TensorInfo& y) {
    return std::tie(x.begin, x.end, x.name) < std::tie(y.begin, y.end, y.name);
  });
  // Gaps are tolerated; shared bytes are not. Empty tensors own no bytes.
  const TensorInfo* last = nullptr;
  for (const auto& t : tensors_) {
    if (t.begin == t.end) continue;
    if (last != nullptr && t.begin < last->end) {
      fail("tensors " + quote(last->name) + " [" + std::to_string(last->begin) + ", " +
           std::to_string(last->end) + ") and " + quote(t.name) + " [" + std::to_string(t.begin) +
           ", " + std::to_string(t.end) + ") overlap");
    }
    if (last == nullptr || t.end > last->end) last = &t;
  }
  for (size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
}

const TensorInfo* File::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::vector<float> File::to_f32(std::string_view name) const {
  const TensorInfo* t = find(name);
  if (t == nullptr) throw FormatError(name_ + ": no tensor named " + quote(name));
  return to_f32(*t);
}

std::vector<float> File::to_f32(const TensorInfo& t) {
  const size_t n = static_cast<size_t>(t.numel());
  std::vector<float> out(n);
  const std::byte* src = t.bytes.data();
  switch (t.dtype) {
    case DType::F32:
      if (n > 0) std::memcpy(out.data(), src, n * 4);
      break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    default:
      throw std::invalid_argument("tensor " + quote(t.name) + " has dtype " +
                                  std::string(dtype_name(t.dtype)) +
                                  "; only F16, BF16, F32 and F64 convert to fp32");
  }
  return out;
}

// ---- Writer ---------------------------------------------------------------

void Writer::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                 std::vector<uint8_t> bytes) {
  if (name.empty() || name == "__metadata__")
    throw std::invalid_argument("safetensors writer: invalid tensor name " + quote(name));
  for (const auto& e : entries_)
    if (e.name == name)
      throw std::invalid_argument("safetensors writer: duplicate tensor " + quote(name));
  uint64_t numel = 1;
  for (auto d : shape) {
    if (d < 0 || __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel))
      throw std::invalid_argument("safetensors writer: bad shape for " + quote(name));
  }
  if (numel * dtype_size(dtype) != bytes.size()) {
    throw std::invalid_argument("safetensors writer: tensor " + quote(name) + " has " +
                                std::to_string(bytes.size()) + " bytes, shape needs " +
                                std::to_string(numel * dtype_size(dtype)));
  }
  entries_.push_back(Entry{name, dtype, std::move(shape), std::move(bytes)});
}

void Writer::add_f32(const std::string& name, DType dtype, std::vector<int64_t> shape,
                     std::span<const float> values) {
  std::vector<uint8_t> bytes(values.size() * dtype_size(dtype));
  switch (dtype) {
    case DType::F32:
      if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
      break;
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < values.size(); ++i) {
        const float v = values[i];
        const uint16_t h = dtype == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
        const float back = dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
        if (std::isfinite(v) && !std::isfinite(back)) {
          throw std::invalid_argument("safetensors writer: tensor " + quote(name) + " value " +
                                      std::to_string(v) + " overflows " +
                                      std::string(dtype_name(dtype)));
        }
        std::memcpy(bytes.data() + 2 * i, &h, 2);
      }
      break;
    default:
      throw std::invalid_argument("safetensors writer: add_f32 cannot store " +
                                  std::string(dtype_name(dtype)));
  }
  add(name, dtype, std::move(shape), std::move(bytes));
}

void Writer::set_metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

namespace {

// The 8-byte length plus the header, padded with spaces so that the data
// buffer starts at a multiple of kDataAlignment.
std::string padded_header(const json& header) {
  std::string text;
  try {
    text = header.dump();
  } catch (const json::type_error& e) {
    throw std::invalid_argument(
        std::string("safetensors writer: a tensor name or metadata string is not valid UTF-8 (") +
        e.what() + ")");
  }
  if (text.size() + kDataAlignment > kMaxHeaderBytes)
    throw std::invalid_argument("safetensors writer: header would exceed the 16 MiB cap");
  const uint64_t unpadded = 8 + text.size();
  const uint64_t padded = (unpadded + kDataAlignment - 1) / kDataAlignment * kDataAlignment;
  text.append(padded - unpadded, ' ');
  const uint64_t n = text.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + text;
}

}  // namespace

std::string Writer::header_image() const {
  json header = json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const auto& e : entries_) {
    header[e.name] = {{"dtype", std::string(dtype_name(e.dtype))},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  return padded_header(header);
}

std::vector<uint8_t> Writer::to_bytes() const {
  const std::string head = header_image();
  std::vector<uint8_t> out(head.begin(), head.end());
  for (const auto& e : entries_) out.insert(out.end(), e.bytes.begin(), e.bytes.end());
  return out;
}

void Writer::write(const std::string& path) const {
  const std::string head = header_image();

  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw IoError(path + ": cannot create a temporary file: " + errno_text(errno));
  auto write_all = [&](const void* p, size_t len) {
    const char* c = static_cast<const char*>(p);
    while (len > 0) {
      ssize_t w = ::write(fd, c, len);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      c += w;
      len -= static_cast<size_t>(w);
    }
    return true;
  };
  bool ok = ::fchmod(fd, 0644) == 0 && write_all(head.data(), head.size());
  for (size_t i = 0; ok && i < entries_.size(); ++i)
    ok = write_all(entries_[i].bytes.data(), entries_[i].bytes.size());
  ok = ok && ::fsync(fd) == 0;
  int e = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    throw IoError(path + ": cannot write: " + errno_text(e));
  }
  // Make the rename itself durable (best effort: some filesystems refuse).
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace sf::st
