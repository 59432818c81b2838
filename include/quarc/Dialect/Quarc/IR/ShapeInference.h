//===- ShapeInference.h - helpers shared by the ops' type inference -*- C++ -*-===//
//
// Result-type inference of quarc ops must never assume its operands are well
// formed: it runs before verification, on whatever an ONNX file contains. Each
// helper reports a problem with emitOptionalError and returns failure.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_SHAPEINFERENCE_H
#define QUARC_DIALECT_QUARC_IR_SHAPEINFERENCE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/TypeRange.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Value.h"
#include "mlir/IR/ValueRange.h"
#include "mlir/Support/LLVM.h"
#include <optional>

namespace mlir::quarc {

/// The rule every quarc op uses to check declared against inferred result
/// types: same element types and ranks, and each declared dim equal to the
/// inferred one or refining an inferred `?`.
bool areCompatibleReturnTypes(TypeRange inferred, TypeRange actual);

/// True if `value` is an absent optional input (`none`).
bool isNone(Value value);

/// The ranked tensor type of `value`, or failure with a diagnostic naming
/// `what` (for example "input X").
FailureOr<RankedTensorType> getRankedType(std::optional<Location> loc,
                                          Value value, StringRef what);

/// Appends a ranked tensor type of `shape` and `element` to `types`.
LogicalResult pushTensorType(SmallVectorImpl<Type> &types,
                             ArrayRef<int64_t> shape, Type element);

/// The length of the 1-D operand `operand` (failure unless it is 1-D with a
/// static length), for results whose rank it gives.
FailureOr<int64_t> getStaticLength(std::optional<Location> loc, Value operand,
                                   StringRef what);

/// The dims a 1-D i64 shape operand gives: its values when it is a constant,
/// otherwise as many `?` as its static length.
FailureOr<SmallVector<int64_t>> getShapeOperandDims(std::optional<Location> loc,
                                                    Value operand,
                                                    StringRef what);

/// Numpy multidirectional broadcast of `shapes`.
FailureOr<SmallVector<int64_t>>
broadcastShapes(std::optional<Location> loc, ArrayRef<ArrayRef<int64_t>> shapes);

/// Broadcasts all `operands`; the element type is `element`, or the first
/// operand's when null.
LogicalResult inferBroadcastResult(std::optional<Location> loc,
                                   ValueRange operands, Type element,
                                   SmallVectorImpl<Type> &types);

/// The values of a constant integer tensor (`quarc.constant`, dense or
/// resource-backed), or nullopt when `value` is not a known constant.
std::optional<SmallVector<int64_t>> getConstantIntValues(Value value);

/// The values of a constant floating-point tensor, as doubles.
std::optional<SmallVector<double>> getConstantFloatValues(Value value);

/// `axis` in [-rank, rank) made non-negative, or failure naming `what`.
FailureOr<int64_t> normalizeAxis(std::optional<Location> loc, int64_t axis,
                                 int64_t rank, StringRef what);

/// Spatial output dims of a convolution or pooling window, per ONNX.
struct WindowParams {
  SmallVector<int64_t> kernel, strides, dilations, pads;
  StringRef autoPad;
  bool ceilMode = false;
};
/// Fills defaults (strides/dilations 1, pads 0) for `numSpatial` dims and
/// checks the list lengths.
LogicalResult completeWindowParams(std::optional<Location> loc,
                                   int64_t numSpatial, WindowParams &params);
/// The output size of one spatial dim (ShapedType::kDynamic if `inputSize`
/// is dynamic).
FailureOr<int64_t> windowOutputSize(std::optional<Location> loc,
                                    const WindowParams &params, unsigned dim,
                                    int64_t inputSize);

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_IR_SHAPEINFERENCE_H
