//===- GraphExporter.cpp - quarc functions to ONNX graphs -----------------===//
//
// One pass over the function body in order (SSA order is a topological
// order, as ONNX wants):
//
//   quarc.none          no node; its uses are absent inputs ("")
//   quarc.constant      an initializer, named after its location (unless
//                       nothing reads it)
//   quarc.storage_cast  no node: ONNX sees quantized tensors as their
//                       integer storage, so the cast's result is its input
//   quarc.quantize      QuantizeLinear, scale and zero point initializers
//   quarc.dequantize    DequantizeLinear, the same initializers
//   quarc.if/loop       If/Loop with the regions as subgraphs
//   any other quarc op  the ONNX op it mirrors (the importer's op table),
//                       operands in order, attributes converted back
//
// Attributes equal to the op's default are left out, as the importer filled
// them in. The module's quarc.onnx_metadata becomes the model's metadata_props.
// Values get their ONNX tensor name where they have one; new tensors
// (quantized, dequantized, scales) are named after the tensor they come from,
// as onnxruntime's quantizer does (x_quantized, x_scale, ...).
//
//===----------------------------------------------------------------------===//

#include "GraphExporter.h"
#include "TensorExport.h"

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "quarc/Import/ONNX/ImportONNX.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <map>

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::onnx_export;

namespace {

constexpr StringLiteral kDefaultDomain = "ai.onnx";

/// The ONNX node name an op's location carries: the first NameLoc, through
/// the first location of fused locations (the one a rewrite replaced).
StringRef getNodeName(Location loc) {
  while (true) {
    if (auto name = dyn_cast<NameLoc>(loc))
      return name.getName().getValue();
    if (auto fused = dyn_cast<FusedLoc>(loc)) {
      if (fused.getLocations().empty())
        return "";
      loc = fused.getLocations().front();
      continue;
    }
    if (auto callSite = dyn_cast<CallSiteLoc>(loc)) {
      loc = callSite.getCallee();
      continue;
    }
    return "";
  }
}

/// The name of the tensor `value` stands for: its ONNX tensor name, or for
/// a value located at a bare name (an initializer, and what quarc-quantize
/// derives from one) that name; "" if none.
std::string getValueName(Value value) {
  if (std::optional<StringRef> name = getTensorName(value))
    return name->str();
  if (auto result = dyn_cast<OpResult>(value))
    if (auto name = dyn_cast<NameLoc>(result.getOwner()->getLoc()))
      if (!isa<FusedLoc>(name.getChildLoc()))
        return name.getName().str();
  return "";
}

/// `value` with the storage casts in front of it looked through: ONNX has
/// one tensor where quarc has the quantized and the integer view of it.
Value lookThroughStorageCasts(Value value) {
  while (auto cast = value.getDefiningOp<StorageCastOp>())
    value = cast.getInput();
  return value;
}

/// State shared by the graphs of one model: names are unique model-wide
/// (subgraphs see the enclosing graphs' names and may not shadow them).
struct ModelState {
  const OnnxExportOptions &options;
  llvm::StringSet<> tensorNames;
  llvm::StringSet<> nodeNames;
  /// The ONNX name of every value exported so far ("" for none).
  llvm::DenseMap<Value, std::string> names;
  /// Names chosen ahead for values the main graph returns.
  llvm::DenseMap<Value, std::string> outputNames;
  /// Opset per domain used.
  std::map<std::string, int64_t> opsets;

  explicit ModelState(const OnnxExportOptions &options) : options(options) {}

  static std::string unique(llvm::StringSet<> &taken, StringRef base) {
    std::string name = base.empty() ? std::string("tensor") : base.str();
    if (taken.insert(name).second)
      return name;
    for (unsigned i = 1;; ++i) {
      std::string candidate = name + "_" + std::to_string(i);
      if (taken.insert(candidate).second)
        return candidate;
    }
  }
  std::string uniqueTensorName(StringRef base) {
    return unique(tensorNames, base);
  }
  std::string uniqueNodeName(StringRef base) { return unique(nodeNames, base); }
};

class GraphExporter {
public:
  GraphExporter(ModelState &state, onnx::GraphProto &graph)
      : state(state), graph(graph) {}

