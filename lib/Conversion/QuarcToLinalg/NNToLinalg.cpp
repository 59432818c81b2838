//===- NNToLinalg.cpp - convolution, pooling, normalization to linalg -----===//
//
// Convolutions and pools become linalg's named NCHW ops on an explicitly
// padded input (tensor.pad); 1-D ones run as 2-D ones with a unit height,
// and a bias is the accumulator the named op starts from. Normalizations
// are linalg.generic reductions for their statistics plus one elementwise
// generic that applies them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "NNLoweringUtils.h"
#include "PoolLowering.h"
#include "WindowLowering.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/BatchNorm.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/MathExtras.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include <cmath>

namespace mlir::quarc {

//===----------------------------------------------------------------------===//
// Helpers shared with MatMulToLinalg.cpp (NNLoweringUtils.h)
//===----------------------------------------------------------------------===//

Value broadcastInto(OpBuilder &b, Location loc, RankedTensorType type,
                    ValueRange dynamicSizes, Value source, AffineMap map,
                    std::optional<double> scale) {
  int64_t rank = type.getRank();
  Value init = createEmpty(b, loc, type, dynamicSizes);
  SmallVector<AffineMap> maps = {
      map, AffineMap::getMultiDimIdentityMap(rank, b.getContext())};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, source, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value value =
            castScalar(nested, nestedLoc, args[0], type.getElementType());
        if (scale && *scale != 1.0)
          value = arith::MulFOp::create(
              nested, nestedLoc, value,
              createScalar(nested, nestedLoc, value.getType(), *scale));
        linalg::YieldOp::create(nested, nestedLoc, value);
      });
  return generic.getResult(0);
}

namespace {

//===----------------------------------------------------------------------===//
// Scalar and shape helpers
//===----------------------------------------------------------------------===//

bool isFloat(Type type) { return isa<FloatType>(type); }

/// The identity of max: -inf for floats, the smallest signed integer.
Value lowestValue(OpBuilder &b, Location loc, Type type) {
  if (isFloat(type))
    return createScalar(b, loc, type, -INFINITY);
  unsigned width = type.getIntOrFloatBitWidth();
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, APInt::getSignedMinValue(width)));
}

/// Statistics of normalizations accumulate in f32 at least (ONNX's
/// stash_type 1), so f16 inputs do not lose precision in long sums.
Type getAccumulatorType(Type element) {
  auto floatType = cast<FloatType>(element);
  if (floatType.getWidth() < 32)
    return Float32Type::get(element.getContext());
  return element;
}


/// The number of elements in dims [first, rank) of `value`, as a `type`
/// scalar (the divisor of a mean).
Value elementCount(OpBuilder &b, Location loc, Value value, int64_t first,
                   Type type) {
  auto tensorType = cast<RankedTensorType>(value.getType());
  int64_t staticCount = 1;
  Value dynamicCount;
  for (int64_t i = first; i < tensorType.getRank(); ++i) {
    if (!tensorType.isDynamicDim(i)) {
      staticCount *= tensorType.getDimSize(i);
      continue;
    }
    Value dim = tensor::DimOp::create(b, loc, value, i);
    dynamicCount =
        dynamicCount ? arith::MulIOp::create(b, loc, dynamicCount, dim) : dim;
  }
  if (!dynamicCount)
    return createScalar(b, loc, type, double(staticCount));
  if (staticCount != 1)
    dynamicCount = arith::MulIOp::create(
        b, loc, dynamicCount,
        arith::ConstantIndexOp::create(b, loc, staticCount));
  return castScalar(b, loc, castScalar(b, loc, dynamicCount, b.getI64Type()),
                    type);
}


//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

/// Which linalg op runs a 2-D convolution, and the filter layout it reads.
enum class ConvKind {
  Dense,     // conv_2d_nchw_fchw, filter F x C x kh x kw
  Depthwise, // depthwise_conv_2d_nchw_chw, filter C x kh x kw
  Grouped,   // conv_2d_ngchw_gfchw, filter G x F/G x C/G x kh x kw
};

ConvKind getConvKind(int64_t group, int64_t inChannels, int64_t outChannels,
                     int64_t inPerGroup) {
  if (group == 1)
    return ConvKind::Dense;
  if (inPerGroup == 1 && outChannels == group && inChannels == group)
    return ConvKind::Depthwise;
  return ConvKind::Grouped;
}

