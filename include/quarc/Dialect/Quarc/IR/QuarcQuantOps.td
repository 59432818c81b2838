//===- QuarcQuantOps.td - quantized ONNX ops and quantization boundaries -===//
//
// Two levels. The ONNX quantized ops (QuantizeLinear, QLinearConv, ...) import
// as they are, with scales and zero points as operands. Where those are
// constants, canonicalization moves them into the types: `quarc.quantize`
// gives a tensor of `!quant.uniform` elements, `quarc.dequantize` takes one,
// and `quarc.storage_cast` reinterprets such a tensor as its integer storage.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCQUANTOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCQUANTOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

def Quarc_QuantizeLinearOp : Quarc_CustomInferOp<"quantize_linear", [Pure]> {
  let summary = "ONNX QuantizeLinear";
  let description = [{
    `y = saturate(round_half_to_even(x / y_scale) + y_zero_point)`, with the
    scale per tensor, per `axis`, or per block of `block_size` along `axis`.
    The result element type is that of `y_zero_point`, else `output_dtype`,
    else ui8.
  }];
  let arguments = (ins Quarc_Tensor:$x, Quarc_FloatTensor:$y_scale,
                       Quarc_OptIntTensor:$y_zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       OptionalAttr<TypeAttr>:$output_dtype,
                       DefaultValuedAttr<I64Attr, "1">:$saturate);
  let results = (outs Quarc_IntTensor:$y);
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Quarc_DequantizeLinearOp : Quarc_CustomInferOp<"dequantize_linear",
                                                   [Pure]> {
  let summary = "ONNX DequantizeLinear";
  let description = [{
    `y = (x - x_zero_point) * x_scale`, with the same granularities as
    `quantize_linear`; the result has the element type of `x_scale`.
  }];
  let arguments = (ins Quarc_IntTensor:$x, Quarc_FloatTensor:$x_scale,
                       Quarc_OptIntTensor:$x_zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs Quarc_FloatTensor:$y);
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Quarc_DynamicQuantizeLinearOp
    : Quarc_CustomInferOp<"dynamic_quantize_linear", [Pure]> {
  let summary = "ONNX DynamicQuantizeLinear";
  let description = [{
    Quantizes `x` to ui8 with a scale and zero point computed at run time
    from its min and max (range widened to include 0).
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$x);
  let results = (outs RankedTensorOf<[UI8]>:$y, RankedTensorOf<[F32]>:$y_scale,
                      RankedTensorOf<[UI8]>:$y_zero_point);
}

def Quarc_QLinearConvOp : Quarc_CustomInferOp<"qlinear_conv", [Pure]> {
  let summary = "ONNX QLinearConv";
  let description = [{
    Convolution of quantized `x` and `w` (per-tensor or per-output-channel
    `w_scale`/`w_zero_point`) with an i32 bias `B`, requantized to
    `y_scale`/`y_zero_point`; the result element type is `y_zero_point`'s.
  }];
  let arguments = !con((ins Quarc_IntTensor:$x, Quarc_FloatTensor:$x_scale,
                            Quarc_IntTensor:$x_zero_point, Quarc_IntTensor:$w,
                            Quarc_FloatTensor:$w_scale,
                            Quarc_IntTensor:$w_zero_point,
                            Quarc_FloatTensor:$y_scale,
                            Quarc_IntTensor:$y_zero_point,
                            Quarc_OptIntTensor:$B,
                            DefaultValuedAttr<I64Attr, "1">:$group),
                       Quarc_WindowAttrs);
  let results = (outs Quarc_IntTensor:$y);
}

def Quarc_QLinearMatMulOp : Quarc_CustomInferOp<"qlinear_matmul", [Pure]> {
  let summary = "ONNX QLinearMatMul";
  let description = [{
    Matrix product of quantized `a` and `b`, requantized to
    `y_scale`/`y_zero_point` (numpy matmul shapes).
  }];
  let arguments = (ins Quarc_IntTensor:$a, Quarc_FloatTensor:$a_scale,
                       Quarc_IntTensor:$a_zero_point, Quarc_IntTensor:$b,
                       Quarc_FloatTensor:$b_scale,
                       Quarc_IntTensor:$b_zero_point,
                       Quarc_FloatTensor:$y_scale,
                       Quarc_IntTensor:$y_zero_point);
  let results = (outs Quarc_IntTensor:$y);
}

def Quarc_MatMulIntegerOp : Quarc_CustomInferOp<"matmul_integer", [Pure]> {
  let summary = "ONNX MatMulInteger";
  let description = [{
    Matrix product of 8-bit `A` and `B` minus their zero points, accumulated
    in i32.
  }];
  let arguments = (ins Quarc_IntTensor:$A, Quarc_IntTensor:$B,
                       Quarc_OptIntTensor:$a_zero_point,
                       Quarc_OptIntTensor:$b_zero_point);
  let results = (outs RankedTensorOf<[I32]>:$Y);
}

def Quarc_ConvIntegerOp : Quarc_CustomInferOp<"conv_integer", [Pure]> {
  let summary = "ONNX ConvInteger";
  let description = [{
    Convolution of 8-bit `x` and `w` minus their zero points, accumulated in
    i32.
  }];
  let arguments = !con((ins Quarc_IntTensor:$x, Quarc_IntTensor:$w,
                            Quarc_OptIntTensor:$x_zero_point,
                            Quarc_OptIntTensor:$w_zero_point,
                            DefaultValuedAttr<I64Attr, "1">:$group),
                       Quarc_WindowAttrs);
  let results = (outs RankedTensorOf<[I32]>:$y);
}

def Quarc_MatMulNBitsOp : Quarc_CustomInferOp<"matmul_nbits", [Pure]> {
  let summary = "com.microsoft MatMulNBits";
  let description = [{
    `A` (... x K) times a `bits`-bit weight `B` stored as N x ceil(K /
    block_size) x blob bytes, with per-block `scales` and optional packed
    `zero_points`, plus optional `bias`; the result is ... x N.
  }];
  let arguments = (ins Quarc_FloatTensor:$A, RankedTensorOf<[UI8]>:$B,
                       Quarc_FloatTensor:$scales, Quarc_OptTensor:$zero_points,
                       Quarc_OptIntTensor:$g_idx, Quarc_OptFloatTensor:$bias,
                       I64Attr:$K, I64Attr:$N,
                       DefaultValuedAttr<I64Attr, "4">:$bits,
                       I64Attr:$block_size,
                       DefaultValuedAttr<I64Attr, "0">:$accuracy_level);
  let results = (outs Quarc_FloatTensor:$Y);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization in the types
//===----------------------------------------------------------------------===//

def Quarc_QuantizeOp : Op<Quarc_Dialect, "quantize", [Pure]> {
  let summary = "Quantize a float tensor to a !quant.uniform tensor";
  let description = [{
    ONNX QuantizeLinear semantics (round half to even, saturate to the storage
    range) with the scale and zero point in the result type. Unlike upstream
    `quant.qcast`, a `dequantize(quantize(x))` pair is never folded away.
  }];
  let arguments = (ins Quarc_FloatTensor:$input);
  let results = (outs Quarc_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Quarc_DequantizeOp : Op<Quarc_Dialect, "dequantize", [Pure]> {
  let summary = "Dequantize a !quant.uniform tensor to float";
  let description = "`(q - zeroPoint) * scale` in the type's expressed type.";
  let arguments = (ins Quarc_Tensor:$input);
  let results = (outs Quarc_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Quarc_StorageCastOp : Op<Quarc_Dialect, "storage_cast", [Pure]> {
  let summary = "Reinterpret between a !quant.uniform tensor and its storage";
  let description = [{
    Bit-preserving cast between a tensor of quantized elements and the integer
    tensor holding them (i8/ui8/i16/...; signedness must match the storage
    type). Two casts that return to the first type fold away.
  }];
  let arguments = (ins Quarc_Tensor:$input);
  let results = (outs Quarc_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Integer compute
//===----------------------------------------------------------------------===//

def Quarc_QConvOp : Op<Quarc_Dialect, "qconv", [Pure]> {
  let summary = "Integer convolution with fixed-point requantization";
  let description = [{
    The integer form of `quarc.conv` that `quarc-fold-qdq` makes from a
    convolution between dequantized operands. `x` holds 8-bit per-tensor
    `!quant.uniform` values (scale sx, zero point zx); `w` (F x C/group x
    k...) 8-bit values, per tensor or per output channel (axis 0, scale
    sw[f], zero point zw[f], usually 0: symmetric weights); `bias` (F) is
    i32. The window attributes are those of `quarc.conv`. With the stored
    integers, each output element accumulates

        acc = bias[f] + sum over c, i, j of
                          x[n, c', y', x'] * (w[f, c, i, j] - zw[f])

    in i32, where a window position in the padding reads zx. The input
    zero point's compensation is in the bias: the pass sets
    bias[f] = round(b[f] / (sx * sw[f])) - zx * sum(w[f] - zw[f]), so that
    acc is the float convolution divided by sx * sw[f].

    A per-tensor `!quant.uniform` result (scale so, zero point zo) is
    `requantize(acc, quantizeMultiplier(sx * sw[f] / so), zo)`, the one
    fixed-point requantization of Quantization/FixedPoint.h, clamped to
    the storage range and to [`clamp_min`, `clamp_max`] when given (a
    fused Relu or Clip: quantizing is monotonic, so clamping the quantized
    value is clamping the float one). An f32 result is
    `f32(acc) * f32(sx * sw[f])`.
  }];
  let arguments = !con((ins Quarc_Tensor:$x, Quarc_Tensor:$w,
                            RankedTensorOf<[I32]>:$bias,
                            DefaultValuedAttr<I64Attr, "1">:$group,
                            OptionalAttr<I64Attr>:$clamp_min,
                            OptionalAttr<I64Attr>:$clamp_max),
                       Quarc_WindowAttrs);
  let results = (outs Quarc_Tensor:$y);
  let assemblyFormat = [{
    $x `,` $w `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Quarc_QMatMulOp : Op<Quarc_Dialect, "qmatmul", [Pure]> {
  let summary = "Integer matrix product with fixed-point requantization";
  let description = [{
    The integer form of `quarc.matmul` and `quarc.gemm` that `quarc-fold-qdq`
    makes: `a` (... x M x K) holds 8-bit per-tensor `!quant.uniform` values
    (scale sa, zero point za), `b` (K x N) 8-bit values, per tensor or per
    column (axis 1, scale sb[n], zero point zb[n]); `bias` (N) is i32 and
    holds the input zero point's compensation, round(c[n] / (sa * sb[n]))
    - za * sum over k of (b[k, n] - zb[n]). Each output element accumulates

        acc = bias[n] + sum over k of a[..., m, k] * (b[k, n] - zb[n])

    in i32, and the result is requantized (and clamped) or scaled to f32
    as for `quarc.qconv` (with sb[n] for sw[f]).
  }];
  let arguments = (ins Quarc_Tensor:$a, Quarc_Tensor:$b,
                       RankedTensorOf<[I32]>:$bias,
                       OptionalAttr<I64Attr>:$clamp_min,
                       OptionalAttr<I64Attr>:$clamp_max);
  let results = (outs Quarc_Tensor:$y);
  let assemblyFormat = [{
    $a `,` $b `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Quarc_QMatMulDynamicOp : Op<Quarc_Dialect, "qmatmul_dynamic", [Pure]> {
  let summary = "Matrix product with the activation quantized at run time";
  let description = [{
    The form `quarc-quantize-dynamic` gives a `quarc.matmul` or
    `quarc.gemm` with a constant weight: `a` (... x M x K) is f32 and is
    quantized on every run, as ONNX DynamicQuantizeLinear does (uint8,
    per tensor):

        lo = min(0, min(a)), hi = max(0, max(a))
        sa = (hi - lo) / 255                           (f32)
        za = roundHalfToEven(clamp(-lo / sa, 0, 255))
        aq = clamp(roundHalfToEven(a / sa) + za, 0, 255)

    `b` (K x N) holds 8-bit values quantized at compile time, per tensor or
    per column (axis 1, scale sb[n], zero point zb[n]); `bias` (N) is f32
    or absent. Each output element is

        acc = sum over k of (aq[..., m, k] - za) * (b[k, n] - zb[n])  (i32)
        y   = f32(acc) * f32(sa * sb[n]) + bias[n]

    which is, operation for operation, what onnxruntime's dynamic
    quantization (DynamicQuantizeLinear, MatMulInteger, Cast, Mul, Add)
    computes. When `a` is all zeros (sa = 0), y = bias.
  }];
  let arguments = (ins Quarc_FloatTensor:$a, Quarc_QuantizedTensor:$b,
                       Quarc_OptFloatTensor:$bias);
  let results = (outs Quarc_FloatTensor:$y);
  let assemblyFormat = [{
    $a `,` $b `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Quarc_QMatMulWeightOnlyOp
    : Op<Quarc_Dialect, "qmatmul_weight_only", [Pure]> {
  let summary = "Matrix product with low-bit weights and float activations";
  let description = [{
    Weight-only quantization (`--quantize=int4-weight`, or an imported
    com.microsoft MatMulNBits): `a` (... x K) is f32 and stays f32; `b`
    (K x N) holds 2- to 4-bit values quantized per group of `g`
    consecutive k of each column (a sub-channel type blocked along axis 0,
    one scale s[k / g, n] and zero point z[k / g, n] per group); `bias` (N)
    is f32 or absent. Each output element is

        w[k, n] = f32(b[k, n] - z[k / g, n]) * s[k / g, n]      (exact)
        y[..., n] = sum over k of a[..., k] * w[k, n] + bias[n]  (f32)

    onnxruntime's MatMulNBits arithmetic at its default accuracy level (the
    weights dequantized to f32, then an f32 product): only the order of the
    f32 sum differs. The weights stay packed two per byte in the compiled
    code and are unpacked by the kernel.

    With `int8_activations` (MatMulNBits' accuracy level 4), `a` is
    quantized on every run, per row and group, to s8:

        m[..., j]  = max over k in group j of |a[..., k]|
        sa[..., j] = m / 127                                           (f32)
        aq[..., k] = clamp(roundHalfEven(a[..., k] * (127 / m)), -127, 127)
                     (0 when m = 0)
        y[..., n] = sum over groups j of sa[..., j] * s[j, n] *
                    (sum over k in j of aq[..., k] * (b[k, n] - z[j, n]))
                    + bias[n]

    the inner sums exact integers: onnxruntime's arithmetic at that level,
    and what the integer dot products (vpdpbusd, sdot) compute.
  }];
  let arguments = (ins Quarc_FloatTensor:$a, Quarc_QuantizedTensor:$b,
                       Quarc_OptFloatTensor:$bias, UnitAttr:$int8_activations);
  let results = (outs Quarc_FloatTensor:$y);
  let assemblyFormat = [{
    $a `,` $b `,` $bias attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Integer ops between the contractions
//
// Each works on the stored values of per-tensor quantized tensors and is
// one requantization of Quantization/FixedPoint.h, with the multipliers of
// Quantization/IntegerElementwise.h (computed from the types when the op
// lowers). `clamp_min` / `clamp_max` narrow the result's storage range: a
// fused Relu or Clip, as for quarc.qconv.
//===----------------------------------------------------------------------===//

class Quarc_IntegerOp<string mnemonic, list<Trait> traits = []>
    : Op<Quarc_Dialect, mnemonic, !listconcat([Pure], traits)> {
  let hasVerifier = 1;
}

def Quarc_RequantizeOp : Quarc_IntegerOp<"requantize",
                                         [SameOperandsAndResultShape]> {
  let summary = "Change a tensor's quantization parameters";
  let description = [{
    `out = requantize(x - zx, M(sx / so), zo)`: the stored values of `input`
    (per tensor, scale sx, zero point zx, at most 16 bits) in the
    parameters of the result (so, zo, at most 16 bits), with one rounding.
    `quarc-fold-qdq` makes it from a quantize of a dequantized tensor
    (`q2(dq1(x))`) and where a Concat's inputs differ from its result.
  }];
  let arguments = (ins Quarc_QuantizedTensor:$input);
  let results = (outs Quarc_QuantizedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

class Quarc_IntegerBinaryOp<string mnemonic, string formula>
    : Quarc_IntegerOp<mnemonic> {
  let description = !strconcat([{
    Elementwise with ONNX (numpy) broadcasting, on 8-bit per-tensor
    quantized `a` (sa, za) and `b` (sb, zb), into a per-tensor quantized
    result (so, zo; at most 16 bits):

        }], formula, [{

    `quarc-fold-qdq` makes it from the float op between dequantized inputs
    whose result is quantized (its only user, possibly through a Relu or a
    Clip with constant bounds, fused as `clamp_min`/`clamp_max`).
  }]);
  let arguments = (ins Quarc_QuantizedTensor:$a, Quarc_QuantizedTensor:$b,
                       OptionalAttr<I64Attr>:$clamp_min,
                       OptionalAttr<I64Attr>:$clamp_max);
  let results = (outs Quarc_QuantizedTensor:$y);
  let assemblyFormat = [{
    $a `,` $b attr-dict `:` functional-type(operands, results)
  }];
}

def Quarc_QAddOp : Quarc_IntegerBinaryOp<"qadd",
    "out = requantizeSum(a - za, b - zb, Pair(sa / so, sb / so), zo)"> {
  let summary = "Integer addition with one requantization";
}

def Quarc_QMulOp : Quarc_IntegerBinaryOp<"qmul",
    "out = requantize((a - za) * (b - zb), M((sa * sb) / so), zo)"> {
  let summary = "Integer multiplication with one requantization";
}

def Quarc_QAveragePoolOp : Quarc_IntegerOp<"qaverage_pool"> {
  let summary = "Integer average pooling";
  let description = [{
    ONNX AveragePool (and GlobalAveragePool, as a window of the whole
    image) on 8-bit per-tensor quantized `X` (sx, zx): at each output
    position, with `count` the divisor AveragePool uses there (the taps in
    the input, plus the pads with `count_include_pad`),

        out = requantize(sum over the window of (x - zx),
                         M((sx / so) / count), zo)

    where a padded tap reads zx (so adds 0). The window attributes,
    `ceil_mode` and `count_include_pad` are AveragePool's; the spatial dims
    (1-D or 2-D) must be static, so that every count, and its multiplier,
    is known at compile time.
  }];
  let arguments = !con((ins Quarc_QuantizedTensor:$X,
                            DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                            DefaultValuedAttr<I64Attr, "0">:$count_include_pad,
                            OptionalAttr<I64Attr>:$clamp_min,
                            OptionalAttr<I64Attr>:$clamp_max),
                       Quarc_WindowAttrs);
  let results = (outs Quarc_QuantizedTensor:$Y);
  let assemblyFormat = "$X attr-dict `:` type($X) `->` type($Y)";
}

def Quarc_LookupTableOp : Quarc_IntegerOp<"lut",
                                          [SameOperandsAndResultShape]> {
  let summary = "An elementwise function of an 8-bit tensor as a table";
  let description = [{
    `out = table[x - qmin]` for each stored value x of the 8-bit per-tensor
    quantized `input` (qmin its storage minimum), into a per-tensor
    quantized result (at most 16 bits). `quarc-fold-qdq` builds the table
    at compile time from the float ops between a dequantize and a
    quantize: any elementwise function of one tensor (Sigmoid, Tanh,
    HardSwish, Gelu, x * sigmoid(x), ...), evaluated at each of the 256
    values (Quantization/IntegerElementwise.h), so one lookup replaces
    the whole chain.
  }];
  let arguments = (ins Quarc_QuantizedTensor:$input,
                       DenseI32ArrayAttr:$table);
  let results = (outs Quarc_QuantizedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

//===----------------------------------------------------------------------===//
// Calibration
//===----------------------------------------------------------------------===//

def Quarc_ObserveOp : Op<Quarc_Dialect, "observe",
                         [MemoryEffects<[MemWrite]>]> {
  let summary = "Hand a float tensor's values to the calibration observer";
  let description = [{
    Inserted by `quarc-insert-observers`. When the compiled model runs, the
    values of `input` at this point go to the calibration run's observer as
    observation `index` of the module's `quarc.observed_tensors` list
    (named `tensor`). The op has a side effect, so it is never removed or
    moved; it keeps the tensor materialized where fusion would otherwise
    have kept it in registers only.

    It lowers to a call of the runtime function `quarc_observe(i64 index,
    memref<*xf32>)`, which the module must declare (the insertion pass
    does); only in-memory compilation (`quarc calibrate`) provides it.
  }];
  let arguments = (ins TensorOf<[F32]>:$input, StrAttr:$tensor,
                       I64Attr:$index);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

#endif // QUARC_DIALECT_QUARC_IR_QUARCQUANTOPS_TD
