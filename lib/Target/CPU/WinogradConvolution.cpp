//===- WinogradConvolution.cpp - 3x3 int8 convolutions as F(2x2, 3x3) -----===//
//
// Without VNNI, x86's int8 products are no faster than its i16 ones: the
// vpmaddubsw + vpmaddwd + vpaddd chain gives 32 products per two
// multiplies, vpmaddwd alone 16 per one (measured on Zen 3: 90 and 70
// billion products per second and core). So a stride-1 3x3 convolution
// gains from doing fewer of them, in i16: Winograd's F(2x2, 3x3) computes
// each 2x2 block of outputs from a 4x4 block of inputs with 16 products
// per channel instead of 36. In integers it is exact:
//
//   Y = A^T [U . V] A / 4,  U = (2G) g (2G)^T,  V = B^T d B
//
// with 2G's entries 0, +-1, +-2 (U is 4 x Winograd's G g G^T, exactly
// divisible back) and B's and A's 0, +-1. For s8 weights |U| <= 9 x 128 and
// for u8 inputs |V| <= 4 x 255, both i16; the sums are taken modulo 2^32,
// exact because the result, 4 x the convolution, fits i32 (below 1827
// channels of s8 weights: fitsIntegerWinograd). The 16 products per tile
// are 16 matrix products (tiles x channels) x (channels x filters), on
// vpmaddwd: a channel pair of U broadcast, a vector of 8 tiles x 2 channels
// of V.
//
// The kernel runs per image and block of tile rows (a parallel loop, over
// halves of the filters too where those iterations are few): the block's
// input transformed into V on the stack (about 128 KiB, in L2);
// then per block of 32 filters and 4 vectors of tiles, for each point the
// products of register tiles of 2 filters x 4 vectors (8 accumulators)
// over all channels, stored to scratch (that point's V, up to 16 KiB, stays
// in L1 for the block's 16 register tiles), and the output transform from
// there: the 2x2 outputs of 8 tiles as two 8-lane vectors, interleaved into
// output rows, with the bias and the requantization fused as in the other
// integer kernels (MatmulFusion.h). U is laid out in the order the kernel
// reads it, and each register tile prefetches the next one's rows.
//
//===----------------------------------------------------------------------===//

#include "IntegerDot.h"
#include "MatmulFusion.h"
#include "VectorCodegen.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCWINOGRADCONVOLUTION
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// Tiles per vector: the i32 lanes of a 256-bit register.
constexpr int64_t kTileLanes = 8;
/// Vectors of tiles per register tile, and its filters: 2 x 4 (8
/// accumulators, four loads and two broadcasts per channel pair), or 4 x 2
/// where a block has only two vectors left (as fast in L1 on Zen 3; 2 x 2
/// would load as much as it multiplies).
constexpr int64_t kTileVectors = 4;
constexpr int64_t kMaxFilterTile = 4;
int64_t getFilterTile(int64_t vectors) { return vectors >= 3 ? 2 : 4; }
/// Filters whose products for all points are kept before the output
/// transform (64 KiB of i32): within a block of filters, each point's
/// transformed input (16 KiB for 256 channels) stays in L1 while the
/// register tiles of all the block's filters read it.
constexpr int64_t kFilterBlock = 32;
/// The 4 x 4 points of a tile.
constexpr int64_t kPoints = 16;
/// About how many bytes of transformed input a block of tile rows takes
/// (in L2 with the filter's stream), and the most it may take to give the
/// register tiles their four vectors: with the products' 64 KiB, 320 KiB of
/// stack (docs/runtime.md).
constexpr int64_t kBlockBytes = 128 * 1024;
constexpr int64_t kMaxBlockBytes = 256 * 1024;
/// Parallel iterations below which the filters are split between them too.
constexpr int64_t kMinParallelIterations = 8;

// Loop dims of a packed convolution (n, f, y, i, j, c1, x, c0).
enum Dim : unsigned { N, F, Y, I, J, C1, X, C0 };

/// A stride-1 u8 x s8 convolution packed by quarc-pack-integer-weights (its
/// window is checked by getUnsupportedReason).
struct Convolution {
  linalg::GenericOp op;
  Location loc;
  Value input, filter, out;
  AffineMap outMap;
  int64_t channelPanel = 0; // filters per panel of the pixel-rows layout
  SmallVector<int64_t> ranges;

  int64_t channels() const { return ranges[C1] * ranges[C0]; }

