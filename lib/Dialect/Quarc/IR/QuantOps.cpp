//===- QuantOps.cpp - quantized ONNX ops and quantization boundaries ------===//

#include "NNInference.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/InterleavedRange.h"

using namespace mlir;
using namespace mlir::quarc;

/// Checks the shape of a scale or zero point against the ONNX granularities:
/// per tensor (one element), per axis (1-D, the size of `axis`) or blocked
/// (the rank of x, dim `axis` divided into `blockSize` blocks).
static LogicalResult verifyQuantParamShape(Operation *op, RankedTensorType x,
                                           Value param, int64_t axis,
                                           int64_t blockSize, StringRef what) {
  if (isNone(param))
    return success();
  auto type = cast<RankedTensorType>(param.getType());
  if (blockSize < 0)
    return op->emitOpError("block_size must be non-negative");
  bool scalar = type.getRank() == 0 ||
                (type.getRank() == 1 && type.getDimSize(0) == 1);
  if (scalar && blockSize == 0)
    return success();
  FailureOr<int64_t> normalized =
      normalizeAxis(op->getLoc(), axis, x.getRank(), "axis");
  if (failed(normalized))
    return failure();
  int64_t dim = x.getDimSize(*normalized);
  if (blockSize == 0) {
    if (type.getRank() != 1)
      return op->emitOpError(what) << " must be a scalar or 1-D (per axis)";
    if (!ShapedType::isDynamic(dim) && !type.isDynamicDim(0) &&
        type.getDimSize(0) != dim)
      return op->emitOpError(what)
             << " has " << type.getDimSize(0) << " values for axis "
             << *normalized << " of size " << dim;
    return success();
  }
  if (type.getRank() != x.getRank())
    return op->emitOpError(what) << " must have the rank of x for blocked "
                                    "quantization";
  for (int64_t d = 0; d < x.getRank(); ++d) {
    int64_t want = x.getDimSize(d);
    if (d == *normalized && !ShapedType::isDynamic(want))
      want = llvm::divideCeil(want, blockSize);
    int64_t have = type.getDimSize(d);
    if (!ShapedType::isDynamic(want) && !ShapedType::isDynamic(have) &&
        want != have)
      return op->emitOpError(what) << " has size " << have << " in dim " << d
                                   << ", expected " << want;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeLinear, DequantizeLinear
//===----------------------------------------------------------------------===//

LogicalResult QuantizeLinearOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> x = getRankedType(loc, adaptor.getX(), "x");
  if (failed(x))
    return failure();
  Type element = IntegerType::get(context, 8, IntegerType::Unsigned);
  if (!isNone(adaptor.getYZeroPoint()))
    element = getElementTypeOrSelf(adaptor.getYZeroPoint());
  else if (TypeAttr dtype = adaptor.getOutputDtypeAttr())
    element = dtype.getValue();
  return pushTensorType(types, x->getShape(), element);
}

LogicalResult QuantizeLinearOp::verify() {
  if (TypeAttr dtype = getOutputDtypeAttr())
    if (!isNone(getYZeroPoint()) &&
        dtype.getValue() != getElementTypeOrSelf(getYZeroPoint()))
      return emitOpError("output_dtype differs from the zero point's type");
  if (failed(verifyQuantParamShape(*this, getX().getType(), getYScale(),
                                   getAxis(), getBlockSize(), "y_scale")) ||
      failed(verifyQuantParamShape(*this, getX().getType(), getYZeroPoint(),
                                   getAxis(), getBlockSize(), "y_zero_point")))
    return failure();
  return success();
}

LogicalResult DequantizeLinearOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> x = getRankedType(loc, adaptor.getX(), "x");
  if (failed(x))
    return failure();
  return pushTensorType(types, x->getShape(),
                    getElementTypeOrSelf(adaptor.getXScale()));
}

LogicalResult DequantizeLinearOp::verify() {
  if (!isNone(getXZeroPoint()) &&
      getElementTypeOrSelf(getXZeroPoint()) != getX().getType().getElementType())
    return emitOpError("x_zero_point must have the element type of x");
  if (failed(verifyQuantParamShape(*this, getX().getType(), getXScale(),
                                   getAxis(), getBlockSize(), "x_scale")) ||
      failed(verifyQuantParamShape(*this, getX().getType(), getXZeroPoint(),
                                   getAxis(), getBlockSize(), "x_zero_point")))
    return failure();
  return success();
}

