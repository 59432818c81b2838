//===- DynamicQuantization.cpp - products with run-time activation ranges -===//

#include "DynamicQuantization.h"
#include "IntegerProducts.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::quarc {

RunTimeQuantized quantizeAtRunTime(OpBuilder &b, Location loc, Value x) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  auto f32Constant = [&](OpBuilder &nb, Location nl, double value) {
    return createScalar(nb, nl, f32, value);
  };

  // lo = min(0, min x), hi = max(0, max x): one reduction. minnum/maxnum
  // (NaNs do not enter the range) rather than minimum/maximum: LLVM
  // vectorizes these reductions and clamps, not the NaN-propagating ones.
  auto scalarType = RankedTensorType::get({}, f32);
  Value zeroTensor =
      createFilled(b, loc, scalarType, {}, f32Constant(b, loc, 0.0));
  SmallVector<AffineMap> rangeMaps = {
      AffineMap::getMultiDimIdentityMap(rank, context),
      AffineMap::get(rank, 0, context), AffineMap::get(rank, 0, context)};
  SmallVector<utils::IteratorType> reductions(rank,
                                              utils::IteratorType::reduction);
  auto range = linalg::GenericOp::create(
      b, loc, TypeRange{scalarType, scalarType}, x,
      ValueRange{zeroTensor, zeroTensor}, rangeMaps, reductions,
      [](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::MinNumFOp::create(nb, nl, args[1], args[0]),
                       arith::MaxNumFOp::create(nb, nl, args[2], args[0])});
      });
  Value lo = tensor::ExtractOp::create(b, loc, range.getResult(0));
  Value hi = tensor::ExtractOp::create(b, loc, range.getResult(1));

  // s = (hi - lo) / 255; z = round(clamp(-lo / s, 0, 255)). A zero range
  // divides by 1 instead: every q is then z.
  Value scale = arith::DivFOp::create(b, loc,
                                      arith::SubFOp::create(b, loc, hi, lo),
                                      f32Constant(b, loc, 255.0));
  Value isZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                       scale, f32Constant(b, loc, 0.0));
  Value divisor = arith::SelectOp::create(b, loc, isZero,
                                          f32Constant(b, loc, 1.0), scale);
  auto clampTo255 = [&](OpBuilder &nb, Location nl, Value v) -> Value {
    return arith::MinNumFOp::create(
        nb, nl, arith::MaxNumFOp::create(nb, nl, v, f32Constant(nb, nl, 0.0)),
        f32Constant(nb, nl, 255.0));
  };
  Value zeroPointF = math::RoundEvenOp::create(
      b, loc,
      clampTo255(b, loc,
                 arith::DivFOp::create(b, loc,
                                       arith::NegFOp::create(b, loc, lo),
                                       divisor)));
  Value zeroPoint = arith::FPToSIOp::create(b, loc, i32, zeroPointF);

  // q = clamp(round(x / s) + z, 0, 255), stored as u8 bits.
  Value stored = buildElementwise(
      b, loc, xType.clone(b.getI8Type()), x,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value rounded = math::RoundEvenOp::create(
            nb, nl, arith::DivFOp::create(nb, nl, args[0], divisor));
        Value shifted =
            clampTo255(nb, nl, arith::AddFOp::create(nb, nl, rounded, zeroPointF));
        return arith::TruncIOp::create(
            nb, nl, nb.getI8Type(),
            arith::FPToSIOp::create(nb, nl, i32, shifted));
      });
  return {stored, scale, zeroPoint};
}

SmallVector<int64_t> computeColumnSums(ArrayRef<int64_t> values,
                                       ArrayRef<int64_t> shape,
                                       ArrayRef<int64_t> zeroPoints) {
  int64_t n = shape.back(), k = shape[shape.size() - 2];
  int64_t batch = values.size() / (k * n);
  SmallVector<int64_t> sums(batch * n, 0);
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t row = 0; row < k; ++row)
      for (int64_t column = 0; column < n; ++column)
        sums[i * n + column] += values[(i * k + row) * n + column] -
                                zeroPoints[i * n + column];
  return sums;
}

Value buildDynamicProduct(OpBuilder &b, Location loc, const RunTimeQuantized &a,
                          const ColumnQuantizedWeights &w, Value addend,
                          RankedTensorType resultType) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();

  // sum over k of aq * (w - zw), in i32 (or of (aq - za) * (w - zw) when
  // the weight's column sums are not known: a weight that is not a
  // constant).
  auto accType = resultType.clone(i32);
  Value init = createFilled(
      b, loc, accType, getMatMulAccumulatorSizes(b, loc, accType, a.stored),
      createScalar(b, loc, i32, 0));
  Value zeroPoint = a.zeroPoint;
  bool withSums = !w.columnSums.empty();
  Value accumulated = buildIntegerMatMul(
      b, loc, a.stored, w.stored, init, w.type, w.zeroPoints,
      [&](OpBuilder &nb, Location nl, Value stored) -> Value {
        Value widened = arith::ExtUIOp::create(nb, nl, i32, stored);
        return withSums ? widened
                        : arith::SubIOp::create(nb, nl, widened, zeroPoint)
                              .getResult();
      });

  // The column scales, shaped to broadcast against the result: N, or
  // batch... x 1 x N for a batched weight.
  auto weightType = cast<RankedTensorType>(w.stored.getType());
  SmallVector<int64_t> scaleShape = {weightType.getShape().back()};
  if (weightType.getRank() > 2) {
    scaleShape.assign(weightType.getShape().drop_back(2).begin(),
                      weightType.getShape().drop_back(2).end());
    scaleShape.append({1, weightType.getShape().back()});
  }
  SmallVector<float> scales(w.scales.begin(), w.scales.end());
  Value scaleTensor = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(scaleShape, f32),
                             ArrayRef(scales)));
  // Without the sums, zeros: the zero point is already subtracted.
  SmallVector<int32_t> sums(w.scales.size(), 0);
  if (withSums)
    sums.assign(w.columnSums.begin(), w.columnSums.end());
  Value sumTensor = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(scaleShape, i32),
                             ArrayRef(sums)));

  // y = f32(acc - za * sum (w - zw)) * f32(sa * sw) + addend.
  SmallVector<Value> inputs = {accumulated, scaleTensor, sumTensor};
  if (addend)
    inputs.push_back(addend);
  Value scale = a.scale;
  return buildElementwise(
      b, loc, resultType, inputs,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value centered = arith::SubIOp::create(
            nb, nl, args[0], arith::MulIOp::create(nb, nl, zeroPoint, args[2]));
        Value columnScale = arith::MulFOp::create(nb, nl, scale, args[1]);
        Value y = arith::MulFOp::create(
            nb, nl, arith::SIToFPOp::create(nb, nl, f32, centered), columnScale);
        return addend ? arith::AddFOp::create(nb, nl, y, args[3]).getResult()
                      : y;
      });
}

} // namespace mlir::quarc
