//===- LoweringUtils.cpp - helpers shared by the quarc lowerings ---------===//

#include "LoweringUtils.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

namespace mlir::quarc {

FailureOr<RankedTensorType>
getRankedResultType(ConversionPatternRewriter &rewriter, Operation *op,
                    unsigned index) {
  auto type = dyn_cast<RankedTensorType>(
      getStorageType(op->getResult(index).getType()));
  if (!type)
    return rewriter.notifyMatchFailure(op, "result is not a ranked tensor");
  return type;
}

SmallVector<Value> getDynamicSizes(OpBuilder &b, Location loc,
                                   RankedTensorType type, Value source,
                                   ArrayRef<int64_t> sourceDims) {
  SmallVector<Value> sizes;
  for (auto [i, dim] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(dim))
      sizes.push_back(tensor::DimOp::create(b, loc, source, sourceDims[i]));
  return sizes;
}

SmallVector<Value> getDynamicSizes(OpBuilder &b, Location loc,
                                   RankedTensorType type, Value source) {
  SmallVector<int64_t> identity =
      llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
  return getDynamicSizes(b, loc, type, source, identity);
}

SmallVector<Value> getBroadcastDynamicSizes(OpBuilder &b, Location loc,
                                            RankedTensorType type,
                                            ValueRange operands) {
  SmallVector<Value> sizes;
  int64_t rank = type.getRank();
  for (int64_t i = 0; i < rank; ++i) {
    if (!ShapedType::isDynamic(type.getDimSize(i)))
      continue;
    Value size;
    for (Value operand : operands) {
      auto operandType = cast<RankedTensorType>(operand.getType());
      int64_t j = i - (rank - operandType.getRank());
      if (j >= 0 && ShapedType::isDynamic(operandType.getDimSize(j))) {
        size = tensor::DimOp::create(b, loc, operand, j);
        break;
      }
    }
    // Every dynamic result dimension comes from some dynamic operand
    // dimension; the shape rules guarantee it.
    assert(size && "dynamic broadcast dimension without a dynamic source");
    sizes.push_back(size);
  }
  return sizes;
}

Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange dynamicSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

Value extractSliceOrEmpty(OpBuilder &b, Location loc, Value source,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes,
                          ArrayRef<OpFoldResult> strides) {
  if (llvm::any_of(sizes, isZeroInteger))
    return tensor::EmptyOp::create(
        b, loc, sizes,
        cast<RankedTensorType>(source.getType()).getElementType());
  return tensor::ExtractSliceOp::create(b, loc, source, offsets, sizes,
                                        strides);
}

Value createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                   ValueRange dynamicSizes, Value value) {
  Value empty = createEmpty(b, loc, type, dynamicSizes);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

AffineMap getBroadcastMap(MLIRContext *context, RankedTensorType operandType,
                          int64_t resultRank) {
  int64_t offset = resultRank - operandType.getRank();
  SmallVector<AffineExpr> exprs;
  for (auto [i, dim] : llvm::enumerate(operandType.getShape()))
    exprs.push_back(dim == 1 && resultRank > 0
                        ? getAffineConstantExpr(0, context)
                        : getAffineDimExpr(offset + i, context));
  return AffineMap::get(resultRank, 0, exprs, context);
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, ScalarBuilder body) {
  int64_t rank = resultType.getRank();
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(getBroadcastMap(
        context, cast<RankedTensorType>(input.getType()), rank));
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));
  Value init = createEmpty(b, loc, resultType,
                           getBroadcastDynamicSizes(b, loc, resultType, inputs));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value createScalar(OpBuilder &b, Location loc, Type type, double value) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, int64_t(value));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, int64_t(value)));
}

