//===- VectorCodegen.cpp - helpers shared by the CPU kernel generators ----===//

#include "VectorCodegen.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::quarc {

LogicalResult parsePassTarget(StringRef spec, MLIRContext *context,
                              TargetInfo &target) {
  std::string error;
  if (TargetInfo::parse(spec, target, error))
    return success();
  return emitError(UnknownLoc::get(context)) << error;
}

Value callIntrinsic(OpBuilder &b, Location loc, Type result, StringRef name,
                    ValueRange args) {
  return LLVM::CallIntrinsicOp::create(b, loc, result, b.getStringAttr(name),
                                       args)
      .getResult(0);
}

bool hasMaskedByteLoads(const TargetInfo &target) {
  return target.arch == "x86_64" && target.has("avx512f");
}

Value loadByteSpan(OpBuilder &b, Location loc, Value buffer, ValueRange at,
                   int64_t span, bool masked) {
  int64_t size = masked ? int64_t(llvm::PowerOf2Ceil(span)) : span;
  auto type = VectorType::get({size}, b.getI8Type());
  if (size == span)
    return vector::LoadOp::create(b, loc, type, buffer, at);
  Value mask = vector::ConstantMaskOp::create(
      b, loc, VectorType::get({size}, b.getI1Type()), ArrayRef<int64_t>{span});
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, APInt(8, 0)));
  return vector::MaskedLoadOp::create(b, loc, type, buffer, at, mask, zero);
}

Value loadWord(OpBuilder &b, Location loc, Value buffer, ValueRange at) {
  Type element = cast<MemRefType>(buffer.getType()).getElementType();
  int64_t count = 32 / element.getIntOrFloatBitWidth();
  Value elements = vector::LoadOp::create(
      b, loc, VectorType::get({count}, element), buffer, at);
  return vector::ExtractOp::create(
      b, loc,
      vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()),
                                elements),
      ArrayRef<int64_t>{0});
}

Value loadByteQuad(OpBuilder &b, Location loc, Value buffer, ValueRange at) {
  assert(cast<MemRefType>(buffer.getType()).getElementType().isInteger(8) &&
         "a buffer of bytes");
  return loadWord(b, loc, buffer, at);
}

Value broadcastWord(OpBuilder &b, Location loc, Value word, int64_t lanes,
                    Type element) {
  if (!element)
    element = b.getI8Type();
  Value splat = vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, b.getI32Type()), word);
  int64_t perLane = 32 / element.getIntOrFloatBitWidth();
  return vector::BitCastOp::create(
      b, loc, VectorType::get({perLane * lanes}, element), splat);
}

Value broadcastByteQuad(OpBuilder &b, Location loc, Value buffer,
                        ValueRange at, int64_t lanes) {
  return broadcastWord(b, loc, loadByteQuad(b, loc, buffer, at), lanes);
}

Value widenWithZeros(OpBuilder &b, Location loc, Value vector, int64_t lanes) {
  auto type = cast<VectorType>(vector.getType());
  if (type.getNumElements() == lanes)
    return vector;
  auto wide = VectorType::get({lanes}, type.getElementType());
  Value zeros = arith::ConstantOp::create(b, loc, b.getZeroAttr(wide));
  return vector::InsertStridedSliceOp::create(b, loc, vector, zeros,
                                              ArrayRef<int64_t>{0},
                                              ArrayRef<int64_t>{1});
}

Value leadingLanes(OpBuilder &b, Location loc, Value vector, int64_t count) {
  if (cast<VectorType>(vector.getType()).getNumElements() == count)
    return vector;
  return vector::ExtractStridedSliceOp::create(
      b, loc, vector, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{count},
      ArrayRef<int64_t>{1});
}

std::optional<SmallVector<int8_t>> getGlobalBytes(Value buffer) {
  auto get = getRootBuffer(buffer).getDefiningOp<memref::GetGlobalOp>();
  if (!get)
    return std::nullopt;
  auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
      get, get.getNameAttr());
  if (!global || !global.getConstant())
    return std::nullopt;
  auto values = dyn_cast_or_null<ElementsAttr>(global.getInitialValueAttr());
  MemRefType type = global.getType();
  if (!values)
    return std::nullopt;
  std::optional<SmallVector<char>> bytes = getElementsBytes(
      values, RankedTensorType::get(type.getShape(), type.getElementType()));
  if (!bytes)
    return std::nullopt;
  return SmallVector<int8_t>(bytes->begin(), bytes->end());
}

Value multiplyAdd(OpBuilder &b, Location loc, Value a, Value b2, Value acc,
                  bool fused) {
  if (fused)
    return vector::FMAOp::create(b, loc, a, b2, acc);
  Value product = arith::MulFOp::create(b, loc, a, b2);
  return arith::AddFOp::create(b, loc, acc, product);
}

