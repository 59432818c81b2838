//===- SimplifyLayout.cpp - the quarc-simplify-layout pass ---------------===//
//
// Removes the copies that layout ops cost after lowering: transposes of
// weights are done at compile time, Gemm's transA/transB on a constant
// become a transposed constant (the CPU matmul kernel wants B contiguous
// along n), transposes that only move size-1 dims become reshapes (views),
// and chains of reshape-like ops become one reshape.
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cstring>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCSIMPLIFYLAYOUT
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// A constant with more elements than this is transposed at compile time
/// only when the transposed copy replaces every use, so a large weight that
/// is also used untransposed (tied embeddings) is never stored twice.
constexpr int64_t kMaxCopiedElements = 1 << 16;

SmallVector<int64_t> getPermutation(TransposeOp op) {
  if (std::optional<ArrayRef<int64_t>> perm = op.getPerm())
    return SmallVector<int64_t>(perm->begin(), perm->end());
  return llvm::to_vector(
      llvm::reverse(llvm::seq<int64_t>(0, op.getType().getRank())));
}

/// `bytes` (row-major, `shape`, `elementBytes` per element) permuted so that
/// result dim i is source dim perm[i].
SmallVector<char> permuteBytes(ArrayRef<char> bytes, ArrayRef<int64_t> shape,
                               ArrayRef<int64_t> perm, size_t elementBytes) {
  int64_t rank = shape.size();
  SmallVector<int64_t> strides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  SmallVector<int64_t> resultShape, sourceStrides;
  for (int64_t p : perm) {
    resultShape.push_back(shape[p]);
    sourceStrides.push_back(strides[p]);
  }
  SmallVector<char> result(bytes.size());
  SmallVector<int64_t> index(rank, 0);
  int64_t source = 0;
  size_t count = elementBytes == 0 ? 0 : bytes.size() / elementBytes;
  for (size_t flat = 0; flat < count; ++flat) {
    std::memcpy(result.data() + flat * elementBytes,
                bytes.data() + source * elementBytes, elementBytes);
    // Advance the result index (row-major), keeping the source offset.
    for (int64_t i = rank - 1; i >= 0; --i) {
      source += sourceStrides[i];
      if (++index[i] < resultShape[i])
        break;
      source -= sourceStrides[i] * resultShape[i];
      index[i] = 0;
    }
  }
  return result;
}

/// `value` (a constant) transposed by `perm` as a new constant, or null when
/// its data cannot be read.
Value createTransposedConstant(PatternRewriter &rewriter, Location loc,
                               Value value, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  auto resultType = type.clone(shape);
  // A splat stays a splat.
  auto constant = value.getDefiningOp<ConstantOp>();
  if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      dense && dense.isSplat() && type.hasStaticShape())
    return ConstantOp::create(rewriter, loc, resultType,
                              dense.resizeSplat(resultType));
  std::optional<SmallVector<char>> bytes = getConstantBytes(value);
  if (!bytes)
    return nullptr;
  SmallVector<char> permuted =
      permuteBytes(*bytes, type.getShape(), perm,
                   type.getElementType().getIntOrFloatBitWidth() / 8);
  ElementsAttr attr = createElementsAttr(
      resultType, permuted, deriveConstantKey(value, "tensor", "_t"));
  return ConstantOp::create(rewriter, loc, resultType, attr);
}

/// transpose(constant) -> constant.
struct FoldTransposeOfConstant : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto constant = op.getData().getDefiningOp<ConstantOp>();
    if (!constant)
      return rewriter.notifyMatchFailure(op, "data is not a constant");
    auto type = cast<RankedTensorType>(op.getData().getType());
    if (!constant->hasOneUse() &&
        (!type.hasStaticShape() || type.getNumElements() > kMaxCopiedElements))
      return rewriter.notifyMatchFailure(op, "large constant with other uses");
    // The constant's type is static; a declared `?` would need a cast.
    if (!op.getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "result type is not static");
    rewriter.setInsertionPoint(op);
    Value folded = createTransposedConstant(rewriter, op.getLoc(), op.getData(),
                                            getPermutation(op));
    if (!folded)
      return rewriter.notifyMatchFailure(op, "constant data not readable");
    rewriter.replaceOp(op, folded);
    return success();
  }
};

/// Gemm operand `index` (0: A, 1: B) is read transposed.
bool isTransposedOperand(GemmOp gemm, unsigned index) {
  return index == 0 ? gemm.getTransA() != 0 : gemm.getTransB() != 0;
}

/// Clears Gemm's transA (index 0) or transB (index 1). Default-valued
/// attributes must stay present: the getters read them unchecked.
void clearTranspose(GemmOp gemm, unsigned index) {
  IntegerAttr zero =
      IntegerAttr::get(IntegerType::get(gemm.getContext(), 64), 0);
  if (index == 0)
    gemm.setTransAAttr(zero);
  else
    gemm.setTransBAttr(zero);
}