/// Convolves the padded NCHW `input` with `filter` (in `kind`'s layout),
/// adding to `init` (N x F x OH x OW).
Value buildConv2D(OpBuilder &b, Location loc, ConvKind kind, Value input,
                  Value filter, Value init, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> dilations) {
  auto initType = cast<RankedTensorType>(init.getType());
  Attribute stridesAttr = b.getI64TensorAttr(strides);
  Attribute dilationsAttr = b.getI64TensorAttr(dilations);
  switch (kind) {
  case ConvKind::Dense:
    return linalg::Conv2DNchwFchwOp::create(b, loc, TypeRange{initType},
                                            ValueRange{input, filter}, init,
                                            stridesAttr, dilationsAttr)
        .getResult(0);
  case ConvKind::Depthwise:
    return linalg::DepthwiseConv2DNchwChwOp::create(
               b, loc, TypeRange{initType}, ValueRange{input, filter}, init,
               stridesAttr, dilationsAttr)
        .getResult(0);
  case ConvKind::Grouped: {
    int64_t groups = cast<RankedTensorType>(filter.getType()).getDimSize(0);
    Value groupedInit = splitChannels(b, loc, init, groups);
    Value conv = linalg::Conv2DNgchwGfchwOp::create(
                     b, loc, TypeRange{groupedInit.getType()},
                     ValueRange{splitChannels(b, loc, input, groups), filter},
                     groupedInit, stridesAttr, dilationsAttr)
                     .getResult(0);
    return tensor::CollapseShapeOp::create(
        b, loc, initType, conv,
        SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
  }
  }
  llvm_unreachable("unknown convolution kind");
}

/// The ONNX Conv weight (F x C/G x kh x kw) in `kind`'s filter layout.
Value getForwardFilter(OpBuilder &b, Location loc, Value weight, ConvKind kind,
                       int64_t groups) {
  auto type = cast<RankedTensorType>(weight.getType());
  switch (kind) {
  case ConvKind::Dense:
    return weight;
  case ConvKind::Depthwise: // drop the C/G = 1 dim
    return collapseUnitDims(b, loc, weight, {1});
  case ConvKind::Grouped: { // split F into G x F/G
    ArrayRef<int64_t> shape = type.getShape();
    return tensor::ExpandShapeOp::create(
        b, loc,
        RankedTensorType::get(
            {groups, shape[0] / groups, shape[1], shape[2], shape[3]},
            type.getElementType()),
        weight, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
  }
  }
  llvm_unreachable("unknown convolution kind");
}

struct ConvLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    FailureOr<Conv2DOperands> conv = prepareConv2D(
        op, rewriter, adaptor.getX(), adaptor.getW(), *type, "convolutions");
    if (failed(conv))
      return failure();
    Value x = conv->x, w = conv->w;
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    RankedTensorType resultType = conv->resultType;
    const Window &window = conv->window;

    int64_t group = op.getGroup();
    int64_t outChannels = wType.getDimSize(0), inPerGroup = wType.getDimSize(1);
    if (outChannels % group != 0)
      return op.emitOpError("the weight's ")
             << outChannels << " output channels do not split into " << group
             << " groups";
    ConvKind kind =
        getConvKind(group, inPerGroup * group, outChannels, inPerGroup);
    Value filter = getForwardFilter(rewriter, loc, w, kind, group);
    if (kind != ConvKind::Dense)
      x = refineChannels(rewriter, loc, x, inPerGroup * group);

    Value zero = createScalar(rewriter, loc, xType.getElementType(), 0.0);
    Value padded =
        padSpatial(rewriter, loc, x, window.padLow, window.padHigh, zero);
    SmallVector<Value> sizes =
        getWindowResultSizes(rewriter, loc, resultType, padded, w, 0, window);
    Value bias = isNone(op.getB()) ? Value() : adaptor.getB();
    Value init = createConvInit(rewriter, loc, resultType, sizes, bias, zero);
    Value result = buildConv2D(rewriter, loc, kind, padded, filter, init,
                               window.strides, window.dilations);
    if (conv->unitHeight)
      result = collapseUnitDims(rewriter, loc, result, {2});
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//
//
// A transposed convolution is the forward convolution (stride 1, same
// dilation) of the input with stride-1 zeros inserted between its pixels,
// padded by extent-1-pad on each side, with the weight flipped spatially
// and its two channel dims swapped (per group).

/// The ONNX ConvTranspose weight (C x F/G x kh x kw), flipped spatially and
/// laid out as `kind`'s forward filter.
Value flipTransposedWeight(OpBuilder &b, Location loc, Value weight,
                           ConvKind kind, int64_t groups) {
  auto type = cast<RankedTensorType>(weight.getType());
  MLIRContext *context = b.getContext();
  int64_t inChannels = type.getDimSize(0), outPerGroup = type.getDimSize(1);
  int64_t kh = type.getDimSize(2), kw = type.getDimSize(3);
  int64_t inPerGroup = inChannels / groups;
  auto dim = [&](unsigned i) { return getAffineDimExpr(i, context); };
  auto flipped = [&](unsigned i, int64_t size) {
    return getAffineConstantExpr(size - 1, context) - dim(i);
  };
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> read;
  switch (kind) {
  case ConvKind::Dense: // (f, c, i, j) reads W[c, f, kh-1-i, kw-1-j]
    shape = {outPerGroup, inChannels, kh, kw};
    read = {dim(1), dim(0), flipped(2, kh), flipped(3, kw)};
    break;
  case ConvKind::Depthwise: // (c, i, j) reads W[c, 0, kh-1-i, kw-1-j]
    shape = {inChannels, kh, kw};
    read = {dim(0), getAffineConstantExpr(0, context), flipped(1, kh),
            flipped(2, kw)};
    break;
  case ConvKind::Grouped: // (g, f, c, i, j) reads W[g*C/G + c, f, ...]
    shape = {groups, outPerGroup, inPerGroup, kh, kw};
    read = {dim(0) * inPerGroup + dim(2), dim(1), flipped(3, kh),
            flipped(4, kw)};
    break;
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  int64_t rank = shape.size();
  SmallVector<AffineMap> maps = {
      AffineMap::get(rank, 0, read, context),
      AffineMap::getMultiDimIdentityMap(rank, context)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, weight,
             createEmpty(b, loc, resultType, {}), maps, iterators,
             [](OpBuilder &nested, Location nestedLoc, ValueRange args) {
               linalg::YieldOp::create(nested, nestedLoc, args[0]);
             })
      .getResult(0);
}

/// Inserts stride-1 zeros between the spatial elements of the NCHW `input`
/// and pads it with zeros by `low`/`high`; negative pads drop elements
/// instead.
Value upsampleAndPad(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> strides, ArrayRef<int64_t> low,
                     ArrayRef<int64_t> high, Value zero) {
  auto type = cast<RankedTensorType>(input.getType());
  Type element = type.getElementType();
  SmallVector<int64_t> padLow, padHigh, cropLow, cropHigh;
  for (auto [l, h] : llvm::zip(low, high)) {
    padLow.push_back(std::max<int64_t>(l, 0));
    padHigh.push_back(std::max<int64_t>(h, 0));
    cropLow.push_back(std::max<int64_t>(-l, 0));
    cropHigh.push_back(std::max<int64_t>(-h, 0));
  }

  Value result;
  if (llvm::all_of(strides, [](int64_t s) { return s == 1; })) {
    result = padSpatial(b, loc, input, padLow, padHigh, zero);
  } else {
    // Zeros of the upsampled, padded size with the input scattered into
    // them at `stride` steps.
    SmallVector<int64_t> shape(type.getShape().take_front(2));
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> steps = {b.getIndexAttr(1), b.getIndexAttr(1)};
    for (auto [i, stride] : llvm::enumerate(strides)) {
      shape.push_back((type.getDimSize(i + 2) - 1) * stride + 1 + padLow[i] +
                      padHigh[i]);
      offsets.push_back(b.getIndexAttr(padLow[i]));
      steps.push_back(b.getIndexAttr(stride));
    }
    auto upsampledType = RankedTensorType::get(shape, element);
    Value zeros =
        createFilled(b, loc, upsampledType,
                     getDynamicSizes(b, loc, upsampledType, input), zero);
    result = tensor::InsertSliceOp::create(b, loc, input, zeros, offsets,
                                           tensor::getMixedSizes(b, loc, input),
                                           steps);
  }

  if (llvm::all_of(cropLow, [](int64_t c) { return c == 0; }) &&
      llvm::all_of(cropHigh, [](int64_t c) { return c == 0; }))
    return result;
  auto resultType = cast<RankedTensorType>(result.getType());
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, result);
  SmallVector<OpFoldResult> steps(4, b.getIndexAttr(1));
  for (unsigned i = 0; i < 2; ++i) {
    offsets.push_back(b.getIndexAttr(cropLow[i]));
    sizes[i + 2] =
        b.getIndexAttr(resultType.getDimSize(i + 2) - cropLow[i] - cropHigh[i]);
  }
  return tensor::ExtractSliceOp::create(b, loc, result, offsets, sizes, steps);
}

/// A transposed convolution whose windows do not overlap: input pixel
/// (h, w) alone writes the output block [h*kh, (h+1)*kh) x [w*kw, (w+1)*kw).
/// Per group that is one matrix product, blocks[m, p] = sum_c W[c, m] *
/// x[c, p] with m = (f, i, j) running over output channel and block
/// position and p = (h, w) over input pixels, which the matmul kernel runs;
/// a copy then moves block element (i, j) of pixel (h, w) to output pixel
/// (h*kh + i, w*kw + j) and adds the bias. Unlike the zero-upsampling form
/// it multiplies no inserted zeros, and it takes dynamic spatial dims.
Value buildBlockConvTranspose(OpBuilder &b, Location loc, Value x, Value weight,
                              Value bias, int64_t groups,
                              RankedTensorType type) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(weight.getType());
  Type elementType = type.getElementType();
  MLIRContext *context = b.getContext();
  int64_t inPerGroup = wType.getDimSize(0) / groups,
          outPerGroup = wType.getDimSize(1);
  int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);
  int64_t blockRows = outPerGroup * kh * kw;

  // N x G x C/G x H*W and G x C/G x F/G*kh*kw.
  Value pixels = tensor::CollapseShapeOp::create(
      b, loc, splitChannels(b, loc, x, groups),
      SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
  Value matrix = tensor::CollapseShapeOp::create(
      b, loc,
      tensor::ExpandShapeOp::create(
          b, loc,
          RankedTensorType::get({groups, inPerGroup, outPerGroup, kh, kw},
                                wType.getElementType()),
          weight, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}}),
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4}});

  // blocks[n, g, m, p] = sum_c matrix[g, c, m] * pixels[n, g, c, p].
  auto pixelsType = cast<RankedTensorType>(pixels.getType());
  auto blocksType = RankedTensorType::get(
      {xType.getDimSize(0), groups, blockRows, pixelsType.getDimSize(3)},
      elementType);
  Value blocksInit =
      createFilled(b, loc, blocksType,
                   getDynamicSizes(b, loc, blocksType, pixels, {0, 1, 2, 3}),
                   createScalar(b, loc, elementType, 0.0));
  AffineExpr n, g, m, p, c;
  bindDims(context, n, g, m, p, c);
  SmallVector<AffineMap> maps = {AffineMap::get(5, 0, {g, c, m}, context),
                                 AffineMap::get(5, 0, {n, g, c, p}, context),
                                 AffineMap::get(5, 0, {n, g, m, p}, context)};
  SmallVector<utils::IteratorType> iterators(5, utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  Value blocks =
      linalg::GenericOp::create(
          b, loc, TypeRange{blocksType}, ValueRange{matrix, pixels},
          blocksInit, maps, iterators,
          [](OpBuilder &nb, Location nl, ValueRange args) {
            Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
            linalg::YieldOp::create(
                nb, nl,
                arith::AddFOp::create(nb, nl, args[2], product).getResult());
          })
          .getResult(0);

  // N x G x F/G x kh x kw x H x W, rearranged (plus bias) into
  // N x G x F/G x H x kh x W x kw, which is N x F x H*kh x W*kw.
  auto unpackedType = RankedTensorType::get(
      {xType.getDimSize(0), groups, outPerGroup, kh, kw, xType.getDimSize(2),
       xType.getDimSize(3)},
      elementType);
  SmallVector<OpFoldResult> unpackedShape;
  for (auto [dim, size] : llvm::enumerate(unpackedType.getShape())) {
    const int64_t xDim[] = {0, 1, 1, 1, 1, 2, 3};
    unpackedShape.push_back(
        ShapedType::isDynamic(size)
            ? OpFoldResult(tensor::DimOp::create(b, loc, x, xDim[dim]))
            : OpFoldResult(b.getIndexAttr(size)));
  }
  Value unpacked = tensor::ExpandShapeOp::create(
      b, loc, unpackedType, blocks,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4}, {5, 6}},
      unpackedShape);
  auto outType =
      RankedTensorType::get({xType.getDimSize(0), groups, outPerGroup,
                             xType.getDimSize(2), kh, xType.getDimSize(3), kw},
                            elementType);
  Value outInit = tensor::EmptyOp::create(
      b, loc, outType.getShape(), elementType,
      getDynamicSizes(b, loc, outType, x, {0, 1, 1, 2, 2, 3, 3}));
  SmallVector<AffineExpr> d(7);
  for (unsigned i = 0; i < 7; ++i)
    d[i] = getAffineDimExpr(i, context);
  SmallVector<AffineMap> moveMaps = {
      AffineMap::get(7, 0, {d[0], d[1], d[2], d[4], d[6], d[3], d[5]},
                     context)};
  SmallVector<Value> moveInputs = {unpacked};
  if (bias) {
    moveMaps.push_back(
        AffineMap::get(7, 0, d[1] * outPerGroup + d[2], context));
    moveInputs.push_back(bias);
  }
  moveMaps.push_back(AffineMap::getMultiDimIdentityMap(7, context));
  Value moved =
      linalg::GenericOp::create(
          b, loc, TypeRange{outType}, moveInputs, outInit, moveMaps,
          SmallVector<utils::IteratorType>(7, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value value = args[0];
            if (bias)
              value = arith::AddFOp::create(nb, nl, value, args[1]);
            linalg::YieldOp::create(nb, nl, value);
          })
          .getResult(0);
  Value collapsed = tensor::CollapseShapeOp::create(
      b, loc, moved,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3, 4}, {5, 6}});
  return castToType(b, loc, collapsed, type);
}

