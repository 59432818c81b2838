//===- LoweringUtils.h - helpers shared by the quarc lowerings -*- C++ -*-===//
//
// Small builders every family of the quarc-to-linalg lowering needs:
// empty result tensors with their dynamic sizes, ONNX broadcasting as
// linalg indexing maps, scalar constants and casts, padding.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_LOWERINGUTILS_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {

/// The ranked result type of `op`'s result `index` (quantized element
/// types as their storage, see getStorageType), or a match failure
/// explaining that the lowering needs ranked tensors.
FailureOr<RankedTensorType> getRankedResultType(ConversionPatternRewriter &rewriter,
                                                Operation *op,
                                                unsigned index = 0);

/// `tensor.dim` values for the dynamic dimensions of `type`, where result
/// dimension i has the size of dimension `sourceDims[i]` of `source`.
SmallVector<Value> getDynamicSizes(OpBuilder &b, Location loc,
                                   RankedTensorType type, Value source,
                                   ArrayRef<int64_t> sourceDims);

/// Same, with the identity dimension map (the source has the result's rank).
SmallVector<Value> getDynamicSizes(OpBuilder &b, Location loc,
                                   RankedTensorType type, Value source);

/// Dynamic sizes of a broadcast result: dimension i is taken from the first
/// operand (right-aligned) whose matching dimension is dynamic.
SmallVector<Value> getBroadcastDynamicSizes(OpBuilder &b, Location loc,
                                            RankedTensorType type,
                                            ValueRange operands);

/// An uninitialized tensor of `type` (tensor.empty).
Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange dynamicSizes);

/// `source[offsets : sizes : strides]` (tensor.extract_slice), or a
/// tensor.empty of `sizes` when one of them is a constant 0: MLIR's verifier
/// rejects a static offset at the end of a dimension even for an empty
/// slice, and ONNX allows empty parts (a Split of [8, 0], a Slice past the
/// end).
Value extractSliceOrEmpty(OpBuilder &b, Location loc, Value source,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes,
                          ArrayRef<OpFoldResult> strides);

/// A tensor of `type` filled with `value` (tensor.empty + linalg.fill).
Value createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                   ValueRange dynamicSizes, Value value);

/// The indexing map reading an operand of `operandType` inside a loop nest
/// of rank `resultRank`, following ONNX (numpy) broadcasting: leading
/// dimensions are dropped, static size-1 dimensions read index 0.
AffineMap getBroadcastMap(MLIRContext *context, RankedTensorType operandType,
                          int64_t resultRank);

/// Computes one element of an elementwise op from the scalar operands.
using ScalarBuilder =
    function_ref<Value(OpBuilder &b, Location loc, ValueRange scalars)>;

/// A parallel linalg.generic over `resultType` that reads `inputs` with
/// broadcasting and yields `body(scalars)`. Inputs must be ranked tensors.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, ScalarBuilder body);

/// A scalar constant of int, index or float type `type`.
Value createScalar(OpBuilder &b, Location loc, Type type, double value);

/// Converts a scalar between int/float types following ONNX Cast: float to
/// int truncates toward zero, int widening sign-extends (zero-extends i1).
Value castScalar(OpBuilder &b, Location loc, Value value, Type to);

/// Pads `input` with `value` by `low`/`high` per dimension (tensor.pad);
/// returns `input` itself when all pads are zero.
Value padTensor(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                ArrayRef<int64_t> high, Value value);

/// True when a linalg lowering supports this element type: signless
/// integers, index and floats. ONNX unsigned types (`ui8`) are not lowered
/// yet.
bool isLowerableElementType(Type type);

/// `type` as the lowering stores it: a tensor of `!quant.uniform` elements
/// becomes a tensor of their signless storage integers (the quantized type
/// says whether the bits are signed), a tensor of unsigned integers one of
/// signless integers of the same width (the ops that care about the sign
/// read it from the original types); any other type is itself.
Type getStorageType(Type type);

