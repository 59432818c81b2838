//===- ConstantData.h - the data of quarc constants ------------*- C++ -*-===//
//
// The passes that rewrite weights (BatchNorm folding, compile-time
// transposes, packing for the integer kernels) read a constant's elements as raw bytes or doubles and store
// the result the way the importer does: dense for small tensors, a
// `dense_resource` blob for large ones.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_TRANSFORMS_CONSTANTDATA_H
#define QUARC_DIALECT_QUARC_TRANSFORMS_CONSTANTDATA_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include <optional>

namespace mlir::quarc {

/// Tensors with more elements than this are stored as resource blobs (the
/// importer's default `inlineElementLimit`).
constexpr int64_t kInlineElementLimit = 64;

/// The row-major little-endian bytes of a static-shaped `quarc.constant`
/// (splats expanded), for element types of a whole number of bytes; nullopt
/// for anything else.
std::optional<SmallVector<char>> getConstantBytes(Value value);
/// The same for the value `attr` of a constant (dense or `dense_resource`)
/// of static-shaped `type`.
std::optional<SmallVector<char>> getElementsBytes(ElementsAttr attr,
                                                  RankedTensorType type);

/// An elements attribute of `type` holding `bytes` (row-major, as returned by
/// getConstantBytes): dense up to kInlineElementLimit elements, otherwise a
/// `dense_resource` blob named after `key` (made unique by the blob manager).
ElementsAttr createElementsAttr(RankedTensorType type, ArrayRef<char> bytes,
                                StringRef key);

/// A float elements attribute of `type` from `values`, each rounded to the
/// element type (to nearest, ties to even).
ElementsAttr createFloatElementsAttr(RankedTensorType type,
                                     ArrayRef<double> values, StringRef key);

/// A name for a constant derived from `value` (which may be null): its
/// resource key when it has one, else `fallback`; `suffix` is appended.
std::string deriveConstantKey(Value value, StringRef fallback,
                              StringRef suffix);

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_TRANSFORMS_CONSTANTDATA_H
