//===- FoldQDQ.cpp - QDQ pairs into integer convolutions and matmuls ------===//
//
// The step from the QDQ form to integer compute. A convolution or matrix
// product whose activation comes out of a dequantize and whose weight is a
// dequantized integer constant becomes quarc.qconv / quarc.qmatmul on the
// quantized values themselves. Everything the integer op needs beyond
// them is computed here, at compile time, from constants: the int32 bias
// with the input zero point's compensation (IntegerContraction.h), and,
// for a Gemm, B transposed and alpha folded into its scales.
//
//===----------------------------------------------------------------------===//

#include "FoldQDQ.h"
#include "BiasAdd.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Dialect/Quarc/IR/QuantBehavior.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"
#include "quarc/Quantization/IntegerContraction.h"
#include "quarc/Quantization/Quantize.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include <cstring>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCFOLDQDQ
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// An 8-bit quantized constant weight (per tensor or per output channel).
struct QuantizedWeight {
  /// The storage_cast result (a tensor of !quant elements) that holds it,
  /// or null when it is a new constant still to be created (a Gemm's B^T).
  Value quantized;
  RankedTensorType type;
  SmallVector<int64_t> values; // the stored integers, row-major
};

bool isEightBitOfF32(quant::QuantizedType type) {
  return type && type.getStorageTypeIntegralWidth() == 8 &&
         type.getExpressedType().isF32();
}

/// `weight` as dequantize(storage_cast(constant)) of 8-bit values, per
/// tensor or along `channelAxis`.
std::optional<QuantizedWeight> matchQuantizedWeight(Value weight,
                                                    int64_t channelAxis) {
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  auto storageCast =
      dequantize ? dequantize.getInput().getDefiningOp<StorageCastOp>() : nullptr;
  if (!storageCast)
    return std::nullopt;
  auto type = cast<RankedTensorType>(storageCast.getType());
  auto element = dyn_cast<quant::QuantizedType>(type.getElementType());
  if (!isEightBitOfF32(element))
    return std::nullopt;
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(element)) {
    if (perAxis.getQuantizedDimension() != channelAxis)
      return std::nullopt;
  } else if (!isa<quant::UniformQuantizedType>(element)) {
    return std::nullopt;
  }
  std::optional<SmallVector<char>> bytes =
      getConstantBytes(storageCast.getInput());
  if (!bytes)
    return std::nullopt;
  QuantizedWeight result{storageCast, type, {}};
  result.values.reserve(bytes->size());
  for (char byte : *bytes)
    result.values.push_back(element.isSigned() ? int64_t(int8_t(byte))
                                               : int64_t(uint8_t(byte)));
  return result;
}

/// `type` with every scale multiplied by `factor` and the quantized axis
/// (if any) moved to `axis`.
quant::QuantizedType rescale(quant::QuantizedType type, double factor,
                             int32_t axis) {
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(type)) {
    SmallVector<double> scales(perAxis.getScales());
    for (double &scale : scales)
      scale *= factor;
    return quant::UniformQuantizedPerAxisType::get(
        type.getFlags(), type.getStorageType(), type.getExpressedType(),
        scales, perAxis.getZeroPoints(), axis, type.getStorageTypeMin(),
        type.getStorageTypeMax());
  }
  auto perTensor = cast<quant::UniformQuantizedType>(type);
  return quant::UniformQuantizedType::get(
      type.getFlags(), type.getStorageType(), type.getExpressedType(),
      perTensor.getScale() * factor, perTensor.getZeroPoint(),
      type.getStorageTypeMin(), type.getStorageTypeMax());
}

/// The sum of the stored weights minus their zero point, w - zw, of each
/// channel along `channelAxis`.
SmallVector<int64_t> getWeightSums(const QuantizedWeight &weight,
                                   int64_t channelAxis) {
  ArrayRef<int64_t> shape = weight.type.getShape();
  int64_t channels = shape[channelAxis], inner = 1;
  for (int64_t d = channelAxis + 1; d < int64_t(shape.size()); ++d)
    inner *= shape[d];
  SmallVector<int64_t> zeroPoints = getChannelZeroPoints(
      cast<quant::QuantizedType>(weight.type.getElementType()), channels);
  SmallVector<int64_t> sums(channels, 0);
  for (auto [index, value] : llvm::enumerate(weight.values)) {
    int64_t channel = (int64_t(index) / inner) % channels;
    sums[channel] += value - zeroPoints[channel];
  }
  return sums;
}

