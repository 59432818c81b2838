// RUN: quarc-opt %s --quarc-insert-observers | FileCheck %s
// RUN: quarc-opt %s --quarc-insert-observers=tensors=y | FileCheck %s --check-prefix=ONE

// Every named f32 tensor is observed right after it is defined: inputs
// first, then op results in order. Constants, integer tensors and values
// without an ONNX name are not. The names are listed on the module in the
// order of the `index` attributes, and the callback is declared.

// CHECK: module attributes {quarc.observed_tensors = ["x", "y", "z", "bn"]}
// CHECK-LABEL: func.func @main_graph
// CHECK-NEXT: quarc.observe %arg0 {index = 0 : i64, tensor = "x"} : tensor<1x4xf32>
// CHECK-NEXT: quarc.constant
// CHECK-NEXT: %[[Y:.*]] = quarc.matmul
// CHECK-NEXT: quarc.observe %[[Y]] {index = 1 : i64, tensor = "y"} : tensor<1x4xf32>
// CHECK-NEXT: %[[Z:.*]] = quarc.relu %[[Y]]
// CHECK-NEXT: quarc.observe %[[Z]] {index = 2 : i64, tensor = "z"} : tensor<1x4xf32>
// CHECK-NEXT: quarc.relu %[[Z]]
// CHECK-NEXT: quarc.shape
// CHECK-NEXT: return

// ONE: module attributes {quarc.observed_tensors = ["y"]}
// ONE-COUNT-1: quarc.observe
// ONE-NOT: quarc.observe

func.func @main_graph(%x: tensor<1x4xf32> {quarc.name = "x"},
                      %n: tensor<2xi64> {quarc.name = "n"})
    -> (tensor<1x4xf32>, tensor<2xi64>) {
  %w = quarc.constant dense<1.0> : tensor<4x4xf32> loc("w"("m.onnx":0:0))
  %y = quarc.matmul %x, %w : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
      loc("mm"(fused<"onnx.outputs">["y"("m.onnx":0:0)]))
  %z = quarc.relu %y : (tensor<1x4xf32>) -> tensor<1x4xf32>
      loc("relu"(fused<"onnx.outputs">["z"("m.onnx":0:0)]))
  %u = quarc.relu %z : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("unnamed")
  %s = quarc.shape %u : (tensor<1x4xf32>) -> tensor<2xi64>
      loc("shape"(fused<"onnx.outputs">["s"("m.onnx":0:0)]))
  return %u, %s : tensor<1x4xf32>, tensor<2xi64>
}

// A rewrite that replaced a named value puts the replaced op's location
// first (quarc-fold-batchnorm does): the first location names the results.

// CHECK-LABEL: func.func @fused
// CHECK: quarc.observe %{{.*}} {index = 3 : i64, tensor = "bn"}
func.func @fused(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %z = quarc.relu %x : (tensor<1x4xf32>) -> tensor<1x4xf32>
      loc(fused["bn_node"(fused<"onnx.outputs">["bn"("m.onnx":0:0)]),
                "conv"(fused<"onnx.outputs">["c"("m.onnx":0:0)])])
  return %z : tensor<1x4xf32>
}


// CHECK: func.func private @quarc_observe(i64, memref<*xf32>)