  /// The filter's element for filter f, channel c and tap (i, j).
  int64_t filterIndex(int64_t f, int64_t c, int64_t i, int64_t j) const {
    int64_t c1 = c / ranges[C0], c0 = c % ranges[C0];
    int64_t row = channelPanel ? f / channelPanel : f;
    int64_t index = ((row * ranges[C1] + c1) * 3 + i) * 3 + j;
    if (channelPanel)
      index = index * channelPanel + f % channelPanel;
    return index * ranges[C0] + c0;
  }
};

bool isBufferOf(Value value, unsigned width) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isInteger(width) &&
         type.isLastDimUnitStride();
}

/// acc + extui(args[0]) * extsi(args[1]), nothing else.
bool isUnsignedTimesSigned(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 5)
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddIOp>();
  auto mul = add ? add.getRhs().getDefiningOp<arith::MulIOp>() : nullptr;
  if (!mul || add.getLhs() != body.getArgument(2))
    return false;
  auto lhs = mul.getLhs().getDefiningOp<arith::ExtUIOp>();
  auto rhs = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
  return lhs && rhs && lhs.getIn() == body.getArgument(0) &&
         rhs.getIn() == body.getArgument(1);
}

FailureOr<Convolution> matchConvolution(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 8 ||
      !isBufferOf(op.getDpsInputs()[0], 8) ||
      !(isBufferOf(op.getDpsInputs()[1], 8) ||
        isBufferOf(op.getDpsInputs()[1], 16)) ||
      !isBufferOf(op.getDpsInits()[0], 32) || !isUnsignedTimesSigned(op))
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Convolution conv{op,
                   op.getLoc(),
                   op.getDpsInputs()[0],
                   op.getDpsInputs()[1],
                   op.getDpsInits()[0],
                   maps[2],
                   /*channelPanel=*/0,
                   op.getStaticLoopRanges()};
  MLIRContext *ctx = op.getContext();
  auto d = [&](unsigned dim) { return getAffineDimExpr(dim, ctx); };
  if (maps[2] != AffineMap::get(8, 0, {d(N), d(F), d(Y), d(X)}, ctx))
    return failure();
  if (maps[1] != AffineMap::get(8, 0, {d(F), d(C1), d(I), d(J), d(C0)}, ctx)) {
    std::optional<int64_t> panel = matchPixelRowsFilterMap(maps[1]);
    if (!panel)
      return failure();
    conv.channelPanel = *panel;
  }
  // The input at (n, 4 c1 + c0, y + i, x + j).
  AffineMap in = maps[0];
  std::optional<std::pair<int64_t, int64_t>> rows, columns;
  if (in.getNumResults() == 4 && in.getResult(0) == d(N) &&
      in.getResult(1) == d(C1) * conv.ranges[C0] + d(C0)) {
    rows = matchWindowIndex(in.getResult(2), Y, I, 8);
    columns = matchWindowIndex(in.getResult(3), X, J, 8);
  }
  auto unit = std::make_pair(int64_t(1), int64_t(1));
  if (rows != unit || columns != unit)
    return failure();
  for (unsigned dim : {F, Y, I, J, C1, X, C0})
    if (ShapedType::isDynamic(conv.ranges[dim]))
      return failure();
  auto inputType = cast<MemRefType>(conv.input.getType());
  if (ShapedType::isDynamic(inputType.getDimSize(3)))
    return failure();
  return conv;
}

/// The transformed input of one tile row: 16 points x C x the row's tiles
/// (whole vectors of 8) x 2 bytes.
int64_t getRowBytes(const Convolution &conv) {
  int64_t tiles = llvm::alignTo(conv.ranges[X] / 2, kTileLanes);
  return kPoints * conv.channels() * tiles * 2;
}

/// Why a matched convolution does not take the Winograd kernel, or empty.
StringRef getUnsupportedReason(const Convolution &conv) {
  if (conv.ranges[I] != 3 || conv.ranges[J] != 3)
    return "not 3x3";
  if (conv.ranges[Y] % 2 || conv.ranges[X] % 2)
    return "odd output size";
  // A vector of 8 tiles is 16 output pixels: narrower rows waste most of
  // it, and rows are loaded 16 input bytes at a time.
  if (conv.ranges[X] < 14 ||
      cast<MemRefType>(conv.input.getType()).getDimSize(3) < 16)
    return "rows narrower than 14 pixels";
  if (conv.channels() % 2)
    return "an odd number of channels";
  if (getRowBytes(conv) > kMaxBlockBytes)
    return "a tile row's transformed input does not fit the stack buffer";
  return "";
}

