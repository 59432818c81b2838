//===- VectorizeWeightOnlyMatmul.cpp - int4 weights unpacked in registers -===//
//
// The product quarc.qmatmul_weight_only lowers to reads its weight packed
// two values per byte, in panels of 16 columns (PackedNibbles.h). Small
// batches (a transformer decoding one token: M = 1) are bound by
// unpacking the weights, so the kernel does as little per weight as it
// can: sixteen bytes, zero-extended, are two rows of sixteen weights (one
// mask, one shift, two conversions), and each row of the tile takes them
// with one multiply-add each, in f32. The dequantization is per group, by
// the algebra
//
//   sum over k in group of a[k] (q[k] - z) s = s (sum a[k] q[k] - z sum a[k])
//
// so within a group the tile accumulates a * q and the sum of a, and
// adds s * (acc - z * sum) at its end: the same value as the generic's
// per-weight (q - z) * s, rounded differently (f32 either way). The
// unpacked weights serve every row of the tile, so larger batches pay the
// unpacking once per tile.
//
// Panels are independent (parallel across threads); within a panel the
// rows of C run in tiles whose accumulators stay in registers for all of
// k. The last panel of an N that is not a multiple of 16 reads and writes
// C through a mask (the packed weight's padding columns are zero). Odd
// group sizes, whose groups would split a byte's two rows, stay loops.
//
//===----------------------------------------------------------------------===//

#include "VectorCodegen.h"
#include "quarc/Conversion/QuarcToLinalg/PackedNibbles.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCVECTORIZEWEIGHTONLYMATMUL
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// The operands of a packed weight-only product (PackedNibbles.h), on
/// buffers.
struct WeightOnlyProduct {
  linalg::GenericOp op;
  Value a, bytes, scales, zeros, c; // M x K, [P, K2/2, 16], [P, G, 16] x 2, M x N
  int64_t k, n, groupSize;
};

bool isStaticBuffer(Value value, Type element, int64_t rank) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType() == element && type.getRank() == rank &&
         type.hasStaticShape();
}

/// The packed product `op` is, if it is one: the maps and types the
/// lowering of quarc.qmatmul_weight_only gives, and a body that unpacks
/// nibbles.
FailureOr<WeightOnlyProduct> matchWeightOnly(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 4 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 3)
    return failure();
  WeightOnlyProduct p{op,
                      op.getDpsInputs()[0],
                      op.getDpsInputs()[1],
                      op.getDpsInputs()[2],
                      op.getDpsInputs()[3],
                      op.getDpsInits()[0],
                      0,
                      0,
                      0};
  MLIRContext *context = op.getContext();
  Type f32 = Float32Type::get(context), i8 = IntegerType::get(context, 8);
  auto cType = dyn_cast<MemRefType>(p.c.getType());
  auto aType = dyn_cast<MemRefType>(p.a.getType());
  if (!cType || !aType || cType.getRank() != 2 || aType.getRank() != 2 ||
      cType.getElementType() != f32 || aType.getElementType() != f32 ||
      ShapedType::isDynamic(cType.getDimSize(1)) ||
      ShapedType::isDynamic(aType.getDimSize(1)) ||
      !isStaticBuffer(p.bytes, i8, 3) || !isStaticBuffer(p.scales, f32, 3) ||
      !isStaticBuffer(p.zeros, i8, 3) || !cType.isLastDimUnitStride())
    return failure();
  p.k = aType.getDimSize(1);
  p.n = cType.getDimSize(1);
  ArrayRef<int64_t> bytesShape = cast<MemRefType>(p.bytes.getType()).getShape();
  ArrayRef<int64_t> scalesShape =
      cast<MemRefType>(p.scales.getType()).getShape();
  int64_t panels = llvm::divideCeil(p.n, kNibblePanel);
  if (bytesShape != ArrayRef<int64_t>{panels, int64_t(llvm::divideCeil(p.k, 2)),
                                      kNibblePanel} ||
      scalesShape[0] != panels || scalesShape[2] != kNibblePanel ||
      cast<MemRefType>(p.zeros.getType()).getShape() != scalesShape)
    return failure();
  // The group size is the divisor of k in the scales' map (G = ceil(K / g)
  // does not determine it).
  int64_t groups = scalesShape[1];
  auto groupExpr = dyn_cast<AffineBinaryOpExpr>(
      op.getIndexingMapsArray()[2].getResult(1));
  auto divisor = groupExpr ? dyn_cast<AffineConstantExpr>(groupExpr.getRHS())
                           : nullptr;
  if (!divisor || groupExpr.getKind() != AffineExprKind::FloorDiv ||
      divisor.getValue() < 2 || divisor.getValue() % 2 != 0)
    return failure();
  p.groupSize = divisor.getValue();
  // The maps must be exactly the packed layout's, for this group size.
  AffineExpr m = getAffineDimExpr(0, context), col = getAffineDimExpr(1, context),
             row = getAffineDimExpr(2, context);
  AffineExpr panel = col.floorDiv(kNibblePanel);
  AffineMap params = AffineMap::get(
      3, 0, {panel, row.floorDiv(p.groupSize), col % kNibblePanel}, context);
  SmallVector<AffineMap> expected = {
      AffineMap::get(3, 0, {m, row}, context),
      AffineMap::get(3, 0, {panel, row.floorDiv(2), col % kNibblePanel},
                     context),
      params, params,
      AffineMap::get(3, 0, {m, col}, context)};
  if (op.getIndexingMapsArray() != expected ||
      int64_t(llvm::divideCeil(p.k, p.groupSize)) != groups ||
      op.getIteratorTypesArray() !=
          SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel,
                                           utils::IteratorType::reduction})
    return failure();
  // The body picks a nibble and dequantizes: an index, a shift, a
  // subtraction of the zero point.
  bool hasIndex = false, hasShift = false, hasSub = false;
  for (Operation &inner : op.getRegion().front()) {
    hasIndex |= isa<linalg::IndexOp>(inner);
    hasShift |= isa<arith::ShRUIOp>(inner);
    hasSub |= isa<arith::SubFOp>(inner);
  }
  if (!hasIndex || !hasShift || !hasSub)
    return failure();
  return p;
}

