//===- ReportGraph.h - what quarc report reads from the graphs --*- C++ -*-===//
//
// The float and the quantized graph-level modules (after the graph
// pipeline, with their observers) say which node writes each tensor, the
// quantized types, the weights and which nodes run as integer code.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_COMPILER_REPORTGRAPH_H
#define QUARC_LIB_COMPILER_REPORTGRAPH_H

#include "quarc/Compiler/Report.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::quarc {

/// The float model after the graph passes.
struct FloatGraphInfo {
  /// Tensor name -> the ONNX node that writes it.
  llvm::StringMap<std::string> nodeOfTensor;
  /// ONNX node name -> its ONNX op type.
  llvm::StringMap<std::string> opTypeOfNode;
  /// The node names in program order.
  std::vector<std::string> nodes;
  int64_t constantBytes = 0;
  /// The "float" model has quantized tensors: it was a QDQ model, which
  /// every compile folds into integer ops.
  bool quantized = false;
};
FloatGraphInfo inspectFloatGraph(ModuleOp module);

/// Fills the tensors (in program order: name, node, op, type, parameters),
/// the weights, the op type counts and the quantized constant bytes of
/// `report` from the quantized module (after quarc-fold-qdq and
/// quarc-insert-observers with `quantized`).
void inspectQuantizedGraph(ModuleOp module, const FloatGraphInfo &floatGraph,
                           QuantizationReport &report);

} // namespace mlir::quarc

#endif // QUARC_LIB_COMPILER_REPORTGRAPH_H
