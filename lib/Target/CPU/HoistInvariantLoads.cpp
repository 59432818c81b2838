//===- HoistInvariantLoads.cpp - broadcast loads out of innermost loops ----===//
//
// See quarc-hoist-invariant-loads in Passes.td: an elementwise loop nest
// that reads a broadcast operand at an address that does not change along
// the innermost loop is split so that the read happens once per row, which
// lets LLVM vectorize the innermost loop. The transformation is only made
// when the loaded buffer provably does not overlap a stored one.
//
//===----------------------------------------------------------------------===//

#include "VectorCodegen.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCHOISTINVARIANTLOADS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

struct QuarcHoistInvariantLoads
    : impl::QuarcHoistInvariantLoadsBase<QuarcHoistInvariantLoads> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
    for (scf::ParallelOp loop : loops)
      hoist(loop);
  }

  /// The loads of `loop` that can be read once per row, if the loop's
  /// other memory accesses allow moving them.
  SmallVector<memref::LoadOp> findInvariantLoads(scf::ParallelOp loop) {
    Region &region = loop.getRegion();
    Value innermost = loop.getInductionVars().back();
    auto definedOutside = [&](Value value) {
      return !region.isAncestor(value.getParentRegion());
    };
    // Row indices: the other loop dims, or values from outside the loop.
    auto isRowIndex = [&](Value index) {
      return definedOutside(index) ||
             (index != innermost &&
              llvm::is_contained(loop.getInductionVars(), index));
    };
    SmallVector<memref::LoadOp> invariant;
    SmallVector<Value> stored;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (auto load = dyn_cast<memref::LoadOp>(op)) {
        if (definedOutside(load.getMemRef()) &&
            llvm::all_of(load.getIndices(), isRowIndex))
          invariant.push_back(load);
      } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
        stored.push_back(store.getMemRef());
      } else if (op.getNumRegions() != 0 || !isMemoryEffectFree(&op)) {
        return {}; // a nested loop, a call: not an elementwise loop
      }
    }
    llvm::erase_if(invariant, [&](memref::LoadOp load) {
      return llvm::any_of(stored, [&](Value buffer) {
        return !buffersProvablyDisjoint(load.getMemRef(), buffer);
      });
    });
    return invariant;
  }

  void hoist(scf::ParallelOp loop) {
    if (loop.getNumResults() != 0 || loop->hasAttr(kKernelLoopAttr) ||
        !loop.getBody()->getTerminator()->getOperands().empty())
      return;
    SmallVector<memref::LoadOp> loads = findInvariantLoads(loop);
    if (loads.empty())
      return;
    unsigned last = loop.getNumLoops() - 1;
    OpBuilder b(loop);
    Location loc = loop.getLoc();
    if (last == 0) {
      // One loop: the loads go before it, if it runs at least once.
      std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound()[0]),
                             upper = getConstantIntValue(loop.getUpperBound()[0]);
      if (!lower || !upper || *upper <= *lower)
        return;
      for (memref::LoadOp load : loads)
        load->moveBefore(loop);
      return;
    }
    // Several: scf.parallel over all but the last dim, the loads, then
    // scf.for over the last.
    auto outer = scf::ParallelOp::create(
        b, loc, loop.getLowerBound().drop_back(), loop.getUpperBound().drop_back(),
        loop.getStep().drop_back());
    for (NamedAttribute attribute : loop->getDiscardableAttrs())
      outer->setAttr(attribute.getName(), attribute.getValue());
    b.setInsertionPointToStart(outer.getBody());
    IRMapping mapping;
    for (unsigned d = 0; d < last; ++d)
      mapping.map(loop.getInductionVars()[d], outer.getInductionVars()[d]);
    for (memref::LoadOp load : loads)
      mapping.map(load.getResult(), b.clone(*load, mapping)->getResult(0));
    auto inner = scf::ForOp::create(b, loc, loop.getLowerBound()[last],
                                    loop.getUpperBound()[last],
                                    loop.getStep()[last]);
    mapping.map(loop.getInductionVars()[last], inner.getInductionVar());
    b.setInsertionPoint(inner.getBody()->getTerminator());
    for (Operation &op : loop.getBody()->without_terminator())
      if (!llvm::is_contained(loads, dyn_cast<memref::LoadOp>(&op)))
        b.clone(op, mapping);
    loop.erase();
  }
};

} // namespace
} // namespace mlir::quarc
