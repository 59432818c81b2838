//===- Passes.td - quarc conversion passes -------------------------------===//
//
// Passes that move a model from the quarc dialect to upstream dialects.
// docs/passes.md is generated from the descriptions below.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CONVERSION_PASSES_TD
#define QUARC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQuarcToLinalg : Pass<"convert-quarc-to-linalg", "func::FuncOp"> {
  let summary = "Lower quarc graph ops to linalg, tensor, arith and math";
  let description = [{
    Rewrites every quarc op of a function into upstream ops on tensors:
    named linalg ops where one exists (`linalg.matmul`,
    `linalg.batch_matmul`, `linalg.conv_2d_nchw_fchw`,
    `linalg.depthwise_conv_2d_nchw_chw`, pooling), `linalg.generic` for
    elementwise arithmetic with ONNX broadcasting, and `tensor` ops for
    shape manipulation (reshapes become `tensor.collapse_shape` /
    `tensor.expand_shape` where the reassociation is known, slices become
    `tensor.extract_slice`). Recurrent layers (LSTM, GRU, RNN) become the
    input projection of all time steps as one `linalg.batch_matmul`, then
    an `scf.for` over the time steps carrying the state as tensors, with one
    small `linalg.batch_matmul` and one gate `linalg.generic` per step.

    Dynamic dimensions lower too: sizes come from `tensor.dim`, and a
    reshape to a shape computed at run time (ONNX's Shape -> Concat ->
    Reshape chains) becomes `tensor.reshape`. Operands that decide the
    structure of the code must be constants: slice bounds, pads, axes,
    resize scales or sizes; such an op is reported with its ONNX node
    name. Run `quarc-specialize-shapes` and `canonicalize` first so shape
    computations fold to constants (`quarc compile` does).

    Quantized tensors (`!quant.uniform`) and unsigned integers lower as
    their signless storage bits: the quantization ops (`quarc.quantize`,
    `quarc.dequantize`, `quarc.storage_cast`), the integer ops
    (`quarc.qconv`, `quarc.qadd`, `quarc.lut`, ...), constants, and the ops
    that pass quantized tensors through (reshapes, transposes, slices,
    concat, max pools, nearest resize) take them, reading the signedness
    from the original types where it matters (an unsigned max pool compares
    unsigned); the function's uint8 inputs and outputs become their bits
    too (the model's signature, read before lowering, still says uint8).
    Any other op on an unsigned tensor is an error.

    An op with no lowering is an error naming the op and its ONNX node;
    the list of ops that lower is in docs/ops.md.

    Requantizations (the integer ops' output stages, `quarc.requantize`,
    `quarc.qadd`, ...) give FixedPoint.h's values, `(value + 2^(n-1)) >>
    n` plus the zero point, clamped. Where every right shift n is at least
    32 (known when lowering: the multipliers are constants) the work is
    done in i32: from n = 33 the high word of the 32 x 32-bit product
    (`arith.mulsi_extended`) plus 2^(n-33), shifted by n - 32; at n = 32
    the high word of the rounded i64 sum. A `quarc.qadd` or
    `quarc.requantize` of 8-bit inputs with 17 <= n <= 47 is in i32 too,
    each multiplier split in 16-bit halves: (H + (L >> 16) + 2^(n-17)) >>
    (n - 16), H and L the sums of the halves' products. Otherwise in i64.
  }];
  let dependentDialects = [
    "arith::ArithDialect",
    "bufferization::BufferizationDialect",
    "func::FuncDialect",
    "linalg::LinalgDialect",
    "math::MathDialect",
    "memref::MemRefDialect",
    "scf::SCFDialect",
    "tensor::TensorDialect",
  ];
}

#endif // QUARC_CONVERSION_PASSES_TD
