// RUN: quarc-opt %s -split-input-file --quarc-fold-batchnorm | FileCheck %s

// multiplier = scale / sqrt(var + eps) = [2/2, 3/1] = [1, 3],
// offset = B - mean * multiplier = [1 - 0.5, -1 - 3] = [0.5, -4]:
// W' = W * multiplier per output channel (dim 0), bias' = offset.
// CHECK-LABEL: func @fold_conv_bn_per_channel(
// CHECK-SAME: %[[X:.*]]: tensor<1x1x4x4xf32>
// CHECK-DAG: %[[W:.*]] = quarc.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}6.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = quarc.constant dense<[5.000000e-01, -4.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = quarc.conv %[[X]], %[[W]], %[[B]] :
// CHECK-NOT: quarc.batch_normalization
// CHECK: return %[[Y]]
func.func @fold_conv_bn_per_channel(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %none = quarc.none
  %w = quarc.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %s = quarc.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %b = quarc.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %m = quarc.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = quarc.constant dense<[4.0, 1.0]> : tensor<2xf32>
  %y = quarc.batch_normalization %c, %s, %b, %m, %v {epsilon = 0.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// A depthwise conv with a bias: bias' = bias * multiplier + offset =
// [1 * 1 + 0.5, 2 * 3 - 4].
// CHECK-LABEL: func @fold_depthwise_conv_bn_with_bias(
// CHECK-DAG: %[[W:.*]] = quarc.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}6.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = quarc.constant dense<[1.500000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = quarc.conv %{{.*}}, %[[W]], %[[B]] {group = 2 : i64}
// CHECK-NOT: quarc.batch_normalization
// CHECK: return %[[Y]]
func.func @fold_depthwise_conv_bn_with_bias(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = quarc.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %bias = quarc.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %c = quarc.conv %x, %w, %bias {group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %s = quarc.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %b = quarc.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %m = quarc.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %v = quarc.constant dense<[4.0, 1.0]> : tensor<2xf32>
  %y = quarc.batch_normalization %c, %s, %b, %m, %v {epsilon = 0.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// ConvTranspose W is C x M/group x k: input channel i of group g feeds
// output channels g * M/group + j, so with multiplier [1, 2, 3, 4] row 0
// (group 0) is scaled by [1, 2] and row 1 (group 1) by [3, 4].
// CHECK-LABEL: func @fold_conv_transpose_bn_grouped(
// CHECK-DAG: %[[W:.*]] = quarc.constant dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}2.000000e+00]]], {{\[\[\[}}3.000000e+00]], {{\[\[}}4.000000e+00]]]]> : tensor<2x2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = quarc.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK: %[[Y:.*]] = quarc.conv_transpose %{{.*}}, %[[W]], %[[B]] {group = 2 : i64}
// CHECK-NOT: quarc.batch_normalization
// CHECK: return %[[Y]]
func.func @fold_conv_transpose_bn_grouped(%x: tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<2x2x1x1xf32>
  %c = quarc.conv_transpose %x, %w, %none {group = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, none) -> tensor<1x4x4x4xf32>
  %s = quarc.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %zero = quarc.constant dense<0.0> : tensor<4xf32>
  %one = quarc.constant dense<1.0> : tensor<4xf32>
  %y = quarc.batch_normalization %c, %s, %zero, %zero, %one {epsilon = 0.0 : f32} : (tensor<1x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// -----

// A bias added by a separate Add (PaddlePaddle's ConvTranspose export) is
// added before the scaling: bias' = ([1, 2] + 0) * [2, 2] + 0.
// CHECK-LABEL: func @fold_conv_transpose_add_bn(
// CHECK-DAG: %[[W:.*]] = quarc.constant dense<2.000000e+00> : tensor<1x2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = quarc.constant dense<[2.000000e+00, 4.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = quarc.conv_transpose %{{.*}}, %[[W]], %[[B]]
// CHECK-NOT: quarc.add
// CHECK-NOT: quarc.batch_normalization
// CHECK: return %[[Y]]
func.func @fold_conv_transpose_add_bn(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<1x2x1x1xf32>
  %c = quarc.conv_transpose %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<1x2x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %bias = quarc.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32>
  %a = quarc.add %c, %bias : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %s = quarc.constant dense<2.0> : tensor<2xf32>
  %zero = quarc.constant dense<0.0> : tensor<2xf32>
  %one = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %a, %s, %zero, %zero, %one {epsilon = 0.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Gemm with transB: B is N x K, so row n is scaled by multiplier[n] = n + 1;
// C' = beta * C * multiplier + offset = 2 * [1, 2, 3, 4] + [0, 0, 0, 1].
// CHECK-LABEL: func @fold_gemm_bn_columns(
// CHECK-SAME: %[[A:.*]]: tensor<3x2xf32>
// CHECK-DAG: %[[W:.*]] = quarc.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00], [3.000000e+00, 3.000000e+00], [4.000000e+00, 4.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG: %[[C:.*]] = quarc.constant dense<[2.000000e+00, 4.000000e+00, 6.000000e+00, 9.000000e+00]> : tensor<4xf32>
// CHECK: %[[Y:.*]] = quarc.gemm %[[A]], %[[W]], %[[C]] {alpha = 5.000000e-01 : f32, transB = 1 : i64}
// CHECK-NOT: quarc.batch_normalization
// CHECK: return %[[Y]]
func.func @fold_gemm_bn_columns(%a: tensor<3x2xf32>) -> tensor<3x4xf32> {
  %w = quarc.constant dense<1.0> : tensor<4x2xf32>
  %c = quarc.constant dense<1.0> : tensor<4xf32>
  %g = quarc.gemm %a, %w, %c {alpha = 0.5 : f32, beta = 2.0 : f32, transB = 1 : i64} : (tensor<3x2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %s = quarc.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %b = quarc.constant dense<[0.0, 0.0, 0.0, 1.0]> : tensor<4xf32>
  %zero = quarc.constant dense<0.0> : tensor<4xf32>
  %one = quarc.constant dense<1.0> : tensor<4xf32>
  %y = quarc.batch_normalization %g, %s, %b, %zero, %one {epsilon = 0.0 : f32} : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// MatMul + Add of a constant bias + BatchNorm1d becomes one Gemm.
// CHECK-LABEL: func @fold_matmul_add_bn_into_gemm(
// CHECK-SAME: %[[A:.*]]: tensor<3x2xf32>
// CHECK-DAG: %[[W:.*]] = quarc.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00], [1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]]> : tensor<2x4xf32>
// CHECK-DAG: %[[C:.*]] = quarc.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK: %[[Y:.*]] = quarc.gemm %[[A]], %[[W]], %[[C]]
// CHECK-NOT: quarc.matmul
// CHECK-NOT: quarc.add
// CHECK-NOT: quarc.batch_normalization
// CHECK: return %[[Y]]
func.func @fold_matmul_add_bn_into_gemm(%a: tensor<3x2xf32>) -> tensor<3x4xf32> {
  %w = quarc.constant dense<1.0> : tensor<2x4xf32>
  %bias = quarc.constant dense<1.0> : tensor<4xf32>
  %p = quarc.matmul %a, %w : (tensor<3x2xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  %q = quarc.add %bias, %p : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %s = quarc.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %zero = quarc.constant dense<0.0> : tensor<4xf32>
  %one = quarc.constant dense<1.0> : tensor<4xf32>
  %y = quarc.batch_normalization %q, %s, %zero, %zero, %one {epsilon = 0.0 : f32} : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func @fold_matmul_bn_into_gemm(
// CHECK-DAG: %[[C:.*]] = quarc.constant dense<[-1.000000e+00, -2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = quarc.gemm %{{.*}}, %{{.*}}, %[[C]]
// CHECK-NOT: quarc.batch_normalization
// CHECK: return %[[Y]]
func.func @fold_matmul_bn_into_gemm(%a: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = quarc.constant dense<1.0> : tensor<2x2xf32>
  %p = quarc.matmul %a, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %s = quarc.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %zero = quarc.constant dense<0.0> : tensor<2xf32>
  %mean = quarc.constant dense<1.0> : tensor<2xf32>
  %one = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %p, %s, %zero, %mean, %one {epsilon = 0.0 : f32} : (tensor<3x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Weights above 64 elements become a resource blob, like the importer's.
// CHECK-LABEL: func @fold_conv_bn_large_weight_is_resource(
// CHECK: %[[W:.*]] = quarc.constant dense_resource<weight_bn> : tensor<8x9x1x1xf32>
// CHECK: quarc.conv %{{.*}}, %[[W]]
// CHECK-NOT: quarc.batch_normalization
func.func @fold_conv_bn_large_weight_is_resource(%x: tensor<1x9x4x4xf32>) -> tensor<1x8x4x4xf32> {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<8x9x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x9x4x4xf32>, tensor<8x9x1x1xf32>, none) -> tensor<1x8x4x4xf32>
  %s = quarc.constant dense<2.0> : tensor<8xf32>
  %zero = quarc.constant dense<0.0> : tensor<8xf32>
  %one = quarc.constant dense<1.0> : tensor<8xf32>
  %y = quarc.batch_normalization %c, %s, %zero, %zero, %one : (tensor<1x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// What stays
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @bn_with_non_constant_params_stays(
// CHECK: quarc.conv
// CHECK: quarc.batch_normalization
func.func @bn_with_non_constant_params_stays(%x: tensor<1x1x4x4xf32>, %s: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %c, %s, %p, %p, %p : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// The conv's other user needs the unnormalized result.
// CHECK-LABEL: func @bn_after_multi_use_conv_stays(
// CHECK: %[[C:.*]] = quarc.conv
// CHECK: %[[Y:.*]] = quarc.batch_normalization %[[C]]
// CHECK: return %[[Y]], %[[C]]
func.func @bn_after_multi_use_conv_stays(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %c, %p, %p, %p, %p : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// CHECK-LABEL: func @bn_after_conv_with_non_constant_weight_stays(
// CHECK: quarc.conv
// CHECK: quarc.batch_normalization
func.func @bn_after_conv_with_non_constant_weight_stays(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32> {
  %none = quarc.none
  %c = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %c, %p, %p, %p, %p : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// CHECK-LABEL: func @bn_after_conv_with_non_constant_bias_stays(
// CHECK: quarc.conv
// CHECK: quarc.batch_normalization
func.func @bn_after_conv_with_non_constant_bias_stays(%x: tensor<1x1x4x4xf32>, %b: tensor<2xf32>) -> tensor<1x2x4x4xf32> {
  %w = quarc.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %b : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %c, %p, %p, %p, %p : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// CHECK-LABEL: func @bn_of_argument_stays(
// CHECK: quarc.batch_normalization
func.func @bn_of_argument_stays(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %x, %p, %p, %p, %p : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// An activation between conv and BatchNorm does not commute with it.
// CHECK-LABEL: func @bn_after_relu_stays(
// CHECK: quarc.conv
// CHECK: quarc.relu
// CHECK: quarc.batch_normalization
func.func @bn_after_relu_stays(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %r = quarc.relu %c : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %r, %p, %p, %p, %p : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// A negative variance gives a NaN multiplier: left to the run-time formula.
// CHECK-LABEL: func @bn_with_negative_variance_stays(
// CHECK: quarc.batch_normalization
func.func @bn_with_negative_variance_stays(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x4x4xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %v = quarc.constant dense<-1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %c, %p, %p, %p, %v : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// With batch dims the BatchNorm channel (dim 1) is not the product's column.
// CHECK-LABEL: func @bn_after_batched_matmul_stays(
// CHECK: quarc.matmul
// CHECK: quarc.batch_normalization
func.func @bn_after_batched_matmul_stays(%a: tensor<2x3x4xf32>) -> tensor<2x3x5xf32> {
  %w = quarc.constant dense<1.0> : tensor<4x5xf32>
  %p = quarc.matmul %a, %w : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %s = quarc.constant dense<1.0> : tensor<3xf32>
  %y = quarc.batch_normalization %p, %s, %s, %s, %s : (tensor<2x3x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

// C with one value per row cannot become a per-column bias.
// CHECK-LABEL: func @bn_after_gemm_with_full_c_stays(
// CHECK: quarc.gemm
// CHECK: quarc.batch_normalization
func.func @bn_after_gemm_with_full_c_stays(%a: tensor<3x2xf32>) -> tensor<3x4xf32> {
  %w = quarc.constant dense<1.0> : tensor<2x4xf32>
  %c = quarc.constant dense<1.0> : tensor<3x1xf32>
  %g = quarc.gemm %a, %w, %c : (tensor<3x2xf32>, tensor<2x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
  %s = quarc.constant dense<1.0> : tensor<4xf32>
  %y = quarc.batch_normalization %g, %s, %s, %s, %s : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// An added constant that varies along the spatial dims is not a bias.
// CHECK-LABEL: func @bn_after_conv_add_of_spatial_constant_stays(
// CHECK: quarc.conv
// CHECK: quarc.add
// CHECK: quarc.batch_normalization
func.func @bn_after_conv_add_of_spatial_constant_stays(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x2x2xf32>
  %k = quarc.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %a = quarc.add %c, %k : (tensor<1x2x2x2xf32>, tensor<2x2xf32>) -> tensor<1x2x2x2xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %a, %p, %p, %p, %p : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// The Add's result is used twice.
// CHECK-LABEL: func @bn_after_multi_use_add_stays(
// CHECK: quarc.conv
// CHECK: %[[A:.*]] = quarc.add
// CHECK: %[[Y:.*]] = quarc.batch_normalization %[[A]]
// CHECK: return %[[Y]], %[[A]]
func.func @bn_after_multi_use_add_stays(%x: tensor<1x1x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %none = quarc.none
  %w = quarc.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = quarc.conv %x, %w, %none : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, none) -> tensor<1x2x2x2xf32>
  %k = quarc.constant dense<1.0> : tensor<2x1x1xf32>
  %a = quarc.add %c, %k : (tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) -> tensor<1x2x2x2xf32>
  %p = quarc.constant dense<1.0> : tensor<2xf32>
  %y = quarc.batch_normalization %a, %p, %p, %p, %p : (tensor<1x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  return %y, %a : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
