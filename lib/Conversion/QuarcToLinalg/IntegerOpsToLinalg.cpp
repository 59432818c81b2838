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

#include "IntegerLowering.h"
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

/// The scalar body of the contraction: acc + input * (ext(weight) - zw),
/// without the subtraction for symmetric weights (null `zeroPoint`);
/// `input` is already widened to i32.
Value buildMultiplyAccumulate(OpBuilder &b, Location loc, Value input,
                              Value weight, Value zeroPoint, Value acc,
                              quant::QuantizedType weightType) {
  Value centered = extendStored(b, loc, weight, weightType, b.getI32Type());
  if (zeroPoint)
    centered = arith::SubIOp::create(b, loc, centered, zeroPoint);
  Value product = arith::MulIOp::create(b, loc, input, centered);
  return arith::AddIOp::create(b, loc, acc, product);
}

/// How the contraction reads the weight zero points of its `channels`
/// output channels: nothing when they are all 0 (symmetric weights), a
/// scalar when they are all equal, else an i32 constant of `shape` (the
/// channels in order) that the generic reads as one more input.
struct WeightZeroPoints {
  Value scalar, tensor;

  static WeightZeroPoints get(OpBuilder &b, Location loc,
                              quant::QuantizedType weightType,
                              int64_t channels, ArrayRef<int64_t> shape) {
    SmallVector<int64_t> zeroPoints = getChannelZeroPoints(weightType, channels);
    WeightZeroPoints result;
    if (llvm::all_of(zeroPoints, [](int64_t z) { return z == 0; }))
      return result;
    if (llvm::all_equal(zeroPoints)) {
      result.scalar = createScalar(b, loc, b.getI32Type(), zeroPoints.front());
      return result;
    }
    SmallVector<int32_t> values(zeroPoints.begin(), zeroPoints.end());
    auto type = RankedTensorType::get(shape, b.getI32Type());
    result.tensor = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef(values)));
    return result;
  }

  /// The zero point in the generic's body, whose inputs are `args`
  /// (input, weight, [zero points], accumulator).
  Value get(ValueRange args) const { return tensor ? args[2] : scalar; }
};

/// An i32 tensor of `type` whose elements are `bias[d]`, d the index along
/// `channelDim`.
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
                                   quantized.getZeroPoint(), qmin, qmax,
                                   resultType.getElementType());
        }
        linalg::YieldOp::create(nb, nl, result);
      });
  return generic.getResult(0);
}

/// The dynamic sizes of a matrix product's accumulators: only the rows of
/// `a` can be dynamic (b is a static K x N).
SmallVector<Value> getMatMulAccumulatorSizes(OpBuilder &b, Location loc,
                                             RankedTensorType accType,
                                             Value a) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < accType.getRank() - 1; ++d)
    if (accType.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, a, d));
  return sizes;
}

/// The i32 contraction of a matrix product into `init`: loop dims (batch...,
/// m, k, n), n innermost after the reduction; each step adds
/// widen(a) * (b - zb), `widenInput` turning a's stored scalar into i32.
Value buildIntegerMatMul(OpBuilder &builder, Location loc, Value a, Value b,
                         Value init, quant::QuantizedType weightType,
                         function_ref<Value(OpBuilder &, Location, Value)>
                             widenInput) {
  MLIRContext *context = builder.getContext();
  auto accType = cast<RankedTensorType>(init.getType());
  int64_t rank = accType.getRank(), numDims = rank + 1;
  int64_t columns = cast<RankedTensorType>(b.getType()).getDimSize(1);
  SmallVector<AffineExpr> batch;
  for (int64_t d = 0; d < rank - 2; ++d)
    batch.push_back(getAffineDimExpr(d, context));
  AffineExpr m = getAffineDimExpr(rank - 2, context),
             k = getAffineDimExpr(rank - 1, context),
             n = getAffineDimExpr(rank, context);
  auto withBatch = [&](std::initializer_list<AffineExpr> tail) {
    SmallVector<AffineExpr> exprs(batch);
    exprs.append(tail.begin(), tail.end());
    return AffineMap::get(numDims, 0, exprs, context);
  };
  SmallVector<AffineMap> maps = {withBatch({m, k}),
                                 AffineMap::get(numDims, 0, {k, n}, context),
                                 withBatch({m, n})};
  // Asymmetric weights: zb per column, read at n.
  WeightZeroPoints zeroPoints =
      WeightZeroPoints::get(builder, loc, weightType, columns, {columns});
  SmallVector<Value> inputs = {a, b};
  if (zeroPoints.tensor) {
    inputs.push_back(zeroPoints.tensor);
    maps.insert(maps.end() - 1, AffineMap::get(numDims, 0, {n}, context));
  }
  SmallVector<utils::IteratorType> iterators(numDims,
                                             utils::IteratorType::parallel);
  iterators[rank - 1] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             builder, loc, TypeRange{accType}, inputs, init, maps, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   buildMultiplyAccumulate(nb, nl, widenInput(nb, nl, args[0]),
                                           args[1], zeroPoints.get(args),
                                           args.back(), weightType));
             })
      .getResult(0);
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

