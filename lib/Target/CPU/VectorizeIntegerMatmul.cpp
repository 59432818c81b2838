//===- VectorizeIntegerMatmul.cpp - register-tiled int8 products ----------===//
//
// The integer products quarc-pack-integer-weights leaves, as the classic
// register-blocked kernel (see VectorizeMatmul.cpp for the f32 one): a rows
// x columns tile of i32 accumulators stays in vector registers while k
// runs, four k at a time (eight with usmmla, see below). Each step loads,
// per column vector, the groups of four k of its columns (one 32-bit lane
// per column), broadcasts the four k of each tile row, and adds their dot
// products (IntegerDot.h).
//
// Two forms, told apart by their loops:
//
//  - a matrix product (batch..., m, n1, k1, n0, k0): the rows are the
//    activations (broadcast), the columns the packed weight, whose panel
//    row for a k step is read as it is;
//  - a convolution (n, [g,] f, y, i, j, c1, x, c0): the rows are the
//    output channels (the weights, broadcast), the columns the output
//    pixels of one row, x, or of several short rows. The input is read four
//    channels at a time and interleaved into a panel on the stack, once
//    per column tile and block of channels, which every row tile then
//    reads: an implicit GEMM, with the im2col copy limited to the panel.
//
// With k in groups of eight (AArch64 i8mm), both forms run on `usmmla`'s
// 2 x 2 blocks instead (buildMatrixMultiplySteps).
//
// Activations of the other signedness than the target's dot product takes
// have their sign bits flipped as they are loaded. The bias that
// initializes C and the requantization that reads it are fused around the
// kernel where they match (MatmulFusion.h).
//
//===----------------------------------------------------------------------===//

#include "IntegerDot.h"
#include "MatmulFusion.h"
#include "VectorCodegen.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCVECTORIZEINTEGERMATMUL
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// Bytes of a convolution's interleaved input panel: meant to stay in L1
/// for the broadcast-rows kernel, which loads vectors of it at every k
/// step, with room left for the filter rows it broadcasts and C (three
/// quarters of a 32 KiB L1: Zen 3's 3 x 3 layers of ResNet-50 ran 2-3%
/// faster than with panels of 32 KiB, a 1 x 1 stride-2 one 1% slower for
/// its second block); in L2 for the pixel-rows kernel, which broadcasts
/// words from one of its lines per step (the hardware's prefetcher keeps
/// up) and whose longer k blocks save transposes and accumulator round
/// trips (ResNet-50 4% faster than with 32 KB, 1% slower than with whole
/// panels of up to 295 KB; the panel is on the stack, docs/runtime.md says
/// how much).
constexpr int64_t kPanelBytes = 24 * 1024;
constexpr int64_t kPixelRowsPanelBytes = 128 * 1024;

/// Pixels in a column tile of the pixel-rows convolution kernel: a 7 x 7
/// image whole.
constexpr int64_t kPixelRowsTilePixels = 64;

/// The most pixels a column tile of whole rows takes without the
/// pixel-rows kernel (chooseWideColumnTile): its panel holds four bytes of
/// each per k step.
constexpr int64_t kMaxColumnTilePixels = 64;

/// Channel panels the pixel-rows kernel computes at once with 32 vector
/// registers: with AVX-512, 8 pixels x 2 panels take 10 loads per 16 dot
/// products where 16 pixels x 1 panel take 17, and ran 7% faster on Zen 5
/// (the broadcasts were what bounded the loop). With AVX2's 16, one panel
/// of 8 channels x 8 pixels: two panels of 4 pixels each kept the first
/// loop's sums live through the second, and LLVM spilled an accumulator in
/// the loop (18% slower on Zen 3); Zen 3's vpmaddubsw, not its loads,
/// bounds the loop of one broadcast per dot. The pixels per k loop are as
/// many as leave half the registers to the accumulators
/// (getPixelRowsLoopPixels).
constexpr int64_t kPixelRowsPanels = 2;

/// Parallel iterations below which a convolution also splits its output
/// channels between threads.
constexpr int64_t kMinParallelTiles = 8;

/// How the packed body reads the activations (args[0]).
struct ActivationRead {
  bool isUnsigned; // zero-extended u8
  bool shifted;    // u8 - 128 or s8 + 128: the other signedness
};

/// A packed integer product with its loop dims identified.
struct IntegerProduct {
  enum Form { MatMul, Convolution } form;
  linalg::GenericOp op;
  Value rows, columns, out; // broadcast operand, vector operand, C
  AffineMap rowsMap, columnsMap, outMap;
  bool rowsUnsigned; // which operand holds the (u8) activations
  ActivationRead activations;
  unsigned m;
  SmallVector<unsigned> batch; // parallel dims around the kernel
  SmallVector<unsigned> k;     // k steps: (k1) or (c1, i, j), outermost first
  unsigned group;              // the four k of a step: k0 or c0
  // MatMul: n1 and n0 (n0 is a panel's width); Convolution: x (n0 unused)
  // and y, the output row.
  unsigned n1 = 0, n0 = 0, y = 0;
  // Convolution: the input's strides along y and x (in input rows and
  // columns).
  int64_t rowStride = 1, columnStride = 1;
  // Convolution: the filter is packed in panels of `channelPanel` output
  // channels for the pixel-rows kernel (0: broadcast rows).
  int64_t channelPanel = 0;
  // Convolution: the filter's weights are i16, widened at packing time for
  // the exact vpmaddwd path (see quarc-pack-integer-weights).
  bool wideRows = false;
  // Convolution: the loops have a group dim (dim 1).
  bool grouped = false;
  // k in groups of eight (a matrix product's k0, a convolution's c0) for
  // i8mm's usmmla (see buildMatrixMultiplySteps), not four.
  bool matrixMultiply = false;
  SmallVector<int64_t> ranges;
};

bool isBuffer(Value value, unsigned width) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isInteger(width) &&
         type.isLastDimUnitStride();
}

/// The packed body: acc + ext(args[0]) * extsi(args[1]), or with the
/// activation shifted to the other signedness, (extui(args[0]) - 128) or
/// (extsi(args[0]) + 128).
std::optional<ActivationRead> matchPackedBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddIOp>();
  if (!add || add.getLhs() != body.getArgument(2))
    return std::nullopt;
  auto mul = add.getRhs().getDefiningOp<arith::MulIOp>();
  if (!mul)
    return std::nullopt;
  Value activation = mul.getLhs();
  bool shifted = false;
  Operation *shift = activation.getDefiningOp();
  if (shift && isa<arith::SubIOp, arith::AddIOp>(shift)) {
    IntegerAttr half;
    if (!matchPattern(shift->getOperand(1), m_Constant(&half)) ||
        half.getInt() != 128)
      return std::nullopt;
    activation = shift->getOperand(0);
    shifted = true;
  }
  Operation *lhs = activation.getDefiningOp();
  auto rhs = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
  if (!lhs || !isa<arith::ExtUIOp, arith::ExtSIOp>(lhs) ||
      lhs->getOperand(0) != body.getArgument(0) || !rhs ||
      rhs.getIn() != body.getArgument(1) ||
      (shifted && isa<arith::SubIOp>(shift) != isa<arith::ExtUIOp>(lhs)))
    return std::nullopt;
  return ActivationRead{isa<arith::ExtUIOp>(lhs), shifted};
}