/// The bias of each of `channels` channels as int32 at `accumulatorScales`,
/// times `beta`, plus `extra` (a bias Add's values, one per channel, or
/// empty): from no bias (zeros), an f32 constant of `channels` values (or
/// one broadcast value), or an int32 constant dequantized per channel, as
/// onnxruntime writes biases. For the last, when the scale is already the
/// accumulator's and nothing is added, the stored integers are taken as
/// they are. nullopt for any other bias.
std::optional<SmallVector<int32_t>>
quantizeBiasOperand(Value bias, ArrayRef<double> accumulatorScales,
                    double beta, ArrayRef<double> extra) {
  int64_t channels = accumulatorScales.size();
  auto withExtra = [&](int64_t channel, double value) {
    return extra.empty() ? value : value + extra[channel];
  };
  SmallVector<int32_t> result(channels);
  if (!bias || isNone(bias)) {
    for (int64_t c = 0; c < channels; ++c)
      result[c] = quantizeBias(withExtra(c, 0.0), accumulatorScales[c]);
    return result;
  }
  auto type = cast<RankedTensorType>(bias.getType());
  if (type.getNumElements() != channels && type.getNumElements() != 1)
    return std::nullopt;
  auto valueAt = [&](auto &values, int64_t channel) {
    return values.size() == 1 ? values[0] : values[channel];
  };
  if (auto dequantize = bias.getDefiningOp<DequantizeOp>()) {
    auto storageCast = dequantize.getInput().getDefiningOp<StorageCastOp>();
    auto element = dyn_cast<quant::QuantizedType>(
        dequantize.getInput().getType().getElementType());
    if (!storageCast || !element || !element.isSigned() ||
        element.getStorageTypeIntegralWidth() != 32 || type.getRank() != 1)
      return std::nullopt;
    std::optional<SmallVector<char>> bytes =
        getConstantBytes(storageCast.getInput());
    if (!bytes)
      return std::nullopt;
    SmallVector<int32_t> stored(bytes->size() / 4);
    std::memcpy(stored.data(), bytes->data(), bytes->size());
    SmallVector<double> scales = getChannelScales(element, stored.size());
    SmallVector<int64_t> zeroPoints(stored.size(), 0);
    if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(element))
      zeroPoints.assign(perAxis.getZeroPoints().begin(),
                        perAxis.getZeroPoints().end());
    else
      zeroPoints.assign(stored.size(),
                        cast<quant::UniformQuantizedType>(element).getZeroPoint());
    for (int64_t c = 0; c < channels; ++c) {
      int64_t centered = int64_t(valueAt(stored, c)) - valueAt(zeroPoints, c);
      double scale = valueAt(scales, c) * beta;
      // onnxruntime's bias scale is f32(sx * sw): equal up to f32 rounding.
      if (extra.empty() && std::abs(scale / accumulatorScales[c] - 1) <= 1e-6 &&
          centered == int32_t(centered))
        result[c] = int32_t(centered);
      else
        result[c] = quantizeBias(withExtra(c, double(centered) * scale),
                                 accumulatorScales[c]);
    }
    return result;
  }
  std::optional<SmallVector<char>> bytes = getConstantBytes(bias);
  if (!bytes || !type.getElementType().isF32())
    return std::nullopt;
  SmallVector<float> values(bytes->size() / 4);
  std::memcpy(values.data(), bytes->data(), bytes->size());
  for (int64_t c = 0; c < channels; ++c)
    result[c] = quantizeBias(withExtra(c, double(valueAt(values, c)) * beta),
                             accumulatorScales[c]);
  return result;
}

/// What an integer op reads, computed from a float op's operands before
/// anything is created: the quantized input, the weight, and the int32
/// bias with the zero-point compensation.
struct IntegerOperands {
  Value input;
  QuantizedWeight weight;
  SmallVector<int32_t> bias;
  Value floatWeight, floatBias; // names for the new constants
};

/// The quantized bias minus the input zero point times each channel's
/// weight sum.
SmallVector<int32_t> compensate(ArrayRef<int32_t> quantizedBias,
                                ArrayRef<int64_t> weightSums, Value input) {
  auto inputType = cast<quant::UniformQuantizedType>(
      cast<RankedTensorType>(input.getType()).getElementType());
  SmallVector<int32_t> bias;
  for (auto [value, sum] : llvm::zip_equal(quantizedBias, weightSums))
    bias.push_back(compensateBias(value, inputType.getZeroPoint(), sum));
  return bias;
}

