// RUN: quarc-opt %s -verify-diagnostics --quarc-insert-observers=tensors=x,nope

// expected-error @below {{quarc-insert-observers: no f32 tensor named 'nope'}}
module {
  func.func @f(%x: tensor<1x4xf32> {quarc.name = "x"}) -> tensor<1x4xf32> {
    return %x : tensor<1x4xf32>
  }
}