/// The filter's weights (s8, or s16 as quarc-pack-integer-weights widens
/// them for AVX2's exact path), if it is a constant global.
std::optional<SmallVector<int64_t>> readFilter(const Convolution &conv) {
  std::optional<SmallVector<int8_t>> bytes = getGlobalBytes(conv.filter);
  if (!bytes)
    return std::nullopt;
  auto type = cast<MemRefType>(conv.filter.getType());
  if (type.getElementType().isInteger(8))
    return SmallVector<int64_t>(bytes->begin(), bytes->end());
  SmallVector<int64_t> values;
  for (size_t i = 0; i + 1 < bytes->size(); i += 2)
    values.push_back(
        int16_t(uint8_t((*bytes)[i]) | (uint16_t((*bytes)[i + 1]) << 8)));
  return values;
}

/// Whether U stays in i16 and 4 x the convolution in i32, for weights of
/// magnitude up to `weightBound` and u8 inputs.
bool fitsIntegerWinograd(const Convolution &conv, int64_t weightBound) {
  constexpr int64_t i32Max = (int64_t(1) << 31) - 1;
  return 9 * weightBound <= 32767 &&
         4 * 9 * 255 * weightBound * conv.channels() <= i32Max;
}

/// The element of the transformed filter at `point`, filter `f`, channel
/// `c`: per block of kFilterBlock filters, [16 points][filters][C] (each
/// channel pair one 32-bit word), so that a block's products read it from
/// start to end.
int64_t getTransformedIndex(int64_t point, int64_t f, int64_t c,
                            int64_t filters, int64_t channels) {
  int64_t block = f / kFilterBlock * kFilterBlock;
  int64_t size = std::min(kFilterBlock, filters - block);
  return (block * kPoints + point * size + f - block) * channels + c;
}

/// U = (2G) g (2G)^T for every filter and channel, laid out as
/// getTransformedIndex says.
SmallVector<int16_t> transformFilter(const Convolution &conv,
                                     ArrayRef<int64_t> weights) {
  static const int64_t g2[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}};
  int64_t filters = conv.ranges[F], channels = conv.channels();
  // Zeros after the end for the prefetches of the last tile's successor.
  SmallVector<int16_t> result(kPoints * filters * channels +
                              kMaxFilterTile * channels);
  for (int64_t f = 0; f < filters; ++f)
    for (int64_t c = 0; c < channels; ++c) {
      int64_t w[3][3];
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j)
          w[i][j] = weights[conv.filterIndex(f, c, i, j)];
      for (int64_t xi = 0; xi < 4; ++xi)
        for (int64_t nu = 0; nu < 4; ++nu) {
          int64_t sum = 0;
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 3; ++j)
              sum += g2[xi][i] * w[i][j] * g2[nu][j];
          result[getTransformedIndex(xi * 4 + nu, f, c, filters, channels)] =
              static_cast<int16_t>(sum);
        }
    }
  return result;
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// Winograd's input and output transforms along one dim, on vectors: B^T
/// takes four points to four, A^T four to two.
std::array<Value, 4> transformInputPoints(OpBuilder &b, Location loc,
                                          ArrayRef<Value> d) {
  auto sub = [&](Value x, Value y) {
    return arith::SubIOp::create(b, loc, x, y);
  };
  return {sub(d[0], d[2]), arith::AddIOp::create(b, loc, d[1], d[2]),
          sub(d[2], d[1]), sub(d[1], d[3])};
}

std::array<Value, 2> transformOutputPoints(OpBuilder &b, Location loc,
                                           ArrayRef<Value> m) {
  auto add = [&](Value x, Value y) {
    return arith::AddIOp::create(b, loc, x, y);
  };
  auto sub = [&](Value x, Value y) {
    return arith::SubIOp::create(b, loc, x, y);
  };
  return {add(add(m[0], m[1]), m[2]), sub(sub(m[1], m[2]), m[3])};
}

