//===- VectorizeMatmul.cpp - register-tiled f32 contractions --------------===//
//
// C[m, n] += A[m, k] * B[k, n] (plus batch dims) as the classic register-
// blocked kernel: a rows x columns tile of C lives in vector registers for
// the whole k loop; each k step is one contiguous load of B's row k
// (`columns` wide), `rows` broadcasts of A's column k and `rows` fused
// multiply-adds.
//
// Work is split by columns: each iteration of the kernel's parallel loop
// (over the batch dims and the column tiles) owns one column tile of C and
// runs every row tile of it, k block by k block, so the B panel of a k
// block (kept small) stays in L1 while the row tiles read it, and threads
// never share a tile. With one k dim, that panel is packed first: copied
// into an aligned stack buffer with rows one tile wide, so the tiles' loads
// are aligned and contiguous whatever B's stride.
//
// The generated code reads the operands through their indexing maps, so
// any operand order and batch broadcasting works as long as B and C are
// contiguous along n. A direct convolution (linalg.conv_2d_nchw_fchw, or
// the grouped conv_2d_ngchw_gfchw, with unit stride along the width) is
// the same kernel with three k dims
// (input channel, kernel row, kernel column) and B read from the input
// image itself: B[(c, i, j), x] = input[c, y + i, x + j], contiguous in x.
// This is an implicit GEMM, with no im2col copy.
//
//===----------------------------------------------------------------------===//

#include "MatmulFusion.h"
#include "VectorCodegen.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Affine/Utils.h"
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

/// Parallel iterations the kernel aims for, so that machines with many
/// cores get work too: when batch dims x column tiles are fewer, rows are
/// split into blocks as well.
constexpr int64_t kMinParallelTiles = 64;
/// Rows of a block at least, so that the B panel a block loads into L1
/// still serves many row tiles.
constexpr int64_t kMinBlockRows = 32;

/// A contraction the microkernel can run, with its loop dims identified.
struct Contraction {
  Value lhs, rhs, out; // A (m, k), B (k, n), C (m, n)
  AffineMap lhsMap, rhsMap, outMap;
  unsigned m, n;
  SmallVector<unsigned> k;     // reduction dims, outermost first
  SmallVector<unsigned> batch; // every other dim (all index C): parallel
  SmallVector<int64_t> ranges; // static size of every loop dim
};

/// The loop dim of `map`'s last result (all maps here are projected
/// permutations).
unsigned innermostDim(AffineMap map) {
  return map.getDimPosition(map.getNumResults() - 1);
}

bool allF32Buffers(linalg::LinalgOp op) {
  return op.hasPureBufferSemantics() &&
         llvm::all_of(op->getOperands(), isF32Buffer);
}

/// The checks both kinds of contraction share, once the dims are known:
/// vector loads and stores along n need B and C contiguous along n, and a
/// row narrower than a vector register is no better than scalar loops.
LogicalResult finishMatch(Contraction &c, int64_t lanes) {
  // The tile loops need static n and k; a dynamic m (a Gemm's batch, a
  // sequence's length) gets whole row tiles and a remainder tile of each
  // possible height, and a batch dim (a dynamic batch of images) is only
  // the bound of the parallel loop around them.
  auto isStatic = [&](unsigned dim) {
    return !ShapedType::isDynamic(c.ranges[dim]);
  };
  if (!isStatic(c.n) || !llvm::all_of(c.k, isStatic))
    return failure();
  if (!cast<MemRefType>(c.rhs.getType()).isLastDimUnitStride() ||
      !cast<MemRefType>(c.out.getType()).isLastDimUnitStride() ||
      c.ranges[c.n] < lanes)
    return failure();
  for (unsigned dim = 0, e = c.ranges.size(); dim < e; ++dim)
    if (dim != c.m && dim != c.n && !llvm::is_contained(c.k, dim))
      c.batch.push_back(dim);
  return success();
}

FailureOr<Contraction> matchContraction(linalg::LinalgOp op, int64_t lanes) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !allF32Buffers(op) || !linalg::isaContractionOpInterface(op))
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
  // in either of its sets). The kernel's m is one dim of the other input;
  // every remaining dim of C (batch dims, and extra m or n dims such as the
  // image index of a convolution) becomes a parallel loop around the
  // kernel.
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
  c.k.assign(dims->k.begin(), dims->k.end());
  c.ranges = op.getStaticLoopRanges();
  if (innermostDim(c.rhsMap) != c.n || failed(finishMatch(c, lanes)))
    return failure();
  return c;
}

