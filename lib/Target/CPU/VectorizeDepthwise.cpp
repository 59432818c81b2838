//===- VectorizeDepthwise.cpp - vector code for depthwise convolutions ----===//
//
// A depthwise convolution has no reduction over channels: each output
// pixel is a KH x KW dot product within one channel. The kernel computes a
// strip of pixels of one output row in registers: per filter tap, one load
// of the matching input strip and one multiply-add with the tap's weight
// broadcast. Along a row the input strip is contiguous for stride 1; for
// stride 2 it is every other element of a twice-as-long load, picked out by
// a shuffle.
//
// The integer form (u8 input, s8 filter, i32 accumulators, as
// quarc-pack-integer-weights leaves an integer depthwise convolution) is
// the same kernel: the strip is widened to i32 and multiplied by the
// widened weight. Where the filter is packed in quads of taps along its
// rows (hasDepthwiseQuadKernel), a step takes four taps at once instead:
// one load per filter row of the input strip the register's pixels read,
// a byte permute that gives each pixel's i32 lane the four input bytes of
// its taps, and one dot product step with the quad of weights broadcast.
// Other x86 targets with 256-bit or wider vectors take two taps per step
// (hasDepthwisePairKernel; the filter packed as i16 in rows of pairs of
// taps): each 128-bit lane of a register, four pixels, gets the input
// bytes of its pixels' taps t and t + 1 as zero-extended 16-bit words by
// one in-lane byte shuffle (`vpshufb`) of the strip those pixels read (both
// lanes one 16-byte load where a register's pixels read at most 16 bytes),
// and `vpmaddwd` adds their products with the taps' weights, one i32 word
// of the filter broadcast, in i32 (exact).
//
//
// Max and min pooling windows are the same loops without a filter: per tap
// one load of the input strip (the same strided loads) and one vector max
// or min, in the input's own element type, a register of elements at a
// time (32 u8 pixels with AVX2).
//
//===----------------------------------------------------------------------===//

#include "IntegerDot.h"
#include "VectorCodegen.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCVECTORIZEDEPTHWISE
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// Output pixels per strip, in vector registers.
constexpr int64_t kStripRegisters = 2;


struct DepthwiseConv {
  Value input, filter, output; // [N, C, H, W], [C, KH, KW], [N, C, OH, OW]
  SmallVector<int64_t> strides, dilations;
  /// u8 input, s8 filter (or s8 values in i16), i32 output
  /// (quarc-pack-integer-weights' form of an integer depthwise convolution)
  /// rather than f32.
  bool integer = false;
  /// The integer filter's memory with rows of a multiple of four taps (s8,
  /// [C, KH, KW4]) or two (i16, [C, KH, KW2]), zeros past KW, if it is so
  /// stored: the filter itself, or the padded constant it is a slice of
  /// (quarc-pack-integer-weights).
  Value paddedRows = {};
  int64_t kernelHeight = 0, kernelWidth = 0;
  /// A max or min pool: no filter (`filter` is the window's shape operand,
  /// never read); each tap combines the strip with this op's kind (an
  /// arith max or min of the output and the input).
  std::optional<OperationName> pool;
};

/// Strips are loaded and stored along the last dim: it must be contiguous.
/// Only the batch (the first dim) may be dynamic.
bool isRowContiguousF32Buffer(Value value) {
  return isF32BufferWithStaticTail(value) &&
         cast<MemRefType>(value.getType()).isLastDimUnitStride();
}

FailureOr<DepthwiseConv> matchDepthwise(linalg::DepthwiseConv2DNchwChwOp op) {
  DepthwiseConv conv{op.getInputs()[0], op.getInputs()[1],
                     op.getOutputs()[0],
                     llvm::to_vector(op.getStrides().getValues<int64_t>()),
                     llvm::to_vector(op.getDilations().getValues<int64_t>())};
  if (!op.hasPureBufferSemantics() || !isRowContiguousF32Buffer(conv.input) ||
      !isRowContiguousF32Buffer(conv.filter) ||
      !isRowContiguousF32Buffer(conv.output))
    return failure();
  ArrayRef<int64_t> filterShape =
      cast<MemRefType>(conv.filter.getType()).getShape();
  conv.kernelHeight = filterShape[1];
  conv.kernelWidth = filterShape[2];
  return conv;
}

