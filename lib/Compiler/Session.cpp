//===- Session.cpp - one model through the compiler ----------------------===//

#include "quarc/Compiler/Session.h"
#include "quarc/Calibration/RangeEstimators.h"
#include "quarc/Quantization/QuantScheme.h"
#include "KernelCoverage.h"
#include "quarc/Compiler/Calibrate.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Export/ONNX/ExportONNX.h"
#include "quarc/Import/ONNX/ImportONNX.h"
#include "quarc/Support/SpecialFiles.h"
#include "quarc/Target/CPU/Passes.h"
#include "quarc/quarc_runtime.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#ifndef QUARC_LLVM_TOOLS_DIR
#define QUARC_LLVM_TOOLS_DIR "/usr/lib/llvm-22/bin"
#endif

extern "C" void memrefCopy(int64_t, void *, void *);
extern "C" void *_mlir_memref_to_llvm_alloc(size_t);
extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t, size_t);
extern "C" void _mlir_memref_to_llvm_free(void *);

namespace mlir::quarc {

void registerCompilerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registerOnnxImportDialects(registry);
}

static OwningOpRef<ModuleOp> loadModel(MLIRContext &context, StringRef path) {
  if (path.ends_with(".mlir"))
    return parseSourceFile<ModuleOp>(path, &context);
  return importOnnxFile(path, &context);
}

static LogicalResult runPipeline(ModuleOp module,
                                 function_ref<void(OpPassManager &)> build) {
  PassManager pm(module->getContext());
  build(pm);
  return pm.run(module);
}

/// Runs the graph pipeline; a pipeline that cannot be built (an unknown
/// pass in `graphPasses`) is a diagnostic on the module.
static LogicalResult runGraphPipeline(ModuleOp module,
                                      const PipelineOptions &options) {
  PassManager pm(module->getContext());
  std::string error;
  if (failed(buildGraphPipeline(pm, options, error)))
    return module->emitError(error);
  return pm.run(module);
}

/// `NAME=D0xD1x...` for each input whose declared type has dynamic dims,
/// that `fixed` does not name, and for which `source` has a compatible
/// shape.
static std::vector<std::string>
getDataShapes(func::FuncOp func, ArrayRef<std::string> fixed,
              InputShapeSource source) {
  std::vector<std::string> specs;
  unsigned numInputs = func.getNumArguments();
  std::vector<std::string> names;
  for (unsigned i = 0; i < numInputs; ++i)
    if (auto name = func.getArgAttrOfType<StringAttr>(i, "quarc.name"))
      names.push_back(name.getValue().str());
  for (unsigned i = 0; i < numInputs; ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, "quarc.name");
    auto declared = dyn_cast<RankedTensorType>(func.getArgumentTypes()[i]);
    if (!name || !declared || declared.hasStaticShape() ||
        llvm::any_of(fixed, [&](StringRef spec) {
          return spec.rsplit('=').first == name.getValue();
        }))
      continue;
    std::optional<SmallVector<int64_t>> shape =
        source(name.getValue(), names);
    if (!shape || shape->size() != size_t(declared.getRank()) ||
        llvm::any_of(llvm::zip(declared.getShape(), *shape), [](auto dims) {
          auto [model, data] = dims;
          return !ShapedType::isDynamic(model) && model != data;
        }))
      continue;
    std::string spec = name.getValue().str() + "=";
    llvm::raw_string_ostream os(spec);
    llvm::interleave(*shape, os, "x");
    specs.push_back(spec);
  }
  return specs;
}

FailureOr<ModelSignature> importModelSignature(MLIRContext &context,
                                               StringRef modelPath) {
  OwningOpRef<ModuleOp> module = loadModel(context, modelPath);
  if (!module)
    return failure();
  func::FuncOp func = getModelFunction(*module);
  if (!func)
    return module->emitError("the model has no entry function");
  return getModelSignature(func);
}

/// Loads the model; when it is to be quantized, records the hash of its file
/// on the module, so that quarc-quantize refuses stats of another model.
static OwningOpRef<ModuleOp>
loadModelForPipeline(MLIRContext &context, StringRef modelPath,
                     const PipelineOptions &options) {
  OwningOpRef<ModuleOp> module = loadModel(context, modelPath);
  if (!module || options.quantizeStats.empty())
    return module;
  std::string error;
  FailureOr<std::string> hash = hashModelFile(modelPath, error);
  if (failed(hash)) {
    module->emitError(error);
    return nullptr;
  }
  module->getOperation()->setAttr("quarc.model_hash",
                                  StringAttr::get(&context, *hash));
  return module;
}