FailureOr<IntegerProduct> matchProduct(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !isBuffer(op.getDpsInputs()[0], 8) ||
      !(isBuffer(op.getDpsInputs()[1], 8) || isBuffer(op.getDpsInputs()[1], 16)) ||
      !isBuffer(op.getDpsInits()[0], 32))
    return failure();
  std::optional<ActivationRead> read = matchPackedBody(op);
  if (!read)
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *ctx = op.getContext();
  auto dims = [&](ArrayRef<unsigned> positions) {
    SmallVector<AffineExpr> exprs;
    for (unsigned p : positions)
      exprs.push_back(getAffineDimExpr(p, ctx));
    return AffineMap::get(op.getNumLoops(), 0, exprs, ctx);
  };
  IntegerProduct p;
  p.op = op;
  p.activations = *read;
  p.ranges = op.getStaticLoopRanges();
  p.out = op.getDpsInits()[0];
  p.outMap = maps[2];
  unsigned loops = op.getNumLoops();
  // A convolution: (n, [g,] f, y, i, j, c1, x, c0), with or without groups.
  auto isConvolution = [&](bool grouped) {
    unsigned g = grouped ? 1 : 0; // dims after n move by one with groups
    // The filter at (f, c1, i, j, c0): the k steps in order.
    SmallVector<unsigned> filter = {1 + g, 5 + g, 3 + g, 4 + g, 7 + g};
    SmallVector<unsigned> out = {0, 1 + g, 2 + g, 6 + g};
    if (grouped) {
      filter.insert(filter.begin(), 1);
      out.insert(out.begin() + 1, 1);
    }
    if (loops != 8 + g || maps[2] != dims(out))
      return false;
    if (maps[1] != dims(filter)) {
      std::optional<int64_t> panel = matchPixelRowsFilterMap(maps[1]);
      if (grouped || !panel)
        return false;
      p.channelPanel = *panel;
    }
    // The input at (n, [g,] G c1 + c0, y sy + i dy, x sx + j dx), G the
    // channels of a group (4, or 8 for usmmla): what the panel's loads
    // assume.
    AffineMap in = maps[0];
    AffineExpr n = getAffineDimExpr(0, ctx);
    AffineExpr channel = getAffineDimExpr(5 + g, ctx) * p.ranges[7 + g] +
                         getAffineDimExpr(7 + g, ctx);
    if (in.getNumResults() != 4 + g || in.getResult(0) != n ||
        (grouped && in.getResult(1) != getAffineDimExpr(1, ctx)) ||
        in.getResult(1 + g) != channel)
      return false;
    std::optional<std::pair<int64_t, int64_t>> rowWindow =
        matchWindowIndex(in.getResult(2 + g), 2 + g, 3 + g, loops);
    std::optional<std::pair<int64_t, int64_t>> columnWindow =
        matchWindowIndex(in.getResult(3 + g), 6 + g, 4 + g, loops);
    if (!rowWindow || !columnWindow)
      return false;
    p.rowStride = rowWindow->first;
    p.columnStride = columnWindow->first;
    p.form = IntegerProduct::Convolution;
    p.columns = op.getDpsInputs()[0];
    p.columnsMap = maps[0];
    p.rows = op.getDpsInputs()[1];
    p.rowsMap = maps[1];
    p.rowsUnsigned = false;
    p.wideRows = isBuffer(p.rows, 16);
    p.grouped = grouped;
    p.m = 1 + g;
    p.batch = grouped ? SmallVector<unsigned>{0, 1, 3} : SmallVector<unsigned>{0, 2};
    p.k = {5 + g, 3 + g, 4 + g};
    p.group = 7 + g;
    p.n1 = 6 + g;
    p.y = 2 + g;
    return true;
  };
  if (isConvolution(/*grouped=*/false) || isConvolution(/*grouped=*/true)) {
    // matched
  } else if (loops >= 5 && isBuffer(op.getDpsInputs()[1], 8)) {
    // (batch..., m, n1, k1, n0, k0): a, packed weight, output.
    unsigned m = loops - 5;
    SmallVector<unsigned> prefix;
    for (unsigned d = 0; d <= m; ++d)
      prefix.push_back(d);
    auto with = [&](std::initializer_list<unsigned> tail) {
      SmallVector<unsigned> positions = prefix;
      positions.append(tail);
      return dims(positions);
    };
    if (maps[0] != with({m + 2, m + 4}) ||
        maps[1] != dims({m + 1, m + 2, m + 3, m + 4}) ||
        maps[2] != with({m + 1, m + 3}))
      return failure();
    p.form = IntegerProduct::MatMul;
    p.rows = op.getDpsInputs()[0];
    p.rowsMap = maps[0];
    p.columns = op.getDpsInputs()[1];
    p.columnsMap = maps[1];
    p.rowsUnsigned = true;
    p.m = m;
    p.batch = SmallVector<unsigned>(prefix.begin(), prefix.end() - 1);
    p.k = {m + 2};
    p.group = m + 4;
    p.n1 = m + 1;
    p.n0 = m + 3;
  } else {
    return failure();
  }
  p.matrixMultiply = p.ranges[p.group] == 8 && !p.channelPanel && !p.wideRows;
  if (p.ranges[p.group] != 4 && !p.matrixMultiply)
    return failure();
  // Static columns and k; rows (a sequence) and batch dims may be dynamic.
  for (unsigned d : p.k)
    if (ShapedType::isDynamic(p.ranges[d]))
      return failure();
  if (ShapedType::isDynamic(p.ranges[p.n1]) ||
      (p.form == IntegerProduct::MatMul && ShapedType::isDynamic(p.ranges[p.n0])))
    return failure();
  return p;
}

/// A run of pixels of one output row within a column vector: `width`
/// pixels from column `column` of row `row` (relative to the tile's first
/// row), in lanes [lane, lane + width).
struct Segment {
  int64_t row;
  Value column;
  int64_t x; // the column's static offset from the tile's first column
  int64_t width;
  int64_t lane;
};

/// One column vector of a tile (a product's columns; a convolution's
/// pixels, row-major over the tile's rows), as the segments of output rows
/// it covers: one, unless short rows share the tile.
struct Piece {
  SmallVector<Segment> segments;
};

class IntegerKernelBuilder {
public:
  IntegerKernelBuilder(const IntegerProduct &p, const TargetInfo &target,
                       bool pairsFitI16, const MatmulPrologue *prologue,
                       MatmulEpilogue *epilogue)
      : p(p), kind(target.int8Dot()), tile(target.int8MatmulTile()),
        lanes(target.vectorBits() / 32), registers(target.vectorRegisters()),
        maskedByteLoads(hasMaskedByteLoads(target)), pairsFitI16(pairsFitI16),
        prologue(prologue), epilogue(epilogue), loc(p.op->getLoc()),
        groupBytes(p.ranges[p.group]), ivs(p.ranges.size(), Value()) {
    // usmmla's 2 x 2 blocks: 8 rows x 2 vectors of 4 columns are 16
    // accumulators, with 4 registers of row pairs and 4 of column pairs
    // per step (24 of NEON's 32).
    if (p.matrixMultiply)
      tile = {8, unsigned(2 * lanes)};
    if (p.form == IntegerProduct::MatMul) {
      // As many column vectors as the tile has registers for, each one
      // panel (narrower than a register when N asks for it).
      panelWidth = p.ranges[p.n0];
      tile.columns = std::max<int64_t>(1, tile.columns / lanes) * panelWidth;
    } else {
      panelWidth = lanes;
      // The pixel-rows kernel streams the filter once per column tile: a
      // wide one holds a small image whole, so that the filter is read
      // once (from L3, where ResNet-50's 3 x 3 x 512 x 512 filter, 2.4 MB,
      // is, that bounded the kernel).
      if (p.channelPanel)
        tile.columns = kPixelRowsTilePixels;
      // Output rows narrower than the tile (a 7 x 7 or 14 x 14 image)
      // share column tiles: R rows of OW pixels each.
      // (They are read through the input's rows x columns as one dim, which
      // must be contiguous.)
      int64_t width = p.ranges[p.n1], height = p.ranges[p.y];
      bool rowsCanShare =
          hasContiguousRows(cast<MemRefType>(p.columns.getType())) &&
          !ShapedType::isDynamic(height);
      if (rowsCanShare && 2 * width <= tile.columns)
        rowsPerTile = std::min<int64_t>(tile.columns / width, height);
      else if (rowsCanShare && !p.channelPanel &&
               kind != TargetInfo::Int8Dot::VNNI)
        chooseWideColumnTile(width, height);
    }
    if (!columnTile) // not widened by chooseWideColumnTile
      columnTile = tile.columns;
  }

  /// Whether chooseWideColumnTile gave the column tile more vectors than
  /// the register tile has.
  bool hasWideColumnTile() const { return columnTile > tile.columns; }

  /// Column vectors the register tile holds.
  int64_t getRegisterPieces() const { return tile.columns / panelWidth; }

  /// Without the pixel-rows kernel (AVX2, NEON), rows whose width is not a
  /// multiple of the vector (28 or 14 pixels) leave lanes idle in every
  /// column tile (14 pixels in two vectors of 8: 12.5%; ResNet-50's 3 x 3
  /// layers at 14 x 14 ran at 0.87 the rate of those at 56 x 56, exactly
  /// that). A column tile of R whole rows, R x width pixels in vectors
  /// that cross rows, wastes at most the last vector's spare lanes; the
  /// register tile then runs over its vectors a few at a time, each group
  /// reading the same panel.
  void chooseWideColumnTile(int64_t width, int64_t height) {
    int64_t best = 1, bestVectors = llvm::divideCeil(width, panelWidth);
    double bestUse = double(width) / double(bestVectors * panelWidth);
    for (int64_t rows = 2;
         rows <= height && rows * width <= kMaxColumnTilePixels; ++rows) {
      int64_t vectors = llvm::divideCeil(rows * width, panelWidth);
      double use = double(rows * width) / double(vectors * panelWidth);
      if (use > bestUse + 1e-9) {
        best = rows;
        bestVectors = vectors;
        bestUse = use;
      }
    }
    if (best == 1)
      return;
    rowsPerTile = best;
    columnTile = bestVectors * panelWidth;
  }

