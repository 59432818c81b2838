//===- MatmulFusion.cpp - the ops around a matmul kernel, fused into it ---===//

#include "MatmulFusion.h"
#include "VectorCodegen.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::quarc {

namespace {

/// Scalars the epilogue can hold in vectors and move through memory as
/// vectors: whole bytes (a vector of i1 is stored as bits, one byte per 8
/// elements, where scalar code stores a byte per element).
bool isByteScalar(Type type) {
  return type.isIntOrFloat() && type.getIntOrFloatBitWidth() % 8 == 0;
}

bool isContiguous(Value value, ArrayRef<int64_t> shape) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getShape() == shape && type.getLayout().isIdentity();
}

Type getElementType(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getElementType();
}

/// Whether `map` reads a buffer of `shape` at the consumer's own position:
/// result i is dim i, or 0 where the dim has size 1.
bool isFullAccess(AffineMap map, ArrayRef<int64_t> shape) {
  if (map.getNumResults() != shape.size() || map.getNumDims() != shape.size())
    return false;
  for (auto [i, expr] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (dim.getPosition() != i)
        return false;
    } else if (auto constant = dyn_cast<AffineConstantExpr>(expr)) {
      if (constant.getValue() != 0 || shape[i] != 1)
        return false;
    } else {
      return false;
    }
  }
  return true;
}

/// Whether `value` is available before `op`: a block argument, defined
/// earlier in `op`'s block, or in an enclosing one.
bool isDefinedBefore(Value value, Operation *op) {
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != op->getBlock())
    return true;
  return def->isBeforeInBlock(op);
}

/// Whether `value` is available before `op`, or computed only from such
/// values by ops in `movable` (allocations, views and size queries, which
/// read no element): those are added to `toMove`, each after the ops it
/// uses.
bool collectHoistable(Value value, Operation *op, ArrayRef<Operation *> movable,
                      SmallVectorImpl<Operation *> &toMove) {
  if (isDefinedBefore(value, op))
    return true;
  Operation *def = value.getDefiningOp();
  if (!llvm::is_contained(movable, def) ||
      !isa<ViewLikeOpInterface, memref::AllocOp, memref::DimOp>(def))
    return false;
  for (Value operand : def->getOperands())
    if (!collectHoistable(operand, op, movable, toMove))
      return false;
  if (!llvm::is_contained(toMove, def))
    toMove.push_back(def);
  return true;
}

/// Every user of `value`, looking through views of it.
void collectUsers(Value value, SmallVectorImpl<Operation *> &users) {
  for (Operation *user : value.getUsers()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(user);
        view && view.getViewSource() == value) {
      for (Value result : user->getResults())
        collectUsers(result, users);
      continue;
    }
    users.push_back(user);
  }
}

/// Whether `value` is `source` or a reshape of it (a chain of collapse_shape
/// and expand_shape): all of its elements, in the same order.
bool isReshapeOf(Value value, Value source) {
  while (value != source) {
    Operation *def = value.getDefiningOp();
    if (!isa_and_nonnull<memref::CollapseShapeOp, memref::ExpandShapeOp>(def))
      return false;
    value = def->getOperand(0);
  }
  return true;
}

/// The buffer that `value` is a reshape of (a chain of collapse_shape and
/// expand_shape), or `value` itself.
Value getReshapeSource(Value value) {
  while (isa_and_nonnull<memref::CollapseShapeOp, memref::ExpandShapeOp>(
      value.getDefiningOp()))
    value = value.getDefiningOp()->getOperand(0);
  return value;
}

/// Whether `op` writes every element of the buffer `root` without reading
/// any: a linalg op of parallel loops that has `root` whole as an init only,
/// written at a permutation of its loops, and whose body does not use the
/// init's old value (a fill, a broadcast of a bias).
bool overwritesWholeBuffer(Operation *op, Value root) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureBufferSemantics() ||
      linalgOp.getNumParallelLoops() != linalgOp.getNumLoops())
    return false;
  bool written = false;
  for (OpOperand &operand : op->getOpOperands()) {
    if (getRootBuffer(operand.get()) != root)
      continue;
    if (!linalgOp.isDpsInit(&operand) ||
        linalgOp.payloadUsesValueFromOperand(&operand) ||
        !isReshapeOf(operand.get(), root) ||
        !linalgOp.getMatchingIndexingMap(&operand).isPermutation())
      return false;
    written = true;
  }
  return written;
}

