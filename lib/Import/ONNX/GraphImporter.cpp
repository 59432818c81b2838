//===- GraphImporter.cpp - ONNX graphs and nodes to quarc ops -------------===//

#include "GraphImporter.h"
#include "quarc/Dialect/Quarc/IR/TensorNames.h"
#include "OpTable.h"

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <deque>

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::onnx_import;

//===----------------------------------------------------------------------===//
// GraphScope
//===----------------------------------------------------------------------===//

Value GraphScope::lookup(StringRef name) const {
  for (const GraphScope *scope = this; scope; scope = scope->parent) {
    auto it = scope->values.find(name);
    if (it != scope->values.end())
      return it->second;
  }
  return nullptr;
}

LogicalResult GraphScope::define(StringRef name, Value value, Location loc) {
  if (!values.try_emplace(name, value).second)
    return emitError(loc) << "tensor '" << name
                          << "' is defined more than once (by more than one "
                             "node, input or initializer)";
  return success();
}

/// Adds the names of every node input in `graph`, subgraphs included.
static void collectInputNames(const onnx::GraphProto &graph,
                              llvm::StringSet<> &names) {
  for (const onnx::NodeProto &node : graph.node()) {
    for (const std::string &input : node.input())
      names.insert(input);
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        collectInputNames(attr.g(), names);
      for (const onnx::GraphProto &g : attr.graphs())
        collectInputNames(g, names);
    }
  }
}

/// The nodes of `graph` in an order where each comes after the nodes it reads
/// (stable: the file's order where it is valid), or failure on a cycle.
static FailureOr<SmallVector<size_t>>
sortNodes(const onnx::GraphProto &graph, Location loc) {
  size_t count = graph.node_size();
  llvm::StringMap<size_t> producer;
  for (size_t i = 0; i < count; ++i)
    for (const std::string &output : graph.node(i).output())
      if (!output.empty())
        producer.try_emplace(output, i);
  SmallVector<SmallVector<size_t>> users(count);
  SmallVector<size_t> pending(count, 0);
  for (size_t i = 0; i < count; ++i) {
    llvm::StringSet<> inputs;
    const onnx::NodeProto &node = graph.node(i);
    for (const std::string &input : node.input())
      inputs.insert(input);
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.has_g())
        collectInputNames(attr.g(), inputs);
    for (const auto &input : inputs) {
      auto it = producer.find(input.getKey());
      if (it == producer.end())
        continue;
      users[it->second].push_back(i);
      ++pending[i];
    }
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < count; ++i)
    if (pending[i] == 0)
      ready.push_back(i);
  SmallVector<size_t> order;
  while (!ready.empty()) {
    size_t next = ready.front();
    ready.pop_front();
    order.push_back(next);
    for (size_t user : users[next])
      if (--pending[user] == 0)
        ready.push_back(user);
  }
  if (order.size() != count) {
    for (size_t i = 0; i < count; ++i)
      if (pending[i] != 0) {
        const onnx::NodeProto &node = graph.node(i);
        return emitError(loc)
               << "the graph has a cycle through node '"
               << (node.name().empty() ? node.op_type() : node.name()) << "' ("
               << node.op_type() << ")";
      }
  }
  return order;
}

LogicalResult GraphScope::importBody(const onnx::GraphProto &graph,
                                     Block *block) {
  MLIRContext *context = session.context;
  // Subgraph blocks are not attached to an op yet: the builder cannot find
  // the context through them.
  OpBuilder builder(context);
  builder.setInsertionPointToEnd(block);
  Location fileLoc = FileLineColLoc::get(context, session.modelPath, 0, 0);

  for (const onnx::TensorProto &initializer : graph.initializer()) {
    Location loc = NameLoc::get(StringAttr::get(context, initializer.name()),
                                fileLoc);
    FailureOr<ElementsAttr> value =
        importTensor(initializer, "initializer '" + initializer.name() + "'",
                     loc, session.tensorSettings);
    if (failed(value))
      return failure();
    Value constant = ConstantOp::create(builder, loc, value->getType(), *value);
    // An initializer may also be listed as a graph input (IR version < 4);
    // the initializer wins, as in onnxruntime.
    values[initializer.name()] = constant;
  }

  FailureOr<SmallVector<size_t>> order = sortNodes(graph, fileLoc);
  if (failed(order))
    return failure();
  for (size_t index : *order)
    if (failed(importNode(graph.node(index), index, builder)))
      return failure();
  return success();
}

