//===- SpecialFiles.h - outputs that are devices or pipes -------*- C++ -*-===//
//
// quarc writes its outputs under a temporary name and renames them into
// place, so that a failed write leaves nothing half-done behind. An output
// path that names a device or a FIFO (`-o /dev/null`, a pipe) must not be
// renamed onto: the rename would replace the device node itself (as root,
// /dev/null became a regular file holding the compiled model) and nothing
// reading the pipe would see the bytes. Such outputs are written in place.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_SUPPORT_SPECIALFILES_H
#define QUARC_SUPPORT_SPECIALFILES_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"

namespace mlir::quarc {

/// Whether `path` exists and is neither a regular file nor a directory (a
/// character device such as /dev/null, a FIFO, a socket).
inline bool isSpecialFile(llvm::StringRef path) {
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(path, status))
    return false;
  llvm::sys::fs::file_type type = status.type();
  return type != llvm::sys::fs::file_type::regular_file &&
         type != llvm::sys::fs::file_type::directory_file &&
         type != llvm::sys::fs::file_type::file_not_found;
}

} // namespace mlir::quarc

#endif // QUARC_SUPPORT_SPECIALFILES_H
