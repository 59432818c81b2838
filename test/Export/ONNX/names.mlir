// RUN: quarc-translate --export-onnx %s -o %t.onnx
// RUN: %onnx-to-text %t.onnx --check | FileCheck %s

// Tensor names come from the locations (TensorNames.h), also through a
// fused location a rewrite left (the first one names the results). Names
// are unique: a second tensor called "a" becomes "a_1", and no node takes
// an output's name. Graph outputs: a node's result is named after the
// output; an input returned under its own name passes through; an input
// under another name, a constant, and a value returned a second time are
// copied by an Identity node. Without a graph name the function's is used.

// CHECK: checker: ok
// CHECK: graph main_graph
// CHECK-NEXT: input x FLOAT [2]
// CHECK-NEXT: input y FLOAT [2]
// CHECK-NEXT: output sum FLOAT [2]
// CHECK-NEXT: output x FLOAT [2]
// CHECK-NEXT: output y_again FLOAT [2]
// CHECK-NEXT: output sum_again FLOAT [2]
// CHECK-NEXT: output weights FLOAT [2]
// CHECK-NEXT: output a FLOAT [2]
// CHECK-NEXT: initializer w FLOAT [2] typed [1,2]
// CHECK-NEXT: node add Add(x, w) -> (a_1)
// CHECK-NEXT: node mul Mul(a_1, y) -> (sum)
// CHECK-NEXT: node add_1 Add(sum, sum) -> (a_2)
// CHECK-NEXT: node neg Neg(a_2) -> (a)
// CHECK-NEXT: node main_graph_y_again Identity(y) -> (y_again)
// CHECK-NEXT: node main_graph_sum_again Identity(sum) -> (sum_again)
// CHECK-NEXT: node main_graph_weights Identity(w) -> (weights)
// CHECK-NOT: node

module {
  func.func @main_graph(%x: tensor<2xf32> {quarc.name = "x"}, %y: tensor<2xf32> {quarc.name = "y"})
      -> (tensor<2xf32> {quarc.name = "sum"}, tensor<2xf32> {quarc.name = "x"},
          tensor<2xf32> {quarc.name = "y_again"}, tensor<2xf32> {quarc.name = "sum_again"},
          tensor<2xf32> {quarc.name = "weights"}, tensor<2xf32> {quarc.name = "a"}) {
    %w = quarc.constant dense<[1.0, 2.0]> : tensor<2xf32> loc("w")
    %a = quarc.add %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("add"(fused<"onnx.outputs">["a"]))
    %s = quarc.mul %a, %y : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc(fused["mul"(fused<"onnx.outputs">["s"]), "other"])
    %b = quarc.add %s, %s : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("add"(fused<"onnx.outputs">["a"]))
    %n = quarc.neg %b : (tensor<2xf32>) -> tensor<2xf32> loc("neg"(fused<"onnx.outputs">["n"]))
    return %s, %x, %y, %s, %w, %n : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  }
}
