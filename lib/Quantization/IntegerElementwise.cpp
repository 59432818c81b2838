//===- IntegerElementwise.cpp - integer add/mul/pool/rescale parameters ---===//

#include "quarc/Quantization/IntegerElementwise.h"
#include "quarc/Quantization/Quantize.h"

namespace mlir::quarc {

FixedPointMultiplier getRescaleMultiplier(double inputScale,
                                          double outputScale) {
  return quantizeMultiplier(inputScale / outputScale);
}

FixedPointPair getAddMultipliers(double scaleA, double scaleB,
                                 double outputScale) {
  return quantizeMultiplierPair(scaleA / outputScale, scaleB / outputScale);
}

FixedPointMultiplier getMulMultiplier(double scaleA, double scaleB,
                                      double outputScale) {
  return quantizeMultiplier((scaleA * scaleB) / outputScale);
}

FixedPointMultiplier getAveragePoolMultiplier(double inputScale,
                                              double outputScale,
                                              int64_t count) {
  return quantizeMultiplier((inputScale / outputScale) / double(count));
}

llvm::SmallVector<int32_t>
buildLookupTable(const ScalarQuantization &input,
                 const ScalarQuantization &output,
                 llvm::function_ref<double(double)> function) {
  llvm::SmallVector<int32_t> table;
  for (int32_t q = input.qmin; q <= input.qmax; ++q) {
    float x = dequantizeValue(q, input.scale, input.zeroPoint);
    float y = float(function(double(x)));
    table.push_back(quantizeValue(y, output.scale, output.zeroPoint,
                                  output.qmin, output.qmax));
  }
  return table;
}

} // namespace mlir::quarc
