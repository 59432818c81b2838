//===- InsertObservers.cpp - observe float tensors for calibration --------===//
//
// Calibration runs the model quarc compiled itself: this pass marks the
// tensors whose values the run hands to the observer, and the lowering
// turns each mark into a call of the runtime's `quarc_observe`.
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
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

    auto observe = [&](Value value, Location loc) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      if (!type || !type.getElementType().isF32())
        return;
      std::optional<StringRef> name = getTensorName(value);
      if (!name || (!wanted.empty() && !wanted.contains(*name)) ||
          !observed.insert(*name).second)
        return;
      ObserveOp::create(builder, loc, value, builder.getStringAttr(*name),
                        builder.getI64IntegerAttr(names.size()));
      names.push_back(builder.getStringAttr(*name));
    };

    for (auto function : module.getOps<func::FuncOp>()) {
      if (function.isExternal())
        continue;
      Block &body = function.getBody().front();
      builder.setInsertionPointToStart(&body);
      for (BlockArgument argument : body.getArguments())
        observe(argument, function.getLoc());
      for (Operation &op : llvm::make_early_inc_range(body)) {
        if (isa<ConstantOp, ObserveOp>(op) || op.hasTrait<OpTrait::IsTerminator>())
          continue;
        builder.setInsertionPointAfter(&op);
        for (Value result : op.getResults())
          observe(result, op.getLoc());
      }
    }

    for (const auto &name : wanted)
      if (!observed.contains(name.getKey())) {
        module.emitError() << "quarc-insert-observers: no f32 tensor named '"
                           << name.getKey() << "'";
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
