//===- FoldQDQ.h - the folds of quarc-fold-qdq (private) --------*- C++ -*-===//
//
// quarc-fold-qdq visits the ops in program order and gives each the
// integer form that matches it. A fold replaces the uses of what it
// folds (the float op's result, or the quantize that consumed it) and
// leaves the dead float ops for the pass to erase at the end, so that the
// ops still to be visited stay valid.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_DIALECT_QUARC_TRANSFORMS_FOLDQDQ_H
#define QUARC_LIB_DIALECT_QUARC_TRANSFORMS_FOLDQDQ_H

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

namespace mlir::quarc {

/// The quantized tensor `value` dequantizes, if `value` is a
/// quarc.dequantize of per-tensor values of f32 with at most `maxBits`.
Value getDequantizedInput(Value value, unsigned maxBits = 8);

/// Where an integer op writes its result: the quantize that is the only
/// user of its value, possibly through a Relu or a Clip with constant
/// bounds that is the value's only user (a fused activation: clamping the
/// quantized result, as quantization is monotonic).
struct QuantizedOutput {
  QuantizeOp quantize;
  Operation *activation = nullptr; // the fused Relu / Clip, if any
  std::optional<int64_t> clampMin, clampMax;

  /// The quantize's per-tensor result type.
  RankedTensorType getType() { return quantize.getType(); }
  /// The clamp attributes to set on the integer op.
  NamedAttrList getClampAttributes(Builder &builder) const;
  /// Where the integer op replacing float op `op` is: the quantize's
  /// location first, so that its result is named as the tensor it holds
  /// (the activation's output when one is fused; TensorNames.h).
  Location getLoc(Operation *op) const;
};

/// The quantized output of `value` (see QuantizedOutput), with a
/// per-tensor result of at most 16 bits; nullopt when there is none.
std::optional<QuantizedOutput> getQuantizedOutput(Value value);

/// Contractions: Conv, MatMul, Gemm into quarc.qconv / quarc.qmatmul.
bool foldContraction(Operation *op);
/// A MatMul of an f32 activation and a dequantized constant of 2- to 4-bit
/// values per group along k into quarc.qmatmul_weight_only (an Add of a
/// per-column constant after it becomes its bias).
bool foldWeightOnly(MatMulOp matmul);
/// Add, Mul of two dequantized 8-bit tensors into quarc.qadd / quarc.qmul.
bool foldBinary(Operation *op);
/// AveragePool, GlobalAveragePool into quarc.qaverage_pool.
bool foldAveragePool(Operation *op);
/// A Concat of dequantized tensors into a Concat of quantized ones, the
/// inputs requantized to the result's parameters where they differ.
bool foldConcat(ConcatOp concat);
/// A pass-through op on dequantized tensors of one type runs on the
/// quantized tensors; its results are dequantized for its users.
bool foldPassThrough(Operation *op);
/// A quantize of a chain of elementwise ops on one dequantized 8-bit
/// tensor becomes a quarc.lut of that tensor.
bool foldTable(QuantizeOp quantize);
/// quantize(dequantize(x)): x itself when the types are equal, else
/// quarc.requantize.
bool foldRequantize(QuantizeOp quantize);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_TRANSFORMS_FOLDQDQ_H
