// RUN: quarc-opt %s -split-input-file --quarc-decompose-matmul-nbits | FileCheck %s
// RUN: quarc-opt %s -split-input-file --quarc-decompose-matmul-nbits --quarc-fold-qdq --canonicalize | FileCheck %s --check-prefix=FOLDED

// K = 16, N = 2, one block of 16, no zero points (8 for 4 bits). Column 0
// holds 0..15 (bytes 0x10, 0x32, ...: the first value in the low nibble),
// scale 0.5; column 1 holds 3 everywhere with scale -0.25, made positive
// by mirroring: 15 - 3 = 12, zero point 15 - 8 = 7. The K x N constant is
// the weight transposed back. (The sub-channel type prints the unsigned
// zero point 8 of column 0 as -8: upstream prints the 4 bits signed.)

// CHECK-LABEL: func.func @nbits
// CHECK: %[[BIAS:.*]] = quarc.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[W:.*]] = quarc.constant dense<{{\[\[}}0, 12], [1, 12], [2, 12], [3, 12], [4, 12], [5, 12], [6, 12], [7, 12], [8, 12], [9, 12], [10, 12], [11, 12], [12, 12], [13, 12], [14, 12], [15, 12]]> : tensor<16x2xui4>
// CHECK: %[[Q:.*]] = quarc.storage_cast %[[W]] : tensor<16x2xui4> -> tensor<16x2x!quant.uniform<u4:f32:{0:16, 1:1}, {{\{\{}}5.000000e-01:-8, 2.500000e-01:7}}>>
// CHECK: %[[D:.*]] = quarc.dequantize %[[Q]]
// CHECK: %[[M:.*]] = quarc.matmul %arg0, %[[D]] : (tensor<3x16xf32>, tensor<16x2xf32>) -> tensor<3x2xf32>
// CHECK: quarc.add %[[M]], %[[BIAS]]
// CHECK-NOT: quarc.matmul_nbits

// FOLDED-LABEL: func.func @nbits
// FOLDED: %[[BIAS:.*]] = quarc.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// FOLDED: %[[Q:.*]] = quarc.storage_cast
// FOLDED: quarc.qmatmul_weight_only %arg0, %[[Q]], %[[BIAS]] : (tensor<3x16xf32>, tensor<16x2x!quant.uniform<u4:f32:{0:16, 1:1}, {{.*}}>>, tensor<2xf32>) -> tensor<3x2xf32>
// FOLDED-NOT: quarc.matmul
// FOLDED-NOT: quarc.add
func.func @nbits(%a: tensor<3x16xf32>) -> tensor<3x2xf32> {
  %b = quarc.constant dense<[[[16, 50, 84, 118, 152, 186, 220, 254]], [[51, 51, 51, 51, 51, 51, 51, 51]]]> : tensor<2x1x8xui8>
  %s = quarc.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %bias = quarc.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %none = quarc.none
  %r = quarc.matmul_nbits %a, %b, %s, %none, %none, %bias {K = 16 : i64, N = 2 : i64, block_size = 16 : i64} : (tensor<3x16xf32>, tensor<2x1x8xui8>, tensor<2xf32>, none, none, tensor<2xf32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

// K = 20 in two blocks of 16 (the second holds 4 values), N = 1, packed zero
// points 0x52 (block 0: 2, block 1: 5), a zero scale in block 1: its values
// become the zero point (they are multiplied by 0) and its scale 1.

// CHECK-LABEL: func.func @ragged_zero_scale
// CHECK: quarc.constant dense<{{\[\[}}1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [5], [5], [5], [5]]> : tensor<20x1xui4>
// CHECK: !quant.uniform<u4:f32:{0:16, 1:1}, {{\{\{}}2.500000e-01:2}, {1.000000e+00:5}}>
func.func @ragged_zero_scale(%a: tensor<1x20xf32>) -> tensor<1x1xf32> {
  %b = quarc.constant dense<[[[17, 17, 17, 17, 17, 17, 17, 17], [255, 255, 0, 0, 0, 0, 0, 0]]]> : tensor<1x2x8xui8>
  %s = quarc.constant dense<[0.25, 0.0]> : tensor<2xf32>
  %zp = quarc.constant dense<[82]> : tensor<1xui8>
  %none = quarc.none
  %r = quarc.matmul_nbits %a, %b, %s, %zp, %none, %none {K = 20 : i64, N = 1 : i64, block_size = 16 : i64} : (tensor<1x20xf32>, tensor<1x2x8xui8>, tensor<2xf32>, tensor<1xui8>, none, none) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}

// -----

// accuracy_level 4 asks for int8 activations: the product is marked, and
// the fold carries it into quarc.qmatmul_weight_only.

// CHECK-LABEL: func.func @accuracy_level_4
// CHECK: quarc.matmul %arg0, %{{.*}} {quarc.int8_activations}
// FOLDED-LABEL: func.func @accuracy_level_4
// FOLDED: quarc.qmatmul_weight_only %arg0, %{{.*}}, %{{.*}} {int8_activations}
func.func @accuracy_level_4(%a: tensor<1x16xf32>) -> tensor<1x1xf32> {
  %b = quarc.constant dense<17> : tensor<1x1x8xui8>
  %s = quarc.constant dense<0.5> : tensor<1xf32>
  %none = quarc.none
  %r = quarc.matmul_nbits %a, %b, %s, %none, %none, %none {K = 16 : i64, N = 1 : i64, accuracy_level = 4 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<1x1x8xui8>, tensor<1xf32>, none, none, none) -> tensor<1x1xf32>
  return %r : tensor<1x1xf32>
}
