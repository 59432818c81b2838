//===- ImportONNX.h - ONNX ModelProto to the quarc dialect ------*- C++ -*-===//
//
// The public entry points of the ONNX importer. The importer reads the
// protobuf, resolves external data inside the model's folder only, sorts the
// graph, and builds one func.func of quarc ops whose locations are the ONNX
// node names. Every failure is one error diagnostic that names the node, op,
// tensor or file; nothing is thrown, nothing asserts on input.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_IMPORT_ONNX_IMPORTONNX_H
#define QUARC_IMPORT_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

#include <optional>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::quarc {

/// The module attribute holding the model's metadata_props (a dictionary of
/// strings), which the exporter writes back.
constexpr llvm::StringLiteral kOnnxMetadataAttr = "quarc.onnx_metadata";

struct OnnxImportOptions {
  /// Constants with more elements than this are stored as dense_resource
  /// blobs rather than as dense attributes.
  int64_t inlineElementLimit = 64;
  /// The name of the imported function.
  std::string functionName = "main_graph";
};

/// Imports the serialized ModelProto in `bytes`. `modelPath` names the file
/// in diagnostics and locates external data (relative to its folder). Returns
/// null after emitting a diagnostic on failure.
OwningOpRef<ModuleOp> importOnnxModel(StringRef bytes, StringRef modelPath,
                                      MLIRContext *context,
                                      const OnnxImportOptions &options = {});

/// Reads and imports the model file at `path`.
OwningOpRef<ModuleOp> importOnnxFile(StringRef path, MLIRContext *context,
                                     const OnnxImportOptions &options = {});

/// Registers the dialects that imported IR uses.
void registerOnnxImportDialects(DialectRegistry &registry);

/// One ONNX op the importer supports, in a range of opset versions, and
/// the quarc op it becomes (`quarc.conv`).
struct SupportedOnnxOp {
  StringRef domain;
  StringRef opType;
  int64_t firstOpset;
  int64_t lastOpset;
  StringRef quarcOp;
};

/// The supported ops, sorted by domain and op type.
SmallVector<SupportedOnnxOp> getSupportedOnnxOps();

/// Prints getSupportedOnnxOps() as `domain OpType first last` lines.
void printSupportedOnnxOps(raw_ostream &os);

/// The newest ai.onnx opset quarc imports. The importer rewrites every node
/// into its op's form at this opset, so quarc ops have that opset's forms
/// (the ONNX exporter writes it).
int64_t getNewestOnnxOpset();

/// The ONNX op that quarc op `quarcOpName` (e.g. "quarc.conv") is the newest
/// form of, or nullopt for ops that are no ONNX op (quarc.quantize,
/// quarc.qconv, ...). Several ONNX ops may import as one quarc op
/// (Upsample and Resize as quarc.resize); this is the one whose opset range
/// reaches furthest.
std::optional<SupportedOnnxOp> getOnnxOpForQuarcOp(StringRef quarcOpName);

} // namespace mlir::quarc

#endif // QUARC_IMPORT_ONNX_IMPORTONNX_H
