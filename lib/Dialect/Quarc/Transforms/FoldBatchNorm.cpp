//===- FoldBatchNorm.cpp - the quarc-fold-batchnorm pass -----------------===//
//
// Inference BatchNormalization is a per-channel affine map,
// y = x * multiplier[c] + offset[c] with multiplier = scale / sqrt(var + eps)
// and offset = B - mean * multiplier. After a convolution or a matrix
// product with constant weights it folds into them: the weights of output
// channel c are scaled by multiplier[c] and the bias becomes
// bias[c] * multiplier[c] + offset[c]. Everything is computed in double and
// rounded once to the weights' element type.
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Dialect/Quarc/IR/BatchNorm.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>
#include <functional>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCFOLDBATCHNORM
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// The values of a float constant with a static shape of `count` elements.
std::optional<SmallVector<double>> getFloatValues(Value value, int64_t count) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() != count ||
      !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  std::optional<SmallVector<double>> values = getConstantFloatValues(value);
  if (!values || int64_t(values->size()) != count)
    return std::nullopt;
  return values;
}

/// The values of a float constant added to a rank-`rank` tensor whose
/// channels are dim `channelDim`, per channel: its shape (broadcast from the
/// right) is 1 everywhere except perhaps `channels` at the channel dim.
std::optional<SmallVector<double>> getPerChannelValues(Value value,
                                                       int64_t rank,
                                                       int64_t channelDim,
                                                       int64_t channels) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || type.getRank() > rank)
    return std::nullopt;
  int64_t offset = rank - type.getRank();
  for (auto [i, dim] : llvm::enumerate(type.getShape()))
    if (dim != 1 && (int64_t(i) + offset != channelDim || dim != channels))
      return std::nullopt;
  int64_t count = type.getNumElements();
  std::optional<SmallVector<double>> values = getFloatValues(value, count);
  if (!values)
    return std::nullopt;
  if (count == 1)
    return SmallVector<double>(channels, values->front());
  return values;
}

/// `value` = producer(...) + constant, with single-use producer and Add of
/// the same type: the producer, and the constant in `addend`. Otherwise the
/// op defining `value` and no addend.
Operation *skipConstantAdd(Value value, Value &addend) {
  addend = nullptr;
  Operation *op = value.getDefiningOp();
  auto add = dyn_cast_if_present<AddOp>(op);
  if (!add)
    return op;
  Value lhs = add.getOperand(0), rhs = add.getOperand(1);
  if (lhs.getDefiningOp<ConstantOp>())
    std::swap(lhs, rhs);
  Operation *producer = lhs.getDefiningOp();
  if (!producer || !producer->hasOneUse() || !rhs.getDefiningOp<ConstantOp>() ||
      lhs.getType() != value.getType())
    return op;
  addend = rhs;
  return producer;
}

ConstantOp createConstant(PatternRewriter &rewriter, Location loc,
                          RankedTensorType type, ArrayRef<double> values,
                          std::string key) {
  ElementsAttr attr = createFloatElementsAttr(type, values, key);
  return ConstantOp::create(rewriter, loc, type, attr);
}

