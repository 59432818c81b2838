//===- FoldQDQElementwise.cpp - QDQ around the ops between contractions ---===//
//
// The folds of quarc-fold-qdq for everything but the contractions: the
// float op between dequantized inputs and a quantized output becomes its
// integer form (quarc.qadd, quarc.qmul, quarc.qaverage_pool, quarc.lut, a
// Concat of quantized tensors), a pass-through op runs on the quantized
// tensors themselves, and a quantize of a dequantize becomes nothing or
// quarc.requantize. Everything these ops need is in the types; the
// multipliers are computed when they lower (IntegerElementwise.h).
//
//===----------------------------------------------------------------------===//

#include "FoldQDQ.h"
#include "TableFunctions.h"
#include "quarc/Dialect/Quarc/IR/QuantBehavior.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Quantization/IntegerElementwise.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SetVector.h"
#include <limits>

namespace mlir::quarc {

namespace {

quant::UniformQuantizedType getPerTensorElement(Value value) {
  return dyn_cast<quant::UniformQuantizedType>(getElementTypeOrSelf(value));
}

ScalarQuantization getScalarQuantization(quant::UniformQuantizedType type) {
  return {float(type.getScale()), int32_t(type.getZeroPoint()),
          int32_t(type.getStorageTypeMin()), int32_t(type.getStorageTypeMax())};
}

/// `value` (a quantized tensor) in the element type `element`: itself, or
/// a quarc.requantize.
Value requantizeTo(OpBuilder &builder, Location loc, Value value,
                   quant::UniformQuantizedType element) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType() == element)
    return value;
  return RequantizeOp::create(builder, loc, type.clone(element), value);
}

/// The elementwise chain ending at `output` whose only non-constant input
/// is one dequantized 8-bit tensor, and that tensor; see foldTable.
struct TableRegion {
  Value input;                  // the quantized tensor
  SmallVector<Operation *> ops; // in program order
};

/// A table larger than this many ops is not worth the compile time.
constexpr size_t kMaxTableOps = 64;

std::optional<TableRegion> matchTableRegion(Value output) {
  Operation *exit = output.getDefiningOp();
  if (!exit || !isTableFunction(exit))
    return std::nullopt;
  llvm::SetVector<Operation *> ops;
  SmallVector<Operation *> worklist = {exit};
  Value input;
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!ops.insert(op))
      continue;
    if (ops.size() > kMaxTableOps || op->getBlock() != exit->getBlock())
      return std::nullopt;
    for (Value operand : op->getOperands()) {
      if (isNone(operand) || getScalarConstant(operand))
        continue;
      if (Value quantized = getDequantizedInput(operand)) {
        if (input && input != quantized)
          return std::nullopt;
        input = quantized;
        continue;
      }
      Operation *producer = operand.getDefiningOp();
      if (!producer || !isTableFunction(producer))
        return std::nullopt;
      worklist.push_back(producer);
    }
  }
  if (!input || cast<RankedTensorType>(input.getType()).getShape() !=
                    cast<RankedTensorType>(output.getType()).getShape())
    return std::nullopt;
  SmallVector<Operation *> sorted = ops.takeVector();
  llvm::sort(sorted, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  return TableRegion{input, std::move(sorted)};
}

/// The region's output at the dequantized input value `x`.
double evaluateRegion(const TableRegion &region, Value output, double x) {
  llvm::DenseMap<Value, double> values;
  auto valueOf = [&](Value operand) -> std::optional<double> {
    if (isNone(operand))
      return std::nullopt;
    if (std::optional<double> constant = getScalarConstant(operand))
      return *constant;
    if (getDequantizedInput(operand) == region.input)
      return x;
    return values.lookup(operand);
  };
  for (Operation *op : region.ops) {
    SmallVector<std::optional<double>> operands;
    for (Value operand : op->getOperands())
      operands.push_back(valueOf(operand));
    std::optional<double> result = evaluateTableFunction(op, operands);
    values[op->getResult(0)] =
        result ? *result : std::numeric_limits<double>::quiet_NaN();
  }
  return values.lookup(output);
}

} // namespace

bool foldBinary(Operation *op) {
  Value a = getDequantizedInput(op->getOperand(0));
  Value b = getDequantizedInput(op->getOperand(1));
  std::optional<QuantizedOutput> output =
      a && b ? getQuantizedOutput(op->getResult(0)) : std::nullopt;
  if (!output)
    return false;
  OpBuilder builder(op);
  NamedAttrList attributes = output->getClampAttributes(builder);
  Type type = output->getType();
  Location loc = output->getLoc(op);
  Value result =
      isa<AddOp>(op)
          ? QAddOp::create(builder, loc, type, ValueRange{a, b},
                           attributes.getAttrs())
                .getResult()
          : QMulOp::create(builder, loc, type, ValueRange{a, b},
                           attributes.getAttrs())
                .getResult();
  output->quantize.replaceAllUsesWith(result);
  return true;
}