/// The integer op's operand values: the weight's storage_cast (a new
/// constant if it has none) and the bias constant.
SmallVector<Value> materialize(OpBuilder &builder, Location loc,
                               const IntegerOperands &operands) {
  Value weight = operands.weight.quantized;
  if (!weight) {
    RankedTensorType type = operands.weight.type;
    auto element = cast<quant::QuantizedType>(type.getElementType());
    auto storageType = type.clone(IntegerType::get(
        builder.getContext(), 8,
        element.isSigned() ? IntegerType::Signless : IntegerType::Unsigned));
    SmallVector<char> bytes;
    for (int64_t value : operands.weight.values)
      bytes.push_back(char(value));
    Value constant = ConstantOp::create(
        builder, loc, storageType,
        createElementsAttr(storageType, bytes,
                           deriveConstantKey(operands.floatWeight, "weight",
                                             "_kn")));
    weight = StorageCastOp::create(builder, loc, type, constant);
  }
  ArrayRef<int32_t> bias = operands.bias;
  auto biasType =
      RankedTensorType::get({int64_t(bias.size())}, builder.getI32Type());
  ArrayRef<char> bytes(reinterpret_cast<const char *>(bias.data()),
                       bias.size() * sizeof(int32_t));
  Value biasConstant = ConstantOp::create(
      builder, loc, biasType,
      createElementsAttr(biasType, bytes,
                         deriveConstantKey(operands.floatBias, "bias", "_i32")));
  return {operands.input, weight, biasConstant};
}

/// The accumulator scale input scale x weight scale of each channel.
SmallVector<double> getAccumulatorScales(Value input,
                                         quant::QuantizedType weightType,
                                         int64_t channels) {
  double inputScale = cast<quant::UniformQuantizedType>(
                          cast<RankedTensorType>(input.getType())
                              .getElementType())
                          .getScale();
  SmallVector<double> scales = getChannelScales(weightType, channels);
  for (double &scale : scales)
    scale *= inputScale;
  return scales;
}

std::optional<IntegerOperands> matchConv(ConvOp conv, ArrayRef<double> extra) {
  Value input = getDequantizedInput(conv.getX());
  std::optional<QuantizedWeight> weight =
      input ? matchQuantizedWeight(conv.getW(), 0) : std::nullopt;
  if (!weight)
    return std::nullopt;
  int64_t channels = weight->type.getDimSize(0);
  auto weightType = cast<quant::QuantizedType>(weight->type.getElementType());
  std::optional<SmallVector<int32_t>> bias = quantizeBiasOperand(
      conv.getB(), getAccumulatorScales(input, weightType, channels), 1.0,
      extra);
  if (!bias)
    return std::nullopt;
  SmallVector<int32_t> compensated =
      compensate(*bias, getWeightSums(*weight, 0), input);
  return IntegerOperands{input, std::move(*weight), std::move(compensated),
                         conv.getW(), conv.getB()};
}

/// B (K x N) of a matrix product as an 8-bit constant quantized per
/// tensor or per column; a Gemm's B^T is transposed and alpha folded in
/// (a new constant, created by materialize()).
std::optional<QuantizedWeight> matchMatMulWeight(Value b, bool transposed,
                                                 double alpha) {
  std::optional<QuantizedWeight> weight =
      matchQuantizedWeight(b, transposed ? 0 : 1);
  if (!weight || weight->type.getRank() != 2)
    return std::nullopt;
  if (!transposed && alpha == 1.0)
    return weight;
  auto element = cast<quant::QuantizedType>(weight->type.getElementType());
  int64_t rows = weight->type.getDimSize(0), cols = weight->type.getDimSize(1);
  SmallVector<int64_t> shape = {rows, cols};
  SmallVector<int64_t> values = weight->values;
  if (transposed) {
    shape = {cols, rows};
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        values[c * rows + r] = weight->values[r * cols + c];
  }
  auto type = RankedTensorType::get(shape, rescale(element, alpha, 1));
  return QuantizedWeight{Value(), type, std::move(values)};
}

