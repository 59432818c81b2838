//===- CalibrationDataTest.cpp - .npy/.npz readers, the sample folder -----===//

#include "quarc/Calibration/CalibrationData.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace mlir::quarc::calibration;

namespace {

//===----------------------------------------------------------------------===//
// Building .npy and .npz bytes
//===----------------------------------------------------------------------===//

template <typename T> std::string rawBytes(std::initializer_list<T> values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

void putLE(std::string &out, uint64_t value, unsigned width) {
  for (unsigned i = 0; i < width; ++i)
    out += static_cast<char>((value >> (8 * i)) & 0xff);
}

/// A .npy file with the header dict `dict`, padded as NumPy pads it.
std::string npyWithHeader(StringRef dict, StringRef data, unsigned major = 1) {
  std::string header = dict.str();
  size_t preamble = major == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  putLE(out, header.size(), major == 1 ? 2 : 4);
  return out + header + data.str();
}

std::string npy(StringRef descr, StringRef shape, StringRef data,
                unsigned major = 1) {
  return npyWithHeader(("{'descr': '" + descr +
                        "', 'fortran_order': False, 'shape': " + shape + ", }")
                           .str(),
                       data, major);
}

std::string f32Npy(StringRef shape, std::initializer_list<float> values) {
  return npy("<f4", shape, rawBytes(values));
}

std::string deflateRaw(StringRef data) {
  z_stream stream = {};
  // Negative window bits: a raw stream, as ZIP stores it.
  EXPECT_EQ(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
  stream.avail_in = data.size();
  stream.next_out = reinterpret_cast<Bytef *>(out.data());
  stream.avail_out = out.size();
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

uint32_t crcOf(StringRef data) {
  return crc32(0, reinterpret_cast<const Bytef *>(data.data()), data.size());
}

/// One member of a ZIP archive built by buildZip.
struct ZipMember {
  std::string name;
  std::string data; // uncompressed
  bool deflated = false;
  /// What NumPy writes: local header sizes 0xffffffff and a ZIP64 extra.
  bool zip64Local = true;
  /// Sizes and offset in a ZIP64 extra field of the central directory, as
  /// Python's zipfile writes them for members past 4 GiB.
  bool zip64Central = false;
  uint16_t flags = 0;
  std::optional<uint16_t> method;
  std::optional<uint32_t> crc;
  std::optional<uint64_t> compressedSize; // in the central directory
  std::optional<uint64_t> size;           // in the central directory
  std::optional<uint64_t> localOffset;    // in the central directory
};

std::string buildZip(std::vector<ZipMember> members, bool zip64End = false,
                     StringRef comment = "") {
  std::string zip, central;
  for (const ZipMember &m : members) {
    std::string payload = m.deflated ? deflateRaw(m.data) : m.data;
    uint16_t method = m.method.value_or(m.deflated ? 8 : 0);
    uint32_t crc = m.crc.value_or(crcOf(m.data));
    uint64_t offset = m.localOffset.value_or(zip.size());
    uint64_t compressedSize = m.compressedSize.value_or(payload.size());
    uint64_t size = m.size.value_or(m.data.size());

    putLE(zip, 0x04034b50, 4);
    putLE(zip, 45, 2);
    putLE(zip, m.flags, 2);
    putLE(zip, method, 2);
    putLE(zip, 0, 4); // time, date
    putLE(zip, crc, 4);
    putLE(zip, m.zip64Local ? 0xffffffff : payload.size(), 4);
    putLE(zip, m.zip64Local ? 0xffffffff : m.data.size(), 4);
    putLE(zip, m.name.size(), 2);
    putLE(zip, m.zip64Local ? 20 : 0, 2);
    zip += m.name;
    if (m.zip64Local) {
      putLE(zip, 1, 2);
      putLE(zip, 16, 2);
      putLE(zip, m.data.size(), 8);
      putLE(zip, payload.size(), 8);
    }
    zip += payload;

    putLE(central, 0x02014b50, 4);
    putLE(central, 45, 2);
    putLE(central, 45, 2);
    putLE(central, m.flags, 2);
    putLE(central, method, 2);
    putLE(central, 0, 4);
    putLE(central, crc, 4);
    putLE(central, m.zip64Central ? 0xffffffff : compressedSize, 4);
    putLE(central, m.zip64Central ? 0xffffffff : size, 4);
    putLE(central, m.name.size(), 2);
    putLE(central, m.zip64Central ? 28 : 0, 2);
    putLE(central, 0, 2); // comment
    putLE(central, 0, 2); // disk
    putLE(central, 0, 2); // internal attributes
    putLE(central, 0, 4); // external attributes
    putLE(central, m.zip64Central ? 0xffffffff : offset, 4);
    central += m.name;
    if (m.zip64Central) {
      putLE(central, 1, 2);
      putLE(central, 24, 2);
      putLE(central, size, 8);
      putLE(central, compressedSize, 8);
      putLE(central, offset, 8);
    }
  }
  uint64_t directoryOffset = zip.size();
  zip += central;
  if (zip64End) {
    uint64_t recordOffset = zip.size();
    putLE(zip, 0x06064b50, 4);
    putLE(zip, 44, 8);
    putLE(zip, 45, 2);
    putLE(zip, 45, 2);
    putLE(zip, 0, 4);
    putLE(zip, 0, 4);
    putLE(zip, members.size(), 8);
    putLE(zip, members.size(), 8);
    putLE(zip, central.size(), 8);
    putLE(zip, directoryOffset, 8);
    putLE(zip, 0x07064b50, 4);
    putLE(zip, 0, 4);
    putLE(zip, recordOffset, 8);
    putLE(zip, 1, 4);
  }
  putLE(zip, 0x06054b50, 4);
  putLE(zip, 0, 2);
  putLE(zip, 0, 2);
  putLE(zip, zip64End ? 0xffff : members.size(), 2);
  putLE(zip, zip64End ? 0xffff : members.size(), 2);
  putLE(zip, zip64End ? 0xffffffff : central.size(), 4);
  putLE(zip, zip64End ? 0xffffffff : directoryOffset, 4);
  putLE(zip, comment.size(), 2);
  return zip + comment.str();
}

ZipMember member(StringRef name, std::string data, bool deflated = false) {
  ZipMember m;
  m.name = name.str();
  m.data = std::move(data);
  m.deflated = deflated;
  return m;
}

using Members = std::vector<std::pair<std::string, NpyArray>>;

std::string npyError(StringRef bytes) {
  NpyArray array;
  std::string error;
  EXPECT_TRUE(failed(readNpy(bytes, "t.npy", array, error)));
  return error;
}

std::string npzError(StringRef bytes) {
  Members members;
  std::string error;
  EXPECT_TRUE(failed(readNpz(bytes, "s.npz", members, error)));
  return error;
}

#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' does not contain '" << (part) << "'"

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

TEST(NpyArray, ReadsEveryDType) {
  struct Case {
    const char *descr;
    quarc_dtype dtype;
    size_t size;
  } cases[] = {
      {"<f4", QUARC_DTYPE_F32, 4},
      {"<f8", QUARC_DTYPE_F64, 8},
      {"<f2", QUARC_DTYPE_F16, 2},
      {"|i1", QUARC_DTYPE_I8, 1},
      {"<i2", QUARC_DTYPE_I16, 2},
      {"<i4", QUARC_DTYPE_I32, 4},
      {"<i8", QUARC_DTYPE_I64, 8},
      {"|u1", QUARC_DTYPE_U8, 1},
      {"|b1", QUARC_DTYPE_BOOL, 1},
      // Native order, and '>' where byte order does not matter.
      {"=f4", QUARC_DTYPE_F32, 4},
      {">u1", QUARC_DTYPE_U8, 1},
      {"<i1", QUARC_DTYPE_I8, 1},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.descr);
    std::string data;
    for (size_t i = 0; i < 6 * c.size; ++i)
      data += static_cast<char>(i * 7 + 1);
    NpyArray array;
    std::string error;
    ASSERT_TRUE(
        succeeded(readNpy(npy(c.descr, "(2, 3)", data), "t.npy", array, error)))
        << error;
    EXPECT_EQ(array.dtype, c.dtype);
    EXPECT_EQ(getDTypeSize(array.dtype), c.size);
    EXPECT_EQ(array.shape, (SmallVector<int64_t>{2, 3}));
    EXPECT_EQ(array.numElements(), 6);
    EXPECT_EQ(std::string(array.bytes.begin(), array.bytes.end()), data);
  }
}

TEST(NpyArray, ReadsVersionsAndShapes) {
  std::string four = rawBytes({1.f, 2.f, 3.f, 4.f});
  for (unsigned major : {1, 2, 3}) {
    NpyArray array;
    std::string error;
    ASSERT_TRUE(succeeded(
        readNpy(npy("<f4", "(2, 2)", four, major), "t.npy", array, error)))
        << error;
    EXPECT_EQ(array.shape, (SmallVector<int64_t>{2, 2}));
  }
  struct Case {
    const char *shape;
    SmallVector<int64_t> dims;
    size_t elements;
  } cases[] = {
      {"()", {}, 1},
      {"(4,)", {4}, 4},
      {"(0, 3)", {0, 3}, 0},
      {"(1, 2, 2)", {1, 2, 2}, 4},
      {"(2L, 2L)", {2, 2}, 4},
      {"( 4 , )", {4}, 4},
      {"(1,1,1,1,1,1,1,4,)", {1, 1, 1, 1, 1, 1, 1, 4}, 4},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.shape);
    std::string data = four.substr(0, c.elements * 4);
    NpyArray array;
    std::string error;
    ASSERT_TRUE(
        succeeded(readNpy(npy("<f4", c.shape, data), "t.npy", array, error)))
        << error;
    EXPECT_EQ(array.shape, c.dims);
    EXPECT_EQ(array.numElements(), static_cast<int64_t>(c.elements));
  }
  // Keys in any order, double quotes, no trailing comma.
  NpyArray array;
  std::string error;
  EXPECT_TRUE(succeeded(readNpy(
      npyWithHeader(
          "{\"shape\": (1,), \"fortran_order\": False, \"descr\": \"<i4\"}",
          rawBytes({5})),
      "t.npy", array, error)))
      << error;
  EXPECT_EQ(array.dtype, QUARC_DTYPE_I32);
}

TEST(NpyArray, RejectsWhatTheRuntimeRejects) {
  std::string four = rawBytes({1.f, 2.f, 3.f, 4.f});
  struct Case {
    std::string bytes;
    const char *message;
  } cases[] = {
      {"\x93NUM", "not a .npy file (too short)"},
      {"PK\x03\x04" + four, "bad magic string"},
      {npy("<f4", "(4,)", four, 4), "unsupported .npy version 4.0"},
      {npy("<f4", "(4,)", four).substr(0, 9), "truncated .npy header"},
      {npy("<f4", "(4,)", four).substr(0, 40), "truncated .npy header"},
      {npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (4,)}",
                     four),
       "fortran_order True is not supported"},
      {npy(">f4", "(4,)", four), "big-endian dtype '>f4' is not supported"},
      {npy("|O", "(4,)", four), "object arrays are not supported"},
      {npy("<c8", "(2,)", four), "unsupported dtype '<c8'"},
      {npy("<U3", "(2,)", four), "unsupported dtype '<U3'"},
      {npyWithHeader("{'descr': [('a', '<f4')], 'fortran_order': False, "
                     "'shape': (4,)}",
                     four),
       "structured dtypes are not supported"},
      {npy("<f4", "(4)", four), "shape is not a tuple"},
      {npy("<f4", "(1, 1, 1, 1, 1, 1, 1, 1, 1)", four.substr(0, 4)),
       "rank exceeds the limit of 8"},
      {npy("<f4", "(-4,)", four), "expected a non-negative integer"},
      {npy("<f4", "(99999999999999999999,)", four), "dimension too large"},
      {npy("<f4", "(4294967296, 4294967296)", four), "is too large"},
      {npy("<f4", "(5,)", four),
       "truncated data: 16 bytes, but shape 5 of f32 needs 20"},
      {npy("<f4", "(3,)", four), "more data than shape 3 of f32 needs"},
      {npyWithHeader("{'descr': '<f4', 'shape': (4,)}", four),
       "missing key 'fortran_order'"},
      {npyWithHeader("{'descr': '<f4', 'descr': '<f4', 'fortran_order': "
                     "False, 'shape': (4,)}",
                     four),
       "duplicate key 'descr'"},
      {npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(4,), 'extra': 1}",
                     four),
       "unexpected key 'extra'"},
      {npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(4,)} x",
                     four),
       "unexpected text after the dictionary"},
      {npyWithHeader("{'descr': '<f4', 'fortran_order': Falsey, 'shape': "
                     "(4,)}",
                     four),
       "fortran_order must be True or False"},
      {npyWithHeader("{'descr': '<f4", four), "unterminated string"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.message);
    std::string error = npyError(c.bytes);
    EXPECT_CONTAINS(error, "t.npy: ");
    EXPECT_CONTAINS(error, c.message);
  }
  // A header length beyond the limit is refused before it is read.
  std::string longHeader = "\x93NUMPY\x02";
  longHeader += '\0';
  putLE(longHeader, 1u << 20, 4);
  EXPECT_CONTAINS(npyError(longHeader), ".npy header too long");
}