class WinogradKernelBuilder {
public:
  WinogradKernelBuilder(const Convolution &conv, Value transformedFilter,
                        const MatmulPrologue *prologue,
                        MatmulEpilogue *epilogue)
      : conv(conv), u(transformedFilter), prologue(prologue),
        epilogue(epilogue), loc(conv.loc) {
    tileRows = conv.ranges[Y] / 2;
    chunksPerRow = llvm::divideCeil(conv.ranges[X] / 2, kTileLanes);
    // As many tile rows as about kBlockBytes of transformed input hold, but
    // a register tile's vectors of tiles where kMaxBlockBytes allow (a 14 x
    // 14 image's rows are one vector each: blocks of two rows ran the
    // products of ResNet-50's 256-channel layers 20% slower), spread evenly
    // over the blocks.
    int64_t rowBytes = getRowBytes(conv);
    int64_t rows = std::max<int64_t>(
        kBlockBytes / rowBytes, llvm::divideCeil(kTileVectors, chunksPerRow));
    rows = std::clamp<int64_t>(rows, 1,
                               std::min(tileRows, kMaxBlockBytes / rowBytes));
    rowsPerBlock = llvm::divideCeil(tileRows, llvm::divideCeil(tileRows, rows));
  }

  void build(OpBuilder &b) {
    int64_t blocks = llvm::divideCeil(tileRows, rowsPerBlock);
    bool dynamicBatch = conv.ranges[N] == ShapedType::kDynamic;
    Value images = dynamicBatch
                       ? memref::DimOp::create(b, loc, conv.out, 0).getResult()
                       : indexConstant(b, loc, conv.ranges[N]);
    // Few or an odd number of (image, block) iterations would leave one of
    // two threads idle part of the time (a 14 x 14 image is blocks of 4 and
    // 3 tile rows, a 28 x 28 one 7 blocks): then the filters are split in
    // halves, the outermost dim, each half transforming the input again.
    int64_t iterations = dynamicBatch ? 0 : conv.ranges[N] * blocks;
    bool halves = !dynamicBatch &&
                  (iterations < kMinParallelIterations || iterations % 2) &&
                  conv.ranges[F] % (2 * kFilterBlock) == 0;
    filtersPerPart = halves ? conv.ranges[F] / 2 : conv.ranges[F];
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
    auto loop = scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero, zero},
        ValueRange{indexConstant(b, loc, halves ? 2 : 1), images,
                   indexConstant(b, loc, blocks)},
        ValueRange{one, one, one},
        [&](OpBuilder &pb, Location, ValueRange allIvs) {
          partStart = arith::MulIOp::create(
              pb, loc, allIvs[0], indexConstant(pb, loc, filtersPerPart));
          ValueRange ivs = allIvs.drop_front();
          image = ivs[0];
          int64_t tiles = rowsPerBlock * chunksPerRow * kTileLanes;
          transformed = memref::AllocaOp::create(
              pb, loc,
              MemRefType::get({kPoints, conv.channels() / 2, tiles * 2},
                              pb.getI16Type()),
              pb.getI64IntegerAttr(64));
          products = memref::AllocaOp::create(
              pb, loc,
              MemRefType::get(
                  {kPoints, kFilterBlock * kTileVectors, kTileLanes},
                  pb.getI32Type()),
              pb.getI64IntegerAttr(64));
          forChunkAt(pb, loc, ivs[1], tileRows, rowsPerBlock,
                     [&](OpBuilder &bb, Value firstTileRow, int64_t rows) {
                       transformInput(bb, firstTileRow, rows);
                       multiply(bb, firstTileRow, rows);
                     });
        });
    markKernelLoop(loop);
  }