/// A convolution with unit stride along the width, as a contraction whose
/// k dims are (input channel, kernel row, kernel column) and whose n dim is
/// the output column; the other dims of the output (image, group, output
/// row) are batch dims. `outChannel` is the loop dim of the output channel.
FailureOr<Contraction> matchConvolution(linalg::LinalgOp conv,
                                        DenseIntElementsAttr strides,
                                        unsigned outChannel, int64_t lanes) {
  if (!allF32Buffers(conv) || strides.getValues<int64_t>()[1] != 1)
    return failure();
  // Loop dims: ..., f, y, x, c, i, j (the named ops' order).
  SmallVector<AffineMap> maps = conv.getIndexingMapsArray();
  Contraction c;
  c.rhs = conv.getDpsInputs()[0];
  c.lhs = conv.getDpsInputs()[1];
  c.out = conv.getDpsInits()[0];
  c.rhsMap = maps[0];
  c.lhsMap = maps[1];
  c.outMap = maps[2];
  c.m = outChannel;
  c.n = outChannel + 2;
  c.k = {outChannel + 3, outChannel + 4, outChannel + 5};
  c.ranges = conv.getStaticLoopRanges();
  if (failed(finishMatch(c, lanes)))
    return failure();
  return c;
}

/// The contraction `op` is, if the microkernel can run it.
FailureOr<Contraction> matchKernelOp(linalg::LinalgOp op, int64_t lanes) {
  // conv_2d_nchw_fchw: (n, f, y, x, c, i, j).
  if (auto conv = dyn_cast<linalg::Conv2DNchwFchwOp>(op.getOperation()))
    return matchConvolution(op, conv.getStrides(), 1, lanes);
  // conv_2d_ngchw_gfchw, a grouped convolution: (n, g, f, y, x, c, i, j).
  if (auto conv = dyn_cast<linalg::Conv2DNgchwGfchwOp>(op.getOperation()))
    return matchConvolution(op, conv.getStrides(), 2, lanes);
  return matchContraction(op, lanes);
}

/// Builds the loop nest and microkernel tiles for one contraction.
class MicrokernelBuilder {
public:
  MicrokernelBuilder(const Contraction &c, TargetInfo::RegisterTile tile,
                     bool coversAllRows, int64_t lanes, bool fused,
                     const MatmulPrologue *prologue, MatmulEpilogue *epilogue,
                     Location loc)
      : c(c), tile(tile), coversAllRows(coversAllRows), lanes(lanes),
        fused(fused), prologue(prologue), epilogue(epilogue), loc(loc),
        ivs(c.ranges.size(), Value()) {}

