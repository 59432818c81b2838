//===- NpyArray.h - NumPy .npy and .npz files in memory ---------*- C++ -*-===//
//
// Calibration samples are NumPy arrays: a .npy file holds one, a .npz file
// (a ZIP archive of KEY.npy members, what np.savez and np.savez_compressed
// write) holds one per model input. The readers accept what the runtime's
// .npy reader accepts (runtime/src/npy.c): the element types of quarc_dtype,
// little-endian, C order, rank <= QUARC_MAX_RANK, format versions 1.0, 2.0
// and 3.0. Every file is treated as hostile: sizes and offsets are checked
// before they are used, so a malformed file is one error naming the file
// (and the member), never an out-of-bounds read or a huge allocation.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CALIBRATION_NPYARRAY_H
#define QUARC_CALIBRATION_NPYARRAY_H

#include "quarc/quarc_runtime.h"

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir::quarc::calibration {

/// A dense, row-major array. `bytes` holds numElements() elements of
/// `dtype`, little-endian; its storage is aligned for any element type.
struct NpyArray {
  quarc_dtype dtype = QUARC_DTYPE_F32;
  llvm::SmallVector<int64_t> shape;
  std::vector<char> bytes;

  /// The product of the dims (1 for a scalar).
  int64_t numElements() const;
};

/// Bytes per element, 0 for a value that is not a quarc_dtype.
size_t getDTypeSize(quarc_dtype dtype);
/// The short name used in messages, as the runtime's: "f32", "u8", "bool".
StringRef getDTypeName(quarc_dtype dtype);
/// A shape as messages write it: "1x3x?x?" (-1 is a dynamic dim, '?'),
/// "scalar" for rank 0.
std::string formatShape(ArrayRef<int64_t> shape);

/// Parses the contents of a .npy file; `what` names it in errors
/// ("calib/s3.npz: member 'x.npy'").
LogicalResult readNpy(StringRef bytes, StringRef what, NpyArray &out,
                      std::string &error);
/// Reads the .npy file `path`.
LogicalResult readNpyFile(StringRef path, NpyArray &out, std::string &error);

/// Parses the contents of a .npz file; `what` names it in errors. On
/// success `members` holds (KEY, array) for each member KEY.npy, in the
/// archive's order. Reads stored (np.savez) and deflated
/// (np.savez_compressed) members, with or without ZIP64 fields, and checks
/// every member's CRC-32.
LogicalResult readNpz(StringRef bytes, StringRef what,
                      std::vector<std::pair<std::string, NpyArray>> &members,
                      std::string &error);
/// Reads the .npz file `path`.
LogicalResult
readNpzFile(StringRef path,
            std::vector<std::pair<std::string, NpyArray>> &members,
            std::string &error);

} // namespace mlir::quarc::calibration

#endif // QUARC_CALIBRATION_NPYARRAY_H