Value castScalar(OpBuilder &b, Location loc, Value value, Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (fromFloat && toFloat)
    return fromFloat.getWidth() < toFloat.getWidth()
               ? arith::ExtFOp::create(b, loc, to, value).getResult()
               : arith::TruncFOp::create(b, loc, to, value).getResult();
  bool fromBool = from.isInteger(1);
  if (fromFloat)
    return to.isInteger(1)
               ? arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                       createScalar(b, loc, from, 0.0))
                     .getResult()
               : arith::FPToSIOp::create(b, loc, to, value).getResult();
  if (toFloat)
    return fromBool ? arith::UIToFPOp::create(b, loc, to, value).getResult()
                    : arith::SIToFPOp::create(b, loc, to, value).getResult();
  if (to.isInteger(1))
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value,
                                 createScalar(b, loc, from, 0));
  if (from.isIndex() || to.isIndex())
    return arith::IndexCastOp::create(b, loc, to, value);
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth > toWidth)
    return arith::TruncIOp::create(b, loc, to, value);
  return fromBool ? arith::ExtUIOp::create(b, loc, to, value).getResult()
                  : arith::ExtSIOp::create(b, loc, to, value).getResult();
}

Value padTensor(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                ArrayRef<int64_t> high, Value value) {
  if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (auto [i, dim] : llvm::enumerate(type.getShape()))
    shape.push_back(ShapedType::isDynamic(dim) ? dim : dim + low[i] + high[i]);
  auto padded = RankedTensorType::get(shape, type.getElementType());
  SmallVector<OpFoldResult> lowPads, highPads;
  for (auto [l, h] : llvm::zip(low, high)) {
    lowPads.push_back(b.getIndexAttr(l));
    highPads.push_back(b.getIndexAttr(h));
  }
  return tensor::PadOp::create(b, loc, padded, input, lowPads, highPads, value);
}

bool isLowerableElementType(Type type) {
  if (auto intType = dyn_cast<IntegerType>(type))
    return intType.isSignless();
  return isa<FloatType, IndexType>(type);
}

Type getStorageType(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return type;
  Type element = tensor.getElementType();
  if (auto quantized = dyn_cast<quant::QuantizedType>(element))
    return tensor.clone(IntegerType::get(
        type.getContext(), quantized.getStorageTypeIntegralWidth()));
  if (auto integer = dyn_cast<IntegerType>(element); integer && integer.isUnsigned())
    return tensor.clone(IntegerType::get(type.getContext(), integer.getWidth()));
  return type;
}

Value castToType(OpBuilder &b, Location loc, Value value, Type type) {
  type = getStorageType(type);
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(b, loc, type, value);
}

SmallVector<ReassociationIndices>
getUnitDimsReassociation(int64_t expandedRank, ArrayRef<int64_t> unitDims) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t i = 0; i < expandedRank; ++i) {
    pending.push_back(i);
    if (!llvm::is_contained(unitDims, i)) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!groups.empty())
    llvm::append_range(groups.back(), pending);
  return groups;
}

Value collapseUnitDims(OpBuilder &b, Location loc, Value source,
                       ArrayRef<int64_t> unitDims) {
  if (unitDims.empty())
    return source;
  auto type = cast<RankedTensorType>(source.getType());
  // collapse_shape cannot fold a dynamic dim into nothing: state the size 1.
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t dim : unitDims)
    shape[dim] = 1;
  source = castToType(b, loc, source, type.clone(shape));
  return tensor::CollapseShapeOp::create(
      b, loc, source, getUnitDimsReassociation(type.getRank(), unitDims));
}

Value expandUnitDims(OpBuilder &b, Location loc, Value source,
                     ArrayRef<int64_t> unitDims) {
  if (unitDims.empty())
    return source;
  auto type = cast<RankedTensorType>(source.getType());
  int64_t rank = type.getRank() + unitDims.size();
  SmallVector<int64_t> shape;
  auto dims = type.getShape().begin();
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(llvm::is_contained(unitDims, i) ? 1 : *dims++);
  // Each group has at most one dynamic dim, so the output shape is inferred.
  return tensor::ExpandShapeOp::create(
      b, loc, type.clone(shape), source,
      getUnitDimsReassociation(rank, unitDims));
}

Value createAdd(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::AddFOp::create(b, loc, x, y);
  return arith::AddIOp::create(b, loc, x, y);
}

