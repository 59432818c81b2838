//===- NpyArray.cpp - parsing .npy files from memory ----------------------===//
//
// The rules are the runtime's (runtime/src/npy.c), so a sample that
// `quarc calibrate` accepts is one a compiled model's CLI accepts too: a
// small strict parser of the one dict literal NumPy writes (no eval), and
// the data must be exactly as long as the shape says.
//
//===----------------------------------------------------------------------===//

#include "quarc/Calibration/NpyArray.h"
#include "internal.h" // the runtime's quarc_dtype_name

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"

namespace mlir::quarc::calibration {

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

// The runtime defines dtypes once; these only give them C++ types.
size_t getDTypeSize(quarc_dtype dtype) { return quarc_dtype_size(dtype); }

StringRef getDTypeName(quarc_dtype dtype) { return quarc_dtype_name(dtype); }

std::string formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      text += 'x';
    text += dim < 0 ? std::string("?") : std::to_string(dim);
  }
  return text;
}

namespace {

/// A descr without its byte-order character, and the dtype it means.
struct NpyType {
  StringRef code;
  quarc_dtype dtype;
};
constexpr NpyType kTypes[] = {
    {"f4", QUARC_DTYPE_F32}, {"f8", QUARC_DTYPE_F64}, {"f2", QUARC_DTYPE_F16},
    {"i1", QUARC_DTYPE_I8},  {"i2", QUARC_DTYPE_I16}, {"i4", QUARC_DTYPE_I32},
    {"i8", QUARC_DTYPE_I64}, {"u1", QUARC_DTYPE_U8},  {"b1", QUARC_DTYPE_BOOL},
};
constexpr const char *kSupportedDescrs = "<f4 <f8 <f2 |i1 <i2 <i4 <i8 |u1 |b1";

/// Larger than any header of a rank <= 8 array; NumPy itself refuses
/// headers over 10000 bytes by default.
constexpr uint32_t kMaxHeaderLen = 65536;

/// Parses the header dict: {'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }. Each method returns false after setting `message`.
class HeaderParser {
public:
  explicit HeaderParser(StringRef text) : rest(text) {}

  bool parse(NpyArray &out) {
    unsigned seen = 0; // bit 0 descr, 1 fortran_order, 2 shape
    if (!expect('{'))
      return false;
    while (!accept('}')) {
      if (!parseEntry(out, seen))
        return false;
      if (!accept(',')) {
        if (!expect('}'))
          return false;
        break;
      }
    }
    if (!rest.ltrim(kSpace).empty())
      return fail("unexpected text after the dictionary");
    if (seen != 7)
      return fail(std::string("missing key '") +
                  (!(seen & 1)   ? "descr"
                   : !(seen & 2) ? "fortran_order"
                                 : "shape") +
                  "'");
    return true;
  }

  const std::string &getMessage() const { return message; }

private:
  static constexpr StringRef kSpace = " \t\n\r";

  bool fail(const Twine &text) {
    message = text.str();
    return false;
  }

  /// Consumes `c` (after whitespace) if it is next.
  bool accept(char c) {
    rest = rest.ltrim(kSpace);
    return rest.consume_front(StringRef(&c, 1));
  }
  bool expect(char c) {
    return accept(c) || fail(Twine("expected '") + Twine(c) + "'");
  }

  /// A quoted string without escapes (no key or descr needs one).
  bool parseString(std::string &out) {
    rest = rest.ltrim(kSpace);
    if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
      return fail("expected a string");
    char quote = rest.front();
    size_t end = rest.find(quote, 1);
    if (end == StringRef::npos)
      return fail("unterminated string");
    StringRef text = rest.slice(1, end);
    if (text.contains('\\') || text.contains('\n') || text.size() > 31)
      return fail("unsupported string");
    out = text.str();
    rest = rest.drop_front(end + 1);
    return true;
  }

  /// Consumes the word `word` if it is next and not the prefix of a longer
  /// identifier.
  bool acceptWord(StringRef word) {
    rest = rest.ltrim(kSpace);
    if (!rest.starts_with(word))
      return false;
    StringRef after = rest.drop_front(word.size());
    if (!after.empty() &&
        (llvm::isAlnum(after.front()) || after.front() == '_'))
      return false;
    rest = after;
    return true;
  }

  /// A non-negative decimal integer as Python's repr writes it (Python 2
  /// adds an 'L').
  bool parseDim(int64_t &out) {
    rest = rest.ltrim(kSpace);
    if (rest.empty() || !llvm::isDigit(rest.front()))
      return fail("expected a non-negative integer in the shape");
    int64_t value = 0;
    while (!rest.empty() && llvm::isDigit(rest.front())) {
      if (llvm::MulOverflow<int64_t>(value, 10, value) ||
          llvm::AddOverflow<int64_t>(value, rest.front() - '0', value))
        return fail("dimension too large");
      rest = rest.drop_front();
    }
    if (!rest.empty() && (rest.front() == 'L' || rest.front() == 'l'))
      rest = rest.drop_front();
    out = value;
    return true;
  }

