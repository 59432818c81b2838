//===- Codegen.cpp - from the LLVM dialect to objects ---------------------===//

#include "quarc/Compiler/Codegen.h"
#include "quarc/quarc_runtime.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

#include <cstddef>
#include <cstring>

namespace mlir::quarc {

//===----------------------------------------------------------------------===//
// Signature
//===----------------------------------------------------------------------===//

func::FuncOp getModelFunction(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal() && func.isPublic())
      return func;
  return nullptr;
}

/// quarc_dtype numbers (ONNX TensorProto.DataType) of supported types.
static int32_t getDType(Type type) {
  if (type.isF32())
    return 1;
  if (type.isUnsignedInteger(8))
    return 2;
  if (type.isSignlessInteger(8))
    return 3;
  if (type.isSignlessInteger(16))
    return 5;
  if (type.isSignlessInteger(32))
    return 6;
  if (type.isSignlessInteger(64))
    return 7;
  if (type.isSignlessInteger(1))
    return 9;
  if (type.isF16())
    return 10;
  if (type.isF64())
    return 11;
  return 0;
}

static FailureOr<TensorSignature> describe(func::FuncOp func, Type type,
                                           DictionaryAttr attrs,
                                           StringRef kind, unsigned index) {
  TensorSignature tensor;
  auto name = attrs ? attrs.getAs<StringAttr>("quarc.name") : StringAttr();
  tensor.name = name ? name.getValue().str()
                     : (kind + Twine(index)).str();
  auto ranked = dyn_cast<RankedTensorType>(type);
  tensor.dtype = ranked ? getDType(ranked.getElementType()) : 0;
  if (!ranked || !tensor.dtype)
    return func.emitError() << kind << " '" << tensor.name << "' has type "
                            << type
                            << ", which compiled models cannot pass yet";
  for (int64_t dim : ranked.getShape())
    tensor.dims.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  return tensor;
}

FailureOr<ModelSignature> getModelSignature(func::FuncOp func) {
  ModelSignature signature;
  if (auto module = func->getParentOfType<ModuleOp>())
    if (auto name = module->getAttrOfType<StringAttr>("quarc.graph_name"))
      signature.graphName = name.getValue().str();
  FunctionType type = func.getFunctionType();
  for (auto [i, input] : llvm::enumerate(type.getInputs())) {
    auto tensor = describe(func, input, func.getArgAttrDict(i), "input", i);
    if (failed(tensor))
      return failure();
    signature.inputs.push_back(*tensor);
  }
  for (auto [i, output] : llvm::enumerate(type.getResults())) {
    auto tensor = describe(func, output, func.getResultAttrDict(i), "output", i);
    if (failed(tensor))
      return failure();
    signature.outputs.push_back(*tensor);
  }
  if (signature.outputs.empty())
    return func.emitError("the model has no outputs");
  return signature;
}

std::string makeSymbolPrefix(llvm::StringRef name) {
  std::string prefix;
  for (char c : name)
    prefix += llvm::isAlnum(c) ? c : '_';
  if (prefix.empty() || llvm::isDigit(prefix[0]))
    prefix = "m_" + prefix;
  return prefix;
}

void prepareEntryFunction(func::FuncOp func, llvm::StringRef prefix) {
  func.setSymName((prefix + "_main_graph").str());
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(func.getContext()));
  // The caller's input buffers are read-only: bufferization must copy
  // rather than compute in place into them.
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    func.setArgAttr(i, "bufferization.writable",
                    BoolAttr::get(func.getContext(), false));
}

//===----------------------------------------------------------------------===//
// LLVM IR: descriptor and entry point
//===----------------------------------------------------------------------===//

