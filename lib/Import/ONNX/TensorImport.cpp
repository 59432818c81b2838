//===- TensorImport.cpp - ONNX data types and tensors to MLIR -------------===//

#include "TensorImport.h"
#include "ModelLoader.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinDialect.h"

#include "llvm/ADT/StringExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::quarc;

namespace {
/// TensorProto.DataType numbers (onnx.proto); the installed libonnx predates
/// the float8 and 4-bit types, so they are spelled out here.
enum OnnxDataType : int32_t {
  kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6,
  kInt64 = 7, kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11,
  kUint32 = 12, kUint64 = 13, kComplex64 = 14, kComplex128 = 15,
  kBFloat16 = 16, kFloat8E4M3FN = 17, kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19, kFloat8E5M2FNUZ = 20, kUint4 = 21, kInt4 = 22,
  kFloat4E2M1 = 23,
};
} // namespace

Type onnx_import::getElementType(MLIRContext *context, int32_t dataType) {
  auto signedInt = [&](unsigned width) { return IntegerType::get(context, width); };
  auto unsignedInt = [&](unsigned width) {
    return IntegerType::get(context, width, IntegerType::Unsigned);
  };
  switch (dataType) {
  case kFloat: return Float32Type::get(context);
  case kUint8: return unsignedInt(8);
  case kInt8: return signedInt(8);
  case kUint16: return unsignedInt(16);
  case kInt16: return signedInt(16);
  case kInt32: return signedInt(32);
  case kInt64: return signedInt(64);
  case kBool: return signedInt(1);
  case kFloat16: return Float16Type::get(context);
  case kDouble: return Float64Type::get(context);
  case kUint32: return unsignedInt(32);
  case kUint64: return unsignedInt(64);
  case kBFloat16: return BFloat16Type::get(context);
  case kFloat8E4M3FN: return Float8E4M3FNType::get(context);
  case kFloat8E4M3FNUZ: return Float8E4M3FNUZType::get(context);
  case kFloat8E5M2: return Float8E5M2Type::get(context);
  case kFloat8E5M2FNUZ: return Float8E5M2FNUZType::get(context);
  case kUint4: return unsignedInt(4);
  case kInt4: return signedInt(4);
  case kFloat4E2M1: return Float4E2M1FNType::get(context);
  default: return nullptr;
  }
}

std::string onnx_import::getDataTypeName(int32_t dataType) {
  static const char *const names[] = {
      "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
      "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
      "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
      "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"};
  if (dataType >= 0 && size_t(dataType) < std::size(names))
    return names[dataType];
  return "data type " + std::to_string(dataType);
}

/// Bytes one element takes in the unpacked little-endian buffer built here
/// (sub-byte types take one byte each).
static unsigned getElementBytes(Type element) {
  return std::max<unsigned>(1, element.getIntOrFloatBitWidth() / 8);
}

/// Appends the low `bytes` bytes of `value` (little-endian hosts only).
template <typename T>
static void appendBytes(std::string &out, T value, unsigned bytes) {
  static_assert(std::is_trivially_copyable_v<T>);
  char buffer[sizeof(T)];
  std::memcpy(buffer, &value, sizeof(T));
  out.append(buffer, std::min<size_t>(bytes, sizeof(T)));
}

