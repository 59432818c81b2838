//===- ConstantData.cpp - read and write the data of quarc constants -----===//

#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include <cstring>

namespace mlir::quarc {

std::optional<SmallVector<char>> getConstantBytes(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!constant || !type)
    return std::nullopt;
  return getElementsBytes(constant.getValue(), type);
}

std::optional<SmallVector<char>> getElementsBytes(ElementsAttr attr,
                                                  RankedTensorType type) {
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  if (width % 8 != 0)
    return std::nullopt; // i1 and int4 are bit-packed.
  size_t elementBytes = width / 8, count = type.getNumElements();
  if (attr.getShapedType().getShape() != type.getShape() ||
      attr.getElementType() != type.getElementType())
    return std::nullopt;
  ArrayRef<char> raw;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    raw = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    raw = dense.getRawData();
    if (dense.isSplat() && raw.size() == elementBytes) {
      SmallVector<char> bytes;
      bytes.reserve(count * elementBytes);
      for (size_t i = 0; i < count; ++i)
        bytes.append(raw.begin(), raw.end());
      return bytes;
    }
  } else {
    return std::nullopt;
  }
  if (raw.size() != count * elementBytes)
    return std::nullopt;
  return SmallVector<char>(raw.begin(), raw.end());
}

ElementsAttr createElementsAttr(RankedTensorType type, ArrayRef<char> bytes,
                                StringRef key) {
  if (type.getNumElements() <= kInlineElementLimit)
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  // Resource keys must be printable identifiers, as in the importer.
  std::string name = key.empty() ? "tensor" : key.str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  if (!llvm::isAlpha(name.front()) && name.front() != '_')
    name.insert(name.begin(), '_');
  return DenseResourceElementsAttr::get(
      type, name,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(uint64_t),
                                                    /*dataIsMutable=*/false));
}

ElementsAttr createFloatElementsAttr(RankedTensorType type,
                                     ArrayRef<double> values, StringRef key) {
  auto floatType = cast<FloatType>(type.getElementType());
  size_t elementBytes = floatType.getWidth() / 8;
  SmallVector<char> bytes(values.size() * elementBytes);
  for (auto [i, value] : llvm::enumerate(values)) {
    if (floatType.isF32()) {
      float f = float(value);
      std::memcpy(bytes.data() + i * 4, &f, 4);
      continue;
    }
    APFloat v(value);
    bool lossy;
    v.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &lossy);
    APInt bits = v.bitcastToAPInt();
    std::memcpy(bytes.data() + i * elementBytes, bits.getRawData(),
                elementBytes);
  }
  return createElementsAttr(type, bytes, key);
}

std::string deriveConstantKey(Value value, StringRef fallback,
                              StringRef suffix) {
  if (auto constant = value ? value.getDefiningOp<ConstantOp>() : nullptr)
    if (auto resource =
            dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      return (resource.getRawHandle().getKey() + suffix).str();
  return (fallback + suffix).str();
}

} // namespace mlir::quarc
