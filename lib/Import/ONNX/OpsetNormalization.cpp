//===- OpsetNormalization.cpp - older opset forms to the newest one -------===//
//
// quarc ops have the newest ONNX form. These hooks rewrite older forms as the
// node is imported: attributes that later became inputs turn into constants,
// Softmax's flattening semantics before opset 13 become explicit, Upsample
// becomes Resize, and inference-only ops drop their training attributes.
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"
#include "OpTable.h"

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::onnx_import;

/// Moves the INTS attribute `name` (if present) to operand `index` as a 1-D
/// i64 constant.
static void moveIntsToOperand(NodeContext &context, StringRef name,
                              unsigned index) {
  if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(context.takeAttribute(name)))
    context.setOperand(index, context.constantI64(attr.asArrayRef()));
}

/// A rank-0 constant of `element` type holding `value` (for bounds and pad
/// values given as float attributes in old opsets).
static Value scalarConstant(NodeContext &context, Type element, double value) {
  auto type = RankedTensorType::get({}, element);
  if (auto floatType = dyn_cast<FloatType>(element)) {
    APFloat v(value);
    bool lostInfo;
    v.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &lostInfo);
    return context.constant(DenseElementsAttr::get(type, v));
  }
  unsigned width = element.getIntOrFloatBitWidth();
  return context.constant(DenseElementsAttr::get(
      type, APInt(width, uint64_t(int64_t(value)), /*isSigned=*/true)));
}

static Type getTensorElementType(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

LogicalResult onnx_import::importConstant(NodeContext &context) {
  if (context.attributes.size() != 1)
    return context.error() << "needs exactly one value attribute";
  NamedAttribute attr = context.attributes.front();
  StringRef name = attr.getName().getValue();
  OpBuilder &b = context.builder;
  ElementsAttr value;
  if (name == "value") {
    value = dyn_cast<ElementsAttr>(attr.getValue());
  } else if (name == "value_float") {
    auto f = cast<FloatAttr>(attr.getValue());
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   f.getValue());
  } else if (name == "value_floats") {
    ArrayRef<float> floats = cast<DenseF32ArrayAttr>(attr.getValue()).asArrayRef();
    value = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(floats.size())}, b.getF32Type()), floats);
  } else if (name == "value_int") {
    int64_t i = cast<IntegerAttr>(attr.getValue()).getInt();
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                   ArrayRef<int64_t>(i));
  } else if (name == "value_ints") {
    ArrayRef<int64_t> ints = cast<DenseI64ArrayAttr>(attr.getValue()).asArrayRef();
    value = DenseElementsAttr::get(
        RankedTensorType::get({int64_t(ints.size())}, b.getI64Type()), ints);
  }
  if (!value)
    return context.error() << "the constant attribute '" << name
                           << "' is not supported (strings and sparse tensors "
                              "are not)";
  context.results.push_back(context.constant(value));
  return success();
}

LogicalResult onnx_import::importSoftmaxLike(NodeContext &context) {
  if (context.opset >= 13)
    return context.createDefault();
  // Before opset 13, softmax works on the input flattened to 2-D at `axis`
  // (default 1): flatten, softmax the last dim, restore the shape.
  Attribute axisAttr = context.takeAttribute("axis");
  int64_t axis = axisAttr ? cast<IntegerAttr>(axisAttr).getInt() : 1;
  Value input = context.getOperand(0);
  if (!input)
    return context.error() << "needs an input";
  FailureOr<Operation *> flat = context.create(
      "quarc.flatten", {input},
      {context.builder.getNamedAttr("axis",
                                    context.builder.getI64IntegerAttr(axis))});
  if (failed(flat))
    return failure();
  FailureOr<Operation *> softmax =
      context.create(context.info.quarcOp, {(*flat)->getResult(0)}, {});
  if (failed(softmax))
    return failure();
  FailureOr<Operation *> reshaped =
      context.create("quarc.reshape",
                     {(*softmax)->getResult(0), context.shapeOf(input)}, {});
  if (failed(reshaped))
    return failure();
  context.results.push_back((*reshaped)->getResult(0));
  return success();
}

LogicalResult onnx_import::importReduce(NodeContext &context) {
  // `axes` became an input in opset 13 for ReduceSum, 18 for the others.
  int64_t inputSince = context.node.op_type() == "ReduceSum" ? 13 : 18;
  if (context.opset < inputSince)
    moveIntsToOperand(context, "axes", 1);
  return context.createDefault();
}

