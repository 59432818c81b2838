//===- ReportGraph.cpp - what quarc report reads from the graphs ----------===//

#include "ReportGraph.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Import/ONNX/ImportONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::quarc;

namespace {

/// The ops of the model's functions' top-level blocks, in program order.
SmallVector<Operation *> graphOps(ModuleOp module) {
  SmallVector<Operation *> ops;
  for (auto function : module.getOps<func::FuncOp>())
    if (!function.isExternal())
      for (Operation &op : function.getBody().front())
        ops.push_back(&op);
  return ops;
}

/// Bytes of the constants the graph uses.
int64_t constantBytes(ArrayRef<Operation *> ops) {
  int64_t bytes = 0;
  for (Operation *op : ops) {
    auto constant = dyn_cast<ConstantOp>(op);
    if (!constant || constant->use_empty())
      continue;
    auto type = dyn_cast<RankedTensorType>(constant.getType());
    if (!type || !type.hasStaticShape() ||
        !type.getElementType().isIntOrFloat())
      continue;
    bytes += type.getNumElements() *
             ((type.getElementType().getIntOrFloatBitWidth() + 7) / 8);
  }
  return bytes;
}

/// The ONNX op type(s) each quarc op is imported from ("MaxPool" for
/// quarc.max_pool; "A/B" when several import as the same op).
const llvm::StringMap<std::string> &onnxOpTypes() {
  static const llvm::StringMap<std::string> types = [] {
    llvm::StringMap<std::string> map;
    for (const SupportedOnnxOp &op : getSupportedOnnxOps()) {
      std::string &type = map[op.quarcOp];
      if (type.empty())
        type = op.opType.str();
      else if (!llvm::is_contained(llvm::split(type, '/'), op.opType))
        type += "/" + op.opType.str();
    }
    return map;
  }();
  return types;
}

std::string onnxOpType(Operation *op) {
  StringRef name = op->getName().getStringRef();
  auto it = onnxOpTypes().find(name);
  return it != onnxOpTypes().end() ? it->second : name.str();
}

/// Ops that are no ONNX node's computation: constants, observers,
/// placeholders, the return.
bool isBookkeeping(Operation *op) {
  return isa<ConstantOp, ObserveOp, NoneOp>(op) ||
         op->hasTrait<OpTrait::IsTerminator>();
}

bool isQuantized(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  return shaped && isa<quant::QuantizedType>(shaped.getElementType());
}

/// Whether `op` computes on quantized values: integer ops, and the ops
/// that move quantized values. Quantize, dequantize and storage casts only
/// convert between float and integer, and are nobody's computation.
bool isIntegerCompute(Operation *op) {
  if (isa<QuantizeOp, DequantizeOp, StorageCastOp>(op))
    return false;
  return llvm::any_of(op->getOperandTypes(), isQuantized) ||
         llvm::any_of(op->getResultTypes(), isQuantized);
}

/// Every name a location mentions (NameLocs, through fused and nested
/// locations): the ONNX nodes whose computation an op carries.
void collectNames(Location loc, llvm::SetVector<StringRef> &names) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    names.insert(name.getName().getValue());
    collectNames(name.getChildLoc(), names);
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location part : fused.getLocations())
      collectNames(part, names);
  } else if (auto callSite = dyn_cast<CallSiteLoc>(loc)) {
    collectNames(callSite.getCallee(), names);
  }
}

/// "u8", "i8", "u16", ...
std::string storageTypeName(quant::QuantizedType type) {
  return (type.isSigned() ? "i" : "u") +
         std::to_string(type.getStorageTypeIntegralWidth());
}

/// The type, parameters and representable range of tensor `value`.
void describeType(Value value, TensorReport &tensor) {
  auto shaped = cast<ShapedType>(value.getType());
  auto quantized = dyn_cast<quant::QuantizedType>(shaped.getElementType());
  if (!quantized) {
    tensor.type = "f32";
    return;
  }
  tensor.type = storageTypeName(quantized);
  auto uniform = dyn_cast<quant::UniformQuantizedType>(quantized);
  if (!uniform) {
    tensor.type += " per-axis";
    return;
  }
  double scale = uniform.getScale();
  int64_t zeroPoint = uniform.getZeroPoint();
  tensor.scale = scale;
  tensor.zeroPoint = zeroPoint;
  tensor.representable = {(uniform.getStorageTypeMin() - zeroPoint) * scale,
                          (uniform.getStorageTypeMax() - zeroPoint) * scale};
}

