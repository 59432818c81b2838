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
// unpacking once per tile. Below 512-bit vectors that tile has 2 rows,
// and more rows run on weights dequantized once per block of k and panel
// instead (buildDequantizedPanels).
//
// Panels are independent (parallel across threads); within a panel the
// rows of C run in tiles whose accumulators stay in registers for all of
// k. The last panel of an N that is not a multiple of 16 reads and writes
// C through a mask (the packed weight's padding columns are zero). Odd
// group sizes, whose groups would split a byte's two rows, stay loops.
//
//===----------------------------------------------------------------------===//

#include "IntegerDot.h"
#include "VectorCodegen.h"
#include "quarc/Conversion/QuarcToLinalg/PackedNibbles.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCVECTORIZEWEIGHTONLYMATMUL
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// K per block of buildDequantizedPanels' dequantized weights: 8 KiB of f32
/// for a panel's 16 columns, which stay in L1 with the block's activations
/// of a tile (paired runs on Zen 3, 32 rows: 768 x 768 1.3-1.5x faster
/// than with 256, 4096 x 4096 the same; 64 was 15% slower on both).
constexpr int64_t kDequantizedBlock = 128;

/// Panels a thread takes at once in buildDequantizedPanels, which read the
/// same block of activations: 64 columns (one panel at a time read all of
/// a 32 x 4096 product's activations from L3 per panel; 8 panels were as
/// fast as 4).
constexpr int64_t kDequantizedPanels = 4;

/// The operands of a packed weight-only product (PackedNibbles.h), on
/// buffers: f32 activations with RowPairs bytes, or int8 activations (and
/// their per-row group scales) with RowQuads bytes.
struct WeightOnlyProduct {
  linalg::GenericOp op;
  bool int8 = false;
  Value a;         // M x K, f32 or i8
  Value rowScales; // int8 only: M x G f32
  Value bytes;     // [P, byte rows, bytes per row]
  Value scales, zeros; // [P, G, 16] f32, i8
  Value c;         // M x N f32
  int64_t k = 0, n = 0, groupSize = 0;
};

bool isStaticBuffer(Value value, Type element, int64_t rank) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType() == element && type.getRank() == rank &&
         type.hasStaticShape();
}

/// The divisor of k in `expr` (`d2 floordiv g`), or 0.
int64_t getGroupDivisor(AffineExpr expr) {
  auto division = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!division || division.getKind() != AffineExprKind::FloorDiv)
    return 0;
  auto divisor = dyn_cast<AffineConstantExpr>(division.getRHS());
  return divisor ? divisor.getValue() : 0;
}

