//===- OpTable.h - the ONNX ops the importer supports ----------*- C++ -*-===//

#ifndef QUARC_LIB_IMPORT_ONNX_OPTABLE_H
#define QUARC_LIB_IMPORT_ONNX_OPTABLE_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::quarc::onnx_import {

class NodeContext;

/// Rewrites a node before (or instead of) the default import; it must set
/// the context's results, usually by calling createDefault().
using ImportHook = LogicalResult (*)(NodeContext &);

/// The oldest and newest ai.onnx opsets quarc imports.
constexpr int64_t kMinOnnxOpset = 7;
constexpr int64_t kMaxOnnxOpset = 23;
/// A node with any number of inputs (Concat, Sum, ...).
constexpr int kVariadic = -1;

struct OnnxOpInfo {
  StringRef domain;
  StringRef opType;
  StringRef quarcOp;
  int64_t firstOpset;
  int64_t lastOpset;
  /// The quarc op's operand count (absent inputs padded with `none`), or
  /// kVariadic.
  int numInputs;
  ImportHook hook;
};

/// The table entry for (domain, opType), or null.
const OnnxOpInfo *lookupOnnxOp(StringRef domain, StringRef opType);
/// Every entry, sorted by domain and op type.
ArrayRef<OnnxOpInfo> getOnnxOpTable();

// Hooks (OpsetNormalization.cpp, ControlFlowImport.cpp).
LogicalResult importConstant(NodeContext &);
LogicalResult importSoftmaxLike(NodeContext &);
LogicalResult importReduce(NodeContext &);
LogicalResult importAxesAttrAsInput(NodeContext &);
LogicalResult importSplit(NodeContext &);
LogicalResult importClip(NodeContext &);
LogicalResult importPad(NodeContext &);
LogicalResult importSlice(NodeContext &);
LogicalResult importResize(NodeContext &);
LogicalResult importUpsample(NodeContext &);
LogicalResult importBatchNormalization(NodeContext &);
LogicalResult importDropout(NodeContext &);
LogicalResult importIf(NodeContext &);
LogicalResult importLoop(NodeContext &);

} // namespace mlir::quarc::onnx_import

#endif // QUARC_LIB_IMPORT_ONNX_OPTABLE_H
