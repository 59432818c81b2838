// RUN: quarc-opt %s -split-input-file --quarc-fold-qdq | FileCheck %s

// A convolution between a dequantized activation and a dequantized integer
// constant becomes quarc.qconv, and the quantize that is its only user
// becomes its result. The bias is int32 at scale sx * sw[f] minus zx times
// the channel's weight sum: [1.0 / 0.125 - 10 * 3, -0.5 / 0.0625 - 10 * 1].

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:0, {0.25, 0.125}>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @conv_requantized
// CHECK-DAG: %[[W:.*]] = quarc.storage_cast %{{.*}} : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32:0, {2.500000e-01,1.250000e-01}>>
// CHECK-DAG: %[[B:.*]] = quarc.constant dense<[-22, -18]> : tensor<2xi32>
// CHECK: %[[Y:.*]] = quarc.qconv %[[Q:.*]], %[[W]], %[[B]] {pads = array<i64: 0, 0, 0, 1>}
// CHECK-SAME: -> tensor<1x2x4x4x!quant.uniform<u8:f32, 1.000000e+00:5>>
// CHECK: %[[D:.*]] = quarc.dequantize %[[Y]]
// CHECK: return %[[D]]
// CHECK-NOT: quarc.conv
func.func @conv_requantized(%arg0: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %q = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!x>
  %x = quarc.dequantize %q : tensor<1x1x4x4x!x> -> tensor<1x1x4x4xf32>
  %c = quarc.constant dense<[[[[1, 2]]], [[[-3, 4]]]]> : tensor<2x1x1x2xi8>
  %wq = quarc.storage_cast %c : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!w>
  %w = quarc.dequantize %wq : tensor<2x1x1x2x!w> -> tensor<2x1x1x2xf32>
  %b = quarc.constant dense<[1.0, -0.5]> : tensor<2xf32>
  %y = quarc.conv %x, %w, %b {pads = array<i64: 0, 0, 0, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %yq = quarc.quantize %y : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!y>
  %yd = quarc.dequantize %yq : tensor<1x2x4x4x!y> -> tensor<1x2x4x4xf32>
  return %yd : tensor<1x2x4x4xf32>
}

// -----

// An output the model returns (or that several ops read) stays f32: the
// integer op scales its accumulators to f32 itself. No bias: only the
// compensation, -10 * [3, 1].

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:0, {0.25, 0.125}>
// CHECK-LABEL: func.func @conv_float_result
// CHECK: %[[B:.*]] = quarc.constant dense<[-30, -10]> : tensor<2xi32>
// CHECK: %[[Y:.*]] = quarc.qconv %{{.*}}, %{{.*}}, %[[B]] : {{.*}} -> tensor<1x2x4x3xf32>
// CHECK: return %[[Y]]
func.func @conv_float_result(%arg0: tensor<1x1x4x4xf32>) -> tensor<1x2x4x3xf32> {
  %q = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!x>
  %x = quarc.dequantize %q : tensor<1x1x4x4x!x> -> tensor<1x1x4x4xf32>
  %c = quarc.constant dense<[[[[1, 2]]], [[[-3, 4]]]]> : tensor<2x1x1x2xi8>
  %wq = quarc.storage_cast %c : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!w>
  %w = quarc.dequantize %wq : tensor<2x1x1x2x!w> -> tensor<2x1x1x2xf32>
  %none = quarc.none
  %y = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>, none) -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}

// -----

// onnxruntime's QDQ models carry the bias as int32 at scale sx * sw: the
// stored integers are used as they are (zx = 0: no compensation).