class WeightOnlyKernelBuilder {
public:
  WeightOnlyKernelBuilder(const WeightOnlyProduct &p, int64_t rows, bool fused,
                          Location loc)
      : p(p), rows(rows), fused(fused), loc(loc) {}

  void build(OpBuilder &b) {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value panels = arith::ConstantIndexOp::create(
        b, loc, llvm::divideCeil(p.n, kNibblePanel));
    int64_t staticRows = cast<MemRefType>(p.c.getType()).getDimSize(0);
    Value dynamicRows = getLeadingSizes(b, loc, p.c, 1)[0];
    auto loop = scf::ParallelOp::create(
        b, loc, ValueRange{zero}, ValueRange{panels}, ValueRange{one},
        [&](OpBuilder &pb, Location, ValueRange ivs) {
          forChunkAt(
              pb, loc, ivs[0], p.n, kNibblePanel,
              [&](OpBuilder &cb, Value column, int64_t width) {
                auto tile = [&](OpBuilder &rb, Value row, int64_t count) {
                  buildTile(rb, ivs[0], column, width, row, count);
                };
                if (ShapedType::isDynamic(staticRows))
                  forEachChunk(cb, loc, dynamicRows, rows, tile);
                else
                  forEachChunk(cb, loc, staticRows, rows, tile);
              });
        });
    markKernelLoop(loop);
  }

private:
  Value constant(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// C[row : row + count, column : column + width] += A * W for panel
  /// `panel`, its accumulators in registers for all of k.
  void buildTile(OpBuilder &b, Value panel, Value column, int64_t width,
                 Value row, int64_t count) {
    auto accType = VectorType::get({kNibblePanel}, b.getF32Type());
    Value mask, padding;
    if (width < kNibblePanel) {
      mask = vector::ConstantMaskOp::create(
          b, loc, VectorType::get({kNibblePanel}, b.getI1Type()),
          ArrayRef<int64_t>{width});
      padding = arith::ConstantOp::create(b, loc, accType,
                                          b.getZeroAttr(accType));
    }
    SmallVector<Value> rowIndex, accs;
    for (int64_t r = 0; r < count; ++r) {
      rowIndex.push_back(addIndex(b, loc, row, r));
      SmallVector<Value, 2> at = {rowIndex.back(), column};
      accs.push_back(mask ? vector::MaskedLoadOp::create(b, loc, accType, p.c,
                                                         at, mask, padding)
                                .getResult()
                          : vector::LoadOp::create(b, loc, accType, p.c, at)
                                .getResult());
    }
    // Whole groups, then the shorter last one when g does not divide K.
    int64_t wholeGroups = p.k / p.groupSize, tail = p.k % p.groupSize;
    auto groupLoop = scf::ForOp::create(
        b, loc, constant(b, 0), constant(b, wholeGroups), constant(b, 1), accs,
        [&](OpBuilder &gb, Location, Value group, ValueRange iterAccs) {
          scf::YieldOp::create(
              gb, loc,
              buildGroup(gb, panel, group, p.groupSize, rowIndex, iterAccs));
        });
    accs = SmallVector<Value>(groupLoop.getResults());
    if (tail != 0)
      accs = buildGroup(b, panel, constant(b, wholeGroups), tail, rowIndex, accs);
    for (auto [r, acc] : llvm::enumerate(accs)) {
      SmallVector<Value, 2> at = {rowIndex[r], column};
      if (mask)
        vector::MaskedStoreOp::create(b, loc, p.c, at, mask, acc);
      else
        vector::StoreOp::create(b, loc, acc, p.c, at);
    }
  }

  /// The `length` k of group `group` (all of it but in the last group),
  /// added to `accs`: a * q and the sum of a accumulated over the group,
  /// then scaled once.
  SmallVector<Value> buildGroup(OpBuilder &b, Value panel, Value group,
                                int64_t length, ArrayRef<Value> rowIndex,
                                ValueRange accs) {
    Type f32 = b.getF32Type(), i32 = b.getI32Type(), i8 = b.getI8Type();
    auto lanes = [&](Type element) {
      return VectorType::get({kNibblePanel}, element);
    };
    auto splat = [&](OpBuilder &nb, int64_t value) -> Value {
      return arith::ConstantOp::create(
          nb, loc, DenseElementsAttr::get(lanes(i32), nb.getI32IntegerAttr(value)));
    };
    Value lane0 = constant(b, 0);
    int64_t count = accs.size();
    // Group accumulators (vectors) and sums of a (scalars), per row.
    Value zeroVector = arith::ConstantOp::create(b, loc, lanes(f32),
                                                 b.getZeroAttr(lanes(f32)));
    Value zeroScalar = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    SmallVector<Value> state(count, zeroVector);
    state.append(count, zeroScalar);
    Value first = arith::MulIOp::create(b, loc, group, constant(b, p.groupSize));
    Value firstPair = arith::DivUIOp::create(b, loc, first, constant(b, 2));

    // Rows k and k + 1 (k = first + 2 * pair) from one byte row; `odd`
    // only k (the last of an odd-length group: a low nibble).
    auto step = [&](OpBuilder &kb, Value pair, ValueRange current,
                    bool both) -> SmallVector<Value> {
      Value byteRow = arith::AddIOp::create(kb, loc, firstPair, pair);
      Value bytes = arith::ExtUIOp::create(
          kb, loc, lanes(i32),
          vector::LoadOp::create(kb, loc, lanes(i8), p.bytes,
                                 ValueRange{panel, byteRow, lane0}));
      SmallVector<Value> weights = {arith::UIToFPOp::create(
          kb, loc, lanes(f32), arith::AndIOp::create(kb, loc, bytes, splat(kb, 15)))};
      if (both)
        weights.push_back(arith::UIToFPOp::create(
            kb, loc, lanes(f32),
            arith::ShRUIOp::create(kb, loc, bytes, splat(kb, 4))));
      Value k = arith::MulIOp::create(kb, loc, byteRow, constant(kb, 2));
      SmallVector<Value> next(current.begin(), current.end());
      for (int64_t r = 0; r < count; ++r) {
        for (auto [i, weight] : llvm::enumerate(weights)) {
          Value a = memref::LoadOp::create(
              kb, loc, p.a, ValueRange{rowIndex[r], addIndex(kb, loc, k, i)});
          Value broadcast = vector::BroadcastOp::create(kb, loc, lanes(f32), a);
          next[r] = multiplyAdd(kb, loc, broadcast, weight, next[r], fused);
          next[count + r] = arith::AddFOp::create(kb, loc, next[count + r], a);
        }
      }
      return next;
    };
    auto pairLoop = scf::ForOp::create(
        b, loc, constant(b, 0), constant(b, length / 2), constant(b, 1), state,
        [&](OpBuilder &kb, Location, Value pair, ValueRange current) {
          scf::YieldOp::create(kb, loc, step(kb, pair, current, true));
        });
    state = SmallVector<Value>(pairLoop.getResults());
    if (length % 2 != 0)
      state = step(b, constant(b, length / 2), state, false);

    // accs += s * (sum a q - z * sum a).
    Value scale = vector::LoadOp::create(b, loc, lanes(f32), p.scales,
                                         ValueRange{panel, group, lane0});
    Value zeroPoint = arith::UIToFPOp::create(
        b, loc, lanes(f32),
        arith::ExtUIOp::create(
            b, loc, lanes(i32),
            vector::LoadOp::create(b, loc, lanes(i8), p.zeros,
                                   ValueRange{panel, group, lane0})));
    SmallVector<Value> result;
    for (int64_t r = 0; r < count; ++r) {
      Value sum = vector::BroadcastOp::create(b, loc, lanes(f32), state[count + r]);
      Value centered = arith::SubFOp::create(
          b, loc, state[r], arith::MulFOp::create(b, loc, zeroPoint, sum));
      result.push_back(multiplyAdd(b, loc, scale, centered, accs[r], fused));
    }
    return result;
  }

  const WeightOnlyProduct &p;
  int64_t rows;
  bool fused;
  Location loc;
};

struct QuarcVectorizeWeightOnlyMatmul
    : impl::QuarcVectorizeWeightOnlyMatmulBase<QuarcVectorizeWeightOnlyMatmul> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    std::vector<WeightOnlyProduct> work;
    getOperation().walk([&](linalg::GenericOp op) {
      FailureOr<WeightOnlyProduct> product = matchWeightOnly(op);
      if (succeeded(product))
        work.push_back(*product);
    });
    // Accumulators in registers: a tile row is 16 f32 lanes and needs
    // two of them (the total and the group's): one AVX-512 register each
    // (8 rows use 16 of 32), two AVX2 ones (2 rows use 8 of 16), four
    // NEON ones (2 rows use 16 of 32); the two unpacked weight rows, the
    // scales and the zero points take the rest.
    int64_t rows = parsed.vectorBits() >= 512 ? 8 : 2;
    for (WeightOnlyProduct &product : work) {
      OpBuilder b(product.op);
      WeightOnlyKernelBuilder(product, rows, parsed.hasVectorFMA(),
                              product.op.getLoc())
          .build(b);
      product.op.erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
