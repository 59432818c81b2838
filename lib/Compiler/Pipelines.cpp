//===- Pipelines.cpp - quarc's pass pipelines ----------------------------===//

#include "quarc/Compiler/Pipelines.h"
#include "quarc/Conversion/Passes.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"
#include "quarc/Quantization/QuantScheme.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/ErrorHandling.h"

namespace mlir::quarc {

std::string getSchemeForTarget(StringRef spec, const TargetInfo &target) {
  if (target.int8Dot() != TargetInfo::Int8Dot::MaddUbsw)
    return spec.str();
  SmallVector<StringRef> clauses;
  spec.split(clauses, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  if (llvm::any_of(clauses, [](StringRef clause) {
        return clause.split('=').first.trim() == "reduce-range";
      }))
    return spec.str();
  llvm::Expected<QuantScheme> scheme = parseSchemeOption(spec);
  if (!scheme) {
    llvm::consumeError(scheme.takeError());
    return spec.str();
  }
  const TensorQuantScheme &weights = scheme->weights;
  if (weights.type.bits != 8 || !weights.type.isSigned || !weights.symmetric)
    return spec.str();
  return spec.empty() ? "reduce-range=pairs"
                      : spec.str() + ",reduce-range=pairs";
}

LogicalResult buildGraphPipeline(OpPassManager &pm,
                                 const PipelineOptions &options,
                                 std::string &error) {
  QuarcSpecializeShapesOptions shapes;
  shapes.inputShapes.assign(options.inputShapes.begin(),
                            options.inputShapes.end());
  pm.addNestedPass<func::FuncOp>(createQuarcSpecializeShapes(shapes));
  pm.addPass(createCanonicalizerPass());
  // Graph cleanup once the constants are folded and visible: BatchNorm into
  // the weights before them, then the copies layout ops would cost (Gemm
  // weights transposed at compile time, reshape chains).
  pm.addNestedPass<func::FuncOp>(createQuarcFoldBatchNorm());
  pm.addNestedPass<func::FuncOp>(createQuarcSimplifyLayout());
  // Imported MatMulNBits: its weight unpacked into quarc's QDQ form.
  pm.addNestedPass<func::FuncOp>(createQuarcDecomposeMatMulNBits());
  pm.addPass(createCSEPass());
  if (!options.graphPasses.empty()) {
    registerCompilerPasses();
    std::string message;
    llvm::raw_string_ostream errorStream(message);
    if (failed(parsePassPipeline(options.graphPasses, pm, errorStream))) {
      error = "--graph-passes '" + options.graphPasses +
              "' is not a pass pipeline (a pass plugin's passes need "
              "--load-pass-plugin=PATH):\n" + StringRef(message).rtrim().str();
      return failure();
    }
  }
  // Observed after the graph passes: the tensors that will be quantized.
  if (options.observe)
    pm.addPass(createQuarcInsertObservers());
  if (!options.quantizeStats.empty()) {
    QuarcQuantizeOptions quantize;
    quantize.statsFile = options.quantizeStats;
    quantize.scheme = getSchemeForTarget(options.scheme, options.target);
    quantize.excludeNodes.assign(options.excludeNodes.begin(),
                                 options.excludeNodes.end());
    quantize.floatOps.assign(options.floatOps.begin(), options.floatOps.end());
    pm.addPass(createQuarcQuantize(quantize));
    pm.addPass(createCSEPass());
  }
  if (options.dynamicQuantize) {
    // onnxruntime's quantize_dynamic numerics: full-range weights on every
    // target.
    QuarcQuantizeDynamicOptions quantize;
    quantize.scheme = options.scheme;
    quantize.excludeNodes.assign(options.excludeNodes.begin(),
                                 options.excludeNodes.end());
    quantize.floatOps.assign(options.floatOps.begin(), options.floatOps.end());
    pm.addPass(createQuarcQuantizeDynamic(quantize));
  }
  if (options.weightOnlyQuantize) {
    QuarcQuantizeWeightsOptions quantize;
    quantize.scheme = options.scheme;
    quantize.excludeNodes.assign(options.excludeNodes.begin(),
                                 options.excludeNodes.end());
    quantize.floatOps.assign(options.floatOps.begin(), options.floatOps.end());
    quantize.int8Activations = options.weightOnlyInt8Activations;
    pm.addPass(createQuarcQuantizeWeights(quantize));
  }
  // The QDQ form, made above or imported, into integer ops.
  if (options.foldQDQ)
    pm.addNestedPass<func::FuncOp>(createQuarcFoldQDQ());
  if (options.observeQuantized) {
    QuarcInsertObserversOptions observers;
    observers.quantized = true;
    pm.addPass(createQuarcInsertObservers(observers));
  }
  return success();
}

/// The upstream parts of the lowering, as pipeline text so that they read
/// like the documentation of each pass and can be replayed with quarc-opt.
static const char *kBufferize =
    "canonicalize,"
    // Buffers: the entry function returns buffers it allocated (the runtime
    // frees them); everything else is freed after its last use.
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    // A buffer used within one iteration of a loop (a recurrent layer's
    // time steps) is allocated once, before the loop, where the memory
    // plan places it, instead of once per iteration.
    "func.func(buffer-loop-hoisting),"
    "canonicalize,"
    "buffer-deallocation-pipeline, convert-bufferization-to-memref";

static const char *kLinalgToLoops =
    // What the kernel generators did not take becomes loops, which the
    // LLVM optimizer vectorizes for the target's features (set on every
    // function by codegen); parallel dims become scf.parallel.
    "func.func(convert-linalg-to-parallel-loops)";

static const char *kLowerLoopsToLLVM =
    "lower-affine, convert-scf-to-cf, expand-strided-metadata, lower-affine,"
    "convert-vector-to-llvm,"
    "convert-math-to-funcs, convert-math-to-llvm, convert-math-to-libm,"
    // Dynamic-size buffers through the runtime's allocator (a cache of
    // freed blocks per session: runtime/src/buffers.h), not malloc.
    "finalize-memref-to-llvm{use-generic-functions},"
    "convert-arith-to-llvm, convert-index-to-llvm,"
    "convert-func-to-llvm, convert-cf-to-llvm, convert-ub-to-llvm,"
    "reconcile-unrealized-casts";

static void addPipelineText(OpPassManager &pm, const char *text) {
  if (failed(parsePassPipeline(text, pm)))
    llvm::report_fatal_error("quarc: malformed built-in pipeline text");
}

void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  pm.addNestedPass<func::FuncOp>(createConvertQuarcToLinalg());
  // Tensors: fuse elementwise chains (but not into matmuls).
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createQuarcFuseElementwise());
  pm.addNestedPass<func::FuncOp>(createCSEPass());
  // Algorithm choice on tensors: convolutions become matrix products, and
  // integer products take their weights packed for the target's kernel.
  std::string target = options.target.name();
  pm.addNestedPass<func::FuncOp>(createQuarcConvolutionToMatmul());
  pm.addNestedPass<func::FuncOp>(createQuarcPackIntegerWeights({target}));
  // Each product's own fill or bias broadcast, which its kernel fuses, not
  // a copy of one that CSE shared.
  pm.addNestedPass<func::FuncOp>(createQuarcSplitSharedInits());
  addPipelineText(pm, kBufferize);
  // Target kernels on buffers: register-tiled vector code. Stride-1 3x3
  // int8 convolutions first, where the target's int8 products are no
  // faster than its word products (Winograd's F(2x2, 3x3) does 16 of those
  // where direct does 36).
  pm.addPass(createQuarcWinogradConvolution({target}));
  pm.addNestedPass<func::FuncOp>(createQuarcVectorizeMatmul({target}));
  pm.addNestedPass<func::FuncOp>(createQuarcVectorizeIntegerMatmul({target}));
  pm.addNestedPass<func::FuncOp>(createQuarcVectorizeDepthwise({target}));
  pm.addNestedPass<func::FuncOp>(
      createQuarcVectorizeWeightOnlyMatmul({target}));
  pm.addNestedPass<func::FuncOp>(createQuarcVectorizeTableLookups({target}));
  pm.addNestedPass<func::FuncOp>(createQuarcExpandStridedCopies());
  // Elementwise loops over small feature maps as one longer loop, which
  // the LLVM vectorizer takes.
  pm.addNestedPass<func::FuncOp>(createQuarcCollapseElementwiseDims());
  // One workspace, allocated by the runtime, for all temporary buffers.
  pm.addPass(createQuarcPlanMemory());
  // Weights as flat arrays, which LLVM builds and emits quickly.
  pm.addPass(createQuarcFlattenConstantGlobals());
  // Large constants read from a weights file instead (after the
  // workspace: the weights are the entry's last argument).
  if (options.externalWeights)
    pm.addPass(createQuarcExternalizeWeights());
  // Reductions with their partial sums in registers (vectorizable), the
  // rest as loops.
  pm.addNestedPass<func::FuncOp>(createQuarcLowerReductions());
  addPipelineText(pm, kLinalgToLoops);
  // Broadcast operands read once per row, so that the innermost loops
  // vectorize (before the loops are outlined: it needs the buffers'
  // origins).
  pm.addNestedPass<func::FuncOp>(createQuarcHoistInvariantLoads());
  // Large parallel loops run on the runtime's threads.
  pm.addPass(createQuarcParallelizeLoops());
  // exp, erf, tanh as arithmetic the LLVM vectorizer takes (libm's are
  // scalar calls), in the outlined loop bodies too.
  pm.addNestedPass<func::FuncOp>(createQuarcApproximateMath());
  addPipelineText(pm, kLowerLoopsToLLVM);
}

