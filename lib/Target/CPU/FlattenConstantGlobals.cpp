//===- FlattenConstantGlobals.cpp - weights as one-dimensional globals ----===//
//
// A constant memref.global of rank > 1 becomes, in the LLVM dialect, an array
// of arrays, and LLVM builds its initializer as one ConstantArray per inner
// row: for ResNet-50's 25M weights, millions of uniqued constants that take
// about 50 s to build, emit and free. A one-dimensional global is a single
// ConstantDataArray made from the raw bytes. So every such global becomes
// 1-D, and its uses read it through a memref.expand_shape back to the shape
// they had (the layout is the same row-major one, so this is a view).
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCFLATTENCONSTANTGLOBALS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// `value` with the 1-D shape of `type`, or null where it cannot be
/// reshaped without copying its elements.
ElementsAttr flatten(ElementsAttr value, RankedTensorType type) {
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    return dense.reshape(type);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    return DenseResourceElementsAttr::get(type, resource.getRawHandle());
  return nullptr;
}

struct QuarcFlattenConstantGlobals
    : impl::QuarcFlattenConstantGlobalsBase<QuarcFlattenConstantGlobals> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    DenseMap<StringAttr, memref::GlobalOp> flattened;
    DenseMap<StringAttr, MemRefType> originalTypes;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      MemRefType type = global.getType();
      auto value =
          dyn_cast_if_present<ElementsAttr>(global.getInitialValueAttr());
      if (!global.getConstant() || !value || type.getRank() < 2 ||
          !type.hasStaticShape() || !type.getLayout().isIdentity())
        continue;
      int64_t count = type.getNumElements();
      auto flatValue = flatten(
          value, RankedTensorType::get({count}, type.getElementType()));
      if (!flatValue)
        continue;
      global.setType(MemRefType::get({count}, type.getElementType(), nullptr,
                                     type.getMemorySpace()));
      global.setInitialValueAttr(flatValue);
      flattened[global.getSymNameAttr()] = global;
      originalTypes[global.getSymNameAttr()] = type;
    }
    module.walk([&](memref::GetGlobalOp get) {
      auto it = originalTypes.find(get.getNameAttr().getAttr());
      if (it == originalTypes.end())
        return;
      MemRefType shaped = it->second;
      OpBuilder b(get);
      b.setInsertionPointAfter(get);
      get.getResult().setType(flattened[get.getNameAttr().getAttr()].getType());
      SmallVector<ReassociationIndices> all(1);
      for (int64_t dim = 0; dim < shaped.getRank(); ++dim)
        all.front().push_back(dim);
      auto view = memref::ExpandShapeOp::create(b, get.getLoc(), shaped,
                                                get.getResult(), all);
      get.getResult().replaceAllUsesExcept(view.getResult(), view);
    });
  }
};

} // namespace
} // namespace mlir::quarc