  /// One parallel loop over the batch dims (a convolution's output rows in
  /// blocks when small rows share tiles) and the column tiles. (Splitting
  /// the rows of C too, as the f32 kernel does for small images, packed
  /// each panel once per block of rows and was slower on ResNet-50, even
  /// on two threads.)
  void build(OpBuilder &b) {
    int64_t columns = getColumnCount();
    int64_t columnTiles = llvm::divideCeil(columns, columnTile);
    // Iterations of the parallel loop: the batch dims' (the output rows in
    // blocks when small rows share tiles) times the column tiles', a
    // dynamic batch counted as 1.
    SmallVector<Value> sizes;
    int64_t iterations = columnTiles;
    for (unsigned dim : p.batch) {
      int64_t count = dim == p.y && rowsPerTile > 1
                          ? llvm::divideCeil(p.ranges[dim], rowsPerTile)
                          : p.ranges[dim];
      if (ShapedType::isDynamic(count)) {
        sizes.push_back(getLoopSize(b, dim));
      } else {
        sizes.push_back(constant(b, count));
        iterations *= count;
      }
    }
    // Few of them (a small image, a batch of one) leave a thread idle or
    // give threads unequal shares (a 14 x 14 image's tiles of 4, 4, 4 and 2
    // rows: 8 rows on one of two threads, 6 on the other): the output
    // channels are split in two halves then, each reading its half of the
    // filter (the panel is packed once per half). The halves are the
    // outermost dim, so that two threads take one half each, whatever the
    // tiles are. A dynamic batch is split so too: at a batch of one, a 7 x 7
    // image's single iteration left ResNet-50's last stage on one thread
    // (a larger batch packs each panel twice, a few percent of such a
    // layer).
    int64_t channels = p.ranges[p.m];
    int64_t channelAlign = p.channelPanel ? p.channelPanel : tile.rows;
    if (p.form == IntegerProduct::Convolution &&
        !ShapedType::isDynamic(channels) && channels > channelAlign &&
        iterations < kMinParallelTiles) {
      channelGroup =
          llvm::alignTo(llvm::divideCeil(channels, 2), channelAlign);
      sizes.insert(sizes.begin(),
                   constant(b, llvm::divideCeil(channels, channelGroup)));
    }
    sizes.push_back(constant(b, columnTiles));
    // The packed weight viewed as [N/n0, K/G, n0 * G] (G = 4, or 8 for
    // usmmla), so that one panel row is contiguous.
    if (p.form == IntegerProduct::MatMul)
      columnsPanels = memref::CollapseShapeOp::create(
          b, loc, p.columns,
          SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    // The pixel-rows filter [F/L, C4/4, KH, KW, L, 4] viewed as one row
    // of bytes per panel of L channels, k step after k step.
    if (p.channelPanel) {
      flatFilter = memref::CollapseShapeOp::create(
          b, loc, p.rows,
          SmallVector<ReassociationIndices>{{0}, {1, 2, 3, 4, 5}});
    }
    // The broadcast-rows filter [[G,] F, C4/4, KH, KW, 4] (or groups of 8
    // for usmmla) viewed as one row of weights per output channel, k step
    // after k step.
    if (p.form == IntegerProduct::Convolution && !p.channelPanel) {
      SmallVector<ReassociationIndices> groups = {{0}, {1, 2, 3, 4}};
      if (p.grouped)
        groups = {{0}, {1}, {2, 3, 4, 5}};
      flatFilter = memref::CollapseShapeOp::create(b, loc, p.rows, groups);
    }
    // Small rows sharing a tile are read through the input's rows x columns
    // collapsed: a column vector's pixels of several rows are one load.
    if (rowsPerTile > 1) {
      flatInput = collapseRows(b, p.columns);
      // C's pieces that cross rows are contiguous too when its rows are:
      // the accumulators' round trips between k blocks take one load and
      // one store each, not one per row with odd-sized parts.
      if (hasContiguousRows(cast<MemRefType>(p.out.getType())))
        flatOut = collapseRows(b, p.out);
    }
    LoopBounds bounds = getZeroBasedBounds(b, loc, sizes);
    auto loop = scf::ParallelOp::create(
        b, loc, bounds.lower, bounds.upper, bounds.steps,
        [&](OpBuilder &pb, Location, ValueRange loopIvs) {
          if (channelGroup) {
            groupIv = loopIvs.front();
            loopIvs = loopIvs.drop_front();
          }
          for (auto [dim, iv] : llvm::zip(p.batch, loopIvs))
            ivs[dim] = iv;
          if (p.form == IntegerProduct::Convolution) {
            panel = memref::AllocaOp::create(
                pb, loc,
                MemRefType::get({getStepsPerBlock(), columnTile * groupBytes},
                                pb.getI8Type()),
                pb.getI64IntegerAttr(64));
            rowBase = ivs[p.y];
          }
          // ivs[y] moves with the segments: the loop's own iv is kept.
          Value outputRow = p.form == IntegerProduct::Convolution ? ivs[p.y]
                                                                  : Value();
          auto buildColumns = [&](OpBuilder &cb) {
            rowBase = outputRow;
            if (rowsPerTile > 1) {
              // A block of whole output rows; the last may have fewer.
              forChunkAt(cb, loc, outputRow, p.ranges[p.y], rowsPerTile,
                         [&](OpBuilder &bb, Value firstRow, int64_t count) {
                           rowBase = firstRow;
                           buildColumn(bb, constant(bb, 0), columns, count);
                         });
              return;
            }
            forChunkAt(cb, loc, loopIvs.back(), columns, columnTile,
                       [&](OpBuilder &bb, Value start, int64_t width) {
                         buildColumn(bb, start, width);
                       });
          };
          buildColumns(pb);
        });
    markKernelLoop(loop);
  }

private:
  /// `buffer` with its last two dims (rows x columns) collapsed into one.
  Value collapseRows(OpBuilder &b, Value buffer) {
    int64_t rank = cast<MemRefType>(buffer.getType()).getRank();
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0; d < rank - 2; ++d)
      groups.push_back({d});
    groups.push_back({rank - 2, rank - 1});
    return memref::CollapseShapeOp::create(b, loc, buffer, groups);
  }

  /// Whether the rows of `type` (its last two dims) follow each other in
  /// memory, so that collapseRows can view them as one.
  static bool hasContiguousRows(MemRefType type) {
    SmallVector<int64_t> strides;
    int64_t offset;
    int64_t rank = type.getRank();
    return !type.isDynamicDim(rank - 1) &&
           succeeded(type.getStridesAndOffset(strides, offset)) &&
           strides[rank - 1] == 1 &&
           strides[rank - 2] == type.getDimSize(rank - 1);
  }

  /// Columns of C the kernel covers: the output row's pixels, or all
  /// panels' columns.
  int64_t getColumnCount() const {
    if (p.form == IntegerProduct::Convolution)
      return p.ranges[p.n1];
    return p.ranges[p.n1] * p.ranges[p.n0];
  }

  Value getLoopSize(OpBuilder &b, unsigned dim) const {
    if (!ShapedType::isDynamic(p.ranges[dim]))
      return arith::ConstantIndexOp::create(b, loc, p.ranges[dim]);
    std::optional<unsigned> position =
        p.outMap.getResultPosition(getAffineDimExpr(dim, b.getContext()));
    assert(position && "every parallel dim indexes the output");
    return memref::DimOp::create(b, loc, p.out, *position);
  }

  /// k steps per block: the convolution's panel holds a block of channel
  /// groups for every tap; the product reads its weight panels directly.
  int64_t getStepsPerBlock() const {
    if (p.form == IntegerProduct::MatMul)
      return p.ranges[p.k.front()];
    int64_t taps = p.ranges[p.k[1]] * p.ranges[p.k[2]];
    int64_t bytes = p.channelPanel ? kPixelRowsPanelBytes : kPanelBytes;
    int64_t groups = std::clamp<int64_t>(
        bytes / (taps * columnTile * groupBytes), 1, p.ranges[p.k.front()]);
    return groups * taps;
  }

  /// The operand indices of `map` at the current loop ivs.
  SmallVector<Value> indices(OpBuilder &b, AffineMap map) const {
    return getMapIndices(b, loc, map, ivs);
  }

