//===- Pipelines.cpp - quarc's pass pipelines ----------------------------===//

#include "quarc/Compiler/Pipelines.h"
#include "quarc/Conversion/Passes.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/ErrorHandling.h"

namespace mlir::quarc {

void buildGraphPipeline(OpPassManager &pm, const PipelineOptions &options) {
  QuarcSpecializeShapesOptions shapes;
  shapes.inputShapes.assign(options.inputShapes.begin(),
                            options.inputShapes.end());
  pm.addNestedPass<func::FuncOp>(createQuarcSpecializeShapes(shapes));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// The upstream part of the lowering, as pipeline text so that it reads
/// like the documentation of each pass and can be replayed with quarc-opt.
static const char *kLowerToLLVM =
    // Tensors: fuse elementwise chains into their producers.
    "func.func(canonicalize, linalg-fuse-elementwise-ops, cse),"
    // Buffers: the entry function returns buffers it allocated (the runtime
    // frees them); everything else is freed after its last use.
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "canonicalize,"
    "buffer-deallocation-pipeline, convert-bufferization-to-memref,"
    // Loops, then LLVM. The LLVM optimizer vectorizes the loops for the
    // target's features (set on every function by codegen).
    "func.func(convert-linalg-to-loops),"
    "lower-affine, convert-scf-to-cf, expand-strided-metadata, lower-affine,"
    "convert-math-to-funcs, convert-math-to-llvm, convert-math-to-libm,"
    "finalize-memref-to-llvm, convert-arith-to-llvm, convert-index-to-llvm,"
    "convert-func-to-llvm, convert-cf-to-llvm, convert-ub-to-llvm,"
    "reconcile-unrealized-casts";

void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  (void)options; // Target-driven tiling and vectorization come here.
  pm.addNestedPass<func::FuncOp>(createConvertQuarcToLinalg());
  if (failed(parsePassPipeline(kLowerToLLVM, pm)))
    llvm::report_fatal_error("quarc: malformed built-in pipeline text");
}

void buildCompileToLLVMPipeline(OpPassManager &pm,
                                const PipelineOptions &options) {
  buildGraphPipeline(pm, options);
  buildLowerToLLVMPipeline(pm, options);
}

namespace {
struct CompilePipelineOptions
    : public PassPipelineOptions<CompilePipelineOptions> {
  ListOption<std::string> inputShapes{
      *this, "input-shapes",
      llvm::cl::desc("Input shapes, NAME=D0xD1x... (see quarc-specialize-shapes)")};
};
} // namespace

void registerQuarcPipelines() {
  PassPipelineRegistration<CompilePipelineOptions>(
      "quarc-compile-to-llvm",
      "The whole `quarc compile` pass pipeline: quarc dialect to the LLVM "
      "dialect for the host",
      [](OpPassManager &pm, const CompilePipelineOptions &cli) {
        PipelineOptions options;
        options.inputShapes.assign(cli.inputShapes.begin(),
                                   cli.inputShapes.end());
        buildCompileToLLVMPipeline(pm, options);
      });
}

} // namespace mlir::quarc