/// The !quant.uniform element type that constant ONNX quantization
/// parameters describe, or null when they are not constants or do not fit
/// the upstream types (float8 storage, bad scales). Blocked quantization
/// (block_size) is a sub-channel type listing every dim: blocks of
/// block_size along `axis`, 1 along the others (QuantizedTypes.h).
static Type getQuantizedElementType(RankedTensorType data, Type storage,
                                    Type expressed, Value scale,
                                    Value zeroPoint, int64_t axis,
                                    int64_t blockSize) {
  auto storageInt = dyn_cast<IntegerType>(storage);
  if (!storageInt || storageInt.getWidth() > 32 ||
      storageInt.getWidth() < 2)
    return nullptr;
  std::optional<SmallVector<double>> scales = getConstantFloatValues(scale);
  if (!scales || scales->empty())
    return nullptr;
  SmallVector<int64_t> zeroPoints(scales->size(), 0);
  if (!isNone(zeroPoint)) {
    std::optional<SmallVector<int64_t>> values = getConstantIntValues(zeroPoint);
    if (!values || values->size() != scales->size())
      return nullptr;
    zeroPoints = *values;
  }
  for (double s : *scales)
    if (!(s > 0) || !std::isfinite(s))
      return nullptr;
  bool isSigned = !storageInt.isUnsigned();
  unsigned width = storageInt.getWidth();
  int64_t storageMin =
      quant::QuantizedType::getDefaultMinimumForInteger(isSigned, width);
  int64_t storageMax =
      quant::QuantizedType::getDefaultMaximumForInteger(isSigned, width);
  for (int64_t zp : zeroPoints)
    if (zp < storageMin || zp > storageMax)
      return nullptr;
  MLIRContext *context = data.getContext();
  auto signlessStorage = IntegerType::get(context, width);
  unsigned flags = isSigned ? quant::QuantizationFlags::Signed : 0;
  auto scalarType = cast<RankedTensorType>(scale.getType());
  if (scalarType.getRank() == 0 ||
      (scales->size() == 1 && scalarType.getRank() == 1))
    return quant::UniformQuantizedType::get(flags, signlessStorage, expressed,
                                            scales->front(), zeroPoints.front(),
                                            storageMin, storageMax);
  int64_t rank = data.getRank();
  if (axis < -rank || axis >= rank)
    return nullptr;
  if (axis < 0)
    axis += rank;
  if (blockSize != 0) {
    auto floatType = dyn_cast<FloatType>(expressed);
    if (!floatType || !scalarType.hasStaticShape())
      return nullptr;
    SmallVector<APFloat> scaleValues;
    for (double s : *scales) {
      APFloat value(s);
      bool losesInfo = false;
      value.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      scaleValues.push_back(value);
    }
    SmallVector<APInt> zeroValues;
    for (int64_t zp : zeroPoints)
      zeroValues.push_back(APInt(width, uint64_t(zp), isSigned));
    SmallVector<int32_t> dims;
    SmallVector<int64_t> blockSizes;
    for (int32_t d = 0; d < rank; ++d) {
      dims.push_back(d);
      blockSizes.push_back(d == axis ? blockSize : 1);
    }
    auto paramType = scalarType.clone(floatType);
    return quant::UniformQuantizedSubChannelType::get(
        flags, signlessStorage, expressed,
        DenseElementsAttr::get(paramType, scaleValues),
        DenseElementsAttr::get(paramType.clone(signlessStorage), zeroValues),
        dims, blockSizes, storageMin, storageMax);
  }
  return quant::UniformQuantizedPerAxisType::get(
      flags, signlessStorage, expressed, *scales, zeroPoints, axis, storageMin,
      storageMax);
}

namespace {
/// quantize_linear with constant parameters -> storage_cast(quantize(x)).
struct QuantizeLinearToTyped : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType x = op.getX().getType();
    if (!isa<FloatType>(x.getElementType()))
      return failure();
    Type element = getQuantizedElementType(
        x, op.getType().getElementType(), x.getElementType(), op.getYScale(),
        op.getYZeroPoint(), op.getAxis(), op.getBlockSize());
    if (!element)
      return failure();
    Value quantized = QuantizeOp::create(rewriter, op.getLoc(),
                                         x.clone(element), op.getX());
    rewriter.replaceOpWithNewOp<StorageCastOp>(op, op.getType(), quantized);
    return success();
  }
};

