//===- QuantizedTypes.h - QuantParams <-> !quant.uniform --------*- C++ -*-===//
//
// Quantization state lives in upstream !quant.uniform element types; this
// converts between them and QuantParams:
//   PerTensor  <-> quant::UniformQuantizedType
//   PerChannel <-> quant::UniformQuantizedPerAxisType
//   PerGroup   <-> quant::UniformQuantizedSubChannelType, with every dim of
//                  the tensor listed: block size groupSize on `axis`, 1 on
//                  the others (ONNX's blocked quantization), scales and zero
//                  points as tensors of shape groupShape.
// Storage types are signless iN with the quant Signed flag (printed iN or
// uN); the storage range is always qmin/qmax (printed i8<-64:64> when it
// differs from the type's full range).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_QUANTIZATION_QUANTIZEDTYPES_H
#define QUARC_QUANTIZATION_QUANTIZEDTYPES_H

#include "quarc/Quantization/QuantParams.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

namespace mlir::quarc {

/// The element type for `params`, approximating `expressedType` (f32, f16,
/// bf16). Invalid parameters are reported at `loc`.
FailureOr<quant::QuantizedType> getQuantizedType(Location loc,
                                                 const QuantParams &params,
                                                 FloatType expressedType);

/// The parameters of a uniform quantized type, scales rounded to the
/// nearest f32 (a hand-written 0.1 is a double). Reports at `loc` the types
/// QuantParams cannot hold: non-uniform ones, storage outside 2..16 bits,
/// sub-channel types blocked along several axes or leaving a dim unlisted.
FailureOr<QuantParams> getQuantParams(Location loc, quant::QuantizedType type);

/// The scale of each of `channels` channels of a per-tensor or per-axis
/// type (a per-tensor type's one scale, repeated).
SmallVector<double> getChannelScales(quant::QuantizedType type,
                                     int64_t channels);

/// The zero point of each of `channels` channels of a per-tensor or
/// per-axis type.
SmallVector<int64_t> getChannelZeroPoints(quant::QuantizedType type,
                                          int64_t channels);

} // namespace mlir::quarc

#endif // QUARC_QUANTIZATION_QUANTIZEDTYPES_H