  LogicalResult exportFunction(func::FuncOp function, StringRef graphName);
  LogicalResult exportRegion(Region &region, StringRef graphName);

private:
  ModelState &state;
  onnx::GraphProto &graph;
  /// Scale and zero-point initializers by (tensor name, quantized type).
  std::map<std::pair<std::string, const void *>,
           std::pair<std::string, std::string>>
      quantParamInitializers;

  LogicalResult exportBlock(Block &block);
  LogicalResult exportOp(Operation *op);
  LogicalResult exportConstant(ConstantOp op);
  LogicalResult exportQuantize(QuantizeOp op);
  LogicalResult exportDequantize(DequantizeOp op);
  LogicalResult exportGenericOp(Operation *op);

  /// The ONNX name of an exported value (set when its producer was).
  StringRef nameOf(Value value) {
    auto it = state.names.find(value);
    assert(it != state.names.end() && "values are exported in SSA order");
    return it->second;
  }
  /// Names `value`: the name chosen ahead for a returned value, else
  /// `preferred` if no tensor has it yet, else `fallback` made unique.
  std::string nameResult(Value value, StringRef preferred, StringRef fallback);

  onnx::NodeProto *addNode(StringRef opType, StringRef nodeName,
                           StringRef domain = kDefaultDomain);
  LogicalResult addValueInfo(onnx::ValueInfoProto *info, StringRef name,
                             Type type, Location loc);
  FailureOr<std::pair<std::string, std::string>>
  getQuantParamInitializers(StringRef tensorName, quant::QuantizedType type,
                            Location loc);
  void addQuantAttributes(onnx::NodeProto *node, const QuantParams &params);
  LogicalResult exportAttribute(Operation *op, NamedAttribute attribute,
                                onnx::AttributeProto &out);
  /// How a graph output is named: after the value, or by an Identity.
  struct OutputPlan {
    std::string name;
    bool needsIdentity;
  };
  LogicalResult exportOutputs(ArrayRef<Value> values,
                              ArrayRef<OutputPlan> plans, StringRef graphName);
};

} // namespace

//===----------------------------------------------------------------------===//
// Graphs
//===----------------------------------------------------------------------===//

onnx::NodeProto *GraphExporter::addNode(StringRef opType, StringRef nodeName,
                                        StringRef domain) {
  onnx::NodeProto *node = graph.add_node();
  node->set_op_type(opType.str());
  node->set_name(state.uniqueNodeName(nodeName.empty() ? opType : nodeName));
  if (domain != kDefaultDomain)
    node->set_domain(domain.str());
  return node;
}

LogicalResult GraphExporter::addValueInfo(onnx::ValueInfoProto *info,
                                          StringRef name, Type type,
                                          Location loc) {
  info->set_name(name.str());
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return emitError(loc) << "tensor '" << name << "' has the type " << type
                          << "; ONNX graph inputs and outputs must be ranked "
                             "tensors here";
  return exportTensorType(tensorType, name, *info->mutable_type(), loc);
}

std::string GraphExporter::nameResult(Value value, StringRef preferred,
                                      StringRef fallback) {
  auto chosen = state.outputNames.find(value);
  std::string name;
  if (chosen != state.outputNames.end())
    name = chosen->second;
  else if (!preferred.empty() && state.tensorNames.insert(preferred).second)
    name = preferred.str();
  else
    name = state.uniqueTensorName(fallback);
  state.names[value] = name;
  return name;
}

/// True if `value` is the result of a node of the graph of `body`.
static bool isNodeOutput(Value value, Block &body) {
  Operation *producer = value.getDefiningOp();
  return producer && producer->getBlock() == &body &&
         !isa<ConstantOp, NoneOp>(producer);
}

