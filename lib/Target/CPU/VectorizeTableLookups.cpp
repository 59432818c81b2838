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

/// The buffer as [outer, inner] rows (or one row [inner]) with a static,
/// contiguous inner dim: all dims merged when static, the trailing ones
/// when only the first (a batch) is dynamic. Null when neither fits.
Value viewAsRows(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t rank = type.getRank();
  if (rank == 0 || !type.areTrailingDimsContiguous(rank))
    return nullptr;
  SmallVector<ReassociationIndices> groups;
  if (type.hasStaticShape()) {
    groups.push_back(llvm::to_vector(llvm::seq<int64_t>(0, rank)));
  } else {
    if (rank == 1 || llvm::any_of(type.getShape().drop_front(),
                                  ShapedType::isDynamic))
      return nullptr;
    groups.push_back({0});
    groups.push_back(llvm::to_vector(llvm::seq<int64_t>(1, rank)));
  }
  if (rank == 1)
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
                     auto full = VectorType::get({lanes}, cb.getI8Type());
                     auto part = VectorType::get({size}, cb.getI8Type());
                     Value bytes =
                         vector::LoadOp::create(cb, ploc, part, input, at);
                     if (size < lanes)
                       bytes = vector::InsertStridedSliceOp::create(
                           cb, ploc, bytes,
                           arith::ConstantOp::create(
                               cb, ploc, DenseElementsAttr::get(
                                             full, cb.getI8IntegerAttr(0))),
                           /*offsets=*/ArrayRef<int64_t>{0},
                           /*strides=*/ArrayRef<int64_t>{1});
                     Value looked =
                         buildByteTableLookup(cb, ploc, target, table, bytes);
                     if (size < lanes)
                       looked = vector::ExtractStridedSliceOp::create(
                           cb, ploc, looked, ArrayRef<int64_t>{0},
                           ArrayRef<int64_t>{size}, ArrayRef<int64_t>{1});
                     vector::StoreOp::create(cb, ploc, looked, output, at);
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
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value input = viewAsRows(b, loc, op.getDpsInputs()[0]);
      Value output = viewAsRows(b, loc, op.getDpsInits()[0]);
      if (!input || !output ||
          cast<MemRefType>(input.getType()).getShape() !=
              cast<MemRefType>(output.getType()).getShape()) {
        // A layout this pass does not take: the generic stays, scalar.
        for (Value view : {input, output})
          if (view && view.getDefiningOp<memref::CollapseShapeOp>())
            view.getDefiningOp()->erase();
        continue;
      }
      buildLookupLoop(b, loc, parsed, table, input, output);
      op.erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