/// Whether anything after `contraction` other than `consumer`,
/// deallocations and size queries reads the value the contraction leaves in
/// `root`: its first later user reads it, unless that user overwrites the whole
/// buffer first (the next layer to which the memory plan gave the same buffer
/// initializes it with its bias).
bool isReadLater(Value root, Operation *contraction, Operation *consumer) {
  Block *block = contraction->getBlock();
  SmallVector<Operation *> users;
  collectUsers(root, users);
  Operation *first = nullptr; // the earliest later user's op in `block`
  bool firstIsWhole = true;   // all users in `first` are `first` itself
  for (Operation *user : users) {
    // A size query (a dynamic batch's) reads no element.
    if (user == contraction || user == consumer ||
        isa<memref::DeallocOp, memref::DimOp>(user))
      continue;
    Operation *inBlock = block->findAncestorOpInBlock(*user);
    if (!inBlock)
      return true;
    if (inBlock->isBeforeInBlock(contraction))
      continue;
    if (!first || inBlock->isBeforeInBlock(first)) {
      first = inBlock;
      firstIsWhole = user == inBlock;
    } else if (inBlock == first) {
      firstIsWhole &= user == inBlock;
    }
  }
  return first && !(firstIsWhole && overwritesWholeBuffer(first, root));
}

/// Erases the views of `value` that nothing uses (and views of those).
void eraseUnusedViews(Value value) {
  for (Operation *user : llvm::make_early_inc_range(value.getUsers())) {
    auto view = dyn_cast<ViewLikeOpInterface>(user);
    if (!view || view.getViewSource() != value)
      continue;
    for (Value result : user->getResults())
      eraseUnusedViews(result);
    if (user->use_empty())
      user->erase();
  }
}

/// A buffer with the identity layout (contiguous, row-major), static but
/// perhaps for its first dim (a dynamic batch).
bool isContiguousStaticButBatch(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getRank() > 0 && type.getLayout().isIdentity() &&
         llvm::none_of(type.getShape().drop_front(), ShapedType::isDynamic);
}

/// The row-major strides of `shape` (static but perhaps for its first dim,
/// whose stride is the same either way).
SmallVector<int64_t> getRowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// How `out` is indexed, as seen by an op that uses `seen`: `out` itself,
/// or a buffer of which `out` is a reshaped view (collapses and expansions
/// of the same contiguous elements, e.g. a convolution's grouped
/// accumulators seen without their unit group dim, or a pointwise one's
/// pixels as one row).
std::optional<ResultIndexing> getResultIndexing(Value out, AffineMap outMap,
                                                unsigned n, Value seen) {
  ResultIndexing indexing{out, outMap, n, out, false, {}, {}};
  if (seen == out)
    return indexing;
  // One collapse (dynamic dims allowed): a root dim maps to its group, if
  // it is the group's only dim larger than 1.
  if (auto collapse = out.getDefiningOp<memref::CollapseShapeOp>();
      collapse && collapse.getSrc() == seen) {
    ArrayRef<int64_t> shape = cast<MemRefType>(seen.getType()).getShape();
    indexing.root = seen;
    indexing.reshaped = true;
    indexing.reassociation = collapse.getReassociationIndices();
    indexing.rootToOut.resize(shape.size());
    for (auto [group, indices] : llvm::enumerate(indexing.reassociation))
      if (llvm::count_if(indices, [&](int64_t d) { return shape[d] != 1; }) <= 1)
        for (int64_t d : indices)
          if (shape[d] != 1)
            indexing.rootToOut[d] = group;
    return indexing;
  }
  // Only reshapes between `seen` and `out`, or both reshapes of one buffer
  // (with a dynamic batch, the views of a buffer are not folded into one
  // another). A dynamic batch must be the first dim of both, the same
  // elements per batch after it (the reshapes keep it whole: a dim of one
  // element's worth of each batch).
  if (getReshapeSource(out) != getReshapeSource(seen) ||
      !isContiguousStaticButBatch(seen) || !isContiguousStaticButBatch(out))
    return std::nullopt;
  ArrayRef<int64_t> rootShape = cast<MemRefType>(seen.getType()).getShape();
  ArrayRef<int64_t> outShape = cast<MemRefType>(out.getType()).getShape();
  bool dynamicBatch = ShapedType::isDynamic(rootShape.front());
  if (dynamicBatch != ShapedType::isDynamic(outShape.front()) ||
      (dynamicBatch && (rootShape.size() < 2 || outShape.size() < 2)) ||
      (dynamicBatch && ShapedType::getNumElements(rootShape.drop_front()) !=
                           ShapedType::getNumElements(outShape.drop_front())))
    return std::nullopt;
  SmallVector<int64_t> rootStrides = getRowMajorStrides(rootShape);
  SmallVector<int64_t> outStrides = getRowMajorStrides(outShape);
  indexing.root = seen;
  indexing.reshaped = true;
  for (auto [d, size, stride] : llvm::enumerate(rootShape, rootStrides)) {
    std::optional<unsigned> match;
    if (d == 0 && dynamicBatch)
      match = 0;
    else if (size != 1)
      for (unsigned o = 0; o < outShape.size(); ++o)
        if (outShape[o] == size && outStrides[o] == stride &&
            !(o == 0 && dynamicBatch))
          match = o;
    indexing.rootToOut.push_back(match);
  }
  return indexing;
}