!x = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i8:f32, 0.25>
!b = !quant.uniform<i32:f32, 0.125>
// CHECK-LABEL: func.func @conv_int32_bias
// CHECK: %[[B:.*]] = quarc.constant dense<[7, -9]> : tensor<2xi32>
// CHECK: quarc.qconv %{{.*}}, %{{.*}}, %[[B]] {group = 2 : i64}
func.func @conv_int32_bias(%arg0: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %q = quarc.quantize %arg0 : tensor<1x2x3x3xf32> -> tensor<1x2x3x3x!x>
  %x = quarc.dequantize %q : tensor<1x2x3x3x!x> -> tensor<1x2x3x3xf32>
  %c = quarc.constant dense<[[[[3]]], [[[-2]]]]> : tensor<2x1x1x1xi8>
  %wq = quarc.storage_cast %c : tensor<2x1x1x1xi8> -> tensor<2x1x1x1x!w>
  %w = quarc.dequantize %wq : tensor<2x1x1x1x!w> -> tensor<2x1x1x1xf32>
  %bc = quarc.constant dense<[7, -9]> : tensor<2xi32>
  %bq = quarc.storage_cast %bc : tensor<2xi32> -> tensor<2x!b>
  %b = quarc.dequantize %bq : tensor<2x!b> -> tensor<2xf32>
  %y = quarc.conv %x, %w, %b {group = 2 : i64} : (tensor<1x2x3x3xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

// Gemm with B transposed: B^T becomes a K x N constant quantized along
// axis 1, alpha (2) multiplies its scales, and beta * C is the bias:
// [4 * 0.5 / 0.25 - 4 * 6, 8 * 0.5 / 0.125 - 4 * 15].

!a = !quant.uniform<u8:f32, 0.25:4>
!w = !quant.uniform<i8:f32:0, {0.5, 0.25}>
// CHECK-LABEL: func.func @gemm_transposed
// CHECK-DAG: %[[K:.*]] = quarc.constant dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi8>
// CHECK-DAG: %[[W:.*]] = quarc.storage_cast %[[K]] : tensor<3x2xi8> -> tensor<3x2x!quant.uniform<i8:f32:1, {1.000000e+00,5.000000e-01}>>
// CHECK-DAG: %[[B:.*]] = quarc.constant dense<[-16, -28]> : tensor<2xi32>
// CHECK: quarc.qmatmul %{{.*}}, %[[W]], %[[B]] : {{.*}} -> tensor<5x2xf32>
// CHECK-NOT: quarc.gemm
func.func @gemm_transposed(%arg0: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %q = quarc.quantize %arg0 : tensor<5x3xf32> -> tensor<5x3x!a>
  %a = quarc.dequantize %q : tensor<5x3x!a> -> tensor<5x3xf32>
  %c = quarc.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi8>
  %wq = quarc.storage_cast %c : tensor<2x3xi8> -> tensor<2x3x!w>
  %w = quarc.dequantize %wq : tensor<2x3x!w> -> tensor<2x3xf32>
  %bias = quarc.constant dense<[4.0, 8.0]> : tensor<2xf32>
  %y = quarc.gemm %a, %w, %bias {alpha = 2.0 : f32, beta = 0.5 : f32, transB = 1 : i64} : (tensor<5x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// A batched MatMul (3-D A, 2-D B) requantized into the quantize after it.

!a = !quant.uniform<i8:f32, 0.25:-3>
!w = !quant.uniform<i8:f32:1, {0.5, 0.25}>
!y = !quant.uniform<i8:f32, 0.5:1>
// CHECK-LABEL: func.func @matmul_batched
// CHECK: %[[B:.*]] = quarc.constant dense<[9, 6]> : tensor<2xi32>
// CHECK: quarc.qmatmul %{{.*}}, %{{.*}}, %[[B]] : {{.*}} -> tensor<2x5x2x!quant.uniform<i8:f32, 5.000000e-01:1>>
func.func @matmul_batched(%arg0: tensor<2x5x3xf32>) -> tensor<2x5x2xf32> {
  %q = quarc.quantize %arg0 : tensor<2x5x3xf32> -> tensor<2x5x3x!a>
  %a = quarc.dequantize %q : tensor<2x5x3x!a> -> tensor<2x5x3xf32>
  %c = quarc.constant dense<[[1, 2], [-1, 0], [3, 0]]> : tensor<3x2xi8>
  %wq = quarc.storage_cast %c : tensor<3x2xi8> -> tensor<3x2x!w>
  %w = quarc.dequantize %wq : tensor<3x2x!w> -> tensor<3x2xf32>
  %y = quarc.matmul %a, %w : (tensor<2x5x3xf32>, tensor<3x2xf32>) -> tensor<2x5x2xf32>
  %yq = quarc.quantize %y : tensor<2x5x2xf32> -> tensor<2x5x2x!y>
  %yd = quarc.dequantize %yq : tensor<2x5x2x!y> -> tensor<2x5x2xf32>
  return %yd : tensor<2x5x2xf32>
}

// -----

// What does not fold stays in float: a weight that is not a constant, an
// activation that is not dequantized. (A weight with a zero point folds:
// see @asymmetric_weight.)

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
// CHECK-LABEL: func.func @not_folded
// CHECK-NOT: quarc.qconv
// CHECK-NOT: quarc.qmatmul
// CHECK: quarc.conv
// CHECK: quarc.matmul
func.func @not_folded(%arg0: tensor<1x1x4x4xf32>, %arg1: tensor<1x1x1x1x!w>, %arg2: tensor<4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<4x4xf32>) {
  %q = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!x>
  %x = quarc.dequantize %q : tensor<1x1x4x4x!x> -> tensor<1x1x4x4xf32>
  %none = quarc.none
  %w1 = quarc.dequantize %arg1 : tensor<1x1x1x1x!w> -> tensor<1x1x1x1xf32>
  %y1 = quarc.conv %x, %w1, %none : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, none) -> tensor<1x1x4x4xf32>
  %c2 = quarc.constant dense<1> : tensor<4x4xi8>
  %w2q = quarc.storage_cast %c2 : tensor<4x4xi8> -> tensor<4x4x!w>
  %w2 = quarc.dequantize %w2q : tensor<4x4x!w> -> tensor<4x4xf32>
  %y2 = quarc.matmul %arg2, %w2 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y1, %y2 : tensor<1x1x4x4xf32>, tensor<4x4xf32>
}

// -----

// An asymmetric (u8) weight folds with its zero points: the compensation
// is zx times the sum of w - zw per channel, here 10 * [(200 - 128) +
// (100 - 128), (7 - 3) + (9 - 3)] = [440, 100].

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<u8:f32:0, {0.25:128, 0.125:3}>
// CHECK-LABEL: func.func @asymmetric_weight
// CHECK: %[[B:.*]] = quarc.constant dense<[-440, -100]> : tensor<2xi32>
// CHECK: quarc.qconv %{{.*}}, %{{.*}}, %[[B]] : (tensor<1x1x4x4x!quant.uniform<u8:f32, 5.000000e-01:10>>, tensor<2x1x1x2x!quant.uniform<u8:f32:0, {2.500000e-01:128,1.250000e-01:3}>>, tensor<2xi32>) -> tensor<1x2x4x3xf32>
func.func @asymmetric_weight(%arg0: tensor<1x1x4x4xf32>) -> tensor<1x2x4x3xf32> {
  %q = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!x>
  %x = quarc.dequantize %q : tensor<1x1x4x4x!x> -> tensor<1x1x4x4xf32>
  %c = quarc.constant dense<[[[[200, 100]]], [[[7, 9]]]]> : tensor<2x1x1x2xui8>
  %wq = quarc.storage_cast %c : tensor<2x1x1x2xui8> -> tensor<2x1x1x2x!w>
  %w = quarc.dequantize %wq : tensor<2x1x1x2x!w> -> tensor<2x1x1x2xf32>
  %none = quarc.none
  %y = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>, none) -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}

// -----

// A Relu or a Clip between the convolution and its quantize folds into the
// integer op as a clamp of the quantized result: quantize(relu(x)) =
// max(quantize(x), quantize(0)) = max(q, 10); Clip(0, 6) also clamps at
// quantize(6) = 6 / 0.05 + 10 = 130.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 0.05:10>
// CHECK-LABEL: func.func @activations
// CHECK: %[[R:.*]] = quarc.qconv {{.*}} {clamp_min = 10 : i64} : {{.*}} -> tensor<1x1x4x4x!quant.uniform<u8:f32, 5.000000e-02:10>>
// CHECK: %[[C:.*]] = quarc.qconv {{.*}} {clamp_max = 130 : i64, clamp_min = 10 : i64} : {{.*}} -> tensor<1x1x4x4x!quant.uniform<u8:f32, 5.000000e-02:10>>
// CHECK-NOT: quarc.relu
// CHECK-NOT: quarc.clip
func.func @activations(%arg0: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %q = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!x>
  %x = quarc.dequantize %q : tensor<1x1x4x4x!x> -> tensor<1x1x4x4xf32>
  %c = quarc.constant dense<3> : tensor<1x1x1x1xi8>
  %wq = quarc.storage_cast %c : tensor<1x1x1x1xi8> -> tensor<1x1x1x1x!w>
  %w = quarc.dequantize %wq : tensor<1x1x1x1x!w> -> tensor<1x1x1x1xf32>
  %none = quarc.none
  %y0 = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, none) -> tensor<1x1x4x4xf32>
  %r = quarc.relu %y0 : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %rq = quarc.quantize %r : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!y>
  %rd = quarc.dequantize %rq : tensor<1x1x4x4x!y> -> tensor<1x1x4x4xf32>
  %y1 = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, none) -> tensor<1x1x4x4xf32>
  %lo = quarc.constant dense<0.0> : tensor<f32>
  %hi = quarc.constant dense<6.0> : tensor<f32>
  %cl = quarc.clip %y1, %lo, %hi : (tensor<1x1x4x4xf32>, tensor<f32>, tensor<f32>) -> tensor<1x1x4x4xf32>
  %cq = quarc.quantize %cl : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!y>
  %cd = quarc.dequantize %cq : tensor<1x1x4x4x!y> -> tensor<1x1x4x4xf32>
  return %rd, %cd : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// An imported QDQ chain keeps its own rounding points: a quantize between
// the convolution and the Relu is not folded through.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 0.05:10>
// CHECK-LABEL: func.func @qdq_relu_chain
// CHECK: quarc.qconv {{.*}} -> tensor<1x1x4x4x!quant.uniform<u8:f32, 5.000000e-02:10>>
// CHECK-NOT: clamp_min
// CHECK: quarc.relu
func.func @qdq_relu_chain(%arg0: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %q = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!x>
  %x = quarc.dequantize %q : tensor<1x1x4x4x!x> -> tensor<1x1x4x4xf32>
  %c = quarc.constant dense<3> : tensor<1x1x1x1xi8>
  %wq = quarc.storage_cast %c : tensor<1x1x1x1xi8> -> tensor<1x1x1x1x!w>
  %w = quarc.dequantize %wq : tensor<1x1x1x1x!w> -> tensor<1x1x1x1xf32>
  %none = quarc.none
  %y = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, none) -> tensor<1x1x4x4xf32>
  %yq = quarc.quantize %y : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!y>
  %yd = quarc.dequantize %yq : tensor<1x1x4x4x!y> -> tensor<1x1x4x4xf32>
  %r = quarc.relu %yd : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}

