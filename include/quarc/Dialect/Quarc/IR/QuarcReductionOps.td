//===- QuarcReductionOps.td - reductions and arg-reductions -------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCREDUCTIONOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCREDUCTIONOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

// All Reduce* ops have the opset 18 form: `axes` is an optional input (the
// importer turns the older attribute into a constant).
class Quarc_ReduceOp<string mnemonic, string onnxName>
    : Quarc_CustomInferOp<mnemonic, [Pure]> {
  let summary = "ONNX " # onnxName;
  let description = "ONNX `" # onnxName # "` over `axes` (all dims when "
                    "absent or empty, unless `noop_with_empty_axes`).";
  let arguments = (ins Quarc_NumericTensor:$data, Quarc_OptI64Tensor:$axes,
                       DefaultValuedAttr<I64Attr, "1">:$keepdims,
                       DefaultValuedAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs Quarc_NumericTensor:$reduced);
}
def Quarc_ReduceMeanOp : Quarc_ReduceOp<"reduce_mean", "ReduceMean">;
def Quarc_ReduceSumOp : Quarc_ReduceOp<"reduce_sum", "ReduceSum">;
def Quarc_ReduceMaxOp : Quarc_ReduceOp<"reduce_max", "ReduceMax">;
def Quarc_ReduceMinOp : Quarc_ReduceOp<"reduce_min", "ReduceMin">;
def Quarc_ReduceProdOp : Quarc_ReduceOp<"reduce_prod", "ReduceProd">;
def Quarc_ReduceL2Op : Quarc_ReduceOp<"reduce_l2", "ReduceL2">;

class Quarc_ArgReduceOp<string mnemonic, string onnxName>
    : Quarc_CustomInferOp<mnemonic, [Pure]> {
  let summary = "ONNX " # onnxName;
  let description = "Index (i64) of the " # onnxName # " along `axis`.";
  let arguments = (ins Quarc_NumericTensor:$data,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<I64Attr, "1">:$keepdims,
                       DefaultValuedAttr<I64Attr, "0">:$select_last_index);
  let results = (outs Quarc_I64Tensor:$reduced);
}
def Quarc_ArgMaxOp : Quarc_ArgReduceOp<"arg_max", "ArgMax">;
def Quarc_ArgMinOp : Quarc_ArgReduceOp<"arg_min", "ArgMin">;

#endif // QUARC_DIALECT_QUARC_IR_QUARCREDUCTIONOPS_TD
