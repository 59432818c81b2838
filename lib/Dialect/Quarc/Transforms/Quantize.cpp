//===- Quantize.cpp - QDQ form from calibration stats ---------------------===//
//
// The first step of post-training quantization: decide which tensors are
// quantized and with which parameters, and say so in the graph as
// quantize/dequantize pairs (activations) and integer constants
// (weights). The integer lowering then folds the pairs into integer ops;
// until it does, the pairs run as written (float emulation of int8).
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "QuantizationPlan.h"
#include "WeightQuantization.h"
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
#include "llvm/ADT/StringSet.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCQUANTIZE
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

struct QuantizePass : impl::QuarcQuantizeBase<QuantizePass> {
  using QuarcQuantizeBase::QuarcQuantizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(setUp(module)))
      return signalPassFailure();
    llvm::StringSet<> excluded(llvm::from_range, excludeNodes);
    llvm::StringSet<> floatOpNames(llvm::from_range, floatOps);
    auto hasStats = [&](Value value) {
      std::optional<StringRef> name = getTensorName(value);
      return name && stats->lookup(*name);
    };
    PlanOptions options;
    options.hasStats = hasStats;
    options.eightBitActivations = quantScheme.activations.type.bits == 8;
    options.excludedNodes = &excluded;
    options.floatOps = &floatOpNames;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      QuantizationPlan plan = planQuantization(func, options);
      for (auto &[op, operands] : plan.contractions)
        if (failed(quantizeWeight(op, *operands.weight, operands.channelAxis)))
          return signalPassFailure();
      if (failed(quantizeActivations(plan)))
        return signalPassFailure();
    }
  }

private:
  std::optional<calibration::CalibrationStats> stats;
  QuantScheme quantScheme;
  calibration::Method method;

  LogicalResult setUp(ModuleOp module) {
    llvm::Expected<QuantScheme> parsed =
        parseSchemeOption(scheme);
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
    return success();
  }

  /// The quantized element type of `value` from its statistics.
  FailureOr<quant::QuantizedType> getActivationType(Value value) {
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
    return getQuantizedType(loc, *params,
                            cast<FloatType>(type.getElementType()));
  }

  /// Inserts a quantize/dequantize pair after each planned tensor's
  /// definition (with the parameters of its source, see QuantizationPlan)
  /// and makes its users, except the function's return, read the
  /// dequantized value.
  LogicalResult quantizeActivations(const QuantizationPlan &plan) {
    llvm::DenseMap<Value, quant::QuantizedType> types;
    for (Value value : plan.tensors) {
      Value source = plan.getParamsSource(value);
      auto it = types.find(source);
      if (it == types.end()) {
        FailureOr<quant::QuantizedType> type = getActivationType(source);
        if (failed(type))
          return failure();
        it = types.insert({source, *type}).first;
      }
      auto type = cast<RankedTensorType>(value.getType());
      OpBuilder builder(value.getContext());
      builder.setInsertionPointAfterValue(value);
      // The pair's results name the tensor (one name, even for a result of
      // a multi-result op), and so will the integer op that writes it.
      // (A pass-through op's output may have no name: it takes its
      // input's parameters, not stats.)
      // The node is the producer's (the tensor's name for a model input).
      Location loc = value.getLoc();
      if (std::optional<StringRef> name = getTensorName(value)) {
        Operation *producer = value.getDefiningOp();
        std::optional<StringRef> node =
            producer ? getNodeName(producer) : std::nullopt;
        loc = getLocWithTensorNames(
            NameLoc::get(builder.getStringAttr(node ? *node : *name), loc),
            {name->str()});
      }
      auto quantize =
          QuantizeOp::create(builder, loc, type.clone(it->second), value);
      auto dequantize = DequantizeOp::create(builder, loc, type, quantize);
      value.replaceUsesWithIf(dequantize, [&](OpOperand &use) {
        return use.getOwner() != quantize &&
               !use.getOwner()->hasTrait<OpTrait::ReturnLike>();
      });
    }
    return success();
  }

  /// Replaces the constant weight read by `use` with its quantized integer
  /// values, storage-cast and dequantized.
  LogicalResult quantizeWeight(Operation *op, OpOperand &use,
                               int32_t channelAxis) {
    OpBuilder builder(op);
    FailureOr<Value> quantized = quantizeConstantWeight(
        builder, op, use.get(), quantScheme, channelAxis);
    if (failed(quantized))
      return failure();
    if (!*quantized)
      return success(); // not a constant it can read: stays float
    auto type = cast<RankedTensorType>(use.get().getType());
    use.set(DequantizeOp::create(builder, use.get().getLoc(), type,
                                 *quantized));
    return success();
  }
};

} // namespace
} // namespace mlir::quarc
