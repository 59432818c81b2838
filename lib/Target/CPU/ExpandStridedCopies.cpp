//===- ExpandStridedCopies.cpp - strided memref.copy as loops -------------===//
//
// finalize-memref-to-llvm turns a copy between contiguous buffers into
// memcpy and any other copy into a call to the runtime's memrefCopy, which
// is generic over rank and layout and therefore slow (an index computation
// per element). Padding a tensor copies it into the interior of a larger
// buffer, a strided view, once per padded convolution input: that copy
// must run at memory speed.
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCEXPANDSTRIDEDCOPIES
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// Static except perhaps the first dim (a dynamic batch): the inner loops,
/// which the vectorizer takes, have constant bounds and strides.
bool hasStaticInnerDims(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getRank() > 0 &&
         llvm::none_of(type.getShape().drop_front(), ShapedType::isDynamic);
}

bool isContiguous(Value value) {
  auto type = cast<MemRefType>(value.getType());
  return type.areTrailingDimsContiguous(type.getRank());
}

/// Rows up to this many elements are copied as one vector each.
constexpr int64_t kMaxVectorRow = 1024;

/// The copy as a parallel loop over its rows, each row one vector load and
/// one store, when both sides have contiguous rows of a static size: the
/// padded input of a convolution on a 14 x 14 or 7 x 7 map has rows of 14
/// or 7 bytes, which LLVM unrolled into one scalar move per byte instead of
/// vectorizing the loop.
bool copyByRows(OpBuilder &b, memref::CopyOp copy) {
  Value source = copy.getSource(), target = copy.getTarget();
  auto type = cast<MemRefType>(source.getType());
  int64_t rank = type.getRank();
  int64_t width = type.getShape().back();
  Type element = type.getElementType();
  if (rank < 2 || ShapedType::isDynamic(width) || width > kMaxVectorRow ||
      !element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8 != 0 ||
      !type.isLastDimUnitStride() ||
      !cast<MemRefType>(target.getType()).isLastDimUnitStride())
    return false;
  Location loc = copy.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> lower(rank - 1, zero), steps(rank - 1, one);
  SmallVector<Value> upper = getValueOrCreateConstantIndexOp(
      b, loc, ArrayRef(memref::getMixedSizes(b, loc, source)).drop_back());
  auto rowType = VectorType::get({width}, element);
  scf::ParallelOp::create(
      b, loc, lower, upper, steps,
      [&](OpBuilder &pb, Location ploc, ValueRange ivs) {
        SmallVector<Value> at(ivs.begin(), ivs.end());
        at.push_back(zero);
        Value row = vector::LoadOp::create(pb, ploc, rowType, source, at);
        vector::StoreOp::create(pb, ploc, row, target, at);
      });
  return true;
}

struct QuarcExpandStridedCopies
    : impl::QuarcExpandStridedCopiesBase<QuarcExpandStridedCopies> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      Value source = copy.getSource(), target = copy.getTarget();
      if (hasStaticInnerDims(source) && hasStaticInnerDims(target) &&
          !(isContiguous(source) && isContiguous(target)))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      if (!copyByRows(b, copy))
        linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
} // namespace mlir::quarc