TEST(NpyArray, EveryTruncationIsAnError) {
  std::string bytes = npy("<i8", "(3,)", rawBytes<int64_t>({1, 2, 3}));
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(npyError(StringRef(bytes).take_front(n)).empty());
}

TEST(NpyArray, FormatsShapesAndDTypes) {
  EXPECT_EQ(formatShape({1, 3, -1, -1}), "1x3x?x?");
  EXPECT_EQ(formatShape({7}), "7");
  EXPECT_EQ(formatShape({}), "scalar");
  EXPECT_EQ(getDTypeName(QUARC_DTYPE_F32), "f32");
  EXPECT_EQ(getDTypeName(QUARC_DTYPE_BOOL), "bool");
  EXPECT_EQ(getDTypeName(QUARC_DTYPE_F16), "f16");
}

//===----------------------------------------------------------------------===//
// .npz
//===----------------------------------------------------------------------===//

/// Written by NumPy 2.4: np.savez(f, x=np.array([[1.5, -2.0]], np.float32),
/// ids=np.array([7, 8, 9], np.int64)).
const char kNumpySavez[] =
    "\x50\x4b\x03\x04\x2d\x00\x00\x00\x00\x00\x00\x00\x21\x00\xfd\xcf\xa5\x08"
    "\xff\xff\xff\xff\xff\xff\xff\xff\x05\x00\x14\x00\x78\x2e\x6e\x70\x79\x01"
    "\x00\x10\x00\x88\x00\x00\x00\x00\x00\x00\x00\x88\x00\x00\x00\x00\x00\x00"
    "\x00\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72"
    "\x27\x3a\x20\x27\x3c\x66\x34\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e"
    "\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73\x65\x2c\x20\x27\x73"
    "\x68\x61\x70\x65\x27\x3a\x20\x28\x31\x2c\x20\x32\x29\x2c\x20\x7d\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x0a\x00\x00\xc0\x3f\x00\x00\x00\xc0\x50\x4b\x03\x04\x2d\x00\x00"
    "\x00\x00\x00\x00\x00\x21\x00\x08\x65\x1b\x5b\xff\xff\xff\xff\xff\xff\xff"
    "\xff\x07\x00\x14\x00\x69\x64\x73\x2e\x6e\x70\x79\x01\x00\x10\x00\x98\x00"
    "\x00\x00\x00\x00\x00\x00\x98\x00\x00\x00\x00\x00\x00\x00\x93\x4e\x55\x4d"
    "\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20\x27\x3c"
    "\x69\x38\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65"
    "\x72\x27\x3a\x20\x46\x61\x6c\x73\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27"
    "\x3a\x20\x28\x33\x2c\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a\x07\x00"
    "\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00"
    "\x00\x00\x00\x00\x50\x4b\x01\x02\x2d\x03\x2d\x00\x00\x00\x00\x00\x00\x00"
    "\x21\x00\xfd\xcf\xa5\x08\x88\x00\x00\x00\x88\x00\x00\x00\x05\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00\x78\x2e\x6e\x70"
    "\x79\x50\x4b\x01\x02\x2d\x03\x2d\x00\x00\x00\x00\x00\x00\x00\x21\x00\x08"
    "\x65\x1b\x5b\x98\x00\x00\x00\x98\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x80\x01\xbf\x00\x00\x00\x69\x64\x73\x2e\x6e\x70\x79"
    "\x50\x4b\x05\x06\x00\x00\x00\x00\x02\x00\x02\x00\x68\x00\x00\x00\x90\x01"
    "\x00\x00\x00\x00";

