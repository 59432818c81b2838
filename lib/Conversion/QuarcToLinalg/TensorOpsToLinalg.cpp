//===- TensorOpsToLinalg.cpp - data-movement quarc ops to tensor/linalg ---===//
//
// Ops that move data rather than compute it. Reshapes and slices become
// tensor ops that bufferize to views (collapse_shape/expand_shape,
// extract_slice); per-element index arithmetic that ONNX defines (gather,
// resize, the reflect/edge/wrap pads, reversal for negative slice steps)
// becomes a linalg.generic whose body reads the input with tensor.extract.
//
// Sizes are OpFoldResults throughout, so static shapes stay static and a
// dynamic dim (a symbolic batch) becomes tensor.dim arithmetic. Values that
// ONNX passes as tensors but that decide shapes (axes, pads, starts...) must
// be constants, read from the original op's operands.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>

namespace mlir::quarc {
namespace {

using arith::CmpIPredicate;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Index arithmetic on OpFoldResults: constants fold, so static sizes stay
/// attributes; anything else becomes arith on `index`.
class IndexMath {
public:
  IndexMath(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpFoldResult constant(int64_t v) { return b.getIndexAttr(v); }
  Value value(OpFoldResult x) {
    return getValueOrCreateConstantIndexOp(b, loc, x);
  }
  OpFoldResult dim(Value tensor, int64_t i) {
    return tensor::getMixedSize(b, loc, tensor, i);
  }

  OpFoldResult add(OpFoldResult x, OpFoldResult y) {
    if (isConstantIntValue(y, 0))
      return x;
    if (isConstantIntValue(x, 0))
      return y;
    return fold<arith::AddIOp>(x, y,
                               [](int64_t p, int64_t q) { return p + q; });
  }
  OpFoldResult sub(OpFoldResult x, OpFoldResult y) {
    if (isConstantIntValue(y, 0))
      return x;
    return fold<arith::SubIOp>(x, y,
                               [](int64_t p, int64_t q) { return p - q; });
  }
  OpFoldResult mul(OpFoldResult x, OpFoldResult y) {
    if (isConstantIntValue(y, 1))
      return x;
    if (isConstantIntValue(x, 1))
      return y;
    return fold<arith::MulIOp>(x, y,
                               [](int64_t p, int64_t q) { return p * q; });
  }
  OpFoldResult div(OpFoldResult x, OpFoldResult y) {
    if (isConstantIntValue(y, 1))
      return x;
    return fold<arith::DivSIOp>(x, y,
                                [](int64_t p, int64_t q) { return p / q; });
  }
  OpFoldResult ceilDiv(OpFoldResult x, OpFoldResult y) {
    return fold<arith::CeilDivSIOp>(x, y, [](int64_t p, int64_t q) {
      return llvm::divideCeilSigned(p, q);
    });
  }
  OpFoldResult min(OpFoldResult x, OpFoldResult y) {
    return fold<arith::MinSIOp>(
        x, y, [](int64_t p, int64_t q) { return std::min(p, q); });
  }
  OpFoldResult max(OpFoldResult x, OpFoldResult y) {
    return fold<arith::MaxSIOp>(
        x, y, [](int64_t p, int64_t q) { return std::max(p, q); });
  }
  OpFoldResult clamp(OpFoldResult x, OpFoldResult lo, OpFoldResult hi) {
    return min(max(x, lo), hi);
  }
  OpFoldResult product(ArrayRef<OpFoldResult> values) {
    OpFoldResult result = constant(1);
    for (OpFoldResult v : values)
      result = mul(result, v);
    return result;
  }

private:
  template <typename ArithOp>
  OpFoldResult fold(OpFoldResult x, OpFoldResult y,
                    function_ref<int64_t(int64_t, int64_t)> evaluate) {
    std::optional<int64_t> cx = getConstantIntValue(x);
    std::optional<int64_t> cy = getConstantIntValue(y);
    if (cx && cy)
      return constant(evaluate(*cx, *cy));
    return ArithOp::create(b, loc, value(x), value(y)).getResult();
  }

  OpBuilder &b;
  Location loc;
};

/// The tensor type with `sizes`: static where a size is a constant.
RankedTensorType typeWithSizes(ArrayRef<OpFoldResult> sizes, Type element) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  return RankedTensorType::get(shape, element);
}

/// Every dim of a rank-`rank` tensor, ascending.
SmallVector<int64_t> allDims(int64_t rank) {
  return llvm::to_vector(llvm::seq<int64_t>(0, rank));
}

/// Normalized axes from a constant list; all dims when `axes` is none.
FailureOr<SmallVector<int64_t>> getAxes(Operation *op, Value axes,
                                        int64_t rank) {
  if (isNone(axes))
    return allDims(rank);
  return requireConstantAxes(op, axes, rank);
}

/// The one element of a scalar (0-D or one-element) tensor.
Value extractScalar(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices;
  if (type.getRank() > 0)
    indices.assign(type.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, indices);
}

/// Element `i` of the 1-D integer tensor `tensor`, as an index.
Value extractIndex(OpBuilder &b, Location loc, Value tensor, int64_t i) {
  Value position = arith::ConstantIndexOp::create(b, loc, i);
  Value element = tensor::ExtractOp::create(b, loc, tensor, position);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), element);
}

/// A parallel linalg.generic that fills a new tensor of `sizes` with
/// `body(indices)`, where `indices` are the linalg.index of every dim.
using IndexedBody = function_ref<Value(OpBuilder &, Location, ValueRange)>;
Value buildIndexedGeneric(OpBuilder &b, Location loc,
                          ArrayRef<OpFoldResult> sizes, Type element,
                          IndexedBody body) {
  int64_t rank = sizes.size();
  Value init = tensor::EmptyOp::create(b, loc, sizes, element);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(nested, nestedLoc, d));
        linalg::YieldOp::create(nested, nestedLoc,
                                body(nested, nestedLoc, indices));
      });
  return generic.getResult(0);
}

/// A parallel linalg.generic of `sizes` that copies `input`, read through
/// `inputMap` (a broadcast or a projection).
Value buildCopyGeneric(OpBuilder &b, Location loc, Value input,
                       AffineMap inputMap, ArrayRef<OpFoldResult> sizes) {
  int64_t rank = sizes.size();
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  Value init = tensor::EmptyOp::create(b, loc, sizes, element);
  SmallVector<AffineMap> maps = {inputMap, b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init},
      maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc, args[0]);
      });
  return generic.getResult(0);
}

/// Reverses `input` along `dims` (for slices with negative steps).
Value reverseDims(OpBuilder &b, Location loc, Value input,
                  ArrayRef<int64_t> dims) {
  if (dims.empty())
    return input;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
  IndexMath m(b, loc);
  SmallVector<Value> lastIndex;
  for (int64_t d : dims)
    lastIndex.push_back(m.value(m.sub(sizes[d], m.constant(1))));
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  return buildIndexedGeneric(
      b, loc, sizes, element, [&](OpBuilder &nb, Location nl, ValueRange ivs) {
        SmallVector<Value> indices(ivs);
        for (auto [d, last] : llvm::zip(dims, lastIndex))
          indices[d] = arith::SubIOp::create(nb, nl, last, indices[d]);
        return tensor::ExtractOp::create(nb, nl, input, indices).getResult();
      });
}

//===----------------------------------------------------------------------===//
// Constant, Identity, Dropout, Shape
//===----------------------------------------------------------------------===//

