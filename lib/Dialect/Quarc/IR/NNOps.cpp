//===- NNOps.cpp - convolution, pooling, normalization, matmul ------------===//

#include "NNInference.h"
#include "quarc/Dialect/Quarc/IR/BatchNorm.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::quarc;

FailureOr<SmallVector<int64_t>>
mlir::quarc::inferConvShape(std::optional<Location> loc, Value x, Value w,
                            int64_t group, WindowParams params) {
  FailureOr<RankedTensorType> xType = getRankedType(loc, x, "input X");
  FailureOr<RankedTensorType> wType = getRankedType(loc, w, "weight W");
  if (failed(xType) || failed(wType))
    return failure();
  int64_t rank = xType->getRank();
  if (rank < 3)
    return emitOptionalError(loc, "input must be N x C x D1 ... (rank >= 3), "
                                  "has rank ",
                             rank);
  if (wType->getRank() != rank)
    return emitOptionalError(loc, "weight rank ", wType->getRank(),
                             " differs from input rank ", rank);
  if (group < 1)
    return emitOptionalError(loc, "group must be positive");
  int64_t channels = xType->getDimSize(1);
  int64_t weightChannels = wType->getDimSize(1);
  if (!ShapedType::isDynamic(channels) &&
      !ShapedType::isDynamic(weightChannels) &&
      channels != weightChannels * group)
    return emitOptionalError(loc, "input has ", channels,
                             " channels but weight expects ",
                             weightChannels * group, " (", weightChannels,
                             " x group ", group, ")");
  int64_t numSpatial = rank - 2;
  if (params.kernel.empty())
    for (int64_t dim : wType->getShape().drop_front(2)) {
      if (ShapedType::isDynamic(dim))
        return emitOptionalError(loc, "weight has a dynamic kernel size");
      params.kernel.push_back(dim);
    }
  if (failed(completeWindowParams(loc, numSpatial, params)))
    return failure();
  SmallVector<int64_t> shape = {xType->getDimSize(0), wType->getDimSize(0)};
  for (int64_t i = 0; i < numSpatial; ++i) {
    FailureOr<int64_t> size =
        windowOutputSize(loc, params, i, xType->getDimSize(i + 2));
    if (failed(size))
      return failure();
    shape.push_back(*size);
  }
  return shape;
}

FailureOr<SmallVector<int64_t>>
mlir::quarc::inferMatMulShape(std::optional<Location> loc, Value a, Value b) {
  FailureOr<RankedTensorType> aType = getRankedType(loc, a, "input A");
  FailureOr<RankedTensorType> bType = getRankedType(loc, b, "input B");
  if (failed(aType) || failed(bType))
    return failure();
  SmallVector<int64_t> aShape(aType->getShape()), bShape(bType->getShape());
  if (aShape.empty() || bShape.empty())
    return emitOptionalError(loc, "matmul operands must have rank >= 1");
  bool aVector = aShape.size() == 1, bVector = bShape.size() == 1;
  if (aVector)
    aShape.insert(aShape.begin(), 1);
  if (bVector)
    bShape.push_back(1);
  int64_t k = aShape.back(), bk = bShape[bShape.size() - 2];
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(bk) && k != bk)
    return emitOptionalError(loc, "matmul contracting dims differ: ", k,
                             " and ", bk);
  FailureOr<SmallVector<int64_t>> batch = broadcastShapes(
      loc, {ArrayRef(aShape).drop_back(2), ArrayRef(bShape).drop_back(2)});
  if (failed(batch))
    return failure();
  SmallVector<int64_t> shape = *batch;
  if (!aVector)
    shape.push_back(aShape[aShape.size() - 2]);
  if (!bVector)
    shape.push_back(bShape.back());
  return shape;
}

