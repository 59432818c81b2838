//===- Passes.td - graph-level passes on the quarc dialect ---------------===//
//
// docs/passes.md is generated from the descriptions below.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_TD
#define QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuarcSpecializeShapes : Pass<"quarc-specialize-shapes", "func::FuncOp"> {
  let summary = "Fix input shapes and propagate static shapes through the graph";
  let description = [{
    Gives the function's inputs the shapes named by `input-shapes` (a list
    of `NAME=D0xD1x...`, where NAME is the ONNX input name kept in the
    argument's `quarc.name` attribute and a `?` keeps a dimension dynamic),
    then re-runs every op's shape inference in order and refines result
    types wherever the inferred type is more static than the declared one.
    Shape computations that become constant (`Shape` of a now-static
    tensor, arithmetic on it) fold, and inference runs again, until nothing
    changes. The function's result types are updated to match.

    With no `input-shapes` it only refines: useful after an import whose
    declared intermediate shapes were left dynamic.

    Errors: an unknown input name, a rank that differs from the model's, a
    static dimension that contradicts the model's, or an op whose shape
    inference fails on the new shapes (reported with its ONNX node name).
  }];
  let options = [
    ListOption<"inputShapes", "input-shapes", "std::string",
               "Input shapes, NAME=D0xD1x... (a `?` keeps a dim dynamic)">,
  ];
}

def QuarcFoldConstants : Pass<"quarc-fold-constants", "func::FuncOp"> {
  let summary = "Evaluate ops whose operands are all constants";
  let description = [{
    Replaces an op whose operands are all `quarc.constant` by a constant
    holding its result, for the ops that compute shapes and small
    parameter tensors: Cast, Concat, Slice, Gather, Squeeze, Unsqueeze,
    Reshape, Flatten, Identity, Expand, ConstantOfShape, Shape of a static
    tensor, Add/Sub/Mul/Div, Equal/Less/Greater, Where, Min/Max, Neg and
    Abs. Results larger
    than `max-elements` are left alone so weights are not duplicated.

    Together with `quarc-specialize-shapes` this turns the
    Shape→Gather→Concat→Reshape chains of exported models into static
    reshapes.
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", "65536",
           "Largest result (in elements) to evaluate">,
  ];
}

#endif // QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_TD