std::optional<IntegerOperands>
matchMatMulOperands(Value a, Value b, Value c, bool transposed, double alpha,
                    double beta, ArrayRef<double> extra) {
  Value input = getDequantizedInput(a);
  auto inputType = cast<RankedTensorType>(a.getType());
  if (!input || inputType.getRank() < 2 || !(alpha > 0))
    return std::nullopt;
  std::optional<QuantizedWeight> weight =
      matchMatMulWeight(b, transposed, alpha);
  if (!weight)
    return std::nullopt;
  int64_t channels = weight->type.getDimSize(1);
  auto weightType = cast<quant::QuantizedType>(weight->type.getElementType());
  std::optional<SmallVector<int32_t>> bias = quantizeBiasOperand(
      c, getAccumulatorScales(input, weightType, channels), beta, extra);
  if (!bias)
    return std::nullopt;
  SmallVector<int32_t> compensated =
      compensate(*bias, getWeightSums(*weight, 1), input);
  return IntegerOperands{input, std::move(*weight), std::move(compensated), b,
                         c};
}

/// The operands of `op`'s integer form, with `extra` (a bias Add's values,
/// or empty) added to its bias.
std::optional<IntegerOperands> matchIntegerOperands(Operation *op,
                                                    ArrayRef<double> extra) {
  if (auto conv = dyn_cast<ConvOp>(op))
    return matchConv(conv, extra);
  if (auto matmul = dyn_cast<MatMulOp>(op))
    return matchMatMulOperands(matmul.getA(), matmul.getB(), Value(), false,
                               1.0, 1.0, extra);
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    if (gemm.getTransA() != 0)
      return std::nullopt;
    return matchMatMulOperands(gemm.getA(), gemm.getB(), gemm.getC(),
                               gemm.getTransB() != 0,
                               gemm.getAlpha().convertToDouble(),
                               gemm.getBeta().convertToDouble(), extra);
  }
  return std::nullopt;
}

} // namespace

//===----------------------------------------------------------------------===//
// Shared matchers (FoldQDQ.h)
//===----------------------------------------------------------------------===//

Value getDequantizedInput(Value value, unsigned maxBits) {
  auto dequantize = value.getDefiningOp<DequantizeOp>();
  if (!dequantize)
    return nullptr;
  auto type = dyn_cast<quant::UniformQuantizedType>(
      dequantize.getInput().getType().getElementType());
  if (!type || !type.getExpressedType().isF32() ||
      type.getStorageTypeIntegralWidth() > maxBits)
    return nullptr;
  return dequantize.getInput();
}

/// The only user of `value` if it is an `OpTy`.
template <typename OpTy>
static OpTy getOnlyUser(Value value) {
  return value.hasOneUse() ? dyn_cast<OpTy>(*value.getUsers().begin()) : OpTy();
}

/// A constant f32 scalar bound of a Clip, or nullopt for none; failure for
/// a bound that is not a constant.
static FailureOr<std::optional<float>> getClipBound(Value bound) {
  if (isNone(bound))
    return std::optional<float>();
  std::optional<SmallVector<char>> bytes = getConstantBytes(bound);
  auto type = cast<RankedTensorType>(bound.getType());
  if (!bytes || !type.getElementType().isF32() || bytes->size() != 4)
    return failure();
  float value;
  std::memcpy(&value, bytes->data(), 4);
  return std::optional<float>(value);
}

std::optional<QuantizedOutput> getQuantizedOutput(Value value) {
  QuantizedOutput output;
  std::optional<float> low, high;
  if (auto relu = getOnlyUser<ReluOp>(value)) {
    output.activation = relu;
    low = 0.0f;
  } else if (auto clip = getOnlyUser<ClipOp>(value)) {
    FailureOr<std::optional<float>> min = getClipBound(clip.getMin());
    FailureOr<std::optional<float>> max = getClipBound(clip.getMax());
    if (failed(min) || failed(max))
      return std::nullopt;
    output.activation = clip;
    low = *min;
    high = *max;
  }
  if (output.activation)
    value = output.activation->getResult(0);
  output.quantize = getOnlyUser<QuantizeOp>(value);
  if (!output.quantize)
    return std::nullopt;
  auto type = dyn_cast<quant::UniformQuantizedType>(
      cast<RankedTensorType>(output.quantize.getType()).getElementType());
  if (!type || type.getStorageTypeIntegralWidth() > 16 ||
      !type.getExpressedType().isF32())
    return std::nullopt;
  auto quantizeBound = [&](float bound) -> int64_t {
    return quantizeValue(bound, float(type.getScale()), type.getZeroPoint(),
                         type.getStorageTypeMin(), type.getStorageTypeMax());
  };
  if (low)
    output.clampMin = quantizeBound(*low);
  if (high)
    output.clampMax = quantizeBound(*high);
  if (output.clampMin && output.clampMax && *output.clampMin > *output.clampMax)
    return std::nullopt; // a Clip with min > max: leave it to run as it is
  return output;
}