namespace {

/// Builds the runtime's view of the model (quarc_runtime.h) as constants.
class DescriptorBuilder {
public:
  DescriptorBuilder(llvm::Module &module, llvm::StringRef prefix)
      : module(module), context(module.getContext()), prefix(prefix.str()),
        i32(llvm::Type::getInt32Ty(context)),
        ptr(llvm::PointerType::getUnqual(context)) {
    tensorDesc = llvm::StructType::create(context, {ptr, i32, i32, ptr},
                                          "quarc_tensor_desc");
    auto *i64 = llvm::Type::getInt64Ty(context);
    modelDesc = llvm::StructType::create(
        context,
        {i32, i32, i32, i32, ptr, ptr, ptr, ptr, ptr, i64, i64, i64, ptr},
        "quarc_model_desc");
  }

  llvm::GlobalVariable *build(const ModelSignature &signature,
                              const TargetInfo &target,
                              llvm::Function *entry) {
    llvm::Constant *fields[] = {
        llvm::ConstantInt::get(i32, QUARC_ABI_VERSION),
        llvm::ConstantInt::get(i32, signature.inputs.size()),
        llvm::ConstantInt::get(i32, signature.outputs.size()),
        llvm::ConstantInt::get(i32, 0),
        string(signature.graphName, "graph_name"),
        string(target.name(), "target"),
        tensors(signature.inputs, "inputs"),
        tensors(signature.outputs, "outputs"),
        entry,
        llvm::ConstantInt::get(llvm::Type::getInt64Ty(context),
                               signature.workspaceBytes),
        llvm::ConstantInt::get(llvm::Type::getInt64Ty(context),
                               signature.weightsBytes),
        llvm::ConstantInt::get(llvm::Type::getInt64Ty(context),
                               signature.weightsHash),
        signature.weightsFile.empty()
            ? llvm::ConstantPointerNull::get(ptr)
            : string(signature.weightsFile, "weights_file")};
    return new llvm::GlobalVariable(
        module, modelDesc, /*isConstant=*/true,
        llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantStruct::get(modelDesc, fields), prefix + "_model");
  }

private:
  llvm::Constant *privateGlobal(llvm::Constant *init, const llvm::Twine &name) {
    auto *global = new llvm::GlobalVariable(
        module, init->getType(), /*isConstant=*/true,
        llvm::GlobalValue::PrivateLinkage, init, prefix + "_" + name);
    global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return global;
  }

  llvm::Constant *string(llvm::StringRef text, const llvm::Twine &name) {
    return privateGlobal(llvm::ConstantDataArray::getString(context, text),
                         name);
  }

  llvm::Constant *tensors(const std::vector<TensorSignature> &list,
                          llvm::StringRef kind) {
    SmallVector<llvm::Constant *> entries;
    for (auto [i, tensor] : llvm::enumerate(list)) {
      llvm::Constant *dims =
          tensor.dims.empty()
              ? llvm::ConstantPointerNull::get(ptr)
              : privateGlobal(llvm::ConstantDataArray::get(
                                  context, llvm::ArrayRef<uint64_t>(
                                               reinterpret_cast<const uint64_t *>(
                                                   tensor.dims.data()),
                                               tensor.dims.size())),
                              kind + "_dims_" + llvm::Twine(i));
      entries.push_back(llvm::ConstantStruct::get(
          tensorDesc,
          {string(tensor.name, kind + "_name_" + llvm::Twine(i)),
           llvm::ConstantInt::get(i32, tensor.dtype),
           llvm::ConstantInt::get(i32, tensor.dims.size()), dims}));
    }
    auto *type = llvm::ArrayType::get(tensorDesc, entries.size());
    return privateGlobal(llvm::ConstantArray::get(type, entries), kind);
  }