Value createMul(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MulFOp::create(b, loc, x, y);
  return arith::MulIOp::create(b, loc, x, y);
}

Value createMaximum(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MaximumFOp::create(b, loc, x, y);
  return arith::MaxSIOp::create(b, loc, x, y);
}

Value createMinimum(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MinimumFOp::create(b, loc, x, y);
  return arith::MinSIOp::create(b, loc, x, y);
}

FailureOr<SmallVector<int64_t>> requireConstantInts(Operation *op, Value value,
                                                    StringRef what) {
  if (std::optional<SmallVector<int64_t>> values = getConstantIntValues(value))
    return *values;
  return op->emitOpError() << what
                           << " must be a constant to lower to native code "
                              "(run quarc-specialize-shapes and canonicalize "
                              "first)";
}

FailureOr<SmallVector<int64_t>> requireConstantAxes(Operation *op, Value axes,
                                                    int64_t rank) {
  FailureOr<SmallVector<int64_t>> values =
      requireConstantInts(op, axes, "axes");
  if (failed(values))
    return failure();
  SmallVector<int64_t> result;
  for (int64_t axis : *values) {
    FailureOr<int64_t> normalized =
        normalizeAxis(op->getLoc(), axis, rank, "axis");
    if (failed(normalized))
      return failure();
    result.push_back(*normalized);
  }
  return result;
}

Value collapseLeading(OpBuilder &b, Location loc, Value value, int64_t count) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t i = 0; i < count; ++i)
    groups[0].push_back(i);
  for (int64_t i = count; i < type.getRank(); ++i)
    groups.push_back({i});
  return tensor::CollapseShapeOp::create(b, loc, value, groups);
}

Value expandLeading(OpBuilder &b, Location loc, Value value,
                    RankedTensorType type, ArrayRef<OpFoldResult> sizes) {
  auto valueType = cast<RankedTensorType>(value.getType());
  int64_t count = type.getRank() - valueType.getRank() + 1;
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t i = 0; i < count; ++i)
    groups[0].push_back(i);
  for (int64_t i = count; i < type.getRank(); ++i)
    groups.push_back({i});
  return tensor::ExpandShapeOp::create(b, loc, type, value, groups, sizes);
}

Value broadcastBias(OpBuilder &b, Location loc, RankedTensorType type,
                    ValueRange dynamicSizes, Value bias, int64_t channelDim) {
  MLIRContext *context = b.getContext();
  AffineMap channel = AffineMap::get(
      type.getRank(), 0, getAffineDimExpr(channelDim, context), context);
  Value init = createEmpty(b, loc, type, dynamicSizes);
  SmallVector<AffineMap> maps = {
      channel, AffineMap::getMultiDimIdentityMap(type.getRank(), context)};
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, bias, init, maps, iterators,
             [](OpBuilder &nested, Location nestedLoc, ValueRange args) {
               linalg::YieldOp::create(nested, nestedLoc, args[0]);
             })
      .getResult(0);
}

AffineMap getLeadingDimsMap(int64_t rank, int64_t count, MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < count; ++i)
    exprs.push_back(getAffineDimExpr(i, context));
  return AffineMap::get(rank, 0, exprs, context);
}

Value reduceTrailing(OpBuilder &b, Location loc, Value input, ValueRange perRow,
                     int64_t first, Value init, ReduceBody body) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  MLIRContext *context = b.getContext();
  auto resultType =
      RankedTensorType::get(type.getShape().take_front(first), init.getType());
  Value filled = createFilled(b, loc, resultType,
                              getDynamicSizes(b, loc, resultType, input), init);
  AffineMap rowMap = getLeadingDimsMap(rank, first, context);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, context)};
  SmallVector<Value> inputs = {input};
  for (Value row : perRow) {
    inputs.push_back(row);
    maps.push_back(rowMap);
  }
  maps.push_back(rowMap);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  std::fill_n(iterators.begin(), first, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, filled, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back(), args.back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

} // namespace mlir::quarc
