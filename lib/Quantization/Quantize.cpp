//===- Quantize.cpp - reference QuantizeLinear / DequantizeLinear ---------===//

#include "quarc/Quantization/Quantize.h"

#include "llvm/ADT/STLExtras.h"
#include <cassert>
#include <cmath>

namespace mlir::quarc {

double roundHalfToEven(double x) {
  double rounded = std::round(x); // ties away from zero
  // A tie: take the even neighbour. x / 2 is exact, and for |x| >= 2^52
  // every double is an integer, so there are no ties to fix.
  if (std::fabs(x - std::trunc(x)) == 0.5)
    rounded = 2.0 * std::round(x / 2.0);
  return rounded;
}

int32_t quantizeValue(float x, float scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax) {
  if (std::isnan(x))
    return std::clamp(zeroPoint, qmin, qmax);
  float quotient = x / scale; // f32 division, as ONNX QuantizeLinear
  // Clamp before converting: the quotient may be far outside int32 (or
  // infinite); the rounded value is an integer, so adding the zero point in
  // double is exact.
  double value = roundHalfToEven(quotient) + double(zeroPoint);
  return int32_t(std::clamp(value, double(qmin), double(qmax)));
}

float dequantizeValue(int32_t q, float scale, int32_t zeroPoint) {
  return float(int64_t(q) - zeroPoint) * scale;
}

SmallVector<int64_t> paramIndices(ArrayRef<int64_t> shape,
                                  const QuantParams &params) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  SmallVector<int64_t> indices(count, 0);
  if (params.granularity == Granularity::PerTensor)
    return indices;

  int64_t rank = shape.size(), axis = params.axis;
  assert(axis >= 0 && axis < rank && "axis outside the tensor");
  if (params.granularity == Granularity::PerChannel) {
    int64_t inner = 1;
    for (int64_t d = axis + 1; d < rank; ++d)
      inner *= shape[d];
    for (int64_t i = 0; i < count; ++i)
      indices[i] = (i / inner) % shape[axis];
    return indices;
  }

  // PerGroup: coordinates walk the data row-major; the parameter index is
  // row-major over the group shape, coordinate[axis] / groupSize.
  SmallVector<int64_t> groupShape =
      groupParamShape(shape, params.axis, params.groupSize);
  SmallVector<int64_t> groupStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    groupStrides[d] = groupStrides[d + 1] * groupShape[d + 1];
  SmallVector<int64_t> coord(rank, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t index = 0;
    for (int64_t d = 0; d < rank; ++d)
      index += (d == axis ? coord[d] / params.groupSize : coord[d]) *
               groupStrides[d];
    indices[i] = index;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++coord[d] < shape[d])
        break;
      coord[d] = 0;
    }
  }
  return indices;
}

SmallVector<int32_t> quantize(ArrayRef<float> values, ArrayRef<int64_t> shape,
                              const QuantParams &params) {
  SmallVector<int64_t> indices = paramIndices(shape, params);
  assert(indices.size() == values.size() && "values do not fill the shape");
  SmallVector<int32_t> result;
  result.reserve(values.size());
  for (auto [value, index] : llvm::zip_equal(values, indices))
    result.push_back(quantizeValue(value, float(params.scales[index]),
                                   int32_t(params.zeroPoints[index]),
                                   int32_t(params.qmin), int32_t(params.qmax)));
  return result;
}

SmallVector<float> dequantize(ArrayRef<int32_t> values, ArrayRef<int64_t> shape,
                              const QuantParams &params) {
  SmallVector<int64_t> indices = paramIndices(shape, params);
  assert(indices.size() == values.size() && "values do not fill the shape");
  SmallVector<float> result;
  result.reserve(values.size());
  for (auto [value, index] : llvm::zip_equal(values, indices))
    result.push_back(dequantizeValue(value, float(params.scales[index]),
                                     int32_t(params.zeroPoints[index])));
  return result;
}

} // namespace mlir::quarc
