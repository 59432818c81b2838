//===- Pipelines.h - quarc's pass pipelines --------------------*- C++ -*-===//
//
// The driver, the Python module and quarc-opt all build their pass
// pipelines here, so `quarc compile` and
// `quarc-opt --quarc-compile-to-llvm` run exactly the same passes.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_COMPILER_PIPELINES_H
#define QUARC_COMPILER_PIPELINES_H

#include "quarc/Target/TargetInfo.h"

#include "mlir/Pass/PassManager.h"
#include <string>
#include <vector>

namespace mlir::quarc {

struct PipelineOptions {
  /// `NAME=D0xD1x...` shapes for the model's inputs (see
  /// quarc-specialize-shapes).
  std::vector<std::string> inputShapes;
  TargetInfo target = TargetInfo::host();
  /// Move large constants out of the code into a weights argument
  /// (quarc-externalize-weights), for `quarc compile --weights`.
  bool externalWeights = false;
  /// Observe the model's float tensors for calibration
  /// (quarc-insert-observers after the graph passes); the result needs the
  /// observer callback `quarc calibrate` provides to the JIT.
  bool observe = false;
  /// Observe the tensors the integer code writes, dequantized
  /// (quarc-insert-observers quantized=true after quarc-fold-qdq), for
  /// `quarc report`; needs the same callback.
  bool observeQuantized = false;
  /// Quantize from this calibration stats file (quarc-quantize after the
  /// graph passes) with `scheme` (--scheme syntax; default CPU scheme when
  /// empty). Unset: the model stays float.
  std::string quantizeStats;
  /// Quantize the matrix products dynamically instead
  /// (quarc-quantize-dynamic: weights now, activations at run time).
  bool dynamicQuantize = false;
  /// Quantize the matrix products' weights only (quarc-quantize-weights:
  /// int4 weights per group, f32 activations).
  bool weightOnlyQuantize = false;
  /// With weightOnlyQuantize: int8 activations too (W4A8).
  bool weightOnlyInt8Activations = false;
  std::string scheme;
  /// Kept in float by quarc-quantize: ONNX node names, and quarc op names
  /// (`quarc.add`).
  std::vector<std::string> excludeNodes;
  std::vector<std::string> floatOps;
  /// Extra passes in MLIR's textual pipeline syntax (e.g.
  /// `func.func(my-plugin-pass{opt=1})`, on the module), run after the
  /// graph cleanup and before the observers and quantization, so that
  /// calibration and compilation see the same graph: where a pass plugin's
  /// passes run in `quarc compile --graph-passes`.
  std::string graphPasses;
  /// Fold the QDQ form (quantize/dequantize pairs, quantized or imported)
  /// into integer ops (quarc-fold-qdq) at the end of the graph pipeline.
  /// Off for `quarc quantize`, which exports the QDQ form as ONNX.
  bool foldQDQ = true;
};

/// The `--scheme` string quarc quantizes with for `target`: `spec` with
/// `reduce-range=pairs` added where the target's int8 products are
/// `vpmaddubsw` (x86 without VNNI), its weights are symmetric s8 and `spec`
/// leaves reduce-range unsaid; the kernels then take vpmaddubsw exactly,
/// where full-range weights need products of 16-bit words (about a third
/// slower on Zen 3). `spec` itself where it does not parse (the pass
/// reports it).
std::string getSchemeForTarget(llvm::StringRef spec, const TargetInfo &target);

/// Graph level: fix input shapes, fold shape computations, clean up; then
/// `graphPasses`, the observers or quantization, when asked for, and the
/// QDQ fold. Fails, with the reason in `error`, when `graphPasses` does not
/// parse (an unknown pass: its plugin is not loaded).
LogicalResult buildGraphPipeline(OpPassManager &pm,
                                 const PipelineOptions &options,
                                 std::string &error);

/// quarc dialect -> LLVM dialect: lower to linalg, fuse, bufferize with
/// function results allocated by the callee, lower to loops and LLVM.
void buildLowerToLLVMPipeline(OpPassManager &pm, const PipelineOptions &options);

/// Both, in order.
LogicalResult buildCompileToLLVMPipeline(OpPassManager &pm,
                                         const PipelineOptions &options,
                                         std::string &error);

/// Registers `quarc-compile-to-llvm` and `quarc-quantize-pipeline` (the
/// graph pipeline of `quarc quantize`) with the pass registry (quarc-opt).
void registerQuarcPipelines();

/// Registers every upstream pass, quarc's passes and pipelines, once per
/// process: the built-in pipelines are partly text, and `graphPasses` may
/// name any of them. Thread-safe.
void registerCompilerPasses();

} // namespace mlir::quarc

#endif // QUARC_COMPILER_PIPELINES_H
