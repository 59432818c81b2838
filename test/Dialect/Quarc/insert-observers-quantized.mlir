// RUN: quarc-opt %s --quarc-insert-observers=quantized | FileCheck %s
// RUN: quarc-opt %s --quarc-insert-observers="quantized tensors=h" | FileCheck %s --check-prefix=ONE

// With `quantized` (after quarc-fold-qdq), what the integer code writes is
// observed: a named !quant.uniform result through a dequantize inserted
// after it (the input's quantize, integer ops, pass-through ops), and a
// named f32 result of an op that reads quantized operands (an integer op
// writing float from its accumulators). Not observed: float inputs, the
// weights (constants and their storage casts, even when named), existing
// dequantizes, float ops, unnamed values.

// CHECK: module attributes {quarc.observed_tensors = ["x", "h", "flat", "y"]}
// CHECK-LABEL: func.func @main_graph
// CHECK-NOT: quarc.observe %arg0
// CHECK: %[[XQ:.*]] = quarc.quantize %arg0
// CHECK-NEXT: %[[XD:.*]] = quarc.dequantize %[[XQ]] : tensor<1x4x!quant.uniform<u8:f32, 2.000000e-02:128>> -> tensor<1x4xf32>
// CHECK-NEXT: quarc.observe %[[XD]] {index = 0 : i64, tensor = "x"} : tensor<1x4xf32>
// CHECK-NEXT: quarc.constant
// CHECK-NEXT: quarc.storage_cast
// CHECK-NEXT: quarc.constant
// CHECK-NEXT: %[[H:.*]] = quarc.qmatmul
// CHECK-NEXT: %[[HD:.*]] = quarc.dequantize %[[H]]
// CHECK-NEXT: quarc.observe %[[HD]] {index = 1 : i64, tensor = "h"} : tensor<1x4xf32>
// CHECK-NEXT: %[[F:.*]] = quarc.flatten %[[H]]
// CHECK-NEXT: %[[FD:.*]] = quarc.dequantize %[[F]]
// CHECK-NEXT: quarc.observe %[[FD]] {index = 2 : i64, tensor = "flat"}
// CHECK-NEXT: %[[Y:.*]] = quarc.qmatmul %[[F]]
// CHECK-NEXT: quarc.observe %[[Y]] {index = 3 : i64, tensor = "y"} : tensor<1x4xf32>
// CHECK-NEXT: quarc.dequantize %[[F]]
// CHECK-NEXT: quarc.relu
// CHECK-NEXT: quarc.flatten %[[H]]
// CHECK-NEXT: return
// CHECK: func.func private @quarc_observe(i64, memref<*xf32>)

// ONE: module attributes {quarc.observed_tensors = ["h"]}
// ONE-COUNT-1: quarc.dequantize %{{.*}} : tensor<1x4x!quant.uniform<u8:f32, 5.000000e-02:3>>
// ONE-NOT: quarc.observe {{.*}}"x"

!u8x = !quant.uniform<u8:f32, 0.02:128>
!u8h = !quant.uniform<u8:f32, 0.05:3>
!i8w = !quant.uniform<i8:f32:1, {0.01, 0.02, 0.03, 0.04}>
func.func @main_graph(%x: tensor<1x4xf32> {quarc.name = "x"})
    -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4x!u8h>) {
  %xq = quarc.quantize %x : tensor<1x4xf32> -> tensor<1x4x!u8x>
      loc("x"(fused<"onnx.outputs">["x"("m.onnx":0:0)]))
  %wi = quarc.constant dense<1> : tensor<4x4xi8> loc("w"("m.onnx":0:0))
  %w = quarc.storage_cast %wi : tensor<4x4xi8> -> tensor<4x4x!i8w>
      loc("w"(fused<"onnx.outputs">["w"("m.onnx":0:0)]))
  %b = quarc.constant dense<0> : tensor<4xi32> loc("b"("m.onnx":0:0))
  %h = quarc.qmatmul %xq, %w, %b
      : (tensor<1x4x!u8x>, tensor<4x4x!i8w>, tensor<4xi32>) -> tensor<1x4x!u8h>
      loc(fused["h"(fused<"onnx.outputs">["h"("m.onnx":0:0)]),
                "mm1"(fused<"onnx.outputs">["h"("m.onnx":0:0)])])
  %f = quarc.flatten %h : (tensor<1x4x!u8h>) -> tensor<1x4x!u8h>
      loc("flatten"(fused<"onnx.outputs">["flat"("m.onnx":0:0)]))
  %y = quarc.qmatmul %f, %w, %b
      : (tensor<1x4x!u8h>, tensor<4x4x!i8w>, tensor<4xi32>) -> tensor<1x4xf32>
      loc("mm2"(fused<"onnx.outputs">["y"("m.onnx":0:0)]))
  // Already dequantized (and named): its value is flat's.
  %fd = quarc.dequantize %f : tensor<1x4x!u8h> -> tensor<1x4xf32>
      loc("flat"(fused<"onnx.outputs">["flat"("m.onnx":0:0)]))
  // Float compute: not observed.
  %r = quarc.relu %fd : (tensor<1x4xf32>) -> tensor<1x4xf32>
      loc("relu"(fused<"onnx.outputs">["r"("m.onnx":0:0)]))
  // Unnamed.
  %u = quarc.flatten %h : (tensor<1x4x!u8h>) -> tensor<1x4x!u8h> loc("unnamed")
  return %y, %r, %u : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4x!u8h>
}
