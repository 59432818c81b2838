//===- Quantize.cpp - QDQ form from calibration stats ---------------------===//
//
// The first step of post-training quantization: decide which tensors are
// quantized and with which parameters, and say so in the graph as
// quantize/dequantize pairs (activations) and integer constants
// (weights). The integer lowering then folds the pairs into integer ops;
// until it does, the pairs run as written (float emulation of int8).
//
//===----------------------------------------------------------------------===//

#include "ConstantData.h"
#include "quarc/Calibration/StatsFile.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"
#include "quarc/Quantization/ChooseQuantParams.h"
#include "quarc/Quantization/QuantScheme.h"
#include "quarc/Quantization/Quantize.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCQUANTIZE
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// What quantizing one compute op needs: its activation input, its
/// constant weight, and the axis of the weight's output channels.
struct ComputeOperands {
  OpOperand *activation;
  OpOperand *weight;
  int32_t channelAxis;
};

std::optional<ComputeOperands> getComputeOperands(Operation *op) {
  auto isConstant = [](Value v) { return v.getDefiningOp<ConstantOp>(); };
  if (auto conv = dyn_cast<ConvOp>(op)) {
    if (!isConstant(conv.getW()))
      return std::nullopt;
    return ComputeOperands{&op->getOpOperand(0), &op->getOpOperand(1), 0};
  }
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    if (!isConstant(gemm.getB()) || gemm.getTransA() != 0)
      return std::nullopt;
    return ComputeOperands{&op->getOpOperand(0), &op->getOpOperand(1),
                           gemm.getTransB() != 0 ? 0 : 1};
  }
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(matmul.getB().getType());
    if (!isConstant(matmul.getB()) || !type || type.getRank() < 2)
      return std::nullopt;
    return ComputeOperands{&op->getOpOperand(0), &op->getOpOperand(1),
                           int32_t(type.getRank() - 1)};
  }
  return std::nullopt;
}

/// The output of the Relu or Clip (constant bounds) that is the only user
/// of `value`, else `value`.
Value getActivationOutput(Value value) {
  if (!value.hasOneUse())
    return value;
  Operation *user = *value.getUsers().begin();
  if (isa<ReluOp>(user))
    return user->getResult(0);
  auto clip = dyn_cast<ClipOp>(user);
  auto isConstantOrNone = [](Value bound) {
    return isNone(bound) || bound.getDefiningOp<ConstantOp>();
  };
  if (clip && isConstantOrNone(clip.getMin()) &&
      isConstantOrNone(clip.getMax()))
    return clip.getOutput();
  return value;
}

struct QuantizePass : impl::QuarcQuantizeBase<QuantizePass> {
  using QuarcQuantizeBase::QuarcQuantizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(setUp(module)))
      return signalPassFailure();
    SmallVector<std::pair<Operation *, ComputeOperands>> computeOps;
    module.walk([&](Operation *op) {
      if (std::optional<ComputeOperands> operands = getComputeOperands(op))
        computeOps.push_back({op, *operands});
    });
    for (auto &[op, operands] : computeOps) {
      Value input = operands.activation->get();
      if (!getTensorName(input) || !stats->lookup(*getTensorName(input)))
        continue;
      if (failed(quantizeActivation(input)) ||
          failed(quantizeWeight(op, *operands.weight, operands.channelAxis)))
        return signalPassFailure();
      // An output that only the model returns stays float: the integer op
      // then dequantizes its accumulators directly, which is more exact.
      // Behind a Relu or Clip, the activation's output is quantized instead:
      // the integer op then clamps its quantized result (quarc-fold-qdq),
      // and the range spent on values the activation drops is not lost.
      Value output = getActivationOutput(op->getResult(0));
      bool feedsOps = llvm::any_of(output.getUsers(), [](Operation *user) {
        return !user->hasTrait<OpTrait::ReturnLike>();
      });
      if (feedsOps && getTensorName(output) &&
          stats->lookup(*getTensorName(output)) &&
          failed(quantizeActivation(output)))
        return signalPassFailure();
    }
  }

