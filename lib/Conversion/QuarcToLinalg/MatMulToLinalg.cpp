//===- MatMulToLinalg.cpp - MatMul and Gemm to linalg --------------------===//
//
// MatMul follows numpy: vector operands are promoted to matrices (and the
// unit dim dropped from the result again), batch dims broadcast. The common
// shapes become named ops: 2-D to linalg.matmul; a batched A times a 2-D B
// to one linalg.matmul with the batch folded into M (the transformer
// case); a 2-D A times a batched B and equal batches to
// linalg.batch_matmul. Any other broadcast is one generic contraction.
// Gemm is linalg.matmul with the transposes as indexing maps and C in the
// accumulator.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "NNLoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::quarc {
namespace {

bool isFloat(Type type) { return isa<FloatType>(type); }

/// The `tensor.dim` values (or constants) of `sizes` at the dynamic dims
/// of `type`: the operands of a tensor.empty of that type.
SmallVector<Value> getDynamicValues(OpBuilder &b, Location loc,
                                    RankedTensorType type,
                                    ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> values;
  for (auto [i, size] : llvm::enumerate(sizes))
    if (type.isDynamicDim(i))
      values.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  return values;
}

/// A zero accumulator of `type` with the given sizes.
Value createZeroInit(OpBuilder &b, Location loc, RankedTensorType type,
                     ArrayRef<OpFoldResult> sizes) {
  return createFilled(b, loc, type, getDynamicValues(b, loc, type, sizes),
                      createScalar(b, loc, type.getElementType(), 0.0));
}

/// A linalg.matmul or batch_matmul with explicit indexing maps (transposed
/// or broadcast operands).
template <typename OpTy>
Value createContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                        Value init, ArrayRef<AffineMap> maps) {
  SmallVector<NamedAttribute> attributes;
  if (!maps.empty())
    attributes.push_back(
        b.getNamedAttr("indexing_maps", b.getAffineMapArrayAttr(maps)));
  return OpTy::create(b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
                      init, attributes)
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

/// Matrix products of `lhs` (batch... x M x K) and `rhs` (batch... x K x
/// N), both of rank >= 2, into `type` (batch... x M x N).
class MatrixProduct {
public:
  MatrixProduct(OpBuilder &b, Location loc, Value lhs, Value rhs,
                RankedTensorType type)
      : b(b), loc(loc), lhs(lhs), rhs(rhs), type(type),
        lhsType(cast<RankedTensorType>(lhs.getType())),
        rhsType(cast<RankedTensorType>(rhs.getType())) {
    sizes = getResultSizes();
  }

  Value build() {
    int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
    if (lhsRank == 2 && rhsRank == 2)
      return createContraction<linalg::MatmulOp>(
          b, loc, lhs, rhs, createZeroInit(b, loc, type, sizes), {});
    // Reshapes must leave at most one dynamic dim per group: LLVM 22's
    // expand-strided-metadata crashes on expand_shape with more
    // (llvm-project#186830).
    if (rhsRank == 2 && countDynamic(lhsType.getShape().drop_back()) <= 1)
      return foldBatchIntoRows();
    int64_t batchRank = type.getRank() - 2;
    bool batchReshapes =
        batchRank == 1 ||
        countDynamic(type.getShape().take_front(batchRank)) <= 1;
    bool sharedOperand = lhsRank == 2 || rhsRank == 2;
    if (batchReshapes &&
        (sharedOperand || (lhsRank == rhsRank && haveEqualBatches())))
      return batchMatmul();
    return genericContraction();
  }

private:
  /// The result's sizes: each batch dim from an operand where it is
  /// dynamic (numpy broadcasting), M from lhs, N from rhs.
  SmallVector<OpFoldResult> getResultSizes() {
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> result;
    for (int64_t i = 0; i < rank - 2; ++i) {
      if (!type.isDynamicDim(i)) {
        result.push_back(b.getIndexAttr(type.getDimSize(i)));
        continue;
      }
      Value size;
      for (Value operand : {lhs, rhs}) {
        auto operandType = cast<RankedTensorType>(operand.getType());
        int64_t j = i - (rank - operandType.getRank());
        if (j >= 0 && operandType.isDynamicDim(j)) {
          size = tensor::DimOp::create(b, loc, operand, j);
          break;
        }
      }
      result.push_back(size);
    }
    result.push_back(tensor::getMixedSize(b, loc, lhs, lhsType.getRank() - 2));
    result.push_back(tensor::getMixedSize(b, loc, rhs, rhsType.getRank() - 1));
    return result;
  }

  static int64_t countDynamic(ArrayRef<int64_t> shape) {
    return llvm::count_if(shape, ShapedType::isDynamic);
  }

  /// Batch dims that need no broadcast: equal, or dynamic on one side and
  /// not 1 on the other (numpy allows only equal sizes then).
  bool haveEqualBatches() {
    for (int64_t i = 0; i < lhsType.getRank() - 2; ++i)
      if ((lhsType.getDimSize(i) == 1) != (rhsType.getDimSize(i) == 1))
        return false;
    return true;
  }

  /// batch... x M x K times K x N: one (batch * M) x K matmul.
  Value foldBatchIntoRows() {
    Value rows = collapseLeading(b, loc, lhs, lhsType.getRank() - 1);
    auto rowsType = cast<RankedTensorType>(rows.getType());
    auto productType =
        RankedTensorType::get({rowsType.getDimSize(0), type.getShape().back()},
                              type.getElementType());
    SmallVector<OpFoldResult> productSizes = {
        tensor::getMixedSize(b, loc, rows, 0), sizes.back()};
    Value product = createContraction<linalg::MatmulOp>(
        b, loc, rows, rhs, createZeroInit(b, loc, productType, productSizes),
        {});
    return expandLeading(b, loc, product, type, sizes);
  }

  /// One batch_matmul over the batch dims collapsed into one; a 2-D
  /// operand is read for every batch through its indexing map.
  Value batchMatmul() {
    int64_t batchRank = type.getRank() - 2;
    auto batched = [&](Value operand) {
      auto operandType = cast<RankedTensorType>(operand.getType());
      return operandType.getRank() == 2 || batchRank == 1
                 ? operand
                 : collapseLeading(b, loc, operand, batchRank);
    };
    Value batchedLhs = batched(lhs), batchedRhs = batched(rhs);
    SmallVector<AffineMap> maps;
    if (lhsType.getRank() == 2 || rhsType.getRank() == 2) {
      MLIRContext *context = b.getContext();
      AffineExpr batch, m, n, k;
      bindDims(context, batch, m, n, k);
      maps = {
          lhsType.getRank() == 2 ? AffineMap::get(4, 0, {m, k}, context)
                                 : AffineMap::get(4, 0, {batch, m, k}, context),
          rhsType.getRank() == 2 ? AffineMap::get(4, 0, {k, n}, context)
                                 : AffineMap::get(4, 0, {batch, k, n}, context),
          AffineMap::get(4, 0, {batch, m, n}, context)};
    }

    int64_t batchSize = 1;
    for (int64_t dim : type.getShape().take_front(batchRank))
      batchSize = ShapedType::isDynamic(dim) || ShapedType::isDynamic(batchSize)
                      ? ShapedType::kDynamic
                      : batchSize * dim;
    ArrayRef<int64_t> shape = type.getShape();
    auto productType = RankedTensorType::get(
        {batchSize, shape[batchRank], shape[batchRank + 1]},
        type.getElementType());
    Value batchSource = lhsType.getRank() == 2 ? batchedRhs : batchedLhs;
    SmallVector<OpFoldResult> productSizes = {
        tensor::getMixedSize(b, loc, batchSource, 0), sizes[batchRank],
        sizes[batchRank + 1]};
    Value product = createContraction<linalg::BatchMatmulOp>(
        b, loc, batchedLhs, batchedRhs,
        createZeroInit(b, loc, productType, productSizes), maps);
    if (batchRank == 1)
      return product;
    return expandLeading(b, loc, product, type, sizes);
  }

  /// Any other batch broadcast: a linalg.generic over (batch..., m, n, k)
  /// reading size-1 batch dims at index 0.
  Value genericContraction() {
    MLIRContext *context = b.getContext();
    int64_t rank = type.getRank(), loops = rank + 1;
    auto operandMap = [&](RankedTensorType operandType, int64_t row,
                          int64_t column) {
      int64_t offset = (rank - 2) - (operandType.getRank() - 2);
      SmallVector<AffineExpr> exprs;
      for (int64_t i = 0; i < operandType.getRank() - 2; ++i)
        exprs.push_back(operandType.getDimSize(i) == 1
                            ? getAffineConstantExpr(0, context)
                            : getAffineDimExpr(offset + i, context));
      exprs.push_back(getAffineDimExpr(row, context));
      exprs.push_back(getAffineDimExpr(column, context));
      return AffineMap::get(loops, 0, exprs, context);
    };
    int64_t m = rank - 2, n = rank - 1, k = rank;
    SmallVector<AffineMap> maps = {
        operandMap(lhsType, m, k), operandMap(rhsType, k, n),
        AffineMap::getMultiDimIdentityMap(loops, context).getMajorSubMap(rank)};
    SmallVector<utils::IteratorType> iterators(loops,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    return linalg::GenericOp::create(
               b, loc, TypeRange{type}, ValueRange{lhs, rhs},
               createZeroInit(b, loc, type, sizes), maps, iterators,
               [](OpBuilder &nb, Location nl, ValueRange args) {
                 Value product = createMul(nb, nl, args[0], args[1]);
                 linalg::YieldOp::create(nb, nl, createAdd(nb, nl, args[2], product));
               })
        .getResult(0);
  }

  OpBuilder &b;
  Location loc;
  Value lhs, rhs;
  RankedTensorType type, lhsType, rhsType;
  SmallVector<OpFoldResult> sizes;
};

struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    Value lhs = adaptor.getA(), rhs = adaptor.getB();
    auto lhsType = dyn_cast<RankedTensorType>(lhs.getType());
    auto rhsType = dyn_cast<RankedTensorType>(rhs.getType());
    if (!lhsType || !rhsType)
      return rewriter.notifyMatchFailure(op, "unranked operand");

    // numpy: a 1-D lhs is a 1 x K row, a 1-D rhs a K x 1 column; their unit
    // dims are dropped from the result.
    bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
    RankedTensorType matrixType = *type;
    SmallVector<int64_t> unitDims;
    if (lhsVector) {
      lhs = expandUnitDims(rewriter, loc, lhs, {0});
      int64_t position = matrixType.getRank() - (rhsVector ? 0 : 1);
      unitDims.push_back(position);
      SmallVector<int64_t> shape(matrixType.getShape());
      shape.insert(shape.begin() + position, 1);
      matrixType = matrixType.clone(shape);
    }
    if (rhsVector) {
      rhs = expandUnitDims(rewriter, loc, rhs, {1});
      unitDims.push_back(matrixType.getRank());
      SmallVector<int64_t> shape(matrixType.getShape());
      shape.push_back(1);
      matrixType = matrixType.clone(shape);
    }

    Value result = MatrixProduct(rewriter, loc, lhs, rhs, matrixType).build();
    rewriter.replaceOp(op, collapseUnitDims(rewriter, loc, result, unitDims));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Gemm
//===----------------------------------------------------------------------===//

/// Y = alpha * A' x B' + beta * C. With alpha 1 the product accumulates
/// straight onto beta * C; otherwise one generic scales and adds after.
struct GemmLowering : OpConversionPattern<GemmOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    Value a = adaptor.getA(), b = adaptor.getB();
    if (!isa<RankedTensorType>(a.getType()) ||
        !isa<RankedTensorType>(b.getType()))
      return rewriter.notifyMatchFailure(op, "unranked operand");
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Value c = isNone(op.getC()) || beta == 0.0 ? Value() : adaptor.getC();
    if (c && !isa<RankedTensorType>(c.getType()))
      return rewriter.notifyMatchFailure(op, "unranked C");
    Type element = type->getElementType();
    if (!isFloat(element) && (alpha != 1.0 || (c && beta != 1.0)))
      return op.emitOpError("integer Gemm lowers to linalg only with alpha "
                            "and beta 1");

    bool transA = op.getTransA(), transB = op.getTransB();
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, a, transA ? 1 : 0),
        tensor::getMixedSize(rewriter, loc, b, transB ? 0 : 1)};
    SmallVector<Value> dynamicSizes =
        getDynamicValues(rewriter, loc, *type, sizes);
    AffineMap cMap = c ? getBroadcastMap(getContext(),
                                         cast<RankedTensorType>(c.getType()), 2)
                       : AffineMap();

    bool accumulateC = c && alpha == 1.0;
    Value init = accumulateC ? broadcastInto(rewriter, loc, *type, dynamicSizes,
                                             c, cMap, beta)
                             : createZeroInit(rewriter, loc, *type, sizes);
    Value product = createContraction<linalg::MatmulOp>(
        rewriter, loc, a, b, init, getMatmulMaps(transA, transB));
    if (alpha == 1.0 && (!c || accumulateC)) {
      rewriter.replaceOp(op, product);
      return success();
    }

    SmallVector<Value> inputs = {product};
    if (c)
      inputs.push_back(c);
    Value result = buildElementwise(
        rewriter, loc, *type, inputs,
        [&](OpBuilder &nb, Location nl, ValueRange s) {
          Value y = arith::MulFOp::create(nb, nl, s[0],
                                          createScalar(nb, nl, element, alpha));
          if (!c)
            return y;
          Value scaledC =
              arith::MulFOp::create(nb, nl, castScalar(nb, nl, s[1], element),
                                    createScalar(nb, nl, element, beta));
          return arith::AddFOp::create(nb, nl, y, scaledC).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }

  /// linalg.matmul's maps over (m, n, k) with the transposes folded in;
  /// empty (the default maps) without transposes.
  SmallVector<AffineMap> getMatmulMaps(bool transA, bool transB) const {
    if (!transA && !transB)
      return {};
    MLIRContext *context = getContext();
    AffineExpr m, n, k;
    bindDims(context, m, n, k);
    SmallVector<AffineExpr> aExprs = {m, k}, bExprs = {k, n};
    if (transA)
      std::swap(aExprs[0], aExprs[1]);
    if (transB)
      std::swap(bExprs[0], bExprs[1]);
    return {AffineMap::get(3, 0, aExprs, context),
            AffineMap::get(3, 0, bExprs, context),
            AffineMap::get(3, 0, {m, n}, context)};
  }
};

} // namespace

void populateMatMulToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulLowering, GemmLowering>(patterns.getContext());
}

} // namespace mlir::quarc
