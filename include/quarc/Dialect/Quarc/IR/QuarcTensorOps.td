//===- QuarcTensorOps.td - constants, casts, identity, ranges -----------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCTENSOROPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCTENSOROPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

def Quarc_NoneOp : Op<Quarc_Dialect, "none", [Pure, ConstantLike]> {
  let summary = "An absent optional ONNX input";
  let description = [{
    ONNX marks an absent optional input with an empty name; quarc passes a
    `none` value in its place, so every op has a fixed operand list.
  }];
  let results = (outs NoneType:$none);
  let hasFolder = 1;
  let assemblyFormat = "attr-dict";
}

def Quarc_ConstantOp : Quarc_CustomInferOp<"constant", [Pure, ConstantLike]> {
  let summary = "A constant tensor (ONNX initializer or Constant node)";
  let description = [{
    Holds `value`, an elements attribute: dense for small tensors, a
    `dense_resource` blob for initializers, so large weights stay out of
    the attribute storage and print as one hex blob.
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Quarc_Tensor:$output);
  let hasFolder = 1;
  let assemblyFormat = "attr-dict $value";
}

def Quarc_ConstantOfShapeOp : Quarc_CustomInferOp<"constant_of_shape",
                                                  [Pure]> {
  let summary = "ONNX ConstantOfShape";
  let description = [{
    A tensor of shape `input` filled with the one element of `value`
    (default: f32 zero).
  }];
  let arguments = (ins Quarc_I64Tensor:$input,
                       OptionalAttr<ElementsAttr>:$value);
  let results = (outs Quarc_Tensor:$output);
  let hasVerifier = 1;
}

def Quarc_CastOp : Quarc_CustomInferOp<"cast", [Pure]> {
  let summary = "ONNX Cast";
  let description = [{
    Converts `input` to the element type `to` (the importer turns the ONNX
    data type number into an MLIR type; `saturate` applies to float8 only).
  }];
  let arguments = (ins Quarc_Tensor:$input, TypeAttr:$to,
                       DefaultValuedAttr<I64Attr, "1">:$saturate);
  let results = (outs Quarc_Tensor:$output);
  let hasFolder = 1;
}

def Quarc_IdentityOp : Quarc_SameTypeOp<"identity", [Pure]> {
  let summary = "ONNX Identity";
  let description = "Returns its input; folds away.";
  let arguments = (ins Quarc_Tensor:$input);
  let results = (outs Quarc_Tensor:$output);
  let hasFolder = 1;
}

def Quarc_DropoutOp : Quarc_CustomInferOp<"dropout", [Pure]> {
  let summary = "ONNX Dropout (inference)";
  let description = [{
    In inference `output` is `data` and `mask` is all true. A constant true
    `training_mode` is rejected; a non-constant one is an error when lowered.
  }];
  let arguments = (ins Quarc_FloatTensor:$data, Quarc_OptFloatTensor:$ratio,
                       AnyTypeOf<[Quarc_BoolTensor, NoneType]>:$training_mode,
                       OptionalAttr<I64Attr>:$seed);
  let results = (outs Quarc_FloatTensor:$output, Quarc_BoolTensor:$mask);
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Quarc_RangeOp : Quarc_CustomInferOp<"range", [Pure]> {
  let summary = "ONNX Range";
  let description = [{
    The 1-D sequence start, start + delta, ... below `limit`; its length is
    static when all three scalars are constants.
  }];
  let arguments = (ins Quarc_NumericTensor:$start, Quarc_NumericTensor:$limit,
                       Quarc_NumericTensor:$delta);
  let results = (outs Quarc_NumericTensor:$output);
  let hasVerifier = 1;
}

#endif // QUARC_DIALECT_QUARC_IR_QUARCTENSOROPS_TD