/// quarc.constant keeps its attribute: a dense_resource blob stays a blob.
struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value)
      return op.emitOpError("value must be a typed elements attribute");
    // arith wants signless integers: unsigned data (stored weights of
    // uint8 quantization) keeps its bits under the signless type.
    auto type = cast<RankedTensorType>(getStorageType(op.getType()));
    if (type != op.getType()) {
      if (auto dense = dyn_cast<DenseElementsAttr>(value))
        value = dense.bitcast(type.getElementType());
      else if (auto blob = dyn_cast<DenseResourceElementsAttr>(value))
        value = DenseResourceElementsAttr::get(type, blob.getRawHandle());
      else
        return op.emitOpError("an unsigned constant must be dense or a "
                              "resource blob to lower");
    }
    Value constant = arith::ConstantOp::create(rewriter, op.getLoc(), value);
    rewriter.replaceOp(
        op, castToType(rewriter, op.getLoc(), constant, op.getType()));
    return success();
  }
};

struct IdentityLowering : OpConversionPattern<IdentityOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(IdentityOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, castToType(rewriter, op.getLoc(), adaptor.getInput(),
                                      op.getType()));
    return success();
  }
};

/// In inference Dropout passes its input through; the mask is all true.
struct DropoutLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    if (!isNone(op.getTrainingMode()) &&
        !getConstantIntValues(op.getTrainingMode()))
      return op.emitOpError("training_mode must be a constant false to lower "
                            "to native code");
    Value data = adaptor.getData();
    auto maskType = cast<RankedTensorType>(op.getMask().getType());
    Value mask = createFilled(
        rewriter, loc, maskType, getDynamicSizes(rewriter, loc, maskType, data),
        createScalar(rewriter, loc, rewriter.getI1Type(), 1));
    rewriter.replaceOp(
        op, {castToType(rewriter, loc, data, op.getOutput().getType()), mask});
    return success();
  }
};

/// The [start, end) dims Shape returns, clamped as ONNX says.
std::pair<int64_t, int64_t> getShapeRange(ShapeOp op, int64_t rank) {
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::max<int64_t>(0, std::min(v, rank));
  };
  int64_t from = op.getStart() ? clamp(int64_t(*op.getStart())) : 0;
  int64_t to = op.getEnd() ? clamp(int64_t(*op.getEnd())) : rank;
  return {from, std::max(from, to)};
}

/// A constant for static dims; tensor.dim + index_cast for dynamic ones.
struct ShapeLowering : OpConversionPattern<ShapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ShapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto [from, to] = getShapeRange(op, dataType.getRank());
    ArrayRef<int64_t> dims = dataType.getShape().slice(from, to - from);
    auto type = RankedTensorType::get({to - from}, rewriter.getI64Type());
    Value result;
    if (!llvm::is_contained(dims, ShapedType::kDynamic)) {
      result = arith::ConstantOp::create(rewriter, loc,
                                         DenseIntElementsAttr::get(type, dims));
    } else {
      SmallVector<Value> elements;
      for (int64_t d = from; d < to; ++d) {
        if (!dataType.isDynamicDim(d)) {
          elements.push_back(createScalar(rewriter, loc, rewriter.getI64Type(),
                                          dataType.getDimSize(d)));
          continue;
        }
        Value size = tensor::DimOp::create(rewriter, loc, data, d);
        elements.push_back(arith::IndexCastOp::create(
            rewriter, loc, rewriter.getI64Type(), size));
      }
      result = tensor::FromElementsOp::create(rewriter, loc, type, elements);
    }
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reshape, Flatten, Squeeze, Unsqueeze
//===----------------------------------------------------------------------===//

/// Says whether group `c` of a reassociation is known to match the data
/// even where its dims are dynamic.
using KnownGroupFn = function_ref<bool(int64_t c)>;

/// The collapsed shape of `expanded` by `reassociation` if it is certainly
/// the grouping the data has and agrees with `collapsed`; dims of
/// `collapsed` that are dynamic but whose group is static come back static.
/// Dynamic dims make the grouping uncertain: with two groups of unknown size
/// the split between them is unknown, unless `isKnown` vouches for all but
/// one of them.
std::optional<SmallVector<int64_t>>
getSafeCollapsedShape(ArrayRef<int64_t> collapsed, ArrayRef<int64_t> expanded,
                      ArrayRef<ReassociationIndices> reassociation,
                      KnownGroupFn isKnown) {
  if (collapsed.size() != reassociation.size())
    return std::nullopt;
  SmallVector<int64_t> shape(collapsed);
  int64_t unknownGroups = 0;
  for (auto [c, group] : llvm::enumerate(reassociation)) {
    int64_t product = 1;
    bool dynamic = false;
    for (int64_t e : group) {
      if (ShapedType::isDynamic(expanded[e]))
        dynamic = true;
      else
        product *= expanded[e];
    }
    if (!dynamic) {
      // A static group fixes its size; the totals then agree.
      if (!ShapedType::isDynamic(collapsed[c]) && product != collapsed[c])
        return std::nullopt;
      shape[c] = product;
      continue;
    }
    if (!ShapedType::isDynamic(collapsed[c]))
      return std::nullopt;
    if (!isKnown(c))
      ++unknownGroups;
  }
  if (unknownGroups > 1)
    return std::nullopt;
  return shape;
}

/// Reshapes `source` to `type`, whose dims are `sizes`: a collapse_shape or
/// expand_shape (a view) when `reassociation` is given and valid, else
/// tensor.reshape with a shape operand.
Value buildReshape(
    OpBuilder &b, Location loc, Value source, RankedTensorType type,
    ArrayRef<OpFoldResult> sizes,
    std::optional<SmallVector<ReassociationIndices>> reassociation,
    KnownGroupFn isKnown) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  if (sourceType == type)
    return source;
  if (reassociation) {
    RankedTensorType resultType = typeWithSizes(sizes, type.getElementType());
    int64_t sourceRank = sourceType.getRank(), rank = type.getRank();
    if (sourceRank == rank)
      return castToType(b, loc, source, type); // one dim per group
    if (sourceRank > rank &&
        getSafeCollapsedShape(resultType.getShape(), sourceType.getShape(),
                              *reassociation, isKnown)) {
      Value collapsed =
          tensor::CollapseShapeOp::create(b, loc, source, *reassociation);
      return castToType(b, loc, collapsed, type);
    }
    if (sourceRank < rank) {
      if (std::optional<SmallVector<int64_t>> collapsed = getSafeCollapsedShape(
              sourceType.getShape(), resultType.getShape(), *reassociation,
              isKnown)) {
        // expand_shape wants the static size of a group of static dims.
        source = castToType(b, loc, source, sourceType.clone(*collapsed));
        Value expanded = tensor::ExpandShapeOp::create(
            b, loc, resultType, source, *reassociation, sizes);
        return castToType(b, loc, expanded, type);
      }
    }
  }
  // No view: tensor.reshape reads the target shape from a tensor.
  auto shapeType = RankedTensorType::get({type.getRank()}, b.getIndexType());
  Value shape;
  if (type.hasStaticShape()) {
    shape = arith::ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(shapeType, type.getShape()));
  } else {
    SmallVector<Value> elements;
    for (OpFoldResult size : sizes)
      elements.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
    shape = tensor::FromElementsOp::create(b, loc, shapeType, elements);
  }
  return tensor::ReshapeOp::create(b, loc, type, source, shape);
}

/// The result dims of a Reshape whose shape operand is a constant: 0
/// copies the input dim (unless allowzero), -1 takes what is left.
SmallVector<OpFoldResult> getConstantReshapeSizes(OpBuilder &b, Location loc,
                                                  Value source,
                                                  RankedTensorType type,
                                                  ArrayRef<int64_t> target,
                                                  bool allowZero) {
  IndexMath m(b, loc);
  SmallVector<OpFoldResult> sourceSizes = tensor::getMixedSizes(b, loc, source);
  SmallVector<OpFoldResult> sizes;
  int64_t inferred = -1;
  for (auto [j, value] : llvm::enumerate(target)) {
    if (!type.isDynamicDim(j))
      sizes.push_back(m.constant(type.getDimSize(j)));
    else if (value == 0 && !allowZero)
      sizes.push_back(sourceSizes[j]);
    else if (value == -1)
      inferred = j, sizes.push_back(m.constant(1)); // Set below from the rest.
    else
      sizes.push_back(m.constant(value));
  }
  if (inferred >= 0) {
    SmallVector<OpFoldResult> others(sizes);
    others.erase(others.begin() + inferred);
    sizes[inferred] = m.div(m.product(sourceSizes), m.product(others));
  }
  return sizes;
}