/// The packed product `op` is, if it is one the kernel takes: the maps and
/// types the lowering of quarc.qmatmul_weight_only gives, a body that
/// unpacks nibbles, and group sizes whose groups start at a byte row
/// (even for pairs; for quads a multiple of 8, as K must be).
FailureOr<WeightOnlyProduct> matchWeightOnly(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 3 ||
      (op.getNumDpsInputs() != 4 && op.getNumDpsInputs() != 5))
    return failure();
  WeightOnlyProduct p;
  p.op = op;
  p.int8 = op.getNumDpsInputs() == 5;
  SmallVector<Value> inputs = op.getDpsInputs();
  p.a = inputs[0];
  unsigned next = 1;
  if (p.int8)
    p.rowScales = inputs[next++];
  p.bytes = inputs[next];
  p.scales = inputs[next + 1];
  p.zeros = inputs[next + 2];
  p.c = op.getDpsInits()[0];
  NibbleLayout layout = p.int8 ? NibbleLayout::RowQuads : NibbleLayout::RowPairs;

  MLIRContext *context = op.getContext();
  Type f32 = Float32Type::get(context), i8 = IntegerType::get(context, 8);
  auto cType = dyn_cast<MemRefType>(p.c.getType());
  auto aType = dyn_cast<MemRefType>(p.a.getType());
  if (!cType || !aType || cType.getRank() != 2 || aType.getRank() != 2 ||
      cType.getElementType() != f32 ||
      aType.getElementType() != (p.int8 ? i8 : f32) ||
      ShapedType::isDynamic(cType.getDimSize(1)) ||
      ShapedType::isDynamic(aType.getDimSize(1)) ||
      !isStaticBuffer(p.bytes, i8, 3) || !isStaticBuffer(p.scales, f32, 3) ||
      !isStaticBuffer(p.zeros, i8, 3) || !cType.isLastDimUnitStride() ||
      !aType.isLastDimUnitStride())
    return failure();
  p.k = aType.getDimSize(1);
  p.n = cType.getDimSize(1);
  ArrayRef<int64_t> bytesShape = cast<MemRefType>(p.bytes.getType()).getShape();
  ArrayRef<int64_t> scalesShape =
      cast<MemRefType>(p.scales.getType()).getShape();
  int64_t panels = llvm::divideCeil(p.n, kNibblePanel);
  int64_t rowsPerByteRow = getRowsPerByteRow(layout);
  if (bytesShape != ArrayRef<int64_t>{panels,
                                      int64_t(llvm::divideCeil(p.k, rowsPerByteRow)),
                                      getBytesPerRow(layout)} ||
      scalesShape[0] != panels || scalesShape[2] != kNibblePanel ||
      cast<MemRefType>(p.zeros.getType()).getShape() != scalesShape)
    return failure();
  if (p.int8) {
    auto rowScalesType = dyn_cast<MemRefType>(p.rowScales.getType());
    if (!rowScalesType || rowScalesType.getRank() != 2 ||
        rowScalesType.getElementType() != f32 ||
        rowScalesType.getDimSize(1) != scalesShape[1])
      return failure();
  }
  // The group size is the divisor of k in the scales' map (G = ceil(K / g)
  // does not determine it).
  int64_t groups = scalesShape[1];
  unsigned paramsIndex = p.int8 ? 3 : 2;
  p.groupSize =
      getGroupDivisor(op.getIndexingMapsArray()[paramsIndex].getResult(1));
  int64_t step = p.int8 ? 8 : 2;
  if (p.groupSize < step || p.groupSize % step != 0 ||
      (p.int8 && p.k % step != 0))
    return failure();
  // The maps must be exactly the packed layout's, for this group size.
  PackedProductMaps maps = getPackedProductMaps(context, layout, p.groupSize);
  SmallVector<AffineMap> expected = {maps.rows};
  if (p.int8)
    expected.push_back(maps.rowScales);
  expected.append({maps.bytes, maps.params, maps.params, maps.out});
  if (op.getIndexingMapsArray() != expected ||
      int64_t(llvm::divideCeil(p.k, p.groupSize)) != groups ||
      op.getIteratorTypesArray() !=
          SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel,
                                           utils::IteratorType::reduction})
    return failure();
  // The body picks a nibble (an index, a shift) and subtracts the zero
  // point (in f32, or in i32 with int8 activations).
  bool hasIndex = false, hasShift = false, hasSub = false;
  for (Operation &inner : op.getRegion().front()) {
    hasIndex |= isa<linalg::IndexOp>(inner);
    hasShift |= isa<arith::ShRUIOp>(inner);
    hasSub |= p.int8 ? isa<arith::SubIOp>(inner) : isa<arith::SubFOp>(inner);
  }
  if (!hasIndex || !hasShift || !hasSub)
    return failure();
  return p;
}

class WeightOnlyKernelBuilder {
public:
  WeightOnlyKernelBuilder(const WeightOnlyProduct &p, const TargetInfo &target,
                          int64_t rows, int64_t dequantizedRows, Location loc)
      : p(p), dot(target.int8Dot()), lanes(target.vectorBits() / 32),
        rows(rows), dequantizedRows(p.int8 ? 0 : dequantizedRows),
        fused(target.hasVectorFMA()), loc(loc) {}