LogicalResult buildCompileToLLVMPipeline(OpPassManager &pm,
                                         const PipelineOptions &options,
                                         std::string &error) {
  if (failed(buildGraphPipeline(pm, options, error)))
    return failure();
  buildLowerToLLVMPipeline(pm, options);
  return success();
}

namespace {
struct CompilePipelineOptions
    : public PassPipelineOptions<CompilePipelineOptions> {
  ListOption<std::string> inputShapes{
      *this, "input-shapes",
      llvm::cl::desc("Input shapes, NAME=D0xD1x... (see quarc-specialize-shapes)")};
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Target, as for `quarc compile --target` (e.g. "
                     "x86_64+avx2, aarch64); host by default"),
      llvm::cl::init("host")};
  Option<bool> externalWeights{
      *this, "external-weights",
      llvm::cl::desc("Large constants into a weights argument (quarc compile "
                     "--weights; see quarc-externalize-weights)"),
      llvm::cl::init(false)};
};

struct QuantizePipelineOptions
    : public PassPipelineOptions<QuantizePipelineOptions> {
  ListOption<std::string> inputShapes{
      *this, "input-shapes",
      llvm::cl::desc(
          "Input shapes, NAME=D0xD1x... (see quarc-specialize-shapes)")};
  Option<std::string> stats{
      *this, "stats",
      llvm::cl::desc("The calibration stats file (quarc calibrate)")};
  Option<std::string> scheme{
      *this, "scheme",
      llvm::cl::desc("The quantization scheme (--scheme syntax); the default "
                     "CPU scheme when empty")};
  ListOption<std::string> excludeNodes{
      *this, "exclude-nodes",
      llvm::cl::desc("ONNX node names kept float (see quarc-quantize)")};
  ListOption<std::string> floatOps{
      *this, "float-ops",
      llvm::cl::desc("quarc op names kept float (see quarc-quantize)")};
};
} // namespace