/// BatchNormalization of a single-use Conv or ConvTranspose with constant
/// weights (and a constant or absent bias), possibly followed by an Add of
/// a constant per-channel bias: scale the weights per output channel and
/// fold the shift (and the added bias) into the bias.
struct FoldBatchNormIntoConv : OpRewritePattern<BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getX().hasOneUse())
      return rewriter.notifyMatchFailure(op, "input has other uses");
    Value addend;
    Operation *conv = skipConstantAdd(op.getX(), addend);
    if (!isa_and_present<ConvOp, ConvTransposeOp>(conv))
      return rewriter.notifyMatchFailure(op, "input is not a convolution");
    if (!conv->hasOneUse())
      return rewriter.notifyMatchFailure(op, "convolution has other uses");
    std::optional<ChannelAffine> affine = getConstantChannelAffine(op);
    if (!affine)
      return rewriter.notifyMatchFailure(op, "parameters are not constants");

    Value weight = conv->getOperand(1), bias = conv->getOperand(2);
    auto weightType = dyn_cast<RankedTensorType>(weight.getType());
    if (!weightType || !weightType.hasStaticShape() || weightType.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "weight shape is not static");
    int64_t count = weightType.getNumElements();
    // Output channel of each weight element. Conv: W is M x C/group x k...,
    // so the output channel is dim 0. ConvTranspose: W is C x M/group x k...
    // and input channel i of group i / (C/group) feeds the output channels
    // of that group, so output channel = group * M/group + dim 1.
    int64_t dim0 = weightType.getDimSize(0), dim1 = weightType.getDimSize(1);
    int64_t inner = dim0 * dim1 == 0 ? 0 : count / (dim0 * dim1);
    int64_t channels = dim0;
    std::function<int64_t(int64_t)> outputChannel;
    if (auto transposed = dyn_cast<ConvTransposeOp>(conv)) {
      int64_t group = transposed.getGroup();
      if (group <= 0 || dim0 % group != 0)
        return rewriter.notifyMatchFailure(op, "bad group");
      int64_t inputsPerGroup = dim0 / group;
      channels = group * dim1;
      outputChannel = [=](int64_t index) {
        int64_t i = index / (dim1 * inner), j = index / inner % dim1;
        return i / inputsPerGroup * dim1 + j;
      };
    } else {
      outputChannel = [=](int64_t index) { return index / (dim1 * inner); };
    }
    if (channels != affine->size() || count == 0)
      return rewriter.notifyMatchFailure(op, "channel count differs");

    std::optional<SmallVector<double>> weights = getFloatValues(weight, count);
    if (!weights)
      return rewriter.notifyMatchFailure(op, "weight is not a constant");
    SmallVector<double> biases(channels, 0.0);
    if (!isNone(bias)) {
      std::optional<SmallVector<double>> values =
          getFloatValues(bias, channels);
      if (!values)
        return rewriter.notifyMatchFailure(op, "bias is not a constant");
      biases = std::move(*values);
    }
    if (addend) {
      std::optional<SmallVector<double>> values = getPerChannelValues(
          addend, op.getX().getType().getRank(), 1, channels);
      if (!values)
        return rewriter.notifyMatchFailure(op, "added bias is not per channel");
      for (int64_t c = 0; c < channels; ++c)
        biases[c] += (*values)[c];
    }

    for (int64_t index = 0; index < count; ++index)
      (*weights)[index] *= affine->multiplier[outputChannel(index)];
    for (int64_t c = 0; c < channels; ++c)
      biases[c] = biases[c] * affine->multiplier[c] + affine->offset[c];

    // The BatchNorm's location first: the convolution now produces its
    // output tensor (see TensorNames.h).
    SmallVector<Location> locs = {op.getLoc(), conv->getLoc()};
    if (addend)
      locs.push_back(op.getX().getLoc());
    Location loc = rewriter.getFusedLoc(locs);
    rewriter.setInsertionPoint(conv);
    Value newWeight =
        createConstant(rewriter, weight.getLoc(), weightType, *weights,
                       deriveConstantKey(weight, "weight", "_bn"));
    Value newBias = createConstant(
        rewriter, op.getB().getLoc(),
        RankedTensorType::get({channels}, weightType.getElementType()), biases,
        deriveConstantKey(bias, "bias", "_bn"));
    rewriter.modifyOpInPlace(conv, [&] {
      conv->setOperand(1, newWeight);
      conv->setOperand(2, newBias);
      conv->setLoc(loc);
    });
    rewriter.replaceOp(op, conv->getResult(0));
    return success();
  }
};

