//===- IntegerOpsToLinalg.cpp - qconv and qmatmul to integer linalg -------===//
//
// The integer ops become two linalg.generics each:
//
//  1. the contraction: an i32 accumulator, initialized with the bias,
//     plus the products of the stored 8-bit values, each extended to i32
//     by the signedness of its quantized type (zero-extended u8, sign-
//     extended i8), the weight minus its zero point when it has one
//     (asymmetric weights). A convolution's input is padded with its zero point,
//     which is what the bias's compensation assumes.
//  2. the output stage, elementwise over the accumulators with per-channel
//     constants: the fixed-point requantization of Quantization/
//     FixedPoint.h, written in i64 arithmetic exactly as specified there
//     (one product, one add of 2^(n-1), one arithmetic shift, zero point,
//     clamp), or the f32 scaling of an f32 result.
//
// The contraction's innermost loop runs along the output row (contiguous
// in the output, and in the input for unit stride) so that the loops the
// generic becomes vectorize. The packed VNNI/NEON kernels of the target
// layer replace this form where the target has them.
//
//===----------------------------------------------------------------------===//

#include "DynamicQuantization.h"
#include "IntegerLowering.h"
#include "IntegerProducts.h"
#include "LoweringUtils.h"
#include "WindowLowering.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Quantization/FixedPoint.h"
#include "quarc/Quantization/IntegerContraction.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {
namespace {

/// A per-channel constant: a scalar when all channels agree (per-tensor
/// weights), else a 1-D tensor read along the channel dim.
template <typename T>
Value createChannelConstant(OpBuilder &b, Location loc, Type element,
                            ArrayRef<T> values) {
  if (llvm::all_equal(values))
    return createScalar(b, loc, element, double(values.front()));
  auto type = RankedTensorType::get({int64_t(values.size())}, element);
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

/// The output stage of `op`: from the i32 accumulators (channels along
/// `channelDim`) to `resultType` (the lowered storage type of a quantized
/// result, or f32). `inputScale` and `weightScales` give the accumulators'
/// scale per channel.
Value buildOutputStage(OpBuilder &b, Operation *op, Value accumulators,
                       int64_t channelDim, double inputScale,
                       ArrayRef<double> weightScales,
                       RankedTensorType resultType) {
  Location loc = op->getLoc();
  Type resultElement =
      cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
  MLIRContext *context = b.getContext();
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto quantized = dyn_cast<quant::UniformQuantizedType>(resultElement);
  int64_t qmin = 0, qmax = 0;
  if (quantized)
    std::tie(qmin, qmax) = getClampRange(op, quantized);
  SmallVector<Value> constants;
  int64_t leastShift = 0;
  if (quantized) {
    SmallVector<int32_t> multipliers, shifts;
    for (double weightScale : weightScales) {
      FixedPointMultiplier m = quantizeMultiplier(
          getRequantScale(inputScale, weightScale, quantized.getScale()));
      multipliers.push_back(m.multiplier);
      shifts.push_back(m.rightShift());
    }
    constants.push_back(createChannelConstant<int32_t>(b, loc, i32, multipliers));
    constants.push_back(createChannelConstant<int32_t>(b, loc, i32, shifts));
    leastShift = *llvm::min_element(shifts);
  } else {
    SmallVector<float> scales;
    for (double weightScale : weightScales)
      scales.push_back(float(inputScale * weightScale));
    constants.push_back(createChannelConstant<float>(b, loc, f32, scales));
  }

  // The generic reads the accumulators and the constants that are tensors.
  int64_t rank = resultType.getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  AffineMap channel =
      AffineMap::get(rank, 0, getAffineDimExpr(channelDim, context), context);
  SmallVector<Value> inputs = {accumulators};
  SmallVector<AffineMap> maps = {identity};
  for (Value constant : constants)
    if (isa<RankedTensorType>(constant.getType())) {
      inputs.push_back(constant);
      maps.push_back(channel);
    }
  maps.push_back(identity);
  Value init = createEmpty(b, loc, resultType,
                           getDynamicSizes(b, loc, resultType, accumulators));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, init, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        // Scalar constants are used directly; tensor ones arrive as args.
        SmallVector<Value> params;
        unsigned next = 1;
        for (Value constant : constants)
          params.push_back(isa<RankedTensorType>(constant.getType())
                               ? args[next++]
                               : constant);
        Value acc = args[0];
        Value result;
        if (!quantized) {
          result = arith::MulFOp::create(
              nb, nl, arith::SIToFPOp::create(nb, nl, f32, acc), params[0]);
        } else {
          // r = (acc * M + 2^(n-1)) >> n, then zero point and clamp.
          result = buildRequantize(nb, nl, acc, params[0], params[1],
                                   leastShift, quantized.getZeroPoint(), qmin,
                                   qmax, resultType.getElementType());
        }
        linalg::YieldOp::create(nb, nl, result);
      });
  return generic.getResult(0);
}