/// The result dims of a Reshape whose shape is only known at run time: the
/// same 0 and -1 rules, evaluated with arith on the extracted elements.
SmallVector<OpFoldResult> getRuntimeReshapeSizes(OpBuilder &b, Location loc,
                                                 Value source, Value shape,
                                                 RankedTensorType type,
                                                 bool allowZero) {
  IndexMath m(b, loc);
  SmallVector<OpFoldResult> sourceSizes = tensor::getMixedSizes(b, loc, source);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value minusOne = arith::ConstantIndexOp::create(b, loc, -1);
  SmallVector<Value> sizes;
  for (int64_t j = 0; j < type.getRank(); ++j) {
    if (!type.isDynamicDim(j)) {
      sizes.push_back(m.value(m.constant(type.getDimSize(j))));
      continue;
    }
    Value size = extractIndex(b, loc, shape, j);
    if (!allowZero && j < int64_t(sourceSizes.size())) {
      Value isZero =
          arith::CmpIOp::create(b, loc, CmpIPredicate::eq, size, zero);
      size = arith::SelectOp::create(b, loc, isZero, m.value(sourceSizes[j]),
                                     size);
    }
    sizes.push_back(size);
  }
  // The -1 dim (at most one) gets the element count over the others.
  OpFoldResult known = m.constant(1);
  SmallVector<Value> isInferred;
  for (Value size : sizes) {
    isInferred.push_back(
        arith::CmpIOp::create(b, loc, CmpIPredicate::eq, size, minusOne));
    known = m.mul(known,
                  arith::SelectOp::create(b, loc, isInferred.back(), one, size)
                      .getResult());
  }
  Value inferred = arith::DivSIOp::create(
      b, loc, m.value(m.product(sourceSizes)), m.value(known));
  SmallVector<OpFoldResult> result;
  for (auto [j, size] : llvm::enumerate(sizes)) {
    if (!type.isDynamicDim(j))
      result.push_back(m.constant(type.getDimSize(j)));
    else
      result.push_back(
          arith::SelectOp::create(b, loc, isInferred[j], inferred, size)
              .getResult());
  }
  return result;
}

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value source = adaptor.getData();
    auto sourceType = cast<RankedTensorType>(source.getType());
    auto type = cast<RankedTensorType>(getStorageType(op.getType()));
    bool allowZero = op.getAllowzero() != 0;
    std::optional<SmallVector<int64_t>> target =
        getConstantIntValues(op.getShape());
    SmallVector<OpFoldResult> sizes =
        target ? getConstantReshapeSizes(rewriter, loc, source, type, *target,
                                         allowZero)
               : getRuntimeReshapeSizes(rewriter, loc, source,
                                        adaptor.getShape(), type, allowZero);
    std::optional<SmallVector<ReassociationIndices>> reassociation;
    if (sourceType.getRank() != type.getRank())
      reassociation = getReassociationIndicesForReshape(
          sourceType, typeWithSizes(sizes, type.getElementType()));
    // A group is known when it is dim c alone on both sides and the shape
    // says 0 there (copy input dim c).
    auto isKnown = [&](int64_t c) {
      return target && !allowZero && (*target)[c] == 0 &&
             (*reassociation)[c].size() == 1 && (*reassociation)[c][0] == c;
    };
    rewriter.replaceOp(op, buildReshape(rewriter, loc, source, type, sizes,
                                        reassociation, isKnown));
    return success();
  }
};

/// Flatten to 2-D: one collapse_shape unless a side is empty (axis 0 or
/// rank), which gives a unit dim that no collapse can make.
struct FlattenLowering : OpConversionPattern<FlattenOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FlattenOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value source = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(source.getType()).getRank();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    IndexMath m(rewriter, loc);
    SmallVector<OpFoldResult> sourceSizes =
        tensor::getMixedSizes(rewriter, loc, source);
    ArrayRef<OpFoldResult> all(sourceSizes);
    SmallVector<OpFoldResult> sizes = {m.product(all.take_front(axis)),
                                       m.product(all.drop_front(axis))};
    std::optional<SmallVector<ReassociationIndices>> reassociation;
    if (axis > 0 && axis < rank)
      reassociation = SmallVector<ReassociationIndices>{
          llvm::to_vector<2>(llvm::seq<int64_t>(0, axis)),
          llvm::to_vector<2>(llvm::seq<int64_t>(axis, rank))};
    // Flatten's two groups are its definition, whatever the sizes.
    auto isKnown = [](int64_t) { return true; };
    auto type = cast<RankedTensorType>(getStorageType(op.getType()));
    rewriter.replaceOp(op, buildReshape(rewriter, loc, source, type, sizes,
                                        reassociation, isKnown));
    return success();
  }
};

struct SqueezeLowering : OpConversionPattern<SqueezeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SqueezeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value source = adaptor.getData();
    auto sourceType = cast<RankedTensorType>(source.getType());
    SmallVector<int64_t> axes;
    if (isNone(op.getAxes())) {
      for (auto [i, dim] : llvm::enumerate(sourceType.getShape()))
        if (dim == 1)
          axes.push_back(i);
    } else {
      FailureOr<SmallVector<int64_t>> values =
          getAxes(op, op.getAxes(), sourceType.getRank());
      if (failed(values))
        return failure();
      axes = *values;
    }
    llvm::sort(axes);
    Value result = collapseUnitDims(rewriter, op.getLoc(), source, axes);
    rewriter.replaceOp(op,
                       castToType(rewriter, op.getLoc(), result, op.getType()));
    return success();
  }
};

struct UnsqueezeLowering : OpConversionPattern<UnsqueezeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(UnsqueezeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<SmallVector<int64_t>> axes =
        getAxes(op, op.getAxes(), op.getType().getRank());
    if (failed(axes))
      return failure();
    llvm::sort(*axes);
    Value result =
        expandUnitDims(rewriter, op.getLoc(), adaptor.getData(), *axes);
    rewriter.replaceOp(op,
                       castToType(rewriter, op.getLoc(), result, op.getType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Transpose, Concat, Slice, Split
//===----------------------------------------------------------------------===//

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value source = adaptor.getData();
    int64_t rank = op.getType().getRank();
    SmallVector<int64_t> perm;
    if (std::optional<ArrayRef<int64_t>> attr = op.getPerm())
      perm.assign(attr->begin(), attr->end());
    else
      perm = llvm::to_vector(llvm::reverse(allDims(rank)));
    Value result = source;
    if (!llvm::equal(perm, allDims(rank))) {
      SmallVector<OpFoldResult> sourceSizes =
          tensor::getMixedSizes(rewriter, loc, source);
      SmallVector<OpFoldResult> sizes;
      for (int64_t p : perm)
        sizes.push_back(sourceSizes[p]);
      Value init = tensor::EmptyOp::create(
          rewriter, loc, sizes,
          cast<RankedTensorType>(source.getType()).getElementType());
      result = linalg::TransposeOp::create(rewriter, loc, source, init, perm)
                   .getResult()[0];
    }
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    FailureOr<int64_t> axis =
        normalizeAxis(loc, op.getAxis(), type.getRank(), "axis");
    if (failed(axis))
      return failure();
    // Inputs empty along the axis add nothing, and an insert_slice at the
    // end of the axis would not verify (see extractSliceOrEmpty).
    SmallVector<Value> inputs;
    for (Value input : adaptor.getInputs())
      if (cast<RankedTensorType>(input.getType()).getDimSize(*axis) != 0)
        inputs.push_back(input);
    if (inputs.empty())
      inputs.push_back(adaptor.getInputs().front());
    Value result = inputs.front();
    if (inputs.size() > 1)
      result = tensor::ConcatOp::create(rewriter, loc, *axis, inputs);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, type));
    return success();
  }
};

