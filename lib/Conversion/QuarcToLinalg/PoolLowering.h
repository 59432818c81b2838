//===- PoolLowering.h - pooling windows shared by float and integer pools -*- C++ -*-===//
//
// The float pools (NNToLinalg.cpp) and the integer average pool
// (IntegerElementwiseToLinalg.cpp) run on the same 2-D NCHW form: the
// input padded for its window (and for the last window of ceil_mode), a
// named linalg pooling op, and AveragePool's divisor per output position.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_POOLLOWERING_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_POOLLOWERING_H

#include "WindowLowering.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::quarc {

/// A pooling op's input as 2-D NCHW with its window, ready for a named
/// pooling op: `padHigh` covers the last window of ceil_mode (beyond the
/// ONNX pads in `window`).
struct PoolInput {
  Value input;
  Window window;
  SmallVector<int64_t> padHigh;
  RankedTensorType resultType;
  bool is1D;
};

template <typename OpTy>
FailureOr<PoolInput> preparePool(OpTy op, Value x, RankedTensorType type,
                                 OpBuilder &b) {
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  if (!xType)
    return op.emitOpError("needs a ranked input to lower to linalg");
  int64_t numSpatial = xType.getRank() - 2;
  if (numSpatial != 1 && numSpatial != 2)
    return op.emitOpError("only 1-D and 2-D pooling lowers to linalg; this "
                          "one has ")
           << numSpatial << " spatial dims";
  FailureOr<Window> window = resolveWindow(op, {}, xType);
  if (failed(window))
    return failure();
  PoolInput pool{x, *window, window->padHigh, type, numSpatial == 1};
  for (int64_t i = 0; i < numSpatial; ++i) {
    int64_t in = xType.getDimSize(i + 2), out = type.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(out)) {
      if (op.getCeilMode())
        return op.emitOpError("ceil_mode on a dynamic spatial dim does not "
                              "lower to linalg yet");
      continue;
    }
    // With ceil_mode the last window may run past the padded input.
    int64_t needed = (out - 1) * window->strides[i] + window->extent(i) - in -
                     window->padLow[i];
    pool.padHigh[i] = std::max(pool.padHigh[i], needed);
  }
  if (pool.is1D) {
    pool.input = expandUnitDims(b, op.getLoc(), x, {2});
    pool.window.prependUnitDim();
    pool.padHigh.insert(pool.padHigh.begin(), 0);
    pool.resultType = withUnitDim(type, 2);
  }
  return pool;
}

/// Runs the named pooling op `PoolOp` over `pool`'s input padded with
/// `padValue`, starting from `initValue`.
template <typename PoolOp>
Value buildPool2D(OpBuilder &b, Location loc, const PoolInput &pool,
                  Value padValue, Value initValue) {
  Value padded = padSpatial(b, loc, pool.input, pool.window.padLow,
                            pool.padHigh, padValue);
  SmallVector<Value> sizes = getWindowResultSizes(
      b, loc, pool.resultType, padded, padded, 1, pool.window);
  Value init = createFilled(b, loc, pool.resultType, sizes, initValue);
  // The window operand only carries the kernel size.
  Value windowShape = tensor::EmptyOp::create(b, loc, pool.window.kernel,
                                              pool.resultType.getElementType());
  return PoolOp::create(b, loc, TypeRange{pool.resultType},
                        ValueRange{padded, windowShape}, init,
                        b.getI64TensorAttr(pool.window.strides),
                        b.getI64TensorAttr(pool.window.dilations))
      .getResult(0);
}

/// Max pooling of unsigned integers (the stored u8 of a quantized tensor),
/// which linalg's named NCHW max pool (a signed max) cannot do: a generic
/// over the padded input (pads 0, the unsigned minimum) with arith.maxui.
Value buildUnsignedMaxPool2D(OpBuilder &b, Location loc, const PoolInput &pool);

/// Whether the elements of `value` are stored as unsigned integers: a
/// tensor of quantized values with unsigned storage.
bool isStoredUnsigned(Value value);

/// AveragePool's divisor at each output position, which is separable: the
/// taps of spatial dim i (of the 2-D form) counted at each of its output
/// positions, entry i of the result. A tap counts when it falls inside
/// the input, or inside the pads with `includePad`; never the extra cells
/// ceil_mode reads beyond the pads. nullopt when a spatial size is
/// dynamic.
std::optional<SmallVector<SmallVector<int64_t>>>
getStaticPoolCounts(const PoolInput &pool, bool includePad);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_POOLLOWERING_H