/// Written by NumPy 2.4: np.savez_compressed(f, x=np.zeros((4, 4),
/// np.float32)).
const char kNumpySavezCompressed[] =
    "\x50\x4b\x03\x04\x2d\x00\x00\x00\x08\x00\x00\x00\x21\x00\x2b\x37\xb6\x6a"
    "\xff\xff\xff\xff\xff\xff\xff\xff\x05\x00\x14\x00\x78\x2e\x6e\x70\x79\x01"
    "\x00\x10\x00\xc0\x00\x00\x00\x00\x00\x00\x00\x49\x00\x00\x00\x00\x00\x00"
    "\x00\x9b\xec\x17\xea\x1b\x10\xc9\xc8\x50\xc6\x50\xad\x9e\x92\x5a\x9c\x5c"
    "\xa4\x6e\xa5\xa0\x6e\x93\x66\xa2\xae\xa3\xa0\x9e\x96\x5f\x54\x52\x94\x98"
    "\x17\x9f\x5f\x94\x92\x0a\x12\x77\x4b\xcc\x29\x4e\x05\x8a\x17\x67\x24\x16"
    "\xa4\x02\xf9\x1a\x26\x3a\x0a\x26\x9a\x3a\x0a\xb5\x0a\x64\x03\x2e\x06\x0a"
    "\x01\x00\x50\x4b\x01\x02\x2d\x03\x2d\x00\x00\x00\x08\x00\x00\x00\x21\x00"
    "\x2b\x37\xb6\x6a\x49\x00\x00\x00\xc0\x00\x00\x00\x05\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00\x78\x2e\x6e\x70\x79\x50"
    "\x4b\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x33\x00\x00\x00\x80\x00\x00"
    "\x00\x00\x00";