//===----------------------------------------------------------------------===//
// Conv, ConvTranspose
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      inferConvShape(loc, adaptor.getX(), adaptor.getW(), adaptor.getGroup(),
                     getWindowParams(adaptor));
  if (failed(shape))
    return failure();
  if (!isNone(adaptor.getB())) {
    auto bias = dyn_cast<RankedTensorType>(adaptor.getB().getType());
    int64_t outChannels = (*shape)[1];
    if (!bias || bias.getRank() != 1 ||
        (!bias.isDynamicDim(0) && !ShapedType::isDynamic(outChannels) &&
         bias.getDimSize(0) != outChannels))
      return emitOptionalError(loc, "bias B must be 1-D with one value per "
                                    "output channel (",
                               outChannels, ")");
  }
  return pushTensorType(types, *shape, getElementTypeOrSelf(adaptor.getX()));
}

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> xType = getRankedType(loc, adaptor.getX(), "X");
  FailureOr<RankedTensorType> wType = getRankedType(loc, adaptor.getW(), "W");
  if (failed(xType) || failed(wType))
    return failure();
  int64_t rank = xType->getRank();
  if (rank < 3 || wType->getRank() != rank)
    return emitOptionalError(loc, "X and W must have the same rank >= 3");
  int64_t group = adaptor.getGroup();
  if (group < 1)
    return emitOptionalError(loc, "group must be positive");
  int64_t numSpatial = rank - 2;
  WindowParams params = getWindowParams(adaptor);
  // Kernel dims taken from W: a dynamic one makes its output dim dynamic.
  SmallVector<bool> dynamicKernel(numSpatial, false);
  if (params.kernel.empty())
    for (auto [i, dim] : llvm::enumerate(wType->getShape().drop_front(2))) {
      dynamicKernel[i] = ShapedType::isDynamic(dim);
      params.kernel.push_back(dynamicKernel[i] ? 1 : dim);
    }
  int64_t inChannels = xType->getDimSize(1), weightIn = wType->getDimSize(0);
  if (!ShapedType::isDynamic(inChannels) && !ShapedType::isDynamic(weightIn) &&
      inChannels != weightIn)
    return emitOptionalError(loc, "input has ", inChannels,
                             " channels but weight dim 0 is ", weightIn);
  if (failed(completeWindowParams(loc, numSpatial, params)))
    return failure();
  SmallVector<int64_t> outputPadding(numSpatial, 0);
  if (auto attr = adaptor.getOutputPadding()) {
    if (int64_t(attr->size()) != numSpatial)
      return emitOptionalError(loc, "output_padding needs ", numSpatial,
                               " values");
    outputPadding.assign(attr->begin(), attr->end());
  }
  int64_t outChannels = wType->getDimSize(1);
  if (!ShapedType::isDynamic(outChannels))
    outChannels *= group;
  SmallVector<int64_t> shape = {xType->getDimSize(0), outChannels};
  std::optional<ArrayRef<int64_t>> outputShape = adaptor.getOutputShape();
  if (outputShape && int64_t(outputShape->size()) != numSpatial &&
      int64_t(outputShape->size()) != rank)
    return emitOptionalError(loc, "output_shape needs ", numSpatial,
                             " values");
  for (int64_t i = 0; i < numSpatial; ++i) {
    if (outputShape) {
      shape.push_back(outputShape->size() == size_t(rank)
                          ? (*outputShape)[i + 2]
                          : (*outputShape)[i]);
      continue;
    }
    int64_t in = xType->getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || dynamicKernel[i]) {
      shape.push_back(ShapedType::kDynamic);
      continue;
    }
    int64_t extent = (params.kernel[i] - 1) * params.dilations[i] + 1;
    int64_t size;
    if (params.autoPad == "SAME_UPPER" || params.autoPad == "SAME_LOWER")
      size = in * params.strides[i];
    else if (params.autoPad == "VALID")
      size = params.strides[i] * (in - 1) + outputPadding[i] + extent;
    else
      size = params.strides[i] * (in - 1) + outputPadding[i] + extent -
             params.pads[i] - params.pads[i + numSpatial];
    if (size < 1)
      return emitOptionalError(loc, "output spatial dim ", i, " would be ",
                               size);
    shape.push_back(size);
  }
  return pushTensorType(types, shape, xType->getElementType());
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>>
mlir::quarc::inferPoolShape(std::optional<Location> loc, Value x,
                            WindowParams params, bool ceilMode) {
  FailureOr<RankedTensorType> xType = getRankedType(loc, x, "X");
  if (failed(xType))
    return failure();
  int64_t rank = xType->getRank();
  if (rank < 3)
    return emitOptionalError(loc, "input must be N x C x D1 ... (rank >= 3)");
  if (params.kernel.empty())
    return emitOptionalError(loc, "needs the attribute 'kernel_shape'");
  params.ceilMode = ceilMode;
  if (failed(completeWindowParams(loc, rank - 2, params)))
    return failure();
  SmallVector<int64_t> shape(xType->getShape().take_front(2));
  for (int64_t i = 0; i < rank - 2; ++i) {
    FailureOr<int64_t> size =
        windowOutputSize(loc, params, i, xType->getDimSize(i + 2));
    if (failed(size))
      return failure();
    shape.push_back(*size);
  }
  return shape;
}