/// Gemm with transA/transB on a constant: transpose the constant at compile
/// time and clear the flag. Every Gemm that reads the same constant
/// transposed shares the new constant.
struct FoldGemmTransposedConstant : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    for (unsigned index : {0u, 1u}) {
      Value operand = op->getOperand(index);
      auto type = dyn_cast<RankedTensorType>(operand.getType());
      if (!isTransposedOperand(op, index) || !type || type.getRank() != 2 ||
          !type.hasStaticShape() || !operand.getDefiningOp<ConstantOp>())
        continue;
      // The uses that the transposed copy can replace.
      SmallVector<OpOperand *> uses;
      bool allUses = true;
      for (OpOperand &use : operand.getUses()) {
        auto gemm = dyn_cast<GemmOp>(use.getOwner());
        if (gemm && use.getOperandNumber() < 2 &&
            isTransposedOperand(gemm, use.getOperandNumber()))
          uses.push_back(&use);
        else
          allUses = false;
      }
      if (!allUses && type.getNumElements() > kMaxCopiedElements)
        continue;
      rewriter.setInsertionPointAfterValue(operand);
      Value transposed = createTransposedConstant(
          rewriter, operand.getLoc(), operand, ArrayRef<int64_t>{1, 0});
      if (!transposed)
        continue;
      for (OpOperand *use : uses) {
        auto gemm = cast<GemmOp>(use->getOwner());
        unsigned number = use->getOperandNumber();
        rewriter.modifyOpInPlace(gemm, [&] {
          use->set(transposed);
          clearTranspose(gemm, number);
        });
      }
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no transposed constant operand");
  }
};

/// Gemm(transpose(X)) with the matching trans flag set reads X directly.
struct FoldTransposeIntoGemm : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    for (unsigned index : {0u, 1u}) {
      auto transpose = op->getOperand(index).getDefiningOp<TransposeOp>();
      if (!transpose || !isTransposedOperand(op, index) ||
          transpose.getType().getRank() != 2 ||
          !llvm::equal(getPermutation(transpose), ArrayRef<int64_t>{1, 0}))
        continue;
      rewriter.modifyOpInPlace(op, [&] {
        op->setOperand(index, transpose.getData());
        clearTranspose(op, index);
      });
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no transposed operand");
  }
};

/// A reshape of `data` to the static `type`.
Value createReshape(PatternRewriter &rewriter, Location loc, Value data,
                    RankedTensorType type) {
  auto shapeType =
      RankedTensorType::get({type.getRank()}, rewriter.getI64Type());
  Value shape =
      ConstantOp::create(rewriter, loc, shapeType,
                         DenseIntElementsAttr::get(shapeType, type.getShape()));
  // A 0 in the shape copies the input dim unless allowzero is set.
  bool hasZero = llvm::is_contained(type.getShape(), 0);
  return ReshapeOp::create(rewriter, loc, type, data, shape,
                           rewriter.getI64IntegerAttr(hasZero ? 1 : 0));
}

/// A transpose that keeps the order of the dims larger than 1 moves no data:
/// it is a reshape.
struct TransposeOfUnitDimsToReshape : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto sourceType = cast<RankedTensorType>(op.getData().getType());
    RankedTensorType type = op.getType();
    if (!sourceType.hasStaticShape() || !type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    int64_t last = -1;
    for (int64_t p : getPermutation(op)) {
      if (sourceType.getDimSize(p) == 1)
        continue;
      if (p < last)
        return rewriter.notifyMatchFailure(op, "moves data");
      last = p;
    }
    rewriter.replaceOp(
        op, createReshape(rewriter, op.getLoc(), op.getData(), type));
    return success();
  }
};

bool isReshapeLike(Operation *op) {
  return isa_and_present<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp>(op);
}

/// Flatten, Squeeze or Unsqueeze with a static result: the identity when
/// nothing changes, else one reshape of the start of a reshape chain.
/// (Reshape's own folder composes reshape(reshape-like).)
template <typename OpTy> struct CollapseReshapeChain : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value data = op->getOperand(0);
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic result");
    if (data.getType() == type) {
      rewriter.replaceOp(op, data);
      return success();
    }
    Operation *inner = data.getDefiningOp();
    if (!isReshapeLike(inner))
      return rewriter.notifyMatchFailure(op, "not a chain");
    rewriter.replaceOp(
        op, createReshape(rewriter, op->getLoc(), inner->getOperand(0), type));
    return success();
  }
};

struct QuarcSimplifyLayoutPass
    : impl::QuarcSimplifyLayoutBase<QuarcSimplifyLayoutPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateSimplifyLayoutPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void populateSimplifyLayoutPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<FoldTransposeOfConstant, FoldGemmTransposedConstant,
               FoldTransposeIntoGemm, TransposeOfUnitDimsToReshape,
               CollapseReshapeChain<FlattenOp>, CollapseReshapeChain<SqueezeOp>,
               CollapseReshapeChain<UnsqueezeOp>>(context);
  // transpose(transpose(x)) composes; identity transposes and
  // reshape(reshape(x)) are the ops' folders, which the driver applies.
  TransposeOp::getCanonicalizationPatterns(patterns, context);
}

} // namespace mlir::quarc
