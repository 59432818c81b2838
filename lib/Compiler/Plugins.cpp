//===- Plugins.cpp - load pass plugins into quarc's tools ----------------===//

#include "quarc/Compiler/Plugins.h"
#include "quarc/Plugin/Plugin.h"
#include "quarc/Version.h"

#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace mlir::quarc {

LogicalResult loadPassPlugin(StringRef path, std::string &error) {
  // Once per file: the tools load plugins from one thread, before they
  // compile anything.
  static llvm::StringSet<> loaded;
  SmallString<256> realPath;
  if (llvm::sys::fs::real_path(path, realPath)) {
    error = "cannot load pass plugin " + path.str() + ": no such file";
    return failure();
  }
  if (loaded.contains(realPath))
    return success();

  std::string message;
  auto library = llvm::sys::DynamicLibrary::getPermanentLibrary(
      realPath.c_str(), &message);
  if (!library.isValid()) {
    // An unresolved symbol is the usual sign of a plugin built against
    // another quarc (or MLIR) than the one loading it.
    error = "cannot load pass plugin " + path.str() + ": " + message +
            " (a plugin must be built against this quarc, version " +
            QUARC_PLUGIN_ABI_STRING + ")";
    return failure();
  }
  auto *builtFor = reinterpret_cast<const char *(*)()>(
      library.getAddressOfSymbol(QUARC_PLUGIN_VERSION_SYMBOL));
  if (!builtFor) {
    error = path.str() +
            " is not a quarc pass plugin: it does not say which quarc it was "
            "built for (declare it with QUARC_PASS_PLUGIN from "
            "quarc/Plugin/Plugin.h)";
    return failure();
  }
  StringRef version = builtFor();
  if (version != QUARC_PLUGIN_ABI_STRING) {
    error = "pass plugin " + path.str() + " was built against quarc " +
            version.str() + ", this is quarc " + QUARC_PLUGIN_ABI_STRING +
            ": rebuild it against this version";
    return failure();
  }
  llvm::Expected<PassPlugin> plugin = PassPlugin::load(realPath.str().str());
  if (!plugin) {
    error = llvm::toString(plugin.takeError());
    return failure();
  }
  plugin->registerPassRegistryCallbacks();
  loaded.insert(realPath);
  return success();
}

std::vector<std::string> takePassPluginArguments(std::vector<char *> &args) {
  std::vector<std::string> paths;
  std::vector<char *> kept;
  for (size_t i = 0; i < args.size(); ++i) {
    StringRef arg = args[i];
    if (arg.consume_front("--") || arg.consume_front("-")) {
      if (arg == "load-pass-plugin") {
        // The next argument, unless it is another option.
        bool hasPath = i + 1 < args.size() && args[i + 1][0] != '-';
        paths.push_back(hasPath ? args[++i] : "");
        continue;
      }
      if (arg.consume_front("load-pass-plugin=")) {
        paths.push_back(arg.str());
        continue;
      }
    }
    kept.push_back(args[i]);
  }
  args = std::move(kept);
  return paths;
}

} // namespace mlir::quarc
