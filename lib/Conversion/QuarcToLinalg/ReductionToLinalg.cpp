//===- ReductionToLinalg.cpp - reductions, softmax, arg-reductions --------===//
//
// Reduce* become linalg.reduce over the reduced dims, then the mean's
// division or L2's square root, then an expand_shape for keepdims.
// Softmax and LogSoftmax are three generics along the axis: the max, the
// sum of exp(x - max), and the normalization. Subtracting the max keeps exp
// from overflowing, and exp(x - max) is never stored as a whole tensor
// (upstream linalg.softmax is not used: it has no good lowering).
// ArgMax/ArgMin are one reduction generic carrying the best value and its
// index.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::quarc {
namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// The smallest value of `type`: -inf, or the minimum signed integer.
Value lowestValue(OpBuilder &b, Location loc, Type type) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(type, APFloat::getInf(floatType.getFloatSemantics(),
                                             /*Negative=*/true)));
  return arith::ConstantOp::create(
      b, loc,
      b.getIntegerAttr(type,
                       APInt::getSignedMinValue(type.getIntOrFloatBitWidth())));
}

/// The largest value of `type`: +inf, or the maximum signed integer.
Value highestValue(OpBuilder &b, Location loc, Type type) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(type, APFloat::getInf(floatType.getFloatSemantics())));
  return arith::ConstantOp::create(
      b, loc,
      b.getIntegerAttr(type,
                       APInt::getSignedMaxValue(type.getIntOrFloatBitWidth())));
}

/// `type` without the dims in `dims` (sorted).
RankedTensorType dropDims(RankedTensorType type, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> shape;
  for (auto [i, dim] : llvm::enumerate(type.getShape()))
    if (!llvm::is_contained(dims, int64_t(i)))
      shape.push_back(dim);
  return type.clone(shape);
}

/// The source dim of every result dim once `dims` are dropped.
SmallVector<int64_t> keptDims(int64_t rank, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> kept;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(dims, i))
      kept.push_back(i);
  return kept;
}

/// A tensor of `source` without `dims`, filled with `value`.
Value createReducedInit(OpBuilder &b, Location loc, Value source,
                        ArrayRef<int64_t> dims, Value value) {
  auto type = cast<RankedTensorType>(source.getType());
  RankedTensorType reduced = dropDims(type.clone(value.getType()), dims);
  return createFilled(
      b, loc, reduced,
      getDynamicSizes(b, loc, reduced, source, keptDims(type.getRank(), dims)),
      value);
}

/// The map reading a tensor reduced along `axis` inside the full loop nest.
AffineMap getReducedMap(MLIRContext *context, int64_t rank, int64_t axis) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      exprs.push_back(getAffineDimExpr(i, context));
  return AffineMap::get(rank, 0, exprs, context);
}

/// Iterators of a loop nest reducing along `axis` only.
SmallVector<utils::IteratorType> getAxisIterators(int64_t rank, int64_t axis) {
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[axis] = utils::IteratorType::reduction;
  return iterators;
}

/// The number of elements in `dims` of `source`, as a scalar of `type`.
Value getElementCount(OpBuilder &b, Location loc, Value source,
                      ArrayRef<int64_t> dims, Type type) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  int64_t staticCount = 1;
  Value count;
  for (int64_t d : dims) {
    if (!sourceType.isDynamicDim(d)) {
      staticCount *= sourceType.getDimSize(d);
      continue;
    }
    Value size = tensor::DimOp::create(b, loc, source, d);
    count =
        count ? arith::MulIOp::create(b, loc, count, size).getResult() : size;
  }
  Value result = createScalar(b, loc, type, double(staticCount));
  if (!count)
    return result;
  Value dynamic = castScalar(
      b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), count), type);
  if (isa<FloatType>(type))
    return arith::MulFOp::create(b, loc, result, dynamic);
  return arith::MulIOp::create(b, loc, result, dynamic);
}

