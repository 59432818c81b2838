//===- TensorExport.cpp - MLIR types and constants to ONNX ---------------===//

#include "TensorExport.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::onnx_export;

int32_t onnx_export::getOnnxDataType(Type element) {
  if (auto quantized = dyn_cast<quant::QuantizedType>(element)) {
    auto storage = dyn_cast<IntegerType>(quantized.getStorageType());
    if (!storage)
      return kUndefined;
    bool isSigned = quantized.isSigned();
    switch (storage.getWidth()) {
    case 4:
      return isSigned ? kInt4 : kUint4;
    case 8:
      return isSigned ? kInt8 : kUint8;
    case 16:
      return isSigned ? kInt16 : kUint16;
    case 32:
      return isSigned ? kInt32 : kUint32;
    default:
      return kUndefined;
    }
  }
  if (auto integer = dyn_cast<IntegerType>(element)) {
    bool isUnsigned = integer.isUnsigned();
    switch (integer.getWidth()) {
    case 1:
      return isUnsigned ? kUndefined : kBool;
    case 4:
      return isUnsigned ? kUint4 : kInt4;
    case 8:
      return isUnsigned ? kUint8 : kInt8;
    case 16:
      return isUnsigned ? kUint16 : kInt16;
    case 32:
      return isUnsigned ? kUint32 : kInt32;
    case 64:
      return isUnsigned ? kUint64 : kInt64;
    default:
      return kUndefined;
    }
  }
  if (element.isF32())
    return kFloat;
  if (element.isF64())
    return kDouble;
  if (element.isF16())
    return kFloat16;
  if (element.isBF16())
    return kBFloat16;
  if (isa<Float8E4M3FNType>(element))
    return kFloat8E4M3FN;
  if (isa<Float8E4M3FNUZType>(element))
    return kFloat8E4M3FNUZ;
  if (isa<Float8E5M2Type>(element))
    return kFloat8E5M2;
  if (isa<Float8E5M2FNUZType>(element))
    return kFloat8E5M2FNUZ;
  if (isa<Float4E2M1FNType>(element))
    return kFloat4E2M1;
  return kUndefined;
}

StringRef onnx_export::getOnnxDataTypeName(int32_t dataType) {
  static const char *const names[] = {
      "UNDEFINED",      "FLOAT",        "UINT8",          "INT8",
      "UINT16",         "INT16",        "INT32",          "INT64",
      "STRING",         "BOOL",         "FLOAT16",        "DOUBLE",
      "UINT32",         "UINT64",       "COMPLEX64",      "COMPLEX128",
      "BFLOAT16",       "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
      "FLOAT8E5M2FNUZ", "UINT4",        "INT4",           "FLOAT4E2M1"};
  if (dataType >= 0 && size_t(dataType) < std::size(names))
    return names[dataType];
  return "an unknown data type";
}

/// Bits of one element of an ONNX data type (0 if unknown).
static unsigned getDataTypeBits(int32_t dataType) {
  switch (dataType) {
  case kBool:
    return 1;
  case kUint4:
  case kInt4:
  case kFloat4E2M1:
    return 4;
  case kUint8:
  case kInt8:
  case kFloat8E4M3FN:
  case kFloat8E4M3FNUZ:
  case kFloat8E5M2:
  case kFloat8E5M2FNUZ:
    return 8;
  case kUint16:
  case kInt16:
  case kFloat16:
  case kBFloat16:
    return 16;
  case kFloat:
  case kInt32:
  case kUint32:
    return 32;
  case kDouble:
  case kInt64:
  case kUint64:
    return 64;
  default:
    return 0;
  }
}

LogicalResult onnx_export::exportTensorType(RankedTensorType tensorType,
                                            StringRef name,
                                            onnx::TypeProto &type,
                                            Location loc) {
  int32_t dataType = getOnnxDataType(tensorType.getElementType());
  if (dataType == kUndefined)
    return emitError(loc) << "tensor '" << name << "': the element type "
                          << tensorType.getElementType()
                          << " has no ONNX data type";
  onnx::TypeProto::Tensor *tensor = type.mutable_tensor_type();
  tensor->set_elem_type(dataType);
  onnx::TensorShapeProto *shape = tensor->mutable_shape();
  for (auto [i, dim] : llvm::enumerate(tensorType.getShape())) {
    onnx::TensorShapeProto::Dimension *out = shape->add_dim();
    if (ShapedType::isDynamic(dim))
      out->set_dim_param((name + "_d" + Twine(i)).str());
    else
      out->set_dim_value(dim);
  }
  return success();
}