/// The root buffers an op reads or writes, or nullopt where that cannot be
/// told (regions other than a linalg op's body, calls).
std::optional<SmallVector<Value>> getAccessedRoots(Operation *op) {
  if ((op->getNumRegions() != 0 && !isa<linalg::LinalgOp>(op)) ||
      isa<CallOpInterface>(op))
    return std::nullopt;
  SmallVector<Value> roots;
  // A size query (a dynamic batch's) reads no element.
  if (isa<memref::DimOp>(op))
    return roots;
  for (Value operand : op->getOperands())
    if (isa<MemRefType>(operand.getType()))
      roots.push_back(getRootBuffer(operand));
  return roots;
}

} // namespace

std::optional<SmallVector<std::optional<unsigned>>>
ResultIndexing::getBroadcastDims(AffineMap map) const {
  SmallVector<std::optional<unsigned>> dims;
  for (AffineExpr expr : map.getResults()) {
    if (auto constant = dyn_cast<AffineConstantExpr>(expr)) {
      if (constant.getValue() != 0)
        return std::nullopt;
      dims.push_back(std::nullopt);
      continue;
    }
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return std::nullopt;
    // root dim -> dim of `out` -> loop dim. A root dim of size 1 reads
    // index 0; any other must walk the same elements as a dim of `out`
    // (not one merged with others).
    int64_t outDim = dim.getPosition();
    if (reshaped) {
      ArrayRef<int64_t> shape = cast<MemRefType>(root.getType()).getShape();
      if (shape[dim.getPosition()] == 1) {
        dims.push_back(std::nullopt);
        continue;
      }
      if (!rootToOut[dim.getPosition()])
        return std::nullopt;
      outDim = *rootToOut[dim.getPosition()];
    }
    auto loopDim = dyn_cast<AffineDimExpr>(outMap.getResult(outDim));
    if (!loopDim || loopDim.getPosition() == n)
      return std::nullopt;
    dims.push_back(loopDim.getPosition());
  }
  return dims;
}

SmallVector<Value>
ResultIndexing::getBroadcastIndices(OpBuilder &b, Location loc,
                                    ArrayRef<std::optional<unsigned>> dims,
                                    ArrayRef<Value> ivs) {
  SmallVector<Value> result;
  for (std::optional<unsigned> dim : dims)
    result.push_back(dim ? ivs[*dim]
                         : arith::ConstantIndexOp::create(b, loc, 0));
  return result;
}

SmallVector<Value> ResultIndexing::getResultIndices(OpBuilder &b, Location loc,
                                                    ArrayRef<Value> ivs) const {
  SmallVector<Value> result;
  for (AffineExpr expr : outMap.getResults())
    result.push_back(affine::expandAffineExpr(b, loc, expr, ivs, ValueRange{}));
  return result;
}

//===----------------------------------------------------------------------===//
// Prologue
//===----------------------------------------------------------------------===//

/// A fill on buffers: the value it writes everywhere and the buffer. Either
/// a linalg.fill or a generic written as one (a zero bias folded away): no
/// input, one output written whole (all loops parallel, its map the
/// identity), and a body that yields a value defined outside it.
static std::optional<std::pair<Value, Value>> matchFill(Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    if (!fill.hasPureBufferSemantics())
      return std::nullopt;
    return std::make_pair(fill.getInputs()[0], fill.getOutputs()[0]);
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInputs() != 0 || generic.getNumDpsInits() != 1 ||
      generic.getNumReductionLoops() != 0 ||
      !generic.getIndexingMapsArray()[0].isIdentity())
    return std::nullopt;
  Value yielded =
      cast<linalg::YieldOp>(generic.getBody()->getTerminator()).getOperand(0);
  if (yielded.getParentRegion() == &generic.getRegion())
    return std::nullopt;
  return std::make_pair(yielded, generic.getDpsInits()[0]);
}