  /// One parallel loop over the batch dims, the column tiles and, when
  /// those are too few to keep the threads busy (small images, a batch-1
  /// matmul), blocks of rows. The last column tile and row block may be
  /// smaller.
  void build(OpBuilder &b) {
    int64_t columns = c.ranges[c.n], rows = c.ranges[c.m];
    int64_t columnTiles = llvm::divideCeil(columns, tile.columns);
    // Iterations of the parallel loop, a dynamic batch counted as 1.
    int64_t iterations = columnTiles;
    SmallVector<Value> sizes;
    for (unsigned dim : c.batch) {
      sizes.push_back(getLoopSize(b, dim));
      if (!ShapedType::isDynamic(c.ranges[dim]))
        iterations *= c.ranges[dim];
    }
    // Rows known only at run time are not split into blocks.
    bool dynamicRows = ShapedType::isDynamic(rows);
    int64_t rowBlocks =
        dynamicRows ? 1
                    : std::clamp<int64_t>(
                          llvm::divideCeil(kMinParallelTiles, iterations), 1,
                          std::max<int64_t>(1, rows / kMinBlockRows));
    int64_t blockRows =
        llvm::divideCeil(llvm::divideCeil(rows, rowBlocks), tile.rows) *
        tile.rows;
    rowBlocks = llvm::divideCeil(rows, blockRows);
    // Row blocks outside column tiles: the iterations a thread runs in a row
    // share the block's rows of A, which stay in its L2 cache.
    if (rowBlocks > 1)
      sizes.push_back(arith::ConstantIndexOp::create(b, loc, rowBlocks));
    sizes.push_back(arith::ConstantIndexOp::create(b, loc, columnTiles));

    LoopBounds bounds = getZeroBasedBounds(b, loc, sizes);
    auto loop = scf::ParallelOp::create(
        b, loc, bounds.lower, bounds.upper, bounds.steps,
        [&](OpBuilder &pb, Location, ValueRange loopIvs) {
          for (auto [dim, iv] : llvm::zip(c.batch, loopIvs))
            ivs[dim] = iv;
          // One panel buffer per iteration, on the stack (quarc-parallelize-
          // loops moves it to the outlined function's entry, so iterations
          // reuse it).
          if (packsRhs())
            panelStorage = memref::AllocaOp::create(
                pb, loc,
                MemRefType::get({std::min(getKBlock(), c.ranges[c.k.front()]),
                                 tile.columns},
                                pb.getF32Type()),
                pb.getI64IntegerAttr(64));
          Value columnTile = loopIvs.back();
          forChunkAt(pb, loc, columnTile, columns, tile.columns,
                     [&](OpBuilder &cb, Value n0, int64_t width) {
                       if (rowBlocks == 1) {
                         buildColumn(cb, n0, width, /*m0=*/Value(), rows);
                         return;
                       }
                       assert(!dynamicRows && "dynamic rows are one block");
                       forChunkAt(cb, loc, loopIvs[c.batch.size()], rows, blockRows,
                                  [&](OpBuilder &rb, Value m0, int64_t count) {
                                    buildColumn(rb, n0, width, m0, count);
                                  });
                     });
        });
    markKernelLoop(loop);
  }

private:
  /// The size of loop dim `dim`: a constant, or (a dynamic batch dim) the
  /// size of the output dim it indexes.
  Value getLoopSize(OpBuilder &b, unsigned dim) const {
    if (!ShapedType::isDynamic(c.ranges[dim]))
      return arith::ConstantIndexOp::create(b, loc, c.ranges[dim]);
    std::optional<unsigned> position =
        c.outMap.getResultPosition(getAffineDimExpr(dim, b.getContext()));
    assert(position && "every batch dim indexes the output");
    return memref::DimOp::create(b, loc, c.out, *position);
  }

  /// The row tiles [m0, m0 + rowCount) of the column tile [n0, n0 + width)
  /// (a null m0 is row 0), k block by k block. Blocks are taken along the
  /// outermost k dim.
  void buildColumn(OpBuilder &b, Value n0, int64_t width, Value m0,
                   int64_t rowCount) {
    int64_t kBlock = getKBlock();
    int64_t kTotal = c.ranges[c.k.front()];
    auto buildRowTiles = [&](OpBuilder &kb, Value kOffset, int64_t kSize,
                             bool first, bool last) {
      auto rowTile = [&](OpBuilder &mb, Value offset, int64_t rows) {
        Value row = m0 ? arith::AddIOp::create(mb, loc, m0, offset) : offset;
        buildTile(mb, row, rows, n0, width, kOffset, kSize, first, last);
      };
      if (ShapedType::isDynamic(rowCount))
        forEachChunk(kb, loc, getLoopSize(kb, c.m), tile.rows, rowTile);
      else
        forEachChunk(kb, loc, rowCount, tile.rows, rowTile);
    };
    auto buildBlock = [&](OpBuilder &kb, Value kOffset, int64_t kSize,
                          bool first, bool last) {
      if (panelStorage) {
        // The block's rows of B, copied into the contiguous, aligned panel
        // that every row tile then reads.
        packRhs(kb, n0, width, kOffset, kSize);
        panelStart = kOffset;
      }
      buildRowTiles(kb, kOffset, kSize, first, last);
    };
    // The first block may start from a fill value, the last one runs the
    // epilogue.
    forEachBlock(b, loc, kTotal, kBlock, buildBlock);
  }

  /// The operand indices of `map` at the current loop ivs.
  SmallVector<Value> indices(OpBuilder &b, AffineMap map) const {
    return getMapIndices(b, loc, map, ivs);
  }

