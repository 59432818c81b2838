//===- QuantToLinalg.cpp - quantize, dequantize, storage_cast -------------===//
//
// Tensors of !quant.uniform elements become tensors of their storage type
// (signless i8/i16...; the quantized type says whether the bits are signed),
// and the three ops that cross between float and quantized tensors become
// elementwise generics with the arithmetic of Quantization/Quantize.h:
//
//   quantize:   q = clamp(roundeven(x / scale), qmin - zp, qmax - zp) + zp
//               (f32 division as ONNX QuantizeLinear; NaN gives zp)
//   dequantize: x = f32(q - zp) * scale
//
// Per-axis types read their scales and zero points from constant tensors
// broadcast along the axis. A dequantize of a constant is evaluated at
// compile time. Sub-channel (per-group) types are not lowered yet.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Quantization/Quantize.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {
namespace {

/// Scale and zero point of each index along the quantized axis (one entry
/// for a per-tensor type), with the storage range.
struct LoweredParams {
  SmallVector<float> scales;
  SmallVector<int32_t> zeroPoints;
  int32_t axis = -1; // -1: per tensor
  int64_t qmin, qmax;
  bool isSigned;
  unsigned width;
};

FailureOr<LoweredParams> getLoweredParams(Operation *op, Type elementType,
                                          ConversionPatternRewriter &rewriter) {
  auto quantized = dyn_cast<quant::QuantizedType>(elementType);
  if (!quantized || !quantized.getExpressedType().isF32())
    return rewriter.notifyMatchFailure(op, "not a quantized f32 type");
  LoweredParams params;
  params.qmin = quantized.getStorageTypeMin();
  params.qmax = quantized.getStorageTypeMax();
  params.isSigned = quantized.isSigned();
  params.width = quantized.getStorageTypeIntegralWidth();
  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(quantized)) {
    params.scales.push_back(uniform.getScale());
    params.zeroPoints.push_back(uniform.getZeroPoint());
    return params;
  }
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(quantized)) {
    for (double scale : perAxis.getScales())
      params.scales.push_back(scale);
    for (int64_t zeroPoint : perAxis.getZeroPoints())
      params.zeroPoints.push_back(zeroPoint);
    params.axis = perAxis.getQuantizedDimension();
    return params;
  }
  return op->emitError() << "quantized type " << elementType
                         << " does not lower to native code yet (per-tensor "
                            "and per-axis types do)";
}

/// Computes one element from the input element and its scale (f32) and
/// zero point (i32).
using QuantScalarBuilder = function_ref<Value(
    OpBuilder &b, Location loc, Value element, Value scale, Value zeroPoint)>;

/// An elementwise generic over `input` (of rank `rank`) yielding
/// `body(element, scale, zeroPoint)`. A per-axis type's scales and zero
/// points are read from constant tensors shaped [1, ..., C, ..., 1] that
/// broadcast along the axis; a per-tensor type's are constants.
Value buildQuantElementwise(OpBuilder &builder, Location loc,
                            RankedTensorType resultType, Value input,
                            const LoweredParams &params,
                            QuantScalarBuilder body) {
  SmallVector<Value> inputs = {input};
  if (params.axis >= 0) {
    SmallVector<int64_t> shape(resultType.getRank(), 1);
    shape[params.axis] = params.scales.size();
    auto scaleType = RankedTensorType::get(shape, builder.getF32Type());
    auto zeroType = RankedTensorType::get(shape, builder.getI32Type());
    inputs.push_back(arith::ConstantOp::create(
        builder, loc, DenseElementsAttr::get(scaleType, ArrayRef(params.scales))));
    inputs.push_back(arith::ConstantOp::create(
        builder, loc,
        DenseElementsAttr::get(zeroType, ArrayRef(params.zeroPoints))));
  }
  return buildElementwise(
      builder, loc, resultType, inputs,
      [&](OpBuilder &b, Location loc, ValueRange scalars) -> Value {
        if (params.axis >= 0)
          return body(b, loc, scalars[0], scalars[1], scalars[2]);
        return body(b, loc, scalars[0],
                    createScalar(b, loc, b.getF32Type(), params.scales[0]),
                    createScalar(b, loc, b.getI32Type(), params.zeroPoints[0]));
      });
}