  Value constant(OpBuilder &b, int64_t value) const {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// The column tile [n0, n0 + width) of `rows` output rows (from
  /// rowBase; one unless small rows share tiles): block by block of k, the
  /// row tiles.
  void buildColumn(OpBuilder &b, Value columnStart, int64_t width,
                   int64_t rows = 1) {
    // The column vectors of the tile, rows x width pixels in row-major
    // order, each up to panelWidth wide and cut where rows end.
    pieces.clear();
    for (int64_t start = 0; start < rows * width; start += panelWidth) {
      Piece piece;
      int64_t pieceWidth = std::min(panelWidth, rows * width - start);
      for (int64_t lane = 0; lane < pieceWidth;) {
        int64_t row = (start + lane) / width, x = (start + lane) % width;
        int64_t count = std::min(pieceWidth - lane, width - x);
        piece.segments.push_back(
            {row, addIndex(b, loc, columnStart, x), x, count, lane});
        lane += count;
      }
      pieces.push_back(std::move(piece));
    }
    int64_t outer = p.ranges[p.k.front()];
    int64_t blockGroups = getStepsPerBlock();
    if (p.form == IntegerProduct::Convolution)
      blockGroups /= p.ranges[p.k[1]] * p.ranges[p.k[2]];
    auto block = [&](OpBuilder &kb, Value first, int64_t count,
                     bool firstBlock, bool lastBlock) {
      if (panel)
        packPanel(kb, first, count);
      auto rowTile = [&](OpBuilder &rb, Value row, int64_t rows) {
        if (p.channelPanel)
          buildPixelRowsTile(rb, row, rows / p.channelPanel, first, count,
                             firstBlock, lastBlock);
        else
          // The register tile's vectors at a time.
          for (int64_t begin = 0; begin < int64_t(pieces.size());
               begin += getRegisterPieces())
            buildTile(rb, row, rows, first, count, firstBlock, lastBlock,
                      begin,
                      std::min<int64_t>(begin + getRegisterPieces(),
                                        pieces.size()));
      };
      // The pixel-rows kernel takes up to getPixelRowsPanels() panels of
      // output channels at a time.
      int64_t rowsPerTile =
          p.channelPanel ? getPixelRowsPanels() * p.channelPanel : tile.rows;
      channelsStart = constant(kb, 0);
      channelsSize = p.ranges[p.m];
      if (channelGroup) {
        forChunkAt(
            kb, loc, groupIv, p.ranges[p.m], channelGroup,
            [&](OpBuilder &gb, Value start, int64_t size) {
              channelsStart = start;
              channelsSize = size;
              forEachChunk(gb, loc, size, rowsPerTile,
                           [&](OpBuilder &rb, Value row, int64_t rows) {
                             rowTile(rb, arith::AddIOp::create(rb, loc, start, row), rows);
                           });
            });
      } else if (ShapedType::isDynamic(p.ranges[p.m]))
        forEachChunk(kb, loc, getLoopSize(kb, p.m), rowsPerTile, rowTile);
      else
        forEachChunk(kb, loc, p.ranges[p.m], rowsPerTile, rowTile);
    };
    // The first block may start from the bias, the last one runs the
    // output stage.
    forEachBlock(b, loc, outer, blockGroups, block);
  }

  /// Loops over the k steps of the block [first, first + count) of the
  /// outer k dim and the inner k dims, carrying `values`; `body` gets the
  /// step's index within the block.
  ValueRange forEachStep(OpBuilder &b, Value first, int64_t count,
                         ValueRange values,
                         function_ref<SmallVector<Value>(OpBuilder &, Value,
                                                         ValueRange)>
                             body) {
    auto level = [&](auto &self, OpBuilder &lb, unsigned depth, Value step,
                     ValueRange carried) -> ValueRange {
      Value lower = depth == 0 ? first : constant(lb, 0);
      Value upper = depth == 0 ? addIndex(lb, loc, first, count)
                               : constant(lb, p.ranges[p.k[depth]]);
      auto loop = scf::ForOp::create(
          lb, loc, lower, upper, constant(lb, 1), carried,
          [&](OpBuilder &nb, Location, Value iv, ValueRange inner) {
            ivs[p.k[depth]] = iv;
            // The step's position in the block, row-major over the k dims.
            Value offset = depth == 0 ? arith::SubIOp::create(nb, loc, iv, first)
                                      : iv;
            Value index =
                depth == 0 ? offset
                           : arith::AddIOp::create(
                                 nb, loc,
                                 arith::MulIOp::create(
                                     nb, loc, step,
                                     constant(nb, p.ranges[p.k[depth]])),
                                 offset);
            SmallVector<Value> next =
                depth + 1 == p.k.size()
                    ? body(nb, index, inner)
                    : llvm::to_vector(self(self, nb, depth + 1, index, inner));
            scf::YieldOp::create(nb, loc, next);
          });
      return loop.getResults();
    };
    return level(level, b, 0, Value(), values);
  }

  /// A convolution's k steps of the block [first, first + count) of
  /// channel groups as one loop (its taps not nested: the loop control of
  /// three-tap loops and LLVM's unrolling of the innermost spilled
  /// accumulators), carrying `values`; `body` gets the step's index within
  /// the block, and stepOffset is the step's first weight in a row of the
  /// flat filter. The panel's rows and the filter's rows are both in the
  /// order of the steps.
  ValueRange forEachFlatStep(
      OpBuilder &b, Value first, int64_t count, ValueRange values,
      function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)> body) {
    int64_t taps = p.ranges[p.k[1]] * p.ranges[p.k[2]];
    Value firstStep = arith::MulIOp::create(b, loc, first, constant(b, taps));
    auto loop = scf::ForOp::create(
        b, loc, constant(b, 0), constant(b, count * taps), constant(b, 1),
        values, [&](OpBuilder &sb, Location, Value step, ValueRange carried) {
          stepOffset = arith::MulIOp::create(
              sb, loc, arith::AddIOp::create(sb, loc, firstStep, step),
              constant(sb, groupBytes));
          scf::YieldOp::create(sb, loc, body(sb, step, carried));
        });
    return loop.getResults();
  }

  /// The convolution's panel for the block: row s (a k step: channel group,
  /// tap) holds, for each tile column, its group's four (or eight) channels'
  /// input bytes.
  void packPanel(OpBuilder &b, Value first, int64_t count) {
    forEachStep(b, first, count, ValueRange{},
                [&](OpBuilder &sb, Value step, ValueRange) {
                  for (auto [index, piece] : llvm::enumerate(pieces))
                    vector::StoreOp::create(
                        sb, loc, loadInterleaved(sb, piece), panel,
                        ValueRange{step,
                                   constant(sb, int64_t(index) * panelWidth *
                                                    groupBytes)});
                  return SmallVector<Value>();
                });
  }

  /// Points the ivs at a segment's first pixel.
  void setSegment(OpBuilder &b, const Segment &segment) {
    ivs[p.n1] = segment.column;
    if (p.form == IntegerProduct::Convolution)
      ivs[p.y] = addIndex(b, loc, rowBase, segment.row);
  }

  /// The input bytes of the four (usmmla: eight) channels of the current
  /// step at the pixels of `piece`, interleaved: [x0 c0..c3, x1 c0..c3,
  /// ...], zero past the piece's width.
  Value loadInterleaved(OpBuilder &b, const Piece &piece) {
    int64_t stride = p.columnStride;
    SmallVector<Value> channels;
    for (int64_t c0 = 0; c0 < groupBytes; ++c0) {
      ivs[p.group] = constant(b, c0);
      if (flatInput) {
        channels.push_back(loadAcrossRows(b, piece));
        continue;
      }
      // One row per piece: one load of its span, every stride-th byte
      // kept, zeros after it to fill the register.
      assert(piece.segments.size() == 1 && "rows share tiles through flatInput");
      const Segment &segment = piece.segments.front();
      setSegment(b, segment);
      SmallVector<int64_t> offsets;
      for (int64_t e = 0; e < segment.width; ++e)
        offsets.push_back(e * stride);
      channels.push_back(
          loadBytes(b, p.columns, indices(b, p.columnsMap), offsets));
    }
    // Interleave: pairs (c0, c1), (c2, c3), then pairs of pairs. For i16
    // weights, (c0, c2) and (c1, c3): each 16-bit word of a pixel's four
    // bytes holds c0 and c1 in its even bytes, c2 and c3 in its odd ones,
    // as buildWideWeightDot reads them.
    auto interleave = [&](Value lhs, Value rhs, int64_t unit) {
      int64_t size = cast<VectorType>(lhs.getType()).getNumElements();
      SmallVector<int64_t> mask;
      for (int64_t e = 0; e < size; e += unit) {
        for (int64_t u = 0; u < unit; ++u)
          mask.push_back(e + u);
        for (int64_t u = 0; u < unit; ++u)
          mask.push_back(size + e + u);
      }
      return vector::ShuffleOp::create(b, loc, lhs, rhs, mask).getResult();
    };
    int64_t second = p.wideRows ? 2 : 1, third = p.wideRows ? 1 : 2;
    auto interleaveQuad = [&](ArrayRef<Value> quad) {
      return interleave(interleave(quad[0], quad[second], 1),
                        interleave(quad[third], quad[3], 1), 2);
    };
    Value interleaved = interleaveQuad(ArrayRef<Value>(channels).take_front(4));
    // usmmla's groups of eight: the two quads of each pixel side by side.
    if (groupBytes == 8)
      interleaved = interleave(
          interleaved, interleaveQuad(ArrayRef<Value>(channels).drop_front(4)),
          4);
    // Shifted activations enter the panel as x ^ 0x80 = x - 128 in s8.
    return p.activations.shifted ? flipSignBits(b, interleaved) : interleaved;
  }