FailureOr<SmallVector<Value>>
GraphScope::getOutputs(const onnx::GraphProto &graph) {
  SmallVector<Value> outputs;
  Location fileLoc = FileLineColLoc::get(session.context, session.modelPath, 0, 0);
  for (const onnx::ValueInfoProto &output : graph.output()) {
    Value value = lookup(output.name());
    if (!value)
      return emitError(fileLoc) << "graph output '" << output.name()
                                << "' is not produced by any node, input or "
                                   "initializer";
    outputs.push_back(value);
  }
  return outputs;
}

/// The prefix of every diagnostic about a node:
/// `node 'NAME' (OpType, domain opset N)`, without the opset when unknown.
static std::string describeNode(StringRef name, const onnx::NodeProto &node,
                                std::optional<int64_t> opset) {
  std::string text = "node '" + name.str() + "' (" + node.op_type();
  if (opset)
    text += ", " + canonicalDomain(node.domain()).str() + " opset " +
            std::to_string(*opset);
  return text + ")";
}

LogicalResult GraphScope::importNode(const onnx::NodeProto &node, size_t index,
                                     OpBuilder &builder) {
  MLIRContext *context = session.context;
  std::string name = node.name().empty()
                         ? node.op_type() + "_" + std::to_string(index)
                         : node.name();
  Location loc = NameLoc::get(
      StringAttr::get(context, name),
      FileLineColLoc::get(context, session.modelPath, 0, 0));
  StringRef domain = canonicalDomain(node.domain());
  auto opset = session.opsets.find(domain);
  if (opset == session.opsets.end())
    return emitError(loc) << describeNode(name, node, std::nullopt)
                          << " uses the domain '" << domain
                          << "', which the model does not import";
  std::string description = describeNode(name, node, opset->second);
  const OnnxOpInfo *info = lookupOnnxOp(domain, node.op_type());
  if (!info) {
    InFlightDiagnostic diag = emitError(loc);
    diag << description << ": op '" << node.op_type() << "' of domain '"
         << domain << "' is not supported by quarc";
    SmallVector<StringRef> known;
    for (const OnnxOpInfo &entry : getOnnxOpTable())
      if (entry.domain == domain)
        known.push_back(entry.opType);
    if (known.empty())
      diag << "; quarc supports no op of domain '" << domain
           << "' (supported domains: ai.onnx, com.microsoft)";
    else
      diag << "; supported ops of '" << domain
           << "': " << llvm::join(known, ", ");
    return diag;
  }
  if (opset->second < info->firstOpset || opset->second > info->lastOpset)
    return emitError(loc) << description << ": quarc supports '"
                          << node.op_type() << "' in " << domain << " opsets "
                          << info->firstOpset << " to " << info->lastOpset
                          << ", the model imports opset " << opset->second;

  NodeContext nodeContext(*this, builder, node, *info, opset->second, loc);
  for (const std::string &input : node.input()) {
    if (input.empty()) {
      nodeContext.operands.push_back(nodeContext.none());
      continue;
    }
    Value value = lookup(input);
    if (!value)
      return nodeContext.error()
             << "input '" << input
             << "' is undefined (not a graph input, an initializer or the "
                "output of another node)";
    nodeContext.operands.push_back(value);
  }
  if (failed(convertAttributes(nodeContext)))
    return failure();
  if (failed(info->hook ? info->hook(nodeContext) : nodeContext.createDefault()))
    return failure();

  for (auto [i, output] : llvm::enumerate(node.output())) {
    if (output.empty())
      continue;
    if (i >= nodeContext.results.size())
      return nodeContext.error() << "output " << i << " ('" << output
                                 << "') is not supported by quarc";
    if (failed(define(output, nodeContext.results[i], loc)))
      return failure();
  }
  nameResults(node, nodeContext.results, cast<NameLoc>(loc));
  return success();
}

/// Attaches the node's output names to the ops this node created that
/// produce them (TensorNames.h). A result that is the value of an earlier
/// node (Identity) keeps that node's name.
void GraphScope::nameResults(const onnx::NodeProto &node,
                             ArrayRef<Value> results, NameLoc loc) {
  llvm::MapVector<Operation *, SmallVector<std::string>> names;
  for (auto [i, output] : llvm::enumerate(node.output())) {
    if (output.empty() || i >= results.size())
      continue;
    auto result = dyn_cast<OpResult>(results[i]);
    if (!result || result.getOwner()->getLoc() != loc)
      continue;
    SmallVector<std::string> &opNames = names[result.getOwner()];
    opNames.resize(result.getOwner()->getNumResults());
    opNames[result.getResultNumber()] = output;
  }
  for (auto &[op, opNames] : names)
    op->setLoc(getLocWithTensorNames(loc, opNames));
}

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

