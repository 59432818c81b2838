//===- Plugin.h - declare a quarc pass plugin ---------------------*- C++ -*-===//
//
// A pass plugin is a shared library that registers passes when quarc-opt or
// quarc loads it (`--load-pass-plugin=PATH`). Build it against this quarc
// with find_package(Quarc) and quarc_add_pass_plugin (docs/plugins.md), and
// declare it once, at namespace scope in one source file:
//
//   QUARC_PASS_PLUGIN("my-plugin", "1.0", [] { registerMyPasses(); })
//
// This defines MLIR's plugin entry point (mlirGetPassPluginInfo) and
// records the quarc version (and LLVM release) the plugin was compiled
// against: quarc's C++ interfaces change between versions, so quarc
// registers the passes only of plugins built for its own version and
// refuses others with a message (the library is opened, so its static
// initializers have run, but none of its passes is registered). The plugin's code calls into
// quarc and MLIR as the host tool provides them (quarc-opt and quarc
// export their symbols); it must not link quarc's libraries itself, or it
// would carry a second copy of the quarc dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_PLUGIN_PLUGIN_H
#define QUARC_PLUGIN_PLUGIN_H

#include "quarc/Version.h"

#include "mlir/Tools/Plugins/PassPlugin.h"

/// The symbol through which quarc reads the version a plugin was built for.
#define QUARC_PLUGIN_VERSION_SYMBOL "quarcPluginBuiltForVersion"

/// Both entry points are exported even when the plugin hides its other
/// symbols (quarc_add_pass_plugin compiles with -fvisibility=hidden).
#define QUARC_PLUGIN_EXPORT __attribute__((visibility("default")))

#define QUARC_PASS_PLUGIN(NAME, PLUGIN_VERSION, REGISTER_PASSES)              \
  extern "C" QUARC_PLUGIN_EXPORT const char *quarcPluginBuiltForVersion() {   \
    return QUARC_PLUGIN_ABI_STRING;                                            \
  }                                                                            \
  extern "C" QUARC_PLUGIN_EXPORT ::mlir::PassPluginLibraryInfo                 \
  mlirGetPassPluginInfo() {                                                    \
    return {MLIR_PLUGIN_API_VERSION, NAME, PLUGIN_VERSION, REGISTER_PASSES};   \
  }

#endif // QUARC_PLUGIN_PLUGIN_H