FailureOr<LoweredModel> lowerModel(MLIRContext &context, StringRef modelPath,
                                   const PipelineOptions &givenOptions,
                                   StringRef prefix,
                                   InputShapeSource inputShapes,
                                   GraphInspector inspectGraph) {
  // The built-in pipelines are partly text: the passes they name must be
  // registered.
  registerCompilerPasses();
  LoweredModel model;
  model.module = loadModelForPipeline(context, modelPath, givenOptions);
  if (!model.module)
    return failure();
  PipelineOptions options = givenOptions;
  if (inputShapes)
    if (func::FuncOp func = getModelFunction(*model.module))
      for (std::string &spec :
           getDataShapes(func, options.inputShapes, inputShapes))
        options.inputShapes.push_back(std::move(spec));
  model.target = options.target;
  model.prefix = prefix.str();
  if (failed(runGraphPipeline(*model.module, options)))
    return failure();
  if (inspectGraph && failed(inspectGraph(*model.module)))
    return failure();
  func::FuncOp func = getModelFunction(*model.module);
  if (!func) {
    model.module->emitError("the model has no entry function");
    return failure();
  }
  if (std::optional<std::string> warning = getDynamicKernelSizesWarning(func))
    model.warnings.push_back(std::move(*warning));
  FailureOr<ModelSignature> signature = getModelSignature(func);
  if (failed(signature))
    return failure();
  model.signature = std::move(*signature);
  prepareEntryFunction(func, prefix);
  if (failed(runPipeline(*model.module, [&](OpPassManager &pm) {
        buildLowerToLLVMPipeline(pm, options);
      })))
    return failure();
  // quarc-plan-memory's workspace and quarc-externalize-weights' weights,
  // kept on the lowered function.
  auto lowered = model.module->lookupSymbol<LLVM::LLVMFuncOp>(
      (prefix + "_main_graph").str());
  if (!lowered) {
    model.module->emitError("the lowered module lost the entry function");
    return failure();
  }
  if (auto bytes = lowered->getAttrOfType<IntegerAttr>(kWorkspaceBytesAttr))
    model.signature.workspaceBytes = bytes.getInt();
  model.externalWeights = options.externalWeights;
  if (auto names = model.module->getOperation()->getAttrOfType<ArrayAttr>(
          kObservedTensorsAttr))
    for (auto name : names.getAsValueRange<StringAttr>())
      model.observedTensors.push_back(name.str());
  if (auto bytes = lowered->getAttrOfType<IntegerAttr>(kWeightsBytesAttr))
    model.signature.weightsBytes = bytes.getInt();
  if (auto data =
          lowered->getAttrOfType<DenseResourceElementsAttr>(kWeightsDataAttr)) {
    ArrayRef<char> bytes = data.getData();
    model.weights.assign(bytes.begin(), bytes.end());
    // Only the weights file carries them from here on.
    lowered->removeAttr(kWeightsDataAttr);
  }
  if (int64_t(model.weights.size()) != model.signature.weightsBytes) {
    lowered.emitError() << "the weights argument has "
                        << model.signature.weightsBytes
                        << " bytes but their contents " << model.weights.size();
    return failure();
  }
  if (model.externalWeights)
    model.signature.weightsHash = hashWeights(model.weights);
  return model;
}

LogicalResult writeQDQModel(MLIRContext &context, StringRef modelPath,
                            const PipelineOptions &givenOptions,
                            StringRef outputPath, std::string &error) {
  if (givenOptions.quantizeStats.empty() && !givenOptions.weightOnlyQuantize)
    return emitError(FileLineColLoc::get(&context, modelPath, 0, 0))
           << "quantizing needs a calibration stats file";
  PipelineOptions options = givenOptions;
  options.foldQDQ = false;
  OwningOpRef<ModuleOp> module =
      loadModelForPipeline(context, modelPath, options);
  if (!module || failed(runGraphPipeline(*module, options)))
    return failure();
  return exportOnnxFile(*module, outputPath, error);
}

ArtifactKind artifactKindForPath(StringRef path) {
  StringRef extension = llvm::sys::path::extension(path);
  if (extension == ".o")
    return ArtifactKind::Object;
  if (extension == ".so")
    return ArtifactKind::SharedLibrary;
  if (extension == ".ll")
    return ArtifactKind::LLVMIR;
  return ArtifactKind::Executable;
}

