//===- QuarcNNOps.td - convolution, pooling, normalization, matmul ------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCNNOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCNNOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

def Quarc_ConvOp : Quarc_CustomInferOp<"conv", [Pure]> {
  let summary = "ONNX Conv";
  let description = [{
    N-d convolution of `X` (N x C x D1...) with `W` (M x C/group x k1...),
    plus the optional bias `B` (M). `auto_pad` is NOTSET (explicit `pads`),
    SAME_UPPER, SAME_LOWER or VALID.
  }];
  let arguments = !con((ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$W,
                            Quarc_OptFloatTensor:$B,
                            DefaultValuedAttr<I64Attr, "1">:$group),
                       Quarc_WindowAttrs);
  let results = (outs Quarc_FloatTensor:$Y);
}

def Quarc_ConvTransposeOp : Quarc_CustomInferOp<"conv_transpose", [Pure]> {
  let summary = "ONNX ConvTranspose";
  let description = [{
    Transposed convolution of `X` (N x C x D1...) with `W`
    (C x M/group x k1...). The output size follows `output_shape` when given,
    else strides, pads, `output_padding` and dilations as in the ONNX spec.
  }];
  let arguments = !con((ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$W,
                            Quarc_OptFloatTensor:$B,
                            DefaultValuedAttr<I64Attr, "1">:$group,
                            OptionalAttr<DenseI64ArrayAttr>:$output_padding,
                            OptionalAttr<DenseI64ArrayAttr>:$output_shape),
                       Quarc_WindowAttrs);
  let results = (outs Quarc_FloatTensor:$Y);
}

def Quarc_MaxPoolOp : Quarc_CustomInferOp<"max_pool", [Pure]> {
  let summary = "ONNX MaxPool";
  let description = [{
    Max pooling over `kernel_shape` windows. `Indices` (i64) holds the flat
    index of each maximum, row-major over N x C x D... (column-major over the
    spatial dims if `storage_order` is 1).
  }];
  let arguments = !con((ins Quarc_NumericOrQuantizedTensor:$X,
                            DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                            DefaultValuedAttr<I64Attr, "0">:$storage_order),
                       Quarc_WindowAttrs);
  let results = (outs Quarc_NumericOrQuantizedTensor:$Y,
                      Quarc_I64Tensor:$Indices);
}

def Quarc_AveragePoolOp : Quarc_CustomInferOp<"average_pool", [Pure]> {
  let summary = "ONNX AveragePool";
  let description = [{
    Average pooling over `kernel_shape` windows; `count_include_pad` says
    whether padded cells count in the divisor.
  }];
  let arguments = !con((ins Quarc_FloatTensor:$X,
                            DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                            DefaultValuedAttr<I64Attr, "0">:$count_include_pad),
                       Quarc_WindowAttrs);
  let results = (outs Quarc_FloatTensor:$Y);
}

class Quarc_GlobalPoolOp<string mnemonic, string onnxName,
                         Type tensor = Quarc_FloatTensor>
    : Quarc_CustomInferOp<mnemonic, [Pure]> {
  let summary = "ONNX " # onnxName;
  let description = "ONNX `" # onnxName # "`: pools every spatial dim to 1.";
  let arguments = (ins tensor:$X);
  let results = (outs tensor:$Y);
}
def Quarc_GlobalAveragePoolOp
    : Quarc_GlobalPoolOp<"global_average_pool", "GlobalAveragePool">;
// A max of quantized values is the quantized max: the parameters pass.
def Quarc_GlobalMaxPoolOp
    : Quarc_GlobalPoolOp<"global_max_pool", "GlobalMaxPool",
                         Quarc_FloatOrQuantizedTensor>;

def Quarc_BatchNormalizationOp
    : Quarc_SameTypeOp<"batch_normalization", [Pure]> {
  let summary = "ONNX BatchNormalization (inference)";
  let description = [{
    `Y = (X - input_mean) / sqrt(input_var + epsilon) * scale + B`, with the
    per-channel parameters along dim 1. Training mode is not supported.
  }];
  let arguments = (ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$scale,
                       Quarc_FloatTensor:$B, Quarc_FloatTensor:$input_mean,
                       Quarc_FloatTensor:$input_var,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.9">:$momentum);
  let results = (outs Quarc_FloatTensor:$Y);
  let hasVerifier = 1;
}

def Quarc_LayerNormalizationOp : Quarc_CustomInferOp<"layer_normalization",
                                                     [Pure]> {
  let summary = "ONNX LayerNormalization";
  let description = [{
    Normalizes over the dims from `axis` on, then scales by `Scale` and adds
    the optional `B`. `Mean` and `InvStdDev` have X's shape with the
    normalized dims set to 1, in the `stash_type` precision (1: f32).
  }];
  let arguments = (ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$Scale,
                       Quarc_OptFloatTensor:$B,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon,
                       DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs Quarc_FloatTensor:$Y, Quarc_FloatTensor:$Mean,
                      Quarc_FloatTensor:$InvStdDev);
  let hasVerifier = 1;
}

def Quarc_InstanceNormalizationOp
    : Quarc_SameTypeOp<"instance_normalization", [Pure]> {
  let summary = "ONNX InstanceNormalization";
  let description = [{
    Normalizes each (N, C) plane over its spatial dims, then scales by
    `scale` and adds `B` (both C).
  }];
  let arguments = (ins Quarc_FloatTensor:$input, Quarc_FloatTensor:$scale,
                       Quarc_FloatTensor:$B,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Quarc_FloatTensor:$output);
  let hasVerifier = 1;
}

def Quarc_LRNOp : Quarc_SameTypeOp<"lrn", [Pure]> {
  let summary = "ONNX LRN";
  let description = [{
    Local response normalization across `size` neighbouring channels:
    `x / (bias + alpha / size * sum(x^2)) ^ beta`.
  }];
  let arguments = (ins Quarc_FloatTensor:$X,
                       DefaultValuedAttr<F32Attr, "1.0e-4">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.75">:$beta,
                       DefaultValuedAttr<F32Attr, "1.0">:$bias,
                       I64Attr:$size);
  let results = (outs Quarc_FloatTensor:$Y);
  let hasVerifier = 1;
}

def Quarc_GemmOp : Quarc_CustomInferOp<"gemm", [Pure]> {
  let summary = "ONNX Gemm";
  let description = [{
    `Y = alpha * A' * B' + beta * C`, where A' and B' are A and B transposed
    if `transA`/`transB`; `C` (optional) broadcasts to M x N.
  }];
  let arguments = (ins Quarc_NumericTensor:$A, Quarc_NumericTensor:$B,
                       Quarc_OptTensor:$C,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       DefaultValuedAttr<I64Attr, "0">:$transA,
                       DefaultValuedAttr<I64Attr, "0">:$transB);
  let results = (outs Quarc_NumericTensor:$Y);
}

def Quarc_MatMulOp : Quarc_CustomInferOp<"matmul", [Pure,
                                                    SameOperandsElementType]> {
  let summary = "ONNX MatMul";
  let description = "Matrix product with numpy semantics (1-D operands are "
                    "promoted, batch dims broadcast).";
  let arguments = (ins Quarc_NumericTensor:$A, Quarc_NumericTensor:$B);
  let results = (outs Quarc_NumericTensor:$Y);
}

#endif // QUARC_DIALECT_QUARC_IR_QUARCNNOPS_TD
