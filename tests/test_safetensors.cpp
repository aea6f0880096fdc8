// test_safetensors.cpp: the safetensors reader and writer (model/safetensors.h).
// Every refusal is pinned down by its own test with a crafted in-memory file,
// asserting that the error names the file and says what is wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace st = sf::st;
namespace fs = std::filesystem;

namespace {

constexpr const char* kName = "crafted.safetensors";

// A file image: length field, header text, then `buffer` bytes.
std::vector<uint8_t> image(const std::string& header, const std::string& buffer = "") {
  std::vector<uint8_t> out(8);
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), buffer.begin(), buffer.end());
  return out;
}

// The FormatError message for `bytes`, or "" when it is accepted.
std::string error_of(std::vector<uint8_t> bytes) {
  try {
    st::File f(std::move(bytes), kName);
  } catch (const st::FormatError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(bytes, needle)                                       \
  do {                                                                      \
    const std::string msg_ = error_of(bytes);                               \
    EXPECT_NE(msg_.find(kName), std::string::npos) << "message: " << msg_;  \
    EXPECT_NE(msg_.find(needle), std::string::npos) << "message: " << msg_; \
  } while (0)

std::string tensor(const std::string& name, const std::string& dtype, const std::string& shape,
                   uint64_t begin, uint64_t end) {
  return "\"" + name + "\": {\"dtype\": \"" + dtype + "\", \"shape\": " + shape +
         ", \"data_offsets\": [" + std::to_string(begin) + ", " + std::to_string(end) + "]}";
}

std::vector<uint8_t> u16_bytes(const std::vector<uint16_t>& v) {
  std::vector<uint8_t> b(v.size() * 2);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A temporary directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() / ("sf_st_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// ---- acceptance and round trips -------------------------------------------

TEST(SafetensorsWriter, RoundTripInMemoryKeepsTensorsMetadataAndOrder) {
  st::Writer w;
  w.add_f32("b", st::DType::F32, {2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  w.add("a", st::DType::U8, {3}, {7, 8, 9});
  w.add_f32("empty", st::DType::F32, {0, 4}, std::vector<float>{});
  w.set_metadata("k", "v");
  w.set_metadata("json", "{\"x\": [1, 2]}");
  st::File f(w.to_bytes(), kName);

  EXPECT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata().at("k"), "v");
  EXPECT_EQ(f.metadata().at("json"), "{\"x\": [1, 2]}");
  ASSERT_EQ(f.tensors().size(), 3u);
  const st::TensorInfo* b = f.find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, st::DType::F32);
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.to_f32("b"), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const st::TensorInfo* a = f.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->bytes.size(), 3u);
  EXPECT_EQ(static_cast<int>(a->bytes[2]), 9);
  EXPECT_EQ(f.find("empty")->numel(), 0);
  EXPECT_EQ(f.find("missing"), nullptr);
  // tensors() is ordered by offset: the writer lays them out in add order.
  EXPECT_EQ(f.tensors()[0].name, "b");
  EXPECT_EQ(f.tensors()[1].name, "a");
}

TEST(SafetensorsWriter, DataBufferStartsAligned) {
  for (int len = 1; len < 70; ++len) {
    st::Writer w;
    w.add(std::string(static_cast<size_t>(len), 'x'), st::DType::U8, {1}, {42});
    st::File f(w.to_bytes(), kName);
    EXPECT_EQ(f.data_offset() % st::kDataAlignment, 0u) << "name length " << len;
    EXPECT_EQ(static_cast<int>(f.find(std::string(static_cast<size_t>(len), 'x'))->bytes[0]), 42);
  }
}

TEST(SafetensorsWriter, WritesAtomicallyToPathAndFileMapsIt) {
  TempDir dir;
  const std::string path = (dir.path / "t.safetensors").string();
  { std::ofstream(path) << "old contents"; }
  st::Writer w;
  w.add_f32("x", st::DType::F32, {4}, std::vector<float>{0.5f, -1.0f, 3.25f, 1e-30f});
  w.set_metadata("m", "1");
  w.write(path);
  // Only the target is left behind (the temporary file was renamed).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++entries;
  EXPECT_EQ(entries, 1);
  st::File f(path);
  EXPECT_EQ(f.name(), path);
  EXPECT_EQ(f.file_size(), fs::file_size(path));
  EXPECT_EQ(f.to_f32("x"), (std::vector<float>{0.5f, -1.0f, 3.25f, 1e-30f}));
  EXPECT_EQ(f.metadata().at("m"), "1");
  // Moving a File keeps its spans valid.
  st::File g = std::move(f);
  EXPECT_EQ(g.to_f32("x")[2], 3.25f);
}

TEST(SafetensorsWriter, WriteIntoMissingDirectoryThrowsIoError) {
  st::Writer w;
  w.add("x", st::DType::U8, {1}, {1});
  EXPECT_THROW(w.write("/nonexistent-dir-for-sf-test/x.safetensors"), st::IoError);
}

TEST(SafetensorsWriter, RefusesSizeMismatchDuplicateAndBadNames) {
  st::Writer w;
  EXPECT_THROW(w.add("x", st::DType::F32, {2}, {1, 2, 3}), std::invalid_argument);
  EXPECT_THROW(w.add("x", st::DType::F32, {-1}, {}), std::invalid_argument);
  EXPECT_THROW(w.add("", st::DType::U8, {1}, {1}), std::invalid_argument);
  EXPECT_THROW(w.add("__metadata__", st::DType::U8, {1}, {1}), std::invalid_argument);
  w.add("x", st::DType::U8, {1}, {1});
  EXPECT_THROW(w.add("x", st::DType::U8, {1}, {1}), std::invalid_argument);
}

TEST(SafetensorsWriter, AddF32ToF16RefusesOverflowButKeepsInfinity) {
  st::Writer w;
  EXPECT_THROW(w.add_f32("x", st::DType::F16, {1}, std::vector<float>{70000.0f}),
               std::invalid_argument);
  w.add_f32("y", st::DType::F16, {2},
            std::vector<float>{std::numeric_limits<float>::infinity(), 65504.0f});
  st::File f(w.to_bytes(), kName);
  EXPECT_TRUE(std::isinf(f.to_f32("y")[0]));
  EXPECT_EQ(f.to_f32("y")[1], 65504.0f);
}

TEST(SafetensorsReader, AcceptsGapsTrailingBytesAndEmptyTensors) {
  const std::string hdr = "{" + tensor("a", "U8", "[2]", 4, 6) + ", " +
                          tensor("e", "F32", "[0]", 5, 5) + ", " + tensor("b", "U8", "[1]", 8, 9) +
                          "}";
  st::File f(image(hdr, std::string(16, 'z')), kName);
  EXPECT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.find("b")->begin, 8u);
}

TEST(SafetensorsReader, AcceptsHeaderPaddedWithSpacesAndNoMetadata) {
  st::File f(image("{" + tensor("a", "U8", "[1]", 0, 1) + "}     ", "q"), kName);
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_EQ(static_cast<char>(f.find("a")->bytes[0]), 'q');
}

TEST(SafetensorsReader, ConvertsF32AtAnUnalignedOffset) {
  std::string buf(1, '\0');
  const float v[2] = {1.5f, -7.25f};
  buf.append(reinterpret_cast<const char*>(v), 8);
  const std::string hdr = "{" + tensor("x", "F32", "[2]", 1, 9) + "}";  // odd header length too
  st::File f(image(hdr, buf), kName);
  EXPECT_EQ(f.to_f32("x"), (std::vector<float>{1.5f, -7.25f}));
}

// ---- conversions ----------------------------------------------------------

TEST(SafetensorsConvert, F16ToF32KnownValues) {
  st::Writer w;
  w.add("h", st::DType::F16, {9},
        u16_bytes({0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000}));
  w.add("nan", st::DType::F16, {1}, u16_bytes({0x7e00}));
  st::File f(w.to_bytes(), kName);
  const auto v = f.to_f32("h");
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[2], 0.5f);
  EXPECT_EQ(v[3], 65504.0f);
  EXPECT_EQ(v[4], std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(v[5], std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(v[6], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[7], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[8], 0.0f);
  EXPECT_TRUE(std::signbit(v[8]));
  EXPECT_TRUE(std::isnan(f.to_f32("nan")[0]));
}

TEST(SafetensorsConvert, BF16ToF32KnownValues) {
  st::Writer w;
  w.add("b", st::DType::BF16, {4}, u16_bytes({0x3f80, 0xc040, 0x4049, 0x7f80}));
  st::File f(w.to_bytes(), kName);
  const auto v = f.to_f32("b");
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -3.0f);
  EXPECT_EQ(v[2], 3.140625f);
  EXPECT_TRUE(std::isinf(v[3]));
}

TEST(SafetensorsConvert, F64ToF32) {
  const double d[3] = {0.25, -1e10, 3.0};
  std::vector<uint8_t> b(24);
  std::memcpy(b.data(), d, 24);
  st::Writer w;
  w.add("d", st::DType::F64, {3}, b);
  st::File f(w.to_bytes(), kName);
  EXPECT_EQ(f.to_f32("d"), (std::vector<float>{0.25f, -1e10f, 3.0f}));
}

TEST(SafetensorsConvert, NonFloatDtypeAndMissingNameAreRefused) {
  st::Writer w;
  w.add("i", st::DType::I64, {1}, std::vector<uint8_t>(8, 0));
  st::File f(w.to_bytes(), kName);
  EXPECT_THROW(f.to_f32("i"), std::invalid_argument);
  EXPECT_THROW(f.to_f32("nope"), st::FormatError);
}

TEST(SafetensorsConvert, F16RoundTripsEveryNonNaNHalfExactly) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = st::f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(st::f16_to_f32(st::f32_to_f16(f))));
      continue;
    }
    ASSERT_EQ(st::f32_to_f16(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(SafetensorsConvert, F32ToF16RoundsToNearestEven) {
  EXPECT_EQ(st::f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> even (down)
  EXPECT_EQ(st::f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(st::f32_to_f16(1.0f + std::ldexp(1.2f, -11)), 0x3c01);      // above the tie
  EXPECT_EQ(st::f32_to_f16(65519.0f), 0x7bff);                          // below the inf tie
  EXPECT_EQ(st::f32_to_f16(65520.0f), 0x7c00);                          // tie -> inf
  EXPECT_EQ(st::f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);             // subnormal tie -> 0
  EXPECT_EQ(st::f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(st::f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp tie -> even (2)
  EXPECT_EQ(st::f32_to_f16(-std::ldexp(1.0f, -30)), 0x8000);
  EXPECT_EQ(st::f32_to_f16(std::ldexp(1023.5f, -24)), 0x0400);  // rounds up into normals
  EXPECT_EQ(st::f32_to_f16(-0.0f), 0x8000);
}

TEST(SafetensorsConvert, F32ToBF16RoundsToNearestEven) {
  EXPECT_EQ(st::f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(st::f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(st::f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie -> even
  EXPECT_EQ(st::f32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(st::bf16_to_f32(st::f32_to_bf16(std::nanf("")))));
}

// ---- refusals, one per problem ---------------------------------------------

TEST(SafetensorsRefuses, EmptyFile) { EXPECT_REFUSED({}, "shorter than the 8-byte"); }

TEST(SafetensorsRefuses, FileShorterThan8Bytes) {
  EXPECT_REFUSED(std::vector<uint8_t>(7, 0), "7 bytes, shorter than the 8-byte");
}

TEST(SafetensorsRefuses, HeaderLengthPastEndOfFile) {
  auto bytes = image("{}");
  const uint64_t n = 100;
  std::memcpy(bytes.data(), &n, 8);
  EXPECT_REFUSED(bytes, "header length 100 bytes runs past the end of the file");
}

TEST(SafetensorsRefuses, HeaderLongerThanCap) {
  std::string hdr = "{}";
  hdr.resize(st::kMaxHeaderBytes + 1, ' ');  // valid JSON, present in full, one byte too long
  EXPECT_REFUSED(image(hdr), "exceeds the cap");
}

TEST(SafetensorsRefuses, HugeHeaderLength) {
  auto bytes = image("{}");
  const uint64_t n = ~0ull;
  std::memcpy(bytes.data(), &n, 8);
  EXPECT_REFUSED(bytes, "exceeds the cap");
}

TEST(SafetensorsRefuses, HeaderNotValidJson) {
  EXPECT_REFUSED(image("{\"a\": {\"dtype\": "), "header is not valid JSON");
}

TEST(SafetensorsRefuses, HeaderWithTrailingGarbage) {
  EXPECT_REFUSED(image("{} x"), "header is not valid JSON");
}

TEST(SafetensorsRefuses, HeaderNotAnObject) {
  EXPECT_REFUSED(image("[1, 2]"), "header is an array, not a JSON object");
}

TEST(SafetensorsRefuses, TensorEntryNotAnObject) {
  EXPECT_REFUSED(image("{\"w\": 5}"), "tensor 'w': entry is an integer, not an object");
}

TEST(SafetensorsRefuses, DtypeNotAString) {
  EXPECT_REFUSED(image("{\"w\": {\"dtype\": 4, \"shape\": [1], \"data_offsets\": [0, 4]}}",
                       std::string(4, '\0')),
                 "tensor 'w': dtype is an integer, not a string");
}

TEST(SafetensorsRefuses, MissingDtype) {
  EXPECT_REFUSED(image("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", "abcd"),
                 "tensor 'w': missing \"dtype\"");
}

TEST(SafetensorsRefuses, MissingShape) {
  EXPECT_REFUSED(image("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", "abcd"),
                 "tensor 'w': missing \"shape\"");
}

TEST(SafetensorsRefuses, MissingDataOffsets) {
  EXPECT_REFUSED(image("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", "abcd"),
                 "tensor 'w': missing \"data_offsets\"");
}

TEST(SafetensorsRefuses, ShapeNotAnArray) {
  EXPECT_REFUSED(image("{" + tensor("w", "F32", "\"4\"", 0, 4) + "}", "abcd"),
                 "tensor 'w': shape is a string, not an array");
}

TEST(SafetensorsRefuses, DataOffsetsNotTwoIntegers) {
  EXPECT_REFUSED(
      image("{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1, 2]}}", "ab"),
      "data_offsets is not an array of two integers");
  EXPECT_REFUSED(
      image("{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [\"0\", 1]}}", "ab"),
      "data_offsets are not non-negative integers");
  EXPECT_REFUSED(
      image("{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [-1, 0]}}", "ab"),
      "data_offsets are not non-negative integers");
}

TEST(SafetensorsRefuses, UnexpectedFieldInTensorEntry) {
  EXPECT_REFUSED(image("{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1], "
                       "\"strides\": [1]}}",
                       "a"),
                 "tensor 'w': unexpected field 'strides'");
}

TEST(SafetensorsRefuses, MetadataNotAnObject) {
  EXPECT_REFUSED(image("{\"__metadata__\": [\"a\"]}"), "__metadata__ is an array, not an object");
}

TEST(SafetensorsRefuses, MetadataValueNotAString) {
  EXPECT_REFUSED(image("{\"__metadata__\": {\"ok\": \"1\", \"layers\": 6}}"),
                 "metadata value for key 'layers' is an integer, not a string");
}

TEST(SafetensorsRefuses, MetadataValueNested) {
  EXPECT_REFUSED(image("{\"__metadata__\": {\"p\": {\"x\": \"y\"}}}"),
                 "metadata value for key 'p' is an object, not a string");
}

TEST(SafetensorsRefuses, UnknownDtype) {
  EXPECT_REFUSED(image("{" + tensor("w", "F13", "[1]", 0, 4) + "}", "abcd"),
                 "tensor 'w': unknown dtype 'F13'");
}

TEST(SafetensorsRefuses, NegativeDimension) {
  EXPECT_REFUSED(image("{" + tensor("w", "F32", "[2, -3]", 0, 4) + "}", "abcd"),
                 "tensor 'w': shape dimension 1 is negative (-3)");
}

TEST(SafetensorsRefuses, NonIntegerDimension) {
  EXPECT_REFUSED(image("{" + tensor("w", "F32", "[1.5]", 0, 4) + "}", "abcd"),
                 "shape dimension 0 is a non-integer number");
}

TEST(SafetensorsRefuses, ShapeElementCountOverflow) {
  EXPECT_REFUSED(image("{" + tensor("w", "U8", "[4294967296, 4294967296]", 0, 4) + "}", "abcd"),
                 "tensor 'w': shape element count overflows 64 bits");
}

TEST(SafetensorsRefuses, ShapeByteSizeOverflow) {
  EXPECT_REFUSED(image("{" + tensor("w", "F32", "[4611686018427387904]", 0, 4) + "}", "abcd"),
                 "tensor 'w': shape byte size overflows 64 bits");
}

TEST(SafetensorsRefuses, DimensionBeyondInt64) {
  EXPECT_REFUSED(image("{" + tensor("w", "U8", "[18446744073709551615]", 0, 4) + "}", "abcd"),
                 "overflows 64 bits");
}

TEST(SafetensorsRefuses, ByteSizeNotNumelTimesDtypeSize) {
  EXPECT_REFUSED(image("{" + tensor("w", "F32", "[2]", 0, 4) + "}", "abcd"),
                 "tensor 'w': byte size 4 does not match shape and dtype (2 elements of F32 = 8 "
                 "bytes)");
}

TEST(SafetensorsRefuses, OffsetsPastEndOfBuffer) {
  EXPECT_REFUSED(image("{" + tensor("w", "F32", "[2]", 0, 8) + "}", "abcd"),
                 "tensor 'w': data_offsets [0, 8] run past the end of the data buffer (4 bytes)");
}

TEST(SafetensorsRefuses, BeginGreaterThanEnd) {
  EXPECT_REFUSED(image("{" + tensor("w", "U8", "[1]", 3, 2) + "}", "abcd"),
                 "tensor 'w': data_offsets [3, 2] have begin > end");
}

TEST(SafetensorsRefuses, OverlappingTensors) {
  const std::string hdr =
      "{" + tensor("a", "F32", "[2]", 0, 8) + ", " + tensor("b", "F32", "[2]", 4, 12) + "}";
  EXPECT_REFUSED(image(hdr, std::string(12, '\0')), "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
}

TEST(SafetensorsRefuses, TensorInsideAnother) {
  const std::string hdr = "{" + tensor("big", "U8", "[10]", 0, 10) + ", " +
                          tensor("x", "U8", "[2]", 2, 4) + ", " + tensor("y", "U8", "[2]", 6, 8) +
                          "}";
  EXPECT_REFUSED(image(hdr, std::string(10, '\0')), "overlap");
}

TEST(SafetensorsRefuses, SameOffsetsTwice) {
  const std::string hdr =
      "{" + tensor("a", "U8", "[4]", 0, 4) + ", " + tensor("b", "U8", "[4]", 0, 4) + "}";
  EXPECT_REFUSED(image(hdr, "abcd"), "overlap");
}

TEST(SafetensorsRefuses, DuplicateTensorNames) {
  const std::string hdr =
      "{" + tensor("w", "U8", "[1]", 0, 1) + ", " + tensor("w", "U8", "[1]", 1, 2) + "}";
  EXPECT_REFUSED(image(hdr, "ab"), "duplicate key 'w'");
}

TEST(SafetensorsRefuses, DuplicateFieldInsideTensorEntry) {
  EXPECT_REFUSED(image("{\"w\": {\"dtype\": \"U8\", \"dtype\": \"F32\", \"shape\": [1], "
                       "\"data_offsets\": [0, 1]}}",
                       "a"),
                 "duplicate key 'dtype'");
}

TEST(SafetensorsRefuses, DuplicateMetadataKey) {
  EXPECT_REFUSED(image("{\"__metadata__\": {\"k\": \"1\", \"k\": \"2\"}}"), "duplicate key 'k'");
}

TEST(SafetensorsRefuses, EmptyTensorName) {
  EXPECT_REFUSED(image("{" + tensor("", "U8", "[1]", 0, 1) + "}", "a"), "empty name");
}

TEST(SafetensorsRefuses, UnprintableNameIsEscapedInMessage) {
  const std::string msg = error_of(image("{" + tensor("a\\u0007b", "F13", "[1]", 0, 4) + "}"));
  EXPECT_NE(msg.find("'a\\x07b'"), std::string::npos) << msg;
}

TEST(SafetensorsRefuses, DeeplyNestedHeaderWithoutCrashing) {
  const size_t depth = 1 << 20;
  EXPECT_REFUSED(image(std::string(depth, '[') + std::string(depth, ']')),
                 "header is an array, not a JSON object");
  EXPECT_REFUSED(image("{\"w\": " + std::string(depth, '[') + std::string(depth, ']') + "}"),
                 "tensor 'w': entry is an array");
}

TEST(SafetensorsRefuses, InvalidUtf8InHeader) {
  EXPECT_REFUSED(
      image("{\"w\xff\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", "a"),
      "header is not valid JSON");
}

TEST(SafetensorsWriter, RefusesNamesThatAreNotUtf8) {
  st::Writer w;
  w.add("bad\xff", st::DType::U8, {1}, {1});
  EXPECT_THROW(w.to_bytes(), std::invalid_argument);
  st::Writer m;
  m.set_metadata("k", "\xc3");
  EXPECT_THROW(m.to_bytes(), std::invalid_argument);
}

TEST(SafetensorsRefuses, EveryTruncationOfAValidFile) {
  st::Writer w;
  w.add_f32("x", st::DType::F32, {3}, std::vector<float>{1, 2, 3});
  w.add_f32("y", st::DType::F16, {2}, std::vector<float>{4, 5});
  w.set_metadata("k", "v");
  const auto full = w.to_bytes();
  ASSERT_EQ(error_of(full), "");
  for (size_t len = 0; len < full.size(); ++len) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(len));
    const std::string msg = error_of(cut);
    EXPECT_NE(msg, "") << "truncated to " << len << " bytes was accepted";
  }
  // Specific messages at the interesting cut points.
  std::vector<uint8_t> cut(full.begin(), full.end() - 1);
  EXPECT_REFUSED(cut, "run past the end of the data buffer");
  cut.assign(full.begin(), full.begin() + 20);
  EXPECT_REFUSED(cut, "runs past the end of the file");
}

TEST(SafetensorsRefuses, TruncatedFileOnDisk) {
  TempDir dir;
  const std::string path = (dir.path / "cut.safetensors").string();
  st::Writer w;
  w.add_f32("x", st::DType::F32, {16}, std::vector<float>(16, 1.0f));
  w.write(path);
  fs::resize_file(path, fs::file_size(path) - 5);
  try {
    st::File f(path);
    FAIL() << "truncated file accepted";
  } catch (const st::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(SafetensorsRefuses, MissingFileAndDirectoryAreIoErrors) {
  EXPECT_THROW(st::File("/nonexistent/sf/model.safetensors"), st::IoError);
  EXPECT_THROW(st::File(fs::temp_directory_path().string()), st::IoError);
}

}  // namespace