  llvm::Module &module;
  llvm::LLVMContext &context;
  std::string prefix;
  llvm::Type *i32;
  llvm::PointerType *ptr;
  llvm::StructType *tensorDesc, *modelDesc;
};

/// `void <prefix>_entry(void **args)`: args[0] is the results' descriptor
/// block, args[1 + i] input i's descriptor, then the workspace's and the
/// weights' if the model has them (`numBuffers` of these); forwards to the C
/// interface wrapper MLIR generated for the entry function.
llvm::Function *buildEntry(llvm::Module &module, llvm::Function *ciface,
                           unsigned numInputs, unsigned numBuffers,
                           llvm::StringRef prefix) {
  llvm::LLVMContext &context = module.getContext();
  auto *ptr = llvm::PointerType::getUnqual(context);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptr},
                                       /*isVarArg=*/false);
  auto *entry = llvm::Function::Create(type, llvm::GlobalValue::InternalLinkage,
                                       prefix + "_entry", module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", entry));
  SmallVector<llvm::Value *> args;
  for (unsigned i = 0; i <= numInputs + numBuffers; ++i) {
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptr, entry->getArg(0), i);
    args.push_back(b.CreateLoad(ptr, slot));
  }
  b.CreateCall(ciface, args);
  b.CreateRetVoid();
  return entry;
}

/// `int main(int argc, char **argv)` running the shared CLI on the model.
void buildMain(llvm::Module &module, llvm::GlobalVariable *descriptor) {
  llvm::LLVMContext &context = module.getContext();
  auto *ptr = llvm::PointerType::getUnqual(context);
  auto *i32 = llvm::Type::getInt32Ty(context);
  llvm::FunctionCallee cli = module.getOrInsertFunction(
      "quarc_cli_main", llvm::FunctionType::get(i32, {ptr, i32, ptr}, false));
  auto *main = llvm::Function::Create(
      llvm::FunctionType::get(i32, {i32, ptr}, false),
      llvm::GlobalValue::ExternalLinkage, "main", module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", main));
  b.CreateRet(b.CreateCall(cli, {descriptor, main->getArg(0), main->getArg(1)}));
}

std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const TargetInfo &target, std::string &error) {
  static bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)initialized;
  llvm::Triple triple(target.triple());
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return nullptr;
  return std::unique_ptr<llvm::TargetMachine>(llvmTarget->createTargetMachine(
      triple, target.cpu, target.llvmFeatures(), llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

} // namespace

std::unique_ptr<llvm::Module>
translateModel(ModuleOp module, llvm::LLVMContext &context,
               const ModelSignature &signature, const TargetInfo &target,
               llvm::StringRef prefix, bool withMain) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, prefix);
  if (!llvmModule) {
    module.emitError("translation to LLVM IR failed");
    return nullptr;
  }
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(target, error);
  if (!machine) {
    module.emitError() << "target " << target.name() << ": " << error;
    return nullptr;
  }
  llvmModule->setTargetTriple(machine->getTargetTriple());
  llvmModule->setDataLayout(machine->createDataLayout());
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", target.cpu);
    function.addFnAttr("target-features", target.llvmFeatures());
  }
  llvm::Function *ciface =
      llvmModule->getFunction(("_mlir_ciface_" + prefix + "_main_graph").str());
  if (!ciface) {
    module.emitError("the lowered module has no C interface for the entry "
                     "function (was prepareEntryFunction called?)");
    return nullptr;
  }
  unsigned numBuffers =
      (signature.workspaceBytes > 0) + (signature.weightsBytes > 0);
  llvm::Function *entry = buildEntry(
      *llvmModule, ciface, signature.inputs.size(), numBuffers, prefix);
  llvm::GlobalVariable *descriptor =
      DescriptorBuilder(*llvmModule, prefix).build(signature, target, entry);
  if (withMain)
    buildMain(*llvmModule, descriptor);
  return llvmModule;
}

/// The -O3 module pipeline (vectorizers included) for `machine`.
static void runOptimizationPipeline(llvm::Module &module,
                                    llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(module, mam);
}

LogicalResult optimizeModule(llvm::Module &module, const TargetInfo &target,
                             std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(target, error);
  if (!machine)
    return failure();
  runOptimizationPipeline(module, *machine);
  return success();
}

LogicalResult emitObject(llvm::Module &module, const TargetInfo &target,
                         llvm::raw_pwrite_stream &os, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(target, error);
  if (!machine)
    return failure();
  runOptimizationPipeline(module, *machine);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error = "the LLVM backend cannot emit object files for " + target.name();
    return failure();
  }
  passes.run(module);
  return success();
}

