// RUN: quarc-translate --export-onnx %s -o %t.onnx
// RUN: %onnx-to-text %t.onnx --check | FileCheck %s

// If and Loop regions become subgraphs: the then/else branches and the
// Loop body, whose block arguments are its inputs (iteration number,
// condition, carried values). A subgraph reads the enclosing graph's
// tensors by name and keeps its constants as its own initializers; a
// yielded value that is no output of the subgraph's own nodes (the carried
// input, an outer tensor) is copied by an Identity, which onnxruntime
// requires.

// CHECK: checker: ok
// CHECK: graph if_outer_values
// CHECK: node relu Relu(x) -> (r)
// CHECK: node if If(c) -> (y) {then_branch=graph, else_branch=graph}
// CHECK-NEXT:   subgraph then_branch {
// CHECK-NEXT:     graph if_then_branch
// CHECK-NEXT:     output sum FLOAT [4,3]
// CHECK-NEXT:     node add Add(r, x) -> (sum)
// CHECK-NEXT:   }
// CHECK-NEXT:   subgraph else_branch {
// CHECK-NEXT:     graph if_else_branch
// CHECK-NEXT:     output if_else_branch_output_0 FLOAT [4,3]
// CHECK-NEXT:     node if_else_branch_if_else_branch_output_0 Identity(r) -> (if_else_branch_output_0)
// CHECK-NEXT:   }
// CHECK: node loop Loop(trip, , acc0) -> (acc, scan) {body=graph}
// CHECK-NEXT:   subgraph body {
// CHECK-NEXT:     graph loop_body
// CHECK-NEXT:     input loop_body_input_0 INT64 []
// CHECK-NEXT:     input loop_body_input_1 BOOL []
// CHECK-NEXT:     input loop_body_input_2 FLOAT [2]
// CHECK-NEXT:     output cond_out BOOL []
// CHECK-NEXT:     output next FLOAT [2]
// CHECK-NEXT:     output loop_body_output_2 FLOAT [2]
// CHECK-NEXT:     initializer step FLOAT [2] typed [0.5,1]
// CHECK-NEXT:     node add_step Add(loop_body_input_2, step) -> (next)
// CHECK-NEXT:     node keep Identity(loop_body_input_1) -> (cond_out)
// CHECK-NEXT:     node loop_body_loop_body_output_2 Identity(loop_body_input_2) -> (loop_body_output_2)
// CHECK-NEXT:   }

module attributes {quarc.graph_name = "if_outer_values"} {
  func.func @main_graph(%c: tensor<i1> {quarc.name = "c"}, %x: tensor<4x3xf32> {quarc.name = "x"},
                        %trip: tensor<i64> {quarc.name = "trip"}, %acc0: tensor<2xf32> {quarc.name = "acc0"})
      -> (tensor<4x3xf32> {quarc.name = "y"}, tensor<2xf32> {quarc.name = "acc"}, tensor<?x2xf32> {quarc.name = "scan"}) {
    %r = quarc.relu %x : (tensor<4x3xf32>) -> tensor<4x3xf32> loc("relu"(fused<"onnx.outputs">["r"]))
    %y = quarc.if %c : tensor<i1> -> tensor<4x3xf32> {
      %s = quarc.add %r, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32> loc("add"(fused<"onnx.outputs">["sum"]))
      quarc.yield %s : tensor<4x3xf32>
    } else {
      quarc.yield %r : tensor<4x3xf32>
    } loc("if"(fused<"onnx.outputs">["y"]))
    %none = quarc.none
    %l:2 = quarc.loop(%trip, %none, %acc0) : (tensor<i64>, none, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
    ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<2xf32>):
      %step = quarc.constant dense<[0.5, 1.0]> : tensor<2xf32> loc("step")
      %next = quarc.add %v, %step : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("add_step"(fused<"onnx.outputs">["next"]))
      %keep = quarc.identity %cond : (tensor<i1>) -> tensor<i1> loc("keep"(fused<"onnx.outputs">["cond_out"]))
      quarc.yield %keep, %next, %v : tensor<i1>, tensor<2xf32>, tensor<2xf32>
    } loc("loop"(fused<"onnx.outputs">["acc", "scan"]))
    return %y, %l#0, %l#1 : tensor<4x3xf32>, tensor<2xf32>, tensor<?x2xf32>
  }
}