/// BatchNormalization of a 2-D matrix product with a constant right-hand
/// side: a single-use Gemm or MatMul, possibly followed by an Add of a
/// constant bias. The channels are the columns; the result is one Gemm
/// with the columns of B scaled and C = (beta * C + bias) * multiplier +
/// offset.
struct FoldBatchNormIntoMatMul : OpRewritePattern<BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getX().getType();
    if (type.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "input is not 2-D");
    if (!op.getX().hasOneUse())
      return rewriter.notifyMatchFailure(op, "input has other uses");
    Value addend;
    Operation *producer = skipConstantAdd(op.getX(), addend);
    if (!producer || !producer->hasOneUse())
      return rewriter.notifyMatchFailure(op, "product has other uses");

    Value a, b, c;
    double alpha = 1.0, beta = 1.0;
    bool transA = false, transB = false;
    SmallVector<Location> locs = {op.getLoc(), producer->getLoc()};
    if (addend)
      locs.push_back(op.getX().getLoc());
    if (auto gemm = dyn_cast<GemmOp>(producer)) {
      a = gemm.getA(), b = gemm.getB(), c = gemm.getC();
      alpha = gemm.getAlpha().convertToDouble();
      beta = gemm.getBeta().convertToDouble();
      transA = gemm.getTransA() != 0, transB = gemm.getTransB() != 0;
    } else if (auto matmul = dyn_cast<MatMulOp>(producer)) {
      a = matmul.getA(), b = matmul.getB();
      if (cast<RankedTensorType>(a.getType()).getRank() != 2)
        return rewriter.notifyMatchFailure(op, "MatMul is not 2-D");
    } else {
      return rewriter.notifyMatchFailure(op, "input is not a product");
    }
    if (producer->getResult(0).getType() != type)
      return rewriter.notifyMatchFailure(op, "product type differs");

    auto bType = dyn_cast<RankedTensorType>(b.getType());
    int64_t channels = type.getDimSize(1);
    if (!bType || !bType.hasStaticShape() || bType.getRank() != 2 ||
        !isa<FloatType>(bType.getElementType()) ||
        bType.getDimSize(transB ? 0 : 1) != channels)
      return rewriter.notifyMatchFailure(op, "B is not a static 2-D matrix");
    std::optional<ChannelAffine> affine = getConstantChannelAffine(op);
    if (!affine || affine->size() != channels)
      return rewriter.notifyMatchFailure(op, "parameters are not constants");
    std::optional<SmallVector<double>> weights =
        getFloatValues(b, bType.getNumElements());
    if (!weights)
      return rewriter.notifyMatchFailure(op, "B is not a constant");

    // C and the added constant must be one value per column, or one in all.
    SmallVector<double> biases(channels, 0.0);
    for (auto [bias, factor] :
         {std::make_pair(c, beta), std::make_pair(addend, 1.0)}) {
      if (!bias || isNone(bias))
        continue;
      std::optional<SmallVector<double>> values =
          getPerChannelValues(bias, 2, 1, channels);
      if (!values)
        return rewriter.notifyMatchFailure(op,
                                           "C is not a per-column constant");
      for (int64_t n = 0; n < channels; ++n)
        biases[n] += factor * (*values)[n];
    }

    int64_t rows = bType.getDimSize(0), cols = bType.getDimSize(1);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        (*weights)[i * cols + j] *= affine->multiplier[transB ? i : j];
    for (int64_t n = 0; n < channels; ++n)
      biases[n] = biases[n] * affine->multiplier[n] + affine->offset[n];

    rewriter.setInsertionPoint(producer);
    Value newB = createConstant(rewriter, b.getLoc(), bType, *weights,
                                deriveConstantKey(b, "weight", "_bn"));
    Value newC = createConstant(
        rewriter, op.getB().getLoc(),
        RankedTensorType::get({channels}, bType.getElementType()), biases,
        deriveConstantKey(c && !isNone(c) ? c : addend, "bias", "_bn"));
    auto gemm = GemmOp::create(rewriter, rewriter.getFusedLoc(locs), type, a,
                               newB, newC, APFloat(float(alpha)), APFloat(1.0f),
                               transA, transB);
    rewriter.replaceOp(op, gemm.getY());
    return success();
  }
};

struct QuarcFoldBatchNormPass
    : impl::QuarcFoldBatchNormBase<QuarcFoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFoldBatchNormPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void populateFoldBatchNormPatterns(RewritePatternSet &patterns) {
  patterns.add<FoldBatchNormIntoConv, FoldBatchNormIntoMatMul>(
      patterns.getContext());
}

} // namespace mlir::quarc
