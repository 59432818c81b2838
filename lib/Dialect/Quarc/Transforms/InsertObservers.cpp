//===- InsertObservers.cpp - observe tensors of a model run ---------------===//
//
// Calibration runs the model quarc compiled itself: this pass marks the
// tensors whose values the run hands to the observer, and the lowering
// turns each mark into a call of the runtime's `quarc_observe`. `quarc
// report` also observes what the integer code of a quantized model writes,
// to compare it with the float model's tensors.
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCINSERTOBSERVERS
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

struct InsertObserversPass
    : impl::QuarcInsertObserversBase<InsertObserversPass> {
  using QuarcInsertObserversBase::QuarcInsertObserversBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    llvm::StringSet<> wanted;
    for (const std::string &name : tensors)
      wanted.insert(name);
    llvm::StringSet<> observed;
    SmallVector<Attribute> names;
    OpBuilder builder(context);

    // Observes `value` (f32) as tensor `name`.
    auto observeAs = [&](Value value, StringRef name, Location loc) {
      if ((!wanted.empty() && !wanted.contains(name)) ||
          !observed.insert(name).second)
        return;
      ObserveOp::create(builder, loc, value, builder.getStringAttr(name),
                        builder.getI64IntegerAttr(names.size()));
      names.push_back(builder.getStringAttr(name));
    };
    auto observeFloat = [&](Value value, Location loc) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      if (!type || !type.getElementType().isF32())
        return;
      if (std::optional<StringRef> name = getTensorName(value))
        observeAs(value, *name, loc);
    };
    // The dequantized value of a quantized tensor.
    auto observeDequantized = [&](Value value, Location loc) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      auto element =
          type ? dyn_cast<quant::QuantizedType>(type.getElementType())
               : quant::QuantizedType();
      if (!element || !element.getExpressedType().isF32())
        return;
      std::optional<StringRef> name = getTensorName(value);
      if (!name || (!wanted.empty() && !wanted.contains(*name)) ||
          observed.contains(*name))
        return;
      Value dequantized = DequantizeOp::create(
          builder, loc, type.clone(element.getExpressedType()), value);
      observeAs(dequantized, *name, loc);
    };
    auto isQuantized = [](Value value) {
      auto type = dyn_cast<ShapedType>(value.getType());
      return type && isa<quant::QuantizedType>(type.getElementType());
    };

    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.isExternal())
        continue;
      Block &body = function.getBody().front();
      builder.setInsertionPointToStart(&body);
      for (BlockArgument argument : body.getArguments()) {
        if (quantized)
          observeDequantized(argument, function.getLoc());
        else
          observeFloat(argument, function.getLoc());
      }
      for (Operation &op : llvm::make_early_inc_range(body)) {
        if (isa<ConstantOp, ObserveOp>(op) || op.hasTrait<OpTrait::IsTerminator>())
          continue;
        builder.setInsertionPointAfter(&op);
        if (!quantized) {
          for (Value result : op.getResults())
            observeFloat(result, op.getLoc());
          continue;
        }
        // Weights and the dequantized copies of observed tensors.
        if (isa<StorageCastOp, DequantizeOp>(op))
          continue;
        bool readsQuantized = llvm::any_of(op.getOperands(), isQuantized);
        for (Value result : op.getResults()) {
          if (isQuantized(result))
            observeDequantized(result, op.getLoc());
          else if (readsQuantized)
            observeFloat(result, op.getLoc());
        }
      }
    }

    for (const auto &name : wanted)
      if (!observed.contains(name.getKey())) {
        module.emitError() << "quarc-insert-observers: no "
                           << (quantized ? "tensor written by integer code"
                                         : "f32 tensor")
                           << " named '" << name.getKey() << "'";
        return signalPassFailure();
      }
    module->setAttr(kObservedTensorsAttr, builder.getArrayAttr(names));
    declareCallback(module);
  }

  /// `func.func private @quarc_observe(i64, memref<*xf32>)`.
  static void declareCallback(ModuleOp module) {
    if (module.lookupSymbol(kObserveCallback))
      return;
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    auto type = builder.getFunctionType(
        {builder.getI64Type(),
         UnrankedMemRefType::get(builder.getF32Type(), /*memorySpace=*/0)},
        {});
    auto callback = func::FuncOp::create(builder, module.getLoc(),
                                         kObserveCallback, type);
    callback.setPrivate();
  }
};

} // namespace
} // namespace mlir::quarc