//===----------------------------------------------------------------------===//
// Reduce*
//===----------------------------------------------------------------------===//

enum class ReduceKind { Sum, Mean, Max, Min, Prod, L2 };

/// The identity of the combiner: 0, 1, or the extreme value.
Value getReduceInit(OpBuilder &b, Location loc, ReduceKind kind, Type type) {
  switch (kind) {
  case ReduceKind::Max:
    return lowestValue(b, loc, type);
  case ReduceKind::Min:
    return highestValue(b, loc, type);
  case ReduceKind::Prod:
    return createScalar(b, loc, type, 1);
  default:
    return createScalar(b, loc, type, 0);
  }
}

/// Folds element `x` into the accumulator `acc`. Max and Min propagate NaN,
/// as numpy (and the ONNX reference) do.
Value combine(OpBuilder &b, Location loc, ReduceKind kind, Value x, Value acc) {
  bool isFloat = isa<FloatType>(x.getType());
  switch (kind) {
  case ReduceKind::Max:
    return isFloat ? arith::MaximumFOp::create(b, loc, x, acc).getResult()
                   : arith::MaxSIOp::create(b, loc, x, acc).getResult();
  case ReduceKind::Min:
    return isFloat ? arith::MinimumFOp::create(b, loc, x, acc).getResult()
                   : arith::MinSIOp::create(b, loc, x, acc).getResult();
  case ReduceKind::Prod:
    return isFloat ? arith::MulFOp::create(b, loc, x, acc).getResult()
                   : arith::MulIOp::create(b, loc, x, acc).getResult();
  case ReduceKind::L2:
    x = arith::MulFOp::create(b, loc, x, x);
    [[fallthrough]];
  case ReduceKind::Sum:
  case ReduceKind::Mean:
    return isFloat ? arith::AddFOp::create(b, loc, x, acc).getResult()
                   : arith::AddIOp::create(b, loc, x, acc).getResult();
  }
  llvm_unreachable("unknown reduction");
}

/// The reduced dims (sorted, unique); empty for "all dims".
FailureOr<SmallVector<int64_t>> getReduceAxes(Operation *op, Value axes,
                                              int64_t rank) {
  if (isNone(axes))
    return SmallVector<int64_t>();
  FailureOr<SmallVector<int64_t>> result = requireConstantAxes(op, axes, rank);
  if (failed(result))
    return failure();
  llvm::sort(*result);
  result->erase(llvm::unique(*result), result->end());
  return result;
}