  void build(OpBuilder &b) {
    int64_t staticRows = cast<MemRefType>(p.c.getType()).getDimSize(0);
    Value dynamicRows = getLeadingSizes(b, loc, p.c, 1)[0];
    bool dynamic = ShapedType::isDynamic(staticRows);
    // More rows than a tile dequantize each panel's weights once (when the
    // target has a kernel for that), fewer unpack them in the tile.
    bool mayDequantize = dequantizedRows && (dynamic || staticRows > rows);
    bool mustDequantize = mayDequantize && !dynamic;
    if (p.int8)
      groupSums = buildGroupSums(b, dynamicRows);
    // The threads take groups of panels (of one panel without the
    // dequantizing kernel).
    int64_t panels = llvm::divideCeil(p.n, kNibblePanel);
    int64_t groupPanels = mayDequantize ? kDequantizedPanels : 1;
    auto loop = scf::ParallelOp::create(
        b, loc, ValueRange{constant(b, 0)},
        ValueRange{constant(b, llvm::divideCeil(panels, groupPanels))},
        ValueRange{constant(b, 1)},
        [&](OpBuilder &pb, Location, ValueRange ivs) {
          auto group = [&](OpBuilder &gb, Value firstPanel, int64_t count) {
            auto tiles = [&](OpBuilder &tb) {
              forEachPanel(
                  tb, firstPanel, count,
                  [&](OpBuilder &cb, Value panel, Value column, int64_t width) {
                    auto tile = [&](OpBuilder &rb, Value row,
                                    int64_t rowCount) {
                      buildTile(rb, panel, column, width, row, rowCount);
                    };
                    if (dynamic)
                      forEachChunk(cb, loc, dynamicRows, rows, tile);
                    else
                      forEachChunk(cb, loc, staticRows, rows, tile);
                  });
            };
            auto dequantized = [&](OpBuilder &ub) {
              buildDequantizedPanels(ub, firstPanel, count, dynamicRows,
                                     staticRows);
            };
            if (mustDequantize)
              dequantized(gb);
            else if (!mayDequantize)
              tiles(gb);
            else
              scf::IfOp::create(
                  gb, loc,
                  arith::CmpIOp::create(gb, loc, arith::CmpIPredicate::ugt,
                                        dynamicRows, constant(gb, rows)),
                  [&](OpBuilder &tb, Location) {
                    dequantized(tb);
                    scf::YieldOp::create(tb, loc);
                  },
                  [&](OpBuilder &eb, Location) {
                    tiles(eb);
                    scf::YieldOp::create(eb, loc);
                  });
          };
          if (groupPanels == 1)
            group(pb, ivs[0], 1);
          else
            forChunkAt(pb, loc, ivs[0], panels, groupPanels, group);
        });
    markKernelLoop(loop);
    if (groupSums)
      memref::DeallocOp::create(b, loc, groupSums);
  }

private:
  /// The sum of each row's int8 activations over each group, M x G i32,
  /// for the zero points' term z * sum aq (computed once, not per panel).
  Value buildGroupSums(OpBuilder &b, Value rowCount) {
    Type i8 = b.getI8Type(), i32 = b.getI32Type();
    int64_t groups = llvm::divideCeil(p.k, p.groupSize);
    int64_t staticRows = cast<MemRefType>(p.a.getType()).getDimSize(0);
    auto type = MemRefType::get({staticRows, groups}, i32);
    Value sums = memref::AllocOp::create(
        b, loc, type,
        ShapedType::isDynamic(staticRows) ? ValueRange{rowCount} : ValueRange{});
    auto eight = [&](Type element) { return VectorType::get({8}, element); };
    Value zeroVector = arith::ConstantOp::create(
        b, loc, eight(i32), b.getZeroAttr(eight(i32)));
    scf::ForOp::create(
        b, loc, constant(b, 0), rowCount, constant(b, 1), ValueRange{},
        [&](OpBuilder &rb, Location, Value row, ValueRange) {
          scf::ForOp::create(
              rb, loc, constant(rb, 0), constant(rb, groups), constant(rb, 1),
              ValueRange{},
              [&](OpBuilder &gb, Location, Value group, ValueRange) {
                Value first =
                    arith::MulIOp::create(gb, loc, group, constant(gb, p.groupSize));
                Value last = arith::MinSIOp::create(
                    gb, loc, addIndex(gb, loc, first, p.groupSize),
                    constant(gb, p.k));
                auto loop = scf::ForOp::create(
                    gb, loc, first, last, constant(gb, 8), ValueRange{zeroVector},
                    [&](OpBuilder &kb, Location, Value k, ValueRange acc) {
                      Value values = arith::ExtSIOp::create(
                          kb, loc, eight(i32),
                          vector::LoadOp::create(kb, loc, eight(i8), p.a,
                                                 ValueRange{row, k}));
                      scf::YieldOp::create(
                          kb, loc,
                          ValueRange{arith::AddIOp::create(kb, loc, acc[0], values)});
                    });
                Value sum = vector::ReductionOp::create(
                    gb, loc, vector::CombiningKind::ADD, loop.getResult(0));
                memref::StoreOp::create(gb, loc, sum, sums, ValueRange{row, group});
                scf::YieldOp::create(gb, loc);
              });
          scf::YieldOp::create(rb, loc);
        });
    return sums;
  }