/// dequantize_linear with constant parameters -> dequantize(storage_cast(x)).
struct DequantizeLinearToTyped : OpRewritePattern<DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType x = op.getX().getType();
    Type element = getQuantizedElementType(
        x, x.getElementType(), op.getType().getElementType(), op.getXScale(),
        op.getXZeroPoint(), op.getAxis(), op.getBlockSize());
    if (!element)
      return failure();
    Value quantized = StorageCastOp::create(rewriter, op.getLoc(),
                                            x.clone(element), op.getX());
    rewriter.replaceOpWithNewOp<DequantizeOp>(op, op.getType(), quantized);
    return success();
  }
};
} // namespace

void QuantizeLinearOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                                   MLIRContext *context) {
  patterns.add<QuantizeLinearToTyped>(context);
}

void DequantizeLinearOp::getCanonicalizationPatterns(
    RewritePatternSet &patterns, MLIRContext *context) {
  patterns.add<DequantizeLinearToTyped>(context);
}

LogicalResult DynamicQuantizeLinearOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> x = getRankedType(loc, adaptor.getX(), "x");
  if (failed(x))
    return failure();
  auto u8 = IntegerType::get(context, 8, IntegerType::Unsigned);
  types.push_back(x->clone(u8));
  types.push_back(RankedTensorType::get({}, Float32Type::get(context)));
  types.push_back(RankedTensorType::get({}, u8));
  return success();
}

//===----------------------------------------------------------------------===//
// Integer conv and matmul
//===----------------------------------------------------------------------===//

LogicalResult QLinearConvOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      inferConvShape(loc, adaptor.getX(), adaptor.getW(), adaptor.getGroup(),
                     getWindowParams(adaptor));
  if (failed(shape))
    return failure();
  return pushTensorType(types, *shape,
                    getElementTypeOrSelf(adaptor.getYZeroPoint()));
}

LogicalResult QLinearMatMulOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      inferMatMulShape(loc, adaptor.getA(), adaptor.getB());
  if (failed(shape))
    return failure();
  return pushTensorType(types, *shape,
                    getElementTypeOrSelf(adaptor.getYZeroPoint()));
}

LogicalResult MatMulIntegerOp::inferReturnTypes(MLIRContext *context,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      inferMatMulShape(loc, adaptor.getA(), adaptor.getB());
  if (failed(shape))
    return failure();
  return pushTensorType(types, *shape, IntegerType::get(context, 32));
}

LogicalResult ConvIntegerOp::inferReturnTypes(MLIRContext *context,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      inferConvShape(loc, adaptor.getX(), adaptor.getW(), adaptor.getGroup(),
                     getWindowParams(adaptor));
  if (failed(shape))
    return failure();
  return pushTensorType(types, *shape, IntegerType::get(context, 32));
}

//===----------------------------------------------------------------------===//
// MatMulNBits
//===----------------------------------------------------------------------===//

LogicalResult MatMulNBitsOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> a = getRankedType(loc, adaptor.getA(), "A");
  if (failed(a))
    return failure();
  if (a->getRank() < 1)
    return emitOptionalError(loc, "A must have rank >= 1");
  int64_t k = a->getShape().back();
  if (!ShapedType::isDynamic(k) && k != int64_t(adaptor.getK()))
    return emitOptionalError(loc, "A has ", k, " columns but K is ",
                             int64_t(adaptor.getK()));
  SmallVector<int64_t> shape(a->getShape());
  shape.back() = adaptor.getN();
  return pushTensorType(types, shape, a->getElementType());
}

LogicalResult MatMulNBitsOp::verify() {
  int64_t bits = getBits(), blockSize = getBlockSize();
  int64_t k = getK(), n = getN();
  if (bits < 2 || bits > 8)
    return emitOpError("bits must be in [2, 8], got ") << bits;
  if (blockSize < 16 || !llvm::isPowerOf2_64(blockSize))
    return emitOpError("block_size must be a power of 2 >= 16, got ")
           << blockSize;
  if (k < 1 || n < 1)
    return emitOpError("K and N must be positive");
  int64_t blocks = llvm::divideCeil(k, blockSize);
  SmallVector<int64_t> want = {n, blocks, blockSize * bits / 8};
  ArrayRef<int64_t> have = getB().getType().getShape();
  if (!areCompatibleReturnTypes(
          RankedTensorType::get(want, getB().getType().getElementType()),
          getB().getType()))
    return emitOpError("B must be N x ceil(K / block_size) x (block_size * "
                       "bits / 8) = ")
           << want[0] << "x" << want[1] << "x" << want[2] << ", has rank "
           << have.size();
  return success();
}

