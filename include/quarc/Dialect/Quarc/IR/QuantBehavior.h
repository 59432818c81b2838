//===- QuantBehavior.h - how quarc ops handle quantized tensors -*- C++ -*-===//
//
// What post-training quantization needs to know about an op, in one place
// (DESIGN.md: "ops know how they quantize"). The answers depend on
// attributes (Resize's mode) and on operands (constant weights), not only
// on the op's kind, so this is a function over ops rather than a trait.
//
//  - Pass-through ops only move, copy or select stored values (Reshape,
//    Transpose, Slice, Concat of equal types, MaxPool, nearest Resize, ...):
//    on a quantized tensor they compute the quantized form of their float
//    result with the same parameters, so quantize and dequantize commute
//    with them. They take `!quant.uniform` tensors directly and lower on
//    the stored integers.
//  - Requantizing ops have an integer form with their own output
//    parameters (Conv/MatMul/Gemm with constant weights: quarc.qconv,
//    quarc.qmatmul; Add, Mul: quarc.qadd, quarc.qmul; AveragePool,
//    GlobalAveragePool: quarc.qaverage_pool).
//  - Table ops are elementwise functions that, chained on one 8-bit
//    tensor, become one quarc.lut (Sigmoid, HardSwish, Gelu, x * sigmoid
//    (x), ...).
//  - Everything else stays float between a dequantize and a quantize.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUANTBEHAVIOR_H
#define QUARC_DIALECT_QUARC_IR_QUANTBEHAVIOR_H

#include "mlir/IR/Operation.h"

namespace mlir::quarc {

/// Whether `op` passes quantized tensors through (see above). Its
/// quantized operands are those of getPassThroughOperands.
bool passesQuantization(Operation *op);

/// The operands of a pass-through op that carry the data (every input of
/// a Concat, the first operand of the others); empty for other ops.
SmallVector<OpOperand *> getPassThroughOperands(Operation *op);

/// The results of a pass-through op that carry the data (MaxPool's Y, not
/// its Indices; every result of a Split).
SmallVector<Value> getPassThroughResults(Operation *op);

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_IR_QUANTBEHAVIOR_H