/// The weight operand of a contraction run as integer code.
std::optional<WeightReport> describeWeight(Operation *op, Value weight) {
  auto type = dyn_cast<RankedTensorType>(weight.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  auto quantized = dyn_cast<quant::QuantizedType>(type.getElementType());
  if (!quantized)
    return std::nullopt;
  WeightReport report;
  report.op = op->getName().stripDialect().str();
  report.type = storageTypeName(quantized);
  report.elements = type.getNumElements();
  report.channels = 1;
  bool asymmetric = false;
  if (auto perTensor = dyn_cast<quant::UniformQuantizedType>(quantized)) {
    asymmetric = perTensor.getZeroPoint() != 0;
  } else if (auto perAxis =
                 dyn_cast<quant::UniformQuantizedPerAxisType>(quantized)) {
    report.channels = perAxis.getScales().size();
    asymmetric = llvm::any_of(perAxis.getZeroPoints(),
                              [](int64_t zeroPoint) { return zeroPoint != 0; });
  } else if (auto subChannel =
                 dyn_cast<quant::UniformQuantizedSubChannelType>(quantized)) {
    report.channels = subChannel.getScales().getNumElements();
    asymmetric = !subChannel.getZeroPoints().isSplat() ||
                 !subChannel.getZeroPoints().getSplatValue<APInt>().isZero();
  }
  int64_t expressedBytes =
      quantized.getExpressedType().getIntOrFloatBitWidth() / 8;
  report.floatBytes = report.elements * expressedBytes;
  report.quantizedBytes =
      (report.elements * quantized.getStorageTypeIntegralWidth() + 7) / 8;
  report.scaleBytes = report.channels * expressedBytes;
  if (asymmetric)
    report.zeroPointBytes =
        report.channels *
        ((quantized.getStorageTypeIntegralWidth() + 7) / 8);
  return report;
}

} // namespace

FloatGraphInfo mlir::quarc::inspectFloatGraph(ModuleOp module) {
  FloatGraphInfo info;
  SmallVector<Operation *> ops = graphOps(module);
  for (Operation *op : ops) {
    if (isIntegerCompute(op))
      info.quantized = true;
    if (isBookkeeping(op))
      continue;
    std::optional<StringRef> node = getNodeName(op);
    if (!node)
      continue;
    if (info.opTypeOfNode.try_emplace(*node, onnxOpType(op)).second)
      info.nodes.push_back(node->str());
    for (Value result : op->getResults())
      if (std::optional<StringRef> tensor = getTensorName(result))
        info.nodeOfTensor.try_emplace(*tensor, node->str());
  }
  info.constantBytes = constantBytes(ops);
  return info;
}

void mlir::quarc::inspectQuantizedGraph(ModuleOp module,
                                        const FloatGraphInfo &floatGraph,
                                        QuantizationReport &report) {
  SmallVector<Operation *> ops = graphOps(module);
  report.quantizedConstantBytes = constantBytes(ops);

  // The float model's nodes each op computes, integer or float. A node
  // that no op carries any more was folded into an integer op
  // (quarc-fold-qdq erases the float ops it folds: a table's chain keeps
  // only its last op's location), so only the float ones are collected.
  llvm::StringSet<> integerNodes, floatNodes;
  for (Operation *op : ops) {
    if (isBookkeeping(op) || isa<QuantizeOp, DequantizeOp, StorageCastOp>(op))
      continue;
    llvm::SetVector<StringRef> names;
    collectNames(op->getLoc(), names);
    bool integer = isIntegerCompute(op);
    for (StringRef name : names)
      if (floatGraph.opTypeOfNode.contains(name))
        (integer ? integerNodes : floatNodes).insert(name);

    if (!integer || !isa<QConvOp, QMatMulOp>(op))
      continue;
    Value weight = isa<QConvOp>(op) ? cast<QConvOp>(op).getW()
                                    : cast<QMatMulOp>(op).getB();
    if (std::optional<WeightReport> described = describeWeight(op, weight)) {
      // The contraction's node: the first Conv/MatMul/Gemm node the op
      // carries (its location starts with the tensor it writes).
      for (StringRef name : names) {
        auto type = floatGraph.opTypeOfNode.find(name);
        if (type != floatGraph.opTypeOfNode.end() &&
            llvm::is_contained({"Conv", "MatMul", "Gemm"}, type->second)) {
          described->node = name.str();
          break;
        }
      }
      report.weights.push_back(std::move(*described));
    }
  }

  // Op types in the order their first node appears.
  llvm::StringMap<size_t> opTypeIndex;
  for (const std::string &node : floatGraph.nodes) {
    const std::string &type = floatGraph.opTypeOfNode.lookup(node);
    auto [it, inserted] = opTypeIndex.try_emplace(type, report.opTypes.size());
    if (inserted)
      report.opTypes.push_back({type, 0, 0});
    OpTypeCount &count = report.opTypes[it->second];
    if (floatNodes.contains(node) && !integerNodes.contains(node))
      ++count.floating;
    else
      ++count.integer;
  }

  // The observed tensors, in program order.
  for (Operation *op : ops) {
    auto observe = dyn_cast<ObserveOp>(op);
    if (!observe)
      continue;
    Value value = observe.getInput();
    if (auto dequantize = value.getDefiningOp<DequantizeOp>())
      value = dequantize.getInput();
    TensorReport tensor;
    tensor.name = observe.getTensor().str();
    tensor.node = floatGraph.nodeOfTensor.lookup(tensor.name);
    Operation *writer = value.getDefiningOp();
    tensor.op = writer ? writer->getName().stripDialect().str() : "input";
    describeType(value, tensor);
    report.tensors.push_back(std::move(tensor));
  }
}