struct ConvTransposeLowering : OpConversionPattern<ConvTransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    Value x = adaptor.getX(), w = adaptor.getW();
    FailureOr<int64_t> numSpatial =
        checkConvOperands(op, x, w, "transposed convolutions");
    if (failed(numSpatial))
      return failure();
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    ArrayRef<int64_t> kernel = wType.getShape().drop_front(2);
    // The pads of a transposed convolution apply to its output; auto_pad is
    // resolved below, not as for a forward window.
    FailureOr<Window> window = completeWindow(op, kernel, *numSpatial);
    if (failed(window))
      return failure();
    if (ArrayRef(window->kernel) != kernel)
      return op.emitOpError("kernel_shape differs from the weight's spatial "
                            "dims");

    int64_t group = op.getGroup();
    int64_t inChannels = wType.getDimSize(0), outPerGroup = wType.getDimSize(1);
    if (inChannels % group != 0)
      return op.emitOpError("the weight's ")
             << inChannels << " input channels do not split into " << group
             << " groups";
    Value bias = isNone(op.getB()) ? Value() : adaptor.getB();
    RankedTensorType resultType = *type;
    if (*numSpatial == 1) {
      x = expandUnitDims(rewriter, loc, x, {2});
      w = expandUnitDims(rewriter, loc, w, {2});
      resultType = withUnitDim(resultType, 2);
    }
    x = refineChannels(rewriter, loc, x, inChannels);

    Value result;
    if (hasDisjointWindows(op, *window)) {
      result =
          buildBlockConvTranspose(rewriter, loc, x, w, bias, group, resultType);
    } else {
      for (int64_t i = 2; i < xType.getRank(); ++i)
        if (xType.isDynamicDim(i) || type->isDynamicDim(i))
          return op.emitOpError(
              "a transposed convolution with overlapping windows (stride "
              "other than the kernel size, dilation, pads or output_padding) "
              "on a dynamic spatial dim does not lower to linalg yet");
      SmallVector<int64_t> low, high;
      getForwardPads(op, *window, xType, *type, low, high);
      SmallVector<int64_t> dilations = window->dilations;
      if (*numSpatial == 1) {
        // The unit height: dilation 1, no padding.
        dilations.insert(dilations.begin(), 1);
        low.insert(low.begin(), 0);
        high.insert(high.begin(), 0);
        window->prependUnitDim();
      }
      ConvKind kind = getConvKind(group, inChannels, outPerGroup * group,
                                  inChannels / group);
      Value zero = createScalar(rewriter, loc, xType.getElementType(), 0.0);
      Value input =
          upsampleAndPad(rewriter, loc, x, window->strides, low, high, zero);
      Value filter = flipTransposedWeight(rewriter, loc, w, kind, group);
      SmallVector<Value> sizes = getDynamicSizes(rewriter, loc, resultType, x);
      Value init = createConvInit(rewriter, loc, resultType, sizes, bias, zero);
      result = buildConv2D(rewriter, loc, kind, input, filter, init,
                           /*strides=*/{1, 1}, dilations);
    }
    if (*numSpatial == 1)
      result = collapseUnitDims(rewriter, loc, result, {2});
    rewriter.replaceOp(op, result);
    return success();
  }

  static int64_t getOutputPadding(ConvTransposeOp op, unsigned dim) {
    return op.getOutputPadding() ? (*op.getOutputPadding())[dim] : 0;
  }

  /// Whether each input pixel writes its own output block: stride equal to
  /// the kernel, no dilation, padding, output_padding or output_shape.
  /// (auto_pad SAME then pads by output_padding + extent - stride = 0.)
  static bool hasDisjointWindows(ConvTransposeOp op, const Window &window) {
    if (op.getOutputShape())
      return false;
    bool explicitPads = op.getAutoPad() == "NOTSET";
    for (auto [i, kernel] : llvm::enumerate(window.kernel))
      if (window.strides[i] != kernel || window.dilations[i] != 1 ||
          getOutputPadding(op, i) != 0 ||
          (explicitPads && (window.padLow[i] != 0 || window.padHigh[i] != 0)))
        return false;
    return true;
  }

  /// The pads of the equivalent forward convolution over the
  /// zero-upsampled input: extent - 1 - (the output's begin pad) before,
  /// and whatever makes the output size come out after. The output's begin
  /// pads are the `pads` attribute, or split from the total that
  /// output_shape / auto_pad SAME imply, the odd one at the end for
  /// SAME_UPPER and at the start otherwise (ONNX spec).
  static void getForwardPads(ConvTransposeOp op, const Window &window,
                             RankedTensorType xType, RankedTensorType type,
                             SmallVectorImpl<int64_t> &low,
                             SmallVectorImpl<int64_t> &high) {
    StringRef autoPad = op.getAutoPad();
    bool fromTotal = op.getOutputShape() || autoPad == "SAME_UPPER" ||
                     autoPad == "SAME_LOWER";
    for (auto [i, stride] : llvm::enumerate(window.strides)) {
      int64_t in = xType.getDimSize(i + 2), out = type.getDimSize(i + 2);
      int64_t extent = window.extent(i);
      int64_t begin = autoPad == "VALID" ? 0 : window.padLow[i];
      if (fromTotal) {
        int64_t total =
            stride * (in - 1) + getOutputPadding(op, i) + extent - out;
        // ONNX halves with floor division: a negative total (output_shape
        // smaller than the full result) crops at the end first.
        int64_t half = llvm::divideFloorSigned(total, 2);
        begin = autoPad == "SAME_UPPER" ? half : total - half;
      }
      int64_t upsampled = (in - 1) * stride + 1;
      low.push_back(extent - 1 - begin);
      high.push_back(out + extent - 1 - upsampled - low.back());
    }
  }
};

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct MaxPoolLowering : OpConversionPattern<MaxPoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MaxPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!op.getIndices().use_empty())
      return op.emitOpError("the Indices output of MaxPool does not lower to "
                            "linalg yet; only Y can be used");
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    FailureOr<PoolInput> pool =
        preparePool(op, adaptor.getX(), *type, rewriter);
    if (failed(pool))
      return failure();
    // Pads never win the max, so they are the lowest value. Stored u8 of a
    // quantized tensor compare unsigned.
    Value result;
    if (isStoredUnsigned(op.getX())) {
      result = buildUnsignedMaxPool2D(rewriter, op.getLoc(), *pool);
    } else {
      Value lowest = lowestValue(rewriter, op.getLoc(), type->getElementType());
      result = buildPool2D<linalg::PoolingNchwMaxOp>(rewriter, op.getLoc(),
                                                     *pool, lowest, lowest);
    }
    if (pool->is1D)
      result = collapseUnitDims(rewriter, op.getLoc(), result, {2});
    // Indices has no uses: nothing replaces it.
    rewriter.replaceOp(op, {result, Value()});
    return success();
  }
};

