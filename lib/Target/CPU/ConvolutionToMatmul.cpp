//===- ConvolutionToMatmul.cpp - NCHW convolution as a contraction --------===//
//
// A dense NCHW convolution is the matrix product of the [F, C*KH*KW]
// weights with the [C*KH*KW, OH*OW] matrix of input windows, per image.
// Written that way it runs on the matmul microkernel, and the output stays
// NCHW: no layout change leaks into the rest of the graph. A 1x1 unit-
// stride convolution needs no window copy at all: its input, viewed as
// channels x pixels, already is that matrix. A convolution whose windows
// are contiguous along output rows needs no copy either: the matmul kernel
// reads them from the input (see quarc-vectorize-matmul), so it is left as
// it is.
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCCONVOLUTIONTOMATMUL
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

bool isStaticF32(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

/// Copies the input windows of `input` ([N, C, H, W], already padded) into
/// [N, C, KH, KW, OH, OW] and returns its [N, C*KH*KW, OH*OW] view.
Value buildIm2Col(OpBuilder &b, Location loc, Value input,
                  ArrayRef<int64_t> window, ArrayRef<int64_t> outputSize,
                  ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations) {
  auto inputType = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> in = inputType.getShape();
  SmallVector<int64_t> shape = {in[0],     in[1],         window[0],
                                window[1], outputSize[0], outputSize[1]};
  Value empty =
      tensor::EmptyOp::create(b, loc, shape, inputType.getElementType());

  MLIRContext *ctx = b.getContext();
  AffineExpr n, c, i, j, y, x;
  bindDims(ctx, n, c, i, j, y, x);
  AffineMap read = AffineMap::get(
      6, 0,
      {n, c, y * strides[0] + i * dilations[0],
       x * strides[1] + j * dilations[1]},
      ctx);
  SmallVector<AffineMap> maps = {read, b.getMultiDimIdentityMap(6)};
  SmallVector<utils::IteratorType> iterators(6, utils::IteratorType::parallel);
  Value columns =
      linalg::GenericOp::create(
          b, loc, TypeRange{empty.getType()}, ValueRange{input},
          ValueRange{empty}, maps, iterators,
          [](OpBuilder &nested, Location nestedLoc, ValueRange args) {
            linalg::YieldOp::create(nested, nestedLoc, args[0]);
          })
          .getResult(0);
  return tensor::CollapseShapeOp::create(
      b, loc, columns,
      SmallVector<ReassociationIndices>{{0}, {1, 2, 3}, {4, 5}});
}

/// out[n, f, p] += lhs[f, q] * rhs[n, q, p].
Value buildContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                       Value init) {
  MLIRContext *ctx = b.getContext();
  AffineExpr n, f, p, q;
  bindDims(ctx, n, f, p, q);
  SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {f, q}, ctx),
                                 AffineMap::get(4, 0, {n, q, p}, ctx),
                                 AffineMap::get(4, 0, {n, f, p}, ctx)};
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
             ValueRange{init}, maps, iterators,
             [](OpBuilder &nested, Location nestedLoc, ValueRange args) {
               Value product =
                   arith::MulFOp::create(nested, nestedLoc, args[0], args[1]);
               Value sum =
                   arith::AddFOp::create(nested, nestedLoc, args[2], product);
               linalg::YieldOp::create(nested, nestedLoc, sum);
             })
      .getResult(0);
}

/// Output rows at least this wide run the direct (implicit GEMM) kernel:
/// narrower rows would be mostly edge tiles.
constexpr int64_t kMinDirectRowWidth = 16;

/// Whether quarc-vectorize-matmul runs the convolution as it is, reading
/// windows from the input (see the pass description).
bool runsDirectly(ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> outputSize) {
  return window != ArrayRef<int64_t>{1, 1} && strides[1] == 1 &&
         outputSize[1] >= kMinDirectRowWidth;
}

LogicalResult rewriteAsMatmul(RewriterBase &rewriter,
                              linalg::Conv2DNchwFchwOp conv) {
  Value input = conv.getInputs()[0];
  Value filter = conv.getInputs()[1];
  Value init = conv.getOutputs()[0];
  if (!isStaticF32(input) || !isStaticF32(filter) || !isStaticF32(init) ||
      !conv.hasPureTensorSemantics())
    return failure();

  auto filterType = cast<RankedTensorType>(filter.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  SmallVector<int64_t> window(filterType.getShape().drop_front(2));
  SmallVector<int64_t> outputSize(initType.getShape().drop_front(2));
  SmallVector<int64_t> strides(conv.getStrides().getValues<int64_t>());
  SmallVector<int64_t> dilations(conv.getDilations().getValues<int64_t>());

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(conv);
  Location loc = conv.getLoc();
  SmallVector<ReassociationIndices> pixels = {{0}, {1}, {2, 3}};

  // linalg allows an input larger than the output needs; only an input of
  // exactly the output's size is the channels x pixels matrix as it is.
  auto inputType = cast<RankedTensorType>(input.getType());
  if (runsDirectly(window, strides, outputSize))
    return failure();
  bool pointwise = window == ArrayRef<int64_t>{1, 1} &&
                   strides == ArrayRef<int64_t>{1, 1} &&
                   inputType.getShape().drop_front(2) == ArrayRef(outputSize);
  Value rhs = pointwise ? tensor::CollapseShapeOp::create(rewriter, loc,
                                                          input, pixels)
                              .getResult()
                        : buildIm2Col(rewriter, loc, input, window,
                                      outputSize, strides, dilations);
  Value lhs = tensor::CollapseShapeOp::create(
      rewriter, loc, filter, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
  Value flatInit = tensor::CollapseShapeOp::create(rewriter, loc, init, pixels);
  Value product = buildContraction(rewriter, loc, lhs, rhs, flatInit);
  rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(conv, initType, product,
                                                     pixels);
  return success();
}

struct QuarcConvolutionToMatmul
    : impl::QuarcConvolutionToMatmulBase<QuarcConvolutionToMatmul> {
  void runOnOperation() override {
    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    getOperation().walk(
        [&](linalg::Conv2DNchwFchwOp conv) { convs.push_back(conv); });
    IRRewriter rewriter(&getContext());
    for (linalg::Conv2DNchwFchwOp conv : convs)
      (void)rewriteAsMatmul(rewriter, conv);
  }
};

} // namespace
} // namespace mlir::quarc
