//===- VectorizeTableLookups.cpp - 8-bit tables as byte shuffles ----------===//
//
// quarc.lut lowers to an elementwise generic whose body reads a constant
// table at the input byte: LLVM cannot vectorize that load (there is no
// byte gather), so it ran one byte at a time, a tenth of PP-OCR det's int8
// time. Here the generic becomes a loop over whole registers of bytes, each
// looked up with the target's byte shuffles (TableLookup.h).
//
//===----------------------------------------------------------------------===//

#include "TableLookup.h"
#include "VectorCodegen.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCVECTORIZETABLELOOKUPS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// A lookup over this many bytes in all runs on the runtime's threads (the
/// element count from which quarc-parallelize-loops splits an ordinary
/// elementwise loop).
constexpr int64_t kParallelBytes = 32768;

/// How the buffer is viewed as [outer, inner] rows (or one row [inner])
/// with a static, contiguous inner dim: all dims merged when static, the
/// trailing ones when only the first (a batch) is dynamic; nullopt when
/// neither fits.
std::optional<SmallVector<ReassociationIndices>> getRowGroups(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t rank = type.getRank();
  if (rank == 0 || !type.areTrailingDimsContiguous(rank))
    return std::nullopt;
  if (type.hasStaticShape())
    return SmallVector<ReassociationIndices>{
        llvm::to_vector(llvm::seq<int64_t>(0, rank))};
  if (rank == 1 ||
      llvm::any_of(type.getShape().drop_front(), ShapedType::isDynamic))
    return std::nullopt;
  return SmallVector<ReassociationIndices>{
      {0}, llvm::to_vector(llvm::seq<int64_t>(1, rank))};
}

/// The buffer viewed through its row groups (itself if already 1-D).
Value viewAsRows(OpBuilder &b, Location loc, Value buffer,
                 ArrayRef<ReassociationIndices> groups) {
  if (cast<MemRefType>(buffer.getType()).getRank() == 1)
    return buffer;
  return memref::CollapseShapeOp::create(b, loc, buffer, groups);
}

/// A parallel loop over the rows (if any) and the row's chunks of `lanes`
/// bytes, each chunk loaded, looked up and stored; the last chunk of a row
/// may be smaller (loaded at its size and widened for the lookup).
void buildLookupLoop(OpBuilder &b, Location loc, const TargetInfo &target,
                     const ByteTable &table, Value input, Value output) {
  auto rows = cast<MemRefType>(input.getType());
  bool hasOuter = rows.getRank() == 2;
  int64_t inner = rows.getShape().back();
  int64_t lanes = byteTableLookupLanes(target);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> lower, upper, steps;
  if (hasOuter) {
    lower.push_back(zero);
    upper.push_back(memref::DimOp::create(b, loc, input, 0));
    steps.push_back(one);
  }
  lower.push_back(zero);
  upper.push_back(
      arith::ConstantIndexOp::create(b, loc, llvm::divideCeil(inner, lanes)));
  steps.push_back(one);
  auto loop = scf::ParallelOp::create(
      b, loc, lower, upper, steps,
      [&](OpBuilder &pb, Location ploc, ValueRange ivs) {
        forChunkAt(pb, ploc, ivs.back(), inner, lanes,
                   [&](OpBuilder &cb, Value start, int64_t size) {
                     SmallVector<Value> at(ivs.drop_back());
                     at.push_back(start);
                     Value bytes = vector::LoadOp::create(
                         cb, ploc, VectorType::get({size}, cb.getI8Type()),
                         input, at);
                     Value looked = buildByteTableLookup(
                         cb, ploc, target, table,
                         widenWithZeros(cb, ploc, bytes, lanes));
                     vector::StoreOp::create(
                         cb, ploc, leadingLanes(cb, ploc, looked, size), output,
                         at);
                   });
      });
  int64_t outer = hasOuter ? rows.getShape()[0] : 1;
  if (ShapedType::isDynamic(outer) || outer * inner >= kParallelBytes)
    markKernelLoop(loop);
}

struct QuarcVectorizeTableLookups
    : impl::QuarcVectorizeTableLookupsBase<QuarcVectorizeTableLookups> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    std::vector<std::pair<linalg::GenericOp, ByteTable>> lookups;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!op.hasPureBufferSemantics())
        return;
      if (std::optional<ByteTable> table = matchTableLookup(op))
        lookups.emplace_back(op, *table);
    });
    for (auto &[op, table] : lookups) {
      // Both buffers have the same shape (matchTableLookup), so the same
      // groups when both are contiguous; otherwise the generic stays, scalar.
      Value input = op.getDpsInputs()[0], output = op.getDpsInits()[0];
      std::optional<SmallVector<ReassociationIndices>> groups =
          getRowGroups(input);
      if (!groups || !getRowGroups(output))
        continue;
      OpBuilder b(op);
      Location loc = op.getLoc();
      buildLookupLoop(b, loc, parsed, table,
                      viewAsRows(b, loc, input, *groups),
                      viewAsRows(b, loc, output, *groups));
      op.erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