struct QuantizeLowering : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    FailureOr<LoweredParams> params =
        getLoweredParams(op, type.getElementType(), rewriter);
    if (failed(params))
      return failure();
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(type));
    const LoweredParams &p = *params;
    Value result = buildQuantElementwise(
        rewriter, op.getLoc(), resultType, adaptor.getInput(), p,
        [&](OpBuilder &b, Location loc, Value x, Value scale,
            Value zeroPoint) -> Value {
          Type f32 = b.getF32Type(), i32 = b.getI32Type();
          Value rounded = math::RoundEvenOp::create(
              b, loc, arith::DivFOp::create(b, loc, x, scale));
          // Clamp around the zero point in f32 (exact: small integers), so
          // the conversion to int never overflows; then add it.
          Value zeroF = arith::SIToFPOp::create(b, loc, f32, zeroPoint);
          Value low = arith::SubFOp::create(
              b, loc, createScalar(b, loc, f32, p.qmin), zeroF);
          Value high = arith::SubFOp::create(
              b, loc, createScalar(b, loc, f32, p.qmax), zeroF);
          Value clamped = arith::MinNumFOp::create(
              b, loc, arith::MaxNumFOp::create(b, loc, rounded, low), high);
          Value q = arith::AddIOp::create(
              b, loc, arith::FPToSIOp::create(b, loc, i32, clamped), zeroPoint);
          Value isNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO,
                                              x, x);
          q = arith::SelectOp::create(b, loc, isNaN, zeroPoint, q);
          Type storage = resultType.getElementType();
          return storage == i32 ? q : arith::TruncIOp::create(b, loc, storage, q);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The f32 values of dequantize(storage_cast(constant)), computed with the
/// reference dequantization.
std::optional<DenseElementsAttr>
foldConstantDequantize(DequantizeOp op, const LoweredParams &params) {
  auto storageCast = op.getInput().getDefiningOp<StorageCastOp>();
  auto constant =
      storageCast ? storageCast.getInput().getDefiningOp<ConstantOp>() : nullptr;
  if (!constant)
    return std::nullopt;
  auto values = dyn_cast<DenseIntElementsAttr>(constant.getValue());
  auto type = cast<RankedTensorType>(op.getType());
  if (!values || !type.hasStaticShape())
    return std::nullopt;
  SmallVector<float> result;
  result.reserve(values.getNumElements());
  int64_t inner = 1;
  if (params.axis >= 0)
    for (int64_t d = params.axis + 1; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
  int64_t index = 0;
  for (const APInt &value : values.getValues<APInt>()) {
    int64_t param =
        params.axis >= 0 ? (index / inner) % type.getDimSize(params.axis) : 0;
    int64_t q = params.isSigned ? value.getSExtValue() : value.getZExtValue();
    result.push_back(dequantizeValue(q, params.scales[param],
                                     params.zeroPoints[param]));
    ++index;
  }
  return DenseElementsAttr::get(type, ArrayRef(result));
}

struct DequantizeLowering : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    FailureOr<LoweredParams> params =
        getLoweredParams(op, inputType.getElementType(), rewriter);
    if (failed(params))
      return failure();
    Location loc = op.getLoc();
    if (std::optional<DenseElementsAttr> folded =
            foldConstantDequantize(op, *params)) {
      rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, *folded);
      return success();
    }
    const LoweredParams &p = *params;
    Value result = buildQuantElementwise(
        rewriter, loc, cast<RankedTensorType>(op.getType()), adaptor.getInput(),
        p,
        [&](OpBuilder &b, Location loc, Value q, Value scale,
            Value zeroPoint) -> Value {
          Type f32 = b.getF32Type(), i32 = b.getI32Type();
          if (q.getType() != i32)
            q = p.isSigned ? Value(arith::ExtSIOp::create(b, loc, i32, q))
                           : Value(arith::ExtUIOp::create(b, loc, i32, q));
          Value centered = arith::SubIOp::create(b, loc, q, zeroPoint);
          return arith::MulFOp::create(
              b, loc, arith::SIToFPOp::create(b, loc, f32, centered), scale);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Between a quantized tensor and its storage: the same bits, so the same
/// lowered tensor.
struct StorageCastLowering : OpConversionPattern<StorageCastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(StorageCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type resultType = getTypeConverter()->convertType(op.getType());
    if (adaptor.getInput().getType() != resultType)
      return rewriter.notifyMatchFailure(op, "storage types differ");
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

} // namespace

void populateQuantToLinalgPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns) {
  patterns.add<QuantizeLowering, DequantizeLowering, StorageCastLowering>(
      converter, patterns.getContext());
}

void populateQuantizedTypeConversion(TypeConverter &converter) {
  converter.addConversion([](Type type) { return type; });
  converter.addConversion(
      [](RankedTensorType type) -> Type { return getStorageType(type); });
  auto materialize = [](OpBuilder &b, Type type, ValueRange inputs,
                        Location loc) -> Value {
    return UnrealizedConversionCastOp::create(b, loc, type, inputs)
        .getResult(0);
  };
  converter.addSourceMaterialization(materialize);
  converter.addTargetMaterialization(materialize);
}

} // namespace mlir::quarc
