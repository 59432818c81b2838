//===- QuantScheme.h - quantization schemes as data -------------*- C++ -*-===//
//
// A scheme says how each class of tensor is quantized (integer type,
// symmetry, granularity), which calibration method turns statistics into
// ranges, and how much of their range weights use. Passes read a scheme;
// they never hard-code one. Users change the default with `--scheme`:
//
//   scheme  := clause (',' clause)*
//   clause  := 'activations=' tensor
//            | 'weights=' tensor
//            | 'calibration=' METHOD      (a calibration method name, e.g.
//                                          minmax, percentile=99.99; checked
//                                          by calibration::parseMethod)
//            | 'reduce-range' ('=' ('true'|'false'|'pairs'))?
//   tensor  := field (':' field)*
//   field   := TYPE                        uN | sN | iN (= sN), N in 2..16,
//                                          also uint8/int8 style
//            | 'symmetric' | 'asymmetric'
//            | 'per-tensor' | 'per-channel' | 'per-group=' N   (N >= 1)
//            | 'narrow' | 'full-range'
//
// Clauses override the base scheme (the default CPU scheme unless another
// is given) field by field: `weights=per-group=32` keeps s8 and symmetric.
// Each key may appear once. Per-channel and per-group apply to weights
// only; activations are per-tensor (their parameters are fixed at compile
// time for the whole tensor). A weight's channel axis and group axis are
// the op's to choose (a conv's output channels, a matmul's K), not the
// scheme's.
//
// Example: activations=u8:asymmetric,weights=s4:symmetric:per-group=32
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_QUANTSCHEME_H
#define QUARC_QUANTIZATION_QUANTSCHEME_H

#include "quarc/Quantization/QuantParams.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <string>

namespace mlir::quarc {

/// How one class of tensors is quantized.
struct TensorQuantScheme {
  QuantType type;
  bool symmetric = false;
  Granularity granularity = Granularity::PerTensor;
  /// PerGroup only: elements per group.
  int64_t groupSize = 0;

  /// The `tensor` production above, every field spelled out, e.g.
  /// "s8:symmetric:per-channel".
  std::string str() const;
  bool operator==(const TensorQuantScheme &other) const;
};

/// The part of the weights' integer range a scheme uses: what makes
/// `vpmaddubsw` (AVX2 without VNNI), which adds two u8 x s8 products into a
/// saturating int16, exact.
enum class WeightRange {
  /// The type's whole range (`reduce-range=false`).
  Full,
  /// One bit less (`reduce-range`; s8: [-64, 64], onnxruntime's
  /// reduce_range): no pair of products can pass int16.
  Reduced,
  /// `reduce-range=pairs`, symmetric s8 weights only: each tensor's or
  /// channel's scale is the smallest that keeps, for every pair of weights
  /// vpmaddubsw multiplies together (neighbours 2m, 2m + 1 along the
  /// product's reduction dim), the sum of their same-signed quantized
  /// magnitudes within 128, so that 255 x 128 fits int16. Costs a fraction
  /// of a bit where Reduced costs one (0.2-0.4 bits on average on PP-OCR's
  /// and ResNet-50's convolutions).
  Pairs,
};

struct QuantScheme {
  TensorQuantScheme activations;
  TensorQuantScheme weights;
  /// A calibration method, as calibration::parseMethod reads it.
  std::string calibrationMethod = "minmax";
  /// How much of their integer range weights use (activations always use
  /// all of theirs).
  WeightRange weightRange = WeightRange::Full;

  /// Activations asymmetric u8 per-tensor, weights symmetric s8 per-channel
  /// (the operand types of VNNI's vpdpbusd, u8 x s8), min-max calibration,
  /// full range. Zero-point compensation of the u8 activations is folded
  /// into the bias at compile time.
  static QuantScheme getDefaultCPU();

  /// The whole scheme in the `--scheme` syntax; parseQuantScheme reads it
  /// back to an equal scheme (on the default base: `narrow` is printed
  /// when set, `full-range` never).
  std::string str() const;
  /// Rejects what the compiler cannot do (invalid types, per-channel
  /// activations, a group size < 1).
  llvm::Error verify() const;
  bool operator==(const QuantScheme &other) const;
};

/// Applies the `--scheme` string `spec` to `base`. Errors quote the bad
/// clause or field and say what was expected.
llvm::Expected<QuantScheme>
parseQuantScheme(llvm::StringRef spec,
                 const QuantScheme &base = QuantScheme::getDefaultCPU());

/// The scheme of a `--scheme` option's value: the default CPU scheme when
/// `spec` is empty (no option given), else parseQuantScheme(spec).
llvm::Expected<QuantScheme> parseSchemeOption(llvm::StringRef spec);

/// Parses a TYPE field ("u8", "s4", "int16", ...).
llvm::Expected<QuantType> parseQuantType(llvm::StringRef spec);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_QUANTSCHEME_H