private:
  std::optional<calibration::CalibrationStats> stats;
  QuantScheme quantScheme;
  calibration::Method method;
  /// The dequantized value of each activation already quantized.
  llvm::DenseMap<Value, Value> quantized;

  LogicalResult setUp(ModuleOp module) {
    llvm::Expected<QuantScheme> parsed =
        scheme.empty() ? QuantScheme::getDefaultCPU() : parseQuantScheme(scheme);
    if (!parsed)
      return module.emitError() << "quarc-quantize: invalid scheme: "
                                << llvm::toString(parsed.takeError());
    quantScheme = *parsed;
    for (const TensorQuantScheme *tensors :
         {&quantScheme.activations, &quantScheme.weights})
      if (tensors->type.bits != 8 && tensors->type.bits != 16)
        return module.emitError()
               << "quarc-quantize: " << tensors->str()
               << ": only 8- and 16-bit types are supported yet (int4 "
                  "weights come with the packed kernels)";
    std::string error;
    FailureOr<calibration::Method> parsedMethod =
        calibration::parseMethod(quantScheme.calibrationMethod, error);
    if (failed(parsedMethod))
      return module.emitError() << "quarc-quantize: " << error;
    method = *parsedMethod;
    if (statsFile.empty())
      return module.emitError()
             << "quarc-quantize needs a stats file (stats=PATH)";
    auto hash = module->getAttrOfType<StringAttr>("quarc.model_hash");
    FailureOr<calibration::CalibrationStats> loaded =
        hash ? calibration::loadStatsFileForModel(statsFile, hash.getValue(),
                                                  error)
             : calibration::loadStatsFile(statsFile, error);
    if (failed(loaded))
      return module.emitError() << error;
    stats = std::move(*loaded);
    quantized.clear();
    return success();
  }

  /// Inserts quantize/dequantize after `value`'s definition and makes its
  /// users (except the function's return) read the dequantized value.
  LogicalResult quantizeActivation(Value value) {
    // A value quantized as the output of an earlier op reaches the next op
    // as its dequantized form.
    if (quantized.contains(value) || value.getDefiningOp<DequantizeOp>())
      return success();
    StringRef name = *getTensorName(value);
    const TensorQuantScheme &activations = quantScheme.activations;
    std::string error;
    FailureOr<calibration::Range> range = stats->estimateRange(
        name, method, {activations.type.bits, activations.symmetric}, error);
    Location loc = value.getLoc();
    if (failed(range))
      return emitError(loc) << "quarc-quantize: " << error;
    llvm::Expected<QuantParams> params = computeQuantParams(
        range->min, range->max, activations.type, activations.symmetric);
    if (!params)
      return emitError(loc) << "quarc-quantize: tensor '" << name
                            << "': " << llvm::toString(params.takeError());
    auto type = cast<RankedTensorType>(value.getType());
    FailureOr<quant::QuantizedType> elementType =
        getQuantizedType(loc, *params, cast<FloatType>(type.getElementType()));
    if (failed(elementType))
      return failure();
    OpBuilder builder(value.getContext());
    builder.setInsertionPointAfterValue(value);
    auto quantize =
        QuantizeOp::create(builder, loc, type.clone(*elementType), value);
    auto dequantize = DequantizeOp::create(builder, loc, type, quantize);
    value.replaceUsesWithIf(dequantize, [&](OpOperand &use) {
      return use.getOwner() != quantize &&
             !use.getOwner()->hasTrait<OpTrait::ReturnLike>();
    });
    quantized[value] = dequantize;
    return success();
  }

  /// Replaces the constant weight read by `use` with its quantized integer
  /// values, storage-cast and dequantized.
  LogicalResult quantizeWeight(Operation *op, OpOperand &use,
                               int32_t channelAxis) {
    Value weight = use.get();
    auto type = cast<RankedTensorType>(weight.getType());
    Location loc = weight.getLoc();
    std::optional<SmallVector<char>> bytes = getConstantBytes(weight);
    if (!bytes || !type.getElementType().isF32() || !type.hasStaticShape())
      return success(); // not an f32 constant we can read: stays float
    ArrayRef<float> values(reinterpret_cast<const float *>(bytes->data()),
                           bytes->size() / sizeof(float));
    const TensorQuantScheme &weights = quantScheme.weights;
    llvm::Expected<QuantParams> params = computeQuantParamsForData(
        values, type.getShape(), weights.type, weights.symmetric,
        quantScheme.reduceRange, weights.granularity, channelAxis,
        weights.groupSize);
    if (!params)
      return op->emitError() << "quarc-quantize: weight: "
                             << llvm::toString(params.takeError());
    FailureOr<quant::QuantizedType> elementType =
        getQuantizedType(loc, *params, cast<FloatType>(type.getElementType()));
    if (failed(elementType))
      return failure();
    SmallVector<int32_t> integers =
        quantize(values, type.getShape(), *params);
    // Storage bytes: the quantized values fit the storage width.
    unsigned storageBytes = (params->storageBits + 7) / 8;
    SmallVector<char> storage(integers.size() * storageBytes);
    for (auto [i, q] : llvm::enumerate(integers))
      std::memcpy(&storage[i * storageBytes], &q, storageBytes);
    auto storageType = type.clone(
        IntegerType::get(op->getContext(), storageBytes * 8));
    OpBuilder builder(op);
    auto constant = ConstantOp::create(
        builder, loc, storageType,
        createElementsAttr(storageType, storage,
                           deriveConstantKey(weight, "weight", "_q")));
    auto cast = StorageCastOp::create(builder, loc, type.clone(*elementType),
                                      constant);
    auto dequantize = DequantizeOp::create(builder, loc, type, cast);
    use.set(dequantize);
    return success();
  }
};

} // namespace
} // namespace mlir::quarc