bool foldAveragePool(Operation *op) {
  Value x = getDequantizedInput(op->getOperand(0));
  std::optional<QuantizedOutput> output =
      x ? getQuantizedOutput(op->getResult(0)) : std::nullopt;
  if (!output || output->activation)
    return false;
  auto xType = cast<RankedTensorType>(x.getType());
  if (xType.getRank() != 3 && xType.getRank() != 4)
    return false;
  ArrayRef<int64_t> spatial = xType.getShape().drop_front(2);
  if (ShapedType::isDynamicShape(spatial))
    return false;
  OpBuilder builder(op);
  NamedAttrList attributes;
  if (isa<AveragePoolOp>(op)) {
    attributes.append(op->getAttrs());
  } else {
    // GlobalAveragePool: one window over the whole (static) image.
    attributes.set("kernel_shape", builder.getDenseI64ArrayAttr(spatial));
  }
  auto pool = QAveragePoolOp::create(builder, output->getLoc(op),
                                     output->getType(), ValueRange{x},
                                     attributes.getAttrs());
  output->quantize.replaceAllUsesWith(pool.getResult());
  return true;
}

bool foldConcat(ConcatOp concat) {
  std::optional<QuantizedOutput> output = getQuantizedOutput(concat.getResult());
  if (!output || output->activation)
    return false;
  SmallVector<Value> inputs;
  for (Value input : concat.getInputs()) {
    Value quantized = getDequantizedInput(input, 16);
    if (!quantized)
      return false;
    inputs.push_back(quantized);
  }
  OpBuilder builder(concat);
  auto element = cast<quant::UniformQuantizedType>(
      output->getType().getElementType());
  // The requantized inputs are no ONNX tensors: unnamed (quarc report
  // matches tensors by name).
  Location unnamed = getLocWithoutTensorNames(concat.getLoc(), 1);
  for (Value &input : inputs)
    input = requantizeTo(builder, unnamed, input, element);
  auto integer = ConcatOp::create(builder, output->getLoc(concat),
                                  output->getType(), inputs,
                                  concat->getAttrs());
  output->quantize.replaceAllUsesWith(integer.getResult());
  return true;
}

bool foldPassThrough(Operation *op) {
  SmallVector<OpOperand *> data = getPassThroughOperands(op);
  if (data.empty())
    return false;
  // Every data operand a dequantize of the same per-tensor type (a
  // pass-through op copies values, it cannot mix parameters).
  Type element;
  SmallVector<Value> quantized;
  for (OpOperand *operand : data) {
    Value input = getDequantizedInput(operand->get(), 16);
    if (!input)
      return false;
    Type inputElement = getElementTypeOrSelf(input);
    if (element && inputElement != element)
      return false;
    element = inputElement;
    quantized.push_back(input);
  }
  OpBuilder builder(op);
  Operation *integer = builder.clone(*op);
  for (auto [operand, input] : llvm::zip_equal(data, quantized))
    integer->setOperand(operand->getOperandNumber(), input);
  for (Value result : getPassThroughResults(op)) {
    Value integerResult =
        integer->getResult(cast<OpResult>(result).getResultNumber());
    auto type = cast<RankedTensorType>(result.getType());
    integerResult.setType(type.clone(element));
    // The users read the dequantized result; a quantize among them folds
    // away next (foldRequantize), keeping the values integer.
    builder.setInsertionPointAfter(integer);
    auto dequantize =
        DequantizeOp::create(builder, op->getLoc(), type, integerResult);
    result.replaceAllUsesWith(dequantize.getResult());
  }
  return true;
}

bool foldTable(QuantizeOp quantize) {
  auto outputType = getPerTensorElement(quantize.getOutput());
  if (!outputType || outputType.getStorageTypeIntegralWidth() > 16 ||
      !outputType.getExpressedType().isF32())
    return false;
  Value output = quantize.getInput();
  std::optional<TableRegion> region = matchTableRegion(output);
  if (!region)
    return false;
  auto inputType = getPerTensorElement(region->input);
  SmallVector<int32_t> table = buildLookupTable(
      getScalarQuantization(inputType), getScalarQuantization(outputType),
      [&](double x) { return evaluateRegion(*region, output, x); });
  OpBuilder builder(quantize);
  auto lut = LookupTableOp::create(builder, quantize.getLoc(),
                                   quantize.getType(), region->input,
                                   builder.getDenseI32ArrayAttr(table));
  quantize.replaceAllUsesWith(lut.getResult());
  return true;
}

bool foldRequantize(QuantizeOp quantize) {
  Value input = getDequantizedInput(quantize.getInput(), 16);
  auto outputType = getPerTensorElement(quantize.getOutput());
  if (!input || !outputType || outputType.getStorageTypeIntegralWidth() > 16 ||
      !outputType.getExpressedType().isF32())
    return false;
  OpBuilder builder(quantize);
  quantize.replaceAllUsesWith(
      requantizeTo(builder, quantize.getLoc(), input, outputType));
  return true;
}

} // namespace mlir::quarc
