//===- ChooseQuantParams.cpp - scales and zero points from ranges ---------===//
//
// The rules are documented once, in ChooseQuantParams.h.
//
//===----------------------------------------------------------------------===//

#include "quarc/Quantization/ChooseQuantParams.h"
#include "quarc/Quantization/Quantize.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include <cfloat>
#include <cmath>

namespace mlir::quarc {
namespace {

struct ScaleAndZeroPoint {
  double scale;
  int64_t zeroPoint;
};

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Rule 5's zero point: ceil((qmin + qmax) / 2).
int64_t symmetricZeroPoint(int64_t qmin, int64_t qmax) {
  return llvm::divideFloorSigned(qmin + qmax + 1, 2);
}

llvm::Expected<ScaleAndZeroPoint> choose(double min, double max, int64_t qmin,
                                         int64_t qmax, bool symmetric) {
  if (!std::isfinite(min) || !std::isfinite(max))
    return makeError(llvm::formatv("range [{0}, {1}] is not finite", min, max));
  if (min > max)
    return makeError(llvm::formatv("range [{0}, {1}] has min > max", min, max));

  if (qmin >= qmax)
    return makeError(llvm::formatv("integer range [{0}, {1}] has a single "
                                   "level",
                                   qmin, qmax));

  double lo = std::min(min, 0.0), hi = std::max(max, 0.0);
  int64_t zeroPoint = symmetric ? symmetricZeroPoint(qmin, qmax)
                                : std::clamp<int64_t>(0, qmin, qmax);
  double exactScale;
  if (symmetric) {
    int64_t half = std::min(qmax - zeroPoint, zeroPoint - qmin);
    if (half < 1)
      return makeError(llvm::formatv("integer range [{0}, {1}] has no level "
                                     "below its symmetric zero point {2}",
                                     qmin, qmax, zeroPoint));
    exactScale = std::max(-lo, hi) / double(half);
  } else {
    exactScale = (hi - lo) / double(qmax - qmin);
  }
  // Checked before converting: a double beyond f32's range has no f32.
  if (!(exactScale <= double(FLT_MAX)))
    return makeError(llvm::formatv("range [{0}, {1}] is too wide: its scale "
                                   "{2:e} overflows f32",
                                   min, max, exactScale));
  float scale = float(exactScale);
  // Rule 6: all zeros, or a scale too small to use.
  if (!(scale >= FLT_MIN))
    return ScaleAndZeroPoint{1.0, zeroPoint};
  if (!symmetric) {
    double fromLo = double(qmin) - lo / double(scale);
    zeroPoint =
        std::clamp<int64_t>(int64_t(roundHalfToEven(fromLo)), qmin, qmax);
  }
  return ScaleAndZeroPoint{double(scale), zeroPoint};
}

QuantParams emptyParams(QuantType type, bool reduceRange,
                        Granularity granularity) {
  QuantParams params;
  params.storageBits = type.bits;
  params.isSigned = type.isSigned;
  params.qmin = type.qmin(reduceRange);
  params.qmax = type.qmax(reduceRange);
  params.granularity = granularity;
  return params;
}

llvm::Error checkType(QuantType type) {
  if (!type.isValid())
    return makeError(llvm::formatv("{0}-bit storage: quarc supports 2 to 16 "
                                   "bits",
                                   type.bits));
  return llvm::Error::success();
}

/// Fills `params` with one (scale, zero point) per range; `what` names an
/// entry in errors ("channel", "group").
llvm::Error chooseAll(QuantParams &params, ArrayRef<double> mins,
                      ArrayRef<double> maxs, bool symmetric, StringRef what) {
  if (mins.size() != maxs.size() || mins.empty())
    return makeError(llvm::formatv("{0} minimums and {1} maximums", mins.size(),
                                   maxs.size()));
  for (auto [i, range] : llvm::enumerate(llvm::zip_equal(mins, maxs))) {
    auto chosen = choose(std::get<0>(range), std::get<1>(range), params.qmin,
                         params.qmax, symmetric);
    if (!chosen)
      return makeError(llvm::formatv("{0} {1}: {2}", what, i,
                                     llvm::toString(chosen.takeError())));
    params.scales.push_back(chosen->scale);
    params.zeroPoints.push_back(chosen->zeroPoint);
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<QuantParams> computeQuantParams(double min, double max,
                                               QuantType type, bool symmetric,
                                               bool reduceRange) {
  if (llvm::Error error = checkType(type))
    return std::move(error);
  QuantParams params = emptyParams(type, reduceRange, Granularity::PerTensor);
  auto chosen = choose(min, max, params.qmin, params.qmax, symmetric);
  if (!chosen)
    return chosen.takeError();
  params.scales.push_back(chosen->scale);
  params.zeroPoints.push_back(chosen->zeroPoint);
  return params;
}

llvm::Expected<QuantParams>
computePerChannelQuantParams(ArrayRef<double> mins, ArrayRef<double> maxs,
                             int32_t axis, QuantType type, bool symmetric,
                             bool reduceRange) {
  if (llvm::Error error = checkType(type))
    return std::move(error);
  if (axis < 0)
    return makeError(llvm::formatv("negative channel axis {0}", axis));
  QuantParams params = emptyParams(type, reduceRange, Granularity::PerChannel);
  params.axis = axis;
  if (llvm::Error error = chooseAll(params, mins, maxs, symmetric, "channel"))
    return std::move(error);
  return params;
}

llvm::Expected<QuantParams>
computePerGroupQuantParams(ArrayRef<double> mins, ArrayRef<double> maxs,
                           ArrayRef<int64_t> groupShape, int32_t axis,
                           int64_t groupSize, QuantType type, bool symmetric,
                           bool reduceRange) {
  if (llvm::Error error = checkType(type))
    return std::move(error);
  if (axis < 0 || axis >= int32_t(groupShape.size()))
    return makeError(llvm::formatv("group axis {0} of a rank-{1} tensor", axis,
                                   groupShape.size()));
  if (groupSize < 1)
    return makeError(llvm::formatv("group size {0} < 1", groupSize));
  QuantParams params = emptyParams(type, reduceRange, Granularity::PerGroup);
  params.axis = axis;
  params.groupSize = groupSize;
  params.groupShape.assign(groupShape.begin(), groupShape.end());
  int64_t count = 1;
  for (int64_t dim : groupShape)
    count *= dim;
  if (count != int64_t(mins.size()))
    return makeError(
        llvm::formatv("{0} ranges for {1} groups", mins.size(), count));
  if (llvm::Error error = chooseAll(params, mins, maxs, symmetric, "group"))
    return std::move(error);
  return params;
}

/// Parameters of `layout`'s granularity, axis and groups for the ranges
/// [mins[i], maxs[i]], one per parameter.
static llvm::Expected<QuantParams>
computeForLayout(ArrayRef<double> mins, ArrayRef<double> maxs,
                 const QuantParams &layout, QuantType type, bool symmetric,
                 bool reduceRange) {
  switch (layout.granularity) {
  case Granularity::PerTensor:
    return computeQuantParams(mins[0], maxs[0], type, symmetric, reduceRange);
  case Granularity::PerChannel:
    return computePerChannelQuantParams(mins, maxs, layout.axis, type,
                                        symmetric, reduceRange);
  case Granularity::PerGroup:
    return computePerGroupQuantParams(mins, maxs, layout.groupShape,
                                      layout.axis, layout.groupSize, type,
                                      symmetric, reduceRange);
  }
  llvm_unreachable("unknown granularity");
}

llvm::Expected<QuantParams>
computeQuantParamsForData(ArrayRef<float> data, ArrayRef<int64_t> shape,
                          QuantType type, bool symmetric, bool reduceRange,
                          Granularity granularity, int32_t axis,
                          int64_t groupSize) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return makeError("data of dynamic or negative shape");
    count *= dim;
  }
  if (count != int64_t(data.size()))
    return makeError(llvm::formatv("{0} values for a shape of {1} elements",
                                   data.size(), count));
  if (count == 0)
    return makeError("empty data");
  for (auto [i, value] : llvm::enumerate(data)) {
    if (!std::isfinite(value))
      return makeError(llvm::formatv("element {0} is {1}", i, value));
  }
  if (granularity != Granularity::PerTensor &&
      (axis < 0 || axis >= int32_t(shape.size())))
    return makeError(
        llvm::formatv("axis {0} of a rank-{1} tensor", axis, shape.size()));
  if (granularity == Granularity::PerGroup && groupSize < 1)
    return makeError(llvm::formatv("group size {0} < 1", groupSize));

  // The same element -> parameter map that quantize() uses.
  QuantParams layout;
  layout.granularity = granularity;
  layout.axis = axis;
  layout.groupSize = groupSize;
  int64_t numParams = 1;
  if (granularity == Granularity::PerChannel)
    numParams = shape[axis];
  if (granularity == Granularity::PerGroup) {
    layout.groupShape = groupParamShape(shape, axis, groupSize);
    for (int64_t dim : layout.groupShape)
      numParams *= dim;
  }
  SmallVector<double> mins(numParams, INFINITY), maxs(numParams, -INFINITY);
  for (auto [value, index] :
       llvm::zip_equal(data, paramIndices(shape, layout))) {
    mins[index] = std::min(mins[index], double(value));
    maxs[index] = std::max(maxs[index], double(value));
  }
  return computeForLayout(mins, maxs, layout, type, symmetric, reduceRange);
}

llvm::Expected<QuantParams>
computePairFitQuantParams(ArrayRef<float> data, ArrayRef<int64_t> shape,
                          QuantType type, Granularity granularity,
                          int32_t axis, int64_t groupSize, int32_t pairAxis) {
  if (type.bits != 8 || !type.isSigned)
    return makeError(llvm::formatv("pairs of {0}-bit {1} weights: the bound "
                                   "is for s8",
                                   type.bits,
                                   type.isSigned ? "signed" : "unsigned"));
  // Checks the data and the layout as for any weight.
  llvm::Expected<QuantParams> plain =
      computeQuantParamsForData(data, shape, type, /*symmetric=*/true,
                                /*reduceRange=*/false, granularity, axis,
                                groupSize);
  if (!plain)
    return plain.takeError();
  if (pairAxis < 0 || pairAxis >= int32_t(shape.size()))
    return makeError(llvm::formatv("pair axis {0} of a rank-{1} tensor",
                                   pairAxis, shape.size()));
  SmallVector<int64_t> indices = paramIndices(shape, *plain);
  // Each parameter's range: its largest magnitude, and its pairs' largest
  // same-signed sum. (A pair whose halves have different parameters, as
  // groups of odd size along the pair axis make, is not bounded: the
  // kernels then check the quantized weights and take the exact 16-bit
  // path.)
  SmallVector<double> range(plain->scales.size(), 0.0);
  for (auto [value, index] : llvm::zip_equal(data, indices))
    range[index] = std::max(range[index], std::fabs(double(value)));
  int64_t stride = 1;
  for (int64_t dim : shape.drop_front(pairAxis + 1))
    stride *= dim;
  int64_t extent = shape[pairAxis];
  for (int64_t first = 0; first < int64_t(data.size()); ++first) {
    int64_t position = (first / stride) % extent;
    int64_t second = first + stride;
    if (position % 2 != 0 || position + 1 >= extent ||
        indices[first] != indices[second])
      continue;
    double a = data[first], b = data[second];
    double positive = std::max(a, 0.0) + std::max(b, 0.0);
    double negative = std::min(a, 0.0) + std::min(b, 0.0);
    double &r = range[indices[first]];
    r = std::max({r, positive, -negative});
  }
  // A symmetric s8 scale is range / 127; each quantized magnitude is at
  // most half a step above its value / scale, so a pair's sum stays within
  // 127 + 1 = 128 (and 255 x 128 = 32640 < 32767).
  SmallVector<double> mins, maxs;
  for (double r : range) {
    mins.push_back(-r);
    maxs.push_back(r);
  }
  return computeForLayout(mins, maxs, *plain, type, /*symmetric=*/true,
                          /*reduceRange=*/false);
}

} // namespace mlir::quarc
