//===- ExternalizeWeights.cpp - large constants into a weights argument ---===//
//
// With `quarc compile --weights=FILE` the model's weights are not compiled
// into the artefact: the runtime maps the weights file read-only and passes
// it to the entry function as one byte buffer, the way quarc-plan-memory's
// workspace is passed. The artefact stays small, and the weights are paged
// in from the file on first use instead of being copied out of it.
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"

#include <cstring>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCEXTERNALIZEWEIGHTS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// The alignment of every constant in the weights (a cache line, and what
/// the vector kernels assume of a global); the runtime aligns the buffer.
constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t value) {
  return (value + kAlignment - 1) / kAlignment * kAlignment;
}

/// Bytes of a constant global that can live in the weights, or nullopt:
/// a static, identity-layout buffer in the default memory space of ints or
/// floats that fill whole bytes (i1 and index have target-dependent
/// storage), with an initial value and no alignment above kAlignment.
std::optional<int64_t> weightBytes(memref::GlobalOp global) {
  if (!global.getConstant() || global.isExternal() ||
      global.getAlignment().value_or(1) > kAlignment)
    return std::nullopt;
  MemRefType type = global.getType();
  Type element = type.getElementType();
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace() || !element.isIntOrFloat() ||
      element.getIntOrFloatBitWidth() % 8 != 0)
    return std::nullopt;
  return type.getNumElements() * (element.getIntOrFloatBitWidth() / 8);
}

/// Writes the bytes of `global`'s initial value (`bytes` of them) to
/// `out`. Fails for an initial value whose data is not at hand (a resource
/// blob that was released, an attribute kind without raw data).
LogicalResult copyInitialValue(memref::GlobalOp global, int64_t bytes,
                               char *out) {
  Attribute init = global.getInitialValueAttr();
  if (auto dense = dyn_cast_or_null<DenseIntOrFPElementsAttr>(init)) {
    ArrayRef<char> raw = dense.getRawData();
    if (dense.isSplat()) {
      if (raw.empty() || bytes % int64_t(raw.size()) != 0)
        return failure();
      for (int64_t at = 0; at < bytes; at += raw.size())
        std::memcpy(out + at, raw.data(), raw.size());
      return success();
    }
    if (int64_t(raw.size()) != bytes)
      return failure();
    std::memcpy(out, raw.data(), bytes);
    return success();
  }
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(init)) {
    // Empty when the blob was released.
    ArrayRef<char> raw = resource.getData();
    if (int64_t(raw.size()) != bytes)
      return failure();
    std::memcpy(out, raw.data(), bytes);
    return success();
  }
  return failure();
}

struct QuarcExternalizeWeights
    : impl::QuarcExternalizeWeightsBase<QuarcExternalizeWeights> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTableCollection symbolTables;
    SymbolUserMap users(symbolTables, module);

    // Globals by the function that uses them, in the order of the module.
    llvm::MapVector<func::FuncOp, SmallVector<memref::GlobalOp>> weights;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      std::optional<int64_t> bytes = weightBytes(global);
      if (!bytes || *bytes < minBytes)
        continue;
      if (func::FuncOp func = soleEntryUser(global, users, module))
        weights[func].push_back(global);
    }
    for (auto &[func, globals] : weights)
      if (failed(externalize(func, globals)))
        return signalPassFailure();
  }

  /// The function all uses of `global` are memref.get_globals in, if that
  /// function gets a new argument safely: nothing calls it and it has a
  /// body. Null otherwise.
  static func::FuncOp soleEntryUser(memref::GlobalOp global,
                                    SymbolUserMap &users, ModuleOp module) {
    func::FuncOp func;
    for (Operation *user : users.getUsers(global)) {
      auto parent = user->getParentOfType<func::FuncOp>();
      if (!isa<memref::GetGlobalOp>(user) || !parent ||
          (func && parent != func))
        return nullptr;
      func = parent;
    }
    if (!func || func.isExternal() ||
        !SymbolTable::symbolKnownUseEmpty(func, module))
      return nullptr;
    return func;
  }

  LogicalResult externalize(func::FuncOp func,
                            ArrayRef<memref::GlobalOp> globals) {
    MLIRContext *context = &getContext();
    // Offsets first, then one buffer of the total size.
    llvm::DenseMap<StringAttr, int64_t> offsets;
    SmallVector<int64_t> sizes;
    int64_t total = 0;
    for (memref::GlobalOp global : globals) {
      int64_t offset = alignUp(total);
      offsets[global.getSymNameAttr()] = offset;
      sizes.push_back(*weightBytes(global));
      total = offset + sizes.back();
    }
    total = alignUp(total);

    AsmResourceBlob blob = HeapAsmResourceBlob::allocate(
        total, kAlignment, /*dataIsMutable=*/true);
    MutableArrayRef<char> data = blob.getMutableData();
    std::memset(data.data(), 0, data.size());
    for (auto [i, global] : llvm::enumerate(globals)) {
      memref::GlobalOp op = global;
      if (failed(copyInitialValue(op, sizes[i],
                                  data.data() + offsets[op.getSymNameAttr()])))
        return op.emitError("cannot read the initial value of this "
                            "constant to move it into the weights");
    }

    auto i8 = IntegerType::get(context, 8);
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(
            index, MemRefType::get({total}, i8),
            DictionaryAttr::get(
                context,
                {NamedAttribute(StringAttr::get(context, kWeightsArgAttr),
                                UnitAttr::get(context))}),
            func.getLoc())))
      return func.emitError("cannot add the weights argument");
    Value buffer = func.getArgument(index);
    func->setAttr(kWeightsBytesAttr,
                  IntegerAttr::get(IntegerType::get(context, 64), total));
    func->setAttr(kWeightsDataAttr, DenseResourceElementsAttr::get(
                                        RankedTensorType::get({total}, i8),
                                        "quarc_weights", std::move(blob)));

    SmallVector<memref::GetGlobalOp> uses;
    func.walk([&](memref::GetGlobalOp use) {
      if (offsets.count(use.getNameAttr().getAttr()))
        uses.push_back(use);
    });
    for (memref::GetGlobalOp use : uses) {
      OpBuilder b(use);
      Location loc = use.getLoc();
      Value offset = arith::ConstantIndexOp::create(
          b, loc, offsets.lookup(use.getNameAttr().getAttr()));
      Value view = memref::ViewOp::create(b, loc, use.getType(), buffer, offset,
                                          ValueRange{});
      use.getResult().replaceAllUsesWith(view);
      use.erase();
    }
    for (memref::GlobalOp global : globals)
      global.erase();
    return success();
  }
};

} // namespace
} // namespace mlir::quarc
