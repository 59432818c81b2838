//===- IntegerProducts.cpp - the i32 contractions of integer products -----===//

#include "IntegerProducts.h"
#include "IntegerLowering.h"
#include "LoweringUtils.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::quarc {

Value buildMultiplyAccumulate(OpBuilder &b, Location loc, Value input,
                              Value weight, Value zeroPoint, Value acc,
                              quant::QuantizedType weightType) {
  Value centered = extendStored(b, loc, weight, weightType, b.getI32Type());
  if (zeroPoint)
    centered = arith::SubIOp::create(b, loc, centered, zeroPoint);
  Value product = arith::MulIOp::create(b, loc, input, centered);
  return arith::AddIOp::create(b, loc, acc, product);
}

WeightZeroPoints WeightZeroPoints::get(OpBuilder &b, Location loc,
                                       ArrayRef<int64_t> zeroPoints,
                                       ArrayRef<int64_t> shape) {
  WeightZeroPoints result;
  if (llvm::all_of(zeroPoints, [](int64_t z) { return z == 0; }))
    return result;
  if (llvm::all_equal(zeroPoints)) {
    result.scalar = createScalar(b, loc, b.getI32Type(), zeroPoints.front());
    return result;
  }
  SmallVector<int32_t> values(zeroPoints.begin(), zeroPoints.end());
  auto type = RankedTensorType::get(shape, b.getI32Type());
  result.tensor = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef(values)));
  return result;
}

WeightZeroPoints WeightZeroPoints::get(OpBuilder &b, Location loc,
                                       quant::QuantizedType weightType,
                                       int64_t channels,
                                       ArrayRef<int64_t> shape) {
  return get(b, loc, getChannelZeroPoints(weightType, channels), shape);
}

SmallVector<Value> getMatMulAccumulatorSizes(OpBuilder &b, Location loc,
                                             RankedTensorType accType,
                                             Value a) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < accType.getRank() - 1; ++d)
    if (accType.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, a, d));
  return sizes;
}

Value buildIntegerMatMul(OpBuilder &builder, Location loc, Value a, Value b,
                         Value init, quant::QuantizedType weightType,
                         ArrayRef<int64_t> zeroPoints,
                         function_ref<Value(OpBuilder &, Location, Value)>
                             widenInput) {
  MLIRContext *context = builder.getContext();
  auto accType = cast<RankedTensorType>(init.getType());
  auto bType = cast<RankedTensorType>(b.getType());
  int64_t rank = accType.getRank(), numDims = rank + 1;
  bool batchedWeight = bType.getRank() == rank;
  SmallVector<AffineExpr> batch;
  for (int64_t d = 0; d < rank - 2; ++d)
    batch.push_back(getAffineDimExpr(d, context));
  AffineExpr m = getAffineDimExpr(rank - 2, context),
             k = getAffineDimExpr(rank - 1, context),
             n = getAffineDimExpr(rank, context);
  auto map = [&](bool withBatch, std::initializer_list<AffineExpr> tail) {
    SmallVector<AffineExpr> exprs;
    if (withBatch)
      exprs.append(batch);
    exprs.append(tail.begin(), tail.end());
    return AffineMap::get(numDims, 0, exprs, context);
  };
  SmallVector<AffineMap> maps = {map(true, {m, k}),
                                 map(batchedWeight, {k, n}),
                                 map(true, {m, n})};
  // Asymmetric weights: zb per column, read at (batch..., n).
  SmallVector<int64_t> columnShape(bType.getShape().drop_back(2));
  columnShape.push_back(bType.getShape().back());
  WeightZeroPoints zeroPointValues =
      WeightZeroPoints::get(builder, loc, zeroPoints, columnShape);
  SmallVector<Value> inputs = {a, b};
  if (zeroPointValues.tensor) {
    inputs.push_back(zeroPointValues.tensor);
    maps.insert(maps.end() - 1, map(batchedWeight, {n}));
  }
  SmallVector<utils::IteratorType> iterators(numDims,
                                             utils::IteratorType::parallel);
  iterators[rank - 1] = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             builder, loc, TypeRange{accType}, inputs, init, maps, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   buildMultiplyAccumulate(nb, nl, widenInput(nb, nl, args[0]),
                                           args[1], zeroPointValues.get(args),
                                           args.back(), weightType));
             })
      .getResult(0);
}

} // namespace mlir::quarc
