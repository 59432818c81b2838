//===- Quantize.h - reference quantize and dequantize -----------*- C++ -*-===//
//
// The scalar reference for ONNX QuantizeLinear / DequantizeLinear, which
// constant folding (weights), the float islands and the tests share:
//   quantize(x)   = saturate(roundHalfToEven(x / scale) + zeroPoint)
//   dequantize(q) = (q - zeroPoint) * scale
// with the division and the multiplication in f32, as ONNX specifies for
// f32 tensors (onnxruntime's kernels divide too), so results match
// onnxruntime bit for bit. A NaN input quantizes to the zero point (ONNX
// leaves it undefined); infinities saturate.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_QUANTIZE_H
#define QUARC_QUANTIZATION_QUANTIZE_H

#include "quarc/Quantization/QuantParams.h"

namespace mlir::quarc {

/// Round to the nearest integer, ties to even (IEEE roundTiesToEven, numpy's
/// rint), independent of the floating-point environment's rounding mode.
double roundHalfToEven(double x);

int32_t quantizeValue(float x, float scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax);
float dequantizeValue(int32_t q, float scale, int32_t zeroPoint);

/// Whole tensors: `values` is row-major of `shape`; `params` may have any
/// granularity and must fit the shape (QuantParams::verifyForShape).
llvm::SmallVector<int32_t> quantize(llvm::ArrayRef<float> values,
                                    llvm::ArrayRef<int64_t> shape,
                                    const QuantParams &params);
llvm::SmallVector<float> dequantize(llvm::ArrayRef<int32_t> values,
                                    llvm::ArrayRef<int64_t> shape,
                                    const QuantParams &params);

/// For each element of a row-major tensor of `shape`, the index of its
/// (scale, zero point) in `params` (all 0 for per-tensor).
llvm::SmallVector<int64_t> paramIndices(llvm::ArrayRef<int64_t> shape,
                                        const QuantParams &params);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_QUANTIZE_H