//===----------------------------------------------------------------------===//
// Quantize, Dequantize, StorageCast
//===----------------------------------------------------------------------===//

static quant::QuantizedType getQuantizedElement(Type type) {
  return dyn_cast<quant::QuantizedType>(getElementTypeOrSelf(type));
}

LogicalResult QuantizeOp::verify() {
  auto quantized = getQuantizedElement(getType());
  if (!quantized)
    return emitOpError("result must be a tensor of !quant types");
  if (quantized.getExpressedType() != getInput().getType().getElementType())
    return emitOpError("the quantized type expresses ")
           << quantized.getExpressedType() << ", the input is "
           << getInput().getType().getElementType();
  if (cast<RankedTensorType>(getType()).getShape() !=
      getInput().getType().getShape())
    return emitOpError("input and result shapes differ");
  return success();
}

LogicalResult DequantizeOp::verify() {
  auto quantized = getQuantizedElement(getInput().getType());
  if (!quantized)
    return emitOpError("input must be a tensor of !quant types");
  if (quantized.getExpressedType() != getType().getElementType())
    return emitOpError("the quantized type expresses ")
           << quantized.getExpressedType() << ", the result is "
           << getType().getElementType();
  if (getType().getShape() != getInput().getType().getShape())
    return emitOpError("input and result shapes differ");
  return success();
}

LogicalResult StorageCastOp::verify() {
  auto from = getInput().getType();
  auto to = cast<RankedTensorType>(getType());
  if (from.getShape() != to.getShape())
    return emitOpError("input and result shapes differ");
  auto inQuant = getQuantizedElement(from), outQuant = getQuantizedElement(to);
  if (bool(inQuant) == bool(outQuant))
    return emitOpError("exactly one side must be a tensor of !quant types");
  quant::QuantizedType quantized = inQuant ? inQuant : outQuant;
  auto storage = dyn_cast<IntegerType>(inQuant ? to.getElementType()
                                               : from.getElementType());
  if (!storage || storage.getWidth() != quantized.getStorageTypeIntegralWidth())
    return emitOpError("the integer side must be i")
           << quantized.getStorageTypeIntegralWidth() << " storage";
  if (storage.isUnsigned() == quantized.isSigned())
    return emitOpError("signedness of ")
           << storage << " differs from the quantized storage type";
  return success();
}

OpFoldResult StorageCastOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<StorageCastOp>())
    if (inner.getInput().getType() == getType())
      return inner.getInput();
  return nullptr;
}

//===----------------------------------------------------------------------===//
// QConv, QMatMul
//===----------------------------------------------------------------------===//