/// The elements of `value` as little-endian bytes, one element after the
/// other; sub-byte elements (bool, 4-bit) take one byte each.
static FailureOr<std::string> getUnpackedBytes(ElementsAttr value,
                                               Location loc) {
  auto type = cast<ShapedType>(value.getType());
  Type element = type.getElementType();
  if (!element.isIntOrFloat())
    return emitError(loc) << "constants of " << element
                          << " elements cannot be exported";
  unsigned width = element.getIntOrFloatBitWidth();
  int64_t count = type.getNumElements();
  std::string bytes;

  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (width == 1) {
      for (bool b : dense.getValues<bool>())
        bytes.push_back(b ? 1 : 0);
      return bytes;
    }
    if (width < 8) {
      if (isa<FloatType>(element)) {
        for (const APFloat &v : dense.getValues<APFloat>())
          bytes.push_back(char(v.bitcastToAPInt().getZExtValue()));
      } else {
        for (const APInt &v : dense.getValues<APInt>())
          bytes.push_back(char(v.getZExtValue()));
      }
      return bytes;
    }
    if (width % 8 != 0)
      return emitError(loc)
             << "constants of " << element << " elements cannot be exported";
    ArrayRef<char> raw = dense.getRawData();
    size_t elementBytes = width / 8;
    if (dense.isSplat() && raw.size() == elementBytes) {
      bytes.reserve(count * elementBytes);
      for (int64_t i = 0; i < count; ++i)
        bytes.append(raw.begin(), raw.end());
      return bytes;
    }
    if (raw.size() != size_t(count) * elementBytes)
      return emitError(loc) << "a dense constant of " << type << " has "
                            << raw.size() << " bytes";
    return std::string(raw.begin(), raw.end());
  }

  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    // Elements narrower than a byte (4-bit weights) take one byte each, as
    // in dense attributes.
    size_t elementBytes = width < 8 ? 1 : width / 8;
    if (width == 1 || (width > 8 && width % 8 != 0))
      return emitError(loc) << "resource constants of " << element
                            << " elements cannot be exported";
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return emitError(loc)
             << "the constant's resource '" << resource.getRawHandle().getKey()
             << "' has no data (was it elided?)";
    ArrayRef<char> raw = blob->getData();
    if (raw.size() != size_t(count) * elementBytes)
      return emitError(loc)
             << "the constant's resource '" << resource.getRawHandle().getKey()
             << "' has " << raw.size() << " bytes, " << type << " needs "
             << count * elementBytes;
    return std::string(raw.begin(), raw.end());
  }
  return emitError(loc) << "constants stored as " << value
                        << " cannot be exported (dense and dense_resource "
                           "elements can)";
}

/// Appends `count` elements of `bytes` (each `elementBytes` wide) to the
/// typed field of `dataType`; false if that type has none here.
static bool appendTypedFields(int32_t dataType, StringRef bytes,
                              size_t elementBytes, onnx::TensorProto &tensor) {
  size_t count = bytes.size() / elementBytes;
  auto load = [&](size_t i, auto zero) {
    decltype(zero) v;
    std::memcpy(&v, bytes.data() + i * elementBytes, sizeof(v));
    return v;
  };
  for (size_t i = 0; i < count; ++i) {
    switch (dataType) {
    case kFloat:
      tensor.add_float_data(load(i, float()));
      break;
    case kDouble:
      tensor.add_double_data(load(i, double()));
      break;
    case kInt64:
      tensor.add_int64_data(load(i, int64_t()));
      break;
    case kInt32:
      tensor.add_int32_data(load(i, int32_t()));
      break;
    case kInt16:
      tensor.add_int32_data(load(i, int16_t()));
      break;
    case kInt8:
      tensor.add_int32_data(load(i, int8_t()));
      break;
    case kUint16:
      tensor.add_int32_data(load(i, uint16_t()));
      break;
    case kUint8:
      tensor.add_int32_data(load(i, uint8_t()));
      break;
    case kBool:
      tensor.add_int32_data(load(i, uint8_t()) != 0);
      break;
    default:
      return false;
    }
  }
  return true;
}

LogicalResult onnx_export::exportTensor(ElementsAttr value, int32_t dataType,
                                        int64_t typedFieldElementLimit,
                                        onnx::TensorProto &tensor,
                                        Location loc) {
  auto type = cast<ShapedType>(value.getType());
  if (!type.hasStaticShape())
    return emitError(loc) << "a constant of the dynamic type " << type
                          << " cannot be exported";
  Type element = type.getElementType();
  unsigned bits = getDataTypeBits(dataType);
  if (bits == 0 || !element.isIntOrFloat() ||
      element.getIntOrFloatBitWidth() != bits)
    return emitError(loc) << "a constant of " << element
                          << " cannot be stored as ONNX "
                          << getOnnxDataTypeName(dataType);
  FailureOr<std::string> bytes = getUnpackedBytes(value, loc);
  if (failed(bytes))
    return failure();

  tensor.set_data_type(dataType);
  for (int64_t dim : type.getShape())
    tensor.add_dims(dim);
  int64_t count = type.getNumElements();
  if (count == 0)
    return success(); // no data field at all, as the checker wants
  size_t elementBytes = std::max(1u, bits / 8);
  if (count <= typedFieldElementLimit &&
      appendTypedFields(dataType, *bytes, elementBytes, tensor))
    return success();
  if (bits == 4) {
    // Two elements a byte, the first in the low nibble.
    std::string packed((count + 1) / 2, '\0');
    for (int64_t i = 0; i < count; ++i)
      packed[i / 2] |= char((uint8_t((*bytes)[i]) & 0xF) << ((i % 2) * 4));
    tensor.set_raw_data(std::move(packed));
    return success();
  }
  tensor.set_raw_data(std::move(*bytes));
  return success();
}