/// The same count in index arithmetic, for an output position known only at
/// run time: taps k in [max(0, ceil((lo-start)/d)), min(K-1,
/// floor((hi-1-start)/d))].
Value countTaps(OpBuilder &b, Location loc, Value out, int64_t kernel,
                int64_t stride, int64_t dilation, int64_t padLow, Value lo,
                Value hi) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value start = arith::SubIOp::create(
      b, loc, arith::MulIOp::create(b, loc, out, index(stride)), index(padLow));
  Value firstOffset = arith::SubIOp::create(b, loc, lo, start);
  Value lastOffset = arith::SubIOp::create(
      b, loc, arith::SubIOp::create(b, loc, hi, index(1)), start);
  if (dilation != 1) {
    firstOffset =
        arith::CeilDivSIOp::create(b, loc, firstOffset, index(dilation));
    lastOffset =
        arith::FloorDivSIOp::create(b, loc, lastOffset, index(dilation));
  }
  Value first = arith::MaxSIOp::create(b, loc, index(0), firstOffset);
  Value last = arith::MinSIOp::create(b, loc, index(kernel - 1), lastOffset);
  Value count = arith::AddIOp::create(
      b, loc, arith::SubIOp::create(b, loc, last, first), index(1));
  return arith::MaxSIOp::create(b, loc, count, index(0));
}