std::optional<MatmulPrologue> MatmulPrologue::match(Operation *contraction,
                                                    Value out,
                                                    AffineMap outMap,
                                                    unsigned n) {
  Value outRoot = getRootBuffer(out);
  // The ops between the writer of C and the contraction: none may touch C,
  // nor the buffer the writer reads.
  SmallVector<Value> touchedBetween;
  for (Operation *prev = contraction->getPrevNode(); prev;
       prev = prev->getPrevNode()) {
    if (isa<ViewLikeOpInterface>(prev))
      continue;
    std::optional<SmallVector<Value>> roots = getAccessedRoots(prev);
    if (!roots)
      return std::nullopt;
    if (!llvm::is_contained(*roots, outRoot)) {
      touchedBetween.append(*roots);
      continue;
    }
    MatmulPrologue prologue;
    prologue.init = prev;
    if (std::optional<std::pair<Value, Value>> fill = matchFill(prev)) {
      if (!getResultIndexing(out, outMap, n, fill->second))
        return std::nullopt;
      prologue.scalar = fill->first;
      return prologue;
    }
    // out[...] = buffer[...], broadcast along n.
    auto copy = dyn_cast<linalg::GenericOp>(prev);
    if (!copy || !copy.hasPureBufferSemantics() ||
        copy.getNumDpsInputs() != 1 || copy.getNumDpsInits() != 1 ||
        copy.getNumReductionLoops() != 0)
      return std::nullopt;
    Value target = copy.getDpsInits()[0];
    std::optional<ResultIndexing> indexing =
        getResultIndexing(out, outMap, n, target);
    auto yield = cast<linalg::YieldOp>(copy.getBody()->getTerminator());
    if (!indexing || yield.getOperand(0) != copy.getBody()->getArgument(0) ||
        !isFullAccess(copy.getIndexingMapsArray()[1],
                      cast<MemRefType>(target.getType()).getShape()))
      return std::nullopt;
    Value source = copy.getDpsInputs()[0];
    auto sourceType = dyn_cast<MemRefType>(source.getType());
    std::optional<SmallVector<std::optional<unsigned>>> dims =
        indexing->getBroadcastDims(copy.getIndexingMapsArray()[0]);
    if (!sourceType || sourceType.getElementType() != getElementType(out) ||
        !dims ||
        getRootBuffer(source) == outRoot ||
        llvm::is_contained(touchedBetween, getRootBuffer(source)))
      return std::nullopt;
    prologue.buffer = source;
    prologue.dims = std::move(*dims);
    return prologue;
  }
  return std::nullopt;
}

Value MatmulPrologue::getInitialValue(OpBuilder &b, Location loc,
                                      VectorType type,
                                      ArrayRef<Value> ivs) const {
  Value value =
      scalar ? scalar
             : memref::LoadOp::create(
                   b, loc, buffer,
                   ResultIndexing::getBroadcastIndices(b, loc, dims, ivs))
                   .getResult();
  return vector::BroadcastOp::create(b, loc, type, value);
}

//===----------------------------------------------------------------------===//
// Epilogue
//===----------------------------------------------------------------------===//

