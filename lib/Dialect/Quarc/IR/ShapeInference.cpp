//===- ShapeInference.cpp - helpers shared by the ops' type inference -----===//

#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinDialect.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace mlir::quarc {

bool areCompatibleReturnTypes(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  for (auto [inferredType, actualType] : llvm::zip(inferred, actual)) {
    if (inferredType == actualType)
      continue;
    auto inferredTensor = dyn_cast<RankedTensorType>(inferredType);
    auto actualTensor = dyn_cast<RankedTensorType>(actualType);
    if (!inferredTensor || !actualTensor ||
        inferredTensor.getElementType() != actualTensor.getElementType() ||
        inferredTensor.getRank() != actualTensor.getRank())
      return false;
    for (auto [want, have] :
         llvm::zip(inferredTensor.getShape(), actualTensor.getShape()))
      if (!ShapedType::isDynamic(want) && want != have)
        return false;
  }
  return true;
}

bool isNone(Value value) { return value && isa<NoneType>(value.getType()); }

FailureOr<RankedTensorType> getRankedType(std::optional<Location> loc,
                                          Value value, StringRef what) {
  if (value)
    if (auto type = dyn_cast<RankedTensorType>(value.getType()))
      return type;
  return emitOptionalError(loc, what, " must be a ranked tensor");
}

LogicalResult pushTensorType(SmallVectorImpl<Type> &types,
                             ArrayRef<int64_t> shape, Type element) {
  types.push_back(RankedTensorType::get(shape, element));
  return success();
}

FailureOr<int64_t> getStaticLength(std::optional<Location> loc, Value operand,
                                   StringRef what) {
  FailureOr<RankedTensorType> type = getRankedType(loc, operand, what);
  if (failed(type))
    return failure();
  if (type->getRank() != 1)
    return emitOptionalError(loc, what, " must be 1-D");
  if (type->isDynamicDim(0))
    return emitOptionalError(loc, what, " has an unknown length, so the "
                                        "result rank is unknown");
  return type->getDimSize(0);
}

FailureOr<SmallVector<int64_t>> getShapeOperandDims(std::optional<Location> loc,
                                                    Value operand,
                                                    StringRef what) {
  FailureOr<int64_t> length = getStaticLength(loc, operand, what);
  if (failed(length))
    return failure();
  if (std::optional<SmallVector<int64_t>> values = getConstantIntValues(operand))
    return *values;
  return SmallVector<int64_t>(*length, ShapedType::kDynamic);
}

FailureOr<SmallVector<int64_t>>
broadcastShapes(std::optional<Location> loc,
                ArrayRef<ArrayRef<int64_t>> shapes) {
  size_t rank = 0;
  for (ArrayRef<int64_t> shape : shapes)
    rank = std::max(rank, shape.size());
  SmallVector<int64_t> result(rank, 1);
  for (ArrayRef<int64_t> shape : shapes) {
    size_t offset = rank - shape.size();
    for (auto [i, dim] : llvm::enumerate(shape)) {
      int64_t &out = result[offset + i];
      if (dim == 1)
        continue;
      if (out == 1) {
        out = dim;
        continue;
      }
      if (ShapedType::isDynamic(dim))
        continue; // A `?` matches the static size (or `?`) already there.
      if (ShapedType::isDynamic(out)) {
        out = dim;
        continue;
      }
      if (out != dim)
        return emitOptionalError(loc, "operands cannot be broadcast: dim ",
                                 offset + i, " is ", out, " and ", dim);
    }
  }
  return result;
}

LogicalResult inferBroadcastResult(std::optional<Location> loc,
                                   ValueRange operands, Type element,
                                   SmallVectorImpl<Type> &types) {
  if (operands.empty())
    return emitOptionalError(loc, "needs at least one input");
  SmallVector<ArrayRef<int64_t>> shapes;
  for (auto [i, operand] : llvm::enumerate(operands)) {
    FailureOr<RankedTensorType> type =
        getRankedType(loc, operand, "input " + std::to_string(i));
    if (failed(type))
      return failure();
    shapes.push_back(type->getShape());
  }
  FailureOr<SmallVector<int64_t>> shape = broadcastShapes(loc, shapes);
  if (failed(shape))
    return failure();
  if (!element)
    element = cast<RankedTensorType>(operands.front().getType()).getElementType();
  types.push_back(RankedTensorType::get(*shape, element));
  return success();
}

/// The elements attribute behind a constant value, if any.
static ElementsAttr getConstantElements(Value value) {
  if (!value)
    return nullptr;
  if (auto constant = value.getDefiningOp<ConstantOp>())
    return constant.getValue();
  return nullptr;
}

/// Raw little-endian bytes of a resource-backed constant.
static std::optional<ArrayRef<char>> getResourceBytes(ElementsAttr attr) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  return blob->getData();
}