TEST(NpyArchive, ReadsWhatNumpyWrites) {
  Members members;
  std::string error;
  ASSERT_TRUE(succeeded(readNpz(StringRef(kNumpySavez, sizeof kNumpySavez - 1),
                                "s.npz", members, error)))
      << error;
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].first, "x");
  EXPECT_EQ(members[0].second.dtype, QUARC_DTYPE_F32);
  EXPECT_EQ(members[0].second.shape, (SmallVector<int64_t>{1, 2}));
  EXPECT_EQ(std::string(members[0].second.bytes.begin(),
                        members[0].second.bytes.end()),
            rawBytes({1.5f, -2.f}));
  EXPECT_EQ(members[1].first, "ids");
  EXPECT_EQ(members[1].second.dtype, QUARC_DTYPE_I64);
  EXPECT_EQ(std::string(members[1].second.bytes.begin(),
                        members[1].second.bytes.end()),
            rawBytes<int64_t>({7, 8, 9}));

  ASSERT_TRUE(succeeded(readNpz(
      StringRef(kNumpySavezCompressed, sizeof kNumpySavezCompressed - 1),
      "c.npz", members, error)))
      << error;
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].first, "x");
  EXPECT_EQ(members[0].second.shape, (SmallVector<int64_t>{4, 4}));
  EXPECT_EQ(members[0].second.bytes, std::vector<char>(64, '\0'));
}