/// One sliced axis: where the slice starts in memory, how many elements it
/// has and the (positive) stride; `reversed` for a negative step.
struct AxisSlice {
  OpFoldResult offset, size, stride;
  bool reversed = false;
};

/// ONNX Slice clamping for one axis of size `dim` (see the Slice spec):
/// negative starts/ends count from the end, then clamp to [0, dim] for
/// positive steps and to [0, dim-1] / [-1, dim-1] for negative ones.
AxisSlice sliceAxis(IndexMath &m, OpFoldResult dim, int64_t start, int64_t end,
                    int64_t step) {
  auto fromEnd = [&](int64_t v) {
    return v < 0 ? m.add(dim, m.constant(v)) : m.constant(v);
  };
  OpFoldResult zero = m.constant(0), one = m.constant(1);
  AxisSlice slice;
  if (step > 0) {
    OpFoldResult first = m.clamp(fromEnd(start), zero, dim);
    OpFoldResult last = m.clamp(fromEnd(end), zero, dim);
    slice.size = m.max(m.ceilDiv(m.sub(last, first), m.constant(step)), zero);
    slice.offset = first;
    slice.stride = m.constant(step);
    return slice;
  }
  OpFoldResult dimMinusOne = m.sub(dim, one);
  OpFoldResult first = m.clamp(fromEnd(start), zero, dimMinusOne);
  OpFoldResult last = m.clamp(fromEnd(end), m.constant(-1), dimMinusOne);
  slice.size = m.max(m.ceilDiv(m.sub(first, last), m.constant(-step)), zero);
  // The elements are read upwards from the last one taken, then reversed.
  // An empty slice would start past the end: clamp it to dim.
  OpFoldResult lowest =
      m.sub(first, m.mul(m.sub(slice.size, one), m.constant(-step)));
  slice.offset = m.min(lowest, dim);
  slice.stride = m.constant(-step);
  slice.reversed = true;
  return slice;
}

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value source = adaptor.getData();
    int64_t rank = op.getType().getRank();
    FailureOr<SmallVector<int64_t>> starts =
        requireConstantInts(op, op.getStarts(), "starts");
    if (failed(starts))
      return failure();
    FailureOr<SmallVector<int64_t>> ends =
        requireConstantInts(op, op.getEnds(), "ends");
    if (failed(ends))
      return failure();
    FailureOr<SmallVector<int64_t>> axes =
        isNone(op.getAxes())
            ? FailureOr<SmallVector<int64_t>>(allDims(starts->size()))
            : getAxes(op, op.getAxes(), rank);
    if (failed(axes))
      return failure();
    SmallVector<int64_t> steps(starts->size(), 1);
    if (!isNone(op.getSteps())) {
      FailureOr<SmallVector<int64_t>> values =
          requireConstantInts(op, op.getSteps(), "steps");
      if (failed(values))
        return failure();
      steps = *values;
    }

    IndexMath m(rewriter, loc);
    SmallVector<OpFoldResult> offsets(rank, m.constant(0));
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, source);
    SmallVector<OpFoldResult> strides(rank, m.constant(1));
    SmallVector<int64_t> reversed;
    for (auto [i, axis] : llvm::enumerate(*axes)) {
      AxisSlice slice =
          sliceAxis(m, sizes[axis], (*starts)[i], (*ends)[i], steps[i]);
      offsets[axis] = slice.offset;
      sizes[axis] = slice.size;
      strides[axis] = slice.stride;
      if (slice.reversed)
        reversed.push_back(axis);
    }
    Value result =
        extractSliceOrEmpty(rewriter, loc, source, offsets, sizes, strides);
    result = reverseDims(rewriter, loc, result, reversed);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }
};

struct SplitLowering : OpConversionPattern<SplitOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value source = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(source.getType()).getRank();
    FailureOr<int64_t> axis = normalizeAxis(loc, op.getAxis(), rank, "axis");
    if (failed(axis))
      return failure();
    IndexMath m(rewriter, loc);
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, source);
    OpFoldResult dim = sizes[*axis];

    // The size of every part along the axis.
    SmallVector<OpFoldResult> parts;
    int64_t count = op.getNumResults();
    if (!isNone(op.getSplit())) {
      FailureOr<SmallVector<int64_t>> split =
          requireConstantInts(op, op.getSplit(), "split");
      if (failed(split))
        return failure();
      for (int64_t size : *split)
        parts.push_back(m.constant(size));
    } else {
      // num_outputs: ceil(dim / n) each, the last one takes the rest.
      OpFoldResult chunk = m.ceilDiv(dim, m.constant(count));
      for (int64_t i = 0; i + 1 < count; ++i)
        parts.push_back(chunk);
      parts.push_back(m.sub(dim, m.mul(chunk, m.constant(count - 1))));
    }

    SmallVector<Value> results;
    OpFoldResult offset = m.constant(0);
    SmallVector<OpFoldResult> offsets(rank, m.constant(0));
    SmallVector<OpFoldResult> strides(rank, m.constant(1));
    for (auto [i, part] : llvm::enumerate(parts)) {
      if (i > 0)
        offset = m.add(offset, parts[i - 1]);
      offsets[*axis] = offset;
      sizes[*axis] = part;
      Value slice =
          extractSliceOrEmpty(rewriter, loc, source, offsets, sizes, strides);
      results.push_back(
          castToType(rewriter, loc, slice, op.getResult(i).getType()));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

/// out[i.., j.., k..] = data[i.., wrap(indices[j..]), k..]: a generic over
/// the result that reads the index and extracts from data. A constant
/// scalar index (a row of a table, one dim of a shape) is a rank-reducing
/// extract_slice instead.
struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    Value indices = adaptor.getIndices();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    int64_t rank = dataType.getRank(), indicesRank = indicesType.getRank();
    FailureOr<int64_t> axis = normalizeAxis(loc, op.getAxis(), rank, "axis");
    if (failed(axis))
      return failure();
    IndexMath m(rewriter, loc);
    SmallVector<OpFoldResult> dataSizes =
        tensor::getMixedSizes(rewriter, loc, data);
    OpFoldResult dim = dataSizes[*axis];

    std::optional<SmallVector<int64_t>> constant =
        getConstantIntValues(op.getIndices());
    if (constant && indicesRank == 0) {
      int64_t index = constant->front();
      SmallVector<OpFoldResult> offsets(rank, m.constant(0));
      offsets[*axis] =
          index < 0 ? m.add(dim, m.constant(index)) : m.constant(index);
      SmallVector<OpFoldResult> sizes(dataSizes);
      sizes[*axis] = m.constant(1);
      SmallVector<OpFoldResult> strides(rank, m.constant(1));
      SmallVector<int64_t> shape(dataType.getShape());
      shape.erase(shape.begin() + *axis);
      Value result = tensor::ExtractSliceOp::create(
          rewriter, loc, dataType.clone(shape), data, offsets, sizes, strides);
      rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
      return success();
    }

    SmallVector<OpFoldResult> sizes(dataSizes.begin(),
                                    dataSizes.begin() + *axis);
    llvm::append_range(sizes, tensor::getMixedSizes(rewriter, loc, indices));
    sizes.append(dataSizes.begin() + *axis + 1, dataSizes.end());
    int64_t resultRank = sizes.size();

    Value dimValue = m.value(dim);
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes,
                                         dataType.getElementType());
    SmallVector<AffineExpr> indexExprs;
    for (int64_t d = 0; d < indicesRank; ++d)
      indexExprs.push_back(rewriter.getAffineDimExpr(*axis + d));
    SmallVector<AffineMap> maps = {
        AffineMap::get(resultRank, 0, indexExprs, rewriter.getContext()),
        rewriter.getMultiDimIdentityMap(resultRank)};
    SmallVector<utils::IteratorType> iterators(resultRank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, ValueRange{indices},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value index =
              arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          // Negative indices count from the end.
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value negative =
              arith::CmpIOp::create(b, l, CmpIPredicate::slt, index, zero);
          index = arith::SelectOp::create(
              b, l, negative, arith::AddIOp::create(b, l, index, dimValue),
              index);
          SmallVector<Value> position;
          for (int64_t d = 0; d < *axis; ++d)
            position.push_back(linalg::IndexOp::create(b, l, d));
          position.push_back(index);
          for (int64_t d = *axis + indicesRank; d < resultRank; ++d)
            position.push_back(linalg::IndexOp::create(b, l, d));
          linalg::YieldOp::create(
              b, l,
              tensor::ExtractOp::create(b, l, data, position).getResult());
        });
    rewriter.replaceOp(
        op, castToType(rewriter, loc, generic.getResult(0), op.getType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

/// The source index that output index `i` (already shifted by the low pad)
/// reads in a dim of size `size` for the non-constant pad modes.
Value padSourceIndex(OpBuilder &b, Location loc, StringRef mode, Value i,
                     Value size) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value last = arith::SubIOp::create(b, loc, size, one);
  if (mode == "edge")
    return arith::MinSIOp::create(
        b, loc, arith::MaxSIOp::create(b, loc, i, zero), last);
  if (mode == "wrap") {
    // ((i mod n) + n) mod n: remsi keeps the sign of i.
    Value rem = arith::RemSIOp::create(b, loc, i, size);
    return arith::RemSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, rem, size), size);
  }
  // reflect (mirror without repeating the edge): -i below, 2(n-1)-i above.
  Value below = arith::CmpIOp::create(b, loc, CmpIPredicate::slt, i, zero);
  Value above = arith::CmpIOp::create(b, loc, CmpIPredicate::sgt, i, last);
  Value mirroredLow = arith::SubIOp::create(b, loc, zero, i);
  Value mirroredHigh = arith::SubIOp::create(
      b, loc, arith::AddIOp::create(b, loc, last, last), i);
  return arith::SelectOp::create(
      b, loc, below, mirroredLow,
      arith::SelectOp::create(b, loc, above, mirroredHigh, i));
}