namespace {

/// A file written under a temporary name and renamed into place by
/// `keep()`; removed otherwise. A final path that is a device or a FIFO
/// (`-o /dev/null`) is not renamed onto but written into (SpecialFiles.h),
/// from a temporary file in the system's temporary folder; so is a file
/// only ever used as `inTempFolder`'s scratch.
class PendingFile {
public:
  explicit PendingFile(StringRef finalPath, bool inTempFolder = false)
      : finalPath(finalPath.str()), special(isSpecialFile(finalPath)),
        inTempFolder(inTempFolder || special) {}
  ~PendingFile() {
    if (!tempPath.empty() && !kept)
      llvm::sys::fs::remove(tempPath);
  }

  LogicalResult create(std::string &error) {
    SmallString<256> model(finalPath);
    model += ".tmp-%%%%%%";
    int fd;
    // In the temporary folder, with the final path's extension (the tools
    // that write it may go by it).
    StringRef extension = llvm::sys::path::extension(finalPath);
    std::error_code ec =
        inTempFolder
            ? llvm::sys::fs::createTemporaryFile(
                  "quarc-output", extension.empty() ? "tmp" : extension.drop_front(),
                  fd, tempPathStorage)
            : llvm::sys::fs::createUniqueFile(model, fd, tempPathStorage);
    if (ec) {
      error = "cannot create a file next to " + finalPath + ": " + ec.message();
      return failure();
    }
    tempPath = tempPathStorage.str().str();
    llvm::sys::Process::SafelyCloseFileDescriptor(fd);
    return success();
  }

  const std::string &path() const { return tempPath; }

  /// Whether the final path is a device or a FIFO (written into, not
  /// replaced).
  bool isSpecial() const { return special; }

  LogicalResult keep(std::string &error, bool executable = false) {
    if (special) {
      std::error_code ec = llvm::sys::fs::copy_file(tempPath, finalPath);
      llvm::sys::fs::remove(tempPath);
      if (ec) {
        error = "cannot write " + finalPath + ": " + ec.message();
        return failure();
      }
      kept = true;
      return success();
    }
    if (executable)
      llvm::sys::fs::setPermissions(tempPath, llvm::sys::fs::all_read |
                                                  llvm::sys::fs::all_exe |
                                                  llvm::sys::fs::owner_write);
    if (std::error_code ec = llvm::sys::fs::rename(tempPath, finalPath)) {
      error = "cannot write " + finalPath + ": " + ec.message();
      return failure();
    }
    kept = true;
    return success();
  }

private:
  std::string finalPath, tempPath;
  SmallString<256> tempPathStorage;
  bool special, inTempFolder;
  bool kept = false;
};

LogicalResult writeText(StringRef path, StringRef text, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = "cannot write " + path.str() + ": " + ec.message();
    return failure();
  }
  os << text;
  os.close();
  if (os.has_error()) {
    error = "cannot write " + path.str() + ": " + os.error().message();
    return failure();
  }
  return success();
}

/// Where libquarc_runtime.a for `arch` lives.
std::string findRuntimeLibrary(StringRef arch) {
  SmallString<256> path(getResourceRoot());
  llvm::sys::path::append(path, "lib", "quarc", arch, "libquarc_runtime.a");
  return path.str().str();
}

/// Links `object` with the runtime into an executable or, if `shared`, a
/// shared library that also exports the model's descriptor as
/// `quarc_library_model`, the name quarc.load finds it by whatever the file
/// is called (`<prefix>_model` depends on the name it was compiled to).
LogicalResult link(const TargetInfo &target, StringRef object, StringRef output,
                   StringRef prefix, bool shared, std::string &error) {
  std::string runtime = findRuntimeLibrary(target.arch);
  if (!llvm::sys::fs::exists(runtime)) {
    error = "the quarc runtime for " + target.arch + " is not installed (" +
            runtime + ")";
    return failure();
  }
  std::string clang = QUARC_LLVM_TOOLS_DIR "/clang";
  std::vector<std::string> args = {clang, "--target=" + target.triple(),
                                   "-fuse-ld=lld"};
  // A shared library binds its calls into the runtime (the allocator of
  // its buffers, the thread pool) to its own copy, whatever else the
  // process has loaded.
  if (shared)
    args.insert(args.end(),
                {"-shared", "-Wl,-Bsymbolic",
                 "-Wl,--defsym=quarc_library_model=" + prefix.str() + "_model"});
  args.insert(args.end(), {"-o", output.str(), object.str()});
  // A shared library exports the whole session API, used or not.
  if (shared)
    args.push_back("-Wl,--whole-archive");
  args.push_back(runtime);
  if (shared)
    args.push_back("-Wl,--no-whole-archive");
  args.insert(args.end(), {"-lm", "-pthread"});
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(clang, argRefs, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    error = "linking failed (" + clang + " exited with " + std::to_string(rc) +
            (message.empty() ? "" : ": " + message) + ")";
    return failure();
  }
  return success();
}

