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
// broadcast along the axis, per-group types whose groups are whole dims or
// single elements (one scale per row, say) from tensors of their group
// shape. A dequantize of an inline constant is evaluated at compile time,
// and so is one of any constant whose groups span part of a dim (int4
// weights in groups of 32), the only form those lower in.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Quantization/Quantize.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {
namespace {

/// The parameters of a quantized type as the lowering reads them: the
/// scales and zero points row-major over `paramShape`, a shape that
/// broadcasts against the tensor's (per-axis: 1 except the axis; per-group
/// with every group a whole dim or one element: the group shape), empty
/// for a per-tensor type. Per-tensor and per-axis types of any storage
/// width (the i32 biases of QDQ models) are read from the type directly;
/// per-group ones through QuantParams.
struct LoweredParams {
  SmallVector<float> scales;
  SmallVector<int32_t> zeroPoints;
  SmallVector<int64_t> paramShape;
  int64_t qmin, qmax;
  bool isSigned;
  /// Per-group types only.
  std::optional<QuantParams> groups;
  /// Whether the elementwise form can read them: false for groups that
  /// span part of a dim, whose index would need dividing by the group
  /// size (such types lower for constant tensors only, evaluated at
  /// compile time).
  bool elementwise = true;

  /// For each element of a row-major tensor of `shape`, the index of its
  /// scale and zero point.
  SmallVector<int64_t> elementParamIndices(ArrayRef<int64_t> shape) const {
    if (groups)
      return paramIndices(shape, *groups);
    SmallVector<int64_t> indices(ShapedType::getNumElements(shape), 0);
    if (paramShape.empty())
      return indices;
    int64_t axis = llvm::find_if(paramShape, [](int64_t d) { return d != 1; }) -
                   paramShape.begin();
    if (axis == int64_t(paramShape.size()))
      return indices; // a single channel
    int64_t inner = 1;
    for (int64_t d = axis + 1; d < int64_t(shape.size()); ++d)
      inner *= shape[d];
    for (auto [i, index] : llvm::enumerate(indices))
      index = (int64_t(i) / inner) % shape[axis];
    return indices;
  }
};

FailureOr<LoweredParams> getLoweredParams(Operation *op, Type elementType,
                                          ArrayRef<int64_t> shape,
                                          ConversionPatternRewriter &rewriter) {
  auto quantized = dyn_cast<quant::QuantizedType>(elementType);
  if (!quantized || !quantized.getExpressedType().isF32())
    return rewriter.notifyMatchFailure(op, "not a quantized f32 type");
  LoweredParams lowered;
  lowered.qmin = quantized.getStorageTypeMin();
  lowered.qmax = quantized.getStorageTypeMax();
  lowered.isSigned = quantized.isSigned();
  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(quantized)) {
    lowered.scales.push_back(uniform.getScale());
    lowered.zeroPoints.push_back(uniform.getZeroPoint());
    return lowered;
  }
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(quantized)) {
    lowered.scales.assign(perAxis.getScales().begin(),
                          perAxis.getScales().end());
    lowered.zeroPoints.assign(perAxis.getZeroPoints().begin(),
                              perAxis.getZeroPoints().end());
    lowered.paramShape.assign(shape.size(), 1);
    lowered.paramShape[perAxis.getQuantizedDimension()] =
        lowered.scales.size();
    return lowered;
  }
  FailureOr<QuantParams> params = getQuantParams(op->getLoc(), quantized);
  if (failed(params))
    return failure();
  lowered.scales.assign(params->scales.begin(), params->scales.end());
  lowered.zeroPoints.assign(params->zeroPoints.begin(),
                            params->zeroPoints.end());
  lowered.paramShape = params->groupShape;
  lowered.elementwise = params->groupShape[params->axis] == 1 ||
                        params->groupShape[params->axis] == shape[params->axis];
  lowered.groups = std::move(*params);
  return lowered;
}