struct PadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value source = adaptor.getData();
    auto sourceType = cast<RankedTensorType>(source.getType());
    int64_t rank = sourceType.getRank();
    FailureOr<SmallVector<int64_t>> pads =
        requireConstantInts(op, op.getPads(), "pads");
    if (failed(pads))
      return failure();
    FailureOr<SmallVector<int64_t>> axes = getAxes(op, op.getAxes(), rank);
    if (failed(axes))
      return failure();
    if (pads->size() != 2 * axes->size())
      return op.emitOpError("pads must have two values per axis");
    SmallVector<int64_t> low(rank, 0), high(rank, 0);
    for (auto [i, axis] : llvm::enumerate(*axes)) {
      low[axis] = (*pads)[i];
      high[axis] = (*pads)[i + axes->size()];
    }

    // Negative pads crop: slice them off first, then pad what is left.
    IndexMath m(rewriter, loc);
    if (llvm::any_of(llvm::concat<int64_t>(low, high),
                     [](int64_t p) { return p < 0; })) {
      SmallVector<OpFoldResult> offsets, sizes;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t cropLow = std::max<int64_t>(0, -low[d]);
        int64_t cropHigh = std::max<int64_t>(0, -high[d]);
        offsets.push_back(m.constant(cropLow));
        sizes.push_back(
            m.sub(m.dim(source, d), m.constant(cropLow + cropHigh)));
        low[d] = std::max<int64_t>(0, low[d]);
        high[d] = std::max<int64_t>(0, high[d]);
      }
      source = tensor::ExtractSliceOp::create(
          rewriter, loc, source, offsets, sizes,
          SmallVector<OpFoldResult>(rank, m.constant(1)));
    }

    Value result;
    StringRef mode = op.getMode();
    if (mode == "constant") {
      Type element = sourceType.getElementType();
      Value value =
          isNone(op.getConstantValue())
              ? createScalar(rewriter, loc, element, 0)
              : extractScalar(rewriter, loc, adaptor.getConstantValue());
      result = padTensor(rewriter, loc, source, low, high, value);
    } else {
      result = buildModePad(rewriter, loc, mode, source, low, high);
    }
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }

  /// reflect, edge and wrap: every output element reads one input element.
  static Value buildModePad(OpBuilder &b, Location loc, StringRef mode,
                            Value source, ArrayRef<int64_t> low,
                            ArrayRef<int64_t> high) {
    IndexMath m(b, loc);
    SmallVector<OpFoldResult> sourceSizes =
        tensor::getMixedSizes(b, loc, source);
    SmallVector<OpFoldResult> sizes;
    SmallVector<Value> sourceSizeValues;
    for (auto [d, size] : llvm::enumerate(sourceSizes)) {
      sizes.push_back(m.add(size, m.constant(low[d] + high[d])));
      sourceSizeValues.push_back(m.value(size));
    }
    Type element = cast<RankedTensorType>(source.getType()).getElementType();
    return buildIndexedGeneric(
        b, loc, sizes, element,
        [&](OpBuilder &nb, Location nl, ValueRange ivs) {
          SmallVector<Value> position;
          for (auto [d, iv] : llvm::enumerate(ivs)) {
            if (low[d] == 0 && high[d] == 0) {
              position.push_back(iv);
              continue;
            }
            Value shifted = arith::SubIOp::create(
                nb, nl, iv, arith::ConstantIndexOp::create(nb, nl, low[d]));
            position.push_back(
                padSourceIndex(nb, nl, mode, shifted, sourceSizeValues[d]));
          }
          return tensor::ExtractOp::create(nb, nl, source, position)
              .getResult();
        });
  }
};

//===----------------------------------------------------------------------===//
// Expand, Tile, ConstantOfShape, Range
//===----------------------------------------------------------------------===//

/// Numpy broadcast of `input` to `shape`: one generic reading the input
/// through getBroadcastMap. Like every quarc lowering, a dynamic input dim
/// is assumed not to be a broadcast 1.
struct ExpandLowering : OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank(), offset = rank - inputType.getRank();
    std::optional<SmallVector<int64_t>> target =
        getConstantIntValues(op.getShape());
    int64_t shapeOffset =
        rank - cast<RankedTensorType>(op.getShape().getType()).getDimSize(0);
    IndexMath m(rewriter, loc);
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      if (!type.isDynamicDim(d)) {
        sizes.push_back(m.constant(type.getDimSize(d)));
        continue;
      }
      // The result dim is the input dim unless the shape asks for more.
      std::optional<OpFoldResult> inputDim;
      if (d >= offset && inputType.getDimSize(d - offset) != 1)
        inputDim = m.dim(input, d - offset);
      if (d < shapeOffset) {
        sizes.push_back(*inputDim);
        continue;
      }
      if (target) {
        int64_t wanted = (*target)[d - shapeOffset];
        sizes.push_back(wanted == 1 && inputDim ? *inputDim
                                                : m.constant(wanted));
        continue;
      }
      Value wanted =
          extractIndex(rewriter, loc, adaptor.getShape(), d - shapeOffset);
      if (!inputDim) {
        sizes.push_back(wanted);
        continue;
      }
      Value isOne = arith::CmpIOp::create(
          rewriter, loc, CmpIPredicate::eq, wanted,
          arith::ConstantIndexOp::create(rewriter, loc, 1));
      sizes.push_back(arith::SelectOp::create(rewriter, loc, isOne,
                                              m.value(*inputDim), wanted)
                          .getResult());
    }
    Value result = buildCopyGeneric(
        rewriter, loc, input,
        getBroadcastMap(rewriter.getContext(), inputType, rank), sizes);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, type));
    return success();
  }
};

