//===- TensorOps.cpp - constants, casts, identity, dropout, range ---------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::quarc;

//===----------------------------------------------------------------------===//
// NoneOp, ConstantOp
//===----------------------------------------------------------------------===//

OpFoldResult NoneOp::fold(FoldAdaptor) { return UnitAttr::get(getContext()); }

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  ElementsAttr value = adaptor.getValueAttr();
  if (!value)
    return emitOptionalError(loc, "needs an elements attribute 'value'");
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return emitOptionalError(loc, "'value' must have a ranked tensor type");
  types.push_back(type);
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// ConstantOfShapeOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOfShapeOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape =
      getShapeOperandDims(loc, adaptor.getInput(), "input");
  if (failed(shape))
    return failure();
  for (int64_t dim : *shape)
    if (!ShapedType::isDynamic(dim) && dim < 0)
      return emitOptionalError(loc, "shape has a negative dim ", dim);
  Type element = Float32Type::get(context);
  if (std::optional<ElementsAttr> value = adaptor.getValue())
    element = value->getElementType();
  types.push_back(RankedTensorType::get(*shape, element));
  return success();
}

LogicalResult ConstantOfShapeOp::verify() {
  if (std::optional<ElementsAttr> value = getValue())
    if (value->getNumElements() != 1)
      return emitOpError("'value' must have exactly one element, has ")
             << value->getNumElements();
  return success();
}

//===----------------------------------------------------------------------===//
// CastOp, IdentityOp
//===----------------------------------------------------------------------===//

LogicalResult CastOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> input =
      getRankedType(loc, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  TypeAttr to = adaptor.getToAttr();
  if (!to)
    return emitOptionalError(loc, "needs the attribute 'to'");
  types.push_back(input->clone(to.getValue()));
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return nullptr;
}

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  // The declared type may refine the input's `?` dims: keep the op then.
  if (getInput().getType() == getType())
    return getInput();
  return nullptr;
}

//===----------------------------------------------------------------------===//
// DropoutOp
//===----------------------------------------------------------------------===//

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  types.push_back(*data);
  types.push_back(data->clone(IntegerType::get(context, 1)));
  return success();
}

LogicalResult DropoutOp::verify() {
  if (std::optional<SmallVector<int64_t>> training =
          getConstantIntValues(getTrainingMode()))
    if (llvm::any_of(*training, [](int64_t v) { return v != 0; }))
      return emitOpError("training mode is not supported (quarc compiles "
                         "models for inference)");
  return success();
}

namespace {
/// In inference, dropout is the identity and its mask is all true.
struct DropoutToIdentity : OpRewritePattern<DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DropoutOp op,
                                PatternRewriter &rewriter) const override {
    if (!isNone(op.getTrainingMode()) ||
        op.getData().getType() != op.getOutput().getType())
      return failure();
    Value mask;
    if (!op.getMask().use_empty()) {
      auto maskType = cast<RankedTensorType>(op.getMask().getType());
      if (!maskType.hasStaticShape())
        return failure();
      mask = ConstantOp::create(rewriter, op.getLoc(), maskType,
                                DenseElementsAttr::get(maskType, true));
    }
    rewriter.replaceAllUsesWith(op.getOutput(), op.getData());
    if (mask)
      rewriter.replaceAllUsesWith(op.getMask(), mask);
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void DropoutOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<DropoutToIdentity>(context);
}

//===----------------------------------------------------------------------===//
// RangeOp
//===----------------------------------------------------------------------===//

LogicalResult RangeOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> start =
      getRankedType(loc, adaptor.getStart(), "start");
  if (failed(start))
    return failure();
  int64_t length = ShapedType::kDynamic;
  auto startValue = getConstantFloatValues(adaptor.getStart());
  auto limitValue = getConstantFloatValues(adaptor.getLimit());
  auto deltaValue = getConstantFloatValues(adaptor.getDelta());
  if (!startValue) {
    auto toDoubles = [](std::optional<SmallVector<int64_t>> ints)
        -> std::optional<SmallVector<double>> {
      if (!ints)
        return std::nullopt;
      return SmallVector<double>(ints->begin(), ints->end());
    };
    startValue = toDoubles(getConstantIntValues(adaptor.getStart()));
    limitValue = toDoubles(getConstantIntValues(adaptor.getLimit()));
    deltaValue = toDoubles(getConstantIntValues(adaptor.getDelta()));
  }
  if (startValue && limitValue && deltaValue && startValue->size() == 1 &&
      limitValue->size() == 1 && deltaValue->size() == 1) {
    double delta = deltaValue->front();
    if (delta == 0)
      return emitOptionalError(loc, "delta must not be zero");
    double count =
        std::ceil((limitValue->front() - startValue->front()) / delta);
    length = std::max<int64_t>(0, int64_t(count));
  }
  types.push_back(RankedTensorType::get({length}, start->getElementType()));
  return success();
}

LogicalResult RangeOp::verify() {
  for (Value scalar : {getStart(), getLimit(), getDelta()}) {
    auto type = cast<RankedTensorType>(scalar.getType());
    if (type.getRank() > 1 || (type.getRank() == 1 && type.getDimSize(0) != 1))
      return emitOpError("start, limit and delta must be scalars");
    if (type.getElementType() != getStart().getType().getElementType())
      return emitOpError("start, limit and delta must have one element type");
  }
  return success();
}