template <typename OpTy, ReduceKind kind>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    auto dataType = cast<RankedTensorType>(data.getType());
    Type element = dataType.getElementType();
    int64_t rank = dataType.getRank();
    FailureOr<SmallVector<int64_t>> axes =
        getReduceAxes(op, op.getAxes(), rank);
    if (failed(axes))
      return failure();
    if (axes->empty() && op.getNoopWithEmptyAxes()) {
      rewriter.replaceOp(op, castToType(rewriter, loc, data, op.getType()));
      return success();
    }
    if (axes->empty())
      axes->assign(llvm::seq<int64_t>(0, rank).begin(),
                   llvm::seq<int64_t>(0, rank).end());
    if (kind == ReduceKind::L2 && !isa<FloatType>(element))
      return op.emitOpError("ReduceL2 of integers does not lower to native "
                            "code yet");

    Value reduced = buildReduction(rewriter, loc, data, *axes);
    reduced = finish(rewriter, loc, data, reduced, *axes);
    if (op.getKeepdims())
      reduced = expandUnitDims(rewriter, loc, reduced, *axes);
    rewriter.replaceOp(op, castToType(rewriter, loc, reduced, op.getType()));
    return success();
  }

  /// linalg.reduce of `data` over `axes` (a 0-D input only combines with
  /// the init).
  static Value buildReduction(OpBuilder &b, Location loc, Value data,
                              ArrayRef<int64_t> axes) {
    Type element = cast<RankedTensorType>(data.getType()).getElementType();
    Value initValue = getReduceInit(b, loc, kind, element);
    if (axes.empty())
      return buildElementwise(b, loc, cast<RankedTensorType>(data.getType()),
                              data,
                              [&](OpBuilder &nb, Location nl, ValueRange s) {
                                return combine(nb, nl, kind, s[0], initValue);
                              });
    Value init = createReducedInit(b, loc, data, axes, initValue);
    auto reduce = linalg::ReduceOp::create(
        b, loc, ValueRange{data}, ValueRange{init}, axes,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl,
                                  combine(nb, nl, kind, args[0], args[1]));
        });
    return reduce.getResult(0);
  }

  /// The mean's division by the element count, L2's square root.
  static Value finish(OpBuilder &b, Location loc, Value data, Value reduced,
                      ArrayRef<int64_t> axes) {
    if (kind != ReduceKind::Mean && kind != ReduceKind::L2)
      return reduced;
    auto type = cast<RankedTensorType>(reduced.getType());
    Type element = type.getElementType();
    Value count = kind == ReduceKind::Mean
                      ? getElementCount(b, loc, data, axes, element)
                      : Value();
    return buildElementwise(
        b, loc, type, reduced, [&](OpBuilder &nb, Location nl, ValueRange s) {
          if (kind == ReduceKind::L2)
            return math::SqrtOp::create(nb, nl, s[0]).getResult();
          if (isa<FloatType>(element))
            return arith::DivFOp::create(nb, nl, s[0], count).getResult();
          return arith::DivSIOp::create(nb, nl, s[0], count).getResult();
        });
  }
};

//===----------------------------------------------------------------------===//
// Softmax, LogSoftmax
//===----------------------------------------------------------------------===//

/// A generic reducing `inputs` (the first read in full, the others with
/// the reduced map) along `axis` into `init`.
Value reduceAlongAxis(
    OpBuilder &b, Location loc, ValueRange inputs, Value init, int64_t axis,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = cast<RankedTensorType>(inputs[0].getType()).getRank();
  MLIRContext *context = b.getContext();
  AffineMap reducedMap = getReducedMap(context, rank, axis);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, context)};
  for (size_t i = 1; i < inputs.size(); ++i)
    maps.push_back(reducedMap);
  maps.push_back(reducedMap);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      getAxisIterators(rank, axis),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args));
      });
  return generic.getResult(0);
}