TEST(NpyArchive, ReadsStoredAndDeflatedMembers) {
  std::string a = f32Npy("(2,)", {1.f, 2.f});
  std::string b = npy("<i8", "(3,)", rawBytes<int64_t>({4, 5, 6}));
  for (bool deflated : {false, true}) {
    for (bool zip64 : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << "deflated " << deflated << ", zip64 " << zip64);
      std::vector<ZipMember> zipMembers = {member("a.npy", a, deflated),
                                           member("in/put:0.npy", b, deflated)};
      for (ZipMember &m : zipMembers) {
        m.zip64Local = zip64;
        m.zip64Central = zip64;
      }
      Members members;
      std::string error;
      ASSERT_TRUE(succeeded(readNpz(buildZip(zipMembers, zip64, "a comment"),
                                    "s.npz", members, error)))
          << error;
      ASSERT_EQ(members.size(), 2u);
      EXPECT_EQ(members[0].first, "a");
      EXPECT_EQ(members[0].second.numElements(), 2);
      // Keys keep '/' and ':' (TensorFlow-style input names).
      EXPECT_EQ(members[1].first, "in/put:0");
      EXPECT_EQ(std::string(members[1].second.bytes.begin(),
                            members[1].second.bytes.end()),
                rawBytes<int64_t>({4, 5, 6}));
    }
  }
  // A member that deflates well: the output buffer grows as it inflates.
  std::string zeros = npy("<f4", "(100000,)", std::string(400000, '\0'));
  Members members;
  std::string error;
  ASSERT_TRUE(succeeded(readNpz(buildZip({member("z.npy", zeros, true)}),
                                "s.npz", members, error)))
      << error;
  EXPECT_EQ(members[0].second.numElements(), 100000);
  // An archive with no members (np.savez(f)) is valid.
  EXPECT_TRUE(succeeded(readNpz(buildZip({}), "s.npz", members, error)))
      << error;
  EXPECT_TRUE(members.empty());
}

