// RUN: quarc-opt %s -verify-diagnostics --quarc-insert-observers="quantized tensors=x"

// With `quantized`, a float tensor is not one the integer code writes.
// expected-error @below {{quarc-insert-observers: no tensor written by integer code named 'x'}}
module {
  func.func @f(%x: tensor<1x4xf32> {quarc.name = "x"}) -> tensor<1x4xf32> {
    %r = quarc.relu %x : (tensor<1x4xf32>) -> tensor<1x4xf32>
        loc("relu"(fused<"onnx.outputs">["r"("m.onnx":0:0)]))
    return %r : tensor<1x4xf32>
  }
}