private:
  /// 16 bytes of input row `y` of channel `c` from column `column` on; the
  /// lanes past the row's end (the last vector of tiles) hold other bytes
  /// of the row, never bytes past the buffer.
  Value loadRowBytes(OpBuilder &b, Value c, Value y, int64_t column) {
    int64_t width = cast<MemRefType>(conv.input.getType()).getDimSize(3);
    int64_t start = std::min(column, width - 16);
    auto type = VectorType::get({16}, b.getI8Type());
    Value bytes = vector::LoadOp::create(
        b, loc, type, conv.input,
        ValueRange{image, c, y, indexConstant(b, loc, start)});
    if (start == column)
      return bytes;
    SmallVector<int64_t> lanes;
    for (int64_t k = 0; k < 16; ++k)
      lanes.push_back(std::min<int64_t>(column - start + k, 15));
    return vector::ShuffleOp::create(b, loc, bytes, bytes, lanes);
  }

  /// Column s (0 or 1) of each of 8 tiles from `first` and `second` (16
  /// bytes of a row of two channels, the tiles' columns 0 and 1 at even and
  /// odd positions), the two channels side by side, widened to i16: the
  /// lanes (tile 0, channel 0), (tile 0, channel 1), (tile 1, channel 0)...
  Value pairColumn(OpBuilder &b, Value first, Value second, int64_t s) {
    SmallVector<int64_t> lanes;
    for (int64_t k = 0; k < kTileLanes; ++k)
      lanes.append({2 * k + s, 16 + 2 * k + s});
    Value bytes = vector::ShuffleOp::create(b, loc, first, second, lanes);
    return arith::ExtUIOp::create(
        b, loc, VectorType::get({2 * kTileLanes}, b.getI16Type()), bytes);
  }

  /// V = B^T d B of channels `c` and `c` + 1, for the 8 tiles of chunk
  /// `chunk` of tile row `tileRow`: 16 vectors of i16 (point-major), each
  /// the 8 tiles' pairs of channels, as the products read them. Both
  /// channels in one 256-bit vector halve the transform's arithmetic and
  /// need no interleaving afterwards.
  SmallVector<Value> transformChannelPair(OpBuilder &b, Value c, Value tileRow,
                                          int64_t chunk) {
    Value next = addIndex(b, loc, c, 1);
    Value firstRow =
        arith::MulIOp::create(b, loc, tileRow, indexConstant(b, loc, 2));
    int64_t column = 2 * chunk * kTileLanes;
    // d[r][s]: input row r, column s of each tile.
    Value d[4][4];
    for (int64_t r = 0; r < 4; ++r) {
      Value y = addIndex(b, loc, firstRow, r);
      for (int64_t offset : {0, 2}) {
        Value first = loadRowBytes(b, c, y, column + offset);
        Value second = loadRowBytes(b, next, y, column + offset);
        d[r][offset] = pairColumn(b, first, second, 0);
        d[r][offset + 1] = pairColumn(b, first, second, 1);
      }
    }
    // Rows first (B^T d), then columns ((B^T d) B).
    std::array<Value, 4> rowsDone[4]; // [column s][point xi]
    for (int64_t s = 0; s < 4; ++s)
      rowsDone[s] =
          transformInputPoints(b, loc, {d[0][s], d[1][s], d[2][s], d[3][s]});
    SmallVector<Value> v(kPoints);
    for (int64_t xi = 0; xi < 4; ++xi) {
      std::array<Value, 4> points = transformInputPoints(
          b, loc,
          {rowsDone[0][xi], rowsDone[1][xi], rowsDone[2][xi], rowsDone[3][xi]});
      for (int64_t nu = 0; nu < 4; ++nu)
        v[xi * 4 + nu] = points[nu];
    }
    return v;
  }

  /// The block's input transformed: for each point, channel pair and tile,
  /// the pair's two i16 side by side.
  void transformInput(OpBuilder &b, Value firstTileRow, int64_t rows) {
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
    scf::ForOp::create(
        b, loc, zero, indexConstant(b, loc, conv.channels() / 2), one,
        ValueRange{}, [&](OpBuilder &lb, Location, Value pair, ValueRange) {
          Value c =
              arith::MulIOp::create(lb, loc, pair, indexConstant(lb, loc, 2));
          for (int64_t row = 0; row < rows; ++row) {
            Value tileRow = addIndex(lb, loc, firstTileRow, row);
            for (int64_t chunk = 0; chunk < chunksPerRow; ++chunk) {
              SmallVector<Value> v =
                  transformChannelPair(lb, c, tileRow, chunk);
              int64_t tile = (row * chunksPerRow + chunk) * kTileLanes;
              for (int64_t point = 0; point < kPoints; ++point)
                vector::StoreOp::create(
                    lb, loc, v[point], transformed,
                    ValueRange{indexConstant(lb, loc, point), pair,
                               indexConstant(lb, loc, 2 * tile)});
            }
          }
          scf::YieldOp::create(lb, loc);
        });
  }

  /// The block's tiles, a register tile's vectors at a time: per block of
  /// filters, the 16 point products, then the output transform.
  void multiply(OpBuilder &b, Value firstTileRow, int64_t rows) {
    int64_t chunks = rows * chunksPerRow;
    for (int64_t first = 0; first < chunks; first += kTileVectors) {
      int64_t vectors = std::min(kTileVectors, chunks - first);
      forEachChunk(
          b, loc, filtersPerPart, kFilterBlock,
          [&](OpBuilder &fb, Value blockInPart, int64_t filters) {
            Value filterBlock =
                arith::AddIOp::create(fb, loc, partStart, blockInPart);
            multiplyPoints(fb, filterBlock, filters, first, vectors);
            Value zero = indexConstant(fb, loc, 0),
                  one = indexConstant(fb, loc, 1);
            scf::ForOp::create(
                fb, loc, zero, indexConstant(fb, loc, filters), one,
                ValueRange{},
                [&](OpBuilder &ob, Location, Value f, ValueRange) {
                  Value filter = arith::AddIOp::create(ob, loc, filterBlock, f);
                  Value slot = arith::MulIOp::create(
                      ob, loc, f, indexConstant(ob, loc, kTileVectors));
                  for (int64_t k = 0; k < vectors; ++k) {
                    int64_t chunk = first + k;
                    transformOutput(
                        ob, filter, addIndex(ob, loc, slot, k),
                        addIndex(ob, loc, firstTileRow, chunk / chunksPerRow),
                        chunk % chunksPerRow);
                  }
                  scf::YieldOp::create(ob, loc);
                });
          });
    }
  }

  /// For each point, the products of filters [filterBlock, filterBlock +
  /// filters) with `vectors` vectors of tiles from chunk `first`, over all
  /// channels, stored to `products` (row f * kTileVectors + k for filter f
  /// of the block and vector k).
  void multiplyPoints(OpBuilder &b, Value filterBlock, int64_t filters,
                      int64_t first, int64_t vectors) {
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
    scf::ForOp::create(
        b, loc, zero, indexConstant(b, loc, kPoints), one, ValueRange{},
        [&](OpBuilder &pb, Location, Value point, ValueRange) {
          forEachChunk(pb, loc, filters, getFilterTile(vectors),
                       [&](OpBuilder &tb, Value filter, int64_t count) {
                         multiplyTile(tb, point, filterBlock, filters, filter,
                                      count, first, vectors);
                       });
          scf::YieldOp::create(pb, loc);
        });
  }

  /// One register tile: filters [filter, filter + filters) of the block of
  /// `blockSize` filters from `filterBlock`, by `vectors` vectors of tiles
  /// from chunk `first`, at `point`, over all channel pairs.
  void multiplyTile(OpBuilder &b, Value point, Value filterBlock,
                    int64_t blockSize, Value filter, int64_t filters,
                    int64_t first, int64_t vectors) {
    auto accType = VectorType::get({kTileLanes}, b.getI32Type());
    auto pairType = VectorType::get({2 * kTileLanes}, b.getI16Type());
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);
    Value zeros = arith::ConstantOp::create(
        b, loc, accType,
        DenseElementsAttr::get(accType, b.getI32IntegerAttr(0)));
    SmallVector<Value> inits(filters * vectors, zeros);
    // Each filter's row of U at this point; the next register tile's rows
    // follow this one's.
    Value tileStart = transformedOffset(b, filterBlock, blockSize, point, filter);
    SmallVector<Value> rowStarts;
    for (int64_t f = 0; f < filters; ++f)
      rowStarts.push_back(addIndex(b, loc, tileStart, f * conv.channels()));
    Value nextTileStart =
        addIndex(b, loc, tileStart, filters * conv.channels());
    auto channels = scf::ForOp::create(
        b, loc, zero, indexConstant(b, loc, conv.channels() / 2), one, inits,
        [&](OpBuilder &cb, Location, Value pair, ValueRange accs) {
          SmallVector<Value> tiles;
          for (int64_t k = 0; k < vectors; ++k)
            tiles.push_back(vector::LoadOp::create(
                cb, loc, pairType, transformed,
                ValueRange{
                    point, pair,
                    indexConstant(cb, loc, 2 * (first + k) * kTileLanes)}));
          Value channel =
              arith::MulIOp::create(cb, loc, pair, indexConstant(cb, loc, 2));
          // Ask for the next register tile's rows now, 8 bytes per step (the
          // whole rows over the loop). Without it, the kernel waited on these
          // loads from memory (a 256-channel layer's U is 2 MiB, read once
          // per block).
          Value ahead = arith::AddIOp::create(
              cb, loc, nextTileStart,
              arith::MulIOp::create(cb, loc, pair, indexConstant(cb, loc, 4)));
          memref::PrefetchOp::create(cb, loc, u, ValueRange{ahead},
                                     /*isWrite=*/false, /*localityHint=*/3,
                                     /*isDataCache=*/true);
          SmallVector<Value> sums;
          for (int64_t f = 0; f < filters; ++f) {
            Value word = loadWord(
                cb, loc, u,
                ValueRange{arith::AddIOp::create(cb, loc, rowStarts[f],
                                                 channel)});
            Value weights =
                broadcastWord(cb, loc, word, kTileLanes, cb.getI16Type());
            for (int64_t k = 0; k < vectors; ++k)
              sums.push_back(buildWordPairDot(cb, loc, accs[f * vectors + k],
                                              tiles[k], weights));
          }
          scf::YieldOp::create(cb, loc, sums);
        });
    Value slot = arith::MulIOp::create(b, loc, filter,
                                       indexConstant(b, loc, kTileVectors));
    for (int64_t f = 0; f < filters; ++f)
      for (int64_t k = 0; k < vectors; ++k)
        vector::StoreOp::create(
            b, loc, channels.getResult(f * vectors + k), products,
            ValueRange{point, addIndex(b, loc, slot, f * kTileVectors + k),
                       zero});
  }

  /// Y = A^T M A / 4 for the tiles of `products` row `slot` (filter
  /// `filter`, tile row `tileRow`, chunk `chunk`), plus the initial values,
  /// stored as two output rows and through the output stage.
  void transformOutput(OpBuilder &b, Value filter, Value slot, Value tileRow,
                       int64_t chunk) {
    auto accType = VectorType::get({kTileLanes}, b.getI32Type());
    Value m[kPoints];
    for (int64_t point = 0; point < kPoints; ++point)
      m[point] =
          vector::LoadOp::create(b, loc, accType, products,
                                 ValueRange{indexConstant(b, loc, point), slot,
                                            indexConstant(b, loc, 0)});
    // Columns first (M A), then rows (A^T (M A)).
    std::array<Value, 2> columnsDone[4]; // [point row xi][output column j]
    for (int64_t xi = 0; xi < 4; ++xi)
      columnsDone[xi] = transformOutputPoints(
          b, loc, {m[xi * 4], m[xi * 4 + 1], m[xi * 4 + 2], m[xi * 4 + 3]});
    Value two = arith::ConstantOp::create(
        b, loc, accType,
        DenseElementsAttr::get(accType, b.getI32IntegerAttr(2)));
    Value firstRow =
        arith::MulIOp::create(b, loc, tileRow, indexConstant(b, loc, 2));
    int64_t column = 2 * chunk * kTileLanes;
    int64_t width = std::min(2 * kTileLanes, conv.ranges[X] - column);
    SmallVector<int64_t> interleave;
    for (int64_t k = 0; k < kTileLanes; ++k)
      interleave.append({k, k + kTileLanes});
    std::array<Value, 2> y[2]; // [output column j][output row i]
    for (int64_t j = 0; j < 2; ++j)
      y[j] = transformOutputPoints(b, loc,
                                   {columnsDone[0][j], columnsDone[1][j],
                                    columnsDone[2][j], columnsDone[3][j]});
    for (int64_t i = 0; i < 2; ++i) {
      Value even = arith::ShRSIOp::create(b, loc, y[0][i], two);
      Value odd = arith::ShRSIOp::create(b, loc, y[1][i], two);
      Value row = vector::ShuffleOp::create(b, loc, even, odd, interleave);
      Value sums = leadingLanes(b, loc, row, width);
      SmallVector<Value> ivs(8, indexConstant(b, loc, 0));
      ivs[N] = image;
      ivs[F] = filter;
      ivs[Y] = addIndex(b, loc, firstRow, i);
      ivs[X] = indexConstant(b, loc, column);
      auto sumsType = VectorType::get({width}, b.getI32Type());
      SmallVector<Value> outIndices = getMapIndices(b, loc, conv.outMap, ivs);
      Value initial =
          prologue
              ? prologue->getInitialValue(b, loc, sumsType, ivs)
              : vector::LoadOp::create(b, loc, sumsType, conv.out, outIndices)
                    .getResult();
      sums = arith::AddIOp::create(b, loc, sums, initial);
      if (!epilogue || epilogue->needsResult())
        vector::StoreOp::create(b, loc, sums, conv.out, outIndices);
      if (epilogue)
        epilogue->emit(b, loc, sums, ivs);
    }
  }

  const Convolution &conv;
  /// getTransformedIndex of channel 0 in a block of `blockSize` filters
  /// from `filterBlock`, for filter `filter` of the block.
  Value transformedOffset(OpBuilder &b, Value filterBlock, int64_t blockSize,
                          Value point, Value filter) {
    Value blockStart = arith::MulIOp::create(
        b, loc, filterBlock, indexConstant(b, loc, kPoints * conv.channels()));
    Value row = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, point, indexConstant(b, loc, blockSize)),
        filter);
    Value rowStart = arith::MulIOp::create(
        b, loc, row, indexConstant(b, loc, conv.channels()));
    return arith::AddIOp::create(b, loc, blockStart, rowStart);
  }

  Value u; // the transformed filter, flat (getTransformedIndex)
  const MatmulPrologue *prologue;
  MatmulEpilogue *epilogue;
  Location loc;
  int64_t tileRows, chunksPerRow, rowsPerBlock;
  int64_t filtersPerPart; // the filters of one parallel iteration
  // Set inside the parallel loop.
  Value partStart, image, transformed, products;
};

