//===- PackedNibbles.h - the layout of weight-only products ----*- C++ -*-===//
//
// quarc.qmatmul_weight_only lowers to one linalg.generic over (m, n, k)
// whose weight is stored packed, two 4-bit values per byte, in panels of
// kNibblePanel columns (this is the RowPairs layout of f32 activations;
// int8 activations take RowQuads, below):
//
//   weights  [N16 / 16, K2 / 2, 16] i8
//                                  byte (p, k / 2, c) holds column 16p + c
//                                  of row k, in its low nibble for even k
//                                  and in its high one for odd k, as
//                                  unsigned values (signed storage offset
//                                  by 2^(bits-1))
//   scales   [N16 / 16, G, 16] f32 (p, k / g, c): the scale of column
//   zeros    [N16 / 16, G, 16] i8  16p + c in group k / g, and its zero
//                                  point (unsigned, in the same offset
//                                  form: 1/4 bit per weight, not 1)
//
// (N16: N rounded up to whole panels, the padding columns all zero; K2: K
// rounded up to even; G: ceil(K / g)), read through the maps
//
//   a (m, k), weights (n floordiv 16, k floordiv 2, n mod 16),
//   scales and zeros (n floordiv 16, k floordiv g, n mod 16), out (m, n)
//
// and a body that picks the nibble by the parity of k and computes
// `acc + a * ((f32(q) - f32(z)) * s)`. The layout is target-independent: the
// generic is valid as loops anywhere, and a panel row is one vector of
// 16 f32 lanes (one AVX-512 register, two AVX2 or four NEON ones) for
// quarc-vectorize-weight-only-matmul: sixteen bytes, zero-extended, are
// two rows of weights, one mask and one shift apart.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CONVERSION_QUARCTOLINALG_PACKEDNIBBLES_H
#define QUARC_CONVERSION_QUARCTOLINALG_PACKEDNIBBLES_H

#include "mlir/IR/AffineMap.h"

#include <cstdint>

namespace mlir::quarc {

/// Columns per panel of a packed weight-only product.
constexpr int64_t kNibblePanel = 16;

/// How the rows of k share bytes:
///  - RowPairs (f32 activations): byte rows of 16 bytes, byte c holding
///    column c of rows 2i (low nibble) and 2i + 1 (high nibble).
///  - RowQuads (int8 activations): byte rows of 64 bytes for 8 rows, byte
///    4c + j holding column c of rows 8i + j (low) and 8i + 4 + j (high),
///    j < 4: the low nibbles are the 4-k groups the integer dot products
///    (vpdpbusd, sdot) read per i32 lane, and so are the high ones.
enum class NibbleLayout { RowPairs, RowQuads };

inline int64_t getRowsPerByteRow(NibbleLayout layout) {
  return layout == NibbleLayout::RowPairs ? 2 : 8;
}
inline int64_t getBytesPerRow(NibbleLayout layout) {
  return layout == NibbleLayout::RowPairs ? kNibblePanel : 4 * kNibblePanel;
}

/// Where row k of panel column `lane` lives within its byte row.
struct NibblePosition {
  int64_t byte;
  bool high;
};
inline NibblePosition getNibblePosition(NibbleLayout layout, int64_t k,
                                        int64_t lane) {
  if (layout == NibbleLayout::RowPairs)
    return {lane, k % 2 == 1};
  return {4 * lane + k % 4, k % 8 >= 4};
}

/// The indexing maps of the packed generic over (m, n, k), in the order
/// of its operands: a's rows, with int8 activations their scales per
/// group, the packed bytes, the scales and the zero points (one map), and
/// the output. The lowering builds the generic with them and the kernel
/// pass recognizes it by them.
struct PackedProductMaps {
  AffineMap rows, rowScales, bytes, params, out;
};
inline PackedProductMaps getPackedProductMaps(MLIRContext *context,
                                              NibbleLayout layout,
                                              int64_t groupSize) {
  AffineExpr m = getAffineDimExpr(0, context), col = getAffineDimExpr(1, context),
             row = getAffineDimExpr(2, context);
  AffineExpr panel = col.floorDiv(kNibblePanel), lane = col % kNibblePanel;
  AffineExpr byte = layout == NibbleLayout::RowPairs ? lane : lane * 4 + row % 4;
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(3, 0, results, context);
  };
  return {map({m, row}), map({m, row.floorDiv(groupSize)}),
          map({panel, row.floorDiv(getRowsPerByteRow(layout)), byte}),
          map({panel, row.floorDiv(groupSize), lane}), map({m, col})};
}

} // namespace mlir::quarc

#endif // QUARC_CONVERSION_QUARCTOLINALG_PACKEDNIBBLES_H