/// `path` made absolute, without `.` and `..`: to tell whether two output
/// paths name the same file before either exists.
std::string normalizedPath(StringRef path) {
  SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  return absolute.str().str();
}

} // namespace

LogicalResult writeArtifact(LoweredModel &model, ArtifactKind kind,
                            StringRef path, std::string &error,
                            StringRef weightsPath) {
  SmallString<256> headerPath(path);
  llvm::sys::path::replace_extension(headerPath, ".h");
  if (kind == ArtifactKind::Executable)
    headerPath = path.str() + ".h";
  if (model.externalWeights != !weightsPath.empty()) {
    error = model.externalWeights
                ? "the model was lowered with external weights but no "
                  "weights file was given"
                : "a weights file was given but the model was lowered with "
                  "embedded weights";
    return failure();
  }
  if (!weightsPath.empty()) {
    std::string weights = normalizedPath(weightsPath);
    if (weights == normalizedPath(path) ||
        (kind != ArtifactKind::LLVMIR &&
         weights == normalizedPath(headerPath))) {
      error = "the weights file " + weightsPath.str() +
              " would overwrite another output of the compile";
      return failure();
    }
    model.signature.weightsFile = llvm::sys::path::filename(weightsPath).str();
  }

  // The weights file first, so that it is complete before the artefact
  // that names it is in place.
  PendingFile weightsFile(weightsPath);
  if (!weightsPath.empty()) {
    if (failed(weightsFile.create(error)))
      return failure();
    std::error_code ec;
    llvm::raw_fd_ostream os(weightsFile.path(), ec);
    if (!ec) {
      os << weightsFileHeader(model.weights);
      os.write(model.weights.data(), model.weights.size());
      os.close();
      ec = os.error();
    }
    if (ec) {
      error = "cannot write " + weightsPath.str() + ": " + ec.message();
      return failure();
    }
  }
  // Moves the weights file into place (before the artefact), or removes
  // it again when the artefact could not be.
  auto keepWeights = [&]() -> LogicalResult {
    return weightsPath.empty() ? success() : weightsFile.keep(error);
  };
  // Removes the weights file again when a later output fails (not a device
  // or a FIFO it was written into).
  auto removeWeights = [&] {
    if (!weightsPath.empty() && !weightsFile.isSpecial())
      llvm::sys::fs::remove(weightsPath);
  };

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateModel(
      *model.module, llvmContext, model.signature, model.target, model.prefix,
      /*withMain=*/kind == ArtifactKind::Executable);
  if (!llvmModule) {
    error = "code generation failed";
    return failure();
  }
  PendingFile artifact(path);
  if (failed(artifact.create(error)))
    return failure();

  if (kind == ArtifactKind::LLVMIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    if (failed(writeText(artifact.path(), text, error)) ||
        failed(keepWeights()))
      return failure();
    if (failed(artifact.keep(error))) {
      removeWeights();
      return failure();
    }
    return success();
  }

  // The object goes to its own temporary file when it is only an input
  // to the linker.
  PendingFile object(path.str() + ".o", /*inTempFolder=*/artifact.isSpecial());
  if (kind != ArtifactKind::Object && failed(object.create(error)))
    return failure();
  StringRef objectPath =
      kind == ArtifactKind::Object ? artifact.path() : object.path();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec);
    if (ec) {
      error = "cannot write " + objectPath.str() + ": " + ec.message();
      return failure();
    }
    if (failed(emitObject(*llvmModule, model.target, os, error)))
      return failure();
  }
  if (kind != ArtifactKind::Object &&
      failed(link(model.target, objectPath, artifact.path(), model.prefix,
                  kind == ArtifactKind::SharedLibrary, error)))
    return failure();

  // An artefact written into a device or a FIFO (-o /dev/null) has no
  // header: /dev/null.h would be a new file among the devices.
  bool withHeader = !artifact.isSpecial();
  PendingFile header(headerPath);
  if (withHeader &&
      (failed(header.create(error)) ||
       failed(writeText(header.path(),
                        generateHeader(model.signature, model.target,
                                       model.prefix),
                        error))))
    return failure();
  // The header and the weights go into place first: if a later rename
  // fails, the earlier files are removed again, so nothing half-done stays
  // behind.
  if (withHeader && failed(header.keep(error)))
    return failure();
  auto removeHeader = [&] {
    if (withHeader)
      llvm::sys::fs::remove(headerPath);
  };
  if (failed(keepWeights())) {
    removeHeader();
    return failure();
  }
  if (failed(artifact.keep(error, kind == ArtifactKind::Executable))) {
    removeHeader();
    removeWeights();
    return failure();
  }
  return success();
}

