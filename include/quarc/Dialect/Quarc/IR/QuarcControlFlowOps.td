//===- QuarcControlFlowOps.td - ONNX If and Loop as region ops ----------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCCONTROLFLOWOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCCONTROLFLOWOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

def Quarc_IfOp : Quarc_CustomInferOp<"if", [RecursiveMemoryEffects,
                                            NoRegionArguments]> {
  let summary = "ONNX If";
  let description = [{
    Runs `then_branch` or `else_branch` by the one-element `cond`. Each region
    ends in `quarc.yield`; the branches may use values of the enclosing graph.
    A result dim that differs between the branches is `?`.
  }];
  let arguments = (ins Quarc_BoolTensor:$cond);
  let results = (outs Variadic<Quarc_Tensor>:$outputs);
  let regions = (region SizedRegion<1>:$then_branch,
                        SizedRegion<1>:$else_branch);
  let assemblyFormat = [{
    $cond `:` type($cond) (`->` type($outputs)^)? $then_branch `else`
    $else_branch attr-dict
  }];
  let hasVerifier = 1;
}

def Quarc_LoopOp : Quarc_CustomInferOp<"loop", [RecursiveMemoryEffects]> {
  let summary = "ONNX Loop";
  let description = [{
    Runs `body` while the trip count `M` (optional) is not reached and the
    condition (optional) holds. The body takes (iteration number, condition,
    carried values...) and yields (condition, carried values..., scan
    outputs...). Results are the final carried values, then each scan output
    stacked along a new leading `?` dim.
  }];
  let arguments = (ins AnyTypeOf<[Quarc_I64Tensor, NoneType]>:$M,
                       AnyTypeOf<[Quarc_BoolTensor, NoneType]>:$cond,
                       Variadic<Quarc_Tensor>:$v_initial);
  let results = (outs Variadic<Quarc_Tensor>:$v_final_and_scan_outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $M `,` $cond (`,` $v_initial^)? `)` attr-dict `:`
    functional-type(operands, results) $body
  }];
  let hasVerifier = 1;
}

def Quarc_YieldOp : Op<Quarc_Dialect, "yield",
                       [Pure, Terminator, ReturnLike,
                        ParentOneOf<["IfOp", "LoopOp"]>]> {
  let summary = "Ends an If branch or a Loop body";
  let description = "Yields the values of a branch or body (its ONNX outputs).";
  let arguments = (ins Variadic<AnyType>:$operands);
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

#endif // QUARC_DIALECT_QUARC_IR_QUARCCONTROLFLOWOPS_TD