/// Checks the operands of an integer convolution or matrix product: an
/// 8-bit per-tensor input, an 8-bit weight quantized per tensor or along
/// `channelAxis`, a bias with one i32 per channel, and an
/// f32 or per-tensor quantized result. All quantized types express f32.
static LogicalResult verifyIntegerContraction(Operation *op, Value input,
                                              Value weight, Value bias,
                                              int64_t channelAxis) {
  auto inputType = dyn_cast<quant::UniformQuantizedType>(
      getElementTypeOrSelf(input.getType()));
  if (!inputType || inputType.getStorageTypeIntegralWidth() != 8 ||
      !inputType.getExpressedType().isF32())
    return op->emitOpError("input must hold 8-bit per-tensor !quant.uniform "
                           "values of f32, has ")
           << input.getType();

  auto weightTensor = cast<RankedTensorType>(weight.getType());
  auto weightType = dyn_cast<quant::QuantizedType>(weightTensor.getElementType());
  if (!weightType || weightType.getStorageTypeIntegralWidth() != 8 ||
      !weightType.getExpressedType().isF32())
    return op->emitOpError("weight must hold 8-bit !quant.uniform values of "
                           "f32, has ")
           << weight.getType();
  if (!weightTensor.hasStaticShape() || weightTensor.getRank() <= channelAxis)
    return op->emitOpError("weight must have a static shape of rank > ")
           << channelAxis;
  if (isa<quant::UniformQuantizedType>(weightType)) {
  } else if (auto perAxis =
                 dyn_cast<quant::UniformQuantizedPerAxisType>(weightType)) {
    if (perAxis.getQuantizedDimension() != channelAxis)
      return op->emitOpError("weight must be quantized along axis ")
             << channelAxis << " (its output channels)";
  } else {
    return op->emitOpError("weight must be quantized per tensor or per "
                           "channel");
  }

  int64_t channels = weightTensor.getDimSize(channelAxis);
  auto biasType = cast<RankedTensorType>(bias.getType());
  if (biasType.getRank() != 1 || biasType.getDimSize(0) != channels)
    return op->emitOpError("bias must be 1-D with one value per output "
                           "channel (")
           << channels << "), has " << biasType;

  Type result = getElementTypeOrSelf(op->getResult(0).getType());
  auto resultType = dyn_cast<quant::UniformQuantizedType>(result);
  bool validQuantized = resultType && resultType.getExpressedType().isF32() &&
                        resultType.getStorageTypeIntegralWidth() <= 16;
  if (!result.isF32() && !validQuantized)
    return op->emitOpError("result must be f32 or hold per-tensor "
                           "!quant.uniform values of f32 (at most 16 bits), "
                           "has ")
           << op->getResult(0).getType();

  auto clampMin = op->getAttrOfType<IntegerAttr>("clamp_min");
  auto clampMax = op->getAttrOfType<IntegerAttr>("clamp_max");
  if (!clampMin && !clampMax)
    return success();
  if (!resultType)
    return op->emitOpError("clamp_min and clamp_max need a quantized result");
  int64_t low = clampMin ? clampMin.getInt() : resultType.getStorageTypeMin();
  int64_t high = clampMax ? clampMax.getInt() : resultType.getStorageTypeMax();
  if (low > high || low < resultType.getStorageTypeMin() ||
      high > resultType.getStorageTypeMax())
    return op->emitOpError("clamp range [")
           << low << ", " << high << "] is empty or outside the storage range";
  return success();
}

LogicalResult QConvOp::verify() {
  if (failed(verifyIntegerContraction(*this, getX(), getW(), getBias(), 0)))
    return failure();
  FailureOr<SmallVector<int64_t>> shape = inferConvShape(
      getLoc(), getX(), getW(), getGroup(), getWindowParams(*this));
  if (failed(shape))
    return failure();
  if (failed(verifyCompatibleShape(*shape,
                                   cast<RankedTensorType>(getType()).getShape())))
    return emitOpError("result shape differs from the convolution's ")
           << "(" << llvm::interleaved(*shape, "x") << ")";
  return success();
}

LogicalResult QMatMulOp::verify() {
  if (failed(verifyIntegerContraction(*this, getA(), getB(), getBias(), 1)))
    return failure();
  RankedTensorType a = getA().getType(), b = getB().getType();
  auto y = cast<RankedTensorType>(getType());
  if (a.getRank() < 2 || b.getRank() != 2 || y.getRank() != a.getRank())
    return emitOpError("a must have rank >= 2, b rank 2 and y a's rank");
  int64_t k = a.getDimSize(a.getRank() - 1);
  if (!ShapedType::isDynamic(k) && k != b.getDimSize(0))
    return emitOpError("a has ") << k << " columns, b " << b.getDimSize(0)
                                 << " rows";
  SmallVector<int64_t> shape(a.getShape().drop_back());
  shape.push_back(b.getDimSize(1));
  if (failed(verifyCompatibleShape(shape, y.getShape())))
    return emitOpError("result must be ")
           << llvm::interleaved(shape, "x") << " (a's rows, b's columns)";
  return success();
}

//===----------------------------------------------------------------------===//
// Requantize, QAdd, QMul, QAveragePool, LookupTable
//===----------------------------------------------------------------------===//

/// The per-tensor quantized element type of `value` expressing f32 with at
/// most `maxBits` of storage, or an error naming `what`.
static FailureOr<quant::UniformQuantizedType>
getPerTensorType(Operation *op, Value value, unsigned maxBits, StringRef what) {
  auto type =
      dyn_cast<quant::UniformQuantizedType>(getElementTypeOrSelf(value));
  if (!type || !type.getExpressedType().isF32() ||
      type.getStorageTypeIntegralWidth() > maxBits)
    return op->emitOpError(what)
           << " must hold per-tensor !quant.uniform values of f32 with at "
              "most "
           << maxBits << " bits, has " << value.getType();
  return type;
}

