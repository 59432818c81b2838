//===- Session.h - one model through the compiler --------------*- C++ -*-===//
//
// What `quarc compile`, `quarc run`, `quarc quantize` and the Python module
// do with a model: import it, run the pipelines, then either write an
// artefact (object, shared library or executable, plus its C header), JIT it
// in memory, or export its quantized graph as a QDQ ONNX model.
// Tools only parse flags and call these.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_COMPILER_SESSION_H
#define QUARC_COMPILER_SESSION_H

#include "quarc/Compiler/Codegen.h"
#include "quarc/Compiler/Pipelines.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/OwningOpRef.h"

struct quarc_model_desc;

namespace mlir::quarc {

/// A model lowered to the LLVM dialect, with the signature the runtime
/// will describe.
struct LoweredModel {
  OwningOpRef<ModuleOp> module;
  ModelSignature signature;
  TargetInfo target;
  std::string prefix;
  /// Lowered with PipelineOptions::externalWeights: the artefact needs a
  /// weights file, whose contents (after the header) are `weights`.
  bool externalWeights = false;
  std::vector<char> weights;
  /// Lowered with PipelineOptions::observe: the observed tensors' names,
  /// by observation index.
  std::vector<std::string> observedTensors;
  /// What the user should know about the compiled code (a tool prints each
  /// as "warning: ..."): convolutions left to generic loops by dynamic
  /// sizes.
  std::vector<std::string> warnings;
};

/// The shape of the data the caller has for input `name` (one of the
/// model's `inputNames`), or nullopt: `quarc run` reads it from the .npy
/// files it was given, so that it compiles for those shapes.
using InputShapeSource =
    llvm::function_ref<std::optional<SmallVector<int64_t>>(
        StringRef name, ArrayRef<std::string> inputNames)>;

/// Looks at the graph-level module (after the graph pipeline, before the
/// lowering): `quarc report` reads the quantized types there. Failing
/// stops the compile.
using GraphInspector = llvm::function_ref<LogicalResult(ModuleOp)>;

/// Imports `modelPath` (.onnx or quarc-dialect .mlir) and runs the whole
/// pipeline. `prefix` names the generated symbols. Diagnostics go to the
/// context's handler. With `inputShapes`, the dynamic dims of inputs that
/// `options` does not fix take the shapes it gives, where they are
/// compatible with the model's (an incompatible shape is left for the
/// runtime's input check to report).
FailureOr<LoweredModel> lowerModel(MLIRContext &context, StringRef modelPath,
                                   const PipelineOptions &options,
                                   StringRef prefix,
                                   InputShapeSource inputShapes = nullptr,
                                   GraphInspector inspectGraph = nullptr);

/// `quarc quantize`: imports `modelPath`, runs the graph pipeline with
/// quarc-quantize (`options.quantizeStats` is required) and without
/// quarc-fold-qdq, and writes the QDQ form as an ONNX model to
/// `outputPath` (under a temporary name, renamed at the end). Compiler
/// errors go to the context's diagnostics, a file that cannot be written
/// to `error`.
LogicalResult writeQDQModel(MLIRContext &context, StringRef modelPath,
                            const PipelineOptions &options,
                            StringRef outputPath, std::string &error);

/// The model's inputs and outputs as declared (dynamic dims -1), from
/// importing it, without compiling.
FailureOr<ModelSignature> importModelSignature(MLIRContext &context,
                                               StringRef modelPath);

enum class ArtifactKind { Object, SharedLibrary, Executable, LLVMIR };

/// The kind of artefact an output path asks for: .o, .so, .ll, otherwise
/// an executable.
ArtifactKind artifactKindForPath(StringRef path);

/// Writes the artefact to `path` and, except for LLVM IR, the C header next
/// to it (`<path without extension>.h`), and for a model lowered with
/// external weights the weights file `weightsPath` (required then, and only
/// then), whose name the artefact records. Everything is written to
/// temporary files first and renamed, so a failure leaves nothing behind.
LogicalResult writeArtifact(LoweredModel &model, ArtifactKind kind,
                            StringRef path, std::string &error,
                            StringRef weightsPath = {});

/// A function of this process the generated code calls by name.
struct HostSymbol {
  StringRef name;
  void *address;
};

/// A model compiled in memory for the host (with embedded weights).
class JitModel {
public:
  /// `extraSymbols`: callbacks beyond the runtime's (the calibration
  /// observer).
  static FailureOr<std::unique_ptr<JitModel>>
  create(LoweredModel &model, std::string &error,
         ArrayRef<HostSymbol> extraSymbols = {});
  const quarc_model_desc *descriptor() const { return desc; }

private:
  std::unique_ptr<ExecutionEngine> engine;
  const quarc_model_desc *desc = nullptr;
};

/// The folder under which quarc finds its own files: the runtime that
/// artefacts link (lib/quarc/<arch>/libquarc_runtime.a) and the report's
/// chart script (share/quarc/). By default the parent of the running
/// executable's folder, which is right for the tools in a build tree and in
/// an installation; the Python module sets its package's folder.
std::string getResourceRoot();
void setResourceRoot(StringRef root);

/// The quarc ops that the ONNX op types `opTypes` (of the default domain)
/// import as, for PipelineOptions::floatOps (`--keep-float`); fails with an
/// error naming an op type quarc does not import.
FailureOr<std::vector<std::string>>
getQuarcOpsOfOnnxTypes(ArrayRef<std::string> opTypes, std::string &error);

/// Checks a `--scheme` for a quantization mode ("int8", "dynamic-int8",
/// "int4-weight", "w4a8"; "" for any) before anything runs: its syntax, its
/// calibration method, and the weights' bits the mode's pass takes
/// (dynamic-int8: 8). Fails with `error` saying what is wrong.
LogicalResult checkSchemeOption(StringRef scheme, StringRef quantize,
                                std::string &error);

/// Registers every dialect, interface and translation the pipelines use.
void registerCompilerDialects(DialectRegistry &registry);

} // namespace mlir::quarc

#endif // QUARC_COMPILER_SESSION_H