struct AveragePoolLowering : OpConversionPattern<AveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    FailureOr<PoolInput> pool =
        preparePool(op, adaptor.getX(), *type, rewriter);
    if (failed(pool))
      return failure();
    Value zero = createScalar(rewriter, loc, type->getElementType(), 0.0);
    Value sum =
        buildPool2D<linalg::PoolingNchwSumOp>(rewriter, loc, *pool, zero, zero);
    Value result = divideByCount(rewriter, loc, op, *pool, sum);
    if (pool->is1D)
      result = collapseUnitDims(rewriter, loc, result, {2});
    rewriter.replaceOp(op, result);
    return success();
  }

  /// Divides each window sum by its number of counted cells: the taps that
  /// fall inside the input, plus the pads when count_include_pad (but never
  /// the extra cells ceil_mode reads past the pads). The counts are
  /// separable per spatial dim.
  static Value divideByCount(OpBuilder &b, Location loc, AveragePoolOp op,
                             const PoolInput &pool, Value sum) {
    const Window &window = pool.window;
    RankedTensorType type = pool.resultType;
    bool includePad = op.getCountIncludePad() != 0;

    // Static counts per spatial dim, when the sizes are known.
    std::optional<SmallVector<SmallVector<int64_t>>> staticCounts =
        getStaticPoolCounts(pool, includePad);
    SmallVector<SmallVector<int64_t>> counts;
    bool isStatic = staticCounts.has_value(), isUniform = true;
    if (isStatic) {
      counts = std::move(*staticCounts);
      for (ArrayRef<int64_t> dimCounts : counts)
        isUniform &= llvm::all_equal(dimCounts);
    } else {
      // In floor mode every window lies inside the padded input, so only
      // dropping the pads from the count makes it vary.
      for (unsigned i = 0; i < 2; ++i) {
        isUniform &=
            includePad || (window.padLow[i] == 0 && window.padHigh[i] == 0);
        counts.push_back({window.kernel[i]});
      }
    }

    Type element = type.getElementType();
    if (isUniform) {
      double divisor = counts[0][0] * counts[1][0];
      return buildElementwise(
          b, loc, type, sum, [&](OpBuilder &nb, Location nl, ValueRange s) {
            return arith::DivFOp::create(nb, nl, s[0],
                                         createScalar(nb, nl, element, divisor))
                .getResult();
          });
    }
    if (isStatic) {
      // A compile-time OH x OW table of divisors, read at (h, w).
      SmallVector<APFloat> divisors;
      for (int64_t h : counts[0])
        for (int64_t w : counts[1])
          divisors.push_back(
              cast<FloatAttr>(b.getFloatAttr(element, double(h * w)))
                  .getValue());
      auto tableType = RankedTensorType::get(
          {int64_t(counts[0].size()), int64_t(counts[1].size())}, element);
      Value table = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(tableType, divisors));
      return buildElementwise(
          b, loc, type, {sum, table},
          [](OpBuilder &nb, Location nl, ValueRange s) {
            return arith::DivFOp::create(nb, nl, s[0], s[1]).getResult();
          });
    }
    return divideByDynamicCount(b, loc, pool, sum, includePad);
  }

  /// The count computed per output position from linalg.index, for dynamic
  /// spatial sizes.
  static Value divideByDynamicCount(OpBuilder &b, Location loc,
                                    const PoolInput &pool, Value sum,
                                    bool includePad) {
    const Window &window = pool.window;
    RankedTensorType type = pool.resultType;
    SmallVector<Value> lo, hi;
    for (unsigned i = 0; i < 2; ++i) {
      Value in = tensor::DimOp::create(b, loc, pool.input, i + 2);
      lo.push_back(arith::ConstantIndexOp::create(
          b, loc, includePad ? -window.padLow[i] : 0));
      hi.push_back(includePad
                       ? arith::AddIOp::create(b, loc, in,
                                               arith::ConstantIndexOp::create(
                                                   b, loc, window.padHigh[i]))
                             .getResult()
                       : in);
    }
    return buildElementwise(
        b, loc, type, sum, [&](OpBuilder &nb, Location nl, ValueRange s) {
          Value count;
          for (unsigned i = 0; i < 2; ++i) {
            Value out = linalg::IndexOp::create(nb, nl, i + 2);
            Value taps =
                countTaps(nb, nl, out, window.kernel[i], window.strides[i],
                          window.dilations[i], window.padLow[i], lo[i], hi[i]);
            count = count ? arith::MulIOp::create(nb, nl, count, taps) : taps;
          }
          Value divisor =
              castScalar(nb, nl, castScalar(nb, nl, count, nb.getI64Type()),
                         s[0].getType());
          return arith::DivFOp::create(nb, nl, s[0], divisor).getResult();
        });
  }
};