/// The result of an integer op: per tensor, at most 16 bits, and
/// clamp_min/clamp_max (if any) inside its storage range.
static LogicalResult verifyIntegerResult(Operation *op) {
  FailureOr<quant::UniformQuantizedType> type =
      getPerTensorType(op, op->getResult(0), 16, "result");
  if (failed(type))
    return failure();
  auto clampMin = op->getAttrOfType<IntegerAttr>("clamp_min");
  auto clampMax = op->getAttrOfType<IntegerAttr>("clamp_max");
  int64_t low = clampMin ? clampMin.getInt() : type->getStorageTypeMin();
  int64_t high = clampMax ? clampMax.getInt() : type->getStorageTypeMax();
  if (low > high || low < type->getStorageTypeMin() ||
      high > type->getStorageTypeMax())
    return op->emitOpError("clamp range [")
           << low << ", " << high << "] is empty or outside the storage range";
  return success();
}

LogicalResult RequantizeOp::verify() {
  if (failed(getPerTensorType(*this, getInput(), 16, "input")))
    return failure();
  return verifyIntegerResult(*this);
}

template <typename OpTy>
static LogicalResult verifyIntegerBinary(OpTy op) {
  if (failed(getPerTensorType(op, op.getA(), 8, "a")) ||
      failed(getPerTensorType(op, op.getB(), 8, "b")) ||
      failed(verifyIntegerResult(op)))
    return failure();
  SmallVector<Type> inferred;
  if (failed(inferBroadcastResult(op.getLoc(), {op.getA(), op.getB()},
                                  getElementTypeOrSelf(op.getY()), inferred)))
    return failure();
  if (!areCompatibleReturnTypes(inferred, op.getY().getType()))
    return op.emitOpError("result shape must be the broadcast of the "
                          "operands' ")
           << inferred.front();
  return success();
}

LogicalResult QAddOp::verify() { return verifyIntegerBinary(*this); }
LogicalResult QMulOp::verify() { return verifyIntegerBinary(*this); }

LogicalResult QAveragePoolOp::verify() {
  if (failed(getPerTensorType(*this, getX(), 8, "X")) ||
      failed(verifyIntegerResult(*this)))
    return failure();
  RankedTensorType xType = getX().getType();
  if (xType.getRank() != 3 && xType.getRank() != 4)
    return emitOpError("only 1-D and 2-D pooling (rank 3 or 4), has rank ")
           << xType.getRank();
  for (int64_t d = 2; d < xType.getRank(); ++d)
    if (xType.isDynamicDim(d))
      return emitOpError("spatial dims must be static (the divisors and "
                         "their multipliers are compile-time constants)");
  FailureOr<SmallVector<int64_t>> shape = inferPoolShape(
      getLoc(), getX(), getWindowParams(*this), getCeilMode() != 0);
  if (failed(shape))
    return failure();
  if (failed(verifyCompatibleShape(*shape, getY().getType().getShape())))
    return emitOpError("result shape differs from the pooling's (")
           << llvm::interleaved(*shape, "x") << ")";
  return success();
}

LogicalResult LookupTableOp::verify() {
  FailureOr<quant::UniformQuantizedType> input =
      getPerTensorType(*this, getInput(), 8, "input");
  if (failed(input) || failed(verifyIntegerResult(*this)))
    return failure();
  int64_t entries = input->getStorageTypeMax() - input->getStorageTypeMin() + 1;
  if (int64_t(getTable().size()) != entries)
    return emitOpError("table must have ")
           << entries << " entries (one per stored input value), has "
           << getTable().size();
  auto output = cast<quant::UniformQuantizedType>(
      getElementTypeOrSelf(getOutput()));
  for (int32_t value : getTable())
    if (value < output.getStorageTypeMin() || value > output.getStorageTypeMax())
      return emitOpError("table entry ")
             << value << " is outside the result's storage range ["
             << output.getStorageTypeMin() << ", "
             << output.getStorageTypeMax() << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// QMatMulDynamic
//===----------------------------------------------------------------------===//

/// What the products of an f32 activation `a` (... x K) and a constant
/// weight `b` (K x N) with an optional f32 bias share: K agrees, one bias
/// per column, and `y` is ... x N.
static LogicalResult verifyFloatProduct(Operation *op, RankedTensorType a,
                                        RankedTensorType b, Value bias,
                                        RankedTensorType y) {
  int64_t k = a.getDimSize(a.getRank() - 1), n = b.getDimSize(1);
  if (!ShapedType::isDynamic(k) && k != b.getDimSize(0))
    return op->emitOpError("a has ")
           << k << " columns, b " << b.getDimSize(0) << " rows";
  if (!isNone(bias)) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != n ||
        !biasType.getElementType().isF32())
      return op->emitOpError("bias must be f32 with one value per column (")
             << n << "), has " << biasType;
  }
  SmallVector<int64_t> shape(a.getShape().drop_back());
  shape.push_back(n);
  if (failed(verifyCompatibleShape(shape, y.getShape())))
    return op->emitOpError("result must be ")
           << llvm::interleaved(shape, "x") << " (a's rows, b's columns)";
  return success();
}