TEST(NpyArchive, RejectsBadArchives) {
  std::string a = f32Npy("(2,)", {1.f, 2.f});
  std::string archive = buildZip({member("a.npy", a)});
  EXPECT_CONTAINS(npzError("PK"), "s.npz: not a .npz file (too short");
  EXPECT_CONTAINS(npzError(std::string(100, 'x')),
                  "no ZIP end of central directory record");
  // Truncated: the end record is gone.
  EXPECT_CONTAINS(npzError(StringRef(archive).drop_back(5)),
                  "no ZIP end of central directory record");
  // Truncated before the end record was copied: it points past the data.
  EXPECT_CONTAINS(
      npzError(archive.substr(0, 40) + archive.substr(archive.size() - 22)),
      "the central directory");

  struct Case {
    ZipMember member;
    std::string message;
  } cases[] = {
      {[&] {
         ZipMember m = member("a.npy", a);
         m.crc = crcOf(a) ^ 1;
         return m;
       }(),
       "member 'a.npy': CRC-32 mismatch"},
      {[&] {
         ZipMember m = member("a.npy", a, true);
         m.crc = crcOf(a) + 1;
         return m;
       }(),
       "member 'a.npy': CRC-32 mismatch"},
      {[&] {
         ZipMember m = member("a.npy", a);
         m.compressedSize = 1u << 20;
         m.size = 1u << 20;
         return m;
       }(),
       "member 'a.npy': corrupt ZIP archive: 1048576 bytes of data at offset"},
      {[&] {
         ZipMember m = member("a.npy", a);
         m.zip64Central = true;
         m.compressedSize = uint64_t(1) << 62;
         m.size = uint64_t(1) << 62;
         return m;
       }(),
       "run past the end of the"},
      {[&] {
         ZipMember m = member("a.npy", a);
         m.localOffset = 1u << 30;
         return m;
       }(),
       "member 'a.npy': corrupt ZIP archive: no local header"},
      {[&] {
         ZipMember m = member("a.npy", a);
         m.localOffset = 4;
         return m;
       }(),
       "no local header at offset 4"},
      {member("a.txt", a), "member 'a.txt': not a .npy member"},
      {member("dir/", ""), "member 'dir/': not a .npy member"},
      {[&] {
         ZipMember m = member("a.npy", a);
         m.flags = 1;
         return m;
       }(),
       "member 'a.npy': encrypted members are not supported"},
      {[&] {
         ZipMember m = member("a.npy", a);
         m.method = 12;
         return m;
       }(),
       "member 'a.npy': compression method 12 is not supported"},
      {[&] {
         ZipMember m = member("a.npy", a);
         m.size = a.size() + 1;
         return m;
       }(),
       "a stored member of"},
      {[&] {
         ZipMember m = member("a.npy", a, true);
         m.size = a.size() + 1;
         return m;
       }(),
       "inflates to " + std::to_string(a.size()) + " bytes, not its declared"},
      {[&] {
         ZipMember m = member("a.npy", a, true);
         m.size = a.size() - 1;
         return m;
       }(),
       "inflates to more than its declared"},
      {[&] {
         ZipMember m = member("a.npy", a, true);
         m.size = uint64_t(1) << 40;
         m.zip64Central = true;
         return m;
       }(),
       "deflated bytes cannot hold 1099511627776"},
      {member("a.npy", "not an array"),
       "s.npz: member 'a.npy': not a .npy file (bad magic string)"},
      {member("a.npy", npy(">f4", "(2,)", rawBytes({1.f, 2.f}))),
       "s.npz: member 'a.npy': bad .npy header: big-endian dtype"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_CONTAINS(npzError(buildZip({c.member})), c.message);
  }

  EXPECT_CONTAINS(npzError(buildZip({member("a.npy", a), member("a.npy", a)})),
                  "s.npz: member 'a.npy': duplicate member");

  // A deflate stream cut short, and one that is not deflate at all.
  ZipMember cut = member("a.npy", a);
  cut.method = 8;
  cut.data = deflateRaw(a).substr(0, 10);
  cut.size = a.size();
  cut.crc = crcOf(a);
  EXPECT_CONTAINS(npzError(buildZip({cut})), "deflate stream is truncated");
  ZipMember garbage = member("a.npy", a);
  garbage.method = 8;
  garbage.data = std::string(16, '\xff');
  garbage.size = a.size();
  EXPECT_CONTAINS(npzError(buildZip({garbage})),
                  "member 'a.npy': corrupt ZIP archive: ");
}

/// No prefix and no single-byte change of an archive may crash the reader
/// or make it read out of bounds (the sanitizer build checks the latter).
TEST(NpyArchive, SurvivesTruncationAndCorruption) {
  std::vector<std::string> archives = {
      buildZip({member("a.npy", f32Npy("(2,)", {1.f, 2.f})),
                member("b.npy", f32Npy("(1,)", {3.f}), true)}),
      buildZip({member("a.npy", f32Npy("(2,)", {1.f, 2.f}), true)}, true),
      std::string(kNumpySavez, sizeof kNumpySavez - 1)};
  for (const std::string &archive : archives) {
    for (size_t n = 0; n < archive.size(); ++n)
      EXPECT_FALSE(npzError(StringRef(archive).take_front(n)).empty()) << n;
    for (size_t i = 0; i < archive.size(); ++i) {
      for (unsigned char flip : {0x01, 0x80, 0xff}) {
        std::string bad = archive;
        bad[i] = static_cast<char>(bad[i] ^ flip);
        Members members;
        std::string error;
        if (failed(readNpz(bad, "s.npz", members, error)))
          EXPECT_CONTAINS(error, "s.npz: ");
      }
    }
  }
}

TEST(NpyArchive, ReadsFiles) {
  SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("quarc-npz", dir));
  SmallString<128> path(dir);
  llvm::sys::path::append(path, "s.npz");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << buildZip({member("a.npy", f32Npy("(1,)", {1.f}), true)});
  }
  Members members;
  std::string error;
  EXPECT_TRUE(succeeded(readNpzFile(path, members, error))) << error;
  EXPECT_EQ(members.size(), 1u);
  NpyArray array;
  EXPECT_TRUE(failed(readNpyFile(path, array, error)));
  EXPECT_CONTAINS(error, std::string(path) + ": not a .npy file");
  llvm::sys::fs::remove_directories(dir);
  EXPECT_TRUE(failed(readNpzFile(path, members, error)));
  EXPECT_CONTAINS(error, "cannot read " + std::string(path));
}

//===----------------------------------------------------------------------===//
// The sample folder
//===----------------------------------------------------------------------===//

class CalibrationDataTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("quarc-calib-data", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string pathOf(StringRef name) const {
    SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

  void write(StringRef name, StringRef bytes) {
    std::error_code ec;
    llvm::raw_fd_ostream os(pathOf(name), ec);
    ASSERT_FALSE(ec) << ec.message();
    os << bytes;
  }

  std::optional<CalibrationData> open(ArrayRef<ModelInputSpec> inputs,
                                      std::string &error) {
    return CalibrationData::open(dir, inputs, error);
  }

  /// The error of opening the folder and loading its first sample.
  std::string loadError(ArrayRef<ModelInputSpec> inputs) {
    std::string error;
    std::optional<CalibrationData> data = open(inputs, error);
    EXPECT_TRUE(data) << error;
    if (!data)
      return error;
    std::vector<NpyArray> arrays;
    EXPECT_FALSE(data->load(0, arrays, error));
    return error;
  }

  SmallString<128> dir;
};

ModelInputSpec input(StringRef name, quarc_dtype dtype,
                     SmallVector<int64_t> shape) {
  return {name.str(), dtype, std::move(shape)};
}

TEST_F(CalibrationDataTest, ListsSamplesInByteOrder) {
  std::string sample = f32Npy("(1,)", {1.f});
  for (StringRef name : {"b.npy", "a.npy", "B.npy", "a10.npy", "a2.npz",
                         "\xc3\xa9.npy", "z.npy"})
    write(name, sample);
  // Not samples: other extensions, hidden files, folders.
  write("notes.txt", "x");
  write("a.npy.bak", sample);
  write("._a.npy", "AppleDouble");
  ASSERT_FALSE(llvm::sys::fs::create_directory(pathOf("sub.npy")));

  std::string error;
  std::optional<CalibrationData> data =
      open({input("x", QUARC_DTYPE_F32, {1})}, error);
  ASSERT_TRUE(data) << error;
  std::vector<std::string> names;
  for (size_t i = 0; i < data->size(); ++i)
    names.push_back(data->sampleName(i).str());
  // Bytes compare unsigned: "é" (0xc3 0xa9) sorts after "z".
  EXPECT_EQ(names,
            (std::vector<std::string>{"B.npy", "a.npy", "a10.npy", "a2.npz",
                                      "b.npy", "z.npy", "\xc3\xa9.npy"}));
  EXPECT_EQ(data->samplePath(1), pathOf("a.npy"));
}

TEST_F(CalibrationDataTest, LoadsNpyForASingleInput) {
  write("s.npy", f32Npy("(1, 3, 2)", {1.f, 2.f, 3.f, 4.f, 5.f, 6.f}));
  std::string error;
  // Dynamic dims take any size.
  std::optional<CalibrationData> data =
      open({input("x", QUARC_DTYPE_F32, {-1, 3, -1})}, error);
  ASSERT_TRUE(data) << error;
  ASSERT_EQ(data->size(), 1u);
  std::vector<NpyArray> arrays;
  ASSERT_TRUE(data->load(0, arrays, error)) << error;
  ASSERT_EQ(arrays.size(), 1u);
  EXPECT_EQ(arrays[0].shape, (SmallVector<int64_t>{1, 3, 2}));
  EXPECT_EQ(std::string(arrays[0].bytes.begin(), arrays[0].bytes.end()),
            rawBytes({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}));
}

TEST_F(CalibrationDataTest, LoadsNpzInInputOrder) {
  std::string ids = npy("<i8", "(2,)", rawBytes<int64_t>({3, 4}));
  std::string mask = npy("|b1", "(2,)", std::string("\x01\x00", 2));
  std::string image = f32Npy("(1, 2)", {0.5f, -0.5f});
  // Members in another order than the inputs; stored and deflated.
  write("s0.npz", buildZip({member("mask.npy", mask), member("ids.npy", ids),
                            member("image.npy", image)}));
  write("s1.npz", buildZip({member("image.npy", image, true),
                            member("ids.npy", ids, true),
                            member("mask.npy", mask, true)}));
  std::vector<ModelInputSpec> inputs = {
      input("image", QUARC_DTYPE_F32, {1, -1}),
      input("ids", QUARC_DTYPE_I64, {2}),
      input("mask", QUARC_DTYPE_BOOL, {-1})};
  std::string error;
  std::optional<CalibrationData> data = open(inputs, error);
  ASSERT_TRUE(data) << error;
  ASSERT_EQ(data->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    std::vector<NpyArray> arrays;
    ASSERT_TRUE(data->load(i, arrays, error)) << error;
    ASSERT_EQ(arrays.size(), 3u);
    EXPECT_EQ(arrays[0].dtype, QUARC_DTYPE_F32);
    EXPECT_EQ(arrays[1].dtype, QUARC_DTYPE_I64);
    EXPECT_EQ(arrays[2].dtype, QUARC_DTYPE_BOOL);
    EXPECT_EQ(std::string(arrays[1].bytes.begin(), arrays[1].bytes.end()),
              rawBytes<int64_t>({3, 4}));
  }
}

TEST_F(CalibrationDataTest, RejectsBadFolders) {
  std::string error;
  ModelInputSpec x = input("x", QUARC_DTYPE_F32, {1});
  EXPECT_FALSE(CalibrationData::open(pathOf("missing"), {x}, error));
  EXPECT_CONTAINS(error, "calibration data folder '" + pathOf("missing") + "'");

  write("file.npy", f32Npy("(1,)", {1.f}));
  EXPECT_FALSE(CalibrationData::open(pathOf("file.npy"), {x}, error));
  EXPECT_CONTAINS(error, "'" + pathOf("file.npy") + "' is not a folder");

  ASSERT_FALSE(llvm::sys::fs::create_directory(pathOf("empty")));
  write("empty/notes.txt", "x");
  EXPECT_FALSE(CalibrationData::open(pathOf("empty"), {x}, error));
  EXPECT_EQ(error, "calibration data folder '" + pathOf("empty") +
                       "' has no .npz or .npy samples");

  // .npy samples need a single-input model.
  EXPECT_FALSE(
      open({input("a", QUARC_DTYPE_F32, {1}), input("b", QUARC_DTYPE_F32, {1})},
           error));
  EXPECT_CONTAINS(error, "has .npy samples ('file.npy'), but a model with "
                         "inputs a, b needs .npz samples keyed by input name");
  EXPECT_FALSE(open({}, error));
  EXPECT_CONTAINS(error, "the model has no inputs");
}

TEST_F(CalibrationDataTest, RejectsSamplesThatDoNotFitTheModel) {
  std::vector<ModelInputSpec> inputs = {
      input("image", QUARC_DTYPE_F32, {1, 3, -1, -1}),
      input("scale", QUARC_DTYPE_F64, {})};
  std::string image = npy("<f4", "(1, 3, 1, 1)", rawBytes({1.f, 2.f, 3.f}));
  std::string scale = npy("<f8", "()", rawBytes({2.0}));
  std::string sample = pathOf("s.npz");
  struct Case {
    std::vector<ZipMember> members;
    std::vector<std::string> messages;
  } cases[] = {
      {{member("image.npy", image)},
       {sample + ": no array for input 'scale' (the model's inputs are "
                 "image, scale)"}},
      {{member("image.npy", image), member("scale.npy", scale),
        member("extra.npy", scale)},
       {sample + ": unexpected array 'extra' (the model's inputs are image, "
                 "scale)"}},
      {{member("image.npy",
               npy("<f8", "(1, 3, 1, 1)", rawBytes({1.0, 2.0, 3.0}))),
        member("scale.npy", scale)},
       {sample + ": input 'image' is f64, but the model expects f32"}},
      {{member("image.npy", npy("<f4", "(3, 1, 1)", rawBytes({1.f, 2.f, 3.f}))),
        member("scale.npy", scale)},
       {sample + ": input 'image' has shape 3x1x1, but the model expects "
                 "1x3x?x?"}},
      {{member("image.npy",
               npy("<f4", "(1, 1, 3, 1)", rawBytes({1.f, 2.f, 3.f}))),
        member("scale.npy", scale)},
       {sample + ": input 'image' has shape 1x1x3x1, but the model expects "
                 "1x3x?x?"}},
      {{member("image.npy", image),
        member("scale.npy", npy("<f8", "(1,)", rawBytes({2.0})))},
       {sample + ": input 'scale' has shape 1, but the model expects scalar"}},
      {{member(
            "image.npy",
            npy("<f4", "(1, 3, 1, 1)",
                rawBytes({1.f, std::numeric_limits<float>::quiet_NaN(), 3.f}))),
        member("scale.npy", scale)},
       {sample + ": input 'image' has a NaN at flat index 1"}},
      {{member("image.npy", image),
        member("scale.npy",
               npy("<f8", "()",
                   rawBytes({-std::numeric_limits<double>::infinity()})))},
       {sample + ": input 'scale' has an infinite value at flat index 0"}},
      {{member("image.npy", image), member("scale.npy", "garbage")},
       {sample + ": member 'scale.npy': not a .npy file"}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.messages.front());
    write("s.npz", buildZip(c.members));
    std::string error = loadError(inputs);
    for (const std::string &message : c.messages)
      EXPECT_CONTAINS(error, message);
  }
}

TEST_F(CalibrationDataTest, RejectsNonFiniteHalves) {
  ModelInputSpec x = input("x", QUARC_DTYPE_F16, {-1});
  // 1.0, +inf, NaN in IEEE half.
  write("s.npy",
        npy("<f2", "(3,)", rawBytes<uint16_t>({0x3c00, 0x7c00, 0x7e00})));
  EXPECT_CONTAINS(loadError({x}), "s.npy: input 'x' has an infinite value at "
                                  "flat index 1");
  write("s.npy",
        npy("<f2", "(3,)", rawBytes<uint16_t>({0x3c00, 0x7bff, 0xfe01})));
  EXPECT_CONTAINS(loadError({x}), "s.npy: input 'x' has a NaN at flat index 2");
  // Integer inputs are not checked for finiteness; the npy is a valid i16.
  write("s.npy", npy("<i2", "(1,)", rawBytes<int16_t>({0x7c00})));
  EXPECT_CONTAINS(loadError({x}),
                  "input 'x' is i16, but the model expects f16");
}

TEST_F(CalibrationDataTest, LoadErrorsNameTheSample) {
  write("a.npy", f32Npy("(2,)", {1.f, 2.f}));
  write("b.npy", "truncated");
  std::string error;
  std::optional<CalibrationData> data =
      open({input("x", QUARC_DTYPE_F32, {2})}, error);
  ASSERT_TRUE(data) << error;
  std::vector<NpyArray> arrays;
  EXPECT_TRUE(data->load(0, arrays, error)) << error;
  EXPECT_FALSE(data->load(1, arrays, error));
  EXPECT_CONTAINS(error, pathOf("b.npy") + ": not a .npy file");
  // The file disappears between open() and load().
  ASSERT_FALSE(llvm::sys::fs::remove(pathOf("a.npy")));
  EXPECT_FALSE(data->load(0, arrays, error));
  EXPECT_CONTAINS(error, "cannot read " + pathOf("a.npy"));
}

} // namespace