/// quarc.qmatmul_dynamic: the activation's range (one reduction), its
/// scale and zero point (scalar arithmetic, as DynamicQuantizeLinear), the
/// quantized activation (elementwise), the i32 contraction of centered
/// values, and the f32 output f32(acc) * f32(sa * sb[n]) + bias[n].
struct QMatMulDynamicLowering : OpConversionPattern<QMatMulDynamicOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QMatMulDynamicOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
    Value a = adaptor.getA();
    auto aType = cast<RankedTensorType>(a.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = aType.getRank();
    auto f32Constant = [&](OpBuilder &b, Location l, double value) {
      return createScalar(b, l, f32, value);
    };

    // lo = min(0, min a), hi = max(0, max a).
    auto scalarType = RankedTensorType::get({}, f32);
    Value zeroTensor = createFilled(rewriter, loc, scalarType, {},
                                    f32Constant(rewriter, loc, 0.0));
    SmallVector<AffineMap> rangeMaps = {
        AffineMap::getMultiDimIdentityMap(rank, context),
        AffineMap::get(rank, 0, context), AffineMap::get(rank, 0, context)};
    SmallVector<utils::IteratorType> reductions(rank,
                                                utils::IteratorType::reduction);
    auto range = linalg::GenericOp::create(
        rewriter, loc, TypeRange{scalarType, scalarType}, a,
        ValueRange{zeroTensor, zeroTensor}, rangeMaps, reductions,
        [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::MinimumFOp::create(b, l, args[1], args[0]),
                         arith::MaximumFOp::create(b, l, args[2], args[0])});
        });
    Value lo = tensor::ExtractOp::create(rewriter, loc, range.getResult(0));
    Value hi = tensor::ExtractOp::create(rewriter, loc, range.getResult(1));

    // sa = (hi - lo) / 255; za = round(clamp(-lo / sa, 0, 255)). A zero
    // range divides by 1 instead: every aq is then za and acc 0.
    Value scale = arith::DivFOp::create(
        rewriter, loc, arith::SubFOp::create(rewriter, loc, hi, lo),
        f32Constant(rewriter, loc, 255.0));
    Value isZero = arith::CmpFOp::create(rewriter, loc,
                                         arith::CmpFPredicate::OEQ, scale,
                                         f32Constant(rewriter, loc, 0.0));
    Value divisor = arith::SelectOp::create(
        rewriter, loc, isZero, f32Constant(rewriter, loc, 1.0), scale);
    auto clampTo255 = [&](OpBuilder &b, Location l, Value v) -> Value {
      return arith::MinimumFOp::create(
          b, l, arith::MaximumFOp::create(b, l, v, f32Constant(b, l, 0.0)),
          f32Constant(b, l, 255.0));
    };
    Value zeroPointF = math::RoundEvenOp::create(
        rewriter, loc,
        clampTo255(rewriter, loc,
                   arith::DivFOp::create(
                       rewriter, loc, arith::NegFOp::create(rewriter, loc, lo),
                       divisor)));
    Value zeroPoint = arith::FPToSIOp::create(rewriter, loc, i32, zeroPointF);

    // aq = clamp(round(a / sa) + za, 0, 255), stored as u8 bits.
    Value quantized = buildElementwise(
        rewriter, loc, aType.clone(rewriter.getI8Type()), a,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value rounded = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, args[0], divisor));
          Value shifted = clampTo255(
              b, l, arith::AddFOp::create(b, l, rounded, zeroPointF));
          return arith::TruncIOp::create(
              b, l, b.getI8Type(),
              arith::FPToSIOp::create(b, l, i32, shifted));
        });

    // acc = sum over k of (aq - za) * (b - zb), in i32.
    auto weightType = getElementQuantType(op.getB());
    int64_t columns = op.getB().getType().getDimSize(1);
    auto accType = resultType.clone(i32);
    Value init = createFilled(rewriter, loc, accType,
                              getMatMulAccumulatorSizes(rewriter, loc, accType, a),
                              createScalar(rewriter, loc, i32, 0));
    Value accumulated = buildIntegerMatMul(
        rewriter, loc, quantized, adaptor.getB(), init, weightType,
        [&](OpBuilder &b, Location l, Value stored) -> Value {
          return arith::SubIOp::create(
              b, l, arith::ExtUIOp::create(b, l, i32, stored), zeroPoint);
        });

    // y = f32(acc) * f32(sa * sb[n]) + bias[n].
    SmallVector<double> weightScales = getChannelScales(weightType, columns);
    SmallVector<float> scales(weightScales.begin(), weightScales.end());
    Value scaleTensor = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({columns}, f32),
                               ArrayRef(scales)));
    SmallVector<Value> outputInputs = {accumulated, scaleTensor};
    bool hasBias = !isNone(op.getBias());
    if (hasBias)
      outputInputs.push_back(adaptor.getBias());
    Value result = buildElementwise(
        rewriter, loc, resultType, outputInputs,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value columnScale = arith::MulFOp::create(b, l, scale, args[1]);
          Value y = arith::MulFOp::create(
              b, l, arith::SIToFPOp::create(b, l, f32, args[0]), columnScale);
          return hasBias ? arith::AddFOp::create(b, l, y, args[2]).getResult()
                         : y;
        });
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