struct QConvLowering : OpConversionPattern<QConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    FailureOr<Conv2DOperands> conv =
        prepareConv2D(op, rewriter, adaptor.getX(), adaptor.getW(),
                      resultType, "integer convolutions");
    if (failed(conv))
      return failure();
    Value x = conv->x, w = conv->w;
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    resultType = conv->resultType;
    const Window &win = conv->window;

    int64_t groups = op.getGroup();
    int64_t outChannels = wType.getDimSize(0), inPerGroup = wType.getDimSize(1);
    if (groups < 1 || outChannels % groups != 0)
      return op.emitOpError("the weight's ")
             << outChannels << " output channels do not split into " << groups
             << " groups";
    x = refineChannels(rewriter, loc, x, inPerGroup * groups);

    // Padding reads the input zero point: (zx - zx) * w contributes 0.
    auto inputType = cast<quant::UniformQuantizedType>(getElementQuantType(op.getX()));
    auto weightType = getElementQuantType(op.getW());
    Value zeroPoint = createScalar(rewriter, loc, xType.getElementType(),
                                   double(int8_t(inputType.getZeroPoint())));
    Value padded =
        padSpatial(rewriter, loc, x, win.padLow, win.padHigh, zeroPoint);
    auto accType = resultType.clone(rewriter.getI32Type());
    SmallVector<Value> sizes =
        getWindowResultSizes(rewriter, loc, accType, padded, w, 0, win);
    Value init = broadcastBias(rewriter, loc, accType, sizes, adaptor.getBias(), 1);

    // Groups as their own dim: input N x G x C/G x H x W, filter G x F/G x
    // C/G x kh x kw, accumulators N x G x F/G x OH x OW.
    Value groupedInput = splitChannels(rewriter, loc, padded, groups);
    Value groupedInit = splitChannels(rewriter, loc, init, groups);
    auto filterType = RankedTensorType::get(
        {groups, outChannels / groups, inPerGroup, wType.getDimSize(2),
         wType.getDimSize(3)},
        wType.getElementType());
    Value filter = tensor::ExpandShapeOp::create(
        rewriter, loc, filterType, w,
        SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});

    // Loop dims (n, g, f, y, c, i, j, x): x innermost, after the reductions.
    MLIRContext *context = rewriter.getContext();
    AffineExpr n, g, f, y, c, i, j, xo;
    bindDims(context, n, g, f, y, c, i, j, xo);
    SmallVector<AffineMap> maps = {
        AffineMap::get(8, 0,
                       {n, g, c, y * win.strides[0] + i * win.dilations[0],
                        xo * win.strides[1] + j * win.dilations[1]},
                       context),
        AffineMap::get(8, 0, {g, f, c, i, j}, context),
        AffineMap::get(8, 0, {n, g, f, y, xo}, context)};
    using utils::IteratorType;
    SmallVector<IteratorType> iterators = {
        IteratorType::parallel,  IteratorType::parallel,
        IteratorType::parallel,  IteratorType::parallel,
        IteratorType::reduction, IteratorType::reduction,
        IteratorType::reduction, IteratorType::parallel};
    // Asymmetric weights: zw per output channel, read at (g, f).
    WeightZeroPoints zeroPoints = WeightZeroPoints::get(
        rewriter, loc, weightType, outChannels, {groups, outChannels / groups});
    SmallVector<Value> inputs = {groupedInput, filter};
    if (zeroPoints.tensor) {
      inputs.push_back(zeroPoints.tensor);
      maps.insert(maps.end() - 1, AffineMap::get(8, 0, {g, f}, context));
    }
    Value accumulated =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{groupedInit.getType()}, inputs,
            groupedInit, maps, iterators,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              linalg::YieldOp::create(
                  nb, nl,
                  buildMultiplyAccumulate(
                      nb, nl,
                      extendStored(nb, nl, args[0], inputType, nb.getI32Type()),
                      args[1], zeroPoints.get(args), args.back(), weightType));
            })
            .getResult(0);
    accumulated = tensor::CollapseShapeOp::create(
        rewriter, loc, accType, accumulated,
        SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});

    Value result = buildOutputStage(rewriter, op, accumulated, 1,
                                    inputType.getScale(),
                                    getChannelScales(weightType, outChannels),
                                    resultType);
    if (conv->unitHeight)
      result = collapseUnitDims(rewriter, loc, result, {2});
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct QMatMulLowering : OpConversionPattern<QMatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QMatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    Value a = adaptor.getA(), b = adaptor.getB();
    int64_t rank = resultType.getRank();
    auto accType = resultType.clone(rewriter.getI32Type());
    Value init = broadcastBias(rewriter, loc, accType,
                               getMatMulAccumulatorSizes(rewriter, loc, accType, a),
                               adaptor.getBias(), rank - 1);
    auto inputType = cast<quant::UniformQuantizedType>(getElementQuantType(op.getA()));
    auto weightType = getElementQuantType(op.getB());
    int64_t columns = op.getB().getType().getDimSize(1);
    Value accumulated = buildIntegerMatMul(
        rewriter, loc, a, b, init, weightType,
        getChannelZeroPoints(weightType, columns),
        [&](OpBuilder &nb, Location nl, Value stored) {
          return extendStored(nb, nl, stored, inputType, nb.getI32Type());
        });
    Value result = buildOutputStage(rewriter, op, accumulated, rank - 1,
                                    inputType.getScale(),
                                    getChannelScales(weightType, columns),
                                    resultType);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// quarc.qmatmul_dynamic: the activation quantized as the model runs,