/// Rows along a contiguous last dim, static but perhaps for the batch.
bool hasContiguousStaticRows(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.isLastDimUnitStride() &&
         llvm::none_of(type.getShape().drop_front(), ShapedType::isDynamic);
}

bool isRowContiguousBuffer(Value value, unsigned width) {
  return hasContiguousStaticRows(value) &&
         cast<MemRefType>(value.getType()).getElementType().isInteger(width);
}

unsigned elementBits(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getElementTypeBitWidth();
}

/// The memory of a [C, KH, KW] filter with rows of a multiple of `taps`
/// taps (zeros past KW), or null: the filter itself if it is contiguous and
/// KW is a multiple of `taps`, or the contiguous [C, KH, alignTo(KW, taps)]
/// buffer it is the leading slice of, if that holds zeros past KW (a
/// constant).
Value getPaddedRows(Value filter, int64_t taps) {
  auto type = cast<MemRefType>(filter.getType());
  ArrayRef<int64_t> shape = type.getShape();
  if (type.hasStaticShape() && type.getLayout().isIdentity() &&
      shape[2] % taps == 0)
    return filter;
  auto slice = filter.getDefiningOp<memref::SubViewOp>();
  if (!slice)
    return nullptr;
  Value source = slice.getSource();
  auto sourceType = cast<MemRefType>(source.getType());
  ArrayRef<int64_t> sourceShape = sourceType.getShape();
  if (!sourceType.hasStaticShape() || !sourceType.getLayout().isIdentity() ||
      sourceShape.size() != 3 || sourceShape[0] != shape[0] ||
      sourceShape[1] != shape[1] ||
      sourceShape[2] != int64_t(llvm::alignTo(shape[2], taps)) ||
      !llvm::all_of(slice.getStaticOffsets(),
                    [](int64_t offset) { return offset == 0; }) ||
      !llvm::all_of(slice.getStaticStrides(),
                    [](int64_t stride) { return stride == 1; }))
    return nullptr;
  std::optional<SmallVector<int8_t>> bytes = getGlobalBytes(source);
  if (!bytes)
    return nullptr;
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  for (int64_t at = 0; at < int64_t(bytes->size()); ++at)
    if (at / elementBytes % sourceShape[2] >= shape[2] && (*bytes)[at] != 0)
      return nullptr;
  return source;
}