/// `value` as `type` (stored as getStorageType(type) says): itself when the
/// types match, else a tensor.cast (the declared result type of a quarc op
/// may be more static than what the lowering computes from the operands,
/// or the other way round). The ops that pass quantized tensors through
/// (Reshape, Transpose, MaxPool, ...) lower on the stored values, so their
/// declared quantized types are cast to as their storage.
Value castToType(OpBuilder &b, Location loc, Value value, Type type);

/// The reassociation that collapses away the size-1 dims `unitDims` of a
/// rank-`expandedRank` shape: every other dim is grouped with the unit dims
/// before it, trailing unit dims join the last group. Empty when every dim
/// is a unit dim (the collapsed tensor is 0-D).
SmallVector<ReassociationIndices>
getUnitDimsReassociation(int64_t expandedRank, ArrayRef<int64_t> unitDims);

/// Drops the dims `unitDims` of `source` (tensor.collapse_shape). Dynamic
/// dims among them are first cast to 1, as ONNX Squeeze asserts.
Value collapseUnitDims(OpBuilder &b, Location loc, Value source,
                       ArrayRef<int64_t> unitDims);

/// Inserts size-1 dims so that they sit at `unitDims` (sorted positions in
/// the result) (tensor.expand_shape): Unsqueeze, and keepdims of reductions.
Value expandUnitDims(OpBuilder &b, Location loc, Value source,
                     ArrayRef<int64_t> unitDims);

/// Scalar arithmetic on a float or signless-integer pair of the same type;
/// float max/min propagate NaN (arith.maximumf/minimumf), as ONNX does.
/// A tensor of `type` whose elements are `bias[d]`, d the index along
/// `channelDim` (a bias as a product's initial value).
Value broadcastBias(OpBuilder &b, Location loc, RankedTensorType type,
                    ValueRange dynamicSizes, Value bias, int64_t channelDim);

/// Merges dims [0, count) of `value` (count >= 1) into one, keeping the
/// others.
Value collapseLeading(OpBuilder &b, Location loc, Value value, int64_t count);
/// Splits dim 0 of `value` back into the leading dims of `type`, whose
/// sizes are `sizes` (the other dims are kept).
Value expandLeading(OpBuilder &b, Location loc, Value value,
                    RankedTensorType type, ArrayRef<OpFoldResult> sizes);

Value createAdd(OpBuilder &b, Location loc, Value x, Value y);
Value createMul(OpBuilder &b, Location loc, Value x, Value y);
Value createMaximum(OpBuilder &b, Location loc, Value x, Value y);
Value createMinimum(OpBuilder &b, Location loc, Value x, Value y);

/// The values of the constant integer operand `value` (of the original op,
/// not an adaptor value), or a "must be a constant" error naming `what`.
FailureOr<SmallVector<int64_t>> requireConstantInts(Operation *op, Value value,
                                                    StringRef what);

/// The constant `axes` operand normalized into [0, rank), in the given
/// order; errors name the op.
FailureOr<SmallVector<int64_t>> requireConstantAxes(Operation *op, Value axes,
                                                    int64_t rank);

/// The map from a loop nest of `rank` to its leading `count` dims (a
/// per-row operand); unlike getMajorSubMap it is not null for count 0.
AffineMap getLeadingDimsMap(int64_t rank, int64_t count, MLIRContext *context);

/// Reduces dims [first, rank) of `input` with `body`, starting from `init`.
/// `perRow` operands have `input`'s leading `first` dims and are read once
/// per reduced row. The result has those leading dims and init's type.
using ReduceBody = function_ref<Value(OpBuilder &b, Location loc,
                                      ValueRange inputs, Value acc)>;
Value reduceTrailing(OpBuilder &b, Location loc, Value input, ValueRange perRow,
                     int64_t first, Value init, ReduceBody body);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_LOWERINGUTILS_H
