// RUN: quarc-opt %s -split-input-file -verify-diagnostics --quarc-specialize-shapes='input-shapes=x=1x3' -o /dev/null

// expected-error @below {{no input named 'x' (inputs: a, b)}}
func.func @unknown_name(%a: tensor<?x3xf32> {quarc.name = "a"}, %b: tensor<3xf32> {quarc.name = "b"}) -> tensor<?x3xf32> {
  return %a : tensor<?x3xf32>
}

// -----

// expected-error @below {{input 'x': shape x=1x3 contradicts the model's 'tensor<?x4xf32>'}}
func.func @wrong_dim(%x: tensor<?x4xf32> {quarc.name = "x"}) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}

// -----

// expected-error @below {{input 'x': shape x=1x3 contradicts the model's 'tensor<?x?x?xf32>'}}
func.func @wrong_rank(%x: tensor<?x?x?xf32> {quarc.name = "x"}) -> tensor<?x?x?xf32> {
  return %x : tensor<?x?x?xf32>
}