void registerQuarcPipelines() {
  registerPassPipeline(
      "quarc-quantize-pipeline",
      "The graph pipeline of `quarc quantize`: the graph passes and "
      "quarc-quantize, leaving the QDQ form (no quarc-fold-qdq) that "
      "--export-onnx writes",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        QuantizePipelineOptions cli;
        if (failed(cli.parseFromString(text)))
          return failure();
        if (cli.stats.empty())
          return errorHandler("quarc-quantize-pipeline needs stats=PATH");
        PipelineOptions options;
        options.inputShapes.assign(cli.inputShapes.begin(),
                                   cli.inputShapes.end());
        options.quantizeStats = cli.stats;
        options.scheme = cli.scheme;
        options.excludeNodes.assign(cli.excludeNodes.begin(),
                                    cli.excludeNodes.end());
        options.floatOps.assign(cli.floatOps.begin(), cli.floatOps.end());
        options.foldQDQ = false;
        std::string error;
        if (failed(buildGraphPipeline(pm, options, error)))
          return errorHandler(error);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> printOptions) {
        printOptions(QuantizePipelineOptions());
      });
  // Registered with an error handler (not PassPipelineRegistration) so that
  // an unknown target is an error that lists the known ones.
  registerPassPipeline(
      "quarc-compile-to-llvm",
      "The whole `quarc compile` pass pipeline: quarc dialect to the LLVM "
      "dialect for a target (the host by default)",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        CompilePipelineOptions cli;
        if (failed(cli.parseFromString(text)))
          return failure();
        PipelineOptions options;
        options.inputShapes.assign(cli.inputShapes.begin(),
                                   cli.inputShapes.end());
        options.externalWeights = cli.externalWeights;
        std::string error;
        if (!TargetInfo::parse(cli.target, options.target, error))
          return errorHandler(error);
        if (failed(buildCompileToLLVMPipeline(pm, options, error)))
          return errorHandler(error);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> printOptions) {
        printOptions(CompilePipelineOptions());
      });
}

void registerCompilerPasses() {
  static bool registered = [] {
    registerAllPasses();
    registerQuarcConversionPasses();
    registerQuarcTransformsPasses();
    registerQuarcCPUPasses();
    registerQuarcPipelines();
    return true;
  }();
  (void)registered;
}

} // namespace mlir::quarc
