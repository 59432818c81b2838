//===- QuarcToLinalg.cpp - the convert-quarc-to-linalg pass --------------===//

#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "LoweringUtils.h"
#include "quarc/Conversion/Passes.h"
#include "quarc/Dialect/Quarc/IR/QuantBehavior.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_CONVERTQUARCTOLINALG
#include "quarc/Conversion/Passes.h.inc"

void populateQuarcToLinalgPatterns(RewritePatternSet &patterns) {
  populateElementwiseToLinalgPatterns(patterns);
  populateNNToLinalgPatterns(patterns);
  populateMatMulToLinalgPatterns(patterns);
  populateTensorOpsToLinalgPatterns(patterns);
  populateReductionToLinalgPatterns(patterns);
  populateRNNToLinalgPatterns(patterns);
  populateObserveToCallPatterns(patterns);
}

namespace {

/// The ONNX op type a quarc op was imported from, for diagnostics: the
/// node name is already the op's location.
std::string describe(Operation *op) {
  return ("'" + op->getName().getStringRef() + "'").str();
}

struct ConvertQuarcToLinalgPass
    : impl::ConvertQuarcToLinalgBase<ConvertQuarcToLinalgPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    populateQuarcToLinalgPatterns(patterns);
    TypeConverter quantizedTypes;
    populateQuantizedTypeConversion(quantizedTypes);
    populateQuantToLinalgPatterns(quantizedTypes, patterns);
    populateIntegerOpsToLinalgPatterns(quantizedTypes, patterns);
    populateWeightOnlyToLinalgPatterns(quantizedTypes, patterns);
    populateIntegerElementwiseToLinalgPatterns(quantizedTypes, patterns);

    // Check up front that every op has a lowering and only lowerable
    // element types, so the user gets one clear error per op rather than
    // the conversion driver's generic "failed to legalize".
    llvm::DenseSet<OperationName> lowered;
    for (const std::unique_ptr<RewritePattern> &pattern :
         patterns.getNativePatterns())
      if (std::optional<OperationName> root = pattern->getRootKind())
        lowered.insert(*root);
    bool unsupported = false;
    func.walk([&](Operation *op) {
      if (!isa<QuarcDialect>(op->getDialect()) || isa<NoneOp>(op))
        return;
      if (!lowered.contains(op->getName())) {
        op->emitError() << "no lowering to native code for " << describe(op)
                        << " yet (docs/ops.md lists the ops that compile)";
        unsupported = true;
        return;
      }
      for (Type type : llvm::concat<Type>(op->getOperandTypes(),
                                          op->getResultTypes())) {
        auto tensor = dyn_cast<TensorType>(type);
        // Quantized tensors lower in the quantization ops, the integer ops
        // and the ops that pass them through (on the stored values).
        if (tensor && isa<quant::QuantizedType>(tensor.getElementType()) &&
            (isa<QuantizeOp, DequantizeOp, StorageCastOp, QConvOp, QMatMulOp,
                 QMatMulDynamicOp, QMatMulWeightOnlyOp, RequantizeOp, QAddOp, QMulOp, LookupTableOp,
                 QAveragePoolOp>(op) ||
             passesQuantization(op)))
          continue;
        // Constants and storage casts only move bits: unsigned ones lower
        // as their signless storage.
        if (tensor && isa<ConstantOp, StorageCastOp>(op) &&
            isa<IntegerType>(tensor.getElementType()))
          continue;
        if (tensor && !isLowerableElementType(tensor.getElementType())) {
          op->emitError() << describe(op) << " on " << type
                          << ": unsigned and non-numeric element types do not "
                             "lower to native code yet";
          unsupported = true;
          return;
        }
      }
    });
    if (unsupported)
      return signalPassFailure();

    // The function's uint8 inputs and outputs (a quantized model's) are
    // passed as their signless bits; the model's signature, read before
    // lowering, keeps saying uint8.
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(
        patterns, quantizedTypes);
    populateReturnOpTypeConversionPattern(patterns, quantizedTypes);

    ConversionTarget target(*context);
    target.addIllegalDialect<QuarcDialect>();
    target.addLegalOp<NoneOp>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return quantizedTypes.isSignatureLegal(op.getFunctionType());
    });
    target.addDynamicallyLegalOp<func::ReturnOp>([&](func::ReturnOp op) {
      return quantizedTypes.isLegal(op.getOperandTypes());
    });
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    // A pattern that rejects an op reports why; the driver's own "failed to
    // legalize" that follows would only repeat it, so it is dropped.
    bool explained = false;
    ScopedDiagnosticHandler dropRepeats(context, [&](Diagnostic &diag) {
      if (diag.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      if (explained && StringRef(diag.str()).starts_with("failed to legalize"))
        return success();
      explained = true;
      return failure();
    });
    if (failed(applyPartialConversion(func, target, std::move(patterns))))
      return signalPassFailure();

    // Absent optional inputs have no users left.
    func.walk([](NoneOp none) {
      if (none->use_empty())
        none->erase();
    });
  }
};

} // namespace
} // namespace mlir::quarc