/// Whether `op`'s maps are a window's over loops (n, c, y, x, i, j): the
/// input at (n, c, y * sy + i * dy, x * sx + j * dx), the output at (n, c,
/// y, x), the second operand at the loop dims `second` (a filter's (c, i,
/// j), a pool's window shape (i, j)), the window static. Records the
/// strides, dilations and window size.
bool matchWindowMaps(linalg::GenericOp op, ArrayRef<unsigned> second,
                     DepthwiseConv &conv) {
  MLIRContext *ctx = op.getContext();
  auto dims = [&](ArrayRef<unsigned> positions) {
    SmallVector<AffineExpr> exprs;
    for (unsigned p : positions)
      exprs.push_back(getAffineDimExpr(p, ctx));
    return AffineMap::get(6, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[1] != dims(second) || maps[2] != dims({0, 1, 2, 3}) ||
      maps[0].getNumResults() != 4 ||
      maps[0].getResult(0) != dims({0}).getResult(0) ||
      maps[0].getResult(1) != dims({1}).getResult(0))
    return false;
  for (auto [result, outer, inner] : {std::tuple{2u, 2u, 4u}, {3u, 3u, 5u}}) {
    std::optional<std::pair<int64_t, int64_t>> window =
        matchWindowIndex(maps[0].getResult(result), outer, inner, 6);
    if (!window)
      return false;
    conv.strides.push_back(window->first);
    conv.dilations.push_back(window->second);
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  conv.kernelHeight = ranges[4];
  conv.kernelWidth = ranges[5];
  return !ShapedType::isDynamic(conv.kernelHeight) &&
         !ShapedType::isDynamic(conv.kernelWidth);
}

/// quarc-pack-integer-weights' depthwise form: loops (n, c, y, x, i, j),
/// input (n, c, y * sy + i * dy, x * sx + j * dx), filter (c, i, j; i8 or
/// i16), output (n, c, y, x), body acc + extui(input) * extsi(filter).
FailureOr<DepthwiseConv> matchIntegerDepthwise(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 6 ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return failure();
  DepthwiseConv conv{
      op.getDpsInputs()[0], op.getDpsInputs()[1], op.getDpsInits()[0], {}, {},
      /*integer=*/true};
  if (!isRowContiguousBuffer(conv.input, 8) ||
      !(isRowContiguousBuffer(conv.filter, 8) ||
        isRowContiguousBuffer(conv.filter, 16)) ||
      !isRowContiguousBuffer(conv.output, 32))
    return failure();
  if (!matchWindowMaps(op, {1, 4, 5}, conv))
    return failure();
  // The body: acc + extui(input) * extsi(filter).
  Block &body = op.getRegion().front();
  auto add = cast<linalg::YieldOp>(body.getTerminator())
                 .getValues()[0]
                 .getDefiningOp<arith::AddIOp>();
  auto mul = add ? add.getRhs().getDefiningOp<arith::MulIOp>() : nullptr;
  auto input = mul ? mul.getLhs().getDefiningOp<arith::ExtUIOp>() : nullptr;
  auto filter = mul ? mul.getRhs().getDefiningOp<arith::ExtSIOp>() : nullptr;
  if (!add || add.getLhs() != body.getArgument(2) || !input || !filter ||
      input.getIn() != body.getArgument(0) ||
      filter.getIn() != body.getArgument(1))
    return failure();
  // Quads of s8 taps, or pairs of i16 ones.
  conv.paddedRows =
      getPaddedRows(conv.filter, elementBits(conv.filter) == 16 ? 2 : 4);
  return conv;
}

/// A max or min pool as the lowering leaves it: loops (n, c, y, x, i, j),
/// input (n, c, y * sy + i * dy, x * sx + j * dx), the window's shape
/// operand (i, j), output (n, c, y, x), body max/min(out, in) (either
/// order), on row-contiguous buffers of one element type.
FailureOr<DepthwiseConv> matchPool(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 6 ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 2)
    return failure();
  DepthwiseConv pool{op.getDpsInputs()[0], op.getDpsInputs()[1],
                     op.getDpsInits()[0]};
  auto inputType = dyn_cast<MemRefType>(pool.input.getType());
  auto outputType = dyn_cast<MemRefType>(pool.output.getType());
  if (!inputType || !outputType ||
      inputType.getElementType() != outputType.getElementType() ||
      !inputType.getElementType().isIntOrFloat() ||
      inputType.getElementTypeBitWidth() < 8)
    return failure();
  unsigned bits = inputType.getElementTypeBitWidth();
  bool isFloat = isa<FloatType>(inputType.getElementType());
  if (!hasContiguousStaticRows(pool.input) ||
      !hasContiguousStaticRows(pool.output))
    return failure();
  if (!matchWindowMaps(op, {4, 5}, pool))
    return failure();
  Block &body = op.getRegion().front();
  Operation *combine = cast<linalg::YieldOp>(body.getTerminator())
                           .getValues()[0]
                           .getDefiningOp();
  if (!combine || combine->getBlock() != &body || &body.front() != combine ||
      combine->getNumOperands() != 2)
    return failure();
  bool integerOp =
      isa<arith::MaxUIOp, arith::MaxSIOp, arith::MinUIOp, arith::MinSIOp>(
          combine);
  bool floatOp = isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
                     arith::MinNumFOp>(combine);
  Value in = body.getArgument(0), out = body.getArgument(2);
  if (!(isFloat ? floatOp : integerOp) || (isFloat && bits != 32) ||
      !((combine->getOperand(0) == out && combine->getOperand(1) == in) ||
        (combine->getOperand(0) == in && combine->getOperand(1) == out)))
    return failure();
  pool.pool = combine->getName();
  return pool;
}

/// linalg.pooling_nchw_max on f32 buffers (the float MaxPool's lowering):
/// a max of the window's taps, as arith.maximumf (which is how the named
/// op's body compares floats).
FailureOr<DepthwiseConv> matchNamedMaxPool(linalg::PoolingNchwMaxOp op) {
  DepthwiseConv pool{op.getInputs()[0], op.getInputs()[1], op.getOutputs()[0],
                     llvm::to_vector(op.getStrides().getValues<int64_t>()),
                     llvm::to_vector(op.getDilations().getValues<int64_t>())};
  if (!op.hasPureBufferSemantics() || !isRowContiguousF32Buffer(pool.input) ||
      !isRowContiguousF32Buffer(pool.output))
    return failure();
  auto window = dyn_cast<MemRefType>(pool.filter.getType());
  if (!window || window.getRank() != 2 || !window.hasStaticShape())
    return failure();
  pool.kernelHeight = window.getDimSize(0);
  pool.kernelWidth = window.getDimSize(1);
  pool.pool =
      OperationName(arith::MaximumFOp::getOperationName(), op.getContext());
  return pool;
}

class DepthwiseBuilder {
public:
  DepthwiseBuilder(const DepthwiseConv &conv, const TargetInfo &target,
                   Location loc)
      : conv(conv), target(target),
        lanes(target.vectorBits() / (conv.pool ? elementBits(conv.input) : 32)),
        stripWidth(kStripRegisters * lanes), fused(target.hasVectorFMA()),
        quadKernel(conv.paddedRows && elementBits(conv.filter) == 8 &&
                   hasDepthwiseQuadKernel(target, conv.kernelWidth,
                                          conv.strides[1], conv.dilations[1])),
        pairKernel(conv.paddedRows && elementBits(conv.filter) == 16 &&
                   hasDepthwisePairKernel(target, conv.kernelWidth,
                                          conv.strides[1], conv.dilations[1])),
        loc(loc) {}

  void build(OpBuilder &b) {
    ArrayRef<int64_t> out = cast<MemRefType>(conv.output.getType()).getShape();
    LoopBounds bounds = getZeroBasedBounds(
        b, loc, getLeadingSizes(b, loc, conv.output, /*count=*/3));
    // Batch, channel and row are independent: quarc-parallelize-loops
    // splits batch x channel across threads.
    auto rows = scf::ParallelOp::create(
        b, loc, bounds.lower, bounds.upper, bounds.steps,
        [&](OpBuilder &nested, Location, ValueRange ivs) {
          forEachChunk(nested, loc, out[3], stripWidth,
                       [&](OpBuilder &sb, Value x0, int64_t width) {
                         if (quadKernel)
                           buildQuadStrip(sb, ivs[0], ivs[1], ivs[2], x0,
                                          width);
                         else if (pairKernel)
                           buildPairStrip(sb, ivs[0], ivs[1], ivs[2], x0,
                                          width);
                         else
                           buildStrip(sb, ivs[0], ivs[1], ivs[2], x0, width);
                       });
        });
    markKernelLoop(rows);
  }

private:
  /// output[n, c, y, x0 : x0+width] += sum over taps, one register-sized
  /// piece of the strip after the other.
  void buildStrip(OpBuilder &b, Value n, Value c, Value y, Value x0,
                  int64_t width) {
    for (int64_t start = 0; start < width; start += lanes)
      buildPiece(b, n, c, y, addIndex(b, loc, x0, start),
                 std::min(lanes, width - start));
  }

  void buildPiece(OpBuilder &b, Value n, Value c, Value y, Value x0,
                  int64_t width) {
    int64_t window[] = {conv.kernelHeight, conv.kernelWidth};
    Type element = conv.integer ? Type(b.getI32Type()) : Type(b.getF32Type());
    if (conv.pool)
      element = cast<MemRefType>(conv.output.getType()).getElementType();
    auto vectorType = VectorType::get({width}, element);
    Value acc = vector::LoadOp::create(b, loc, vectorType, conv.output,
                                       ValueRange{n, c, y, x0});
    Value rowBase = scale(b, y, conv.strides[0]);
    Value columnBase = scale(b, x0, conv.strides[1]);
    for (int64_t i = 0; i < window[0]; ++i) {
      Value row = addIndex(b, loc, rowBase, i * conv.dilations[0]);
      for (int64_t j = 0; j < window[1]; ++j) {
        Value column = addIndex(b, loc, columnBase, j * conv.dilations[1]);
        Value pixels = loadPixels(b, n, c, row, column, width);
        if (conv.pool) {
          OperationState state(loc, *conv.pool, ValueRange{acc, pixels},
                               TypeRange{vectorType});
          acc = b.create(state)->getResult(0);
          continue;
        }
        Value weight = memref::LoadOp::create(
            b, loc, conv.filter,
            ValueRange{c, arith::ConstantIndexOp::create(b, loc, i),
                       arith::ConstantIndexOp::create(b, loc, j)});
        if (conv.integer) {
          // u8 pixels times s8 weights, in i32.
          pixels = arith::ExtUIOp::create(b, loc, vectorType, pixels);
          weight = arith::ExtSIOp::create(b, loc, element, weight);
          Value splat = vector::BroadcastOp::create(b, loc, vectorType, weight);
          acc = arith::AddIOp::create(
              b, loc, acc, arith::MulIOp::create(b, loc, pixels, splat));
          continue;
        }
        Value splat = vector::BroadcastOp::create(b, loc, vectorType, weight);
        acc = multiplyAdd(b, loc, pixels, splat, acc, fused);
      }
    }
    vector::StoreOp::create(b, loc, acc, conv.output, ValueRange{n, c, y, x0});
  }

  /// The i32 sums of an integer strip, a register of `lanes` pixels at a
  /// time (the last one partial, widened with zeros).
  struct IntegerStrip {
    SmallVector<Value> starts;   // each register's first pixel
    SmallVector<int64_t> widths; // its pixels
    SmallVector<Value> accs;     // vector<lanes x i32>
  };

  IntegerStrip loadStrip(OpBuilder &b, Value n, Value c, Value y, Value x0,
                         int64_t width) {
    IntegerStrip strip;
    for (int64_t start = 0; start < width; start += lanes) {
      int64_t size = std::min(lanes, width - start);
      Value x = addIndex(b, loc, x0, start);
      Value acc = vector::LoadOp::create(
          b, loc, VectorType::get({size}, b.getI32Type()), conv.output,
          ValueRange{n, c, y, x});
      strip.starts.push_back(x);
      strip.widths.push_back(size);
      strip.accs.push_back(widenWithZeros(b, loc, acc, lanes));
    }
    return strip;
  }

  void storeStrip(OpBuilder &b, const IntegerStrip &strip, Value n, Value c,
                  Value y) {
    for (auto [x, size, acc] : llvm::zip(strip.starts, strip.widths, strip.accs))
      vector::StoreOp::create(b, loc, leadingLanes(b, loc, acc, size),
                              conv.output, ValueRange{n, c, y, x});
  }

  /// The strip with four taps per step: the strip's registers of pixels
  /// (`lanes` i32 lanes each) interleaved, so that their chains of dot
  /// products overlap.
  void buildQuadStrip(OpBuilder &b, Value n, Value c, Value y, Value x0,
                      int64_t width) {
    IntegerStrip sums = loadStrip(b, n, c, y, x0, width);
    auto &[starts, widths, accs] = sums;
    int64_t sx = conv.strides[1], dx = conv.dilations[1];
    Value rowBase = scale(b, y, conv.strides[0]);
    for (int64_t i = 0; i < conv.kernelHeight; ++i) {
      Value row = addIndex(b, loc, rowBase, i * conv.dilations[0]);
      SmallVector<Value> strips;
      for (auto [x, size] : llvm::zip(starts, widths))
        strips.push_back(loadByteSpan(
            b, loc, conv.input, ValueRange{n, c, row, scale(b, x, sx)},
            rowSpan(size), hasMaskedByteLoads(target)));
      for (int64_t q = 0; q * 4 < conv.kernelWidth; ++q) {
        Value weights = broadcastQuad(b, c, i, q);
        for (auto [k, strip] : llvm::enumerate(strips)) {
          // Lane p's bytes: the input of its taps 4q .. 4q + 3 (any byte of
          // the strip for a tap past the row, whose weight is zero).
          SmallVector<int64_t> picks;
          for (int64_t p = 0; p < lanes; ++p)
            for (int64_t t = 4 * q; t < 4 * q + 4; ++t)
              picks.push_back(p < widths[k] && t < conv.kernelWidth
                                  ? p * sx + t * dx
                                  : 0);
          Value pixels = vector::ShuffleOp::create(b, loc, strip, strip, picks);
          accs[k] = buildIntegerDot(b, loc, target.int8Dot(), accs[k], pixels,
                                    weights, /*pairsFitI16=*/false);
        }
      }
    }
    storeStrip(b, sums, n, c, y);
  }

  /// The strip with two taps per step: for each filter row, each register
  /// of the strip gets the input bytes its pixels read, then for each pair
  /// of taps one byte shuffle in place gives every pixel's i32 lane its two
  /// input bytes as zero-extended words, and one vpmaddwd step adds their
  /// products with the pair's weights. A register's bytes are one 16-byte
  /// load into both 128-bit lanes where its eight pixels read at most 16
  /// bytes and the strip at least 16 (stride 1 with up to 9 taps): the load
  /// is placed within the bytes the strip reads, and each lane's shuffle
  /// picks its own four pixels. Otherwise each lane is loaded with the
  /// bytes of its four pixels, exactly those. Either way no load reads
  /// past the row's last byte the strip reads.
  void buildPairStrip(OpBuilder &b, Value n, Value c, Value y, Value x0,
                      int64_t width) {
    IntegerStrip sums = loadStrip(b, n, c, y, x0, width);
    auto &[starts, widths, accs] = sums;
    int64_t sx = conv.strides[1], dx = conv.dilations[1];
    int64_t laneCount = lanes / kDepthwisePairLanePixels;
    auto registerBytes =
        VectorType::get({laneCount * kDepthwisePairLaneBytes}, b.getI8Type());
    Value zeroBytes = arith::ConstantOp::create(b, loc,
                                                b.getZeroAttr(registerBytes));
    // The shuffles pick no byte of a lane past the bytes loaded into it
    // (nor of a lane not loaded): those are left undefined, which spares
    // LLVM clearing them.
    Value unloaded = ub::PoisonOp::create(b, loc, registerBytes);
    // For each register, the offset of its first byte within its 16-byte
    // window (loaded into both lanes), if it has one.
    SmallVector<std::optional<int64_t>> windowShifts;
    for (int64_t k = 0; k < int64_t(widths.size()); ++k) {
      int64_t first = k * lanes * sx; // from the strip's first byte
      bool windowed = rowSpan(widths[k]) <= kDepthwisePairLaneBytes &&
                      rowSpan(width) >= kDepthwisePairLaneBytes;
      windowShifts.push_back(
          windowed ? std::optional(std::max<int64_t>(
                         0, first + kDepthwisePairLaneBytes - rowSpan(width)))
                   : std::nullopt);
    }
    // A window's 16 bytes in every lane.
    SmallVector<int64_t> windowInEachLane;
    for (int64_t lane = 0; lane < laneCount; ++lane)
      for (int64_t e = 0; e < kDepthwisePairLaneBytes; ++e)
        windowInEachLane.push_back(e);
    Value rowBase = scale(b, y, conv.strides[0]);
    for (int64_t i = 0; i < conv.kernelHeight; ++i) {
      Value row = addIndex(b, loc, rowBase, i * conv.dilations[0]);
      SmallVector<Value> strips;
      for (auto [x, size, shift] : llvm::zip(starts, widths, windowShifts)) {
        if (shift) {
          Value window = vector::LoadOp::create(
              b, loc, VectorType::get({kDepthwisePairLaneBytes}, b.getI8Type()),
              conv.input,
              ValueRange{n, c, row,
                         addIndex(b, loc, scale(b, x, sx), -*shift)});
          strips.push_back(vector::ShuffleOp::create(b, loc, window, window,
                                                     windowInEachLane));
          continue;
        }
        Value strip = unloaded;
        for (int64_t lane = 0; lane * kDepthwisePairLanePixels < size; ++lane) {
          int64_t pixels = std::min(kDepthwisePairLanePixels,
                                    size - lane * kDepthwisePairLanePixels);
          Value first = scale(
              b, addIndex(b, loc, x, lane * kDepthwisePairLanePixels), sx);
          Value bytes =
              loadByteSpan(b, loc, conv.input, ValueRange{n, c, row, first},
                           rowSpan(pixels), hasMaskedByteLoads(target));
          strip = vector::InsertStridedSliceOp::create(
              b, loc, bytes, strip,
              ArrayRef<int64_t>{lane * kDepthwisePairLaneBytes},
              ArrayRef<int64_t>{1});
        }
        strips.push_back(strip);
      }
      for (int64_t t = 0; t < conv.kernelWidth; t += 2) {
        Value weights = broadcastTapPair(b, c, i, t);
        for (auto [k, strip] : llvm::enumerate(strips)) {
          // Pixel p's lane: the bytes of taps t and t + 1, each followed by
          // a zero byte (a tap past the row, whose weight is zero, and a
          // pixel past the strip read zeros too). A lane loaded with its
          // own pixels' bytes reads them from its start; a window holds
          // the register's pixels from its shift on.
          int64_t zero = registerBytes.getNumElements();
          SmallVector<int64_t> picks;
          for (int64_t p = 0; p < lanes; ++p) {
            int64_t laneStart =
                (p / kDepthwisePairLanePixels) * kDepthwisePairLaneBytes;
            int64_t firstByte = windowShifts[k]
                                    ? *windowShifts[k] + p * sx
                                    : (p % kDepthwisePairLanePixels) * sx;
            for (int64_t tap : {t, t + 1}) {
              picks.push_back(p < widths[k] && tap < conv.kernelWidth
                                  ? laneStart + firstByte + tap * dx
                                  : zero);
              picks.push_back(zero);
            }
          }
          Value pixels = vector::BitCastOp::create(
              b, loc, VectorType::get({2 * lanes}, b.getI16Type()),
              vector::ShuffleOp::create(b, loc, strip, zeroBytes, picks));
          accs[k] = buildWordPairDot(b, loc, accs[k], pixels, weights);
        }
      }
    }
    storeStrip(b, sums, n, c, y);
  }

  /// The input bytes of a row that `pixels` consecutive output pixels read.
  int64_t rowSpan(int64_t pixels) const {
    return getDepthwiseRowSpan(pixels, conv.kernelWidth, conv.strides[1],
                               conv.dilations[1]);
  }

  /// The i16 weights of taps t and t + 1 (zero past the row) of filter row
  /// i of channel c, one i32 word of the padded filter, broadcast to every
  /// lane of a vector<2 lanes x i16>.
  Value broadcastTapPair(OpBuilder &b, Value c, int64_t i, int64_t t) {
    Value pair = loadWord(b, loc, conv.paddedRows,
                          ValueRange{c, arith::ConstantIndexOp::create(b, loc, i),
                                     arith::ConstantIndexOp::create(b, loc, t)});
    return broadcastWord(b, loc, pair, lanes, b.getI16Type());
  }

  /// The four weights of quad q of filter row i of channel c, as one i32
  /// broadcast to every lane of a vector<4 lanes x i8>.
  Value broadcastQuad(OpBuilder &b, Value c, int64_t i, int64_t q) {
    return broadcastByteQuad(
        b, loc, conv.paddedRows,
        ValueRange{c, arith::ConstantIndexOp::create(b, loc, i),
                   arith::ConstantIndexOp::create(b, loc, 4 * q)},
        lanes);
  }

  /// input[n, c, row, column + stride * i] for i < width. Never reads past
  /// the last of these elements.
  Value loadPixels(OpBuilder &b, Value n, Value c, Value row, Value column,
                   int64_t width) {
    int64_t stride = conv.strides[1];
    Type element = cast<MemRefType>(conv.input.getType()).getElementType();
    auto vectorType = VectorType::get({width}, element);
    if (stride == 1)
      return vector::LoadOp::create(b, loc, vectorType, conv.input,
                                    ValueRange{n, c, row, column});
    if (stride == 2) {
      // Two loads that together cover the 2 * width - 1 elements: the first
      // at column, the second ending on the last element needed.
      Value first = vector::LoadOp::create(b, loc, vectorType, conv.input,
                                           ValueRange{n, c, row, column});
      Value second = vector::LoadOp::create(
          b, loc, vectorType, conv.input,
          ValueRange{n, c, row, addIndex(b, loc, column, width - 1)});
      SmallVector<int64_t> pick;
      for (int64_t i = 0; i < width; ++i)
        pick.push_back(2 * i < width ? 2 * i : width + 2 * i - (width - 1));
      return vector::ShuffleOp::create(b, loc, first, second, pick);
    }
    int64_t span = (width - 1) * stride + 1;
    Value strip = vector::LoadOp::create(
        b, loc, VectorType::get({span}, element), conv.input,
        ValueRange{n, c, row, column});
    SmallVector<int64_t> pick;
    for (int64_t i = 0; i < width; ++i)
      pick.push_back(i * stride);
    return vector::ShuffleOp::create(b, loc, strip, strip, pick);
  }

  Value scale(OpBuilder &b, Value index, int64_t factor) {
    if (factor == 1)
      return index;
    return arith::MulIOp::create(
        b, loc, index, arith::ConstantIndexOp::create(b, loc, factor));
  }

  const DepthwiseConv &conv;
  const TargetInfo &target;
  int64_t lanes;
  int64_t stripWidth;
  bool fused;
  bool quadKernel; // four taps per step (buildQuadStrip)
  bool pairKernel; // two taps per step (buildPairStrip)
  Location loc;
};

struct QuarcVectorizeDepthwise
    : impl::QuarcVectorizeDepthwiseBase<QuarcVectorizeDepthwise> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    SmallVector<std::pair<Operation *, DepthwiseConv>> work;
    getOperation().walk([&](Operation *op) {
      FailureOr<DepthwiseConv> conv = failure();
      if (auto named = dyn_cast<linalg::DepthwiseConv2DNchwChwOp>(op))
        conv = matchDepthwise(named);
      else if (auto maxPool = dyn_cast<linalg::PoolingNchwMaxOp>(op))
        conv = matchNamedMaxPool(maxPool);
      else if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
        conv = matchIntegerDepthwise(generic);
        if (failed(conv))
          conv = matchPool(generic);
      }
      if (succeeded(conv))
        work.emplace_back(op, std::move(*conv));
    });
    for (auto &[op, conv] : work) {
      OpBuilder b(op);
      DepthwiseBuilder(conv, parsed, op->getLoc()).build(b);
      op->erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