/// A constant global holding `values` as a flat i16 buffer, read before
/// `op`.
Value createFilterGlobal(SymbolTable &symbols, OpBuilder &b, Operation *op,
                         ArrayRef<int16_t> values) {
  int64_t size = values.size();
  auto type = MemRefType::get({size}, b.getI16Type());
  auto init = DenseElementsAttr::get(
      RankedTensorType::get({size}, b.getI16Type()), values);
  auto module = cast<ModuleOp>(symbols.getOp());
  OpBuilder globals = OpBuilder::atBlockBegin(module.getBody());
  auto global = memref::GlobalOp::create(
      globals, op->getLoc(), "__winograd_filter",
      globals.getStringAttr("private"), type, init, /*constant=*/true,
      globals.getI64IntegerAttr(64));
  symbols.insert(global);
  return memref::GetGlobalOp::create(b, op->getLoc(), type,
                                     global.getSymName());
}

/// Erases the filter's get_global, and its global, once nothing reads them.
void eraseIfUnused(SymbolTable &symbols, Value filter) {
  while (auto view = filter.getDefiningOp<ViewLikeOpInterface>()) {
    if (!view->use_empty())
      return;
    filter = view.getViewSource();
    view->erase();
  }
  auto get = filter.getDefiningOp<memref::GetGlobalOp>();
  if (!get || !get->use_empty())
    return;
  StringAttr name = get.getNameAttr().getAttr();
  get->erase();
  Operation *global = symbols.lookup(name);
  if (global && SymbolTable::symbolKnownUseEmpty(global, symbols.getOp()))
    symbols.erase(global);
}

