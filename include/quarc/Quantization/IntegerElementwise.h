//===- IntegerElementwise.h - integer add/mul/pool/rescale parameters -*- C++ -*-===//
//
// The integer forms of the ops between convolutions (quarc.requantize,
// quarc.qadd, quarc.qmul, quarc.qaverage_pool, quarc.lut) work on the stored
// values of per-tensor quantized tensors (scale s, zero point z) and write
// a per-tensor quantized result (so, zo). Each is one requantization of
// FixedPoint.h; this file is the one definition of its multipliers, which
// the passes, the lowering and the bit-exact test references compute the
// same way, in double, in the order written here:
//
//   requantize:   out = requantize(x - zx, M(sx / so), zo)
//   qadd:         out = requantizeSum(a - za, b - zb, Pair(sa/so, sb/so), zo)
//                 (one rounding of the exact sum, not two)
//   qmul:         out = requantize((a - za) * (b - zb), M((sa * sb) / so), zo)
//   qaverage_pool out = requantize(sum over the window of (x - zx),
//                                  M((sx / so) / count), zo)
//                 (a padded tap reads zx, so adds 0; `count` is the
//                 divisor AveragePool uses at that output position)
//   lut:          out = table[x - qmin(x)], table[i] = quantize(f32(f(
//                 dequantize(qmin(x) + i)))): any elementwise function of
//                 one 8-bit tensor, evaluated at compile time
//
// All clamp to the result's storage range, narrowed by a fused Relu/Clip.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_INTEGERELEMENTWISE_H
#define QUARC_QUANTIZATION_INTEGERELEMENTWISE_H

#include "quarc/Quantization/FixedPoint.h"
#include "quarc/Quantization/QuantParams.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::quarc {

/// quarc.requantize: M(inputScale / outputScale).
FixedPointMultiplier getRescaleMultiplier(double inputScale,
                                          double outputScale);

/// quarc.qadd: the pair (scaleA / outputScale, scaleB / outputScale).
FixedPointPair getAddMultipliers(double scaleA, double scaleB,
                                 double outputScale);

/// quarc.qmul: M((scaleA * scaleB) / outputScale).
FixedPointMultiplier getMulMultiplier(double scaleA, double scaleB,
                                      double outputScale);

/// quarc.qaverage_pool at a position whose divisor is `count` (>= 1):
/// M((inputScale / outputScale) / count).
FixedPointMultiplier getAveragePoolMultiplier(double inputScale,
                                              double outputScale,
                                              int64_t count);

/// A per-tensor quantization: scale, zero point and storage range.
struct ScalarQuantization {
  float scale;
  int32_t zeroPoint, qmin, qmax;
};

/// quarc.lut's table for `function` (double to double): entry i is the
/// output quantization of f32(function(dequantize(input.qmin + i))), for
/// every stored input value. Quantize.h's dequantize and quantize.
llvm::SmallVector<int32_t>
buildLookupTable(const ScalarQuantization &input,
                 const ScalarQuantization &output,
                 llvm::function_ref<double(double)> function);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_INTEGERELEMENTWISE_H
