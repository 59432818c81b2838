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

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

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
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
} // namespace mlir::quarc
