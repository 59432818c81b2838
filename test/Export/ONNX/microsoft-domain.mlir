// RUN: quarc-translate --export-onnx %s -o %t.onnx
// RUN: %onnx-to-text %t.onnx --check | FileCheck %s

// An op of another domain (com.microsoft's MatMulNBits) is written in its
// domain, which the model then imports at the op table's opset for it.

// CHECK: checker: ok
// CHECK: model ir_version=11 producer=quarc opsets=ai.onnx:23 com.microsoft:1
// CHECK: node mm com.microsoft.MatMulNBits(A, B, scales) -> (Y) {K=16, N=2, block_size=16}

module {
  func.func @main_graph(%arg0: tensor<1x16xf32> {quarc.name = "A"}) -> (tensor<1x2xf32> {quarc.name = "Y"}) {
    %0 = quarc.constant dense<[[[0, 1, 2, 3, 4, 5, 6, 7]], [[8, 9, 10, 11, 12, 13, 14, 15]]]> : tensor<2x1x8xui8> loc("B")
    %1 = quarc.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32> loc("scales")
    %2 = quarc.none
    %5 = quarc.matmul_nbits %arg0, %0, %1, %2, %2, %2 {K = 16 : i64, N = 2 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<2x1x8xui8>, tensor<2xf32>, none, none, none) -> tensor<1x2xf32> loc("mm"(fused<"onnx.outputs">["Y"]))
    return %5 : tensor<1x2xf32>
  }
}
