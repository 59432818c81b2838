//===- QuantParams.cpp - integer ranges and parameter invariants ----------===//

#include "quarc/Quantization/QuantParams.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <cfloat>
#include <cmath>

namespace mlir::quarc {

int64_t QuantType::qmin(bool reduceRange) const {
  if (isSigned) {
    if (reduceRange)
      return -(int64_t(1) << (bits - 2));
    return -(int64_t(1) << (bits - 1)) + (narrowRange ? 1 : 0);
  }
  return narrowRange ? 1 : 0;
}

int64_t QuantType::qmax(bool reduceRange) const {
  if (isSigned)
    return reduceRange ? int64_t(1) << (bits - 2)
                       : (int64_t(1) << (bits - 1)) - 1;
  return (int64_t(1) << (bits - (reduceRange ? 1 : 0))) - 1;
}

std::string QuantType::str() const {
  std::string name = (isSigned ? "s" : "u") + std::to_string(bits);
  if (narrowRange)
    name += ":narrow";
  return name;
}

SmallVector<int64_t> groupParamShape(ArrayRef<int64_t> shape, int32_t axis,
                                     int64_t groupSize) {
  SmallVector<int64_t> result(shape);
  if (axis >= 0 && axis < int32_t(result.size()) && groupSize > 0)
    result[axis] = llvm::divideCeil(result[axis], groupSize);
  return result;
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::interleave(shape, os, "x");
  return result;
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error QuantParams::verify() const {
  if (storageBits < 2 || storageBits > 16)
    return makeError(llvm::formatv("storage type of {0} bits: quarc supports "
                                   "2 to 16",
                                   storageBits));
  QuantType full{storageBits, isSigned, false};
  if (qmin >= qmax || qmin < full.qmin() || qmax > full.qmax())
    return makeError(llvm::formatv("storage range [{0}, {1}] is not inside "
                                   "{2}'s [{3}, {4}]",
                                   qmin, qmax, full.str(), full.qmin(),
                                   full.qmax()));
  if (scales.empty() || scales.size() != zeroPoints.size())
    return makeError(llvm::formatv("{0} scales and {1} zero points",
                                   scales.size(), zeroPoints.size()));
  if (granularity == Granularity::PerTensor && scales.size() != 1)
    return makeError(
        llvm::formatv("per-tensor parameters with {0} scales", scales.size()));
  if (granularity != Granularity::PerTensor && axis < 0)
    return makeError(llvm::formatv("negative axis {0}", axis));
  if (granularity == Granularity::PerGroup) {
    if (groupSize < 1)
      return makeError(llvm::formatv("group size {0} < 1", groupSize));
    if (axis >= int32_t(groupShape.size()))
      return makeError(llvm::formatv("axis {0} outside the rank-{1} group "
                                     "shape",
                                     axis, groupShape.size()));
    int64_t count = 1;
    for (int64_t dim : groupShape)
      count *= dim;
    if (count != int64_t(scales.size()))
      return makeError(llvm::formatv("{0} scales for a group shape of {1} "
                                     "elements",
                                     scales.size(), count));
  }
  for (auto [i, scale] : llvm::enumerate(scales)) {
    // f32-exact so that ONNX export (f32 scale tensors) loses nothing.
    if (!(scale > 0) || !(scale <= double(FLT_MAX)) ||
        double(float(scale)) != scale)
      return makeError(llvm::formatv("scale #{0} = {1} is not a positive "
                                     "finite f32 value",
                                     i, scale));
  }
  for (auto [i, zeroPoint] : llvm::enumerate(zeroPoints)) {
    if (zeroPoint < qmin || zeroPoint > qmax)
      return makeError(llvm::formatv("zero point #{0} = {1} is outside "
                                     "[{2}, {3}]",
                                     i, zeroPoint, qmin, qmax));
  }
  return llvm::Error::success();
}

llvm::Error QuantParams::verifyForShape(ArrayRef<int64_t> shape) const {
  if (llvm::Error error = verify())
    return error;
  switch (granularity) {
  case Granularity::PerTensor:
    return llvm::Error::success();
  case Granularity::PerChannel:
    if (axis >= int32_t(shape.size()))
      return makeError(llvm::formatv("channel axis {0} of a rank-{1} tensor",
                                     axis, shape.size()));
    if (shape[axis] != int64_t(scales.size()))
      return makeError(llvm::formatv("{0} scales for {1} channels along "
                                     "axis {2}",
                                     scales.size(), shape[axis], axis));
    return llvm::Error::success();
  case Granularity::PerGroup:
    if (axis >= int32_t(shape.size()))
      return makeError(llvm::formatv("group axis {0} of a rank-{1} tensor",
                                     axis, shape.size()));
    if (SmallVector<int64_t> expected = groupParamShape(shape, axis, groupSize);
        ArrayRef<int64_t>(groupShape) != ArrayRef<int64_t>(expected))
      return makeError(llvm::formatv("group shape {0} does not fit a tensor "
                                     "of shape {1} grouped by {2} along axis "
                                     "{3} (expected {4})",
                                     shapeStr(groupShape), shapeStr(shape),
                                     groupSize, axis, shapeStr(expected)));
    return llvm::Error::success();
  }
  llvm_unreachable("unknown granularity");
}

bool QuantParams::operator==(const QuantParams &other) const {
  return storageBits == other.storageBits && isSigned == other.isSigned &&
         qmin == other.qmin && qmax == other.qmax &&
         granularity == other.granularity && scales == other.scales &&
         zeroPoints == other.zeroPoints &&
         (granularity == Granularity::PerTensor || axis == other.axis) &&
         (granularity != Granularity::PerGroup ||
          (groupSize == other.groupSize && groupShape == other.groupShape));
}

} // namespace mlir::quarc
