// RUN: quarc-opt %s -split-input-file "--quarc-quantize-weights=scheme=weights=per-group=2" --canonicalize | FileCheck %s
// RUN: quarc-opt %s -split-input-file "--quarc-quantize-weights=float-ops=quarc.gemm" | FileCheck %s --check-prefix=FLOATGEMM
// RUN: not quarc-opt %s -split-input-file "--quarc-quantize-weights=scheme=weights=s8" 2>&1 | FileCheck %s --check-prefix=EIGHT
// RUN: quarc-opt %s -split-input-file "--quarc-quantize-weights=int8-activations" --quarc-fold-qdq | FileCheck %s --check-prefix=W4A8

// u4 asymmetric in groups of 2 along k. MatMul column 0 [0, 1.5 | 3, 0.75]:
// scales 0.1 and 0.2, zero point 0 (the range is widened to 0), values
// [0, 15 | 15, 4]; column 1 [-1, 1 | 0.5, 0.25]: scale 2/15, zero point 7
// (-lo / scale is 7.4999996 in f32), values [0, 14] (1 / scale rounds to
// 7 too); then scale 0.5/15,
// values [15, 7]. Gemm: B^T * alpha = [[2, 6], [4, 8]], one group per
// column: scales 4/15 and 8/15, values [7, 15] and [11, 15]; beta * C =
// [1.5, 3] is added after the product.

// CHECK-LABEL: func.func @products
// CHECK-DAG: %[[G:.*]] = quarc.constant dense<{{\[\[}}7, 11], [15, 15]]> : tensor<2x2xui4>
// CHECK-DAG: %[[BIAS:.*]] = quarc.constant dense<[1.500000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[W:.*]] = quarc.constant dense<{{\[\[}}0, 0], [15, 14], [15, 15], [4, 7]]> : tensor<4x2xui4>
// CHECK: %[[WQ:.*]] = quarc.storage_cast %[[W]] : tensor<4x2xui4> -> tensor<4x2x!quant.uniform<u4:f32:{0:2, 1:1}, {{\{\{}}1.000000e-01, 0.13333334:7}, {2.000000e-01, 0.0333333351}}>>
// CHECK: %[[WD:.*]] = quarc.dequantize %[[WQ]]
// CHECK: %[[Y:.*]] = quarc.matmul %arg0, %[[WD]] : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
// CHECK: %[[GQ:.*]] = quarc.storage_cast %[[G]] : tensor<2x2xui4> -> tensor<2x2x!quant.uniform<u4:f32:{0:2, 1:1}, {{\{\{}}0.266666681, 0.533333361}}>>
// CHECK: %[[GD:.*]] = quarc.dequantize %[[GQ]]
// CHECK: %[[P:.*]] = quarc.matmul %[[Y]], %[[GD]]
// CHECK: quarc.add %[[P]], %[[BIAS]]
// CHECK-NOT: quarc.gemm

// W4A8-LABEL: func.func @products
// W4A8: quarc.qmatmul_weight_only %arg0, %{{.*}}, %{{.*}} {int8_activations}
// W4A8: quarc.qmatmul_weight_only %{{.*}}, %{{.*}}, %{{.*}} {int8_activations}

// FLOATGEMM-LABEL: func.func @products
// FLOATGEMM: quarc.dequantize
// FLOATGEMM: quarc.gemm

// EIGHT: error: quarc-quantize-weights: s8:asymmetric:per-group=32: weight-only quantization takes 2- to 4-bit weights per group
func.func @products(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = quarc.constant dense<[[0.0, -1.0], [1.5, 1.0], [3.0, 0.5], [0.75, 0.25]]> : tensor<4x2xf32>
  %y = quarc.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %w2 = quarc.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %c = quarc.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %g = quarc.gemm %y, %w2, %c {transB = 1 : i64, alpha = 2.0 : f32, beta = 3.0 : f32} : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %g : tensor<3x2xf32>
}

// -----

// A weight that is not a constant stays float.
// CHECK-LABEL: func.func @activation_weight
// CHECK: quarc.matmul %arg0, %arg1
// CHECK-NOT: quarc.dequantize
func.func @activation_weight(%x: tensor<3x4xf32>, %w: tensor<4x2xf32>) -> tensor<3x2xf32> {
  %y = quarc.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A Gemm whose C varies along the rows ([M, 1], here with M = N) has no
// per-column bias: it stays float.
// CHECK-LABEL: func.func @gemm_row_bias
// CHECK: quarc.gemm
// CHECK-NOT: quarc.dequantize
func.func @gemm_row_bias(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = quarc.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %c = quarc.constant dense<[[0.5], [1.0]]> : tensor<2x1xf32>
  %g = quarc.gemm %x, %w, %c : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x1xf32>) -> tensor<2x2xf32>
  return %g : tensor<2x2xf32>
}
