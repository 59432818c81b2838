//===- WindowLowering.h - convolution and pooling windows -----*- C++ -*-===//
//
// What the lowerings of window ops (convolutions, pools, their integer
// forms) share: the window with auto_pad resolved to explicit pads, the
// result sizes, padding, and the channel splits of grouped convolutions.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_WINDOWLOWERING_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_WINDOWLOWERING_H

#include "LoweringUtils.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
// getWindowParams, the one reader of the window attributes the ops' shape
// inference uses, so the lowering resolves them the same way.
#include "../../Dialect/Quarc/IR/NNInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::quarc {

/// A convolution or pooling window with its pads made explicit (defaults
/// filled in, auto_pad resolved against the static input size).
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padLow, padHigh;

  int64_t extent(unsigned i) const {
    return (kernel[i] - 1) * dilations[i] + 1;
  }

  /// Runs a 1-D window as a 2-D one over a unit-height input.
  void prependUnitDim() {
    for (SmallVector<int64_t> *list : {&kernel, &strides, &dilations})
      list->insert(list->begin(), 1);
    padLow.insert(padLow.begin(), 0);
    padHigh.insert(padHigh.begin(), 0);
  }
};

/// `op`'s window attributes with defaults filled in and the `pads`
/// attribute (zero when absent) as pads, auto_pad not yet applied;
/// `defaultKernel` is used when kernel_shape is absent.
template <typename OpTy>
FailureOr<Window> completeWindow(OpTy op, ArrayRef<int64_t> defaultKernel,
                                 int64_t numSpatial) {
  WindowParams params = getWindowParams(op);
  if (params.kernel.empty())
    params.kernel.assign(defaultKernel.begin(), defaultKernel.end());
  if (failed(completeWindowParams(op.getLoc(), numSpatial, params)))
    return failure();
  ArrayRef<int64_t> pads = params.pads;
  return Window{params.kernel, params.strides, params.dilations,
                SmallVector<int64_t>(pads.take_front(numSpatial)),
                SmallVector<int64_t>(pads.drop_front(numSpatial))};
}

/// The window of a convolution or pool over `inputType` (N x C x
/// spatial...), with auto_pad resolved to explicit pads.
template <typename OpTy>
FailureOr<Window> resolveWindow(OpTy op, ArrayRef<int64_t> defaultKernel,
                                RankedTensorType inputType) {
  int64_t numSpatial = inputType.getRank() - 2;
  FailureOr<Window> window = completeWindow(op, defaultKernel, numSpatial);
  if (failed(window))
    return failure();
  StringRef autoPad = op.getAutoPad();
  for (int64_t i = 0; i < numSpatial && autoPad != "NOTSET"; ++i) {
    if (autoPad == "VALID") {
      window->padLow[i] = window->padHigh[i] = 0;
      continue;
    }
    // SAME_UPPER / SAME_LOWER: output ceil(in / stride), the total padding
    // split evenly, the odd one at the end (UPPER) or the start (LOWER).
    // With stride 1 the total is extent - 1 whatever the input size.
    int64_t in = inputType.getDimSize(i + 2), stride = window->strides[i];
    if (ShapedType::isDynamic(in) && stride != 1) {
      op.emitOpError("auto_pad ")
          << autoPad
          << " with stride > 1 on a dynamic spatial dim does not lower to "
             "linalg: the pads depend on the input size (specialize the "
             "input shape first)";
      return failure();
    }
    int64_t total = window->extent(i) - 1;
    if (stride != 1)
      total = std::max<int64_t>(0, (llvm::divideCeil(in, stride) - 1) * stride +
                                       window->extent(i) - in);
    int64_t small = total / 2, large = total - small;
    bool upper = autoPad == "SAME_UPPER";
    window->padLow[i] = upper ? small : large;
    window->padHigh[i] = upper ? large : small;
  }
  return window;
}

/// The dynamic dims of the NCHW result of a window op: dim 0 from `input`,
/// dim 1 from dim `channelDim` of `channelSource`, spatial dims from the
/// size of the padded input.
SmallVector<Value> getWindowResultSizes(OpBuilder &b, Location loc,
                                        RankedTensorType type, Value padded,
                                        Value channelSource, int64_t channelDim,
                                        const Window &window);

/// Pads the spatial dims of an NCHW tensor.
Value padSpatial(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                 ArrayRef<int64_t> high, Value value);

/// `type` with a unit dim inserted at `position`.
RankedTensorType withUnitDim(RankedTensorType type, int64_t position);

/// `value` with a static channel dim (dim 1) of `channels`: grouped and
/// depthwise convolutions split that dim, which needs its size.
Value refineChannels(OpBuilder &b, Location loc, Value value,
                     int64_t channels);

/// Splits the channel dim (1) of an NCHW tensor into `groups` x C/groups.
Value splitChannels(OpBuilder &b, Location loc, Value value, int64_t groups);

/// The accumulator of a convolution: the bias per output channel, or
/// `zero`.
Value createConvInit(OpBuilder &b, Location loc, RankedTensorType type,
                     ValueRange dynamicSizes, Value bias, Value zero);

/// Checks what every convolution lowering needs: ranked operands, 1 or 2
/// spatial dims, static weight dims. Returns the number of spatial dims.
FailureOr<int64_t> checkConvOperands(Operation *op, Value x, Value w,
                                     StringRef name);

/// A convolution's operands ready for a 2-D lowering: `x` (N x C x H x W),
/// `w` (F x C/G x kh x kw), the result type and the resolved window. A 1-D
/// convolution runs as a 2-D one over a unit height, which `unitHeight`
/// says to drop from the result again (collapseUnitDims of dim 2).
struct Conv2DOperands {
  Value x, w;
  RankedTensorType resultType;
  Window window;
  bool unitHeight = false;
};

/// The 2-D form of convolution `op` (`name` says which kind in errors).
template <typename OpTy>
FailureOr<Conv2DOperands> prepareConv2D(OpTy op, OpBuilder &b, Value x,
                                        Value w, RankedTensorType resultType,
                                        StringRef name) {
  FailureOr<int64_t> numSpatial = checkConvOperands(op, x, w, name);
  if (failed(numSpatial))
    return failure();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  ArrayRef<int64_t> kernel = wType.getShape().drop_front(2);
  FailureOr<Window> window = resolveWindow(op, kernel, xType);
  if (failed(window))
    return failure();
  if (ArrayRef(window->kernel) != kernel)
    return op.emitOpError("kernel_shape differs from the weight's spatial "
                          "dims");
  Conv2DOperands operands{x, w, resultType, *window};
  if (*numSpatial == 1) {
    Location loc = op.getLoc();
    operands.x = expandUnitDims(b, loc, x, {2});
    operands.w = expandUnitDims(b, loc, w, {2});
    operands.resultType = withUnitDim(resultType, 2);
    operands.window.prependUnitDim();
    operands.unitHeight = true;
  }
  return operands;
}

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_WINDOWLOWERING_H