/// Tile as a broadcast to [r0, d0, r1, d1, ...] (input read through
/// (i0, j0, i1, j1, ...) -> (j0, j1, ...)) and a collapse of each pair:
/// no index arithmetic, so it vectorizes like any broadcast.
struct TileLowering : OpConversionPattern<TileOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    FailureOr<SmallVector<int64_t>> repeats =
        requireConstantInts(op, op.getRepeats(), "repeats");
    if (failed(repeats))
      return failure();
    if (int64_t(repeats->size()) != rank)
      return op.emitOpError("repeats must have one value per input dim");
    IndexMath m(rewriter, loc);
    SmallVector<OpFoldResult> inputSizes =
        tensor::getMixedSizes(rewriter, loc, input);
    SmallVector<OpFoldResult> sizes;
    SmallVector<AffineExpr> exprs;
    SmallVector<ReassociationIndices> pairs;
    for (int64_t d = 0; d < rank; ++d) {
      sizes.push_back(m.constant((*repeats)[d]));
      sizes.push_back(inputSizes[d]);
      exprs.push_back(rewriter.getAffineDimExpr(2 * d + 1));
      pairs.push_back({2 * d, 2 * d + 1});
    }
    Value result = input;
    if (rank > 0) {
      AffineMap map = AffineMap::get(2 * rank, 0, exprs, rewriter.getContext());
      Value repeated = buildCopyGeneric(rewriter, loc, input, map, sizes);
      result = tensor::CollapseShapeOp::create(rewriter, loc, repeated, pairs);
    }
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }
};

struct ConstantOfShapeLowering : OpConversionPattern<ConstantOfShapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConstantOfShapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    TypedAttr element = rewriter.getF32FloatAttr(0);
    if (std::optional<ElementsAttr> value = op.getValue()) {
      auto dense = dyn_cast<DenseElementsAttr>(*value);
      if (!dense)
        return op.emitOpError("value must be a dense elements attribute");
      element = cast<TypedAttr>(*dense.getValues<Attribute>().begin());
    }
    Value fill = arith::ConstantOp::create(rewriter, loc, element);
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        dynamicSizes.push_back(
            extractIndex(rewriter, loc, adaptor.getInput(), d));
    rewriter.replaceOp(op,
                       createFilled(rewriter, loc, type, dynamicSizes, fill));
    return success();
  }
};

/// Range: a constant when start, limit and delta are; otherwise a generic
/// computing start + i * delta over ceil((limit - start) / delta) elements.
struct RangeLowering : OpConversionPattern<RangeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RangeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type element = op.getType().getElementType();
    if (Value constant = buildConstant(rewriter, loc, op, element)) {
      rewriter.replaceOp(op, castToType(rewriter, loc, constant, op.getType()));
      return success();
    }
    Value start = extractScalar(rewriter, loc, adaptor.getStart());
    Value limit = extractScalar(rewriter, loc, adaptor.getLimit());
    Value delta = extractScalar(rewriter, loc, adaptor.getDelta());
    Value count;
    if (isa<FloatType>(element)) {
      Value steps = math::CeilOp::create(
          rewriter, loc,
          arith::DivFOp::create(
              rewriter, loc, arith::SubFOp::create(rewriter, loc, limit, start),
              delta));
      count = castScalar(rewriter, loc, steps, rewriter.getI64Type());
    } else {
      count = castScalar(rewriter, loc,
                         arith::CeilDivSIOp::create(
                             rewriter, loc,
                             arith::SubIOp::create(rewriter, loc, limit, start),
                             delta),
                         rewriter.getI64Type());
    }
    Value size = arith::IndexCastOp::create(
        rewriter, loc, rewriter.getIndexType(),
        arith::MaxSIOp::create(
            rewriter, loc, count,
            createScalar(rewriter, loc, rewriter.getI64Type(), 0)));
    Value result = buildIndexedGeneric(
        rewriter, loc, {OpFoldResult(size)}, element,
        [&](OpBuilder &b, Location l, ValueRange ivs) {
          Value i = castScalar(
              b, l, arith::IndexCastOp::create(b, l, b.getI64Type(), ivs[0]),
              element);
          if (isa<FloatType>(element))
            return arith::AddFOp::create(b, l, start,
                                         arith::MulFOp::create(b, l, i, delta))
                .getResult();
          return arith::AddIOp::create(b, l, start,
                                       arith::MulIOp::create(b, l, i, delta))
              .getResult();
        });
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }

  /// The whole range as an arith.constant, or null unless all three
  /// scalars are constants.
  static Value buildConstant(OpBuilder &b, Location loc, RangeOp op,
                             Type element) {
    SmallVector<Attribute> values;
    if (isa<FloatType>(element)) {
      auto start = getConstantFloatValues(op.getStart());
      auto limit = getConstantFloatValues(op.getLimit());
      auto delta = getConstantFloatValues(op.getDelta());
      if (!start || !limit || !delta || delta->front() == 0)
        return nullptr;
      double count =
          std::ceil((limit->front() - start->front()) / delta->front());
      for (int64_t i = 0; i < int64_t(count); ++i)
        values.push_back(
            b.getFloatAttr(element, start->front() + i * delta->front()));
    } else {
      auto start = getConstantIntValues(op.getStart());
      auto limit = getConstantIntValues(op.getLimit());
      auto delta = getConstantIntValues(op.getDelta());
      if (!start || !limit || !delta || delta->front() == 0)
        return nullptr;
      int64_t count = llvm::divideCeilSigned(limit->front() - start->front(),
                                             delta->front());
      for (int64_t i = 0; i < count; ++i)
        values.push_back(
            b.getIntegerAttr(element, start->front() + i * delta->front()));
    }
    auto type = RankedTensorType::get({int64_t(values.size())}, element);
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  }
};

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

/// What Resize does along one dim: its input and output sizes and the
/// scale ONNX uses in the coordinate transform (the given scale, or
/// output/input size when sizes are given).
struct ResizeAxis {
  OpFoldResult inputSize, outputSize;
  std::optional<double> scale; // when known at compile time
  Value runtimeScale;          // f32, when it is not
  bool resized = false;

  Value getScale(OpBuilder &b, Location loc) const {
    return scale ? createScalar(b, loc, b.getF32Type(), *scale) : runtimeScale;
  }
};

