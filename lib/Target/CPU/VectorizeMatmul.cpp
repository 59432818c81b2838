//===- VectorizeMatmul.cpp - register-tiled f32 contractions --------------===//
//
// C[m, n] += A[m, k] * B[k, n] (plus batch dims) as the classic register-
// blocked kernel: a rows x columns tile of C lives in vector registers for
// the whole k loop; each k step is one contiguous load of B's row k
// (`columns` wide), `rows` broadcasts of A's column k and `rows` fused
// multiply-adds. Tiles run column by column (n outer, m inner) so one
// column's B panel, kept small by blocking k, stays in L1 while every row
// tile of that column reads it.
//
// The generated code reads the operands through their indexing maps, so
// any operand order and batch broadcasting works as long as B and C are
// contiguous along n.
//
//===----------------------------------------------------------------------===//

#include "VectorCodegen.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCVECTORIZEMATMUL
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// Bytes of B panel (k block x tile columns) meant to stay in L1.
constexpr int64_t kPanelBytes = 24 * 1024;

/// A contraction the microkernel can run, with its loop dims identified.
struct Contraction {
  Value lhs, rhs, out; // A (m, k), B (k, n), C (m, n)
  AffineMap lhsMap, rhsMap, outMap;
  unsigned m, n, k;
  SmallVector<unsigned> batch; // every other dim: loops around the kernel
  SmallVector<int64_t> ranges; // static size of every loop dim
};

/// The loop dim of `map`'s last result (all maps here are projected
/// permutations).
unsigned innermostDim(AffineMap map) {
  return map.getDimPosition(map.getNumResults() - 1);
}

FailureOr<Contraction> matchContraction(linalg::LinalgOp op, int64_t lanes) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return failure();
  for (Value operand : op->getOperands())
    if (!isStaticF32Buffer(operand))
      return failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty() || dims->k.empty())
    return failure();

  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!llvm::all_of(maps, [](AffineMap map) {
        return map.isProjectedPermutation(/*allowZeroInResults=*/false);
      }))
    return failure();

  Contraction c;
  c.out = op.getDpsInits()[0];
  c.outMap = maps[2];
  // The kernel's n is C's innermost dim, and B is the input that has it
  // (inferContractionDims names m and n by operand position, so n may be
  // in either of its sets). The kernel's m and k are one dim each of the
  // others; every remaining dim (batch dims, and extra m, n or k dims such
  // as the image index of a convolution, which only the output and one
  // input have) becomes an outer loop around the kernel.
  c.n = innermostDim(c.outMap);
  bool swapped = maps[0].isFunctionOfDim(c.n);
  if (swapped == maps[1].isFunctionOfDim(c.n))
    return failure();
  c.lhs = op->getOperand(swapped ? 1 : 0);
  c.rhs = op->getOperand(swapped ? 0 : 1);
  c.lhsMap = maps[swapped ? 1 : 0];
  c.rhsMap = maps[swapped ? 0 : 1];
  ArrayRef<unsigned> mDims = swapped ? dims->n : dims->m;
  c.m = mDims.back();
  c.k = dims->k.back();
  c.ranges = op.getStaticLoopRanges();
  for (unsigned dim = 0, e = c.ranges.size(); dim < e; ++dim)
    if (dim != c.m && dim != c.n && dim != c.k)
      c.batch.push_back(dim);

  // Vector loads and stores along n need B and C contiguous along n (C's
  // innermost dim is n by definition).
  if (innermostDim(c.rhsMap) != c.n ||
      !cast<MemRefType>(c.rhs.getType()).isLastDimUnitStride() ||
      !cast<MemRefType>(c.out.getType()).isLastDimUnitStride())
    return failure();
  // Narrower than a vector register: the scalar loops do as well.
  if (c.ranges[c.n] < lanes)
    return failure();
  return c;
}

/// Builds the loop nest and microkernel tiles for one contraction.
class MicrokernelBuilder {
public:
  MicrokernelBuilder(const Contraction &c, TargetInfo::RegisterTile tile,
                     int64_t lanes, bool fused, Location loc)
      : c(c), tile(tile), lanes(lanes), fused(fused), loc(loc),
        ivs(c.ranges.size(), Value()) {}