struct QuarcWinogradConvolution
    : impl::QuarcWinogradConvolutionBase<QuarcWinogradConvolution> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    // vpmaddwd's 16 products per multiply are the u8 chain's rate only
    // without VNNI (vpdpbusd gives 64 per instruction).
    if (parsed.int8Dot() != TargetInfo::Int8Dot::MaddUbsw ||
        parsed.vectorBits() != 256)
      return;
    SymbolTable symbols(getOperation());
    SmallVector<Convolution> work;
    getOperation().walk([&](linalg::GenericOp op) {
      FailureOr<Convolution> conv = matchConvolution(op);
      if (succeeded(conv) && getUnsupportedReason(*conv).empty())
        work.push_back(std::move(*conv));
    });
    for (Convolution &conv : work) {
      std::optional<SmallVector<int64_t>> weights = readFilter(conv);
      if (!weights)
        continue;
      int64_t bound = 0;
      for (int64_t w : *weights)
        bound = std::max(bound, std::abs(w));
      if (!fitsIntegerWinograd(conv, bound))
        continue;
      SmallVector<int16_t> values = transformFilter(conv, *weights);
      OpBuilder b(conv.op);
      Value u = createFilterGlobal(symbols, b, conv.op, values);
      Value filter = conv.filter;
      replaceWithFusedKernel(
          conv.op, conv.out, conv.outMap, X, {conv.input, u},
          [&](OpBuilder &kb, const MatmulPrologue *prologue,
              MatmulEpilogue *epilogue) {
            WinogradKernelBuilder(conv, u, prologue, epilogue).build(kb);
          });
      eraseIfUnused(symbols, filter);
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