FailureOr<std::unique_ptr<JitModel>>
JitModel::create(LoweredModel &model, std::string &error,
                 ArrayRef<HostSymbol> extraSymbols) {
  if (!model.target.runsOnHost()) {
    error = "cannot run code for " + model.target.name() + " on this machine (" +
            TargetInfo::host().name() + ")";
    return failure();
  }
  if (model.externalWeights) {
    error = "the JIT runs models with embedded weights only";
    return failure();
  }
  ExecutionEngineOptions options;
  // llvmModuleBuilder and transformer are function_refs: the callables must
  // outlive create().
  auto buildModule = [&](Operation *op, llvm::LLVMContext &context) {
    return translateModel(cast<ModuleOp>(op), context, model.signature,
                          model.target, model.prefix, /*withMain=*/false);
  };
  options.llvmModuleBuilder = buildModule;
  TargetInfo target = model.target;
  auto optimize = [target](llvm::Module *module) -> llvm::Error {
    std::string message;
    if (failed(optimizeModule(*module, target, message)))
      return llvm::make_error<llvm::StringError>(message,
                                                llvm::inconvertibleErrorCode());
    return llvm::Error::success();
  };
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(*model.module, options);
  if (!engine) {
    error = "JIT compilation failed: " + llvm::toString(engine.takeError());
    return failure();
  }
  auto jit = std::make_unique<JitModel>();
  jit->engine = std::move(*engine);
  // Generated code calls the runtime's memrefCopy, buffer allocator and
  // quarc_parallel_for; the JIT links them from this process rather than
  // from MLIR's runner libraries.
  jit->engine->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    auto bind = [&](StringRef name, auto *address) {
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    };
    for (const HostSymbol &symbol : extraSymbols)
      bind(symbol.name, symbol.address);
    bind("memrefCopy", &memrefCopy);
    bind("_mlir_memref_to_llvm_alloc", &_mlir_memref_to_llvm_alloc);
    bind("_mlir_memref_to_llvm_aligned_alloc",
         &_mlir_memref_to_llvm_aligned_alloc);
    bind("_mlir_memref_to_llvm_free", &_mlir_memref_to_llvm_free);
    symbols[interner("quarc_parallel_for")] = {
        llvm::orc::ExecutorAddr::fromPtr(&quarc_parallel_for),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  auto symbol = jit->engine->lookup(model.prefix + "_model");
  if (!symbol) {
    error = "JIT: " + llvm::toString(symbol.takeError());
    return failure();
  }
  jit->desc = static_cast<const quarc_model_desc *>(*symbol);
  return jit;
}

static std::string &resourceRootOverride() {
  static std::string root;
  return root;
}

std::string getResourceRoot() {
  if (!resourceRootOverride().empty())
    return resourceRootOverride();
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  return llvm::sys::path::parent_path(llvm::sys::path::parent_path(self))
      .str();
}

void setResourceRoot(StringRef root) { resourceRootOverride() = root.str(); }

FailureOr<std::vector<std::string>>
getQuarcOpsOfOnnxTypes(ArrayRef<std::string> opTypes, std::string &error) {
  SmallVector<SupportedOnnxOp> supported = getSupportedOnnxOps();
  std::vector<std::string> quarcOps;
  for (const std::string &opType : opTypes) {
    auto it = llvm::find_if(supported, [&](const SupportedOnnxOp &op) {
      return (op.domain.empty() || op.domain == "ai.onnx") &&
             op.opType == opType;
    });
    if (it == supported.end()) {
      error = "'" + opType +
              "' is not an ONNX op type quarc imports (quarc-translate "
              "--list-onnx-ops lists them; the names are case-sensitive)";
      return failure();
    }
    quarcOps.push_back(it->quarcOp.str());
  }
  return quarcOps;
}

LogicalResult checkSchemeOption(StringRef scheme, StringRef quantize,
                                std::string &error) {
  llvm::Expected<QuantScheme> parsed = parseQuantScheme(scheme);
  if (!parsed) {
    error = llvm::toString(parsed.takeError());
    return failure();
  }
  if (failed(calibration::parseMethod(parsed->calibrationMethod, error)))
    return failure();
  if (quantize == "dynamic-int8" && parsed->weights.type.bits != 8) {
    error = "dynamic-int8 takes 8-bit weights, not " + parsed->weights.str();
    return failure();
  }
  return success();
}

} // namespace mlir::quarc