LogicalResult GraphExporter::exportFunction(func::FuncOp function,
                                            StringRef graphName) {
  graph.set_name(graphName.str());
  Block &body = function.getBody().front();
  // Graph inputs keep their names; outputs get theirs before any node
  // can take them.
  for (BlockArgument argument : body.getArguments()) {
    auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                      "quarc.name");
    std::string unique = state.uniqueTensorName(
        name && !name.getValue().empty()
            ? name.getValue().str()
            : "input_" + std::to_string(argument.getArgNumber()));
    state.names[argument] = unique;
    if (failed(addValueInfo(graph.add_input(), unique, argument.getType(),
                            argument.getLoc())))
      return failure();
  }
  // A returned value that a node of this graph produces is named after its
  // output; an input returned under its own name passes through; anything
  // else (initializers, inputs under another name, a value returned twice)
  // is copied to the output by an Identity node.
  Operation *terminator = body.getTerminator();
  SmallVector<OutputPlan> plans;
  llvm::StringSet<> outputs;
  for (auto [i, value] : llvm::enumerate(terminator->getOperands())) {
    auto attr = function.getResultAttrOfType<StringAttr>(i, "quarc.name");
    std::string desired = attr && !attr.getValue().empty()
                              ? attr.getValue().str()
                              : "output_" + std::to_string(i);
    Value root = lookThroughStorageCasts(value);
    auto input = state.names.find(root);
    if (isa<BlockArgument>(root) && input != state.names.end() &&
        input->second == desired && outputs.insert(desired).second) {
      plans.push_back({desired, false});
      continue;
    }
    if (isNodeOutput(root, body) && !state.outputNames.contains(root) &&
        state.tensorNames.insert(desired).second) {
      state.outputNames[root] = desired;
      outputs.insert(desired);
      plans.push_back({desired, false});
      continue;
    }
    std::string name = state.uniqueTensorName(desired);
    outputs.insert(name);
    plans.push_back({name, true});
  }
  if (failed(exportBlock(body)))
    return failure();
  return exportOutputs(llvm::to_vector(terminator->getOperands()), plans,
                       graphName);
}

LogicalResult GraphExporter::exportRegion(Region &region, StringRef graphName) {
  graph.set_name(graphName.str());
  Block &body = region.front();
  for (BlockArgument argument : body.getArguments()) {
    std::string name = state.uniqueTensorName(
        (graphName + "_input_" + Twine(argument.getArgNumber())).str());
    state.names[argument] = name;
    if (failed(addValueInfo(graph.add_input(), name, argument.getType(),
                            argument.getLoc())))
      return failure();
  }
  if (failed(exportBlock(body)))
    return failure();
  // Subgraph outputs must be outputs of the subgraph's nodes (onnxruntime
  // refuses outer values and inputs there): others go through an Identity.
  Operation *terminator = body.getTerminator();
  SmallVector<OutputPlan> plans;
  llvm::StringSet<> outputs;
  for (auto [i, value] : llvm::enumerate(terminator->getOperands())) {
    StringRef name = nameOf(value);
    if (isNodeOutput(lookThroughStorageCasts(value), body) &&
        outputs.insert(name).second) {
      plans.push_back({name.str(), false});
      continue;
    }
    plans.push_back(
        {state.uniqueTensorName((graphName + "_output_" + Twine(i)).str()),
         true});
  }
  return exportOutputs(llvm::to_vector(terminator->getOperands()), plans,
                       graphName);
}

LogicalResult GraphExporter::exportOutputs(ArrayRef<Value> values,
                                           ArrayRef<OutputPlan> plans,
                                           StringRef graphName) {
  for (auto [value, plan] : llvm::zip(values, plans)) {
    if (plan.needsIdentity) {
      onnx::NodeProto *identity =
          addNode("Identity", (graphName + "_" + plan.name).str());
      identity->add_input(nameOf(value).str());
      identity->add_output(plan.name);
    }
    if (failed(addValueInfo(graph.add_output(), plan.name, value.getType(),
                            lookThroughStorageCasts(value).getLoc())))
      return failure();
  }
  return success();
}