  /// x ^ 0x80 per byte: u8 x as the s8 value x - 128.
  Value flipSignBits(OpBuilder &b, Value bytes) {
    auto type = cast<VectorType>(bytes.getType());
    Value signs = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, APInt(8, 0x80)));
    return arith::XOrIOp::create(b, loc, bytes, signs);
  }

  /// The piece's pixels of the current channel and tap, for pieces whose
  /// segments span several output rows: one load from the first pixel to
  /// the last through the collapsed input (the rows in between are in
  /// memory between them), then one shuffle that keeps the pixels.
  Value loadAcrossRows(OpBuilder &b, const Piece &piece) {
    const Segment &front = piece.segments.front();
    setSegment(b, front);
    int64_t width = cast<MemRefType>(p.columns.getType()).getShape().back();
    SmallVector<int64_t> offsets;
    for (const Segment &segment : piece.segments)
      for (int64_t e = 0; e < segment.width; ++e)
        offsets.push_back((segment.row - front.row) * p.rowStride * width +
                          (segment.x + e - front.x) * p.columnStride);
    return loadBytes(b, flatInput,
                     flattenRowIndex(b, indices(b, p.columnsMap), width),
                     offsets);
  }

  /// The bytes of `buffer` at `offsets` (ascending) from `at` on, in the
  /// first lanes of a vector of panelWidth bytes, zeros after them: one
  /// load of the strip they span and one shuffle.
  Value loadBytes(OpBuilder &b, Value buffer, ValueRange at,
                  ArrayRef<int64_t> offsets) {
    int64_t span = offsets.back() + 1;
    // Strided strips only: for stride-1 rows that share a tile (a 7 x 7
    // image's 14-byte strips) the two loads made the kernel 1.8x slower on
    // Zen 3.
    if (!maskedByteLoads && p.columnStride > 1 && !llvm::isPowerOf2_64(span))
      return loadBytesOverlapping(b, buffer, at, offsets);
    Value strip = loadSpan(b, buffer, at, span);
    auto type = cast<VectorType>(strip.getType());
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, APInt(8, 0)));
    SmallVector<int64_t> picks(offsets);
    picks.resize(panelWidth, type.getNumElements()); // lanes past: zeros
    return vector::ShuffleOp::create(b, loc, strip, zero, picks);
  }

  /// loadBytes without masked byte loads (AVX2, NEON), for a strided strip
  /// whose length is not a power of two (8 pixels at stride 2: 15 bytes):
  /// two loads of the largest power of two that fits, one at each end of
  /// the strip (they overlap), then one shuffle of the pair. A load of the
  /// exact length is split by LLVM into 8-, 4-, 2- and 1-byte loads whose
  /// bytes the shuffle then moved one at a time (vpextrb / vpinsrb: a
  /// fifth of a stride-2 3 x 3 convolution's time on Zen 3).
  Value loadBytesOverlapping(OpBuilder &b, Value buffer, ValueRange at,
                             ArrayRef<int64_t> offsets) {
    int64_t span = offsets.back() + 1;
    int64_t half = int64_t(llvm::bit_floor(uint64_t(span))); // >= span / 2
    int64_t tailStart = span - half;
    auto type = VectorType::get({half}, b.getI8Type());
    SmallVector<Value> tailAt(at.begin(), at.end());
    tailAt.back() = addIndex(b, loc, tailAt.back(), tailStart);
    Value head = vector::LoadOp::create(b, loc, type, buffer, at);
    Value tail = vector::LoadOp::create(b, loc, type, buffer, tailAt);
    SmallVector<int64_t> picks;
    for (int64_t offset : offsets)
      picks.push_back(offset < half ? offset : half + offset - tailStart);
    picks.resize(panelWidth, 0);
    Value bytes = vector::ShuffleOp::create(b, loc, head, tail, picks);
    if (int64_t(offsets.size()) == panelWidth)
      return bytes;
    // Lanes past the pixels: zeros, as loadBytes gives.
    auto wide = cast<VectorType>(bytes.getType());
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(wide, APInt(8, 0)));
    SmallVector<int64_t> keep = llvm::to_vector(
        llvm::seq<int64_t>(0, int64_t(offsets.size())));
    keep.resize(panelWidth, panelWidth);
    return vector::ShuffleOp::create(b, loc, bytes, zero, keep);
  }

  /// `at` (indices ending in a row and a column of rows `width` wide) as
  /// the indices of the view with rows x columns collapsed (collapseRows).
  SmallVector<Value> flattenRowIndex(OpBuilder &b, SmallVector<Value> at,
                                     int64_t width) {
    Value column = at.pop_back_val();
    at.back() = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, at.back(), constant(b, width)),
        column);
    return at;
  }

  Value loadSpan(OpBuilder &b, Value buffer, ValueRange at, int64_t span) {
    return loadByteSpan(b, loc, buffer, at, span, maskedByteLoads);
  }

  /// The indices of weight `c0` of the current k step (at stepOffset) of
  /// the tile row at ivs[m] in the convolution's flat filter.
  SmallVector<Value> filterIndices(OpBuilder &b, int64_t c0) {
    SmallVector<Value> at;
    if (p.grouped)
      at.push_back(ivs[1]);
    at.push_back(ivs[p.m]);
    at.push_back(addIndex(b, loc, stepOffset, c0));
    return at;
  }

  /// The four bytes of the current k step of the tile row at ivs[m],
  /// broadcast to every lane of a vector<4 x panelWidth x i8>.
  Value broadcastRow(OpBuilder &b) {
    auto [buffer, at] = rowStepAddress(b);
    return broadcastQuad(b, buffer, at);
  }

  /// Where the current k step's bytes of the tile row at ivs[m] start: the
  /// convolution's flat filter at stepOffset, or the product's activations.
  std::pair<Value, SmallVector<Value>> rowStepAddress(OpBuilder &b) {
    if (p.form == IntegerProduct::Convolution)
      return {flatFilter, filterIndices(b, 0)};
    ivs[p.group] = constant(b, 0);
    return {p.rows, indices(b, p.rowsMap)};
  }

  /// The i16 weights (w[c0], w[c0 + 1]) of the current k step of the tile
  /// row at ivs[m] (a convolution's wide filter), broadcast to every i32
  /// lane of a vector<2 x panelWidth x i16>.
  Value broadcastRowPair(OpBuilder &b, int64_t c0) {
    return broadcastWord(b, loc,
                         loadWord(b, loc, flatFilter, filterIndices(b, c0)),
                         panelWidth, b.getI16Type());
  }

  /// The four bytes of `buffer` at `at`, broadcast to every lane of a
  /// vector<4 x panelWidth x i8>.
  Value broadcastQuad(OpBuilder &b, Value buffer, ValueRange at) {
    return broadcastByteQuad(b, loc, buffer, at, panelWidth);
  }

  /// The column operand of `piece` at the current step (index `step` in
  /// the block), or `size` of its bytes from `offset` (usmmla's column
  /// pairs).
  Value loadColumns(OpBuilder &b, Value step, int64_t index, int64_t offset = 0,
                    int64_t size = 0) {
    auto type =
        VectorType::get({size ? size : panelWidth * groupBytes}, b.getI8Type());
    if (panel)
      return vector::LoadOp::create(
          b, loc, type, panel,
          ValueRange{step,
                     constant(b, index * panelWidth * groupBytes + offset)});
    // The packed weight [n1, k1, n0, k0] at (n1, k1, 0, 0): one panel row.
    ivs[p.n1] = arith::DivUIOp::create(
        b, loc, pieces[index].segments.front().column, constant(b, panelWidth));
    ivs[p.n0] = constant(b, 0);
    ivs[p.group] = constant(b, 0);
    return vector::LoadOp::create(
        b, loc, type, columnsPanels,
        ValueRange{ivs[p.n1], ivs[p.k.front()], constant(b, offset)});
  }

  /// The indices of C for the tile row at ivs[m] and `segment`.
  SmallVector<Value> outIndices(OpBuilder &b, const Segment &segment) {
    if (p.form == IntegerProduct::Convolution) {
      setSegment(b, segment);
    } else {
      ivs[p.n1] = arith::DivUIOp::create(b, loc, segment.column,
                                         constant(b, panelWidth));
      ivs[p.n0] = constant(b, 0);
    }
    return indices(b, p.outMap);
  }

  /// C[rows at row, the column tile] += the block's k steps; the first
  /// block may start from the prologue's values, the last one ends with the
  /// epilogue.
  void buildTile(OpBuilder &b, Value row, int64_t rows, Value first,
                 int64_t count, bool firstBlock, bool lastBlock,
                 int64_t piecesBegin, int64_t piecesEnd) {
    ArrayRef<Piece> tilePieces =
        ArrayRef<Piece>(pieces).slice(piecesBegin, piecesEnd - piecesBegin);
    auto accType = VectorType::get({panelWidth}, b.getI32Type());
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < rows; ++r)
      rowIndex.push_back(addIndex(b, loc, row, r));
    SmallVector<Value> accumulators;
    for (Value r : rowIndex) {
      ivs[p.m] = r;
      for (const Piece &piece : tilePieces) {
        if (firstBlock && prologue) {
          accumulators.push_back(initialValue(b, piece, accType));
        } else {
          accumulators.push_back(loadAccumulator(b, piece, accType));
        }
      }
    }
    auto stepBody = [&](OpBuilder &sb, Value step, ValueRange partial) {
      if (p.matrixMultiply)
        return buildMatrixMultiplySteps(sb, step, rowIndex, partial,
                                        piecesBegin, piecesEnd);
      SmallVector<Value> columnValues;
      for (int64_t index = piecesBegin; index < piecesEnd; ++index)
        columnValues.push_back(loadColumns(sb, step, index));
      SmallVector<Value> updated;
      for (auto [r, rowValue] : llvm::enumerate(rowIndex)) {
        ivs[p.m] = rowValue;
        if (p.wideRows) {
          Value pair01 = broadcastRowPair(sb, 0);
          Value pair23 = broadcastRowPair(sb, 2);
          for (auto [index, columnValue] : llvm::enumerate(columnValues))
            updated.push_back(buildWideWeightDot(
                sb, loc, partial[r * tilePieces.size() + index], columnValue,
                pair01, pair23));
          continue;
        }
        Value broadcast = broadcastRow(sb);
        for (auto [index, columnValue] : llvm::enumerate(columnValues)) {
          Value u8 = p.rowsUnsigned ? broadcast : columnValue;
          Value s8 = p.rowsUnsigned ? columnValue : broadcast;
          if (p.activations.shifted && p.rowsUnsigned)
            u8 = flipSignBits(sb, u8);
          updated.push_back(buildIntegerDot(
              sb, loc, kind, partial[r * tilePieces.size() + index], u8, s8,
              pairsFitI16));
        }
      }
      return updated;
    };
    if (p.matrixMultiply)
      accumulators = swapRowsAndBlocks(b, accumulators, rows, tilePieces.size(),
                                       /*toBlocks=*/true);
    SmallVector<Value> sums = llvm::to_vector(
        p.form == IntegerProduct::Convolution
            ? forEachFlatStep(b, first, count, accumulators, stepBody)
            : forEachStep(b, first, count, accumulators, stepBody));
    if (p.matrixMultiply)
      sums = swapRowsAndBlocks(b, sums, rows, tilePieces.size(),
                               /*toBlocks=*/false);
    bool toEpilogue = lastBlock && epilogue;
    for (auto [r, rowValue] : llvm::enumerate(rowIndex)) {
      ivs[p.m] = rowValue;
      for (auto [index, piece] : llvm::enumerate(tilePieces)) {
        Value sum = sums[r * tilePieces.size() + index];
        if (!toEpilogue || epilogue->needsResult())
          storeAccumulator(b, piece, sum);
      }
      if (!toEpilogue)
        continue;
      for (size_t index = 0; index < tilePieces.size(); ++index) {
        Value sum = sums[r * tilePieces.size() + index];
        const Piece &piece = tilePieces[index];
        if (index + 1 < tilePieces.size() &&
            continueEachOther(piece, tilePieces[index + 1])) {
          // At the first piece's segment; a full segment's lanes are the
          // whole vector given (takeLanes), here both pieces'.
          emitEpilogue(
              b, concatenate(b, sum, sums[r * tilePieces.size() + index + 1]),
              piece.segments.front());
          ++index;
          continue;
        }
        for (const Segment &segment : piece.segments)
          emitEpilogue(b, sum, segment);
      }
    }
  }

  /// One k step of usmmla (i8mm) over the tile, on accumulators in 2 x 2
  /// blocks (swapRowsAndBlocks), [row pair][piece][column pair of the
  /// piece]. Each tile row pair is 16 bytes (two rows' eight k, two loads:
  /// a product's activations, a convolution's filter rows), each column
  /// pair 16 bytes of a panel row (a product's packed weight, a
  /// convolution's interleaved input); usmmla takes the u8 activations
  /// first, so a convolution's blocks are [pixel][channel]. A tile with an
  /// odd number of rows pairs its last row with itself.
  SmallVector<Value> buildMatrixMultiplySteps(OpBuilder &b, Value step,
                                              ArrayRef<Value> rowIndex,
                                              ValueRange blocks,
                                              int64_t piecesBegin,
                                              int64_t piecesEnd) {
    bool convolution = p.form == IntegerProduct::Convolution;
    auto eightBytes = VectorType::get({8}, b.getI8Type());
    int64_t rows = rowIndex.size();
    SmallVector<Value> rowPairs;
    for (int64_t r = 0; r < rows; r += 2) {
      auto loadRow = [&](int64_t row) -> Value {
        ivs[p.m] = rowIndex[row];
        auto [buffer, at] = rowStepAddress(b);
        return vector::LoadOp::create(b, loc, eightBytes, buffer, at);
      };
      Value first = loadRow(r);
      Value pair = concatenate(b, first, r + 1 < rows ? loadRow(r + 1) : first);
      if (!convolution && p.activations.shifted)
        pair = flipSignBits(b, pair);
      rowPairs.push_back(pair);
    }
    // Each piece's panel row: 4 columns x 8 k, 16 bytes per column pair.
    SmallVector<Value> columnPairs;
    for (int64_t index = piecesBegin; index < piecesEnd; ++index)
      for (int64_t half = 0; half < panelWidth / 2; ++half)
        columnPairs.push_back(loadColumns(b, step, index, half * 16, 16));
    SmallVector<Value> updated;
    for (auto [pairIndex, rowPair] : llvm::enumerate(rowPairs))
      for (auto [columnIndex, columnPair] : llvm::enumerate(columnPairs)) {
        Value block = blocks[pairIndex * columnPairs.size() + columnIndex];
        updated.push_back(
            convolution
                ? buildInt8MatrixMultiply(b, loc, block, columnPair, rowPair)
                : buildInt8MatrixMultiply(b, loc, block, rowPair, columnPair));
      }
    return updated;
  }

  /// The tile's accumulators from rows (rows x pieces vectors of 4 lanes,
  /// buildTile's form) to usmmla's 2 x 2 blocks (row pairs x column pairs:
  /// [r c, r c+1, r+1 c, r+1 c+1], for a convolution [c r, c r+1, c+1 r,
  /// c+1 r+1]), or back: `toBlocks` says which way. With an odd number of
  /// rows the last row's pair is itself (its second half is dropped on the
  /// way back).
  SmallVector<Value> swapRowsAndBlocks(OpBuilder &b, ArrayRef<Value> values,
                                       int64_t rows, int64_t numPieces,
                                       bool toBlocks) {
    assert(panelWidth == 4 && "usmmla's 128-bit blocks");
    // A product's blocks exchange 64-bit halves with the rows; a
    // convolution's are transposed besides.
    bool transposed = p.form == IntegerProduct::Convolution;
    using Mask = SmallVector<int64_t, 4>;
    Mask low = {0, 1, 4, 5}, high = {2, 3, 6, 7};
    if (transposed && toBlocks) {
      low = {0, 4, 1, 5};
      high = {2, 6, 3, 7};
    } else if (transposed) {
      low = {0, 2, 4, 6};
      high = {1, 3, 5, 7};
    }
    SmallVector<Value> result(toBlocks
                                  ? llvm::divideCeil(rows, 2) * 2 * numPieces
                                  : rows * numPieces);
    for (int64_t r = 0; r < rows; r += 2) {
      int64_t pair = r / 2;
      for (int64_t piece = 0; piece < numPieces; ++piece) {
        int64_t second = std::min(r + 1, rows - 1);
        int64_t block = (pair * numPieces + piece) * 2;
        Value lhs = toBlocks ? values[r * numPieces + piece] : values[block];
        Value rhs =
            toBlocks ? values[second * numPieces + piece] : values[block + 1];
        Value first = vector::ShuffleOp::create(b, loc, lhs, rhs, low);
        Value last = vector::ShuffleOp::create(b, loc, lhs, rhs, high);
        if (toBlocks) {
          result[block] = first;
          result[block + 1] = last;
          continue;
        }
        result[r * numPieces + piece] = first;
        if (r + 1 < rows)
          result[(r + 1) * numPieces + piece] = last;
      }
    }
    return result;
  }

  /// Whether `next` is the full vector of pixels right after the full
  /// vector `piece` in one output row: their output stage runs on both at
  /// once, one vector of twice the lanes (AVX2 packs 16 i32 to 16 bytes in
  /// five instructions, two vectors of 8 separately in eight).
  bool continueEachOther(const Piece &piece, const Piece &next) const {
    if (p.form != IntegerProduct::Convolution || piece.segments.size() != 1 ||
        next.segments.size() != 1)
      return false;
    const Segment &a = piece.segments.front(), &b = next.segments.front();
    return a.width == panelWidth && b.width == panelWidth && a.row == b.row &&
           b.x == a.x + panelWidth;
  }

  /// The lanes of `low` then those of `high`, as one vector.
  Value concatenate(OpBuilder &b, Value low, Value high) {
    int64_t lanes = cast<VectorType>(low.getType()).getNumElements();
    SmallVector<int64_t> order =
        llvm::to_vector(llvm::seq<int64_t>(0, 2 * lanes));
    return vector::ShuffleOp::create(b, loc, low, high, order);
  }

  /// The pixel-rows kernel, for small images, where a tile of output
  /// channels x vectors of pixels would leave lanes idle (49 pixels of a 7
  /// x 7 image fill four vectors of 16 to 77%): C[`panels` panels of L
  /// channels from `row`, the column tile] += the block's k steps, one
  /// piece of pixels at a time with the roles swapped. Each pixel of the
  /// piece is a row (its four panel bytes broadcast), each k step loads one
  /// vector of each panel's L channels' packed weights, so the work is
  /// proportional to the pixels there are. With two panels (AVX-512) the
  /// piece runs as two loops of half its pixels (16 accumulators each);
  /// with one (AVX2), as one loop of 8 accumulators. Each panel's
  /// L x L block of sums (pixels x channels) is transposed in registers to
  /// channels x pixels, the form of C, and ends as buildTile's tiles do:
  /// added to the initial values, then stored or run through the epilogue.
  void buildPixelRowsTile(OpBuilder &b, Value row, int64_t panels, Value first,
                          int64_t count, bool firstBlock, bool lastBlock) {
    auto accType = VectorType::get({panelWidth}, b.getI32Type());
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(accType, APInt(32, 0)));
    Value firstPanel = arith::DivUIOp::create(b, loc, row,
                                              constant(b, p.channelPanel));
    SmallVector<Value> panelIndices;
    for (int64_t q = 0; q < panels; ++q)
      panelIndices.push_back(addIndex(b, loc, firstPanel, q));
    int64_t loopPixels = getPixelRowsLoopPixels(panels);
    // One loop over the block's k steps (channel groups x taps) per piece:
    // the panel's rows and the filter's are both in that order, so both
    // are read at the step's offset (three nested loops of 3 taps spent a
    // fifth of the time on loop control).
    int64_t taps = p.ranges[p.k[1]] * p.ranges[p.k[2]];
    int64_t blockSteps = count * taps;
    Value firstStep = arith::MulIOp::create(b, loc, first, constant(b, taps));
    int64_t ordinal = 0; // of the k loop, over the pieces
    for (int64_t index = 0; index < int64_t(pieces.size()); ++index) {
      const Piece &piece = pieces[index];
      int64_t pixels = getPieceWidth(piece);
      // byPixel[q][pixel]: panel q's sums for one pixel of the piece.
      SmallVector<SmallVector<Value>> byPixel(panels);
      for (int64_t start = 0; start < pixels; start += loopPixels, ++ordinal) {
        int64_t loopCount = std::min(loopPixels, pixels - start);
        SmallVector<Value> initial(loopCount * panels, zero);
        auto loop = scf::ForOp::create(
            b, loc, constant(b, 0), constant(b, blockSteps), constant(b, 1),
            initial,
            [&](OpBuilder &sb, Location, Value step, ValueRange partial) {
              Value offset = arith::MulIOp::create(
                  sb, loc, arith::AddIOp::create(sb, loc, firstStep, step),
                  constant(sb, panelWidth * 4));
              if (ordinal < panels)
                prefetchNextPanel(sb, firstPanel, panels, ordinal, firstStep,
                                  blockSteps, step);
              SmallVector<Value> weights;
              for (Value panelIndex : panelIndices)
                weights.push_back(vector::LoadOp::create(
                    sb, loc, VectorType::get({panelWidth * 4}, sb.getI8Type()),
                    flatFilter, ValueRange{panelIndex, offset}));
              SmallVector<Value> updated;
              for (int64_t pixel = 0; pixel < loopCount; ++pixel) {
                Value activations = broadcastPanelWord(
                    sb, step, index * panelWidth * 4 + (start + pixel) * 4);
                for (int64_t q = 0; q < panels; ++q)
                  updated.push_back(buildIntegerDot(
                      sb, loc, kind, partial[pixel * panels + q], activations,
                      weights[q], pairsFitI16));
              }
              scf::YieldOp::create(sb, loc, updated);
            });
        for (int64_t pixel = 0; pixel < loopCount; ++pixel)
          for (int64_t q = 0; q < panels; ++q)
            byPixel[q].push_back(loop.getResult(pixel * panels + q));
      }
      bool toEpilogue = lastBlock && epilogue;
      for (int64_t q = 0; q < panels; ++q) {
        byPixel[q].resize(panelWidth, zero);
        SmallVector<Value> byChannel = transposeSquare(b, byPixel[q]);
        for (int64_t channel = 0; channel < p.channelPanel; ++channel) {
          ivs[p.m] = addIndex(b, loc, row, q * p.channelPanel + channel);
          Value start = firstBlock && prologue
                            ? initialValue(b, piece, accType)
                            : loadAccumulator(b, piece, accType);
          Value sum = arith::AddIOp::create(b, loc, start, byChannel[channel]);
          if (!toEpilogue || epilogue->needsResult())
            storeAccumulator(b, piece, sum);
          if (toEpilogue)
            for (const Segment &segment : piece.segments)
              emitEpilogue(b, sum, segment);
        }
      }
    }
  }

  /// Channel panels the pixel-rows kernel computes at once.
  int64_t getPixelRowsPanels() const {
    return registers >= 32 ? kPixelRowsPanels : 1;
  }

  /// Pixels per k loop of the pixel-rows kernel computing `panels` panels:
  /// their accumulators take half the vector registers (AVX-512: 8 pixels x
  /// 2 panels of 32 registers; AVX2: 8 x 1 of 16, the other 8 holding the
  /// weights, the broadcast word, the ones and vpmaddubsw's temporaries).
  int64_t getPixelRowsLoopPixels(int64_t panels) const {
    return std::min(panelWidth, registers / (2 * panels));
  }

  /// Asks L2 for row `step` of the block of the panel the kernel takes
  /// `ordinal` panels after these `panels` from `firstPanel` (after the
  /// last panel of the channels it covers, the first ones' next block):
  /// the first k loops of each call fetch the next call's filter rows a
  /// row per step, so that no loop has to stream two panels' rows from L3
  /// or memory at the rate it computes (the 7 x 7 layers of ResNet-50,
  /// whose filters are read once per run, were slower with two panels
  /// than with one until then). A call with fewer loops than panels (an
  /// image of at most 8 pixels) leaves the next ones to the hardware.
  void prefetchNextPanel(OpBuilder &b, Value firstPanel, int64_t panels,
                         int64_t ordinal, Value firstStep, int64_t blockSteps,
                         Value step) {
    int64_t rowBytes = panelWidth * 4;
    auto filterType = cast<MemRefType>(flatFilter.getType());
    int64_t size = filterType.getDimSize(1);
    Value rangeFirst = arith::DivUIOp::create(b, loc, channelsStart,
                                              constant(b, p.channelPanel));
    Value rangeEnd =
        addIndex(b, loc, rangeFirst, channelsSize / p.channelPanel);
    Value next = addIndex(b, loc, firstPanel, panels + ordinal);
    Value past = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                       next, rangeEnd);
    Value wrapped = arith::MinUIOp::create(
        b, loc, addIndex(b, loc, rangeFirst, ordinal),
        arith::SubIOp::create(b, loc, rangeEnd, constant(b, 1)));
    Value row = arith::SelectOp::create(b, loc, past, wrapped, next);
    Value blockStart = arith::SelectOp::create(
        b, loc, past, addIndex(b, loc, firstStep, blockSteps), firstStep);
    Value offset = arith::MinUIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc,
                              arith::AddIOp::create(b, loc, blockStart, step),
                              constant(b, rowBytes)),
        constant(b, size - rowBytes));
    memref::PrefetchOp::create(b, loc, flatFilter, ValueRange{row, offset},
                               /*isWrite=*/false, /*localityHint=*/2,
                               /*isDataCache=*/true);
  }

  /// The four panel bytes at [step, offset] broadcast to every lane of a
  /// vector<4 x panelWidth x i8>.
  Value broadcastPanelWord(OpBuilder &b, Value step, int64_t offset) {
    return broadcastQuad(b, panel, ValueRange{step, constant(b, offset)});
  }

  /// The transpose of the square matrix whose rows are `rows` (L vectors of
  /// L lanes, L a power of two): log2 L rounds of two-input shuffles, each
  /// swapping the off-diagonal blocks of size d within every 2d x 2d block.
  SmallVector<Value> transposeSquare(OpBuilder &b, ArrayRef<Value> rows) {
    int64_t size = rows.size();
    SmallVector<Value> result(rows.begin(), rows.end());
    for (int64_t d = 1; d < size; d *= 2) {
      SmallVector<int64_t> upper, lower; // masks over (row r, row r + d)
      for (int64_t lane = 0; lane < size; ++lane) {
        bool high = lane & d;
        upper.push_back(high ? size + lane - d : lane);
        lower.push_back(high ? size + lane : lane + d);
      }
      for (int64_t r = 0; r < size; ++r) {
        if (r & d)
          continue;
        Value top = result[r], bottom = result[r + d];
        result[r] = vector::ShuffleOp::create(b, loc, top, bottom, upper);
        result[r + d] = vector::ShuffleOp::create(b, loc, top, bottom, lower);
      }
    }
    return result;
  }

  /// The epilogue on `segment`'s lanes of `sum`.
  void emitEpilogue(OpBuilder &b, Value sum, const Segment &segment) {
    outIndices(b, segment); // sets the ivs the epilogue reads
    epilogue->emit(b, loc, takeLanes(b, sum, segment), ivs);
  }

  /// The prologue's values for `piece`: per segment, since the segments of
  /// a piece that crosses output rows may start from different ones.
  Value initialValue(OpBuilder &b, const Piece &piece, VectorType type) {
    if (piece.segments.size() == 1) {
      outIndices(b, piece.segments.front()); // sets the ivs it reads
      return prologue->getInitialValue(b, loc, type, ivs);
    }
    Value acc = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, APInt(32, 0)));
    for (const Segment &segment : piece.segments) {
      outIndices(b, segment);
      Value part = prologue->getInitialValue(
          b, loc, VectorType::get({segment.width}, type.getElementType()), ivs);
      acc = vector::InsertStridedSliceOp::create(
          b, loc, part, acc, ArrayRef<int64_t>{segment.lane},
          ArrayRef<int64_t>{1});
    }
    return acc;
  }

  /// The pixels of `piece`, all its segments'.
  static int64_t getPieceWidth(const Piece &piece) {
    int64_t width = 0;
    for (const Segment &segment : piece.segments)
      width += segment.width;
    return width;
  }

  /// The indices of flatOut (C with its rows x columns as one dim) at the
  /// first pixel of `segment`.
  SmallVector<Value> flatOutIndices(OpBuilder &b, const Segment &segment) {
    return flattenRowIndex(
        b, outIndices(b, segment),
        cast<MemRefType>(p.out.getType()).getShape().back());
  }

  /// The lanes of `vector` that hold `segment`.
  Value takeLanes(OpBuilder &b, Value vector, const Segment &segment) {
    if (segment.width == panelWidth)
      return vector;
    return vector::ExtractStridedSliceOp::create(
        b, loc, vector, ArrayRef<int64_t>{segment.lane},
        ArrayRef<int64_t>{segment.width}, ArrayRef<int64_t>{1});
  }

  Value loadAccumulator(OpBuilder &b, const Piece &piece, VectorType type) {
    const Segment &front = piece.segments.front();
    if (front.width == panelWidth)
      return vector::LoadOp::create(b, loc, type, p.out, outIndices(b, front));
    Value acc = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, APInt(32, 0)));
    if (flatOut && piece.segments.size() > 1) {
      int64_t width = getPieceWidth(piece);
      Value part = vector::LoadOp::create(
          b, loc, VectorType::get({width}, b.getI32Type()), flatOut,
          flatOutIndices(b, front));
      if (width == panelWidth)
        return part;
      return vector::InsertStridedSliceOp::create(
          b, loc, part, acc, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
    }
    for (const Segment &segment : piece.segments) {
      Value part = vector::LoadOp::create(
          b, loc, VectorType::get({segment.width}, b.getI32Type()), p.out,
          outIndices(b, segment));
      acc = vector::InsertStridedSliceOp::create(
          b, loc, part, acc, ArrayRef<int64_t>{segment.lane},
          ArrayRef<int64_t>{1});
    }
    return acc;
  }

  void storeAccumulator(OpBuilder &b, const Piece &piece, Value sum) {
    if (flatOut && piece.segments.size() > 1) {
      int64_t width = getPieceWidth(piece);
      Value part = width == panelWidth
                       ? sum
                       : vector::ExtractStridedSliceOp::create(
                             b, loc, sum, ArrayRef<int64_t>{0},
                             ArrayRef<int64_t>{width}, ArrayRef<int64_t>{1})
                             .getResult();
      vector::StoreOp::create(b, loc, part, flatOut,
                              flatOutIndices(b, piece.segments.front()));
      return;
    }
    for (const Segment &segment : piece.segments)
      vector::StoreOp::create(b, loc, takeLanes(b, sum, segment), p.out,
                              outIndices(b, segment));
  }

  const IntegerProduct &p;
  TargetInfo::Int8Dot kind;
  TargetInfo::RegisterTile tile;
  int64_t lanes;
  int64_t registers; // vector registers of the target
  bool maskedByteLoads; // AVX-512BW's vmovdqu8 with a mask
  bool pairsFitI16;
  const MatmulPrologue *prologue; // or null
  MatmulEpilogue *epilogue;       // or null
  Location loc;
  int64_t panelWidth; // columns per column vector
  int64_t groupBytes; // k per dot product group: 4, or 8 for usmmla
  SmallVector<Value> ivs;
  SmallVector<Piece> pieces;
  int64_t rowsPerTile = 1; // output rows per column tile (convolution)
  int64_t columnTile = 0;  // pixels or columns per column tile (its panel)
  Value rowBase;           // the tile's first output row (convolution)
  Value flatInput;         // the input, rows x columns collapsed
  Value flatOut;           // C so, where its rows are contiguous
  Value panel;         // the convolution's interleaved input
  // The convolution's filter, a row of weights per panel (pixel rows) or
  // per output channel (broadcast rows), k step after k step.
  Value flatFilter;
  Value stepOffset; // the current k step's first weight in a flatFilter row
  // The output channels the row tiles of the current k block cover (the
  // parallel iteration's channel group, or all).
  Value channelsStart;
  int64_t channelsSize = 0;
  int64_t channelGroup = 0; // output channels per parallel iteration, or 0
  Value groupIv;            // the parallel loop's channel group
  Value columnsPanels; // the product's packed weight, collapsed
};