template <typename Adaptor>
static LogicalResult inferPool(std::optional<Location> loc, Adaptor adaptor,
                               SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      inferPoolShape(loc, adaptor.getX(), getWindowParams(adaptor),
                     adaptor.getCeilMode() != 0);
  if (failed(shape))
    return failure();
  return pushTensorType(types, *shape, getElementTypeOrSelf(adaptor.getX()));
}

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (failed(inferPool(loc, adaptor, types)))
    return failure();
  types.push_back(cast<RankedTensorType>(types.front())
                      .clone(IntegerType::get(context, 64)));
  return success();
}

LogicalResult AveragePoolOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferPool(loc, adaptor, types);
}

static LogicalResult inferGlobalPool(std::optional<Location> loc, Value x,
                                     SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> xType = getRankedType(loc, x, "X");
  if (failed(xType))
    return failure();
  if (xType->getRank() < 3)
    return emitOptionalError(loc, "input must be N x C x D1 ... (rank >= 3)");
  SmallVector<int64_t> shape(xType->getShape());
  std::fill(shape.begin() + 2, shape.end(), 1);
  return pushTensorType(types, shape, xType->getElementType());
}

LogicalResult GlobalAveragePoolOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferGlobalPool(loc, adaptor.getX(), types);
}

LogicalResult GlobalMaxPoolOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  return inferGlobalPool(loc, adaptor.getX(), types);
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

LogicalResult BatchNormalizationOp::verify() {
  RankedTensorType xType = getX().getType();
  if (xType.getRank() < 2)
    return emitOpError("input must have rank >= 2 (N x C x ...)");
  int64_t channels = xType.getDimSize(1);
  for (Value param : {getScale(), getB(), getInputMean(), getInputVar()}) {
    auto type = cast<RankedTensorType>(param.getType());
    if (type.getRank() != 1)
      return emitOpError("scale, B, mean and var must be 1-D (C)");
    if (!ShapedType::isDynamic(channels) && !type.isDynamicDim(0) &&
        type.getDimSize(0) != channels)
      return emitOpError("parameter has ")
             << type.getDimSize(0) << " values for " << channels
             << " channels";
  }
  return success();
}

LogicalResult LayerNormalizationOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> x = getRankedType(loc, adaptor.getX(), "X");
  if (failed(x))
    return failure();
  FailureOr<int64_t> axis =
      normalizeAxis(loc, adaptor.getAxis(), x->getRank(), "axis");
  if (failed(axis))
    return failure();
  if (adaptor.getStashType() != 1)
    return emitOptionalError(loc, "stash_type ", adaptor.getStashType(),
                             " is not supported (only 1: float32)");
  SmallVector<int64_t> statsShape(x->getShape());
  std::fill(statsShape.begin() + *axis, statsShape.end(), 1);
  auto stats = RankedTensorType::get(statsShape, Float32Type::get(context));
  types.append({*x, stats, stats});
  return success();
}

LogicalResult LayerNormalizationOp::verify() {
  int64_t rank = getX().getType().getRank();
  FailureOr<int64_t> axis = normalizeAxis(getLoc(), getAxis(), rank, "axis");
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> normalized = getX().getType().getShape().drop_front(*axis);
  for (Value param : {Value(getScale()), getB()}) {
    if (isNone(param))
      continue;
    auto shape = cast<RankedTensorType>(param.getType()).getShape();
    if (failed(broadcastShapes(getLoc(), {normalized, shape})))
      return emitOpError("Scale and B must broadcast to the normalized dims");
  }
  return success();
}