/// The element data of `tensor` as one unpacked buffer of `count` elements.
static FailureOr<std::string> getTensorBytes(const onnx::TensorProto &tensor,
                                             Type element, int64_t count,
                                             StringRef what, Location loc,
                                             StringRef modelDir) {
  unsigned elementBytes = getElementBytes(element);
  bool subByte = element.getIntOrFloatBitWidth() < 8 &&
                 !element.isSignlessInteger(1);
  std::string raw;
  bool hasRaw = tensor.has_raw_data();
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    FailureOr<std::string> external =
        onnx_import::readExternalData(tensor, modelDir, loc);
    if (failed(external))
      return failure();
    raw = std::move(*external);
    hasRaw = true;
  } else if (hasRaw) {
    raw = tensor.raw_data();
  }
  if (hasRaw) {
    size_t expected = subByte ? size_t(count + 1) / 2 : size_t(count) * elementBytes;
    if (raw.size() != expected)
      return emitError(loc) << what << ": raw_data has " << raw.size()
                            << " bytes, its shape and type need " << expected;
    if (!subByte)
      return raw;
    // Two 4-bit values a byte, the first in the low nibble.
    std::string unpacked;
    bool isSigned = !element.isUnsignedInteger();
    for (int64_t i = 0; i < count; ++i) {
      uint8_t nibble = (uint8_t(raw[i / 2]) >> ((i % 2) * 4)) & 0xF;
      int8_t value = isSigned && (nibble & 0x8) ? int8_t(nibble | 0xF0)
                                                : int8_t(nibble);
      unpacked.push_back(char(value));
    }
    return unpacked;
  }

  std::string out;
  auto checkCount = [&](int64_t have) -> LogicalResult {
    if (have == count)
      return success();
    return emitError(loc) << what << " has " << have
                          << " values, its shape needs " << count;
  };
  int32_t dataType = tensor.data_type();
  switch (dataType) {
  case kFloat:
    if (failed(checkCount(tensor.float_data_size())))
      return failure();
    for (float v : tensor.float_data())
      appendBytes(out, v, 4);
    return out;
  case kDouble:
    if (failed(checkCount(tensor.double_data_size())))
      return failure();
    for (double v : tensor.double_data())
      appendBytes(out, v, 8);
    return out;
  case kInt64:
    if (failed(checkCount(tensor.int64_data_size())))
      return failure();
    for (int64_t v : tensor.int64_data())
      appendBytes(out, v, 8);
    return out;
  case kUint32:
  case kUint64:
    if (failed(checkCount(tensor.uint64_data_size())))
      return failure();
    for (uint64_t v : tensor.uint64_data())
      appendBytes(out, v, elementBytes);
    return out;
  case kString:
  case kComplex64:
  case kComplex128:
    break;
  default:
    if (subByte)
      break;
    // int32_data carries every narrower integer, bool, and the bits of
    // 16- and 8-bit floats.
    if (failed(checkCount(tensor.int32_data_size())))
      return failure();
    for (int32_t v : tensor.int32_data())
      appendBytes(out, v, elementBytes);
    return out;
  }
  return emitError(loc) << what << ": " << onnx_import::getDataTypeName(dataType)
                        << " data in typed fields is not supported";
}

FailureOr<ElementsAttr>
onnx_import::importTensor(const onnx::TensorProto &tensor, StringRef what,
                          Location loc, const TensorImportSettings &settings) {
  MLIRContext *context = loc.getContext();
  Type element = getElementType(context, tensor.data_type());
  if (!element)
    return emitError(loc) << what << " has the unsupported data type "
                          << getDataTypeName(tensor.data_type());
  SmallVector<int64_t> shape;
  int64_t count = 1;
  constexpr int64_t kMaxElements = int64_t(1) << 40;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0)
      return emitError(loc) << what << " has a negative dim " << dim;
    if (dim != 0 && count > kMaxElements / dim)
      return emitError(loc) << what << " is too large";
    count *= dim;
    shape.push_back(dim);
  }
  FailureOr<std::string> bytes = getTensorBytes(
      tensor, element, count, what, loc, settings.modelDir);
  if (failed(bytes))
    return failure();
  auto type = RankedTensorType::get(shape, element);

  if (element.isSignlessInteger(1)) {
    SmallVector<bool> values;
    for (char byte : *bytes)
      values.push_back(byte != 0);
    return ElementsAttr(DenseElementsAttr::get(type, values));
  }
  if (element.getIntOrFloatBitWidth() < 8) {
    SmallVector<APInt> values;
    unsigned width = element.getIntOrFloatBitWidth();
    for (char byte : *bytes)
      values.push_back(APInt(width, uint64_t(uint8_t(byte)) & ((1u << width) - 1)));
    return ElementsAttr(DenseElementsAttr::get(type, values));
  }
  if (count > settings.inlineElementLimit) {
    // Resource keys must be printable identifiers; the blob manager uniques
    // them if two tensors share a sanitized name.
    std::string key = tensor.name().empty() ? "tensor" : tensor.name();
    for (char &c : key)
      if (!llvm::isAlnum(c) && c != '_' && c != '.')
        c = '_';
    if (!llvm::isAlpha(key.front()) && key.front() != '_')
      key.insert(key.begin(), '_');
    ArrayRef<char> data(bytes->data(), bytes->size());
    return ElementsAttr(DenseResourceElementsAttr::get(
        type, key,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(
            data, alignof(uint64_t), /*dataIsMutable=*/false)));
  }
  ArrayRef<char> data(bytes->data(), bytes->size());
  bool isSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, data, isSplat))
    return emitError(loc) << what << ": its data does not match its type";
  return ElementsAttr(DenseElementsAttr::getFromRawBuffer(type, data));
}
