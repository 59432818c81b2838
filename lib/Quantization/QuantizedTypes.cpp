//===- QuantizedTypes.cpp - QuantParams <-> !quant.uniform ----------------===//

#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include <cfloat>
#include <cmath>

namespace mlir::quarc {

FailureOr<quant::QuantizedType> getQuantizedType(Location loc,
                                                 const QuantParams &params,
                                                 FloatType expressedType) {
  if (llvm::Error error = params.verify()) {
    emitError(loc) << "invalid quantization parameters: "
                   << llvm::toString(std::move(error));
    return failure();
  }
  MLIRContext *context = loc.getContext();
  auto storageType = IntegerType::get(context, params.storageBits);
  unsigned flags = params.isSigned ? quant::QuantizationFlags::Signed : 0;
  auto emit = [&] { return emitError(loc); };

  quant::QuantizedType type;
  switch (params.granularity) {
  case Granularity::PerTensor:
    type = quant::UniformQuantizedType::getChecked(
        emit, flags, storageType, expressedType, params.scale(),
        params.zeroPoint(), params.qmin, params.qmax);
    break;
  case Granularity::PerChannel:
    type = quant::UniformQuantizedPerAxisType::getChecked(
        emit, flags, storageType, expressedType, params.scales,
        params.zeroPoints, params.axis, params.qmin, params.qmax);
    break;
  case Granularity::PerGroup: {
    // Scales are stored in the expressed type: check that they survive
    // (an f32 scale may not be an f16 one).
    SmallVector<APFloat> scales;
    for (double scale : params.scales) {
      APFloat value(scale);
      bool losesInfo = false;
      value.convert(expressedType.getFloatSemantics(),
                    APFloat::rmNearestTiesToEven, &losesInfo);
      if (losesInfo || !value.isFiniteNonZero()) {
        emitError(loc) << "scale " << scale << " is not representable in "
                       << expressedType;
        return failure();
      }
      scales.push_back(value);
    }
    SmallVector<APInt> zeroPoints;
    for (int64_t zeroPoint : params.zeroPoints)
      zeroPoints.push_back(
          APInt(params.storageBits, uint64_t(zeroPoint), params.isSigned));
    auto scalesAttr = DenseElementsAttr::get(
        RankedTensorType::get(params.groupShape, expressedType), scales);
    auto zeroPointsAttr = DenseElementsAttr::get(
        RankedTensorType::get(params.groupShape, storageType), zeroPoints);
    // Every dim is listed: an unlisted one would mean one block over the
    // whole dimension, not one parameter per index.
    SmallVector<int32_t> dims;
    SmallVector<int64_t> blockSizes;
    for (int32_t d = 0, e = params.groupShape.size(); d < e; ++d) {
      dims.push_back(d);
      blockSizes.push_back(d == params.axis ? params.groupSize : 1);
    }
    type = quant::UniformQuantizedSubChannelType::getChecked(
        emit, flags, storageType, expressedType, scalesAttr, zeroPointsAttr,
        dims, blockSizes, params.qmin, params.qmax);
    break;
  }
  }
  if (!type)
    return failure();
  return type;
}

/// The storage part of the parameters, common to all uniform types.
static LogicalResult getStorage(Location loc, quant::QuantizedType type,
                                QuantParams &params) {
  auto storageType = dyn_cast<IntegerType>(type.getStorageType());
  if (!storageType || storageType.getWidth() < 2 || storageType.getWidth() > 16)
    return emitError(loc) << "quantized type " << type
                          << ": quarc supports 2- to 16-bit integer storage";
  params.storageBits = storageType.getWidth();
  params.isSigned = type.isSigned();
  params.qmin = type.getStorageTypeMin();
  params.qmax = type.getStorageTypeMax();
  return success();
}

FailureOr<QuantParams> getQuantParams(Location loc, quant::QuantizedType type) {
  QuantParams params;
  if (failed(getStorage(loc, type, params)))
    return failure();

  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(type)) {
    params.granularity = Granularity::PerTensor;
    params.scales = {uniform.getScale()};
    params.zeroPoints = {uniform.getZeroPoint()};
  } else if (auto perAxis =
                 dyn_cast<quant::UniformQuantizedPerAxisType>(type)) {
    params.granularity = Granularity::PerChannel;
    params.axis = perAxis.getQuantizedDimension();
    params.scales.assign(perAxis.getScales().begin(),
                         perAxis.getScales().end());
    params.zeroPoints.assign(perAxis.getZeroPoints().begin(),
                             perAxis.getZeroPoints().end());
  } else if (auto subChannel =
                 dyn_cast<quant::UniformQuantizedSubChannelType>(type)) {
    params.granularity = Granularity::PerGroup;
    auto scalesType = subChannel.getScales().getType();
    params.groupShape.assign(scalesType.getShape().begin(),
                             scalesType.getShape().end());
    int64_t rank = scalesType.getRank();
    SmallVector<int64_t> blockSizes(rank, 0);
    for (auto [dim, blockSize] : subChannel.getBlockSizeInfo()) {
      if (dim >= rank)
        return emitError(loc) << "quantized type " << type << ": dim " << dim
                              << " outside the rank-" << rank << " scales";
      blockSizes[dim] = blockSize;
    }
    // Exactly the form getQuantizedType builds: every dim listed, block
    // size 1 except on at most one axis.
    params.axis = 0;
    params.groupSize = 1;
    bool haveAxis = false;
    for (int64_t d = 0; d < rank; ++d) {
      if (blockSizes[d] == 0)
        return emitError(loc)
               << "quantized type " << type << ": dim " << d
               << " has no block size (one block over the whole dim); quarc "
                  "supports per-group types that list every dim";
      if (blockSizes[d] == 1)
        continue;
      if (haveAxis)
        return emitError(loc)
               << "quantized type " << type << ": blocks along dims "
               << params.axis << " and " << d
               << "; quarc supports groups along one axis";
      haveAxis = true;
      params.axis = d;
      params.groupSize = blockSizes[d];
    }
    for (const APFloat &scale : subChannel.getScales().getValues<APFloat>()) {
      APFloat value = scale;
      bool losesInfo = false;
      value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      params.scales.push_back(value.convertToDouble());
    }
    for (const APInt &zeroPoint : subChannel.getZeroPoints().getValues<APInt>())
      params.zeroPoints.push_back(params.isSigned ? zeroPoint.getSExtValue()
                                                  : zeroPoint.getZExtValue());
  } else {
    return emitError(loc) << "quantized type " << type
                          << " is not a uniform quantized type";
  }

  // Scales are f32 values in quarc (ONNX's precision); a hand-written type
  // may carry a double such as 0.1, which is read as the nearest f32.
  for (double &scale : params.scales)
    if (std::abs(scale) <= double(FLT_MAX)) // else verify() reports it
      scale = double(float(scale));
  if (llvm::Error error = params.verify())
    return emitError(loc) << "quantized type " << type << ": "
                          << llvm::toString(std::move(error));
  return params;
}

SmallVector<double> getChannelScales(quant::QuantizedType type,
                                     int64_t channels) {
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(type))
    return SmallVector<double>(perAxis.getScales());
  return SmallVector<double>(
      channels, cast<quant::UniformQuantizedType>(type).getScale());
}

SmallVector<int64_t> getChannelZeroPoints(quant::QuantizedType type,
                                          int64_t channels) {
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(type))
    return SmallVector<int64_t>(perAxis.getZeroPoints());
  return SmallVector<int64_t>(
      channels, cast<quant::UniformQuantizedType>(type).getZeroPoint());
}

} // namespace mlir::quarc