/// GlobalAveragePool / GlobalMaxPool: a reduction over all spatial dims,
/// which are kept as size 1.
template <typename OpTy, bool IsMax>
struct GlobalPoolLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    Value x = adaptor.getX();
    if (!isa<RankedTensorType>(x.getType()))
      return rewriter.notifyMatchFailure(op, "unranked input");
    Type element = type->getElementType();
    // Stored u8 of a quantized tensor compare unsigned, from 0.
    bool isUnsigned = IsMax && isStoredUnsigned(op.getX());
    Value init = IsMax && !isUnsigned ? lowestValue(rewriter, loc, element)
                                      : createScalar(rewriter, loc, element, 0.0);
    Value reduced = reduceTrailing(
        rewriter, loc, x, {}, 2, init,
        [&](OpBuilder &b, Location l, ValueRange in, Value acc) -> Value {
          if (isUnsigned)
            return arith::MaxUIOp::create(b, l, acc, in[0]);
          return IsMax ? createMaximum(b, l, acc, in[0]) : createAdd(b, l, acc, in[0]);
        });
    if (!IsMax) {
      Value count = elementCount(rewriter, loc, x, 2, element);
      reduced = buildElementwise(
          rewriter, loc, cast<RankedTensorType>(reduced.getType()), reduced,
          [&](OpBuilder &b, Location l, ValueRange s) {
            return arith::DivFOp::create(b, l, s[0], count).getResult();
          });
    }
    SmallVector<int64_t> unitDims =
        llvm::to_vector(llvm::seq<int64_t>(2, type->getRank()));
    rewriter.replaceOp(op, expandUnitDims(rewriter, loc, reduced, unitDims));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// Mean and 1/sqrt(variance + epsilon) of each row of `x` (dims
/// [axis, rank)), in the accumulator type: tensors of x's leading dims.
struct Moments {
  Value mean, invStdDev;
};

Moments computeMoments(OpBuilder &b, Location loc, Value x, int64_t axis,
                       double epsilon) {
  Type acc = getAccumulatorType(getElementTypeOrSelf(x.getType()));
  Value zero = createScalar(b, loc, acc, 0.0);
  Value count = elementCount(b, loc, x, axis, acc);
  Value sum = reduceTrailing(
      b, loc, x, {}, axis, zero,
      [&](OpBuilder &nb, Location nl, ValueRange in, Value total) {
        return arith::AddFOp::create(nb, nl, total,
                                     castScalar(nb, nl, in[0], acc))
            .getResult();
      });
  auto rowType = cast<RankedTensorType>(sum.getType());
  Value mean = buildElementwise(
      b, loc, rowType, sum, [&](OpBuilder &nb, Location nl, ValueRange s) {
        return arith::DivFOp::create(nb, nl, s[0], count).getResult();
      });
  // Two passes (sum of squared deviations from the mean) rather than
  // E[x^2] - E[x]^2, which cancels catastrophically for large means.
  Value squares = reduceTrailing(
      b, loc, x, mean, axis, zero,
      [&](OpBuilder &nb, Location nl, ValueRange in, Value total) {
        Value deviation = arith::SubFOp::create(
            nb, nl, castScalar(nb, nl, in[0], acc), in[1]);
        return arith::AddFOp::create(
                   nb, nl, total,
                   arith::MulFOp::create(nb, nl, deviation, deviation))
            .getResult();
      });
  Value invStdDev = buildElementwise(
      b, loc, rowType, squares, [&](OpBuilder &nb, Location nl, ValueRange s) {
        Value variance = arith::DivFOp::create(nb, nl, s[0], count);
        Value shifted = arith::AddFOp::create(
            nb, nl, variance, createScalar(nb, nl, acc, epsilon));
        return arith::DivFOp::create(nb, nl, createScalar(nb, nl, acc, 1.0),
                                     math::SqrtOp::create(nb, nl, shifted))
            .getResult();
      });
  return {mean, invStdDev};
}