  Value constant(OpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// `body` for panels [firstPanel, firstPanel + count): the panel, its
  /// first column and its width (16, less for the last of an N that 16
  /// does not divide).
  void
  forEachPanel(OpBuilder &b, Value firstPanel, int64_t count,
               function_ref<void(OpBuilder &, Value, Value, int64_t)> body) {
    auto panelBody = [&](OpBuilder &pb, Value panel) {
      forChunkAt(pb, loc, panel, p.n, kNibblePanel,
                 [&](OpBuilder &cb, Value column, int64_t width) {
                   body(cb, panel, column, width);
                 });
    };
    if (count == 1) {
      panelBody(b, firstPanel);
      return;
    }
    scf::ForOp::create(b, loc, firstPanel, addIndex(b, loc, firstPanel, count),
                       constant(b, 1), ValueRange{},
                       [&](OpBuilder &pb, Location, Value panel, ValueRange) {
                         panelBody(pb, panel);
                         scf::YieldOp::create(pb, loc);
                       });
  }

  /// Panels [firstPanel, firstPanel + count) for more rows than a tile:
  /// block by block of k, each panel's weights dequantized once, (q - z) *
  /// s in f32, into a buffer on the stack, then every tile of
  /// `dequantizedRows` rows adds its products with them to C, one accumulator
  /// per tile row and weight register for the whole block. Six rows of 16
  /// columns fill AVX2's registers with twelve independent chains of
  /// multiply-adds; the tile of two rows that unpacks the weights itself
  /// had four, two multiply-adds long per byte row, and the unpacking, on
  /// the loop's path, again for every tile (1.4x slower at 32 rows on Zen
  /// 3). The k blocks are outside the panels so that the panels of a group
  /// read the block's activations from cache: within one panel, the
  /// activations of all of k (512 KB for 32 x 4096) streamed from L3 for
  /// every panel. The dequantization is onnxruntime's (level 0); the tile
  /// of buildFloatGroup applies s once per group instead, so a row's last
  /// bits may differ between the two.
  void buildDequantizedPanels(OpBuilder &b, Value firstPanel, int64_t count,
                              Value dynamicRows, int64_t staticRows) {
    int64_t blockGroups = std::max<int64_t>(1, kDequantizedBlock / p.groupSize);
    Value buffer = memref::AllocaOp::create(
        b, loc,
        MemRefType::get({blockGroups * p.groupSize, kNibblePanel},
                        b.getF32Type()),
        b.getI64IntegerAttr(64));
    int64_t groups = llvm::divideCeil(p.k, p.groupSize);
    int64_t tail = p.k % p.groupSize;
    forEachBlock(
        b, loc, groups, blockGroups,
        [&](OpBuilder &kb, Value firstGroup, int64_t blockCount, bool,
            bool last) {
          // The block's groups, the last one shorter at the end of a K
          // that the groups do not divide.
          int64_t lastLength = last && tail != 0 ? tail : p.groupSize;
          Value firstK = arith::MulIOp::create(kb, loc, firstGroup,
                                               constant(kb, p.groupSize));
          int64_t length = (blockCount - 1) * p.groupSize + lastLength;
          forEachPanel(
              kb, firstPanel, count,
              [&](OpBuilder &cb, Value panel, Value column, int64_t width) {
                dequantizeBlock(cb, panel, firstGroup, blockCount, lastLength,
                                buffer);
                auto tile = [&](OpBuilder &rb, Value row, int64_t tileRows) {
                  buildDequantizedTile(rb, column, width, row, tileRows, buffer,
                                       firstK, length);
                };
                if (ShapedType::isDynamic(staticRows))
                  forEachChunk(cb, loc, dynamicRows, dequantizedRows, tile);
                else
                  forEachRowTile(cb, staticRows, tile);
              });
        });
  }

  /// Tiles of `dequantizedRows` rows over `total` rows, but for a remainder
  /// of fewer than 4, which runs with the last whole tile as two tiles of
  /// about half (32 rows: 6, 6, 6, 6, 4, 4): a tile of one to three rows
  /// has too few chains of multiply-adds to hide their latency.
  void forEachRowTile(OpBuilder &b, int64_t total,
                      function_ref<void(OpBuilder &, Value, int64_t)> tile) {
    int64_t remainder = total % dequantizedRows;
    if (total < dequantizedRows || remainder == 0 || remainder >= 4) {
      forEachChunk(b, loc, total, dequantizedRows, tile);
      return;
    }
    int64_t whole = total - remainder - dequantizedRows;
    if (whole > 0)
      forEachChunk(b, loc, whole, dequantizedRows, tile);
    int64_t rest = total - whole, first = (rest + 1) / 2;
    tile(b, constant(b, whole), first);
    tile(b, constant(b, whole + first), rest - first);
  }

  /// Groups [firstGroup, firstGroup + count) of `panel` dequantized into
  /// the rows of `buffer`, the last group `lastLength` k long: each byte
  /// row's low nibbles are k, its high ones k + 1.
  void dequantizeBlock(OpBuilder &b, Value panel, Value firstGroup,
                       int64_t count, int64_t lastLength, Value buffer) {
    Type f32 = b.getF32Type();
    // Group `index` of the block, `length` k.
    auto group = [&](OpBuilder &gb, Value index, int64_t length) {
      Value global = arith::AddIOp::create(gb, loc, firstGroup, index);
      auto params = loadGroupParams(gb, panel, global);
      Value scale = params.first, zeroInteger = params.second;
      Value zeroPoint =
          arith::UIToFPOp::create(gb, loc, panelVector(f32), zeroInteger);
      Value firstRow =
          arith::MulIOp::create(gb, loc, index, constant(gb, p.groupSize));
      Value firstPair =
          arith::MulIOp::create(gb, loc, global, constant(gb, p.groupSize / 2));
      auto dequantize = [&](OpBuilder &db, Value q) -> Value {
        return arith::MulFOp::create(
            db, loc, arith::SubFOp::create(db, loc, q, zeroPoint), scale);
      };
      auto pair = [&](OpBuilder &pb, Value index, bool both) {
        Value bytes = loadByteRow(
            pb, panel, arith::AddIOp::create(pb, loc, firstPair, index));
        Value row = arith::AddIOp::create(
            pb, loc, firstRow,
            arith::MulIOp::create(pb, loc, index, constant(pb, 2)));
        vector::StoreOp::create(pb, loc,
                                dequantize(pb, getNibbles(pb, bytes, false)),
                                buffer, ValueRange{row, constant(pb, 0)});
        if (both)
          vector::StoreOp::create(
              pb, loc, dequantize(pb, getNibbles(pb, bytes, true)), buffer,
              ValueRange{addIndex(pb, loc, row, 1), constant(pb, 0)});
      };
      scf::ForOp::create(gb, loc, constant(gb, 0), constant(gb, length / 2),
                         constant(gb, 1), ValueRange{},
                         [&](OpBuilder &pb, Location, Value index, ValueRange) {
                           pair(pb, index, true);
                           scf::YieldOp::create(pb, loc);
                         });
      if (length % 2 != 0)
        pair(gb, constant(gb, length / 2), false);
    };
    int64_t whole = lastLength != p.groupSize ? count - 1 : count;
    scf::ForOp::create(b, loc, constant(b, 0), constant(b, whole),
                       constant(b, 1), ValueRange{},
                       [&](OpBuilder &gb, Location, Value index, ValueRange) {
                         group(gb, index, p.groupSize);
                         scf::YieldOp::create(gb, loc);
                       });
    if (whole != count)
      group(b, constant(b, whole), lastLength);
  }

  /// C[row : row + count, column : column + width] += A[.., firstK :
  /// firstK + length] times the dequantized weights in `buffer`.
  void buildDequantizedTile(OpBuilder &b, Value column, int64_t width,
                            Value row, int64_t count, Value buffer,
                            Value firstK, int64_t length) {
    Type f32 = b.getF32Type();
    TileOfC tile = getTileOfC(b, row, count, column, width);
    auto loop = scf::ForOp::create(
        b, loc, constant(b, 0), constant(b, length), constant(b, 1),
        loadTileOfC(b, tile),
        [&](OpBuilder &kb, Location, Value k, ValueRange current) {
          Value weight =
              vector::LoadOp::create(kb, loc, panelVector(f32), buffer,
                                     ValueRange{k, constant(kb, 0)});
          Value kGlobal = arith::AddIOp::create(kb, loc, firstK, k);
          SmallVector<Value> next;
          for (int64_t r = 0; r < count; ++r) {
            Value a = memref::LoadOp::create(kb, loc, p.a,
                                             ValueRange{tile.rows[r], kGlobal});
            next.push_back(multiplyAdd(
                kb, loc,
                vector::BroadcastOp::create(kb, loc, panelVector(f32), a),
                weight, current[r], fused));
          }
          scf::YieldOp::create(kb, loc, next);
        });
    storeTileOfC(b, tile, loop.getResults());
  }

  /// A vector of one panel row: 16 lanes of `element`.
  static VectorType panelVector(Type element) {
    return VectorType::get({kNibblePanel}, element);
  }

  /// Byte row `byteRow` of `panel` (RowPairs: weight rows k and k + 1 in
  /// its low and high nibbles), zero-extended to i32.
  Value loadByteRow(OpBuilder &b, Value panel, Value byteRow) {
    return arith::ExtUIOp::create(
        b, loc, panelVector(b.getI32Type()),
        vector::LoadOp::create(b, loc, panelVector(b.getI8Type()), p.bytes,
                               ValueRange{panel, byteRow, constant(b, 0)}));
  }

  /// The low (row k) or high (row k + 1) nibbles of a loadByteRow, in f32.
  Value getNibbles(OpBuilder &b, Value bytes, bool high) {
    auto splat = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(panelVector(b.getI32Type()),
                                 b.getI32IntegerAttr(value)));
    };
    Value nibbles =
        high ? Value(arith::ShRUIOp::create(b, loc, bytes, splat(4)))
             : Value(arith::AndIOp::create(b, loc, bytes, splat(15)));
    return arith::UIToFPOp::create(b, loc, panelVector(b.getF32Type()),
                                   nibbles);
  }

  /// Rows [row, row + count) of C at a panel's columns [column, column +
  /// width): one vector of 16 lanes each, read and written through a mask
  /// when the panel is narrower (the last of an N that 16 does not divide).
  struct TileOfC {
    Value column, mask, padding;
    SmallVector<Value> rows;
  };

  TileOfC getTileOfC(OpBuilder &b, Value row, int64_t count, Value column,
                     int64_t width) {
    TileOfC tile;
    tile.column = column;
    if (width < kNibblePanel) {
      VectorType type = panelVector(b.getF32Type());
      tile.mask = vector::ConstantMaskOp::create(
          b, loc, VectorType::get({kNibblePanel}, b.getI1Type()),
          ArrayRef<int64_t>{width});
      tile.padding =
          arith::ConstantOp::create(b, loc, type, b.getZeroAttr(type));
    }
    for (int64_t r = 0; r < count; ++r)
      tile.rows.push_back(addIndex(b, loc, row, r));
    return tile;
  }

  SmallVector<Value> loadTileOfC(OpBuilder &b, const TileOfC &tile) {
    VectorType type = panelVector(b.getF32Type());
    SmallVector<Value> values;
    for (Value row : tile.rows) {
      SmallVector<Value, 2> at = {row, tile.column};
      values.push_back(
          tile.mask
              ? vector::MaskedLoadOp::create(b, loc, type, p.c, at, tile.mask,
                                             tile.padding)
                    .getResult()
              : vector::LoadOp::create(b, loc, type, p.c, at).getResult());
    }
    return values;
  }

  void storeTileOfC(OpBuilder &b, const TileOfC &tile, ValueRange values) {
    for (auto [row, value] : llvm::zip_equal(tile.rows, values)) {
      SmallVector<Value, 2> at = {row, tile.column};
      if (tile.mask)
        vector::MaskedStoreOp::create(b, loc, p.c, at, tile.mask, value);
      else
        vector::StoreOp::create(b, loc, value, p.c, at);
    }
  }

  /// The scales (f32) and zero points (widened to i32) of group `group`
  /// of panel `panel`.
  std::pair<Value, Value> loadGroupParams(OpBuilder &b, Value panel,
                                          Value group) {
    Value lane0 = constant(b, 0);
    Value scale =
        vector::LoadOp::create(b, loc, panelVector(b.getF32Type()), p.scales,
                               ValueRange{panel, group, lane0});
    Value zeroPoint = arith::ExtUIOp::create(
        b, loc, panelVector(b.getI32Type()),
        vector::LoadOp::create(b, loc, panelVector(b.getI8Type()), p.zeros,
                               ValueRange{panel, group, lane0}));
    return {scale, zeroPoint};
  }

  /// C[row : row + count, column : column + width] += A * W for panel
  /// `panel`, its accumulators in registers for all of k.
  void buildTile(OpBuilder &b, Value panel, Value column, int64_t width,
                 Value row, int64_t count) {
    TileOfC tile = getTileOfC(b, row, count, column, width);
    ArrayRef<Value> rowIndex = tile.rows;
    SmallVector<Value> accs = loadTileOfC(b, tile);
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
    storeTileOfC(b, tile, accs);
  }

  /// The `length` k of group `group` (all of it but in the last group),
  /// added to `accs`.
  SmallVector<Value> buildGroup(OpBuilder &b, Value panel, Value group,
                                int64_t length, ArrayRef<Value> rowIndex,
                                ValueRange accs) {
    return p.int8 ? buildInt8Group(b, panel, group, length, rowIndex, accs)
                  : buildFloatGroup(b, panel, group, length, rowIndex, accs);
  }

  /// Int8 activations: per byte row, the 64 bytes' low nibbles are k0..k0+3
  /// and the high ones k0+4..k0+7 of 16 columns, in the lanes' order of
  /// the integer dot product; each row of the tile broadcasts its four
  /// activations of each half. At the group's end, sa * s * (sum - z *
  /// sum aq) in f32.
  SmallVector<Value> buildInt8Group(OpBuilder &b, Value panel, Value group,
                                    int64_t length, ArrayRef<Value> rowIndex,
                                    ValueRange accs) {
    Type f32 = b.getF32Type(), i32 = b.getI32Type(), i8 = b.getI8Type();
    int64_t pieces = kNibblePanel / lanes;
    auto pieceType = VectorType::get({lanes}, i32);
    auto pieceBytes = VectorType::get({4 * lanes}, i8);
    auto rowBytes = VectorType::get({4 * kNibblePanel}, i8);
    auto splatBytes = [&](OpBuilder &nb, int64_t value) -> Value {
      return arith::ConstantOp::create(
          nb, loc, DenseElementsAttr::get(rowBytes, nb.getI8IntegerAttr(value)));
    };
    int64_t count = accs.size();
    Value zeroPiece = arith::ConstantOp::create(b, loc, pieceType,
                                                b.getZeroAttr(pieceType));
    SmallVector<Value> state(count * pieces, zeroPiece);
    Value first = arith::MulIOp::create(b, loc, group, constant(b, p.groupSize));
    Value firstRow = arith::DivUIOp::create(b, loc, first, constant(b, 8));
    auto loop = scf::ForOp::create(
        b, loc, constant(b, 0), constant(b, length / 8), constant(b, 1), state,
        [&](OpBuilder &kb, Location, Value step, ValueRange current) {
          Value byteRow = arith::AddIOp::create(kb, loc, firstRow, step);
          Value bytes = vector::LoadOp::create(
              kb, loc, rowBytes, p.bytes, ValueRange{panel, byteRow, constant(kb, 0)});
          Value low = arith::AndIOp::create(kb, loc, bytes, splatBytes(kb, 15));
          Value high = arith::AndIOp::create(
              kb, loc, arith::ShRUIOp::create(kb, loc, bytes, splatBytes(kb, 4)),
              splatBytes(kb, 15));
          Value k = arith::MulIOp::create(kb, loc, byteRow, constant(kb, 8));
          SmallVector<Value> next(current.begin(), current.end());
          for (int64_t r = 0; r < count; ++r) {
            for (auto [half, weights] : llvm::enumerate(ArrayRef<Value>{low, high})) {
              // Four activations as one i32, broadcast to every lane.
              Value quad = vector::LoadOp::create(
                  kb, loc, VectorType::get({4}, i8), p.a,
                  ValueRange{rowIndex[r], addIndex(kb, loc, k, 4 * half)});
              Value word = vector::ExtractOp::create(
                  kb, loc,
                  vector::BitCastOp::create(kb, loc, VectorType::get({1}, i32), quad),
                  ArrayRef<int64_t>{0});
              Value activations = vector::BitCastOp::create(
                  kb, loc, pieceBytes,
                  vector::BroadcastOp::create(kb, loc, pieceType, word));
              for (int64_t piece = 0; piece < pieces; ++piece) {
                Value part = vector::ExtractStridedSliceOp::create(
                    kb, loc, weights, ArrayRef<int64_t>{piece * 4 * lanes},
                    ArrayRef<int64_t>{4 * lanes}, ArrayRef<int64_t>{1});
                Value &acc = next[r * pieces + piece];
                acc = buildIntegerDot(kb, loc, dot, acc, part, activations,
                                      /*pairsFitI16=*/true);
              }
            }
          }
          scf::YieldOp::create(kb, loc, next);
        });
    state = SmallVector<Value>(loop.getResults());

    auto [scale, zeroPoint] = loadGroupParams(b, panel, group);
    SmallVector<Value> result;
    for (int64_t r = 0; r < count; ++r) {
      Value sum = arith::ConstantOp::create(b, loc, panelVector(i32),
                                            b.getZeroAttr(panelVector(i32)));
      for (int64_t piece = 0; piece < pieces; ++piece)
        sum = vector::InsertStridedSliceOp::create(
            b, loc, state[r * pieces + piece], sum,
            ArrayRef<int64_t>{piece * lanes}, ArrayRef<int64_t>{1});
      Value groupSum = vector::BroadcastOp::create(
          b, loc, panelVector(i32),
          memref::LoadOp::create(b, loc, groupSums, ValueRange{rowIndex[r], group}));
      Value centered = arith::SubIOp::create(
          b, loc, sum, arith::MulIOp::create(b, loc, zeroPoint, groupSum));
      Value rowScale = vector::BroadcastOp::create(
          b, loc, panelVector(f32),
          memref::LoadOp::create(b, loc, p.rowScales, ValueRange{rowIndex[r], group}));
      result.push_back(multiplyAdd(
          b, loc, arith::MulFOp::create(b, loc, scale, rowScale),
          arith::SIToFPOp::create(b, loc, panelVector(f32), centered), accs[r], fused));
    }
    return result;
  }

  /// F32 activations: a * q and the sum of a accumulated over the group,
  /// then s * (sum a q - z * sum a) once.
  SmallVector<Value> buildFloatGroup(OpBuilder &b, Value panel, Value group,
                                     int64_t length, ArrayRef<Value> rowIndex,
                                     ValueRange accs) {
    Type f32 = b.getF32Type();
    int64_t count = accs.size();
    // Group accumulators (vectors) and sums of a (scalars), per row.
    Value zeroVector = arith::ConstantOp::create(b, loc, panelVector(f32),
                                                 b.getZeroAttr(panelVector(f32)));
    Value zeroScalar = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    SmallVector<Value> state(count, zeroVector);
    state.append(count, zeroScalar);
    Value first = arith::MulIOp::create(b, loc, group, constant(b, p.groupSize));
    Value firstPair = arith::DivUIOp::create(b, loc, first, constant(b, 2));

    // Rows k and k + 1 (k = first + 2 * pair) from one byte row; without
    // `both` only k (the last of an odd-length group: a low nibble).
    auto step = [&](OpBuilder &kb, Value pair, ValueRange current,
                    bool both) -> SmallVector<Value> {
      Value byteRow = arith::AddIOp::create(kb, loc, firstPair, pair);
      Value bytes = loadByteRow(kb, panel, byteRow);
      SmallVector<Value> weights = {getNibbles(kb, bytes, false)};
      if (both)
        weights.push_back(getNibbles(kb, bytes, true));
      Value k = arith::MulIOp::create(kb, loc, byteRow, constant(kb, 2));
      SmallVector<Value> next(current.begin(), current.end());
      for (int64_t r = 0; r < count; ++r) {
        for (auto [i, weight] : llvm::enumerate(weights)) {
          Value a = memref::LoadOp::create(
              kb, loc, p.a, ValueRange{rowIndex[r], addIndex(kb, loc, k, i)});
          Value broadcast = vector::BroadcastOp::create(kb, loc, panelVector(f32), a);
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
    auto [scale, zeroInteger] = loadGroupParams(b, panel, group);
    Value zeroPoint =
        arith::UIToFPOp::create(b, loc, panelVector(f32), zeroInteger);
    SmallVector<Value> result;
    for (int64_t r = 0; r < count; ++r) {
      Value sum = vector::BroadcastOp::create(b, loc, panelVector(f32), state[count + r]);
      Value centered = arith::SubFOp::create(
          b, loc, state[r], arith::MulFOp::create(b, loc, zeroPoint, sum));
      result.push_back(multiplyAdd(b, loc, scale, centered, accs[r], fused));
    }
    return result;
  }

  const WeightOnlyProduct &p;
  TargetInfo::Int8Dot dot;
  int64_t lanes;
  int64_t rows;
  int64_t dequantizedRows; // 0: no buildDequantizedPanels kernel
  bool fused;
  Location loc;
  Value groupSums; // int8 activations: M x G i32
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
    // With fewer registers, more rows than that dequantize each panel once
    // and run tiles of 6 rows (buildDequantizedPanels): AVX2's 16 registers
    // take 12 accumulators, NEON's 32 take 24. AVX-512's tile of 8 rows keeps
    // 16 chains of multiply-adds in flight already.
    int64_t dequantizedRows = parsed.vectorBits() >= 512 ? 0 : 6;
    for (WeightOnlyProduct &product : work) {
      // Int8 activations need the target's integer dot product.
      if (product.int8 && parsed.int8Dot() == TargetInfo::Int8Dot::None)
        continue;
      OpBuilder b(product.op);
      WeightOnlyKernelBuilder(product, parsed, rows, dequantizedRows,
                              product.op.getLoc())
          .build(b);
      product.op.erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