LogicalResult GraphExporter::exportBlock(Block &block) {
  for (Operation &op : block.without_terminator())
    if (failed(exportOp(&op)))
      return failure();
  return success();
}

LogicalResult GraphExporter::exportOp(Operation *op) {
  if (isa<NoneOp>(op)) {
    state.names[op->getResult(0)] = "";
    return success();
  }
  if (auto constant = dyn_cast<ConstantOp>(op))
    return exportConstant(constant);
  if (auto cast = dyn_cast<StorageCastOp>(op)) {
    state.names[cast.getResult()] = nameOf(cast.getInput()).str();
    return success();
  }
  if (auto quantize = dyn_cast<QuantizeOp>(op))
    return exportQuantize(quantize);
  if (auto dequantize = dyn_cast<DequantizeOp>(op))
    return exportDequantize(dequantize);
  return exportGenericOp(op);
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

LogicalResult GraphExporter::exportConstant(ConstantOp op) {
  Value value = op.getResult();
  // A constant nothing reads (a float weight quarc-quantize replaced by its
  // integers) would only make the model larger.
  if (value.use_empty())
    return success();
  std::string base = getValueName(value);
  if (base.empty())
    base = "constant";
  // The integer data of a quantized tensor, read through storage casts.
  if (!value.use_empty() && llvm::all_of(value.getUsers(), [](Operation *user) {
        return isa<StorageCastOp>(user);
      }))
    base += "_quantized";
  std::string name = nameResult(value, base, base);
  auto type = cast<RankedTensorType>(value.getType());
  int32_t dataType = getOnnxDataType(type.getElementType());
  if (dataType == kUndefined)
    return op.emitError() << "constant '" << name << "': the element type "
                          << type.getElementType() << " has no ONNX data type";
  onnx::TensorProto *tensor = graph.add_initializer();
  tensor->set_name(name);
  return exportTensor(op.getValue(), dataType,
                      state.options.typedFieldElementLimit, *tensor,
                      op.getLoc());
}

//===----------------------------------------------------------------------===//
// Quantize, dequantize
//===----------------------------------------------------------------------===//

/// The quantized element type of a tensor type, or null.
static quant::QuantizedType getQuantizedElement(Type type) {
  return dyn_cast<quant::QuantizedType>(getElementTypeOrSelf(type));
}

FailureOr<std::pair<std::string, std::string>>
GraphExporter::getQuantParamInitializers(StringRef tensorName,
                                         quant::QuantizedType type,
                                         Location loc) {
  auto key = std::make_pair(tensorName.str(), type.getAsOpaquePointer());
  auto cached = quantParamInitializers.find(key);
  if (cached != quantParamInitializers.end())
    return cached->second;

  FailureOr<QuantParams> params = getQuantParams(loc, type);
  if (failed(params))
    return failure();
  auto expressed = dyn_cast<FloatType>(type.getExpressedType());
  int32_t scaleType = expressed ? getOnnxDataType(expressed) : kUndefined;
  if (scaleType != kFloat && scaleType != kFloat16 && scaleType != kBFloat16)
    return emitError(loc) << "quantized type " << type
                          << ": ONNX scales are float, float16 or bfloat16, "
                             "not "
                          << type.getExpressedType();
  MLIRContext *context = loc.getContext();
  SmallVector<int64_t> shape;
  switch (params->granularity) {
  case Granularity::PerTensor:
    break;
  case Granularity::PerChannel:
    shape.push_back(params->scales.size());
    break;
  case Granularity::PerGroup:
    shape.assign(params->groupShape.begin(), params->groupShape.end());
    break;
  }

  SmallVector<APFloat> scales;
  for (double scale : params->scales) {
    APFloat value(scale);
    bool losesInfo = false;
    value.convert(expressed.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &losesInfo);
    if (losesInfo)
      return emitError(loc)
             << "quantized type " << type << ": the scale " << scale
             << " is not exactly a " << expressed << " value";
    scales.push_back(value);
  }
  auto integerType = IntegerType::get(context, params->storageBits,
                                      params->isSigned ? IntegerType::Signless
                                                       : IntegerType::Unsigned);
  SmallVector<APInt> zeroPoints;
  for (int64_t zeroPoint : params->zeroPoints)
    zeroPoints.push_back(
        APInt(params->storageBits, uint64_t(zeroPoint), params->isSigned));
  auto scaleAttr =
      DenseElementsAttr::get(RankedTensorType::get(shape, expressed), scales);
  auto zeroPointAttr = DenseElementsAttr::get(
      RankedTensorType::get(shape, integerType), zeroPoints);

  std::string scaleName = state.uniqueTensorName(tensorName.str() + "_scale");
  std::string zeroPointName =
      state.uniqueTensorName(tensorName.str() + "_zero_point");
  onnx::TensorProto *scaleTensor = graph.add_initializer();
  scaleTensor->set_name(scaleName);
  onnx::TensorProto *zeroPointTensor = graph.add_initializer();
  zeroPointTensor->set_name(zeroPointName);
  if (failed(exportTensor(scaleAttr, scaleType,
                          state.options.typedFieldElementLimit, *scaleTensor,
                          loc)) ||
      failed(exportTensor(zeroPointAttr, getOnnxDataType(type),
                          state.options.typedFieldElementLimit,
                          *zeroPointTensor, loc)))
    return failure();
  return quantParamInitializers[key] = {scaleName, zeroPointName};
}

void GraphExporter::addQuantAttributes(onnx::NodeProto *node,
                                       const QuantParams &params) {
  auto addInt = [&](StringRef name, int64_t value) {
    onnx::AttributeProto *attribute = node->add_attribute();
    attribute->set_name(name.str());
    attribute->set_type(onnx::AttributeProto::INT);
    attribute->set_i(value);
  };
  if (params.granularity != Granularity::PerTensor)
    addInt("axis", params.axis);
  if (params.granularity == Granularity::PerGroup)
    addInt("block_size", params.groupSize);
}

/// ONNX's QuantizeLinear produces 4-, 8- and 16-bit integers,
/// DequantizeLinear also reads int32.
static LogicalResult checkQuantStorage(Operation *op, quant::QuantizedType type,
                                       bool allowInt32) {
  int32_t dataType = getOnnxDataType(type);
  bool supported = dataType == kInt8 || dataType == kUint8 ||
                   dataType == kInt16 || dataType == kUint16 ||
                   dataType == kInt4 || dataType == kUint4 ||
                   (allowInt32 && dataType == kInt32);
  if (supported)
    return success();
  return op->emitError() << "quantized type " << type << ": ONNX "
                         << (allowInt32 ? "DequantizeLinear" : "QuantizeLinear")
                         << " has no " << type.getStorageTypeIntegralWidth()
                         << "-bit storage type";
}

LogicalResult GraphExporter::exportQuantize(QuantizeOp op) {
  quant::QuantizedType type = getQuantizedElement(op.getType());
  if (!type || failed(checkQuantStorage(op, type, /*allowInt32=*/false)))
    return failure();
  FailureOr<QuantParams> params = getQuantParams(op.getLoc(), type);
  if (failed(params))
    return failure();
  std::string input = nameOf(op.getInput()).str();
  auto initializers = getQuantParamInitializers(input, type, op.getLoc());
  if (failed(initializers))
    return failure();

  onnx::NodeProto *node = addNode("QuantizeLinear", input + "_QuantizeLinear");
  node->add_input(input);
  node->add_input(initializers->first);
  node->add_input(initializers->second);
  addQuantAttributes(node, *params);

  // QuantizeLinear saturates to the storage type's whole range; a narrower
  // range (s8 narrow: [-127, 127]) needs a Clip of the integers after it.
  unsigned bits = params->storageBits;
  int64_t typeMin = params->isSigned ? -(int64_t(1) << (bits - 1)) : 0;
  int64_t typeMax = params->isSigned ? (int64_t(1) << (bits - 1)) - 1
                                     : (int64_t(1) << bits) - 1;
  if (params->qmin == typeMin && params->qmax == typeMax) {
    node->add_output(nameResult(op.getResult(), "", input + "_quantized"));
    return success();
  }
  if (bits != 8)
    return op.emitError() << "quantized type " << type
                          << ": a range narrower than the storage type's is "
                             "exported as a Clip, which ONNX runtimes have "
                             "for 8-bit integers only";
  std::string full = state.uniqueTensorName(input + "_quantized_full_range");
  node->add_output(full);
  auto integerType = IntegerType::get(op.getContext(), bits,
                                      params->isSigned ? IntegerType::Signless
                                                       : IntegerType::Unsigned);
  std::string bounds[2];
  int64_t values[2] = {params->qmin, params->qmax};
  for (auto [i, bound] : llvm::enumerate(values)) {
    bounds[i] = state.uniqueTensorName(input + (i == 0 ? "_qmin" : "_qmax"));
    onnx::TensorProto *tensor = graph.add_initializer();
    tensor->set_name(bounds[i]);
    auto attr =
        DenseElementsAttr::get(RankedTensorType::get({}, integerType),
                               APInt(bits, uint64_t(bound), params->isSigned));
    if (failed(exportTensor(attr, getOnnxDataType(type),
                            state.options.typedFieldElementLimit, *tensor,
                            op.getLoc())))
      return failure();
  }
  onnx::NodeProto *clip = addNode("Clip", input + "_Clip");
  clip->add_input(full);
  clip->add_input(bounds[0]);
  clip->add_input(bounds[1]);
  clip->add_output(nameResult(op.getResult(), "", input + "_quantized"));
  return success();
}

LogicalResult GraphExporter::exportDequantize(DequantizeOp op) {
  quant::QuantizedType type = getQuantizedElement(op.getInput().getType());
  if (!type || failed(checkQuantStorage(op, type, /*allowInt32=*/true)))
    return failure();
  FailureOr<QuantParams> params = getQuantParams(op.getLoc(), type);
  if (failed(params))
    return failure();
  // The float tensor this stands for: the location's (a weight keeps its
  // initializer's name), or the one that was quantized.
  std::string tensor = getValueName(op.getResult());
  if (tensor.empty()) {
    Value source = lookThroughStorageCasts(op.getInput());
    if (auto quantize = source.getDefiningOp<QuantizeOp>())
      tensor = nameOf(quantize.getInput()).str();
    else
      tensor = nameOf(op.getInput()).str();
  }
  auto initializers = getQuantParamInitializers(tensor, type, op.getLoc());
  if (failed(initializers))
    return failure();
  onnx::NodeProto *node =
      addNode("DequantizeLinear", tensor + "_DequantizeLinear");
  node->add_input(nameOf(op.getInput()).str());
  node->add_input(initializers->first);
  node->add_input(initializers->second);
  addQuantAttributes(node, *params);
  node->add_output(nameResult(op.getResult(), tensor, tensor + "_dequantized"));
  return success();
}

//===----------------------------------------------------------------------===//
// Ops mirroring ONNX ops
//===----------------------------------------------------------------------===//

LogicalResult GraphExporter::exportAttribute(Operation *op,
                                             NamedAttribute attribute,
                                             onnx::AttributeProto &out) {
  StringRef name = attribute.getName().getValue();
  Attribute value = attribute.getValue();
  out.set_name(name.str());
  if (auto integer = dyn_cast<IntegerAttr>(value)) {
    out.set_type(onnx::AttributeProto::INT);
    out.set_i(integer.getType().isInteger(1)
                  ? integer.getValue().getZExtValue()
                  : integer.getValue().getSExtValue());
    return success();
  }
  if (auto floating = dyn_cast<FloatAttr>(value)) {
    out.set_type(onnx::AttributeProto::FLOAT);
    out.set_f(float(floating.getValueAsDouble()));
    return success();
  }
  if (auto string = dyn_cast<StringAttr>(value)) {
    out.set_type(onnx::AttributeProto::STRING);
    out.set_s(string.getValue().str());
    return success();
  }
  if (auto ints = dyn_cast<DenseI64ArrayAttr>(value)) {
    out.set_type(onnx::AttributeProto::INTS);
    for (int64_t i : ints.asArrayRef())
      out.add_ints(i);
    return success();
  }
  if (auto floats = dyn_cast<DenseF32ArrayAttr>(value)) {
    out.set_type(onnx::AttributeProto::FLOATS);
    for (float f : floats.asArrayRef())
      out.add_floats(f);
    return success();
  }
  if (auto array = dyn_cast<ArrayAttr>(value)) {
    if (llvm::all_of(array, [](Attribute a) { return isa<StringAttr>(a); })) {
      out.set_type(onnx::AttributeProto::STRINGS);
      for (Attribute a : array)
        out.add_strings(cast<StringAttr>(a).getValue().str());
      return success();
    }
  } else if (auto type = dyn_cast<TypeAttr>(value)) {
    int32_t dataType = getOnnxDataType(type.getValue());
    if (dataType == kUndefined)
      return op->emitError()
             << "attribute '" << name << "': " << type.getValue()
             << " has no ONNX data type";
    out.set_type(onnx::AttributeProto::INT);
    out.set_i(dataType);
    return success();
  } else if (auto elements = dyn_cast<ElementsAttr>(value)) {
    int32_t dataType = getOnnxDataType(elements.getElementType());
    if (dataType == kUndefined)
      return op->emitError()
             << "attribute '" << name << "': " << elements.getElementType()
             << " has no ONNX data type";
    out.set_type(onnx::AttributeProto::TENSOR);
    return exportTensor(elements, dataType,
                        state.options.typedFieldElementLimit, *out.mutable_t(),
                        op->getLoc());
  }
  return op->emitError() << "attribute '" << name << "' (" << value
                         << ") has no ONNX attribute type";
}

/// Why `op` has no ONNX equivalent, for ops that are quarc's own.
static StringRef getNoExportReason(Operation *op) {
  if (isa<QConvOp, QMatMulOp, QAddOp, QMulOp, QAveragePoolOp, LookupTableOp,
          RequantizeOp>(op))
    return "is quarc's integer form of a quantized op (made by "
           "quarc-fold-qdq) and has no ONNX equivalent; export the QDQ form, "
           "before quarc-fold-qdq";
  if (isa<QMatMulDynamicOp>(op))
    return "is quarc's dynamically quantized matrix product (made by "
           "quarc-quantize-dynamic) and has no ONNX equivalent";
  if (isa<ObserveOp>(op))
    return "is a calibration observer and has no ONNX equivalent";
  return "has no ONNX equivalent (only quarc ops that mirror an ONNX op, and "
         "the quantize/dequantize/storage_cast of the QDQ form, export)";
}

/// The GRAPH attributes an op's regions become.
static ArrayRef<StringLiteral> getSubgraphAttributeNames(Operation *op) {
  static const StringLiteral ifNames[] = {"then_branch", "else_branch"};
  static const StringLiteral loopNames[] = {"body"};
  if (isa<IfOp>(op))
    return ifNames;
  if (isa<LoopOp>(op))
    return loopNames;
  return {};
}

LogicalResult GraphExporter::exportGenericOp(Operation *op) {
  StringRef nodeName = getNodeName(op->getLoc());
  auto describe = [&](InFlightDiagnostic diag) -> InFlightDiagnostic {
    if (!nodeName.empty())
      diag << "node '" << nodeName << "' ";
    diag << "('" << op->getName() << "') ";
    return diag;
  };
  std::optional<SupportedOnnxOp> info =
      op->getDialect() && isa<QuarcDialect>(op->getDialect())
          ? getOnnxOpForQuarcOp(op->getName().getStringRef())
          : std::nullopt;
  if (!info)
    return describe(op->emitError()) << getNoExportReason(op);
  ArrayRef<StringLiteral> subgraphNames = getSubgraphAttributeNames(op);
  if (subgraphNames.size() != op->getNumRegions())
    return describe(op->emitError()) << "has regions that cannot be exported";

  std::string domain = info->domain.str();
  state.opsets[domain] =
      domain == kDefaultDomain ? getNewestOnnxOpset() : info->lastOpset;
  onnx::NodeProto *node = addNode(info->opType, nodeName, domain);
  for (Value operand : op->getOperands())
    node->add_input(isNone(operand) ? "" : nameOf(operand).str());
  // Absent inputs at the end are left out.
  while (node->input_size() > 0 && node->input(node->input_size() - 1).empty())
    node->mutable_input()->RemoveLast();

  // Attributes: the op's own (not discardable ones), except those equal to
  // the default the importer would fill in.
  NamedAttrList defaults;
  if (std::optional<RegisteredOperationName> registered =
          op->getRegisteredInfo()) {
    registered->populateDefaultAttrs(defaults);
    for (NamedAttribute attribute : op->getAttrs()) {
      if (!llvm::is_contained(registered->getAttributeNames(),
                              attribute.getName()) ||
          defaults.get(attribute.getName()) == attribute.getValue())
        continue;
      if (failed(exportAttribute(op, attribute, *node->add_attribute())))
        return failure();
    }
  }
  for (auto [region, name] : llvm::zip(op->getRegions(), subgraphNames)) {
    onnx::AttributeProto *attribute = node->add_attribute();
    attribute->set_name(name.str());
    attribute->set_type(onnx::AttributeProto::GRAPH);
    GraphExporter subgraph(state, *attribute->mutable_g());
    if (failed(
            subgraph.exportRegion(region, (node->name() + "_" + name).str())))
      return failure();
  }

  for (OpResult result : op->getResults()) {
    // The tensor's name (made unique), else one after the node's.
    std::string name = getTensorName(result).value_or("").str();
    if (name.empty()) {
      name = node->name() + "_output";
      if (op->getNumResults() > 1)
        name += "_" + std::to_string(result.getResultNumber());
    }
    node->add_output(nameResult(result, name, name));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

/// The function to export: the module's one public function with a body.
static FailureOr<func::FuncOp> getModelFunction(ModuleOp module) {
  func::FuncOp found;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal() || !function.isPublic())
      continue;
    if (found)
      return module.emitError()
             << "the module has several public functions ('"
             << found.getSymName() << "', '" << function.getSymName()
             << "'); an ONNX model is one graph";
    found = function;
  }
  if (!found)
    return module.emitError("the module has no public function with a body "
                            "to export as the ONNX graph");
  if (!found.getBody().hasOneBlock())
    return found.emitError("a function of several blocks cannot be an ONNX "
                           "graph");
  return found;
}

LogicalResult onnx_export::buildOnnxModel(ModuleOp module,
                                          const OnnxExportOptions &options,
                                          onnx::ModelProto &model) {
  FailureOr<func::FuncOp> function = getModelFunction(module);
  if (failed(function))
    return failure();
  ModelState state(options);
  state.opsets[kDefaultDomain.str()] = getNewestOnnxOpset();
  StringRef graphName = function->getSymName();
  if (auto name = module->getAttrOfType<StringAttr>("quarc.graph_name"))
    graphName = name.getValue();
  GraphExporter exporter(state, *model.mutable_graph());
  if (failed(exporter.exportFunction(*function, graphName)))
    return failure();

  model.set_ir_version(getExportIrVersion());
  model.set_producer_name(options.producerName);
  if (auto metadata = module->getAttrOfType<DictionaryAttr>(kOnnxMetadataAttr))
    for (NamedAttribute entry : metadata) {
      auto value = dyn_cast<StringAttr>(entry.getValue());
      if (!value)
        return module.emitError()
               << "'" << kOnnxMetadataAttr << "' entry '"
               << entry.getName().getValue() << "' is not a string";
      onnx::StringStringEntryProto *prop = model.add_metadata_props();
      prop->set_key(entry.getName().str());
      prop->set_value(value.getValue().str());
    }
  for (const auto &[domain, version] : state.opsets) {
    onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain(domain == kDefaultDomain ? "" : domain);
    opset->set_version(version);
  }
  return success();
}