LogicalResult InstanceNormalizationOp::verify() {
  RankedTensorType type = getInput().getType();
  if (type.getRank() < 3)
    return emitOpError("input must be N x C x D1 ... (rank >= 3)");
  int64_t channels = type.getDimSize(1);
  for (Value param : {getScale(), getB()}) {
    auto paramType = cast<RankedTensorType>(param.getType());
    if (paramType.getRank() != 1 ||
        (!ShapedType::isDynamic(channels) && !paramType.isDynamicDim(0) &&
         paramType.getDimSize(0) != channels))
      return emitOpError("scale and B must be 1-D with one value per channel");
  }
  return success();
}

LogicalResult LRNOp::verify() {
  if (getSize() < 1)
    return emitOpError("size must be positive");
  if (getX().getType().getRank() < 3)
    return emitOpError("input must be N x C x D1 ... (rank >= 3)");
  return success();
}

//===----------------------------------------------------------------------===//
// Gemm, MatMul
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> aType = getRankedType(loc, adaptor.getA(), "A");
  FailureOr<RankedTensorType> bType = getRankedType(loc, adaptor.getB(), "B");
  if (failed(aType) || failed(bType))
    return failure();
  if (aType->getRank() != 2 || bType->getRank() != 2)
    return emitOptionalError(loc, "A and B must be 2-D");
  bool transA = adaptor.getTransA(), transB = adaptor.getTransB();
  int64_t m = aType->getDimSize(transA ? 1 : 0);
  int64_t k = aType->getDimSize(transA ? 0 : 1);
  int64_t bk = bType->getDimSize(transB ? 1 : 0);
  int64_t n = bType->getDimSize(transB ? 0 : 1);
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(bk) && k != bk)
    return emitOptionalError(loc, "contracting dims differ: ", k, " and ", bk);
  SmallVector<int64_t> shape = {m, n};
  if (!isNone(adaptor.getC())) {
    FailureOr<RankedTensorType> cType =
        getRankedType(loc, adaptor.getC(), "C");
    if (failed(cType))
      return failure();
    FailureOr<SmallVector<int64_t>> broadcast =
        broadcastShapes(loc, {shape, cType->getShape()});
    if (failed(broadcast) || broadcast->size() != 2)
      return emitOptionalError(loc, "C must broadcast to M x N");
  }
  return pushTensorType(types, shape, aType->getElementType());
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      inferMatMulShape(loc, adaptor.getA(), adaptor.getB());
  if (failed(shape))
    return failure();
  return pushTensorType(types, *shape, getElementTypeOrSelf(adaptor.getA()));
}

std::optional<ChannelAffine>
mlir::quarc::getConstantChannelAffine(BatchNormalizationOp op) {
  std::optional<SmallVector<double>> scale =
      getConstantFloatValues(op.getScale());
  std::optional<SmallVector<double>> bias = getConstantFloatValues(op.getB());
  std::optional<SmallVector<double>> mean =
      getConstantFloatValues(op.getInputMean());
  std::optional<SmallVector<double>> var =
      getConstantFloatValues(op.getInputVar());
  if (!scale || !bias || !mean || !var)
    return std::nullopt;
  size_t channels = scale->size();
  if (bias->size() != channels || mean->size() != channels ||
      var->size() != channels)
    return std::nullopt;
  RankedTensorType type = op.getX().getType();
  if (!type.isDynamicDim(1) && type.getDimSize(1) != int64_t(channels))
    return std::nullopt;
  double epsilon = op.getEpsilon().convertToDouble();
  ChannelAffine affine;
  for (size_t c = 0; c < channels; ++c) {
    double m = (*scale)[c] / std::sqrt((*var)[c] + epsilon);
    double o = (*bias)[c] - (*mean)[c] * m;
    if (!std::isfinite(m) || !std::isfinite(o))
      return std::nullopt;
    affine.multiplier.push_back(m);
    affine.offset.push_back(o);
  }
  return affine;
}
