// RUN: quarc-opt %s -split-input-file -verify-diagnostics --quarc-decompose-matmul-nbits

func.func @g_idx(%a: tensor<1x16xf32>) -> tensor<1x1xf32> {
  %b = quarc.constant dense<0> : tensor<1x1x8xui8>
  %s = quarc.constant dense<1.0> : tensor<1xf32>
  %g = quarc.constant dense<0> : tensor<16xi32>
  %none = quarc.none
  // expected-error @+1 {{com.microsoft MatMulNBits: g_idx (act-order group indices) is not supported}}
  %r = quarc.matmul_nbits %a, %b, %s, %none, %g, %none {K = 16 : i64, N = 1 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<1x1x8xui8>, tensor<1xf32>, none, tensor<16xi32>, none) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

func.func @weight_not_constant(%a: tensor<1x16xf32>, %b: tensor<1x1x8xui8>) -> tensor<1x1xf32> {
  %s = quarc.constant dense<1.0> : tensor<1xf32>
  %none = quarc.none
  // expected-error @+1 {{com.microsoft MatMulNBits: B and scales must be constants (initializers)}}
  %r = quarc.matmul_nbits %a, %b, %s, %none, %none, %none {K = 16 : i64, N = 1 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<1x1x8xui8>, tensor<1xf32>, none, none, none) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

func.func @scales_count(%a: tensor<1x16xf32>) -> tensor<1x1xf32> {
  %b = quarc.constant dense<0> : tensor<1x1x8xui8>
  %s = quarc.constant dense<1.0> : tensor<2xf32>
  %none = quarc.none
  // expected-error @+1 {{com.microsoft MatMulNBits: scales has 2 values, expected N * ceil(K / block_size) = 1}}
  %r = quarc.matmul_nbits %a, %b, %s, %none, %none, %none {K = 16 : i64, N = 1 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<1x1x8xui8>, tensor<2xf32>, none, none, none) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

func.func @float_zero_points(%a: tensor<1x16xf32>) -> tensor<1x1xf32> {
  %b = quarc.constant dense<0> : tensor<1x1x8xui8>
  %s = quarc.constant dense<1.0> : tensor<1xf32>
  %z = quarc.constant dense<8.0> : tensor<1xf32>
  %none = quarc.none
  // expected-error @+1 {{com.microsoft MatMulNBits: zero points of type 'tensor<1xf32>' are not supported (only packed uint8)}}
  %r = quarc.matmul_nbits %a, %b, %s, %z, %none, %none {K = 16 : i64, N = 1 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<1x1x8xui8>, tensor<1xf32>, tensor<1xf32>, none, none) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}