  /// C[m0 : m0+rows, n0 : n0+width] += A[.., k block] * B[k block, ..]
  ///
  /// Each row of the tile is held as separate register-sized vectors
  /// (`pieces`): a vector<24xf32> would be widened to 32 lanes by LLVM's type
  /// legalization and spill.
  void buildTile(OpBuilder &b, Value m0, int64_t rows, Value n0, int64_t width,
                 Value k0, int64_t kSize, bool firstBlock, bool lastBlock) {
    bool fromPrologue = firstBlock && prologue;
    bool toEpilogue = lastBlock && epilogue;
    pieces.clear();
    for (int64_t start = 0; start < width; start += lanes) {
      int64_t size = std::min(lanes, width - start);
      pieces.emplace_back(addIndex(b, loc, n0, start),
                          VectorType::get({size}, b.getF32Type()));
    }
    rowIndex.clear();
    for (int64_t i = 0; i < rows; ++i)
      rowIndex.push_back(addIndex(b, loc, m0, i));

    // accumulators[row * pieces + piece]
    SmallVector<Value> accumulators;
    for (Value row : rowIndex) {
      ivs[c.m] = row;
      for (auto [column, type] : pieces) {
        ivs[c.n] = column;
        accumulators.push_back(
            fromPrologue ? prologue->getInitialValue(b, loc, type, ivs)
                         : vector::LoadOp::create(b, loc, type, c.out,
                                                  indices(b, c.outMap))
                               .getResult());
      }
    }

    ValueRange sums = buildKLoops(b, 0, accumulators, k0, kSize);

    for (auto [i, row] : llvm::enumerate(rowIndex)) {
      ivs[c.m] = row;
      for (auto [p, piece] : llvm::enumerate(pieces)) {
        ivs[c.n] = piece.first;
        Value sum = sums[i * pieces.size() + p];
        if (!toEpilogue || epilogue->needsResult())
          vector::StoreOp::create(b, loc, sum, c.out, indices(b, c.outMap));
        if (toEpilogue)
          epilogue->emit(b, loc, sum, ivs);
      }
    }
  }