// -----

// A bias written as a separate Add of a per-channel constant (C x 1 x 1)
// goes into the integer op's bias, with the Relu after it as the clamp:
// [1.0 / 0.125 - 10 * 3, -0.5 / 0.0625 - 10 * 1], the Add's [1.0, -0.5]
// at the accumulator scales sx * sw = [0.125, 0.0625].

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:0, {0.25, 0.125}>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @conv_bias_add
// CHECK: %[[B:.*]] = quarc.constant dense<[-22, -18]> : tensor<2xi32>
// CHECK: quarc.qconv %{{.*}}, %{{.*}}, %[[B]] {clamp_min = 5 : i64, pads = array<i64: 0, 0, 0, 1>}
// CHECK-NOT: quarc.add
// CHECK-NOT: quarc.relu
func.func @conv_bias_add(%arg0: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %q = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!x>
  %x = quarc.dequantize %q : tensor<1x1x4x4x!x> -> tensor<1x1x4x4xf32>
  %c = quarc.constant dense<[[[[1, 2]]], [[[-3, 4]]]]> : tensor<2x1x1x2xi8>
  %wq = quarc.storage_cast %c : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!w>
  %w = quarc.dequantize %wq : tensor<2x1x1x2x!w> -> tensor<2x1x1x2xf32>
  %none = quarc.none
  %y = quarc.conv %x, %w, %none {pads = array<i64: 0, 0, 0, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>, none) -> tensor<1x2x4x4xf32>
  %b = quarc.constant dense<[[[1.0]], [[-0.5]]]> : tensor<2x1x1xf32>
  %s = quarc.add %y, %b : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %r = quarc.relu %s : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %yq = quarc.quantize %r : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!y>
  %yd = quarc.dequantize %yq : tensor<1x2x4x4x!y> -> tensor<1x2x4x4xf32>
  return %yd : tensor<1x2x4x4xf32>
}

// -----

// An Add of a constant that broadcasts along another dim is no bias: left
// float after the integer op's f32 result.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:1, {0.25, 0.125}>
// CHECK-LABEL: func.func @add_along_rows
// CHECK: %[[M:.*]] = quarc.qmatmul {{.*}} -> tensor<3x2xf32>
// CHECK: quarc.add %[[M]]
func.func @add_along_rows(%arg0: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %q = quarc.quantize %arg0 : tensor<3x2xf32> -> tensor<3x2x!x>
  %x = quarc.dequantize %q : tensor<3x2x!x> -> tensor<3x2xf32>
  %c = quarc.constant dense<[[1, 2], [-3, 4]]> : tensor<2x2xi8>
  %wq = quarc.storage_cast %c : tensor<2x2xi8> -> tensor<2x2x!w>
  %w = quarc.dequantize %wq : tensor<2x2x!w> -> tensor<2x2xf32>
  %y = quarc.matmul %x, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %b = quarc.constant dense<[[1.0], [2.0], [3.0]]> : tensor<3x1xf32>
  %s = quarc.add %y, %b : (tensor<3x2xf32>, tensor<3x1xf32>) -> tensor<3x2xf32>
  return %s : tensor<3x2xf32>
}
