// RUN: quarc-opt %s -split-input-file --quarc-quantize-dynamic | FileCheck %s
// RUN: quarc-opt %s -split-input-file "--quarc-quantize-dynamic=float-ops=quarc.gemm" | FileCheck %s --check-prefix=FLOATGEMM
// RUN: quarc-opt %s -split-input-file --quarc-quantize-dynamic --convert-quarc-to-linalg | FileCheck %s --check-prefix=LOWERED

// MatMul: B quantized per column, symmetric s8: column 0 has max |w| 1
// (scale 1/127: 1 -> 127, 0.5 -> 63.5 -> 64), column 1 max 4 (scale 4/127:
// -2 -> -63.5 -> -64, 4 -> 127). Gemm: B^T transposed and scaled by alpha
// = 2 at compile time, beta * C = 3 * [0.5, 1] the f32 bias.

// CHECK-LABEL: func.func @products
// CHECK: %[[NONE:.*]] = quarc.none
// CHECK: %[[W:.*]] = quarc.constant dense<{{\[\[}}127, -64], [64, 127]]> : tensor<2x2xi8>
// CHECK: %[[WQ:.*]] = quarc.storage_cast %[[W]] : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32:1, {0.0078740157{{[0-9]*}},0.031496062{{[0-9]*}}}>>
// CHECK: %[[Y:.*]] = quarc.qmatmul_dynamic %arg0, %[[WQ]], %[[NONE]] : (tensor<3x2xf32>, tensor<2x2x!quant.uniform<i8:f32:1, {{.*}}>>, none) -> tensor<3x2xf32>
// CHECK: %[[B:.*]] = quarc.constant dense<[1.500000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK: %[[G:.*]] = quarc.storage_cast %{{.*}} : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32:1, {0.0157480314{{[0-9]*}},0.062992125{{[0-9]*}}}>>
// CHECK: quarc.qmatmul_dynamic %[[Y]], %[[G]], %[[B]]
// CHECK-NOT: quarc.matmul
// CHECK-NOT: quarc.gemm

// FLOATGEMM-LABEL: func.func @products
// FLOATGEMM: quarc.qmatmul_dynamic
// FLOATGEMM: quarc.gemm

// LOWERED-LABEL: func.func @products
// The range: one reduction into lo = min(0, min a) and hi = max(0, max a).
// LOWERED: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// LOWERED: arith.minnumf
// LOWERED: arith.maxnumf
// LOWERED: math.roundeven
// The contraction of centered values, u8 activation, s8 weight.
// LOWERED: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// LOWERED: arith.extui %{{.*}} : i8 to i32
// LOWERED: arith.subi
// LOWERED: arith.extsi %{{.*}} : i8 to i32
// LOWERED: arith.muli
// LOWERED: arith.sitofp
func.func @products(%arg0: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %b = quarc.constant dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>
  %y = quarc.matmul %arg0, %b : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %g = quarc.constant dense<[[1.0, 0.5], [-2.0, 4.0]]> : tensor<2x2xf32>
  %c = quarc.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %z = quarc.gemm %y, %g, %c {transB = 1 : i64, alpha = 2.0 : f32, beta = 3.0 : f32} : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %z : tensor<3x2xf32>
}

// -----

// A weight that is not a constant, and a Gemm with a C of another shape,
// stay float.

// CHECK-LABEL: func.func @left_float
// CHECK-NOT: quarc.qmatmul_dynamic
// CHECK: quarc.matmul
// CHECK: quarc.gemm
func.func @left_float(%a: tensor<3x2xf32>, %w: tensor<2x2xf32>) -> tensor<3x2xf32> {
  %y = quarc.matmul %a, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %g = quarc.constant dense<1.0> : tensor<2x2xf32>
  %c = quarc.constant dense<1.0> : tensor<3x2xf32>
  %z = quarc.gemm %y, %g, %c : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return %z : tensor<3x2xf32>
}

// -----

// A recurrent layer with constant W and R: both quantized per row of each
// direction (groups spanning the whole input dim; row 0 of W has max |w| 1,
// scale 1/127), read through quarc.dequantize, and the layer marked. A
// layer whose R is not a constant stays float.

// CHECK-LABEL: func.func @recurrent
// CHECK: %[[WQ:.*]] = quarc.storage_cast %{{.*}} : tensor<1x3x2xi8> -> tensor<1x3x2x!quant.uniform<i8:f32:{0:1, 1:1, 2:2}, {{\{\{\{}}0.0078740157{{[0-9]*}}}, {0.0157480314{{[0-9]*}}}, {0.0236220472{{[0-9]*}}}}}>>
// CHECK: %[[W:.*]] = quarc.dequantize %[[WQ]]
// CHECK: %[[R:.*]] = quarc.dequantize %{{.*}} : tensor<1x3x1x!quant.uniform<i8:f32:{0:1, 1:1, 2:1}
// CHECK: quarc.gru %arg0, %[[W]], %[[R]], %{{.*}} {dynamic_quantization, hidden_size = 1 : i64}
// CHECK: quarc.rnn %arg0, %{{.*}}, %arg1
// CHECK-NOT: dynamic_quantization
func.func @recurrent(%x: tensor<4x1x2xf32>, %r1: tensor<1x1x1xf32>) -> (tensor<4x1x1x1xf32>, tensor<4x1x1x1xf32>) {
  %none = quarc.none
  %w = quarc.constant dense<[[[1.0, -0.5], [2.0, 1.0], [-3.0, 0.25]]]> : tensor<1x3x2xf32>
  %r = quarc.constant dense<[[[0.5], [1.0], [-0.25]]]> : tensor<1x3x1xf32>
  %y, %yh = quarc.gru %x, %w, %r, %none, %none, %none {hidden_size = 1 : i64} : (tensor<4x1x2xf32>, tensor<1x3x2xf32>, tensor<1x3x1xf32>, none, none, none) -> (tensor<4x1x1x1xf32>, tensor<1x1x1xf32>)
  %w1 = quarc.constant dense<[[[1.0, 2.0]]]> : tensor<1x1x2xf32>
  %y1, %yh1 = quarc.rnn %x, %w1, %r1, %none, %none, %none {hidden_size = 1 : i64} : (tensor<4x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1x1xf32>, none, none, none) -> (tensor<4x1x1x1xf32>, tensor<1x1x1xf32>)
  return %y, %y1 : tensor<4x1x1x1xf32>, tensor<4x1x1x1xf32>
}

// -----

// A weight that is not a constant (hand-written IR) has no column sums:
// the activation's zero point is subtracted inside the contraction.
// LOWERED-LABEL: func.func @argument_weight
// LOWERED: arith.extui
// LOWERED-NEXT: arith.subi
// LOWERED: arith.constant dense<0> : tensor<2xi32>
!w = !quant.uniform<i8:f32:1, {0.5, 0.25}>
func.func @argument_weight(%x: tensor<3x2xf32>, %w: tensor<2x2x!w>) -> tensor<3x2xf32> {
  %none = quarc.none
  %y = quarc.qmatmul_dynamic %x, %w, %none : (tensor<3x2xf32>, tensor<2x2x!w>, none) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
