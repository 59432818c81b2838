//===- IntegerElementwiseToLinalg.cpp - integer ops between contractions --===//
//
// quarc.requantize, quarc.qadd, quarc.qmul, quarc.lut and
// quarc.qaverage_pool become elementwise linalg.generics on the stored
// values (and a named sum pooling for the average), with the arithmetic of
// Quantization/IntegerElementwise.h: the multipliers are computed here from
// the operand and result types, and each output element is one
// requantization written as FixedPoint.h specifies (IntegerLowering.h).
//
//===----------------------------------------------------------------------===//

#include "IntegerLowering.h"
#include "LoweringUtils.h"
#include "PoolLowering.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Quantization/IntegerElementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {
namespace {

quant::UniformQuantizedType getPerTensorType(Value value) {
  return cast<quant::UniformQuantizedType>(getElementQuantType(value));
}

/// The stored scalar `value` of `type` minus its zero point, as `to`.
Value centered(OpBuilder &b, Location loc, Value value,
               quant::UniformQuantizedType type, Type to) {
  return arith::SubIOp::create(
      b, loc, extendStored(b, loc, value, type, to),
      createScalar(b, loc, to, double(type.getZeroPoint())));
}

/// What every integer op's output stage needs of its result: the
/// quantized type, the storage tensor type it lowers to, and the range it
/// is clamped to (narrowed by a fused activation).
struct IntegerResult {
  quant::UniformQuantizedType type;
  RankedTensorType storage;
  int64_t qmin, qmax;

  static IntegerResult get(const TypeConverter *converter, Operation *op) {
    IntegerResult result;
    result.type = getPerTensorType(op->getResult(0));
    result.storage = cast<RankedTensorType>(
        converter->convertType(op->getResult(0).getType()));
    std::tie(result.qmin, result.qmax) = getClampRange(op, result.type);
    return result;
  }

  /// buildSplitRequantize of `terms` with `shift` into this result.
  Value requantizeSplit(OpBuilder &b, Location loc,
                        ArrayRef<std::pair<Value, int64_t>> terms,
                        MultiplierSplit split, int64_t shift) const {
    return buildSplitRequantize(b, loc, terms, split, shift,
                                type.getZeroPoint(),
                                qmin, qmax, storage.getElementType());
  }