bool isStaticF32Buffer(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

Value getRootBuffer(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

namespace {

/// Where a buffer's memory comes from: a base buffer and, for a view of
/// it at a constant offset, the byte range the view covers.
struct BufferOrigin {
  Value base;
  std::optional<std::pair<int64_t, int64_t>> bytes; // [begin, end)
};

/// Bytes of a static-shaped memref with a byte-sized element type.
std::optional<int64_t> staticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0)
    return std::nullopt;
  return type.getNumElements() * (type.getElementTypeBitWidth() / 8);
}

BufferOrigin getOrigin(Value buffer) {
  std::optional<std::pair<int64_t, int64_t>> bytes;
  while (Operation *def = buffer.getDefiningOp()) {
    if (auto view = dyn_cast<memref::ViewOp>(def)) {
      // The first memref.view from the buffer up: a range of its source.
      std::optional<int64_t> offset =
          getConstantIntValue(view.getByteShift());
      std::optional<int64_t> size = staticBytes(view.getType());
      if (!bytes && offset && size)
        bytes = std::make_pair(*offset, *offset + *size);
      else if (!bytes)
        return {Value(), std::nullopt};
      buffer = view.getSource();
      continue;
    }
    if (auto viewLike = dyn_cast<ViewLikeOpInterface>(def)) {
      buffer = viewLike.getViewSource();
      continue;
    }
    break;
  }
  return {buffer, bytes};
}

/// A buffer of its own: an allocation, a global, or a function argument.
bool isDistinctBuffer(Value base) {
  if (auto argument = dyn_cast<BlockArgument>(base))
    return isa<func::FuncOp>(argument.getOwner()->getParentOp());
  Operation *def = base.getDefiningOp();
  return def &&
         isa<memref::AllocOp, memref::AllocaOp, memref::GetGlobalOp>(def);
}

} // namespace

bool buffersProvablyDisjoint(Value a, Value b) {
  BufferOrigin x = getOrigin(a), y = getOrigin(b);
  if (!x.base || !y.base)
    return false;
  if (x.base != y.base)
    return isDistinctBuffer(x.base) && isDistinctBuffer(y.base);
  return x.bytes && y.bytes &&
         (x.bytes->second <= y.bytes->first ||
          y.bytes->second <= x.bytes->first);
}

bool isF32Buffer(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isF32();
}

bool isF32BufferWithStaticTail(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isF32() && type.getRank() > 0 &&
         llvm::none_of(type.getShape().drop_front(), ShapedType::isDynamic);
}

SmallVector<Value> getLeadingSizes(OpBuilder &b, Location loc, Value buffer,
                                   unsigned count) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<Value> sizes;
  for (unsigned dim = 0; dim < count; ++dim)
    sizes.push_back(
        type.isDynamicDim(dim)
            ? memref::DimOp::create(b, loc, buffer, dim).getResult()
            : arith::ConstantIndexOp::create(b, loc, type.getDimSize(dim))
                  .getResult());
  return sizes;
}

LoopBounds getZeroBasedBounds(OpBuilder &b, Location loc, ValueRange sizes) {
  LoopBounds bounds;
  for (Value size : sizes) {
    bounds.lower.push_back(arith::ConstantIndexOp::create(b, loc, 0));
    bounds.upper.push_back(size);
    bounds.steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
  }
  return bounds;
}

LoopBounds getZeroBasedBounds(OpBuilder &b, Location loc,
                              ArrayRef<int64_t> sizes) {
  SmallVector<Value> values;
  for (int64_t size : sizes)
    values.push_back(arith::ConstantIndexOp::create(b, loc, size));
  return getZeroBasedBounds(b, loc, values);
}

Value addIndex(OpBuilder &b, Location loc, Value base, int64_t offset) {
  if (offset == 0)
    return base;
  return arith::AddIOp::create(
      b, loc, base, arith::ConstantIndexOp::create(b, loc, offset));
}

void markKernelLoop(Operation *loop) {
  loop->setAttr(kKernelLoopAttr, UnitAttr::get(loop->getContext()));
}

void forEachChunk(OpBuilder &b, Location loc, Value total, int64_t step,
                  llvm::function_ref<void(OpBuilder &, Value, int64_t)> body) {
  Value stride = arith::ConstantIndexOp::create(b, loc, step);
  Value remainder = arith::RemUIOp::create(b, loc, total, stride);
  Value whole = arith::SubIOp::create(b, loc, total, remainder);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  scf::ForOp::create(b, loc, zero, whole, stride, ValueRange{},
                     [&](OpBuilder &nested, Location nestedLoc, Value iv,
                         ValueRange) {
                       body(nested, iv, step);
                       scf::YieldOp::create(nested, nestedLoc);
                     });
  if (step == 1)
    return;
  SmallVector<int64_t> sizes;
  for (int64_t size = 1; size < step; ++size)
    sizes.push_back(size);
  auto cases = scf::IndexSwitchOp::create(b, loc, TypeRange{}, remainder,
                                          sizes, sizes.size());
  OpBuilder::InsertionGuard guard(b);
  for (auto [size, region] : llvm::zip(sizes, cases.getCaseRegions())) {
    b.setInsertionPointToStart(&region.emplaceBlock());
    body(b, whole, size);
    scf::YieldOp::create(b, loc);
  }
  b.setInsertionPointToStart(&cases.getDefaultRegion().emplaceBlock());
  scf::YieldOp::create(b, loc); // no remainder
}