/// The input coordinate (f32) that output index `o` (f32) maps to, per
/// coordinate_transformation_mode.
Value sourceCoordinate(OpBuilder &b, Location loc, StringRef mode, Value o,
                       Value scale, Value inputSize, Value outputSize) {
  Type f32 = b.getF32Type();
  auto c = [&](double v) { return createScalar(b, loc, f32, v); };
  auto add = [&](Value x, Value y) {
    return arith::AddFOp::create(b, loc, x, y);
  };
  auto sub = [&](Value x, Value y) {
    return arith::SubFOp::create(b, loc, x, y);
  };
  auto mul = [&](Value x, Value y) {
    return arith::MulFOp::create(b, loc, x, y);
  };
  auto div = [&](Value x, Value y) {
    return arith::DivFOp::create(b, loc, x, y);
  };
  if (mode == "asymmetric")
    return div(o, scale);
  if (mode == "align_corners") {
    // o * (in - 1) / (out - 1), and 0 when the output has one element.
    Value one = c(1);
    Value ratio = div(sub(inputSize, one), sub(outputSize, one));
    Value isSingle = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                           outputSize, one);
    return arith::SelectOp::create(b, loc, isSingle, c(0), mul(o, ratio));
  }
  Value halfPixel = sub(div(add(o, c(0.5)), scale), c(0.5));
  if (mode == "pytorch_half_pixel") {
    Value isSingle = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                           outputSize, c(1));
    return arith::SelectOp::create(b, loc, isSingle, c(0), halfPixel);
  }
  if (mode == "half_pixel_symmetric") {
    // Centres the sampled window when output/input differs from the scale.
    Value adjustment = div(outputSize, mul(scale, inputSize));
    Value center = div(inputSize, c(2));
    Value offset = mul(center, sub(c(1), adjustment));
    return add(offset, halfPixel);
  }
  return halfPixel; // half_pixel
}

/// Rounds a nearest-mode coordinate per nearest_mode.
Value roundNearest(OpBuilder &b, Location loc, StringRef mode, Value x) {
  Type f32 = b.getF32Type();
  if (mode == "floor")
    return math::FloorOp::create(b, loc, x);
  if (mode == "ceil")
    return math::CeilOp::create(b, loc, x);
  if (mode == "round_prefer_ceil")
    return math::FloorOp::create(
        b, loc,
        arith::AddFOp::create(b, loc, x, createScalar(b, loc, f32, 0.5)));
  // round_prefer_floor: halves go down.
  return math::CeilOp::create(
      b, loc, arith::SubFOp::create(b, loc, x, createScalar(b, loc, f32, 0.5)));
}

/// An index (f32 -> index) clamped to [0, size - 1].
Value toClampedIndex(OpBuilder &b, Location loc, Value x, Value size) {
  Value index = arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      arith::FPToSIOp::create(b, loc, b.getI64Type(), x));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value last = arith::SubIOp::create(b, loc, size,
                                     arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, index, zero), last);
}

Value indexToF32(OpBuilder &b, Location loc, OpFoldResult index) {
  if (std::optional<int64_t> constant = getConstantIntValue(index))
    return createScalar(b, loc, b.getF32Type(), double(*constant));
  return arith::SIToFPOp::create(
      b, loc, b.getF32Type(),
      arith::IndexCastOp::create(b, loc, b.getI64Type(), cast<Value>(index)));
}