LogicalResult QMatMulDynamicOp::verify() {
  RankedTensorType a = getA().getType(), b = getB().getType();
  auto y = cast<RankedTensorType>(getType());
  if (!a.getElementType().isF32() || !y.getElementType().isF32())
    return emitOpError("a and the result must be f32");
  auto weightType = dyn_cast<quant::QuantizedType>(b.getElementType());
  if (!weightType || weightType.getStorageTypeIntegralWidth() != 8 ||
      !weightType.getExpressedType().isF32())
    return emitOpError("b must hold 8-bit !quant.uniform values of f32, has ")
           << b;
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(weightType);
      perAxis && perAxis.getQuantizedDimension() != 1)
    return emitOpError("b must be quantized per tensor or along axis 1 (its "
                       "columns)");
  if (!isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType>(
          weightType))
    return emitOpError("b must be quantized per tensor or per column");
  if (a.getRank() < 2 || b.getRank() != 2 || !b.hasStaticShape() ||
      y.getRank() != a.getRank())
    return emitOpError("a must have rank >= 2, b a static rank 2 and y a's "
                       "rank");
  return verifyFloatProduct(*this, a, b, getBias(), y);
}

//===----------------------------------------------------------------------===//
// QMatMulWeightOnly
//===----------------------------------------------------------------------===//

LogicalResult QMatMulWeightOnlyOp::verify() {
  RankedTensorType a = getA().getType(), b = getB().getType();
  auto y = cast<RankedTensorType>(getType());
  if (!a.getElementType().isF32() || !y.getElementType().isF32())
    return emitOpError("a and the result must be f32");
  auto weightType =
      dyn_cast<quant::UniformQuantizedSubChannelType>(b.getElementType());
  if (!weightType || weightType.getStorageTypeIntegralWidth() < 2 ||
      weightType.getStorageTypeIntegralWidth() > 4 ||
      !weightType.getExpressedType().isF32())
    return emitOpError("b must hold 2- to 4-bit values of f32 quantized per "
                       "group (a sub-channel type), has ")
           << b;
  if (b.getRank() != 2 || !b.hasStaticShape() || a.getRank() < 1 ||
      y.getRank() != a.getRank())
    return emitOpError("a must have rank >= 1, b a static rank 2 and y a's "
                       "rank");
  int64_t groupSize = b.getDimSize(0);
  for (auto [dim, blockSize] : weightType.getBlockSizeInfo()) {
    if (dim == 1 && blockSize != 1)
      return emitOpError("b's groups must run along k (axis 0) within one "
                         "column, has blocks of ")
             << blockSize << " along axis 1";
    if (dim == 0)
      groupSize = blockSize;
  }
  // One scale and zero point per group and column.
  SmallVector<int64_t> groups = {
      int64_t(llvm::divideCeil(b.getDimSize(0), groupSize)), b.getDimSize(1)};
  if (weightType.getScales().getType().getShape() != ArrayRef(groups))
    return emitOpError("b's scales must be ")
           << groups[0] << "x" << groups[1] << " (groups of " << groupSize
           << " along k, columns), has "
           << weightType.getScales().getType();
  if (a.isDynamicDim(a.getRank() - 1))
    return emitOpError("a's last dim (K) must be static");
  return verifyFloatProduct(*this, a, b, getBias(), y);
}
