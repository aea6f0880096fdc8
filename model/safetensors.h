// safetensors.h: reads and writes the safetensors container format.
//
// What it does: a safetensors file is an 8-byte little-endian header length N,
// N bytes of JSON header (tensor name -> dtype, shape, data_offsets; plus an
// optional "__metadata__" object of string -> string), then the data buffer.
// `File` maps a file read-only (or wraps bytes in memory, for tests) and
// validates the whole header up front; `Writer` builds one and writes it
// atomically (temporary file in the same directory, then rename).
// Promises: once a `File` is constructed, every tensor it lists has a known
// dtype, a shape whose element count matches its byte size, a byte span inside
// the data buffer, and no two tensors share a byte; names are unique.
// Conversions never assume alignment (they copy through memcpy).
// Failure: a malformed file throws `FormatError` naming the file and the exact
// problem (the file's fault). A file that cannot be opened or mapped, or
// written, throws `IoError` (the environment's fault). Misuse of the API (a
// `Writer::add` whose byte count does not match its shape, a conversion
// asked of a dtype that is not floating point) throws std::invalid_argument
// (the caller's bug).
// Limits: the header may be at most `kMaxHeaderBytes` (16 MiB). The host must
// be little-endian (checked at compile time). A mapped file must not be
// truncated by another process while a `File` maps it (the kernel would then
// raise SIGBUS on access); `Writer::write` replaces files by rename, which
// leaves existing mappings intact.
// Threads: a constructed `File` is immutable; concurrent reads are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sf::st {

struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr uint64_t kMaxHeaderBytes = 16ull << 20;
// The writer pads the header with spaces so the data buffer starts at a
// multiple of this many bytes from the start of the file.
inline constexpr uint64_t kDataAlignment = 64;

enum class DType {
  BOOL,
  U8,
  I8,
  U16,
  I16,
  U32,
  I32,
  U64,
  I64,
  F8_E4M3,
  F8_E5M2,
  F16,
  BF16,
  F32,
  F64
};

// Size of one element in bytes.
size_t dtype_size(DType t);
// The name as written in the header ("F32", "BF16", ...).
std::string_view dtype_name(DType t);
// Parses a header dtype name; nullopt when unknown.
std::optional<DType> parse_dtype(std::string_view name);
// True for the dtypes `to_f32` converts: F16, BF16, F32, F64.
bool is_float_dtype(DType t);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets relative to the start of the data buffer
  uint64_t end = 0;
  std::span<const std::byte> bytes;  // points into the File; valid while it lives

  int64_t numel() const;
};

class File {
 public:
  // Maps `path` read-only (MAP_PRIVATE) and validates its header.
  explicit File(const std::string& path);
  // Validates `bytes` (a whole file image); `name` is used in error messages.
  File(std::vector<uint8_t> bytes, std::string name);
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& name() const { return name_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // All tensors, in the order of their offsets in the data buffer.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr when no tensor has that name.
  const TensorInfo* find(std::string_view name) const;
  // Copies a floating-point tensor (F16, BF16, F32, F64) to fp32.
  // Throws FormatError if absent, std::invalid_argument for other dtypes.
  std::vector<float> to_f32(std::string_view name) const;
  static std::vector<float> to_f32(const TensorInfo& t);

  // Offset of the data buffer from the start of the file (8 + header length).
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }

 private:
  void parse();
  void release() noexcept;

  std::string name_;
  std::vector<uint8_t> owned_;  // in-memory image, when not mapped
  void* map_ = nullptr;         // mmap base, when mapped
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t data_offset_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

class Writer {
 public:
  // Adds a tensor; `bytes` must hold exactly numel * dtype_size bytes
  // (little-endian). Throws std::invalid_argument on a bad name, a duplicate,
  // a negative dim or a size mismatch.
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape,
           std::vector<uint8_t> bytes);
  // Convenience: stores fp32 values as F32, F16 or BF16 (round to nearest
  // even). Throws std::invalid_argument if a finite value overflows F16.
  void add_f32(const std::string& name, DType dtype, std::vector<int64_t> shape,
               std::span<const float> values);
  void set_metadata(const std::string& key, const std::string& value);

  // The complete file image.
  std::vector<uint8_t> to_bytes() const;
  // Writes to a temporary file beside `path`, fsyncs, renames over `path`.
  // Throws IoError; std::invalid_argument for a name or metadata string that
  // is not valid UTF-8 or a header over the cap.
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::string header_image() const;  // length field + padded JSON header

  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// IEEE half and bfloat16 conversions (round to nearest even when narrowing).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);

}  // namespace sf::st
