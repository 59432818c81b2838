//===- NNInference.h - conv and matmul shape rules shared by float and
//                     quantized ops (private to the IR library) -*- C++ -*-===//

#ifndef QUARC_LIB_DIALECT_QUARC_IR_NNINFERENCE_H
#define QUARC_LIB_DIALECT_QUARC_IR_NNINFERENCE_H

#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

namespace mlir::quarc {

/// Reads the window attributes shared by conv and pooling adaptors.
template <typename Adaptor>
WindowParams getWindowParams(Adaptor adaptor) {
  WindowParams params;
  auto copy = [](std::optional<ArrayRef<int64_t>> from) {
    return from ? SmallVector<int64_t>(from->begin(), from->end())
                : SmallVector<int64_t>();
  };
  params.kernel = copy(adaptor.getKernelShape());
  params.strides = copy(adaptor.getStrides());
  params.dilations = copy(adaptor.getDilations());
  params.pads = copy(adaptor.getPads());
  params.autoPad = adaptor.getAutoPad();
  return params;
}

/// The output shape of a convolution of `x` (N x C x D...) with `w`
/// (M x C/group x k...); `params.kernel` defaults to w's spatial dims.
FailureOr<SmallVector<int64_t>>
inferConvShape(std::optional<Location> loc, Value x, Value w, int64_t group,
               WindowParams params);

/// The output shape of pooling `x` (N x C x D...) with `params` (which
/// need a kernel).
FailureOr<SmallVector<int64_t>> inferPoolShape(std::optional<Location> loc,
                                               Value x, WindowParams params,
                                               bool ceilMode);

/// The output shape of numpy matmul of `a` and `b`.
FailureOr<SmallVector<int64_t>> inferMatMulShape(std::optional<Location> loc,
                                                 Value a, Value b);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_IR_NNINFERENCE_H