/// The error for a type whose parameters the elementwise form cannot read.
LogicalResult emitGroupsUnsupported(Operation *op, Type elementType) {
  return op->emitError()
         << "quantized type " << elementType
         << ": groups spanning part of a dim lower only for constant tensors "
            "(per-tensor, per-axis and whole-dim groups lower for any tensor)";
}

/// Computes one element from the input element and its scale (f32) and
/// zero point (i32).
using QuantScalarBuilder = function_ref<Value(
    OpBuilder &b, Location loc, Value element, Value scale, Value zeroPoint)>;

/// An elementwise generic over `input` yielding `body(element, scale,
/// zeroPoint)`. Scales and zero points that vary are read from constant
/// tensors of the broadcasting `paramShape`; a per-tensor type's are
/// constants.
Value buildQuantElementwise(OpBuilder &builder, Location loc,
                            RankedTensorType resultType, Value input,
                            const LoweredParams &lowered,
                            QuantScalarBuilder body) {
  SmallVector<Value> inputs = {input};
  bool perTensor = lowered.paramShape.empty();
  if (!perTensor) {
    auto scaleType =
        RankedTensorType::get(lowered.paramShape, builder.getF32Type());
    auto zeroType =
        RankedTensorType::get(lowered.paramShape, builder.getI32Type());
    inputs.push_back(arith::ConstantOp::create(
        builder, loc,
        DenseElementsAttr::get(scaleType, ArrayRef(lowered.scales))));
    inputs.push_back(arith::ConstantOp::create(
        builder, loc,
        DenseElementsAttr::get(zeroType, ArrayRef(lowered.zeroPoints))));
  }
  return buildElementwise(
      builder, loc, resultType, inputs,
      [&](OpBuilder &b, Location loc, ValueRange scalars) -> Value {
        if (!perTensor)
          return body(b, loc, scalars[0], scalars[1], scalars[2]);
        return body(b, loc, scalars[0],
                    createScalar(b, loc, b.getF32Type(), lowered.scales[0]),
                    createScalar(b, loc, b.getI32Type(), lowered.zeroPoints[0]));
      });
}

struct QuantizeLowering : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    FailureOr<LoweredParams> params =
        getLoweredParams(op, type.getElementType(), type.getShape(), rewriter);
    if (failed(params))
      return failure();
    if (!params->elementwise)
      return emitGroupsUnsupported(op, type.getElementType());
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
/// reference dequantization (any granularity). Inline (dense) constants
/// fold always; resource-backed ones, large weights kept in their 8-bit
/// form and dequantized as the model runs, only when `always`.
std::optional<DenseElementsAttr>
foldConstantDequantize(DequantizeOp op, const LoweredParams &params,
                       bool always) {
  auto storageCast = op.getInput().getDefiningOp<StorageCastOp>();
  auto constant =
      storageCast ? storageCast.getInput().getDefiningOp<ConstantOp>() : nullptr;
  auto type = cast<RankedTensorType>(op.getType());
  if (!constant || !type.hasStaticShape() ||
      (!always && !isa<DenseIntElementsAttr>(constant.getValue())))
    return std::nullopt;
  std::optional<SmallVector<int64_t>> values =
      getConstantIntValues(constant.getResult());
  if (!values || int64_t(values->size()) != type.getNumElements())
    return std::nullopt;
  SmallVector<int64_t> indices = params.elementParamIndices(type.getShape());
  SmallVector<float> result;
  result.reserve(values->size());
  for (auto [q, index] : llvm::zip(*values, indices))
    result.push_back(dequantizeValue(int32_t(q), params.scales[index],
                                     params.zeroPoints[index]));
  return DenseElementsAttr::get(type, ArrayRef(result));
}

struct DequantizeLowering : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    FailureOr<LoweredParams> params = getLoweredParams(
        op, inputType.getElementType(), inputType.getShape(), rewriter);
    if (failed(params))
      return failure();
    Location loc = op.getLoc();
    if (std::optional<DenseElementsAttr> folded = foldConstantDequantize(
            op, *params, /*always=*/!params->elementwise)) {
      rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, *folded);
      return success();
    }
    if (!params->elementwise)
      return emitGroupsUnsupported(op, inputType.getElementType());
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
