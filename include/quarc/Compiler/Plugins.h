//===- Plugins.h - load pass plugins into quarc's tools --------*- C++ -*-===//
//
// quarc-opt and quarc load pass plugins (`--load-pass-plugin=PATH`) through
// this, rather than MLIR's loader alone, so that a plugin built against
// another quarc version is refused with a message saying so, instead of
// crashing later in code that expects other classes (quarc/Plugin/Plugin.h).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_COMPILER_PLUGINS_H
#define QUARC_COMPILER_PLUGINS_H

#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace mlir::quarc {

/// Loads the pass plugin at `path` and registers its passes, after checking
/// that it was built for this quarc version. Fails with `error` naming the
/// file and what is wrong (not loadable, no quarc plugin, another version,
/// another MLIR plugin API). Loading the same file twice is a no-op. Not
/// thread-safe: the tools load their plugins before anything else.
LogicalResult loadPassPlugin(StringRef path, std::string &error);

/// Removes every `--load-pass-plugin=PATH` / `--load-pass-plugin PATH`
/// (one or two dashes) from `args` and returns the paths in order; a
/// missing path (none, or an option where it should be) is returned as "".
std::vector<std::string> takePassPluginArguments(std::vector<char *> &args);

} // namespace mlir::quarc

#endif // QUARC_COMPILER_PLUGINS_H