std::optional<MatmulEpilogue>
MatmulEpilogue::match(Operation *contraction, Value out, AffineMap outMap,
                      unsigned n, ValueRange inputs) {
  // The consumer is the next op that is not a view, an allocation or the
  // size of a buffer (a dynamic batch's, for the allocations): with nothing
  // in between, its other operands are ready when the kernel runs.
  SmallVector<Operation *> between;
  Operation *next = contraction->getNextNode();
  while (next &&
         (isa<ViewLikeOpInterface, memref::AllocOp, memref::DimOp>(next))) {
    between.push_back(next);
    next = next->getNextNode();
  }
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!consumer || !consumer.hasPureBufferSemantics() ||
      consumer.getNumDpsInits() != 1 || consumer.getNumReductionLoops() != 0)
    return std::nullopt;

  // It reads C, or the buffer C is a collapsed view of.
  std::optional<ResultIndexing> indexing;
  for (Value input : consumer.getDpsInputs())
    if (!indexing)
      indexing = getResultIndexing(out, outMap, n, input);
  if (!indexing)
    return std::nullopt;
  // Static, but for a dynamic batch (the first dim): the consumer reads C
  // with an identity map, so its loop over that dim has C's size.
  auto rootType = cast<MemRefType>(indexing->root.getType());
  ArrayRef<int64_t> shape = rootType.getShape();
  if (shape.empty() ||
      llvm::any_of(shape.drop_front(), ShapedType::isDynamic) ||
      ArrayRef<int64_t>(consumer.getStaticLoopRanges()) != shape)
    return std::nullopt;

  // The body must be elementwise arithmetic on scalars (f32, or the
  // integers of a requantization) that does not read the output's old
  // value.
  Block *body = consumer.getBody();
  for (BlockArgument arg : body->getArguments())
    if (!isByteScalar(arg.getType()))
      return std::nullopt;
  if (!body->getArguments().back().use_empty())
    return std::nullopt;
  for (Operation &op : body->without_terminator())
    if (!OpTrait::hasElementwiseMappableTraits(&op) ||
        op.getNumRegions() != 0 ||
        !llvm::all_of(op.getResultTypes(),
                      [](Type type) { return isByteScalar(type); }))
      return std::nullopt;

  Value result = consumer.getDpsInits()[0];
  Value resultRoot = getRootBuffer(result);
  Value outRoot = getRootBuffer(out);
  // The kernel still reads its inputs while tiles are stored, and any
  // other part of C's buffer holds no final values yet.
  if (llvm::any_of(inputs,
                   [&](Value input) {
                     return getRootBuffer(input) == resultRoot;
                   }) ||
      (resultRoot == outRoot && result != indexing->root))
    return std::nullopt;

  MatmulEpilogue epilogue;
  epilogue.consumer = consumer;
  epilogue.indexing = *indexing;
  auto isAvailable = [&](Value value) {
    if (isDefinedBefore(value, contraction))
      return true;
    Operation *def = value.getDefiningOp();
    return isa_and_present<memref::AllocOp>(def) &&
           llvm::is_contained(between, def);
  };
  for (OpOperand &operand : consumer->getOpOperands()) {
    Value value = operand.get();
    AffineMap map = consumer.getMatchingIndexingMap(&operand);
    bool isResult = consumer.isDpsInit(&operand);
    if (!isResult && value == indexing->root) {
      if (!isFullAccess(map, shape))
        return std::nullopt;
      epilogue.operands.push_back({Operand::Accumulator, Value(), {}});
      continue;
    }
    if (!isAvailable(value) ||
        (!isResult && getRootBuffer(value) == outRoot))
      return std::nullopt;
    if (isFullAccess(map, shape) && isContiguous(value, shape)) {
      // Read or written at C's position: no other part of the same buffer.
      if (!isResult && getRootBuffer(value) == resultRoot && value != result)
        return std::nullopt;
      epilogue.operands.push_back({Operand::Tile, value, {}});
      continue;
    }
    auto type = dyn_cast<MemRefType>(value.getType());
    std::optional<SmallVector<std::optional<unsigned>>> dims =
        indexing->getBroadcastDims(map);
    if (isResult || !type || !dims || getRootBuffer(value) == resultRoot)
      return std::nullopt;
    epilogue.operands.push_back({Operand::Broadcast, value, std::move(*dims)});
  }

  for (Operation *alloc : between) {
    if (!isa<memref::AllocOp>(alloc))
      continue;
    if (llvm::none_of(consumer->getOperands(), [&](Value value) {
          return getRootBuffer(value) == alloc->getResult(0);
        }))
      continue;
    // A dynamic size must be known before the kernel to move the
    // allocation there: defined before it, or computed from such values by
    // allocations, views and size queries in between (a dynamic batch's,
    // read from a view of C or of another buffer), which move along.
    for (Value size : alloc->getOperands())
      if (!collectHoistable(size, contraction, between, epilogue.opsToHoist))
        return std::nullopt;
    // Once: an allocation may also size another one (moved before it).
    if (!llvm::is_contained(epilogue.opsToHoist, alloc))
      epilogue.opsToHoist.push_back(alloc);
  }

  // C is needed as well if something after the contraction reads it,
  // unless the consumer overwrites it in place (then later readers read the
  // consumer's result).
  if (result != indexing->root)
    epilogue.resultIsRead = isReadLater(outRoot, contraction, consumer);
  return epilogue;
}