  void build(OpBuilder &b) {
    SmallVector<int64_t> batchSizes;
    for (unsigned dim : c.batch)
      batchSizes.push_back(c.ranges[dim]);
    LoopBounds bounds = getZeroBasedBounds(b, loc, batchSizes);
    scf::buildLoopNest(b, loc, bounds.lower, bounds.upper, bounds.steps,
                       [&](OpBuilder &nested, Location, ValueRange batchIvs) {
                         for (auto [dim, iv] : llvm::zip(c.batch, batchIvs))
                           ivs[dim] = iv;
                         buildKBlocks(nested);
                       });
  }

private:
  void buildKBlocks(OpBuilder &b) {
    int64_t kBlock = std::max<int64_t>(
        16, kPanelBytes / (static_cast<int64_t>(tile.columns) * 4));
    forEachChunk(b, loc, c.ranges[c.k], kBlock,
                 [&](OpBuilder &kb, Value kOffset, int64_t kSize) {
                   forEachChunk(
                       kb, loc, c.ranges[c.n], tile.columns,
                       [&](OpBuilder &nb, Value n0, int64_t width) {
                         forEachChunk(nb, loc, c.ranges[c.m], tile.rows,
                                      [&](OpBuilder &mb, Value m0,
                                          int64_t rows) {
                                        buildTile(mb, m0, rows, n0, width,
                                                  kOffset, kSize);
                                      });
                       },
                       /*parallel=*/true);
                 });
  }

  /// The operand indices of `map` at the current loop ivs.
  SmallVector<Value> indices(AffineMap map) const {
    SmallVector<Value> result;
    for (unsigned i = 0, e = map.getNumResults(); i < e; ++i)
      result.push_back(ivs[map.getDimPosition(i)]);
    return result;
  }

  /// C[m0 : m0+rows, n0 : n0+width] += A[.., k0 : k0+kSize] * B[k0 : .., ..]
  ///
  /// Each row of the tile is held as separate register-sized vectors
  /// (`pieces`): a vector<24xf32> would be widened to 32 lanes by LLVM's type
  /// legalization and spill.
  void buildTile(OpBuilder &b, Value m0, int64_t rows, Value n0, int64_t width,
                 Value k0, int64_t kSize) {
    SmallVector<std::pair<Value, VectorType>> pieces; // column, type
    for (int64_t start = 0; start < width; start += lanes) {
      int64_t size = std::min(lanes, width - start);
      pieces.emplace_back(addIndex(b, loc, n0, start),
                          VectorType::get({size}, b.getF32Type()));
    }
    SmallVector<Value> rowIndex;
    for (int64_t i = 0; i < rows; ++i)
      rowIndex.push_back(addIndex(b, loc, m0, i));

    // accumulators[row * pieces + piece]
    SmallVector<Value> accumulators;
    for (Value row : rowIndex) {
      ivs[c.m] = row;
      for (auto [column, type] : pieces) {
        ivs[c.n] = column;
        accumulators.push_back(
            vector::LoadOp::create(b, loc, type, c.out, indices(c.outMap)));
      }
    }

    Value kEnd = addIndex(b, loc, k0, kSize);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, k0, kEnd, one, accumulators,
        [&](OpBuilder &kb, Location, Value k, ValueRange partial) {
          ivs[c.k] = k;
          SmallVector<Value> rhsRow;
          for (auto [column, type] : pieces) {
            ivs[c.n] = column;
            rhsRow.push_back(vector::LoadOp::create(kb, loc, type, c.rhs,
                                                    indices(c.rhsMap)));
          }
          SmallVector<Value> updated;
          for (auto [i, row] : llvm::enumerate(rowIndex)) {
            ivs[c.m] = row;
            Value lhs =
                memref::LoadOp::create(kb, loc, c.lhs, indices(c.lhsMap));
            for (auto [p, piece] : llvm::enumerate(pieces)) {
              Value splat =
                  vector::BroadcastOp::create(kb, loc, piece.second, lhs);
              updated.push_back(multiplyAdd(kb, loc, splat, rhsRow[p],
                                            partial[i * pieces.size() + p],
                                            fused));
            }
          }
          scf::YieldOp::create(kb, loc, updated);
        });

    for (auto [i, row] : llvm::enumerate(rowIndex)) {
      ivs[c.m] = row;
      for (auto [p, piece] : llvm::enumerate(pieces)) {
        ivs[c.n] = piece.first;
        vector::StoreOp::create(b, loc, loop.getResult(i * pieces.size() + p),
                                c.out, indices(c.outMap));
      }
    }
  }

  const Contraction &c;
  TargetInfo::RegisterTile tile;
  int64_t lanes;
  bool fused;
  Location loc;
  SmallVector<Value> ivs; // current value of every loop dim
};

struct QuarcVectorizeMatmul
    : impl::QuarcVectorizeMatmulBase<QuarcVectorizeMatmul> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    TargetInfo::RegisterTile tile = parsed.f32MatmulTile();
    int64_t lanes = parsed.vectorBits() / 32;

    SmallVector<std::pair<linalg::LinalgOp, Contraction>> work;
    getOperation().walk([&](linalg::LinalgOp op) {
      FailureOr<Contraction> contraction = matchContraction(op, lanes);
      if (succeeded(contraction))
        work.emplace_back(op, std::move(*contraction));
    });
    for (auto &[op, contraction] : work) {
      OpBuilder b(op);
      MicrokernelBuilder(contraction, tile, lanes, parsed.hasVectorFMA(),
                         op.getLoc())
          .build(b);
      op->erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
