//===- GraphImporter.h - ONNX graphs and nodes to quarc ops ----*- C++ -*-===//
//
// A GraphScope imports one ONNX graph (the model's, or an If/Loop subgraph)
// at a builder's insertion point. Nodes import generically from the op table
// (OpTable.h): operands by position (absent optional inputs become `none`),
// attributes by their ONNX names, result types inferred by the quarc op. A
// table entry may name a hook that rewrites older-opset forms first.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
#define QUARC_LIB_IMPORT_ONNX_GRAPHIMPORTER_H

#include "TensorImport.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Region.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

namespace mlir::quarc::onnx_import {

struct OnnxOpInfo;

/// State shared by every graph of one model.
struct ImportSession {
  MLIRContext *context;
  std::string modelPath;
  TensorImportSettings tensorSettings;
  /// Opset version per domain ("ai.onnx" for the default domain).
  llvm::StringMap<int64_t> opsets;
};

/// The ONNX default domain's canonical name.
inline StringRef canonicalDomain(StringRef domain) {
  return domain.empty() ? StringRef("ai.onnx") : domain;
}

class GraphScope {
public:
  GraphScope(ImportSession &session, const GraphScope *parent)
      : session(session), parent(parent) {}

  /// The value named `name` here or in an enclosing graph (null if none).
  Value lookup(StringRef name) const;
  /// Binds `name`; a name bound twice in one graph is an error.
  LogicalResult define(StringRef name, Value value, Location loc);

  /// Imports the initializers, then the nodes in dependency order, at the
  /// end of `block`.
  LogicalResult importBody(const onnx::GraphProto &graph, Block *block);

  /// The values of the graph's outputs (after importBody).
  FailureOr<SmallVector<Value>> getOutputs(const onnx::GraphProto &graph);

  ImportSession &getSession() const { return session; }

private:
  LogicalResult importNode(const onnx::NodeProto &node, size_t index,
                           OpBuilder &builder);
  void nameResults(const onnx::NodeProto &node, ArrayRef<Value> results,
                   NameLoc loc);

  ImportSession &session;
  const GraphScope *parent;
  llvm::StringMap<Value> values;
};

/// One node being imported: the converted operands and attributes, which a
/// hook may rewrite, and the results it produces.
class NodeContext {
public:
  NodeContext(GraphScope &scope, OpBuilder &builder,
              const onnx::NodeProto &node, const OnnxOpInfo &info,
              int64_t opset, Location loc)
      : scope(scope), builder(builder), node(node), info(info), opset(opset),
        loc(loc) {}

  GraphScope &scope;
  OpBuilder &builder;
  const onnx::NodeProto &node;
  const OnnxOpInfo &info;
  int64_t opset;
  Location loc;
  SmallVector<Value> operands;
  SmallVector<NamedAttribute> attributes;
  SmallVector<Value> results;

  /// An error at the node, prefixed with its name, op type and opset.
  InFlightDiagnostic error();
  /// Builds `opName` with inferred result types and verifies it; a failure
  /// is reported as one error at the node.
  FailureOr<Operation *>
  create(StringRef opName, ValueRange operands,
         ArrayRef<NamedAttribute> attributes,
         MutableArrayRef<std::unique_ptr<Region>> regions = {});
  /// Builds the table's quarc op from `operands` and `attributes` and sets
  /// `results`.
  LogicalResult createDefault();

  /// Removes the attribute `name` and returns it (null if absent).
  Attribute takeAttribute(StringRef name);
  /// Sets or replaces an attribute.
  void setAttribute(StringRef name, Attribute value);
  /// The operand at `index`, or null when absent or `none`.
  Value getOperand(unsigned index) const;
  /// Sets operand `index`, padding with `none` values.
  void setOperand(unsigned index, Value value);

  Value none();
  /// A constant tensor of the given shape from `values`.
  Value constant(ElementsAttr value);
  /// A 1-D i64 constant.
  Value constantI64(ArrayRef<int64_t> values);
  /// The shape of `value` as a 1-D i64 tensor (a constant when static).
  Value shapeOf(Value value);

  /// Imports the GRAPH attribute `name` into a new region whose entry block
  /// takes `argumentTypes`; the region ends in quarc.yield of the outputs.
  FailureOr<std::unique_ptr<Region>>
  importSubgraph(StringRef name, TypeRange argumentTypes);
};

/// Converts the non-GRAPH attributes of `context.node` into
/// `context.attributes`.
LogicalResult convertAttributes(NodeContext &context);

} // namespace mlir::quarc::onnx_import

#endif // QUARC_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
