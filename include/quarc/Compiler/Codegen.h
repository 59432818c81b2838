//===- Codegen.h - from the LLVM dialect to objects and libraries -*- C++ -*-===//
//
// After the pipelines, a model is one function in the LLVM dialect. Codegen
// translates it to LLVM IR, adds what the runtime needs (the model
// descriptor of runtime/include/quarc/quarc_runtime.h and a uniform entry
// point), optimizes it for the target and writes an object file; the
// linker step turns that into a shared library or an executable.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_COMPILER_CODEGEN_H
#define QUARC_COMPILER_CODEGEN_H

#include "quarc/Target/TargetInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class raw_pwrite_stream;
}

namespace mlir::quarc {

/// One model input or output as the runtime describes it.
struct TensorSignature {
  std::string name;
  int32_t dtype = 0; // a quarc_dtype
  std::vector<int64_t> dims; // -1 for dynamic
};

struct ModelSignature {
  std::string graphName;
  std::vector<TensorSignature> inputs, outputs;
  /// Size of the entry function's workspace argument (quarc-plan-memory),
  /// known once the model is lowered; 0 when it has none.
  int64_t workspaceBytes = 0;
  /// The weights file of a model compiled with external weights
  /// (quarc-externalize-weights): its name without folders, empty when the
  /// weights are embedded; the size of the entry's weights argument (0 when
  /// it has none) and the FNV-1a 64 hash of its contents.
  std::string weightsFile;
  int64_t weightsBytes = 0;
  uint64_t weightsHash = 0;
};

/// The model's entry function (`main_graph`) in a quarc-dialect module.
func::FuncOp getModelFunction(ModuleOp module);

/// Reads names, element types and shapes of the entry function's
/// arguments and results. Fails (with a diagnostic) on element types the
/// runtime does not support.
FailureOr<ModelSignature> getModelSignature(func::FuncOp func);

/// The name the generated symbols start with, from a file name or model
/// name: letters, digits and '_' only, not starting with a digit.
std::string makeSymbolPrefix(llvm::StringRef name);

/// Renames the entry function to `<prefix>_main_graph` and asks for its C
/// interface; call before lowering to LLVM.
void prepareEntryFunction(func::FuncOp func, llvm::StringRef prefix);

/// Translates the lowered module to LLVM IR and adds the descriptor
/// `<prefix>_model`, its entry wrapper and, if `withMain`, a `main` that
/// runs the command-line interface. Null after a diagnostic.
std::unique_ptr<llvm::Module>
translateModel(ModuleOp module, llvm::LLVMContext &context,
               const ModelSignature &signature, const TargetInfo &target,
               llvm::StringRef prefix, bool withMain);

/// Optimizes `module` for `target` at -O3 (vectorizers included) and
/// writes an object file. Fails with `error` set.
LogicalResult emitObject(llvm::Module &module, const TargetInfo &target,
                         llvm::raw_pwrite_stream &os, std::string &error);

/// Runs the optimization pipeline only (the JIT uses it too).
LogicalResult optimizeModule(llvm::Module &module, const TargetInfo &target,
                             std::string &error);

/// The 64-bit FNV-1a hash of `data`, which identifies a weights file
/// (quarc_runtime.h's quarc_weights_header).
uint64_t hashWeights(llvm::ArrayRef<char> data);

/// A weights file: the header of quarc_runtime.h (little-endian) followed
/// by `weights`.
std::string weightsFileHeader(llvm::ArrayRef<char> weights);

/// The C header for a compiled model: the runtime API plus the model's
/// descriptor declaration and a comment listing inputs and outputs.
std::string generateHeader(const ModelSignature &signature,
                           const TargetInfo &target, llvm::StringRef prefix);

} // namespace mlir::quarc

#endif // QUARC_COMPILER_CODEGEN_H
