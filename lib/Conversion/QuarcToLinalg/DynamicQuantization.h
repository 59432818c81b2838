//===- DynamicQuantization.h - products with run-time activation ranges -*- C++ -*-===//
//
// Dynamic quantization's two halves, shared by quarc.qmatmul_dynamic and
// the dynamically quantized recurrent layers: an f32 activation quantized
// as the model runs, from its own range, exactly as ONNX
// DynamicQuantizeLinear does, and its product with 8-bit weights quantized
// at compile time, accumulated in i32 and scaled back to f32 as
// onnxruntime's MatMulInteger, Cast and Mul do.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_CONVERSION_QUARCTOLINALG_DYNAMICQUANTIZATION_H
#define QUARC_LIB_CONVERSION_QUARCTOLINALG_DYNAMICQUANTIZATION_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"

namespace mlir::quarc {

/// An f32 tensor x quantized to uint8, per tensor:
///
///   lo = min(0, min x), hi = max(0, max x), s = (hi - lo) / 255
///   z  = roundHalfToEven(clamp(-lo / s, 0, 255))
///   q  = clamp(roundHalfToEven(x / s) + z, 0, 255)
///
/// An all-zero x has s = 0 and every q = z (its products are 0). NaN
/// elements do not enter the range and quantize to 0.
struct RunTimeQuantized {
  Value stored;    ///< q as i8 bits, x's shape
  Value scale;     ///< s, an f32 scalar
  Value zeroPoint; ///< z, an i32 scalar
};

RunTimeQuantized quantizeAtRunTime(OpBuilder &b, Location loc, Value x);

/// 8-bit weights quantized at compile time as a dynamic product reads
/// them: `stored` is K x N or batch... x K x N; the scale and zero point
/// of each column, and the sum over k of its centered values w - zw (empty
/// when the weight is not a known constant), are row-major over the dims
/// without K.
struct ColumnQuantizedWeights {
  Value stored;
  quant::QuantizedType type; ///< the signedness of the stored values
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  SmallVector<int64_t> columnSums;
};

/// The sum over k of w - zw for each column of `values` (row-major
/// batch... x K x N, of `shape`), `zeroPoints` row-major over the dims
/// without K.
SmallVector<int64_t> computeColumnSums(ArrayRef<int64_t> values,
                                       ArrayRef<int64_t> shape,
                                       ArrayRef<int64_t> zeroPoints);

/// The f32 product of `a` (batch... x M x K) and `w`, of `resultType`
/// (batch... x M x N):
///
///   acc = sum over k of (aq - za) * (w - zw)   (i32)
///   y   = f32(acc) * f32(sa * sw) + addend
///
/// with acc computed, when w's column sums are known, as sum aq * (w - zw)
/// - za * sum (w - zw): the
/// product of the stored activations is then the plain integer
/// contraction the int8 kernels take (quarc-pack-integer-weights), and the
/// run-time zero point's term one multiply per output.
///
/// `addend` is absent (null), one value per column (N) or of the result's
/// shape.
Value buildDynamicProduct(OpBuilder &b, Location loc, const RunTimeQuantized &a,
                          const ColumnQuantizedWeights &w, Value addend,
                          RankedTensorType resultType);

} // namespace mlir::quarc

#endif // QUARC_LIB_CONVERSION_QUARCTOLINALG_DYNAMICQUANTIZATION_H
