//===- PoolLowering.cpp - pooling windows shared by float and integer pools ===//

#include "PoolLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

namespace mlir::quarc {

/// How many taps of a window dim (kernel, stride, dilation, low pad) at
/// output position `out` fall inside [lo, hi) of the input coordinates.
static int64_t countTaps(int64_t out, int64_t kernel, int64_t stride,
                         int64_t dilation, int64_t padLow, int64_t lo,
                         int64_t hi) {
  int64_t start = out * stride - padLow, count = 0;
  for (int64_t k = 0; k < kernel; ++k) {
    int64_t position = start + k * dilation;
    count += position >= lo && position < hi;
  }
  return count;
}

std::optional<SmallVector<SmallVector<int64_t>>>
getStaticPoolCounts(const PoolInput &pool, bool includePad) {
  const Window &window = pool.window;
  auto inputType = cast<RankedTensorType>(pool.input.getType());
  SmallVector<SmallVector<int64_t>> counts;
  for (unsigned i = 0; i < 2; ++i) {
    int64_t in = inputType.getDimSize(i + 2);
    int64_t out = pool.resultType.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(out))
      return std::nullopt;
    int64_t lo = includePad ? -window.padLow[i] : 0;
    int64_t hi = includePad ? in + window.padHigh[i] : in;
    SmallVector<int64_t> dimCounts;
    for (int64_t o = 0; o < out; ++o)
      dimCounts.push_back(countTaps(o, window.kernel[i], window.strides[i],
                                    window.dilations[i], window.padLow[i], lo,
                                    hi));
    counts.push_back(std::move(dimCounts));
  }
  return counts;
}

Value buildUnsignedMaxPool2D(OpBuilder &b, Location loc,
                             const PoolInput &pool) {
  Type element = pool.resultType.getElementType();
  Value zero = createScalar(b, loc, element, 0);
  Value padded = padSpatial(b, loc, pool.input, pool.window.padLow,
                            pool.padHigh, zero);
  SmallVector<Value> sizes = getWindowResultSizes(
      b, loc, pool.resultType, padded, padded, 1, pool.window);
  Value init = createFilled(b, loc, pool.resultType, sizes, zero);
  // The window operand only carries the kernel size, as for named pools.
  Value windowShape =
      tensor::EmptyOp::create(b, loc, pool.window.kernel, element);
  MLIRContext *context = b.getContext();
  AffineExpr n, c, h, w, kh, kw;
  bindDims(context, n, c, h, w, kh, kw);
  const Window &window = pool.window;
  SmallVector<AffineMap> maps = {
      AffineMap::get(6, 0,
                     {n, c, h * window.strides[0] + kh * window.dilations[0],
                      w * window.strides[1] + kw * window.dilations[1]},
                     context),
      AffineMap::get(6, 0, {kh, kw}, context),
      AffineMap::get(6, 0, {n, c, h, w}, context)};
  using utils::IteratorType;
  SmallVector<IteratorType> iterators = {
      IteratorType::parallel, IteratorType::parallel, IteratorType::parallel,
      IteratorType::parallel, IteratorType::reduction, IteratorType::reduction};
  return linalg::GenericOp::create(
             b, loc, TypeRange{pool.resultType}, ValueRange{padded, windowShape},
             init, maps, iterators,
             [](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl, arith::MaxUIOp::create(nb, nl, args[2], args[0])
                               .getResult());
             })
      .getResult(0);
}

bool isStoredUnsigned(Value value) {
  auto type = dyn_cast<quant::QuantizedType>(getElementTypeOrSelf(value));
  return type && !type.isSigned();
}

} // namespace mlir::quarc
