//===- ExportONNX.h - the quarc dialect to an ONNX ModelProto ---*- C++ -*-===//
//
// The public entry points of the ONNX exporter, the importer's inverse: the
// model function of a quarc-dialect module becomes one ONNX graph. quarc ops
// become the ONNX ops they mirror (the importer's op table, read backwards),
// constants become initializers, and the QDQ form of quantization
// (quarc.quantize / quarc.dequantize, integer weights read through
// quarc.storage_cast) becomes QuantizeLinear / DequantizeLinear with scale
// and zero-point initializers: a standard QDQ model that other runtimes
// run. The result is checked with libonnx's checker before anything is
// written. Every failure is one error diagnostic at the op it is about;
// nothing is thrown, nothing asserts on input.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_EXPORT_ONNX_EXPORTONNX_H
#define QUARC_EXPORT_ONNX_EXPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::quarc {

struct OnnxExportOptions {
  /// Constants with more elements than this are written as raw_data, the
  /// others in the typed fields (float_data, int64_data, ...), readable in
  /// a text dump.
  int64_t typedFieldElementLimit = 16;
  /// ModelProto.producer_name.
  std::string producerName = "quarc";
};

/// The ai.onnx opset the exporter writes: the importer's newest, whose op
/// forms quarc ops have.
int64_t getExportOnnxOpset();
/// The ONNX IR version written with that opset.
int64_t getExportIrVersion();

/// Serializes the model function of `module` (its one public function with
/// a body) as an ONNX model to `os`. On failure, emits an error at the op or
/// value concerned and writes nothing.
LogicalResult exportOnnxModel(ModuleOp module, raw_ostream &os,
                              const OnnxExportOptions &options = {});

/// Exports to the file `path`, written under a temporary name in the same
/// folder and renamed at the end: a failed export leaves no file behind and
/// an existing `path` untouched. A model that cannot be exported is
/// reported by diagnostics; a file that cannot be written, in `error`.
LogicalResult exportOnnxFile(ModuleOp module, StringRef path,
                             std::string &error,
                             const OnnxExportOptions &options = {});

} // namespace mlir::quarc

#endif // QUARC_EXPORT_ONNX_EXPORTONNX_H
