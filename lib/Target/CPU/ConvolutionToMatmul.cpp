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
// it is. A batch of small images (a few pixels each) would give the kernel
// columns narrower than a vector register, so its images are put side by
// side instead: one product [F, N * pixels], transposed back to NCHW.
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

/// An f32 tensor whose dims are static, except perhaps the first when
/// `dynamicBatch` (the images of a dynamic batch).
bool isStaticF32(Value value, bool dynamicBatch = false) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getElementType().isF32() &&
         llvm::none_of(type.getShape().drop_front(dynamicBatch ? 1 : 0),
                       ShapedType::isDynamic);
}

/// Copies the input windows of `input` ([N, C, H, W], already padded) into
/// an im2col buffer and returns its contraction view: [N, C, KH, KW, OH, OW]
/// viewed as [N, C*KH*KW, OH*OW] per image, or, with `imagesAsColumns`,
/// [C, KH, KW, N, OH, OW] viewed as [C*KH*KW, N*OH*OW], every image's pixels
/// side by side.
Value buildIm2Col(OpBuilder &b, Location loc, Value input,
                  ArrayRef<int64_t> window, ArrayRef<int64_t> outputSize,
                  ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                  bool imagesAsColumns) {
  auto inputType = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> in = inputType.getShape();
  MLIRContext *ctx = b.getContext();
  // Loop dims in the buffer's order.
  AffineExpr n, c, i, j, y, x;
  SmallVector<int64_t> shape;
  SmallVector<ReassociationIndices> view;
  if (imagesAsColumns) {
    bindDims(ctx, c, i, j, n, y, x);
    shape = {in[1], window[0], window[1], in[0], outputSize[0], outputSize[1]};
    view = {{0, 1, 2}, {3, 4, 5}};
  } else {
    bindDims(ctx, n, c, i, j, y, x);
    shape = {in[0], in[1], window[0], window[1], outputSize[0], outputSize[1]};
    view = {{0}, {1, 2, 3}, {4, 5}};
  }
  SmallVector<Value> dynamicSizes;
  if (inputType.isDynamicDim(0))
    dynamicSizes.push_back(tensor::DimOp::create(b, loc, input, 0));
  Value empty = tensor::EmptyOp::create(b, loc, shape,
                                        inputType.getElementType(),
                                        dynamicSizes);
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
  return tensor::CollapseShapeOp::create(b, loc, columns, view);
}

/// out[n..., f, p] += lhs[f, q] * rhs[n..., q, p]: `batch` leading image
/// dims (0 or 1) on rhs and out.
Value buildContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                       Value init, unsigned batch) {
  MLIRContext *ctx = b.getContext();
  unsigned numDims = batch + 3;
  AffineExpr f = getAffineDimExpr(batch, ctx);
  AffineExpr p = getAffineDimExpr(batch + 1, ctx);
  AffineExpr q = getAffineDimExpr(batch + 2, ctx);
  SmallVector<AffineExpr> images;
  for (unsigned dim = 0; dim < batch; ++dim)
    images.push_back(getAffineDimExpr(dim, ctx));
  auto withImages = [&](AffineExpr a, AffineExpr b) {
    SmallVector<AffineExpr> results(images);
    results.append({a, b});
    return AffineMap::get(numDims, 0, results, ctx);
  };
  SmallVector<AffineMap> maps = {AffineMap::get(numDims, 0, {f, q}, ctx),
                                 withImages(q, p), withImages(f, p)};
  SmallVector<utils::IteratorType> iterators(numDims - 1,
                                             utils::IteratorType::parallel);
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

/// init[n, f, p] + product[f, n, p]: the images-as-columns product added to
/// the convolution's accumulator, back in NCHW order.
Value addTransposedProduct(OpBuilder &b, Location loc, Value product,
                           Value init) {
  MLIRContext *ctx = b.getContext();
  AffineExpr n, f, p;
  bindDims(ctx, n, f, p);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {f, n, p}, ctx),
                                 b.getMultiDimIdentityMap(3),
                                 b.getMultiDimIdentityMap(3)};
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{product, init},
             ValueRange{init}, maps, iterators,
             [](OpBuilder &nested, Location nestedLoc, ValueRange args) {
               Value sum =
                   arith::AddFOp::create(nested, nestedLoc, args[1], args[0]);
               linalg::YieldOp::create(nested, nestedLoc, sum);
             })
      .getResult(0);
}

/// Output rows at least this wide run the direct (implicit GEMM) kernel:
/// narrower rows would be mostly edge tiles.
constexpr int64_t kMinDirectRowWidth = 16;

/// Images with fewer output pixels than this, in a batch, run as one product
/// whose columns are the pixels of all images: per image, the kernel's
/// columns would be narrower than its tile, or than one vector register
/// (then it does not run at all and the product is scalar loops). Batches of
/// small images are common in sequence models (a Conv over frames, each a
/// short 1-D signal).
constexpr int64_t kMinPixelsPerImage = 32;

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
  if (!isStaticF32(input, /*dynamicBatch=*/true) || !isStaticF32(filter) ||
      !isStaticF32(init, /*dynamicBatch=*/true) ||
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

  if (runsDirectly(window, strides, outputSize))
    return failure();
  auto weightMatrix = [&] {
    return tensor::CollapseShapeOp::create(
        rewriter, loc, filter,
        SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
  };

  int64_t images = initType.getDimSize(0);
  int64_t pixelsPerImage = outputSize[0] * outputSize[1];
  if (!ShapedType::isDynamic(images) && images > 1 &&
      pixelsPerImage < kMinPixelsPerImage) {
    // [F, N*P] = W[F, Q] * X[Q, N*P], then added to the NCHW accumulator.
    Value rhs = buildIm2Col(rewriter, loc, input, window, outputSize, strides,
                            dilations, /*imagesAsColumns=*/true);
    Value lhs = weightMatrix();
    int64_t filters = initType.getDimSize(1);
    Type f32 = initType.getElementType();
    Value empty = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{filters, images * pixelsPerImage},
        f32);
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getZeroAttr(f32));
    Value zeros =
        linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
    Value product =
        buildContraction(rewriter, loc, lhs, rhs, zeros, /*batch=*/0);
    Value byImage = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({filters, images, pixelsPerImage}, f32),
        product, SmallVector<ReassociationIndices>{{0}, {1, 2}});
    Value flatInit =
        tensor::CollapseShapeOp::create(rewriter, loc, init, pixels);
    Value sum = addTransposedProduct(rewriter, loc, byImage, flatInit);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(conv, initType, sum,
                                                       pixels);
    return success();
  }

  // linalg allows an input larger than the output needs; only an input of
  // exactly the output's size is the channels x pixels matrix as it is.
  auto inputType = cast<RankedTensorType>(input.getType());
  bool pointwise = window == ArrayRef<int64_t>{1, 1} &&
                   strides == ArrayRef<int64_t>{1, 1} &&
                   inputType.getShape().drop_front(2) == ArrayRef(outputSize);
  Value rhs = pointwise ? tensor::CollapseShapeOp::create(rewriter, loc,
                                                          input, pixels)
                              .getResult()
                        : buildIm2Col(rewriter, loc, input, window,
                                      outputSize, strides, dilations,
                                      /*imagesAsColumns=*/false);
  Value lhs = weightMatrix();
  Value flatInit = tensor::CollapseShapeOp::create(rewriter, loc, init, pixels);
  Value product =
      buildContraction(rewriter, loc, lhs, rhs, flatInit, /*batch=*/1);
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
