//===- ImportONNX.cpp - the importer's entry points -----------------------===//

#include "quarc/Import/ONNX/ImportONNX.h"

#include "GraphImporter.h"
#include "ModelLoader.h"
#include "OpTable.h"

#include "quarc/Dialect/Quarc/IR/QuarcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::onnx_import;

void mlir::quarc::registerOnnxImportDialects(DialectRegistry &registry) {
  registry.insert<QuarcDialect, func::FuncDialect, quant::QuantDialect>();
}

/// Checks the declared opsets: ai.onnx within quarc's range, com.microsoft at
/// version 1; other domains are only an error if a node uses them.
static LogicalResult readOpsets(const onnx::ModelProto &model, Location loc,
                                ImportSession &session) {
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    session.opsets[canonicalDomain(opset.domain())] = opset.version();
  auto onnxOpset = session.opsets.find("ai.onnx");
  if (onnxOpset == session.opsets.end())
    return emitError(loc) << "the model does not import the ai.onnx opset";
  if (onnxOpset->second < kMinOnnxOpset || onnxOpset->second > kMaxOnnxOpset)
    return emitError(loc) << "the model imports ai.onnx opset "
                          << onnxOpset->second << "; quarc supports opsets "
                          << kMinOnnxOpset << " to " << kMaxOnnxOpset;
  return success();
}

/// The tensor type of a graph input from its ValueInfoProto.
static FailureOr<RankedTensorType> getInputType(const onnx::ValueInfoProto &info,
                                                Location loc) {
  if (!info.type().has_tensor_type())
    return emitError(loc) << "graph input '" << info.name()
                          << "' is not a tensor (sequence, map and optional "
                             "inputs are not supported)";
  const onnx::TypeProto::Tensor &tensor = info.type().tensor_type();
  Type element = getElementType(loc.getContext(), tensor.elem_type());
  if (!element)
    return emitError(loc) << "graph input '" << info.name()
                          << "' has the unsupported data type "
                          << getDataTypeName(tensor.elem_type());
  if (!tensor.has_shape())
    return emitError(loc) << "graph input '" << info.name()
                          << "' has no shape; quarc needs the rank of every "
                             "input (dims may be symbolic)";
  SmallVector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension &dim : tensor.shape().dim()) {
    // Some exporters (PaddlePaddle) write -1 for a dynamic dim.
    if (dim.has_dim_value() && dim.dim_value() < -1)
      return emitError(loc) << "graph input '" << info.name()
                            << "' has a negative dim " << dim.dim_value();
    bool isStatic = dim.has_dim_value() && dim.dim_value() >= 0;
    shape.push_back(isStatic ? dim.dim_value() : ShapedType::kDynamic);
  }
  return RankedTensorType::get(shape, element);
}

OwningOpRef<ModuleOp>
mlir::quarc::importOnnxModel(StringRef bytes, StringRef modelPath,
                             MLIRContext *context,
                             const OnnxImportOptions &options) {
  DialectRegistry registry;
  registerOnnxImportDialects(registry);
  context->appendDialectRegistry(registry);
  context->loadAllAvailableDialects();

  Location fileLoc = FileLineColLoc::get(context, modelPath, 0, 0);
  onnx::ModelProto model;
  if (failed(parseModel(bytes, modelPath, fileLoc, model)))
    return nullptr;

  ImportSession session{context, modelPath.str(), {}, {}};
  SmallString<256> modelDir = llvm::sys::path::parent_path(modelPath);
  if (modelDir.empty())
    modelDir = ".";
  session.tensorSettings.modelDir = modelDir;
  session.tensorSettings.inlineElementLimit = options.inlineElementLimit;
  if (failed(readOpsets(model, fileLoc, session)))
    return nullptr;

  const onnx::GraphProto &graph = model.graph();
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  OpBuilder builder(context);
  (*module)->setAttr("quarc.onnx_opset",
                     builder.getI64IntegerAttr(session.opsets["ai.onnx"]));
  if (!graph.name().empty())
    (*module)->setAttr("quarc.graph_name", builder.getStringAttr(graph.name()));
  // The model's metadata (PP-OCR's recognizer keeps its character list there),
  // for the exporter to write back.
  if (model.metadata_props_size() > 0) {
    NamedAttrList metadata;
    for (const onnx::StringStringEntryProto &entry : model.metadata_props())
      metadata.set(entry.key(), builder.getStringAttr(entry.value()));
    (*module)->setAttr(kOnnxMetadataAttr, metadata.getDictionary(context));
  }

  // Inputs that are also initializers (IR version < 4) are constants.
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &initializer : graph.initializer())
    initializers.insert(initializer.name());
  SmallVector<Type> inputTypes;
  SmallVector<std::string> inputNames;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializers.contains(input.name()))
      continue;
    FailureOr<RankedTensorType> type = getInputType(input, fileLoc);
    if (failed(type))
      return nullptr;
    inputTypes.push_back(*type);
    inputNames.push_back(input.name());
  }

  builder.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder, fileLoc, options.functionName,
                                       builder.getFunctionType(inputTypes, {}));
  Block *entry = function.addEntryBlock();
  GraphScope scope(session, /*parent=*/nullptr);
  for (auto [i, name] : llvm::enumerate(inputNames)) {
    function.setArgAttr(i, "quarc.name", builder.getStringAttr(name));
    if (failed(scope.define(name, entry->getArgument(i), fileLoc)))
      return nullptr;
  }
  if (failed(scope.importBody(graph, entry)))
    return nullptr;
  FailureOr<SmallVector<Value>> outputs = scope.getOutputs(graph);
  if (failed(outputs))
    return nullptr;
  builder.setInsertionPointToEnd(entry);
  func::ReturnOp::create(builder, fileLoc, *outputs);
  function.setType(builder.getFunctionType(
      inputTypes, ValueRange(*outputs).getTypes()));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    function.setResultAttr(i, "quarc.name", builder.getStringAttr(output.name()));

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> mlir::quarc::importOnnxFile(StringRef path,
                                                  MLIRContext *context,
                                                  const OnnxImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false);
  if (!buffer) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "cannot read '" << path << "': " << buffer.getError().message();
    return nullptr;
  }
  return importOnnxModel((*buffer)->getBuffer(), path, context, options);
}

SmallVector<SupportedOnnxOp> mlir::quarc::getSupportedOnnxOps() {
  SmallVector<SupportedOnnxOp> ops;
  for (const OnnxOpInfo &info : getOnnxOpTable())
    ops.push_back({info.domain, info.opType, info.firstOpset, info.lastOpset,
                   info.quarcOp});
  return ops;
}

void mlir::quarc::printSupportedOnnxOps(raw_ostream &os) {
  for (const SupportedOnnxOp &op : getSupportedOnnxOps())
    os << op.domain << " " << op.opType << " " << op.firstOpset << " "
       << op.lastOpset << "\n";
}

int64_t mlir::quarc::getNewestOnnxOpset() { return kMaxOnnxOpset; }

std::optional<SupportedOnnxOp>
mlir::quarc::getOnnxOpForQuarcOp(StringRef quarcOpName) {
  const OnnxOpInfo *newest = nullptr;
  for (const OnnxOpInfo &info : getOnnxOpTable())
    if (info.quarcOp == quarcOpName &&
        (!newest || info.lastOpset > newest->lastOpset))
      newest = &info;
  if (!newest)
    return std::nullopt;
  return SupportedOnnxOp{newest->domain, newest->opType, newest->firstOpset,
                         newest->lastOpset, newest->quarcOp};
}