//===----------------------------------------------------------------------===//
// Weights file
//===----------------------------------------------------------------------===//

uint64_t hashWeights(llvm::ArrayRef<char> data) {
  // FNV-1a, 64 bits (http://www.isthe.com/chongo/tech/comp/fnv/).
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string weightsFileHeader(llvm::ArrayRef<char> weights) {
  std::string header(QUARC_WEIGHTS_HEADER_BYTES, '\0');
  auto put = [&](size_t at, uint64_t value, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i)
      header[at + i] = static_cast<char>(value >> (8 * i));
  };
  std::memcpy(header.data(), QUARC_WEIGHTS_MAGIC, 8);
  put(offsetof(quarc_weights_header, version), QUARC_WEIGHTS_VERSION, 4);
  put(offsetof(quarc_weights_header, header_bytes), QUARC_WEIGHTS_HEADER_BYTES,
      4);
  put(offsetof(quarc_weights_header, weights_bytes), weights.size(), 8);
  put(offsetof(quarc_weights_header, weights_hash), hashWeights(weights), 8);
  return header;
}

//===----------------------------------------------------------------------===//
// C header
//===----------------------------------------------------------------------===//

static const char *kRuntimeHeader =
#include "quarc/Compiler/RuntimeHeader.inc"
    ;

static const char *dtypeName(int32_t dtype) {
  switch (dtype) {
  case 1: return "float32";
  case 2: return "uint8";
  case 3: return "int8";
  case 5: return "int16";
  case 6: return "int32";
  case 7: return "int64";
  case 9: return "bool";
  case 10: return "float16";
  case 11: return "float64";
  default: return "unknown";
  }
}

static std::string describeTensor(const TensorSignature &tensor) {
  std::string text = " *   " + tensor.name + ": " + dtypeName(tensor.dtype) + "[";
  for (auto [i, dim] : llvm::enumerate(tensor.dims))
    text += (i ? "x" : "") + (dim < 0 ? std::string("?") : std::to_string(dim));
  return text + "]\n";
}

std::string generateHeader(const ModelSignature &signature,
                           const TargetInfo &target, llvm::StringRef prefix) {
  std::string guard = llvm::StringRef(prefix).upper() + "_QUARC_MODEL_H";
  std::string text = "/* Generated by quarc for target " + target.name() +
                     ". Do not edit.\n *\n * Inputs:\n";
  for (const TensorSignature &tensor : signature.inputs)
    text += describeTensor(tensor);
  text += " * Outputs:\n";
  for (const TensorSignature &tensor : signature.outputs)
    text += describeTensor(tensor);
  text += " * ('?' is a dimension given at run time.)\n *\n"
          " * Usage:\n"
          " *   quarc_session *s;\n";
  if (signature.weightsFile.empty())
    text += " *   quarc_session_create(&" + prefix.str() + "_model, &s);\n";
  else
    text += " *   char error[1024];\n"
            " *   quarc_session_create_with_weights(&" + prefix.str() +
            "_model, \"PATH/" + signature.weightsFile +
            "\", &s,\n"
            " *                                     error, sizeof error);\n";
  text += " *   quarc_session_run(s, inputs, n_in, outputs, n_out);\n"
          " *   quarc_session_destroy(s);\n"
          " * Link with the object (or library) and libquarc_runtime.a -lm.\n";
  if (!signature.weightsFile.empty())
    text += " * The weights are in " + signature.weightsFile +
            ", written by the same compile.\n";
  text += " */\n\n#ifndef " + guard + "\n#define " + guard + "\n\n";
  text += kRuntimeHeader;
  text += "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
          "/* The compiled model. */\nextern const quarc_model_desc " +
          prefix.str() + "_model;\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " +
          guard + " */\n";
  return text;
}

} // namespace mlir::quarc