/// y = (x - mean) * invStdDev * scale + bias, with the moments read per row
/// and scale/bias (bias may be null) through their maps.
Value applyNormalization(OpBuilder &b, Location loc, RankedTensorType type,
                         Value x, const Moments &moments, int64_t axis,
                         Value scale, AffineMap scaleMap, Value bias,
                         AffineMap biasMap) {
  MLIRContext *context = b.getContext();
  int64_t rank = type.getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  AffineMap rowMap = getLeadingDimsMap(rank, axis, context);
  SmallVector<Value> inputs = {x, moments.mean, moments.invStdDev, scale};
  SmallVector<AffineMap> maps = {identity, rowMap, rowMap, scaleMap};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(biasMap);
  }
  maps.push_back(identity);
  Value init = createEmpty(b, loc, type, getDynamicSizes(b, loc, type, x));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, init, maps, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Type acc = args[1].getType();
               Value centered = arith::SubFOp::create(
                   nb, nl, castScalar(nb, nl, args[0], acc), args[1]);
               Value y = arith::MulFOp::create(
                   nb, nl, arith::MulFOp::create(nb, nl, centered, args[2]),
                   castScalar(nb, nl, args[3], acc));
               if (bias)
                 y = arith::AddFOp::create(nb, nl, y,
                                           castScalar(nb, nl, args[4], acc));
               linalg::YieldOp::create(
                   nb, nl, castScalar(nb, nl, y, type.getElementType()));
             })
      .getResult(0);
}

/// The map reading a per-channel (dim 1) parameter in a loop nest of `rank`.
AffineMap channelMap(MLIRContext *context, int64_t rank) {
  return AffineMap::get(rank, 0, getAffineDimExpr(1, context), context);
}

struct InstanceNormalizationLowering
    : OpConversionPattern<InstanceNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(InstanceNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    // Each (N, C) plane is a row: normalize over dims 2...
    Moments moments = computeMoments(rewriter, op.getLoc(), adaptor.getInput(),
                                     2, op.getEpsilon().convertToDouble());
    AffineMap channel = channelMap(getContext(), type->getRank());
    rewriter.replaceOp(op, applyNormalization(rewriter, op.getLoc(), *type,
                                              adaptor.getInput(), moments, 2,
                                              adaptor.getScale(), channel,
                                              adaptor.getB(), channel));
    return success();
  }
};

struct LayerNormalizationLowering : OpConversionPattern<LayerNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LayerNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    int64_t rank = type->getRank();
    FailureOr<int64_t> axis = normalizeAxis(loc, op.getAxis(), rank, "axis");
    if (failed(axis))
      return failure();
    Value scale = adaptor.getScale();
    Value bias = isNone(op.getB()) ? Value() : adaptor.getB();
    for (Value param : {scale, bias})
      if (param && cast<RankedTensorType>(param.getType()).getRank() > rank)
        return op.emitOpError("Scale and B must not have a higher rank than "
                              "X to lower to linalg");

    Moments moments = computeMoments(rewriter, loc, adaptor.getX(), *axis,
                                     op.getEpsilon().convertToDouble());
    // Scale and B broadcast against the normalized dims, which are X's
    // trailing dims, so numpy broadcasting against X reads them right.
    auto mapOf = [&](Value param) {
      return param ? getBroadcastMap(getContext(),
                                     cast<RankedTensorType>(param.getType()),
                                     rank)
                   : AffineMap();
    };
    Value y = applyNormalization(rewriter, loc, *type, adaptor.getX(), moments,
                                 *axis, scale, mapOf(scale), bias, mapOf(bias));
    rewriter.replaceOp(
        op, {y, getStatistic(rewriter, loc, op.getMean(), moments.mean, *axis),
             getStatistic(rewriter, loc, op.getInvStdDev(), moments.invStdDev,
                          *axis)});
    return success();
  }

  /// The Mean or InvStdDev output (X's leading dims, then ones), or null
  /// when unused.
  static Value getStatistic(OpBuilder &b, Location loc, Value result,
                            Value rows, int64_t axis) {
    if (result.use_empty())
      return Value();
    auto type = cast<RankedTensorType>(result.getType());
    Value expanded = expandUnitDims(
        b, loc, rows,
        llvm::to_vector(llvm::seq<int64_t>(axis, type.getRank())));
    auto expandedType = cast<RankedTensorType>(expanded.getType());
    if (expandedType.getElementType() == type.getElementType())
      return expanded;
    return buildElementwise(
        b, loc, expandedType.clone(type.getElementType()), expanded,
        [&](OpBuilder &nb, Location nl, ValueRange s) {
          return castScalar(nb, nl, s[0], type.getElementType());
        });
  }
};

