//===- PendingOutput.h - contents written atomically, or into a device ---===//
//
// An output whose contents are written under a temporary name next to its
// final path and renamed into place by keep(), so that a failed run leaves
// nothing half-written; removed if never kept. A final path that is a
// device or a FIFO (SpecialFiles.h) is not renamed onto: its contents go to
// a temporary file in the system's temporary folder and keep() copies them
// into it.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_SUPPORT_PENDINGOUTPUT_H
#define QUARC_SUPPORT_PENDINGOUTPUT_H

#include "quarc/Support/SpecialFiles.h"

#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

namespace mlir::quarc {

class PendingOutput {
public:
  PendingOutput() = default;
  PendingOutput(const PendingOutput &) = delete;
  PendingOutput &operator=(const PendingOutput &) = delete;
  ~PendingOutput() {
    if (file)
      llvm::consumeError(file->discard());
  }

  /// Writes `contents` under a temporary name for `path`.
  LogicalResult create(llvm::StringRef path, llvm::StringRef contents,
                       std::string &error) {
    finalPath = path.str();
    special = isSpecialFile(path);
    llvm::SmallString<256> model(path);
    if (special) {
      llvm::sys::path::system_temp_directory(/*erasedOnReboot=*/true, model);
      llvm::sys::path::append(model, "quarc-output");
    }
    model += ".tmp-%%%%%%";
    llvm::Expected<llvm::sys::fs::TempFile> temp =
        llvm::sys::fs::TempFile::create(model);
    if (!temp)
      return fail(llvm::toString(temp.takeError()), error);
    file.emplace(std::move(*temp));
    llvm::raw_fd_ostream os(file->FD, /*shouldClose=*/false);
    os << contents;
    os.flush();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      return fail(message, error);
    }
    return success();
  }

  /// The temporary file, for tools that write or read it before keep().
  llvm::StringRef tempPath() const { return file->TmpName; }

  /// Renames the temporary file into place, or copies it into a device or
  /// a FIFO.
  LogicalResult keep(std::string &error) {
    if (special) {
      std::error_code ec = llvm::sys::fs::copy_file(file->TmpName, finalPath);
      llvm::consumeError(file->discard());
      file.reset();
      return ec ? fail(ec.message(), error) : success();
    }
    if (llvm::Error e = file->keep(finalPath))
      return fail(llvm::toString(std::move(e)), error);
    file.reset();
    return success();
  }

private:
  LogicalResult fail(const std::string &message, std::string &error) const {
    error = "cannot write '" + finalPath + "': " + message;
    return failure();
  }

  std::string finalPath;
  bool special = false;
  std::optional<llvm::sys::fs::TempFile> file;
};

} // namespace mlir::quarc

#endif // QUARC_SUPPORT_PENDINGOUTPUT_H