template <typename OpTy, bool isLog>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    auto type = cast<RankedTensorType>(x.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    FailureOr<int64_t> axis = normalizeAxis(loc, op.getAxis(), rank, "axis");
    if (failed(axis))
      return failure();

    // max_j x_j
    Value maxInit = createReducedInit(rewriter, loc, x, {*axis},
                                      lowestValue(rewriter, loc, element));
    Value max = reduceAlongAxis(
        rewriter, loc, x, maxInit, *axis,
        [](OpBuilder &b, Location l, ValueRange args) {
          return arith::MaximumFOp::create(b, l, args[0], args[1]).getResult();
        });
    // sum_j exp(x_j - max)
    Value sumInit = createReducedInit(rewriter, loc, x, {*axis},
                                      createScalar(rewriter, loc, element, 0));
    Value sum = reduceAlongAxis(
        rewriter, loc, ValueRange{x, max}, sumInit, *axis,
        [](OpBuilder &b, Location l, ValueRange args) {
          Value shifted = arith::SubFOp::create(b, l, args[0], args[1]);
          return arith::AddFOp::create(b, l, math::ExpOp::create(b, l, shifted),
                                       args[2])
              .getResult();
        });
    // exp(x - max) / sum, or (x - max) - log(sum)
    MLIRContext *context = rewriter.getContext();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
    AffineMap reducedMap = getReducedMap(context, rank, *axis);
    Value init = createEmpty(rewriter, loc, type,
                             getDynamicSizes(rewriter, loc, type, x));
    auto normalize = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{x, max, sum},
        ValueRange{init},
        SmallVector<AffineMap>{identity, reducedMap, reducedMap, identity},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          Value shifted = arith::SubFOp::create(b, l, args[0], args[1]);
          Value result =
              isLog ? arith::SubFOp::create(b, l, shifted,
                                            math::LogOp::create(b, l, args[2]))
                          .getResult()
                    : arith::DivFOp::create(
                          b, l, math::ExpOp::create(b, l, shifted), args[2])
                          .getResult();
          linalg::YieldOp::create(b, l, result);
        });
    rewriter.replaceOp(
        op, castToType(rewriter, loc, normalize.getResult(0), op.getType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ArgMax, ArgMin
//===----------------------------------------------------------------------===//

/// One reduction generic with two accumulators, the best value and its
/// index. A strict comparison keeps the first best index; select_last_index
/// makes it non-strict so later equal values win.
template <typename OpTy, bool isMax>
struct ArgReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    auto type = cast<RankedTensorType>(data.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    FailureOr<int64_t> axis = normalizeAxis(loc, op.getAxis(), rank, "axis");
    if (failed(axis))
      return failure();
    bool lastIndex = op.getSelectLastIndex() != 0;

    Value valueInit =
        createReducedInit(rewriter, loc, data, {*axis},
                          isMax ? lowestValue(rewriter, loc, element)
                                : highestValue(rewriter, loc, element));
    Value indexInit = createReducedInit(
        rewriter, loc, data, {*axis},
        createScalar(rewriter, loc, rewriter.getI64Type(), 0));
    MLIRContext *context = rewriter.getContext();
    AffineMap reducedMap = getReducedMap(context, rank, *axis);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valueInit.getType(), indexInit.getType()},
        ValueRange{data}, ValueRange{valueInit, indexInit},
        SmallVector<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, context),
                               reducedMap, reducedMap},
        getAxisIterators(rank, *axis),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], best = args[1], bestIndex = args[2];
          Value better = isBetter(b, l, x, best, lastIndex);
          Value index = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, *axis));
          linalg::YieldOp::create(
              b, l,
              ValueRange{
                  arith::SelectOp::create(b, l, better, x, best),
                  arith::SelectOp::create(b, l, better, index, bestIndex)});
        });
    Value result = generic.getResult(1);
    if (op.getKeepdims())
      result = expandUnitDims(rewriter, loc, result, {*axis});
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }

  static Value isBetter(OpBuilder &b, Location loc, Value x, Value best,
                        bool orEqual) {
    if (isa<FloatType>(x.getType())) {
      using P = arith::CmpFPredicate;
      P predicate =
          isMax ? (orEqual ? P::OGE : P::OGT) : (orEqual ? P::OLE : P::OLT);
      return arith::CmpFOp::create(b, loc, predicate, x, best);
    }
    using P = arith::CmpIPredicate;
    P predicate =
        isMax ? (orEqual ? P::sge : P::sgt) : (orEqual ? P::sle : P::slt);
    return arith::CmpIOp::create(b, loc, predicate, x, best);
  }
};

} // namespace

void populateReductionToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ReduceLowering<ReduceSumOp, ReduceKind::Sum>,
               ReduceLowering<ReduceMeanOp, ReduceKind::Mean>,
               ReduceLowering<ReduceMaxOp, ReduceKind::Max>,
               ReduceLowering<ReduceMinOp, ReduceKind::Min>,
               ReduceLowering<ReduceProdOp, ReduceKind::Prod>,
               ReduceLowering<ReduceL2Op, ReduceKind::L2>,
               SoftmaxLowering<SoftmaxOp, /*isLog=*/false>,
               SoftmaxLowering<LogSoftmaxOp, /*isLog=*/true>,
               ArgReduceLowering<ArgMaxOp, /*isMax=*/true>,
               ArgReduceLowering<ArgMinOp, /*isMax=*/false>>(
      patterns.getContext());
}

} // namespace mlir::quarc