void forEachChunk(OpBuilder &b, Location loc, int64_t total, int64_t step,
                  llvm::function_ref<void(OpBuilder &, Value, int64_t)> body) {
  int64_t whole = total / step * step;
  if (whole == step) {
    body(b, arith::ConstantIndexOp::create(b, loc, 0), step);
  } else if (whole > 0) {
    // Named first: argument evaluation order (so the IR's order) would be
    // up to the C++ compiler.
    Value lower = arith::ConstantIndexOp::create(b, loc, 0);
    Value upper = arith::ConstantIndexOp::create(b, loc, whole);
    Value stride = arith::ConstantIndexOp::create(b, loc, step);
    scf::ForOp::create(b, loc, lower, upper, stride, ValueRange{},
                       [&](OpBuilder &nested, Location nestedLoc, Value iv,
                           ValueRange) {
                         body(nested, iv, step);
                         scf::YieldOp::create(nested, nestedLoc);
                       });
  }
  if (total > whole)
    body(b, arith::ConstantIndexOp::create(b, loc, whole), total - whole);
}

void forChunkAt(OpBuilder &b, Location loc, Value index, int64_t total,
                int64_t chunk,
                llvm::function_ref<void(OpBuilder &, Value, int64_t)> body) {
  Value start = arith::MulIOp::create(
      b, loc, index, arith::ConstantIndexOp::create(b, loc, chunk));
  int64_t whole = total / chunk, remainder = total % chunk;
  if (remainder == 0 || whole == 0) {
    body(b, start, remainder == 0 ? chunk : remainder);
    return;
  }
  Value isWhole =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index,
                            arith::ConstantIndexOp::create(b, loc, whole));
  scf::IfOp::create(
      b, loc, isWhole,
      [&](OpBuilder &tb, Location) {
        body(tb, start, chunk);
        scf::YieldOp::create(tb, loc);
      },
      [&](OpBuilder &eb, Location) {
        body(eb, start, remainder);
        scf::YieldOp::create(eb, loc);
      });
}

void forEachBlock(
    OpBuilder &b, Location loc, int64_t total, int64_t block,
    llvm::function_ref<void(OpBuilder &, Value, int64_t, bool, bool)> body) {
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  int64_t blocks = llvm::divideCeil(total, block);
  body(b, constant(0), std::min(block, total), /*first=*/true,
       /*last=*/blocks == 1);
  if (blocks == 1)
    return;
  if (blocks == 3) {
    body(b, constant(block), block, false, false);
  } else if (blocks > 3) {
    scf::ForOp::create(b, loc, constant(block), constant((blocks - 1) * block),
                       constant(block), ValueRange{},
                       [&](OpBuilder &lb, Location, Value first, ValueRange) {
                         body(lb, first, block, false, false);
                         scf::YieldOp::create(lb, loc);
                       });
  }
  int64_t last = (blocks - 1) * block;
  body(b, constant(last), total - last, false, true);
}

SmallVector<Value> getMapIndices(OpBuilder &b, Location loc, AffineMap map,
                                 ArrayRef<Value> ivs) {
  SmallVector<Value> result;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      result.push_back(ivs[dim.getPosition()]);
    else
      result.push_back(
          affine::expandAffineExpr(b, loc, expr, ivs, ValueRange{}));
  }
  return result;
}

std::optional<std::pair<int64_t, int64_t>>
matchWindowIndex(AffineExpr expr, unsigned outer, unsigned inner,
                 unsigned numDims) {
  MLIRContext *context = expr.getContext();
  // The factor of `dim`: the expression at dim = 1 less at dim = 0, every
  // other dim 0 (exact for a linear expression, which is then checked).
  auto factor = [&](unsigned dim) -> std::optional<int64_t> {
    auto at = [&](int64_t value) -> std::optional<int64_t> {
      SmallVector<AffineExpr> dims(numDims, getAffineConstantExpr(0, context));
      dims[dim] = getAffineConstantExpr(value, context);
      auto constant = dyn_cast<AffineConstantExpr>(
          simplifyAffineExpr(expr.replaceDims(dims), numDims, 0));
      if (!constant)
        return std::nullopt;
      return constant.getValue();
    };
    std::optional<int64_t> one = at(1), zero = at(0);
    if (!one || !zero)
      return std::nullopt;
    return *one - *zero;
  };
  std::optional<int64_t> stride = factor(outer), dilation = factor(inner);
  if (!stride || !dilation ||
      expr != getAffineDimExpr(outer, context) * *stride +
                  getAffineDimExpr(inner, context) * *dilation)
    return std::nullopt;
  return std::make_pair(*stride, *dilation);
}

} // namespace mlir::quarc