std::optional<SmallVector<int64_t>> getConstantIntValues(Value value) {
  ElementsAttr attr = getConstantElements(value);
  if (!attr)
    return std::nullopt;
  auto intType = dyn_cast<IntegerType>(attr.getElementType());
  if (!intType)
    return std::nullopt;
  SmallVector<int64_t> values;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(intType.isUnsigned() ? int64_t(v.getZExtValue())
                                            : v.getSExtValue());
    return values;
  }
  std::optional<ArrayRef<char>> bytes = getResourceBytes(attr);
  unsigned width = intType.getWidth();
  // As in dense attributes, elements narrower than a byte take one byte
  // (4-bit weights); others are 8, 16, 32 or 64 bits.
  unsigned elementBytes = width < 8 ? 1 : width / 8;
  if (!bytes || width < 2 ||
      (width > 8 && width != 16 && width != 32 && width != 64))
    return std::nullopt;
  size_t count = attr.getNumElements();
  if (bytes->size() != count * elementBytes)
    return std::nullopt;
  // Resources hold 8- and 16-bit constants too (per-channel zero points).
  bool isUnsigned = intType.isUnsigned();
  for (size_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, bytes->data() + i * elementBytes, elementBytes);
    if (width < 64)
      bits &= (uint64_t(1) << width) - 1;
    APInt v(width, bits);
    values.push_back(isUnsigned ? int64_t(v.getZExtValue()) : v.getSExtValue());
  }
  return values;
}

std::optional<SmallVector<double>> getConstantFloatValues(Value value) {
  ElementsAttr attr = getConstantElements(value);
  if (!attr || !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  SmallVector<double> values;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    for (const APFloat &v : dense.getValues<APFloat>())
      values.push_back(v.convertToDouble());
    return values;
  }
  std::optional<ArrayRef<char>> bytes = getResourceBytes(attr);
  if (!bytes || !attr.getElementType().isF32() ||
      bytes->size() != size_t(attr.getNumElements()) * 4)
    return std::nullopt;
  for (size_t i = 0, e = attr.getNumElements(); i < e; ++i) {
    float v;
    std::memcpy(&v, bytes->data() + i * 4, 4);
    values.push_back(v);
  }
  return values;
}

FailureOr<int64_t> normalizeAxis(std::optional<Location> loc, int64_t axis,
                                 int64_t rank, StringRef what) {
  if (axis < -rank || axis >= rank)
    return emitOptionalError(loc, what, " ", axis, " is out of range for rank ",
                             rank);
  return axis < 0 ? axis + rank : axis;
}

LogicalResult completeWindowParams(std::optional<Location> loc,
                                   int64_t numSpatial, WindowParams &params) {
  if (numSpatial < 1)
    return emitOptionalError(loc, "needs at least one spatial dim");
  auto fill = [&](SmallVector<int64_t> &list, size_t size, int64_t value,
                  StringRef name) -> LogicalResult {
    if (list.empty())
      list.assign(size, value);
    if (list.size() != size)
      return emitOptionalError(loc, "'", name, "' has ", list.size(),
                               " values, expected ", size);
    return success();
  };
  if (failed(fill(params.kernel, numSpatial, 1, "kernel_shape")) ||
      failed(fill(params.strides, numSpatial, 1, "strides")) ||
      failed(fill(params.dilations, numSpatial, 1, "dilations")) ||
      failed(fill(params.pads, 2 * numSpatial, 0, "pads")))
    return failure();
  for (int64_t i = 0; i < numSpatial; ++i) {
    if (params.kernel[i] < 1 || params.strides[i] < 1 ||
        params.dilations[i] < 1)
      return emitOptionalError(
          loc, "kernel_shape, strides and dilations must be positive");
    if (params.pads[i] < 0 || params.pads[i + numSpatial] < 0)
      return emitOptionalError(loc, "pads must be non-negative");
  }
  if (params.autoPad != "NOTSET" && params.autoPad != "SAME_UPPER" &&
      params.autoPad != "SAME_LOWER" && params.autoPad != "VALID")
    return emitOptionalError(loc, "unknown auto_pad '", params.autoPad,
                             "' (expected NOTSET, SAME_UPPER, SAME_LOWER or "
                             "VALID)");
  return success();
}

FailureOr<int64_t> windowOutputSize(std::optional<Location> loc,
                                    const WindowParams &params, unsigned dim,
                                    int64_t inputSize) {
  if (ShapedType::isDynamic(inputSize))
    return ShapedType::kDynamic;
  int64_t stride = params.strides[dim];
  int64_t extent = (params.kernel[dim] - 1) * params.dilations[dim] + 1;
  if (params.autoPad == "SAME_UPPER" || params.autoPad == "SAME_LOWER")
    return llvm::divideCeil(inputSize, stride);
  int64_t numSpatial = params.kernel.size();
  int64_t padBegin = params.autoPad == "VALID" ? 0 : params.pads[dim];
  int64_t padEnd = params.autoPad == "VALID" ? 0 : params.pads[dim + numSpatial];
  int64_t span = inputSize + padBegin + padEnd - extent;
  if (span < 0)
    return emitOptionalError(loc, "window of extent ", extent,
                             " does not fit spatial dim ", dim, " of size ",
                             inputSize, " (with padding)");
  int64_t size = (params.ceilMode ? llvm::divideCeil(span, stride)
                                  : span / stride) + 1;
  // With ceil_mode the last window must start inside the input or left pad.
  if (params.ceilMode && (size - 1) * stride >= inputSize + padBegin)
    --size;
  return size;
}

} // namespace mlir::quarc