LogicalResult onnx_import::importAxesAttrAsInput(NodeContext &context) {
  if (context.opset < 13)
    moveIntsToOperand(context, "axes", 1);
  return context.createDefault();
}

LogicalResult onnx_import::importSplit(NodeContext &context) {
  if (context.opset < 13)
    moveIntsToOperand(context, "split", 1);
  // Before opset 18 the number of outputs gives an equal split.
  bool hasSplit = context.getOperand(1) != nullptr;
  bool hasCount = llvm::any_of(context.attributes, [](NamedAttribute attr) {
    return attr.getName() == "num_outputs";
  });
  if (!hasSplit && !hasCount)
    context.setAttribute("num_outputs", context.builder.getI64IntegerAttr(
                                            context.node.output_size()));
  return context.createDefault();
}

LogicalResult onnx_import::importClip(NodeContext &context) {
  if (context.opset < 11) {
    Value input = context.getOperand(0);
    if (!input)
      return context.error() << "needs an input";
    Type element = getTensorElementType(input);
    if (auto min = dyn_cast_or_null<FloatAttr>(context.takeAttribute("min")))
      context.setOperand(1, scalarConstant(context, element,
                                           min.getValueAsDouble()));
    if (auto max = dyn_cast_or_null<FloatAttr>(context.takeAttribute("max")))
      context.setOperand(2, scalarConstant(context, element,
                                           max.getValueAsDouble()));
  }
  return context.createDefault();
}

LogicalResult onnx_import::importPad(NodeContext &context) {
  if (context.opset < 11) {
    Value data = context.getOperand(0);
    if (!data)
      return context.error() << "needs an input";
    moveIntsToOperand(context, "pads", 1);
    if (auto value = dyn_cast_or_null<FloatAttr>(context.takeAttribute("value")))
      context.setOperand(2, scalarConstant(context, getTensorElementType(data),
                                           value.getValueAsDouble()));
  }
  return context.createDefault();
}

LogicalResult onnx_import::importSlice(NodeContext &context) {
  if (context.opset < 10) {
    moveIntsToOperand(context, "starts", 1);
    moveIntsToOperand(context, "ends", 2);
    moveIntsToOperand(context, "axes", 3);
  }
  return context.createDefault();
}

/// Sets the coordinate rules of Resize-10 and Upsample (asymmetric
/// coordinates, nearest rounds down), which later opsets made attributes.
static void setLegacyResizeModes(NodeContext &context) {
  OpBuilder &b = context.builder;
  context.setAttribute("coordinate_transformation_mode",
                       b.getStringAttr("asymmetric"));
  context.setAttribute("nearest_mode", b.getStringAttr("floor"));
}

LogicalResult onnx_import::importResize(NodeContext &context) {
  if (context.opset < 11) {
    // Resize-10 takes (X, scales); later opsets (X, roi, scales, sizes).
    Value scales = context.getOperand(1);
    context.operands.resize(1);
    context.setOperand(2, scales ? scales : context.none());
    setLegacyResizeModes(context);
  }
  return context.createDefault();
}

LogicalResult onnx_import::importUpsample(NodeContext &context) {
  Value scales = context.getOperand(1);
  if (auto attr = dyn_cast_or_null<DenseF32ArrayAttr>(
          context.takeAttribute("scales"))) {
    auto type = RankedTensorType::get({int64_t(attr.size())},
                                      context.builder.getF32Type());
    scales = context.constant(DenseElementsAttr::get(type, attr.asArrayRef()));
  }
  if (!scales)
    return context.error() << "needs scales (an attribute before opset 9, an "
                              "input since)";
  context.operands.resize(1);
  context.setOperand(2, scales);
  context.setOperand(3, context.none());
  setLegacyResizeModes(context);
  return context.createDefault();
}

LogicalResult onnx_import::importBatchNormalization(NodeContext &context) {
  if (auto spatial = dyn_cast_or_null<IntegerAttr>(context.takeAttribute("spatial")))
    if (spatial.getInt() != 1)
      return context.error() << "spatial=0 (per-activation statistics) is not "
                                "supported";
  if (auto training =
          dyn_cast_or_null<IntegerAttr>(context.takeAttribute("training_mode")))
    if (training.getInt() != 0)
      return context.error() << "training_mode=1 is not supported (quarc "
                                "compiles models for inference)";
  return context.createDefault();
}

LogicalResult onnx_import::importDropout(NodeContext &context) {
  // Before opset 12 the ratio is an attribute; in inference it is unused.
  if (context.opset < 12)
    context.takeAttribute("ratio");
  return context.createDefault();
}
