//===- QuantParams.h - integer types and qparams ----------------*- C++ -*-===//
//
// The data every quantization step passes around: which integer grid a
// tensor is stored on (QuantType) and how real values map onto it
// (QuantParams: real = (q - zeroPoint) * scale). These are plain values;
// the MLIR form of the same thing is the !quant.uniform element type
// (QuantizedTypes.h converts both ways).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_QUANTPARAMS_H
#define QUARC_QUANTIZATION_QUANTPARAMS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <string>

namespace mlir::quarc {

/// An integer storage type with the range quantized values may use.
struct QuantType {
  /// 2..16: wider storage would not fit the int32 accumulators of the
  /// integer kernels with room for a dot product.
  unsigned bits = 8;
  bool isSigned = false;
  /// Drop the most negative (signed) or the zero (unsigned) level, so that
  /// the range is symmetric for signed types: s8 becomes [-127, 127].
  bool narrowRange = false;

  static QuantType u8() { return {8, false, false}; }
  static QuantType s8() { return {8, true, false}; }
  static QuantType u16() { return {16, false, false}; }
  static QuantType s16() { return {16, true, false}; }
  static QuantType u4() { return {4, false, false}; }
  static QuantType s4() { return {4, true, false}; }

  bool isValid() const { return bits >= 2 && bits <= 16; }

  /// The smallest and largest quantized value. With `reduceRange`, one bit
  /// less of the range is used, as onnxruntime's reduce_range does for
  /// machines whose only u8 x s8 instruction is AVX2's vpmaddubsw (which
  /// adds two u8*s8 products into a *saturating* int16):
  ///   signed N bits:   [-2^(N-2), 2^(N-2)]  (s8: [-64, 64]; narrowRange
  ///                    changes nothing, the range is already symmetric)
  ///   unsigned N bits: [narrow ? 1 : 0, 2^(N-1) - 1]  (u8: [0, 127])
  /// With s8 weights in [-64, 64] and full u8 activations, a pair sums to
  /// at most 2 * 255 * 64 = 32640 <= 32767, so vpmaddubsw cannot saturate.
  int64_t qmin(bool reduceRange = false) const;
  int64_t qmax(bool reduceRange = false) const;

  /// "u8", "s4", ... with ":narrow" appended when narrowRange is set.
  std::string str() const;

  bool operator==(const QuantType &other) const {
    return bits == other.bits && isSigned == other.isSigned &&
           narrowRange == other.narrowRange;
  }
};

/// How many (scale, zero point) pairs a tensor has. One name for the
/// concept everywhere (schemes, params); the MLIR types call per-channel
/// "per-axis" and per-group "sub-channel".
enum class Granularity {
  /// One pair for the whole tensor.
  PerTensor,
  /// One pair per index along `axis` (a conv's output channels).
  PerChannel,
  /// ONNX's blocked quantization (QuantizeLinear's block_size): along
  /// `axis`, each run of `groupSize` consecutive elements has its own pair;
  /// along every other dim each index has its own pair. A [N, K] weight
  /// grouped along K by 32 has [N, ceil(K / 32)] pairs.
  PerGroup,
};

/// The parameters of an affine quantization:
///   real = (q - zeroPoint) * scale,   q in [qmin, qmax].
struct QuantParams {
  /// The storage type: `storageBits`-wide, signed or not.
  unsigned storageBits = 8;
  bool isSigned = false;
  /// The range quantized values are clamped to: the type's full range, or
  /// narrowed or reduced (QuantType::qmin/qmax). Kept explicitly because it
  /// cannot be recovered from the type alone once reduceRange was used.
  int64_t qmin = 0;
  int64_t qmax = 255;

  Granularity granularity = Granularity::PerTensor;
  /// One entry per tensor, per channel, or per group (row-major over
  /// `groupShape`). Scales are positive, finite and exactly representable
  /// in f32 (ONNX stores scales as f32: export and import are lossless).
  llvm::SmallVector<double, 1> scales;
  /// Integers in [qmin, qmax], one per scale.
  llvm::SmallVector<int64_t, 1> zeroPoints;
  /// PerChannel, PerGroup: the dimension the parameters vary along.
  int32_t axis = 0;
  /// PerGroup: elements per group along `axis`.
  int64_t groupSize = 0;
  /// PerGroup: the shape of the scales tensor, i.e. the data's shape with
  /// dim `axis` replaced by ceil(dim / groupSize) (see groupParamShape).
  llvm::SmallVector<int64_t> groupShape;

  /// Per-tensor accessors.
  double scale() const { return scales.front(); }
  int64_t zeroPoint() const { return zeroPoints.front(); }

  /// Checks the invariants above (sizes agree, scales positive, finite and
  /// f32-exact, zero points in range, qmin < qmax within the type).
  llvm::Error verify() const;
  /// Checks that the parameters fit a tensor of `shape` (the axis exists,
  /// one scale per channel, the group shape matches).
  llvm::Error verifyForShape(llvm::ArrayRef<int64_t> shape) const;

  bool operator==(const QuantParams &other) const;
};

/// The shape of the per-group parameters for data of `shape` grouped by
/// `groupSize` along `axis`: `shape` with dim `axis` = ceil(dim/groupSize).
llvm::SmallVector<int64_t> groupParamShape(llvm::ArrayRef<int64_t> shape,
                                           int32_t axis, int64_t groupSize);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_QUANTPARAMS_H