Location QuantizedOutput::getLoc(Operation *op) const {
  return FusedLoc::get(op->getContext(),
                       {quantize->getLoc(), op->getLoc()});
}

NamedAttrList QuantizedOutput::getClampAttributes(Builder &builder) const {
  NamedAttrList attributes;
  if (clampMin)
    attributes.set("clamp_min", builder.getI64IntegerAttr(*clampMin));
  if (clampMax)
    attributes.set("clamp_max", builder.getI64IntegerAttr(*clampMax));
  return attributes;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

bool foldContraction(Operation *op) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.getElementType().isF32())
    return false;
  // A bias written as a separate Add goes into the integer op's bias; the
  // integer op then replaces the Add.
  Value result = op->getResult(0);
  std::optional<BiasAdd> biasAdd = getBiasAdd(op, result);
  if (biasAdd)
    result = biasAdd->add.getResult();
  std::optional<IntegerOperands> operands = matchIntegerOperands(
      op, biasAdd ? ArrayRef<double>(biasAdd->values) : ArrayRef<double>());
  if (!operands)
    return false;
  OpBuilder builder(op);
  std::optional<QuantizedOutput> output = getQuantizedOutput(result);
  Type resultType = output ? output->quantize.getType() : result.getType();
  SmallVector<Value> integerOperands =
      materialize(builder, op->getLoc(), *operands);
  // The window attributes of a convolution carry over.
  NamedAttrList attributes;
  if (isa<ConvOp>(op))
    attributes.append(op->getAttrs());
  if (output)
    attributes.append(output->getClampAttributes(builder));
  // Named as the tensor it writes: the quantize's, else the bias Add's.
  Location loc = output ? output->getLoc(op)
                 : biasAdd
                     ? FusedLoc::get(op->getContext(),
                                     {biasAdd->add->getLoc(), op->getLoc()})
                     : op->getLoc();
  Operation *integerOp;
  if (isa<ConvOp>(op))
    integerOp = QConvOp::create(builder, loc, resultType, integerOperands,
                                attributes.getAttrs());
  else
    integerOp = QMatMulOp::create(builder, loc, resultType, integerOperands,
                                  attributes.getAttrs());
  if (output)
    output->quantize.replaceAllUsesWith(integerOp->getResult(0));
  else
    result.replaceAllUsesWith(integerOp->getResult(0));
  return true;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

/// The fold that matches `op`, if any; returns whether one did.
bool foldOp(Operation *op) {
  if (auto matmul = dyn_cast<MatMulOp>(op); matmul && foldWeightOnly(matmul))
    return true;
  if (isa<ConvOp, MatMulOp, GemmOp>(op))
    return foldContraction(op);
  if (isa<AddOp, MulOp>(op) && foldBinary(op))
    return true;
  if (isa<AveragePoolOp, GlobalAveragePoolOp>(op))
    return foldAveragePool(op);
  if (auto concat = dyn_cast<ConcatOp>(op); concat && foldConcat(concat))
    return true;
  if (passesQuantization(op))
    return foldPassThrough(op);
  if (auto quantize = dyn_cast<QuantizeOp>(op))
    return foldTable(quantize) || foldRequantize(quantize);
  return false;
}

struct FoldQDQPass : impl::QuarcFoldQDQBase<FoldQDQPass> {
  void runOnOperation() override {
    // Producers come before their users, so one pass in program order sees
    // each op's operands already folded. Folds only replace uses; what they
    // leave dead is erased afterwards, so the list stays valid.
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) { ops.push_back(op); });
    bool changed = false;
    for (Operation *op : ops)
      if (op->getNumResults() == 0 || !op->use_empty())
        changed |= foldOp(op);
    if (!changed)
      return;
    // The float ops, the quantize/dequantize pairs and the constants they
    // read are dead now (and so may be dequantizes the folds made); users
    // come after producers, so one backward sweep over the ops as they are
    // now erases them. Ops with regions are kept: erasing one would free
    // nested ops still in the list.
    ops.clear();
    getOperation().walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : llvm::reverse(ops))
      if (isa_and_nonnull<QuarcDialect>(op->getDialect()) &&
          op->getNumRegions() == 0 && isOpTriviallyDead(op))
        op->erase();
  }
};

} // namespace
} // namespace mlir::quarc