  /// buildRequantize of `acc` with `m` into this result.
  Value requantize(OpBuilder &b, Location loc, Value acc,
                   FixedPointMultiplier m) const {
    Type i32 = b.getI32Type();
    return buildRequantize(b, loc, acc, createScalar(b, loc, i32, m.multiplier),
                           createScalar(b, loc, i32, m.rightShift()),
                           m.rightShift(), type.getZeroPoint(), qmin, qmax,
                           storage.getElementType());
  }
};

struct RequantizeLowering : OpConversionPattern<RequantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto input = getPerTensorType(op.getInput());
    IntegerResult output = IntegerResult::get(getTypeConverter(), op);
    FixedPointMultiplier m =
        getRescaleMultiplier(input.getScale(), output.type.getScale());
    Value result = buildElementwise(
        rewriter, op.getLoc(), output.storage, adaptor.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = centered(b, loc, args[0], input, b.getI32Type());
          // An 8-bit input: the product in 16-bit halves of M, in i32.
          if (auto split = getMultiplierSplit(
                  input.getStorageTypeIntegralWidth() + 1, 1, m.rightShift()))
            return output.requantizeSplit(b, loc, {{x, m.multiplier}}, *split,
                                          m.rightShift());
          return output.requantize(b, loc, x, m);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct QAddLowering : OpConversionPattern<QAddOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QAddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto a = getPerTensorType(op.getA()), b = getPerTensorType(op.getB());
    IntegerResult output = IntegerResult::get(getTypeConverter(), op);
    FixedPointPair m =
        getAddMultipliers(a.getScale(), b.getScale(), output.type.getScale());
    unsigned bits = std::max(a.getStorageTypeIntegralWidth(),
                             b.getStorageTypeIntegralWidth());
    Value result = buildElementwise(
        rewriter, op.getLoc(), output.storage, {adaptor.getA(), adaptor.getB()},
        [&](OpBuilder &nb, Location loc, ValueRange args) {
          if (auto split = getMultiplierSplit(bits + 1, 2, m.rightShift)) {
            Type i32 = nb.getI32Type();
            return output.requantizeSplit(
                nb, loc,
                {{centered(nb, loc, args[0], a, i32), m.first},
                 {centered(nb, loc, args[1], b, i32), m.second}},
                *split, m.rightShift);
          }
          // a * Ma + b * Mb in i64 (below 2^48), one rounding shift.
          Type i64 = nb.getI64Type();
          Value sum = arith::AddIOp::create(
              nb, loc,
              arith::MulIOp::create(nb, loc, centered(nb, loc, args[0], a, i64),
                                    createScalar(nb, loc, i64, m.first)),
              arith::MulIOp::create(nb, loc, centered(nb, loc, args[1], b, i64),
                                    createScalar(nb, loc, i64, m.second)));
          return buildRoundingShiftAndClamp(
              nb, loc, sum, createScalar(nb, loc, i64, m.rightShift),
              m.rightShift, output.type.getZeroPoint(), output.qmin, output.qmax,
              output.storage.getElementType());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct QMulLowering : OpConversionPattern<QMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto a = getPerTensorType(op.getA()), b = getPerTensorType(op.getB());
    IntegerResult output = IntegerResult::get(getTypeConverter(), op);
    FixedPointMultiplier m =
        getMulMultiplier(a.getScale(), b.getScale(), output.type.getScale());
    Value result = buildElementwise(
        rewriter, op.getLoc(), output.storage, {adaptor.getA(), adaptor.getB()},
        [&](OpBuilder &nb, Location loc, ValueRange args) {
          // 8-bit operands: the product fits i32 (|p| <= 255^2, 17 bits
          // with its sign), and the requantization too, in thirds of M.
          Type i32 = nb.getI32Type();
          Value product =
              arith::MulIOp::create(nb, loc, centered(nb, loc, args[0], a, i32),
                                    centered(nb, loc, args[1], b, i32));
          unsigned bits = std::max(a.getStorageTypeIntegralWidth(),
                                   b.getStorageTypeIntegralWidth());
          if (auto split =
                  getMultiplierSplit(2 * bits + 1, 1, m.rightShift()))
            return output.requantizeSplit(nb, loc, {{product, m.multiplier}},
                                          *split, m.rightShift());
          return output.requantize(nb, loc, product, m);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LookupTableLowering : OpConversionPattern<LookupTableOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LookupTableOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto input = getPerTensorType(op.getInput());
    RankedTensorType type = IntegerResult::get(getTypeConverter(), op).storage;
    Type storage = type.getElementType();
    unsigned width = storage.getIntOrFloatBitWidth();
    SmallVector<APInt> entries;
    for (int32_t value : op.getTable())
      entries.push_back(APInt(width, uint64_t(int64_t(value)),
                              /*isSigned=*/true, /*implicitTrunc=*/true));
    auto tableType =
        RankedTensorType::get({int64_t(entries.size())}, storage);
    Value table = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(tableType, entries));
    int64_t qmin = input.getStorageTypeMin();
    Value result = buildElementwise(
        rewriter, loc, type, adaptor.getInput(),
        [&](OpBuilder &b, Location nl, ValueRange args) {
          Type i32 = b.getI32Type();
          Value index = arith::SubIOp::create(
              b, nl, extendStored(b, nl, args[0], input, i32),
              createScalar(b, nl, i32, double(qmin)));
          index = arith::IndexCastOp::create(b, nl, b.getIndexType(), index);
          return tensor::ExtractOp::create(b, nl, table, index).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Whether `pool` (in its 2-D form) has one window covering its whole
/// unpadded input, of static size.
bool isWholeInputWindow(const PoolInput &pool, RankedTensorType xType) {
  ArrayRef<int64_t> spatial = xType.getShape().drop_front(2);
  unsigned offset = pool.is1D ? 1 : 0; // the 2-D form's leading unit dim
  for (unsigned i = 0; i < spatial.size(); ++i) {
    unsigned d = i + offset;
    if (ShapedType::isDynamic(spatial[i]) ||
        pool.window.kernel[d] != spatial[i] || pool.window.dilations[d] != 1 ||
        pool.window.padLow[d] != 0 || pool.padHigh[d] != 0 ||
        pool.resultType.getDimSize(d + 2) != 1)
      return false;
  }
  return true;
}

/// The sums of (x - zx) over the spatial dims of the stored `x` (the 2-D
/// pool's input form, [N, C, H, W]), as the pool's result [N, C, 1, 1].
Value reduceWholeInput(OpBuilder &b, Location loc, Value x,
                       quant::UniformQuantizedType input) {
  Type i32 = b.getI32Type();
  Value sums = reduceTrailing(
      b, loc, x, {}, 2, createScalar(b, loc, i32, 0),
      [&](OpBuilder &nested, Location nl, ValueRange in, Value acc) -> Value {
        return arith::AddIOp::create(nested, nl, acc,
                                     centered(nested, nl, in[0], input, i32));
      });
  return expandUnitDims(b, loc, sums, {2, 3});
}

struct QAveragePoolLowering : OpConversionPattern<QAveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QAveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto input = getPerTensorType(op.getX());
    IntegerResult output = IntegerResult::get(getTypeConverter(), op);
    RankedTensorType type = output.storage;
    Type i32 = rewriter.getI32Type();
    auto xType = cast<RankedTensorType>(adaptor.getX().getType());
    FailureOr<PoolInput> pool =
        preparePool(op, adaptor.getX(), type.clone(i32), rewriter);
    if (failed(pool))
      return failure();
    // A window over the whole input (a squeeze-and-excitation block's
    // GlobalAveragePool) is a plain reduction of the stored values, which
    // quarc-lower-reductions runs with the sums in registers; the named
    // pool sums into memory.
    Value sums;
    if (isWholeInputWindow(*pool, xType)) {
      sums = reduceWholeInput(rewriter, loc, pool->input, input);
    } else {
      // x - zx in i32, so that the pads (0) read as zx would and the sum
      // is the accumulator itself.
      auto storedType = cast<RankedTensorType>(pool->input.getType());
      pool->input = buildElementwise(
          rewriter, loc, storedType.clone(i32), pool->input,
          [&](OpBuilder &b, Location nl, ValueRange args) {
            return centered(b, nl, args[0], input, i32);
          });
      Value zero = createScalar(rewriter, loc, i32, 0);
      sums = buildPool2D<linalg::PoolingNchwSumOp>(rewriter, loc, *pool, zero,
                                                   zero);
    }
    std::optional<SmallVector<SmallVector<int64_t>>> counts =
        getStaticPoolCounts(*pool, op.getCountIncludePad() != 0);
    if (!counts)
      return op.emitOpError("spatial dims must be static to lower");

    // One multiplier per output position (h, w): scalars when every window
    // has the same divisor, else OH x OW tables read at (h, w).
    SmallVector<int32_t> multipliers, shifts;
    for (int64_t h : (*counts)[0])
      for (int64_t w : (*counts)[1]) {
        FixedPointMultiplier m = getAveragePoolMultiplier(
            input.getScale(), output.type.getScale(), h * w);
        multipliers.push_back(m.multiplier);
        shifts.push_back(m.rightShift());
      }
    SmallVector<Value> inputs = {sums};
    auto constant = [&](ArrayRef<int32_t> values) -> Value {
      if (llvm::all_equal(values))
        return createScalar(rewriter, loc, i32, values.front());
      auto tableType = RankedTensorType::get(
          {int64_t((*counts)[0].size()), int64_t((*counts)[1].size())}, i32);
      inputs.push_back(arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(tableType, values)));
      return nullptr;
    };
    Value multiplier = constant(multipliers), shift = constant(shifts);
    int64_t leastShift = *llvm::min_element(shifts);
    auto pooledType = cast<RankedTensorType>(sums.getType());
    Value result = buildElementwise(
        rewriter, loc, pooledType.clone(type.getElementType()), inputs,
        [&](OpBuilder &b, Location nl, ValueRange args) {
          unsigned next = 1;
          Value m = multiplier ? multiplier : args[next++];
          Value n = shift ? shift : args[next++];
          return buildRequantize(b, nl, args[0], m, n, leastShift,
                                 output.type.getZeroPoint(), output.qmin,
                                 output.qmax, type.getElementType());
        });
    if (pool->is1D)
      result = collapseUnitDims(rewriter, loc, result, {2});
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateIntegerElementwiseToLinalgPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<RequantizeLowering, QAddLowering, QMulLowering,
               LookupTableLowering, QAveragePoolLowering>(
      converter, patterns.getContext());
}

} // namespace mlir::quarc