void MatmulEpilogue::prepare(OpBuilder &b) {
  Operation *contraction = b.getInsertionBlock()->findAncestorOpInBlock(
      *b.getInsertionPoint());
  for (Operation *op : opsToHoist)
    op->moveBefore(contraction);
  if (!indexing.reshaped)
    return;
  if (!indexing.reassociation.empty()) {
    for (Operand &operand : operands)
      if (operand.kind == Operand::Tile)
        operand.buffer = memref::CollapseShapeOp::create(
            b, operand.buffer.getLoc(), operand.buffer, indexing.reassociation);
    return;
  }
  // Buffers shaped like the root, viewed like `out`: all their elements as
  // one dim, then `out`'s shape (both contiguous). With a dynamic batch, the
  // elements of each batch, the batch dim kept.
  auto outType = cast<MemRefType>(indexing.out.getType());
  bool dynamicBatch = outType.isDynamicDim(0);
  auto allFrom = [](int64_t first, int64_t rank) {
    return ReassociationIndices(
        llvm::to_vector(llvm::seq<int64_t>(first, rank)));
  };
  for (Operand &operand : operands) {
    if (operand.kind != Operand::Tile)
      continue;
    Location loc = operand.buffer.getLoc();
    auto type = cast<MemRefType>(operand.buffer.getType());
    auto resultType =
        MemRefType::get(outType.getShape(), type.getElementType());
    if (!dynamicBatch) {
      Value flat = memref::CollapseShapeOp::create(
          b, loc, operand.buffer,
          SmallVector<ReassociationIndices>{allFrom(0, type.getRank())});
      operand.buffer = memref::ExpandShapeOp::create(
          b, loc, resultType, flat,
          SmallVector<ReassociationIndices>{allFrom(0, outType.getRank())});
      continue;
    }
    Value flat = memref::CollapseShapeOp::create(
        b, loc, operand.buffer,
        SmallVector<ReassociationIndices>{{0}, allFrom(1, type.getRank())});
    SmallVector<OpFoldResult> sizes = {
        memref::DimOp::create(b, loc, operand.buffer, 0).getResult()};
    for (int64_t size : outType.getShape().drop_front())
      sizes.push_back(b.getIndexAttr(size));
    operand.buffer = memref::ExpandShapeOp::create(
        b, loc, resultType, flat,
        SmallVector<ReassociationIndices>{{0}, allFrom(1, outType.getRank())},
        sizes);
  }
}

void MatmulEpilogue::emit(OpBuilder &b, Location loc, Value accumulator,
                          ArrayRef<Value> ivs) {
  // In parts of a power of two lanes: LLVM 22's AArch64 backend stores a
  // <3 x i64> truncated to <3 x i8> wrongly (element 1 lost, element 2 at
  // offset 1), which a requantization's output stage is.
  auto vectorType = cast<VectorType>(accumulator.getType());
  int64_t width = vectorType.getNumElements();
  if (!llvm::isPowerOf2_64(width)) {
    SmallVector<Value> partIvs(ivs);
    for (int64_t done = 0; done < width;) {
      int64_t part = llvm::bit_floor(uint64_t(width - done));
      partIvs[indexing.n] = addIndex(b, loc, ivs[indexing.n], done);
      emitVector(b, loc,
                 vector::ExtractStridedSliceOp::create(
                     b, loc, accumulator, ArrayRef<int64_t>{done},
                     ArrayRef<int64_t>{part}, ArrayRef<int64_t>{1}),
                 partIvs);
      done += part;
    }
    return;
  }
  emitVector(b, loc, accumulator, ivs);
}