/// True if `block` is (nested) in a region that no op holds yet: a subgraph
/// being imported before its If/Loop op exists.
static bool isInDetachedRegion(Block *block) {
  for (Region *region = block->getParent(); region;) {
    Operation *parent = region->getParentOp();
    if (!parent)
      return true;
    region = parent->getParentRegion();
  }
  return false;
}

InFlightDiagnostic NodeContext::error() {
  InFlightDiagnostic diag = emitError(loc);
  diag << describeNode(cast<NameLoc>(loc).getName().getValue(), node, opset)
       << ": ";
  return diag;
}

FailureOr<Operation *>
NodeContext::create(StringRef opName, ValueRange opOperands,
                    ArrayRef<NamedAttribute> opAttributes,
                    MutableArrayRef<std::unique_ptr<Region>> regions) {
  MLIRContext *context = builder.getContext();
  std::optional<RegisteredOperationName> name =
      RegisteredOperationName::lookup(opName, context);
  if (!name)
    return error() << "internal error: '" << opName << "' is not registered";
  for (const NamedAttribute &attr : opAttributes)
    if (!llvm::is_contained(name->getAttributeNames(), attr.getName()))
      return error() << "attribute '" << attr.getName().getValue()
                     << "' is not supported by quarc";

  // Inference and the verifier report through the context; keep the first
  // message and re-emit it once, prefixed with the node.
  std::string captured;
  Operation *op = nullptr;
  {
    ScopedDiagnosticHandler capture(context, [&](Diagnostic &diag) {
      if (captured.empty() && diag.getSeverity() == DiagnosticSeverity::Error)
        captured = diag.str();
      return success();
    });
    OperationState state(loc, *name);
    state.addOperands(opOperands);
    state.addAttributes(opAttributes);
    name->populateDefaultAttrs(state.attributes);
    for (std::unique_ptr<Region> &region : regions)
      state.addRegion(std::move(region));
    SmallVector<Type> types;
    bool inferred = true;
    if (auto *infer = name->getInterface<InferTypeOpInterface>()) {
      inferred = succeeded(infer->inferReturnTypes(
          context, loc, state.operands,
          state.attributes.getDictionary(context), state.getRawProperties(),
          state.regions, types));
      state.addTypes(types);
    }
    if (inferred) {
      op = builder.create(state);
      // In a detached subgraph the verifier cannot walk the op's ancestors;
      // the module is verified as a whole once imported.
      if (!isInDetachedRegion(op->getBlock()) &&
          failed(verify(op, /*verifyRecursively=*/false))) {
        op->erase();
        op = nullptr;
      }
    }
  }
  if (!op)
    return error() << (captured.empty() ? "cannot build " + opName.str()
                                        : captured);
  return op;
}

LogicalResult NodeContext::createDefault() {
  if (info.numInputs != kVariadic) {
    if (operands.size() > size_t(info.numInputs))
      return error() << "has " << operands.size() << " inputs, quarc's "
                     << info.quarcOp << " takes at most " << info.numInputs;
    while (operands.size() < size_t(info.numInputs))
      operands.push_back(none());
  }
  FailureOr<Operation *> op = create(info.quarcOp, operands, attributes);
  if (failed(op))
    return failure();
  results.assign((*op)->result_begin(), (*op)->result_end());
  return success();
}

Attribute NodeContext::takeAttribute(StringRef name) {
  for (auto *it = attributes.begin(); it != attributes.end(); ++it)
    if (it->getName() == name) {
      Attribute value = it->getValue();
      attributes.erase(it);
      return value;
    }
  return nullptr;
}

void NodeContext::setAttribute(StringRef name, Attribute value) {
  takeAttribute(name);
  attributes.push_back(builder.getNamedAttr(name, value));
}

Value NodeContext::getOperand(unsigned index) const {
  if (index >= operands.size() || isNone(operands[index]))
    return nullptr;
  return operands[index];
}

void NodeContext::setOperand(unsigned index, Value value) {
  while (operands.size() <= index)
    operands.push_back(none());
  operands[index] = value;
}

Value NodeContext::none() {
  return NoneOp::create(builder, loc, builder.getNoneType());
}