struct ResizeLowering : OpConversionPattern<ResizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ResizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getX();
    FailureOr<SmallVector<ResizeAxis>> axes =
        getResizeAxes(rewriter, op, input);
    if (failed(axes) || failed(checkSupported(op, *axes)))
      return failure();
    Value result = isRepeat(op, *axes)
                       ? buildRepeat(rewriter, loc, input, *axes)
                       : buildSampling(rewriter, loc, op, input, *axes);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }

  static LogicalResult checkSupported(ResizeOp op, ArrayRef<ResizeAxis> axes) {
    StringRef mode = op.getMode();
    if (mode != "nearest" && mode != "linear")
      return op.emitOpError("mode '")
             << mode
             << "' does not lower to native code yet (nearest and "
                "linear do)";
    if (op.getCoordinateTransformationMode() == "tf_crop_and_resize")
      return op.emitOpError("coordinate_transformation_mode "
                            "'tf_crop_and_resize' does not lower to native "
                            "code yet");
    if (mode == "linear" && !isa<FloatType>(op.getType().getElementType()))
      return op.emitOpError("linear resize needs a floating-point tensor");
    // Antialiasing only changes downscaling.
    bool downscales = llvm::any_of(axes, [](const ResizeAxis &axis) {
      return axis.resized && (!axis.scale || *axis.scale < 1);
    });
    if (op.getAntialias() != 0 && mode == "linear" && downscales)
      return op.emitOpError("antialiased downscaling does not lower to native "
                            "code yet");
    return success();
  }

  /// Sizes and scales of every dim of the input.
  static FailureOr<SmallVector<ResizeAxis>>
  getResizeAxes(OpBuilder &b, ResizeOp op, Value input) {
    Location loc = op.getLoc();
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    SmallVector<int64_t> resized = allDims(rank);
    if (std::optional<ArrayRef<int64_t>> attr = op.getAxes()) {
      resized.clear();
      for (int64_t axis : *attr)
        resized.push_back(axis < 0 ? axis + rank : axis);
    }
    auto isGiven = [](Value v) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      return type && !(type.hasStaticShape() && type.getNumElements() == 0);
    };
    std::optional<SmallVector<double>> scales;
    std::optional<SmallVector<int64_t>> sizes;
    if (isGiven(op.getScales())) {
      if (!(scales = getConstantFloatValues(op.getScales())))
        return op.emitOpError("scales must be a constant to lower to native "
                              "code");
    } else if (!(sizes = getConstantIntValues(op.getSizes()))) {
      return op.emitOpError("sizes must be a constant to lower to native "
                            "code");
    }
    if (sizes && op.getKeepAspectRatioPolicy() != "stretch")
      return op.emitOpError("keep_aspect_ratio_policy '")
             << op.getKeepAspectRatioPolicy()
             << "' does not lower to native code yet";

    IndexMath m(b, loc);
    RankedTensorType type = op.getType();
    SmallVector<ResizeAxis> axes(rank);
    for (int64_t d = 0; d < rank; ++d) {
      axes[d].inputSize = m.dim(input, d);
      axes[d].outputSize = axes[d].inputSize;
      axes[d].scale = 1.0;
    }
    for (auto [i, d] : llvm::enumerate(resized)) {
      ResizeAxis &axis = axes[d];
      if (scales)
        setScale(b, loc, axis, (*scales)[i], type.getDimSize(d));
      else
        setOutputSize(b, loc, axis, (*sizes)[i]);
      // A scale of 1 that keeps the size maps every index to itself.
      std::optional<int64_t> inputSize = getConstantIntValue(axis.inputSize);
      bool sameSize =
          axis.outputSize == axis.inputSize ||
          (inputSize && isConstantIntValue(axis.outputSize, *inputSize));
      axis.resized = !(axis.scale == 1.0 && sameSize);
    }
    return axes;
  }

  /// A dim resized by `scale`: floor(input * scale) elements, `declared`
  /// when the result type states it.
  static void setScale(OpBuilder &b, Location loc, ResizeAxis &axis,
                       double scale, int64_t declared) {
    IndexMath m(b, loc);
    axis.scale = scale;
    if (!ShapedType::isDynamic(declared)) {
      axis.outputSize = m.constant(declared);
    } else if (scale == std::floor(scale)) {
      axis.outputSize = m.mul(axis.inputSize, m.constant(int64_t(scale)));
    } else {
      Value scaled = arith::MulFOp::create(
          b, loc, indexToF32(b, loc, axis.inputSize), axis.getScale(b, loc));
      axis.outputSize =
          arith::IndexCastOp::create(
              b, loc, b.getIndexType(),
              castScalar(b, loc, math::FloorOp::create(b, loc, scaled),
                         b.getI64Type()))
              .getResult();
    }
  }

  /// A dim resized to `size` elements: the scale is size / input.
  static void setOutputSize(OpBuilder &b, Location loc, ResizeAxis &axis,
                            int64_t size) {
    IndexMath m(b, loc);
    axis.outputSize = m.constant(size);
    if (std::optional<int64_t> inputSize =
            getConstantIntValue(axis.inputSize)) {
      axis.scale = double(size) / double(*inputSize);
      return;
    }
    axis.scale = std::nullopt;
    Type f32 = b.getF32Type();
    axis.runtimeScale =
        arith::DivFOp::create(b, loc, createScalar(b, loc, f32, double(size)),
                              indexToF32(b, loc, axis.inputSize));
  }

  /// Nearest resizing by whole scales where every output element of a block
  /// of `scale` reads the same input element: a repeat.
  static bool isRepeat(ResizeOp op, ArrayRef<ResizeAxis> axes) {
    if (op.getMode() != "nearest")
      return false;
    StringRef coordinates = op.getCoordinateTransformationMode();
    StringRef rounding = op.getNearestMode();
    // asymmetric: x = h + k/s, floor -> h. half_pixel: x = h + (k+0.5)/s -
    // 0.5, strictly within half a pixel of h, so any round-to-nearest -> h.
    bool blockwise =
        (coordinates == "asymmetric" && rounding == "floor") ||
        ((coordinates == "half_pixel" || coordinates == "pytorch_half_pixel") &&
         rounding.starts_with("round_prefer"));
    if (!blockwise)
      return false;
    return llvm::all_of(axes, [](const ResizeAxis &axis) {
      return !axis.resized || (axis.scale && *axis.scale >= 1 &&
                               *axis.scale == std::floor(*axis.scale));
    });
  }

  /// Repeat as a broadcast to [d0, s0, d1, s1, ...] and a collapse of each
  /// pair (the same trick as Tile, with the copies innermost).
  static Value buildRepeat(OpBuilder &b, Location loc, Value input,
                           ArrayRef<ResizeAxis> axes) {
    IndexMath m(b, loc);
    int64_t rank = axes.size();
    SmallVector<OpFoldResult> sizes;
    SmallVector<AffineExpr> exprs;
    SmallVector<ReassociationIndices> groups;
    int64_t loop = 0;
    for (const ResizeAxis &axis : axes) {
      exprs.push_back(b.getAffineDimExpr(loop));
      sizes.push_back(axis.inputSize);
      if (!axis.resized) {
        groups.push_back({loop++});
        continue;
      }
      sizes.push_back(m.constant(int64_t(*axis.scale)));
      groups.push_back({loop, loop + 1});
      loop += 2;
    }
    if (loop == rank)
      return input;
    AffineMap map = AffineMap::get(loop, 0, exprs, b.getContext());
    Value repeated = buildCopyGeneric(b, loc, input, map, sizes);
    return tensor::CollapseShapeOp::create(b, loc, repeated, groups);
  }

  /// The general case: every output element computes its source coordinate
  /// and reads one (nearest) or 2^k (linear over k resized dims) elements.
  static Value buildSampling(OpBuilder &b, Location loc, ResizeOp op,
                             Value input, ArrayRef<ResizeAxis> axes) {
    IndexMath m(b, loc);
    int64_t rank = axes.size();
    SmallVector<OpFoldResult> sizes;
    SmallVector<Value> inputSizes(rank), inputSizesF32(rank),
        outputSizesF32(rank), scales(rank);
    for (auto [d, axis] : llvm::enumerate(axes)) {
      sizes.push_back(axis.outputSize);
      if (!axis.resized)
        continue;
      scales[d] = axis.getScale(b, loc);
      inputSizes[d] = m.value(axis.inputSize);
      inputSizesF32[d] = indexToF32(b, loc, axis.inputSize);
      outputSizesF32[d] = indexToF32(b, loc, axis.outputSize);
    }
    StringRef coordinates = op.getCoordinateTransformationMode();
    StringRef nearestMode = op.getNearestMode();
    bool linear = op.getMode() == "linear";
    Type element = cast<RankedTensorType>(input.getType()).getElementType();
    return buildIndexedGeneric(
        b, loc, sizes, element,
        [&](OpBuilder &nb, Location nl, ValueRange ivs) {
          // Per dim: the low index, and for linear dims the high index and
          // the weight of the high one.
          SmallVector<Value> lowIndex(ivs), highIndex(ivs);
          SmallVector<std::optional<Value>> weights(ivs.size());
          for (auto [d, axis] : llvm::enumerate(axes)) {
            if (!axis.resized)
              continue;
            Value x = sourceCoordinate(nb, nl, coordinates,
                                       indexToF32(nb, nl, ivs[d]), scales[d],
                                       inputSizesF32[d], outputSizesF32[d]);
            if (!linear) {
              lowIndex[d] = toClampedIndex(
                  nb, nl, roundNearest(nb, nl, nearestMode, x), inputSizes[d]);
              continue;
            }
            // Clamping the coordinate first equals ONNX's edge padding.
            Value last =
                arith::SubFOp::create(nb, nl, inputSizesF32[d],
                                      createScalar(nb, nl, nb.getF32Type(), 1));
            x = arith::MinimumFOp::create(
                nb, nl,
                arith::MaximumFOp::create(
                    nb, nl, x, createScalar(nb, nl, nb.getF32Type(), 0)),
                last);
            Value floor = math::FloorOp::create(nb, nl, x);
            lowIndex[d] = toClampedIndex(nb, nl, floor, inputSizes[d]);
            highIndex[d] = toClampedIndex(
                nb, nl,
                arith::AddFOp::create(nb, nl, floor,
                                      createScalar(nb, nl, nb.getF32Type(), 1)),
                inputSizes[d]);
            weights[d] = arith::SubFOp::create(nb, nl, x, floor).getResult();
          }
          if (!linear)
            return tensor::ExtractOp::create(nb, nl, input, lowIndex)
                .getResult();
          return blendCorners(nb, nl, input, lowIndex, highIndex, weights,
                              element);
        });
  }

  /// Sum over the 2^k corners of the interpolation cell of
  /// weight(corner) * input[corner], in f32.
  static Value blendCorners(OpBuilder &b, Location loc, Value input,
                            ArrayRef<Value> low, ArrayRef<Value> high,
                            ArrayRef<std::optional<Value>> weights,
                            Type element) {
    Type f32 = b.getF32Type();
    SmallVector<int64_t> linearDims;
    for (auto [d, weight] : llvm::enumerate(weights))
      if (weight)
        linearDims.push_back(d);
    Value one = createScalar(b, loc, f32, 1);
    SmallVector<Value> lowWeights(weights.size());
    for (int64_t d : linearDims)
      lowWeights[d] = arith::SubFOp::create(b, loc, one, *weights[d]);
    Value sum;
    for (int64_t corner = 0; corner < (int64_t(1) << linearDims.size());
         ++corner) {
      SmallVector<Value> position(low);
      Value weight;
      for (auto [bit, d] : llvm::enumerate(linearDims)) {
        bool isHigh = corner & (int64_t(1) << bit);
        position[d] = isHigh ? high[d] : low[d];
        Value w = isHigh ? *weights[d] : lowWeights[d];
        weight =
            weight ? arith::MulFOp::create(b, loc, weight, w).getResult() : w;
      }
      Value value = castScalar(
          b, loc, tensor::ExtractOp::create(b, loc, input, position), f32);
      Value term =
          weight ? arith::MulFOp::create(b, loc, weight, value).getResult()
                 : value;
      sum = sum ? arith::AddFOp::create(b, loc, sum, term).getResult() : term;
    }
    return castScalar(b, loc, sum, element);
  }
};

} // namespace

void populateTensorOpsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns
      .add<ConstantLowering, IdentityLowering, DropoutLowering, ShapeLowering,
           ReshapeLowering, FlattenLowering, SqueezeLowering, UnsqueezeLowering,
           TransposeLowering, ConcatLowering, SliceLowering, SplitLowering,
           GatherLowering, PadLowering, ExpandLowering, TileLowering,
           ConstantOfShapeLowering, RangeLowering, ResizeLowering>(
          patterns.getContext());
}

} // namespace mlir::quarc