void MatmulEpilogue::emitVector(OpBuilder &b, Location loc, Value accumulator,
                                ArrayRef<Value> ivs) {
  auto vectorType = cast<VectorType>(accumulator.getType());
  auto vectorOf = [&](Type scalar) {
    return VectorType::get(vectorType.getShape(), scalar);
  };
  Block *body = consumer.getBody();
  // Values alike in every lane (a per-channel operand, a value from outside
  // the body, ops on those only) are computed on scalars, once per tile
  // row, and broadcast where a vector op needs them: a requantization's
  // rounding term and shift from its per-channel shift.
  IRMapping uniform, vectors;
  auto isUniform = [&](Value value) {
    return uniform.contains(value) || value.getParentBlock() != body;
  };
  auto vectorFor = [&](Value value) -> Value {
    if (Value vector = vectors.lookupOrNull(value))
      return vector;
    Value vector = vector::BroadcastOp::create(
        b, loc, vectorOf(value.getType()), uniform.lookupOrDefault(value));
    vectors.map(value, vector);
    return vector;
  };
  for (auto [arg, operand] :
       llvm::zip(body->getArguments().drop_back(), operands)) {
    switch (operand.kind) {
    case Operand::Accumulator:
      vectors.map(arg, accumulator);
      break;
    case Operand::Tile:
      vectors.map(arg,
                  vector::LoadOp::create(
                      b, loc, vectorOf(getElementType(operand.buffer)),
                      operand.buffer, indexing.getResultIndices(b, loc, ivs)));
      break;
    case Operand::Broadcast:
      uniform.map(arg, loadBroadcastScalar(b, loc, operand, ivs));
      break;
    }
  }
  for (Operation &op : body->without_terminator()) {
    if (llvm::all_of(op.getOperands(), isUniform)) {
      b.clone(op, uniform);
      continue;
    }
    IRMapping mapping;
    for (Value operand : op.getOperands())
      mapping.map(operand, vectorFor(operand));
    Operation *vectorOp = b.clone(op, mapping);
    for (auto [result, vectorResult] :
         llvm::zip(op.getResults(), vectorOp->getResults())) {
      vectorResult.setType(vectorOf(result.getType()));
      vectors.map(result, vectorResult);
    }
  }
  Value yielded = body->getTerminator()->getOperand(0);
  vector::StoreOp::create(b, loc, vectorFor(yielded), operands.back().buffer,
                          indexing.getResultIndices(b, loc, ivs));
}

Value MatmulEpilogue::loadBroadcastScalar(OpBuilder &b, Location loc,
                                          const Operand &operand,
                                          ArrayRef<Value> ivs) {
  SmallVector<Value> indices;
  for (std::optional<unsigned> dim : operand.dims)
    indices.push_back(dim ? ivs[*dim] : Value());
  // A load earlier in the insertion block is before the insertion point
  // (the epilogue of a tile is emitted in order).
  Block *block = b.getInsertionBlock();
  for (LoadedScalar &loaded : loadedScalars)
    if (loaded.buffer == operand.buffer && loaded.indices == indices &&
        loaded.scalar.getParentBlock() == block)
      return loaded.scalar;
  Value scalar = memref::LoadOp::create(
      b, loc, operand.buffer,
      ResultIndexing::getBroadcastIndices(b, loc, operand.dims, ivs));
  loadedScalars.push_back({operand.buffer, std::move(indices), scalar});
  return scalar;
}

void MatmulEpilogue::finish() {
  consumer->erase();
  // C's buffer goes if only deallocations are left (and unused views).
  Value buffer = getRootBuffer(indexing.out);
  SmallVector<Operation *> users;
  collectUsers(buffer, users);
  if (!llvm::all_of(users, llvm::IsaPred<memref::DeallocOp>))
    return;
  for (Operation *user : users)
    user->erase();
  eraseUnusedViews(buffer);
  if (Operation *alloc = buffer.getDefiningOp<memref::AllocOp>();
      alloc && alloc->use_empty())
    alloc->erase();
}

void replaceWithFusedKernel(
    Operation *contraction, Value out, AffineMap outMap, unsigned n,
    ValueRange inputs,
    llvm::function_ref<void(OpBuilder &, const MatmulPrologue *,
                            MatmulEpilogue *)>
        build) {
  std::optional<MatmulPrologue> prologue =
      MatmulPrologue::match(contraction, out, outMap, n);
  // Everything the kernel reads while tiles are stored: the consumer must
  // not write it.
  SmallVector<Value> kernelInputs(inputs);
  if (prologue && prologue->getSource())
    kernelInputs.push_back(prologue->getSource());
  std::optional<MatmulEpilogue> epilogue =
      MatmulEpilogue::match(contraction, out, outMap, n, kernelInputs);
  OpBuilder b(contraction);
  if (epilogue)
    epilogue->prepare(b);
  build(b, prologue ? &*prologue : nullptr, epilogue ? &*epilogue : nullptr);
  contraction->erase();
  if (prologue)
    prologue->finish();
  if (epilogue)
    epilogue->finish();
}

} // namespace mlir::quarc
