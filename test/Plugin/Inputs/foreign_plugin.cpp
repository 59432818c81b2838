//===- foreign_plugin.cpp - plugins quarc must refuse ----------------------===//
//
// Built twice by test/Plugin/CMakeLists.txt: with BUILT_FOR, a plugin that
// says it was built against another quarc version; without, an MLIR pass
// plugin that does not say (not declared with QUARC_PASS_PLUGIN). quarc
// must refuse both before running any of their code.
//
//===----------------------------------------------------------------------===//

#include "mlir/Tools/Plugins/PassPlugin.h"

#include <cstdlib>

#ifdef BUILT_FOR
extern "C" __attribute__((visibility("default"))) const char *
quarcPluginBuiltForVersion() {
  return BUILT_FOR;
}
#endif

extern "C" __attribute__((visibility("default"))) mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  // Registering would mean quarc loaded a plugin it should have refused.
  return {MLIR_PLUGIN_API_VERSION, "foreign", "1", [] { std::abort(); }};
}
