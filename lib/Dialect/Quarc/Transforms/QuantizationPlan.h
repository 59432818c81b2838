//===- QuantizationPlan.h - which tensors post-training quantization quantizes -*- C++ -*-===//
//
// quarc-quantize's decision, separate from how it is written into the
// graph: which ops will run as integer code, which activations get a
// quantize/dequantize pair, and where each one's parameters come from.
//
// The candidates are the ops QuantBehavior.h describes: contractions with
// constant weights (always integer: they are the point), requantizing ops
// (Add, Mul, average pools, Concat), pass-through ops and table regions
// (elementwise chains on one tensor). A requantizing op or table region
// only pays off between integer code: it stays integer when one of its
// inputs comes from an integer op and one of its outputs feeds one
// (otherwise its quantize/dequantize pairs would only add rounding). A
// pass-through op stays integer when its values are quantized anyway:
// integer code reads its results, another integer op reads its input, or
// its input comes out of an integer op that always writes quantized values
// (not a contraction feeding only reshapes into float code, whose result
// stays f32). This is decided by iterating to a fixed point, starting from
// every candidate being integer and demoting those that fail the rule.
//
// Parameters: a pass-through op's outputs take its input's (no
// requantization); an input of a Concat that only the Concat reads and
// that an integer op writes takes the Concat's (the producer requantizes
// straight into the shared scale); every other tensor has its own, from
// its calibration statistics.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_DIALECT_QUARC_TRANSFORMS_QUANTIZATIONPLAN_H
#define QUARC_LIB_DIALECT_QUARC_TRANSFORMS_QUANTIZATIONPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::quarc {

/// A convolution or matrix product with a constant weight: its activation
/// input, its weight and the axis of the weight's output channels.
struct ContractionOperands {
  OpOperand *activation;
  OpOperand *weight;
  int32_t channelAxis;
};

/// The operands of `op` if it is a Conv, a Gemm (transA 0) or a MatMul
/// (B of rank >= 2) whose weight is a constant.
std::optional<ContractionOperands> getContractionOperands(Operation *op);

/// The output of the Relu, or Clip with constant bounds, that is the only
/// user of `value` (an activation an integer op applies as a clamp), else
/// `value`.
Value getFusedActivationOutput(Value value);

struct PlanOptions {
  /// Tensors that have calibration statistics.
  function_ref<bool(Value)> hasStats;
  /// Non-contraction ops need 8-bit activations (the integer forms of Add,
  /// Mul, pooling and tables are 8-bit).
  bool eightBitActivations = true;
  /// ONNX node names and quarc op names (`quarc.add`) to keep in float.
  const llvm::StringSet<> *excludedNodes = nullptr;
  const llvm::StringSet<> *floatOps = nullptr;
};

struct QuantizationPlan {
  /// The contractions whose weights are quantized.
  SmallVector<std::pair<Operation *, ContractionOperands>> contractions;
  /// The activations that get a quantize/dequantize pair, in program order.
  llvm::SetVector<Value> tensors;
  /// For a tensor whose parameters are another's (a pass-through op's
  /// output, a Concat input sharing the Concat's scale), that other
  /// tensor; tensors absent here have their own.
  llvm::DenseMap<Value, Value> paramsFrom;

  /// The tensor whose parameters `value` uses (following paramsFrom).
  Value getParamsSource(Value value) const;
};

/// Plans the quantization of `func`'s top-level ops.
QuantizationPlan planQuantization(func::FuncOp func, const PlanOptions &options);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_TRANSFORMS_QUANTIZATIONPLAN_H