  /// (), (3,), (2, 3) or (2, 3,). "(3)" is the integer 3, not a tuple;
  /// NumPy rejects it too.
  bool parseShape(NpyArray &out) {
    if (!expect('('))
      return false;
    out.shape.clear();
    bool trailingComma = false;
    while (!accept(')')) {
      if (out.shape.size() == QUARC_MAX_RANK)
        return fail("rank exceeds the limit of " + Twine(QUARC_MAX_RANK));
      if (!parseDim(out.shape.emplace_back()))
        return false;
      trailingComma = accept(',');
      if (!trailingComma) {
        if (!expect(')'))
          return false;
        break;
      }
    }
    if (out.shape.size() == 1 && !trailingComma)
      return fail("shape is not a tuple (write '(N,)')");
    return true;
  }

  bool parseDescr(NpyArray &out) {
    rest = rest.ltrim(kSpace);
    if (!rest.empty() && (rest.front() == '[' || rest.front() == '{'))
      return fail("structured dtypes are not supported");
    std::string descr;
    if (!parseString(descr))
      return false;
    StringRef order = StringRef(descr).take_front();
    StringRef code = StringRef(descr).drop_front();
    for (const NpyType &type : kTypes) {
      if (code != type.code)
        continue;
      // '<', '=' (native) and '|' (not applicable) are all little-endian
      // on every quarc host; '>' only matters for multi-byte types.
      if (order == ">" && getDTypeSize(type.dtype) != 1)
        return fail(Twine("big-endian dtype '") + descr +
                    "' is not supported; save little-endian data "
                    "(array.astype('<" +
                    code + "'))");
      if (order == "<" || order == "=" || order == "|" || order == ">") {
        out.dtype = type.dtype;
        return true;
      }
    }
    if (code == "O")
      return fail("object arrays are not supported");
    return fail("unsupported dtype '" + descr +
                "' (supported: " + kSupportedDescrs + ")");
  }

  bool parseFortranOrder() {
    if (acceptWord("False"))
      return true;
    if (acceptWord("True"))
      return fail("fortran_order True is not supported; save a C-order "
                  "array (numpy.ascontiguousarray)");
    return fail("fortran_order must be True or False");
  }

  bool parseEntry(NpyArray &out, unsigned &seen) {
    static constexpr StringRef kKeys[] = {"descr", "fortran_order", "shape"};
    std::string key;
    if (!parseString(key) || !expect(':'))
      return false;
    unsigned k = 0;
    while (k < 3 && key != kKeys[k])
      ++k;
    if (k == 3)
      return fail("unexpected key '" + key + "'");
    if (seen & (1u << k))
      return fail("duplicate key '" + key + "'");
    seen |= 1u << k;
    switch (k) {
    case 0:
      return parseDescr(out);
    case 1:
      return parseFortranOrder();
    default:
      return parseShape(out);
    }
  }

  StringRef rest;
  std::string message;
};

} // namespace

LogicalResult readNpy(StringRef bytes, StringRef what, NpyArray &out,
                      std::string &error) {
  auto fail = [&](const Twine &message) {
    error = (what + ": " + message).str();
    return failure();
  };
  static constexpr char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 8)
    return fail("not a .npy file (too short)");
  if (!bytes.starts_with(StringRef(kMagic, 6)))
    return fail("not a .npy file (bad magic string)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  unsigned minor = static_cast<unsigned char>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3)
    return fail("unsupported .npy version " + Twine(major) + "." +
                Twine(minor));
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4,
  // all little-endian.
  size_t lenSize = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + lenSize)
    return fail("truncated .npy header");
  uint32_t headerLen = 0;
  for (size_t i = 0; i < lenSize; ++i)
    headerLen |= uint32_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  if (headerLen > kMaxHeaderLen)
    return fail(".npy header too long (" + Twine(headerLen) + " bytes, limit " +
                Twine(kMaxHeaderLen) + ")");
  size_t dataStart = 8 + lenSize + headerLen;
  if (bytes.size() < dataStart)
    return fail("truncated .npy header");

  NpyArray array;
  HeaderParser parser(bytes.slice(8 + lenSize, dataStart));
  if (!parser.parse(array))
    return fail("bad .npy header: " + parser.getMessage());

  // The byte size, checked for overflow before it is compared or used.
  int64_t size = static_cast<int64_t>(getDTypeSize(array.dtype));
  for (int64_t dim : array.shape)
    if (llvm::MulOverflow(size, dim, size))
      return fail("shape " + formatShape(array.shape) + " is too large");
  StringRef data = bytes.drop_front(dataStart);
  std::string shapeText = formatShape(array.shape);
  if (static_cast<uint64_t>(size) > data.size())
    return fail("truncated data: " + Twine(data.size()) + " bytes, but shape " +
                shapeText + " of " + getDTypeName(array.dtype) + " needs " +
                Twine(size));
  if (static_cast<uint64_t>(size) < data.size())
    return fail("more data than shape " + shapeText + " of " +
                getDTypeName(array.dtype) + " needs (" + Twine(data.size()) +
                " bytes, not " + Twine(size) + ")");
  array.bytes.assign(data.begin(), data.end());
  out = std::move(array);
  return success();
}

LogicalResult readNpyFile(StringRef path, NpyArray &out, std::string &error) {
  // Read, not mapped (IsVolatile): a file truncated by someone else while
  // mapped would be a SIGBUS, not an error.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false,
                                  /*IsVolatile=*/true);
  if (!buffer) {
    error = "cannot read " + path.str() + ": " + buffer.getError().message();
    return failure();
  }
  return readNpy((*buffer)->getBuffer(), path, out, error);
}

} // namespace mlir::quarc::calibration