  /// The k loop nest carrying the accumulators: k dim `level` and those
  /// inside it; the outermost covers the block [k0, k0 + kSize).
  ValueRange buildKLoops(OpBuilder &b, unsigned level, ValueRange accumulators,
                         Value k0, int64_t kSize) {
    Value lower = level == 0 ? k0 : arith::ConstantIndexOp::create(b, loc, 0);
    Value upper =
        level == 0 ? addIndex(b, loc, k0, kSize)
                   : arith::ConstantIndexOp::create(b, loc,
                                                    c.ranges[c.k[level]]);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, lower, upper, one, accumulators,
        [&](OpBuilder &kb, Location, Value k, ValueRange partial) {
          ivs[c.k[level]] = k;
          SmallVector<Value> updated =
              level + 1 == c.k.size()
                  ? buildKStep(kb, partial)
                  : llvm::to_vector(
                        buildKLoops(kb, level + 1, partial, k0, kSize));
          scf::YieldOp::create(kb, loc, updated);
        });
    return loop.getResults();
  }

  /// Outer k dim iterations per block: the B panel of a column tile (k
  /// block x tile columns) is kPanelBytes.
  int64_t getKBlock() const {
    // A tile covering all rows reads each row of B once: there is no panel
    // to keep in L1, and its accumulators stay in registers for all of k.
    if (coversAllRows)
      return c.ranges[c.k.front()];
    int64_t innerK = 1;
    for (unsigned dim : ArrayRef(c.k).drop_front())
      innerK *= c.ranges[dim];
    return std::max<int64_t>(
        1, kPanelBytes / (static_cast<int64_t>(tile.columns) * 4 * innerK));
  }

  /// Whether B is packed: for a single k dim (a convolution's windows are
  /// already contiguous rows of its input), unless the tile covers all of
  /// the product's few rows (see runOnOperation).
  bool packsRhs() const { return c.k.size() == 1 && !coversAllRows; }

  /// panel[kk][j] = B[k0 + kk][n0 + j], for the column's pieces.
  void packRhs(OpBuilder &b, Value n0, int64_t width, Value k0,
               int64_t kSize) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value end = arith::ConstantIndexOp::create(b, loc, kSize);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    scf::ForOp::create(
        b, loc, zero, end, one, ValueRange{},
        [&](OpBuilder &lb, Location, Value kk, ValueRange) {
          ivs[c.k.front()] = arith::AddIOp::create(lb, loc, k0, kk);
          for (int64_t start = 0; start < width; start += lanes) {
            auto vectorType = VectorType::get({std::min(lanes, width - start)},
                                              lb.getF32Type());
            ivs[c.n] = addIndex(lb, loc, n0, start);
            Value row = vector::LoadOp::create(lb, loc, vectorType, c.rhs,
                                               indices(lb, c.rhsMap));
            vector::StoreOp::create(
                lb, loc, row, panelStorage,
                ValueRange{kk, arith::ConstantIndexOp::create(lb, loc, start)});
          }
          scf::YieldOp::create(lb, loc);
        });
  }

  /// One k step: a row of B, a broadcast of A per tile row, the FMAs.
  SmallVector<Value> buildKStep(OpBuilder &b, ValueRange partial) {
    SmallVector<Value> rhsRow;
    // In the packed panel, row k - k0; piece p starts at column p * lanes.
    Value panelRow = panelStorage ? arith::SubIOp::create(b, loc,
                                                          ivs[c.k.front()],
                                                          panelStart)
                                  : Value();
    for (auto [p, piece] : llvm::enumerate(pieces)) {
      auto [column, type] = piece;
      ivs[c.n] = column;
      rhsRow.push_back(
          panelStorage
              ? vector::LoadOp::create(
                    b, loc, type, panelStorage,
                    ValueRange{panelRow, arith::ConstantIndexOp::create(
                                             b, loc, int64_t(p) * lanes)})
              : vector::LoadOp::create(b, loc, type, c.rhs,
                                       indices(b, c.rhsMap)));
    }
    SmallVector<Value> updated;
    for (auto [i, row] : llvm::enumerate(rowIndex)) {
      ivs[c.m] = row;
      Value lhs = memref::LoadOp::create(b, loc, c.lhs, indices(b, c.lhsMap));
      for (auto [p, piece] : llvm::enumerate(pieces)) {
        Value splat = vector::BroadcastOp::create(b, loc, piece.second, lhs);
        updated.push_back(multiplyAdd(b, loc, splat, rhsRow[p],
                                      partial[i * pieces.size() + p], fused));
      }
    }
    return updated;
  }

  const Contraction &c;
  TargetInfo::RegisterTile tile;
  bool coversAllRows;
  int64_t lanes;
  bool fused;
  const MatmulPrologue *prologue; // or null
  MatmulEpilogue *epilogue;       // or null
  Location loc;
  SmallVector<Value> ivs; // current value of every loop dim
  // The tile being built: its column vectors (start, type) and rows.
  SmallVector<std::pair<Value, VectorType>> pieces;
  SmallVector<Value> rowIndex;
  // The stack buffer B's k blocks are packed into, if B is packed, and the
  // first k of the block it holds.
  Value panelStorage;
  Value panelStart;
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

    std::vector<std::pair<linalg::LinalgOp, Contraction>> work;
    getOperation().walk([&](linalg::LinalgOp op) {
      FailureOr<Contraction> contraction = matchKernelOp(op, lanes);
      if (succeeded(contraction))
        work.emplace_back(op, std::move(*contraction));
    });
    for (auto &item : work) {
      linalg::LinalgOp op = item.first;
      const Contraction &contraction = item.second;
      // A product with fewer rows than the tile (batch 1, a recurrent
      // layer's step) gets a wider tile that covers all its rows. That one
      // tile reads each panel of B once, so B is not packed for it: the
      // copy would read B as often as the product itself does.
      int64_t rows = contraction.ranges[contraction.m];
      bool fewRows = !ShapedType::isDynamic(rows) && rows < tile.rows;
      replaceWithFusedKernel(
          op, contraction.out, contraction.outMap, contraction.n,
          {contraction.lhs, contraction.rhs},
          [&](OpBuilder &b, const MatmulPrologue *prologue,
              MatmulEpilogue *epilogue) {
            MicrokernelBuilder(contraction,
                               fewRows ? parsed.f32MatmulTile(rows) : tile,
                               fewRows, lanes, parsed.hasVectorFMA(), prologue,
                               epilogue, op.getLoc())
                .build(b);
          });
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
