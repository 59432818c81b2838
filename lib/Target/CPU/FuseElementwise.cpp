//===- FuseElementwise.cpp - elementwise fusion that spares contractions --===//
//
// Upstream's elementwise fusion fuses any single-use elementwise producer
// into its consumer. When the consumer is a matmul, e.g. LayerNorm's
// scale-and-shift feeding a MatMul, the fused generic recomputes the
// producer inside the k loop and is no longer a plain multiply-add that
// the matmul microkernel can take. The producer is better left as its own
// (cheap, vectorized) loop.
//
//===----------------------------------------------------------------------===//

#include "TableLookup.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCFUSEELEMENTWISE
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

bool isContraction(Operation *op) {
  auto linalgOp = dyn_cast_if_present<linalg::LinalgOp>(op);
  return linalgOp && linalg::isaContractionOpInterface(linalgOp);
}

/// Whether `op` looks values up in a table (`tensor.extract`, as
/// quarc.lut lowers): a gather per element.
bool looksUp(Operation *op) {
  auto generic = dyn_cast_if_present<linalg::GenericOp>(op);
  return generic && !generic.getRegion().getOps<tensor::ExtractOp>().empty();
}

/// Whether the generic only copies one of its operands (a broadcast, an
/// upsampling, a transpose): its body yields a block argument.
bool onlyCopies(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  return body->getOperations().size() == 1 &&
         isa<BlockArgument>(body->getTerminator()->getOperand(0));
}

/// Whether a producer fused into the owner of `operand` would be recomputed
/// for every value of the owner's loops that the operand's map leaves out,
/// where that costs more than the stored result it saves:
///
/// - under a reduction: an integer matrix product's generic (whose body
///   subtracts zero points, so it is no contraction to upstream) reads
///   A[m, k] at every n, and a fused quantization of A would run N times
///   per element instead of once;
/// - when the producer looks values up in a table (quarc.lut): a gather
///   per element keeps the consumer's loop from vectorizing (a
///   squeeze-and-excitation block's per-channel gate, fused into the
///   product with the whole feature map);
/// - when the consumer only copies it out broadcast (a nearest upsampling):
///   the copy saves nothing, and a requantization fused into a 2x
///   upsampling ran four times per element, in a loop over the two copies
///   that LLVM left scalar (PP-OCR det int8: 5% of its time).
///
/// Other elementwise consumers take a broadcast producer in: what it
/// computes from the operand's own dims alone, LLVM hoists out of the
/// loops it does not depend on (FP32 det: 15% slower without).
bool wouldRecompute(OpOperand *operand) {
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  if (!consumer)
    return false;
  if (consumer.getNumReductionLoops() == 0 &&
      !looksUp(operand->get().getDefiningOp()) && !onlyCopies(consumer))
    return false;
  AffineMap map = consumer.getMatchingIndexingMap(operand);
  llvm::SmallBitVector used(consumer.getNumLoops());
  for (AffineExpr result : map.getResults())
    result.walk([&](AffineExpr expr) {
      if (auto dim = dyn_cast<AffineDimExpr>(expr))
        used.set(dim.getPosition());
    });
  return !used.all();
}

/// Whether `op` is a lookup in a byte table (quarc.lut) that
/// quarc-vectorize-table-lookups looks up a register at a time, as long
/// as it stays alone: with a producer or consumer fused in, it would be a
/// loop with a byte gather, which runs one byte at a time.
bool isTableLookup(Operation *op) {
  auto generic = dyn_cast_if_present<linalg::GenericOp>(op);
  return generic && matchTableLookup(generic).has_value();
}

bool hasReductions(Operation *op) {
  auto linalgOp = dyn_cast_if_present<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.getNumReductionLoops() != 0;
}

/// Whether `op` reads the result of a reduction (a convolution's or matrix
/// product's accumulators), directly or through reshapes.
bool readsReductionResult(Operation *op) {
  return llvm::any_of(op->getOperands(), [](Value value) {
    while (isa_and_present<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
        value.getDefiningOp()))
      value = value.getDefiningOp()->getOperand(0);
    return hasReductions(value.getDefiningOp());
  });
}

/// Whether fusing `producer` into `consumer` would move a kernel's output
/// stage (the requantization reading its accumulators) past other kernels.
/// The kernel generators fuse the op right after a product into it; moved,
/// the product stores its i32 accumulators and the fused op reads them
/// back. (A residual add reads two convolutions' requantized outputs: the
/// one computed right before it fuses, the shortcut's, computed earlier,
/// does not.)
bool separatesFromKernel(Operation *producer, Operation *consumer) {
  if (producer->getBlock() != consumer->getBlock() ||
      !readsReductionResult(producer))
    return false;
  for (Operation *op = producer->getNextNode(); op && op != consumer;
       op = op->getNextNode())
    if (hasReductions(op))
      return true;
  return false;
}

/// Neither fuses into a contraction nor reshapes one (reshape propagation
/// would split its m or n dim, leaving the microkernel short rows), nor
/// where the consumer would recompute the producer, nor a kernel's output
/// stage past other kernels, nor into or out of a byte table lookup.
bool shouldFuse(OpOperand *fusedOperand) {
  Operation *producer = fusedOperand->get().getDefiningOp();
  Operation *consumer = fusedOperand->getOwner();
  if (!producer || !producer->hasOneUse())
    return false;
  return !isContraction(producer) && !isContraction(consumer) &&
         !separatesFromKernel(producer, consumer) &&
         !wouldRecompute(fusedOperand) && !isTableLookup(producer) &&
         !isTableLookup(consumer);
}

struct QuarcFuseElementwise
    : impl::QuarcFuseElementwiseBase<QuarcFuseElementwise> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, shouldFuse);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, shouldFuse);

    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::quarc