/// its i32 product with the weight, and the f32 output
/// f32(acc) * f32(sa * sb[n]) + bias[n] (DynamicQuantization.h).
struct QMatMulDynamicLowering : OpConversionPattern<QMatMulDynamicOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QMatMulDynamicOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto weightType = getElementQuantType(op.getB());
    int64_t columns = op.getB().getType().getDimSize(1);
    auto storageCast = op.getB().getDefiningOp<StorageCastOp>();
    std::optional<SmallVector<int64_t>> values =
        storageCast ? getConstantIntValues(storageCast.getInput())
                    : std::nullopt;
    ColumnQuantizedWeights weights{adaptor.getB(), weightType,
                                   getChannelScales(weightType, columns),
                                   getChannelZeroPoints(weightType, columns),
                                   {}};
    // A constant weight's column sums make the product the plain integer
    // contraction the int8 kernels take.
    if (values)
      weights.columnSums = computeColumnSums(
          *values, op.getB().getType().getShape(), weights.zeroPoints);
    Value bias = isNone(op.getBias()) ? Value() : adaptor.getBias();
    Value result = buildDynamicProduct(
        rewriter, loc, quantizeAtRunTime(rewriter, loc, adaptor.getA()),
        weights, bias, cast<RankedTensorType>(op.getType()));
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateIntegerOpsToLinalgPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns) {
  patterns.add<QConvLowering, QMatMulLowering, QMatMulDynamicLowering>(
      converter, patterns.getContext());
}

} // namespace mlir::quarc