/// Inference BatchNormalization: y = x * multiplier[c] + offset[c], with
/// multiplier = scale / sqrt(var + epsilon) and offset = B - mean *
/// multiplier; computed at compile time when the parameters are constants.
struct BatchNormalizationLowering : OpConversionPattern<BatchNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(BatchNormalizationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    double epsilon = op.getEpsilon().convertToDouble();
    Value multiplier, offset;
    if (failed(foldParameters(rewriter, loc, op, *type, multiplier, offset)))
      computeParameters(rewriter, loc, adaptor, *type, epsilon, multiplier,
                        offset);
    AffineMap channel = channelMap(getContext(), type->getRank());
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(type->getRank(), getContext());
    Value x = adaptor.getX();
    Value init = createEmpty(rewriter, loc, *type,
                             getDynamicSizes(rewriter, loc, *type, x));
    SmallVector<utils::IteratorType> iterators(type->getRank(),
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{*type}, ValueRange{x, multiplier, offset},
        init, SmallVector<AffineMap>{identity, channel, channel, identity},
        iterators, [](OpBuilder &b, Location l, ValueRange args) {
          Value scaled = arith::MulFOp::create(b, l, args[0], args[1]);
          linalg::YieldOp::create(
              b, l, arith::AddFOp::create(b, l, scaled, args[2]).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  /// Dense constants of the per-channel multiplier and offset, when all
  /// four parameters are constants.
  static LogicalResult foldParameters(OpBuilder &b, Location loc,
                                      BatchNormalizationOp op,
                                      RankedTensorType type,
                                      Value &multiplier, Value &offset) {
    std::optional<ChannelAffine> affine = getConstantChannelAffine(op);
    if (!affine)
      return failure();
    Type element = type.getElementType();
    auto toElements = [&](ArrayRef<double> values) {
      SmallVector<APFloat> elements;
      for (double value : values)
        elements.push_back(
            cast<FloatAttr>(b.getFloatAttr(element, value)).getValue());
      return elements;
    };
    auto paramType = RankedTensorType::get({affine->size()}, element);
    multiplier = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(paramType, toElements(affine->multiplier)));
    offset = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(paramType, toElements(affine->offset)));
    return success();
  }

  /// The same per-channel values computed at run time by one C-sized
  /// generic, so the per-element work stays one multiply-add.
  static void computeParameters(OpBuilder &b, Location loc, OpAdaptor adaptor,
                                RankedTensorType type, double epsilon,
                                Value &multiplier, Value &offset) {
    Value scale = adaptor.getScale();
    auto paramType =
        cast<RankedTensorType>(scale.getType()).clone(type.getElementType());
    SmallVector<Value> sizes = getDynamicSizes(b, loc, paramType, scale);
    Value inits[] = {createEmpty(b, loc, paramType, sizes),
                     createEmpty(b, loc, paramType, sizes)};
    AffineMap identity = b.getDimIdentityMap();
    Type element = type.getElementType();
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{paramType, paramType},
        ValueRange{scale, adaptor.getB(), adaptor.getInputMean(),
                   adaptor.getInputVar()},
        inits, SmallVector<AffineMap>(6, identity),
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          auto arg = [&](unsigned i) {
            return castScalar(nb, nl, args[i], element);
          };
          Value shifted = arith::AddFOp::create(
              nb, nl, arg(3), createScalar(nb, nl, element, epsilon));
          Value m = arith::DivFOp::create(
              nb, nl, arg(0), math::SqrtOp::create(nb, nl, shifted));
          Value o = arith::SubFOp::create(
              nb, nl, arg(1), arith::MulFOp::create(nb, nl, arg(2), m));
          linalg::YieldOp::create(nb, nl, ValueRange{m, o});
        });
    multiplier = generic.getResult(0);
    offset = generic.getResult(1);
  }
};

/// LRN: y = x / (bias + alpha / size * sum of x^2 over `size` neighbouring
/// channels) ^ beta, the window centred with its odd cell after.
struct LRNLowering : OpConversionPattern<LRNOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LRNOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    Value x = adaptor.getX();
    Type element = type->getElementType();
    int64_t rank = type->getRank(), size = op.getSize();
    MLIRContext *context = getContext();

    Value squares = buildElementwise(
        rewriter, loc, *type, x, [](OpBuilder &b, Location l, ValueRange s) {
          return arith::MulFOp::create(b, l, s[0], s[0]).getResult();
        });
    SmallVector<int64_t> low(rank, 0), high(rank, 0);
    low[1] = (size - 1) / 2;
    high[1] = size - 1 - low[1];
    Value zero = createScalar(rewriter, loc, element, 0.0);
    Value padded = padTensor(rewriter, loc, squares, low, high, zero);

    // Sum over a window loop k: out[n, c, ...] += padded[n, c + k, ...].
    SmallVector<AffineExpr> read;
    for (int64_t i = 0; i < rank; ++i)
      read.push_back(getAffineDimExpr(i, context));
    read[1] = read[1] + getAffineDimExpr(rank, context);
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank + 1, 0, read, context),
        AffineMap::get(rank + 1, 0, getAffineDimExpr(rank, context), context),
        AffineMap::getMultiDimIdentityMap(rank + 1, context)
            .getMajorSubMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Value windowShape = tensor::EmptyOp::create(
        rewriter, loc, SmallVector<int64_t>{size}, element);
    Value init = createFilled(rewriter, loc, *type,
                              getDynamicSizes(rewriter, loc, *type, x), zero);
    Value sums =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{*type}, ValueRange{padded, windowShape},
            init, maps, iterators,
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  b, l,
                  arith::AddFOp::create(b, l, args[2], args[0]).getResult());
            })
            .getResult(0);

    double alphaOverSize = op.getAlpha().convertToDouble() / double(size);
    double bias = op.getBias().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Value result = buildElementwise(
        rewriter, loc, *type, {x, sums},
        [&](OpBuilder &b, Location l, ValueRange s) {
          Value base = arith::AddFOp::create(
              b, l, createScalar(b, l, element, bias),
              arith::MulFOp::create(
                  b, l, s[1], createScalar(b, l, element, alphaOverSize)));
          Value denominator = math::PowFOp::create(
              b, l, base, createScalar(b, l, element, beta));
          return arith::DivFOp::create(b, l, s[0], denominator).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateNNToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvTransposeLowering, MaxPoolLowering,
               AveragePoolLowering,
               GlobalPoolLowering<GlobalAveragePoolOp, /*IsMax=*/false>,
               GlobalPoolLowering<GlobalMaxPoolOp, /*IsMax=*/true>,
               BatchNormalizationLowering, InstanceNormalizationLowering,
               LayerNormalizationLowering, LRNLowering>(patterns.getContext());
}

} // namespace mlir::quarc
