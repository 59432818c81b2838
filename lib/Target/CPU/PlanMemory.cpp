//===- PlanMemory.cpp - one workspace for all temporary buffers ----------===//
//
// Temporary buffers of a model run are allocated and freed in a fixed
// order known at compile time. Allocating them from the system on every
// run costs a page fault per fresh page of every large buffer, and keeps
// more memory than needed resident. This pass does what TFLite's and
// ONNX Runtime's memory planners do: it packs the buffers into one
// workspace by lifetime, so that buffers whose lifetimes do not overlap
// share bytes, and leaves allocating the workspace to the runtime, once.
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCPLANMEMORY
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// The least alignment of a planned buffer (a cache line); the workspace
/// itself is aligned to it by the runtime.
constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t value, int64_t alignment = kAlignment) {
  return (value + alignment - 1) / alignment * alignment;
}

/// A temporary buffer: live from its allocation to its deallocation
/// (positions in the block, inclusive).
struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t bytes;
  int64_t begin, end;
  int64_t offset = 0;

  bool overlapsInTime(const Buffer &other) const {
    return begin <= other.end && other.begin <= end;
  }
};

/// Position in `block` of the last op that uses `alloc` or a view of it,
/// ignoring `dealloc`; nullopt when a view escapes (is returned or passed
/// to a call). The deallocation pipeline frees buffers at the end of the
/// block, not after their last use, so lifetimes come from the uses.
std::optional<int64_t>
lastUse(memref::AllocOp alloc, memref::DeallocOp dealloc, Block &block,
        const DenseMap<Operation *, int64_t> &position) {
  int64_t last = position.lookup(alloc);
  SmallVector<Value> aliases = {alloc.getResult()};
  DenseSet<Value> seen = {alloc.getResult()};
  while (!aliases.empty()) {
    Value alias = aliases.pop_back_val();
    for (Operation *user : alias.getUsers()) {
      if (user == dealloc.getOperation())
        continue;
      // Returned, passed to a call, or yielded out of a region (whose
      // results would alias it): not a temporary we can follow.
      if (isa<func::ReturnOp, func::CallOp>(user) ||
          user->hasTrait<OpTrait::IsTerminator>())
        return std::nullopt;
      Operation *ancestor = block.findAncestorOpInBlock(*user);
      if (!ancestor)
        return std::nullopt;
      last = std::max(last, position.lookup(ancestor));
      // Any buffer an op derives from this one may alias it (views,
      // casts): its uses keep this buffer alive too.
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()) && seen.insert(result).second)
          aliases.push_back(result);
    }
  }
  return last;
}

/// The temporary buffers of `block` that can be planned.
SmallVector<Buffer> collectBuffers(Block &block, const DataLayout &layout) {
  DenseMap<Operation *, int64_t> position;
  DenseMap<Value, memref::DeallocOp> deallocOf;
  int64_t index = 0;
  for (Operation &op : block) {
    position[&op] = index++;
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
      deallocOf[dealloc.getMemref()] = dealloc;
  }
  SmallVector<Buffer> buffers;
  for (auto alloc : block.getOps<memref::AllocOp>()) {
    MemRefType type = alloc.getType();
    auto dealloc = deallocOf.lookup(alloc.getResult());
    if (!dealloc || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
        type.getMemorySpace())
      continue;
    std::optional<int64_t> end = lastUse(alloc, dealloc, block, position);
    if (!end)
      continue;
    int64_t elementBytes = static_cast<int64_t>(
        layout.getTypeSize(type.getElementType()).getFixedValue());
    // The workspace is only guaranteed kAlignment-aligned.
    if (alloc.getAlignment().value_or(kAlignment) > kAlignment)
      continue;
    buffers.push_back({alloc, dealloc, type.getNumElements() * elementBytes,
                       position[alloc], *end});
  }
  return buffers;
}

/// Greedy by size: the largest buffer first, each at the lowest aligned
/// offset where it overlaps no placed buffer that is live at the same time.
/// Returns the workspace size.
int64_t assignOffsets(MutableArrayRef<Buffer> buffers) {
  SmallVector<Buffer *> order;
  for (Buffer &buffer : buffers)
    order.push_back(&buffer);
  llvm::stable_sort(order, [](const Buffer *a, const Buffer *b) {
    return a->bytes > b->bytes;
  });
  SmallVector<Buffer *> placed;
  int64_t total = 0;
  for (Buffer *buffer : order) {
    SmallVector<Buffer *> live;
    for (Buffer *other : placed)
      if (other->overlapsInTime(*buffer))
        live.push_back(other);
    llvm::sort(live, [](const Buffer *a, const Buffer *b) {
      return a->offset < b->offset;
    });
    int64_t candidate = 0;
    for (Buffer *other : live) {
      if (candidate + buffer->bytes <= other->offset)
        break;
      candidate = std::max(candidate, alignUp(other->offset + other->bytes));
    }
    buffer->offset = candidate;
    total = std::max(total, candidate + buffer->bytes);
    placed.push_back(buffer);
  }
  return alignUp(total);
}

struct QuarcPlanMemory : impl::QuarcPlanMemoryBase<QuarcPlanMemory> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>()) {
      // A new argument would break the function's callers: only functions
      // nothing calls (the model's entry) get a workspace.
      if (func.isExternal() || !func.getBody().hasOneBlock() ||
          !SymbolTable::symbolKnownUseEmpty(func, module))
        continue;
      planFunction(func);
    }
  }

  void planFunction(func::FuncOp func) {
    Block &block = func.getBody().front();
    SmallVector<Buffer> buffers =
        collectBuffers(block, DataLayout::closest(func));
    if (buffers.empty())
      return;
    int64_t total = assignOffsets(buffers);
    if (total == 0)
      return;

    MLIRContext *context = &getContext();
    auto workspaceType =
        MemRefType::get({total}, IntegerType::get(context, 8));
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(
            index, workspaceType,
            DictionaryAttr::get(context,
                                {NamedAttribute(StringAttr::get(
                                                    context, kWorkspaceArgAttr),
                                                UnitAttr::get(context))}),
            func.getLoc()))) {
      signalPassFailure();
      return;
    }
    Value workspace = func.getArgument(index);
    func->setAttr(kWorkspaceBytesAttr,
                  IntegerAttr::get(IntegerType::get(context, 64), total));

    for (Buffer &buffer : buffers) {
      OpBuilder b(buffer.alloc);
      Location loc = buffer.alloc.getLoc();
      Value offset = arith::ConstantIndexOp::create(b, loc, buffer.offset);
      Value view = memref::ViewOp::create(b, loc, buffer.alloc.getType(),
                                          workspace, offset, ValueRange{});
      buffer.alloc.getResult().replaceAllUsesWith(view);
      buffer.alloc.erase();
      buffer.dealloc.erase();
    }
  }
};

} // namespace
} // namespace mlir::quarc