struct QuarcVectorizeIntegerMatmul
    : impl::QuarcVectorizeIntegerMatmulBase<QuarcVectorizeIntegerMatmul> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    if (parsed.int8Dot() == TargetInfo::Int8Dot::None)
      return;
    std::vector<IntegerProduct> work;
    getOperation().walk([&](linalg::GenericOp op) {
      FailureOr<IntegerProduct> product = matchProduct(op);
      if (succeeded(product))
        work.push_back(std::move(*product));
    });
    int64_t lanes = parsed.vectorBits() / 32;
    for (IntegerProduct &product : work) {
      // u8 x s8 dot products take u8 activations, or s8 ones shifted; s8 x
      // s8 ones (dotprod's sdot) s8 activations, or u8 ones shifted (the
      // compensation is in the initial values: quarc-pack-integer-weights).
      ActivationRead read = product.activations;
      bool signedDot = parsed.int8Dot() == TargetInfo::Int8Dot::NeonSdot;
      if (read.isUnsigned == (signedDot != read.shifted))
        continue;
      // Panels must fill a vector register or a half or a quarter of one
      // (packed for another target, they are left to the loops).
      int64_t width = product.form == IntegerProduct::MatMul
                          ? product.ranges[product.n0]
                          : lanes;
      if (width > lanes || width < 4 || !llvm::isPowerOf2_64(width))
        continue;
      // Weights packed for usmmla (i8mm) on a target without it.
      if (product.matrixMultiply && !parsed.hasInt8MatrixMultiply())
        continue;
      // A filter packed for the pixel-rows kernel of another target, or
      // widened to i16 for another target's vpmaddwd.
      if (product.channelPanel &&
          (product.channelPanel != lanes || !hasPixelRowsKernel(parsed)))
        continue;
      if (product.wideRows &&
          (product.channelPanel ||
           parsed.int8Dot() != TargetInfo::Int8Dot::MaddUbsw))
        continue;
      // vpmaddubsw's i16 pairs: exact on the fast path only if the weights
      // say so (unknown weights take the split path).
      bool pairsFit = false;
      if (parsed.int8Dot() == TargetInfo::Int8Dot::MaddUbsw &&
          !product.wideRows) {
        Value weights = product.rowsUnsigned ? product.columns : product.rows;
        std::optional<SmallVector<int8_t>> bytes = getGlobalBytes(weights);
        pairsFit = bytes && weightPairsFitI16(*bytes);
      }
      // The bias before and the requantization after, fused as in the f32
      // kernel (MatmulFusion.h); the vectorized dim is the columns'.
      unsigned n = product.form == IntegerProduct::MatMul ? product.n0
                                                          : product.n1;
      replaceWithFusedKernel(
          product.op, product.out, product.outMap, n,
          {product.rows, product.columns},
          [&](OpBuilder &b, const MatmulPrologue *prologue,
              MatmulEpilogue *epilogue) {
            IntegerKernelBuilder(product, parsed, pairsFit, prologue, epilogue)
                .build(b);
          });
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
