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
// widened weight.
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

#define GEN_PASS_DEF_QUARCVECTORIZEDEPTHWISE
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// Output pixels per strip, in vector registers.
constexpr int64_t kStripRegisters = 2;

struct DepthwiseConv {
  Value input, filter, output; // [N, C, H, W], [C, KH, KW], [N, C, OH, OW]
  SmallVector<int64_t> strides, dilations;
  /// u8 input, s8 filter, i32 output (quarc-pack-integer-weights' form of
  /// an integer depthwise convolution) rather than f32.
  bool integer = false;
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
  return conv;
}

bool isRowContiguousBuffer(Value value, unsigned width) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isInteger(width) &&
         type.isLastDimUnitStride() &&
         llvm::none_of(type.getShape().drop_front(), ShapedType::isDynamic);
}

/// quarc-pack-integer-weights' depthwise form: loops (n, c, y, x, i, j),
/// input (n, c, y * sy + i * dy, x * sx + j * dx), filter (c, i, j), output
/// (n, c, y, x), body acc + extui(input) * extsi(filter).
FailureOr<DepthwiseConv> matchIntegerDepthwise(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 6 ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return failure();
  DepthwiseConv conv{op.getDpsInputs()[0], op.getDpsInputs()[1],
                     op.getDpsInits()[0], {}, {}, /*integer=*/true};
  if (!isRowContiguousBuffer(conv.input, 8) ||
      !isRowContiguousBuffer(conv.filter, 8) ||
      !isRowContiguousBuffer(conv.output, 32))
    return failure();
  MLIRContext *ctx = op.getContext();
  auto dims = [&](ArrayRef<unsigned> positions) {
    SmallVector<AffineExpr> exprs;
    for (unsigned p : positions)
      exprs.push_back(getAffineDimExpr(p, ctx));
    return AffineMap::get(6, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[1] != dims({1, 4, 5}) || maps[2] != dims({0, 1, 2, 3}) ||
      maps[0].getNumResults() != 4 || maps[0].getResult(0) != dims({0}).getResult(0) ||
      maps[0].getResult(1) != dims({1}).getResult(0))
    return failure();
  // The spatial indices must be y * sy + i * dy and x * sx + j * dx.
  for (auto [result, outer, inner] : {std::tuple{2u, 2u, 4u}, {3u, 3u, 5u}}) {
    std::optional<std::pair<int64_t, int64_t>> window =
        matchWindowIndex(maps[0].getResult(result), outer, inner, 6);
    if (!window)
      return failure();
    conv.strides.push_back(window->first);
    conv.dilations.push_back(window->second);
  }
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
  return conv;
}

class DepthwiseBuilder {
public:
  DepthwiseBuilder(const DepthwiseConv &conv, int64_t lanes, bool fused,
                   Location loc)
      : conv(conv), lanes(lanes), stripWidth(kStripRegisters * lanes),
        fused(fused), loc(loc) {}

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
    ArrayRef<int64_t> window =
        cast<MemRefType>(conv.filter.getType()).getShape().drop_front();
    Type element = conv.integer ? Type(b.getI32Type()) : Type(b.getF32Type());
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
  int64_t lanes;
  int64_t stripWidth;
  bool fused;
  Location loc;
};

struct QuarcVectorizeDepthwise
    : impl::QuarcVectorizeDepthwiseBase<QuarcVectorizeDepthwise> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    int64_t lanes = parsed.vectorBits() / 32;

    SmallVector<std::pair<Operation *, DepthwiseConv>> work;
    getOperation().walk([&](Operation *op) {
      FailureOr<DepthwiseConv> conv = failure();
      if (auto named = dyn_cast<linalg::DepthwiseConv2DNchwChwOp>(op))
        conv = matchDepthwise(named);
      else if (auto generic = dyn_cast<linalg::GenericOp>(op))
        conv = matchIntegerDepthwise(generic);
      if (succeeded(conv))
        work.emplace_back(op, std::move(*conv));
    });
    for (auto &[op, conv] : work) {
      OpBuilder b(op);
      DepthwiseBuilder(conv, lanes, parsed.hasVectorFMA(), op->getLoc())
          .build(b);
      op->erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
