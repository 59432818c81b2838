//===- QuarcShapeOps.td - reshaping, slicing, gathering, resizing -------===//
//
// Where ONNX takes a shape-like operand (a shape, axes, pads, repeats...) the
// result type is static when that operand is a constant and has `?` dims
// otherwise. Opset differences (attributes that became inputs) are removed by
// the importer, so each op has one form: the newest.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCSHAPEOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCSHAPEOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

def Quarc_ReshapeOp : Quarc_CustomInferOp<"reshape", [Pure]> {
  let summary = "ONNX Reshape";
  let description = [{
    Reshapes `data` to `shape`; a 0 copies the input dim (unless `allowzero`)
    and one -1 is inferred from the element count.
  }];
  let arguments = (ins Quarc_Tensor:$data, Quarc_I64Tensor:$shape,
                       DefaultValuedAttr<I64Attr, "0">:$allowzero);
  let results = (outs Quarc_Tensor:$reshaped);
  let hasFolder = 1;
}

def Quarc_FlattenOp : Quarc_CustomInferOp<"flatten", [Pure]> {
  let summary = "ONNX Flatten";
  let description = "Flattens to 2-D: dims before `axis` and dims from it.";
  let arguments = (ins Quarc_Tensor:$input,
                       DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Quarc_Tensor:$output);
}

def Quarc_TransposeOp : Quarc_CustomInferOp<"transpose", [Pure]> {
  let summary = "ONNX Transpose";
  let description = "Permutes dims by `perm` (default: reversed).";
  let arguments = (ins Quarc_Tensor:$data,
                       OptionalAttr<DenseI64ArrayAttr>:$perm);
  let results = (outs Quarc_Tensor:$transposed);
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Quarc_SqueezeOp : Quarc_CustomInferOp<"squeeze", [Pure]> {
  let summary = "ONNX Squeeze";
  let description = [{
    Removes the size-1 dims listed in `axes` (all size-1 dims when `axes` is
    absent). The opset < 13 `axes` attribute becomes a constant input.
  }];
  let arguments = (ins Quarc_Tensor:$data, Quarc_OptI64Tensor:$axes);
  let results = (outs Quarc_Tensor:$squeezed);
}

def Quarc_UnsqueezeOp : Quarc_CustomInferOp<"unsqueeze", [Pure]> {
  let summary = "ONNX Unsqueeze";
  let description = "Inserts size-1 dims at `axes` (positions in the result).";
  let arguments = (ins Quarc_Tensor:$data, Quarc_I64Tensor:$axes);
  let results = (outs Quarc_Tensor:$expanded);
}

def Quarc_ConcatOp : Quarc_CustomInferOp<"concat", [Pure,
                                                    SameOperandsElementType]> {
  let summary = "ONNX Concat";
  let description = "Concatenates the inputs along `axis`.";
  let arguments = (ins Variadic<Quarc_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Quarc_Tensor:$concat_result);
}

def Quarc_SplitOp : Quarc_CustomInferOp<"split", [Pure]> {
  let summary = "ONNX Split";
  let description = [{
    Splits `input` along `axis` into the sizes in `split`, or into
    `num_outputs` near-equal parts (the last may be smaller). The importer
    sets `num_outputs` from the node when an older opset leaves both out.
  }];
  let arguments = (ins Quarc_Tensor:$input, Quarc_OptI64Tensor:$split,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       OptionalAttr<I64Attr>:$num_outputs);
  let results = (outs Variadic<Quarc_Tensor>:$outputs);
}

def Quarc_SliceOp : Quarc_CustomInferOp<"slice", [Pure]> {
  let summary = "ONNX Slice";
  let description = [{
    Slices `data` with `starts`, `ends`, optional `axes` and `steps` (ONNX
    clamping rules, negative steps allowed).
  }];
  let arguments = (ins Quarc_Tensor:$data, Quarc_IntTensor:$starts,
                       Quarc_IntTensor:$ends, Quarc_OptIntTensor:$axes,
                       Quarc_OptIntTensor:$steps);
  let results = (outs Quarc_Tensor:$output);
}

def Quarc_GatherOp : Quarc_CustomInferOp<"gather", [Pure]> {
  let summary = "ONNX Gather";
  let description = "Gathers slices of `data` along `axis` at `indices`.";
  let arguments = (ins Quarc_Tensor:$data, Quarc_IntTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Quarc_Tensor:$output);
}

def Quarc_ExpandOp : Quarc_CustomInferOp<"expand", [Pure]> {
  let summary = "ONNX Expand";
  let description = "Broadcasts `input` with `shape` (numpy rules).";
  let arguments = (ins Quarc_Tensor:$input, Quarc_I64Tensor:$shape);
  let results = (outs Quarc_Tensor:$output);
}

def Quarc_TileOp : Quarc_CustomInferOp<"tile", [Pure]> {
  let summary = "ONNX Tile";
  let description = "Repeats `input` `repeats[i]` times along dim i.";
  let arguments = (ins Quarc_Tensor:$input, Quarc_I64Tensor:$repeats);
  let results = (outs Quarc_Tensor:$output);
}

def Quarc_PadOp : Quarc_CustomInferOp<"pad", [Pure]> {
  let summary = "ONNX Pad";
  let description = [{
    Pads `data` by `pads` (all begins, then all ends, on `axes` or on every
    dim); `mode` is constant, reflect, edge or wrap. The opset < 11 `pads` and
    `value` attributes become constant inputs.
  }];
  let arguments = (ins Quarc_Tensor:$data, Quarc_I64Tensor:$pads,
                       Quarc_OptTensor:$constant_value,
                       Quarc_OptIntTensor:$axes,
                       DefaultValuedAttr<StrAttr, "\"constant\"">:$mode);
  let results = (outs Quarc_Tensor:$output);
  let hasVerifier = 1;
}

def Quarc_ResizeOp : Quarc_CustomInferOp<"resize", [Pure]> {
  let summary = "ONNX Resize (and Upsample)";
  let description = [{
    Resizes `X` by `scales` or to `sizes` (exactly one given), optionally on
    `axes` only. Deprecated `Upsample` imports as a `nearest`/`linear` resize
    with `asymmetric` coordinates.
  }];
  let arguments = (ins Quarc_Tensor:$X, Quarc_OptFloatTensor:$roi,
                       Quarc_OptFloatTensor:$scales,
                       Quarc_OptI64Tensor:$sizes,
                       DefaultValuedAttr<I64Attr, "0">:$antialias,
                       OptionalAttr<DenseI64ArrayAttr>:$axes,
                       DefaultValuedAttr<StrAttr, "\"half_pixel\"">:
                           $coordinate_transformation_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       DefaultValuedAttr<I64Attr, "0">:$exclude_outside,
                       DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value,
                       DefaultValuedAttr<StrAttr, "\"stretch\"">:
                           $keep_aspect_ratio_policy,
                       DefaultValuedAttr<StrAttr, "\"nearest\"">:$mode,
                       DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:
                           $nearest_mode);
  let results = (outs Quarc_Tensor:$Y);
  let hasVerifier = 1;
}

def Quarc_ShapeOp : Quarc_CustomInferOp<"shape", [Pure]> {
  let summary = "ONNX Shape";
  let description = "The shape of `data` (dims `start` to `end`) as 1-D i64.";
  let arguments = (ins Quarc_Tensor:$data, OptionalAttr<I64Attr>:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs Quarc_I64Tensor:$shape);
  let hasFolder = 1;
}

#endif // QUARC_DIALECT_QUARC_IR_QUARCSHAPEOPS_TD