Value NodeContext::constant(ElementsAttr value) {
  return ConstantOp::create(builder, loc, value.getType(), value);
}

Value NodeContext::constantI64(ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({int64_t(values.size())},
                                    builder.getI64Type());
  return constant(DenseIntElementsAttr::get(type, values));
}

Value NodeContext::shapeOf(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.hasStaticShape())
    return constantI64(type.getShape());
  auto shapeType = RankedTensorType::get({type.getRank()}, builder.getI64Type());
  return ShapeOp::create(builder, loc, shapeType, value, nullptr, nullptr);
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

/// Attributes that hold an ONNX data type number, imported as a TypeAttr.
static bool isDataTypeAttribute(StringRef name) {
  return name == "to" || name == "output_dtype";
}

LogicalResult onnx_import::convertAttributes(NodeContext &context) {
  OpBuilder &builder = context.builder;
  for (const onnx::AttributeProto &attr : context.node.attribute()) {
    StringRef name = attr.name();
    if (!attr.ref_attr_name().empty())
      return context.error() << "attribute '" << name
                             << "' refers to a function attribute, which "
                                "quarc does not support";
    Attribute value;
    switch (attr.type()) {
    case onnx::AttributeProto::INT:
      if (isDataTypeAttribute(name)) {
        Type type = getElementType(builder.getContext(), int32_t(attr.i()));
        if (!type)
          return context.error() << "attribute '" << name
                                 << "' names the unsupported data type "
                                 << getDataTypeName(int32_t(attr.i()));
        value = TypeAttr::get(type);
      } else {
        value = builder.getI64IntegerAttr(attr.i());
      }
      break;
    case onnx::AttributeProto::FLOAT:
      value = builder.getF32FloatAttr(attr.f());
      break;
    case onnx::AttributeProto::STRING:
      value = builder.getStringAttr(attr.s());
      break;
    case onnx::AttributeProto::INTS:
      value = builder.getDenseI64ArrayAttr(
          SmallVector<int64_t>(attr.ints().begin(), attr.ints().end()));
      break;
    case onnx::AttributeProto::FLOATS:
      value = builder.getDenseF32ArrayAttr(
          SmallVector<float>(attr.floats().begin(), attr.floats().end()));
      break;
    case onnx::AttributeProto::STRINGS:
      value = builder.getStrArrayAttr(
          SmallVector<StringRef>(attr.strings().begin(), attr.strings().end()));
      break;
    case onnx::AttributeProto::TENSOR: {
      FailureOr<ElementsAttr> tensor =
          importTensor(attr.t(), "attribute '" + attr.name() + "'",
                       context.loc, context.scope.getSession().tensorSettings);
      if (failed(tensor))
        return failure();
      value = *tensor;
      break;
    }
    case onnx::AttributeProto::GRAPH:
      continue; // Imported by the If/Loop hooks.
    default:
      return context.error() << "attribute '" << name << "' has a type ("
                             << onnx::AttributeProto::AttributeType_Name(
                                    attr.type())
                             << ") that quarc does not support";
    }
    context.attributes.push_back(builder.getNamedAttr(name, value));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Subgraphs
//===----------------------------------------------------------------------===//

FailureOr<std::unique_ptr<Region>>
NodeContext::importSubgraph(StringRef name, TypeRange argumentTypes) {
  const onnx::GraphProto *graph = nullptr;
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name && attr.has_g())
      graph = &attr.g();
  if (!graph)
    return error() << "needs the graph attribute '" << name << "'";
  if (size_t(graph->input_size()) != argumentTypes.size())
    return error() << "'" << name << "' takes " << graph->input_size()
                   << " inputs, expected " << argumentTypes.size();

  auto region = std::make_unique<Region>();
  Block *block = new Block();
  region->push_back(block);
  GraphScope subgraph(scope.getSession(), &scope);
  for (auto [input, type] : llvm::zip(graph->input(), argumentTypes)) {
    Value argument = block->addArgument(type, loc);
    if (failed(subgraph.define(input.name(), argument, loc)))
      return failure();
  }
  if (failed(subgraph.importBody(*graph, block)))
    return failure();
  FailureOr<SmallVector<Value>> outputs = subgraph.getOutputs(*graph);
  if (failed(outputs))
    return failure();
  OpBuilder yieldBuilder(builder.getContext());
  yieldBuilder.setInsertionPointToEnd(block);
  YieldOp::create(yieldBuilder, loc, *outputs);
  return region;
}
