// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg | FileCheck %s

// qconv: the input padded with its zero point, an i32 accumulator
// starting from the bias, u8 x s8 products (zero- and sign-extended), then
// the fixed-point output stage: real = 0.5 * {0.25, 0.125} / 1.0 =
// {2^-3, 2^-4} = 2^30 * 2^-{33, 34}: one multiplier, a shift per channel.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:0, {0.25, 0.125}>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d4, d3 * 2 + d5, d6 + d7)>
// CHECK-DAG: #[[FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d4, d5, d6)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d7)>
// CHECK-LABEL: func.func @conv
// CHECK: %[[ZP:.*]] = arith.constant 10 : i8
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 0] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZP]] : i8
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2xi32>) outs(%{{.*}} : tensor<1x2x2x4xi32>)
// CHECK: %[[GIN:.*]] = tensor.expand_shape %[[PAD]] {{\[}}[0], [1, 2], [3], [4]] {{.*}} into tensor<1x1x1x6x5xi8>
// CHECK: %[[GINIT:.*]] = tensor.expand_shape %[[INIT]] {{.*}} into tensor<1x1x2x2x4xi32>
// CHECK: %[[GW:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3], [4]] {{.*}} into tensor<1x2x1x3x2xi8>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[FILTER]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[GIN]], %[[GW]] : {{.*}}) outs(%[[GINIT]] : {{.*}})
// CHECK: ^bb0(%[[X:.*]]: i8, %[[W:.*]]: i8, %[[A:.*]]: i32):
// CHECK: %[[XE:.*]] = arith.extui %[[X]] : i8 to i32
// CHECK: %[[WE:.*]] = arith.extsi %[[W]] : i8 to i32
// CHECK: %[[P:.*]] = arith.muli %[[XE]], %[[WE]] : i32
// CHECK: arith.addi %[[A]], %[[P]] : i32
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[ACC]]
// CHECK-DAG: %[[M:.*]] = arith.constant 1073741824 : i32
// CHECK-DAG: %[[N:.*]] = arith.constant dense<[33, 34]> : tensor<2xi32>
// CHECK: linalg.generic {{.*}} ins(%[[FLAT]], %[[N]] : tensor<1x2x2x4xi32>, tensor<2xi32>) outs(%{{.*}} : tensor<1x2x2x4xi8>)
// CHECK: ^bb0(%[[ACCV:.*]]: i32, %[[SHIFT:.*]]: i32, %{{.*}}: i8):
// Every shift is at least 33: the high word of acc * M (mulsi_extended)
// plus the rounding half's high word 2^(n-33), shifted by n - 32; the zero
// point and the clamp in i32.
// CHECK: %[[PROD:.*]], %[[HIGH:.*]] = arith.mulsi_extended %[[ACCV]], %[[M]] : i32
// CHECK: %[[ONE:.*]] = arith.constant 1 : i32
// CHECK: %[[C33:.*]] = arith.constant 33 : i32
// CHECK: %[[E:.*]] = arith.subi %[[SHIFT]], %[[C33]] : i32
// CHECK: %[[HALF:.*]] = arith.shli %[[ONE]], %[[E]] : i32
// CHECK: %[[SUM:.*]] = arith.addi %[[HIGH]], %[[HALF]] : i32
// CHECK: %[[C32:.*]] = arith.constant 32 : i32
// CHECK: %[[REST:.*]] = arith.subi %[[SHIFT]], %[[C32]] : i32
// CHECK: %[[R:.*]] = arith.shrsi %[[SUM]], %[[REST]] : i32
// CHECK: %[[Z:.*]] = arith.addi %[[R]], %{{.*}} : i32
// CHECK: %[[LO:.*]] = arith.maxsi %[[Z]], %{{.*}} : i32
// CHECK: %[[HI:.*]] = arith.minsi %[[LO]], %{{.*}} : i32
// CHECK: arith.trunci %[[HI]] : i32 to i8
func.func @conv(%x: tensor<1x1x4x4x!x>, %w: tensor<2x1x3x2x!w>, %b: tensor<2xi32>) -> tensor<1x2x2x4x!y> {
  %y = quarc.qconv %x, %w, %b {pads = array<i64: 1, 0, 1, 1>, strides = array<i64: 2, 1>} : (tensor<1x1x4x4x!x>, tensor<2x1x3x2x!w>, tensor<2xi32>) -> tensor<1x2x2x4x!y>
  return %y : tensor<1x2x2x4x!y>
}

// -----

// A grouped 1-D convolution with an f32 result: the accumulators times
// f32(sx * sw), per tensor here; s8 inputs are sign-extended.

!x = !quant.uniform<i8:f32, 0.5:-3>
!w = !quant.uniform<i8:f32, 0.25>
// CHECK-LABEL: func.func @conv1d_grouped_float
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x2x1x5xi32>)
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: %[[S:.*]] = arith.constant 1.250000e-01 : f32
// CHECK: linalg.generic
// CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : i32 to f32
// CHECK: arith.mulf %[[F]], %[[S]] : f32
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x4x1x5xf32> into tensor<1x4x5xf32>
func.func @conv1d_grouped_float(%x: tensor<1x4x5x!x>, %w: tensor<4x2x1x!w>, %b: tensor<4xi32>) -> tensor<1x4x5xf32> {
  %y = quarc.qconv %x, %w, %b {group = 2 : i64} : (tensor<1x4x5x!x>, tensor<4x2x1x!w>, tensor<4xi32>) -> tensor<1x4x5xf32>
  return %y : tensor<1x4x5xf32>
}

// -----

// qmatmul over (batch, m, k, n), n innermost; a dynamic batch dim comes
// from a.

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:1, {0.25, 0.125, 0.5}>
!y = !quant.uniform<i8:f32, 0.25:-1>
// CHECK-DAG: #[[MA:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[MB:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[MC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @matmul
// CHECK: %[[D0:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: tensor.empty(%[[D0]]) : tensor<?x4x3xi32>
// CHECK: linalg.generic {indexing_maps = [#[[MA]], #[[MB]], #[[MC]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK: arith.extui
// CHECK: arith.extsi
// CHECK-DAG: arith.constant 1073741824 : i32
// CHECK-DAG: arith.constant dense<[31, 32, 30]> : tensor<3xi32>
// CHECK: -> tensor<?x4x3xi8>
func.func @matmul(%a: tensor<?x4x2x!a>, %w: tensor<2x3x!w>, %b: tensor<3xi32>) -> tensor<?x4x3x!y> {
  %y = quarc.qmatmul %a, %w, %b : (tensor<?x4x2x!a>, tensor<2x3x!w>, tensor<3xi32>) -> tensor<?x4x3x!y>
  return %y : tensor<?x4x3x!y>
}

// -----

// A fused Relu/Clip narrows the requantization's clamp. The scale 2.5 takes
// a right shift of 29: the product, the shift and the clamp are in i64.

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 0.05:10>
// CHECK-LABEL: func.func @clamped
// CHECK: arith.muli %{{.*}}, %{{.*}} : i64
// CHECK: arith.shrsi %{{.*}}, %{{.*}} : i64
// CHECK: arith.addi
// CHECK: %[[LO:.*]] = arith.constant 10 : i64
// CHECK: %[[MAX:.*]] = arith.maxsi %{{.*}}, %[[LO]] : i64
// CHECK: %[[HI:.*]] = arith.constant 130 : i64
// CHECK: arith.minsi %[[MAX]], %[[HI]] : i64
func.func @clamped(%a: tensor<4x2x!a>, %w: tensor<2x3x!w>, %b: tensor<3xi32>) -> tensor<4x3x!y> {
  %y = quarc.qmatmul %a, %w, %b {clamp_min = 10 : i64, clamp_max = 130 : i64} : (tensor<4x2x!a>, tensor<2x3x!w>, tensor<3xi32>) -> tensor<4x3x!y>
  return %y : tensor<4x3x!y>
}

// -----

// Asymmetric weights: the weight minus its zero point, a scalar when every
// channel has the same one (conv), a constant read per column otherwise
// (matmul).

!x = !quant.uniform<u8:f32, 0.5:10>
!wc = !quant.uniform<u8:f32, 0.25:128>
!wm = !quant.uniform<u8:f32:1, {0.25:100, 0.125:110}>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @asymmetric_weights
// CHECK: %[[ZC:.*]] = arith.constant 128 : i32
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:.*]]: i8, %[[W:.*]]: i8, %[[A:.*]]: i32):
// CHECK: %[[XE:.*]] = arith.extui %[[X]] : i8 to i32
// CHECK: %[[WE:.*]] = arith.extui %[[W]] : i8 to i32
// CHECK: %[[WC:.*]] = arith.subi %[[WE]], %[[ZC]] : i32
// CHECK: arith.muli %[[XE]], %[[WC]] : i32
// CHECK: %[[ZM:.*]] = arith.constant dense<[100, 110]> : tensor<2xi32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[COL]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %[[ZM]] : tensor<3x4xi8>, tensor<4x2xi8>, tensor<2xi32>)
// CHECK: ^bb0(%{{.*}}: i8, %[[W2:.*]]: i8, %[[Z:.*]]: i32, %{{.*}}: i32):
// CHECK: %[[WE2:.*]] = arith.extui %[[W2]] : i8 to i32
// CHECK: arith.subi %[[WE2]], %[[Z]] : i32
func.func @asymmetric_weights(%x: tensor<1x1x4x4x!x>, %wc: tensor<2x1x1x1x!wc>, %bc: tensor<2xi32>, %a: tensor<3x4x!x>, %wm: tensor<4x2x!wm>, %bm: tensor<2xi32>) -> (tensor<1x2x4x4xf32>, tensor<3x2xf32>) {
  %yc = quarc.qconv %x, %wc, %bc : (tensor<1x1x4x4x!x>, tensor<2x1x1x1x!wc>, tensor<2xi32>) -> tensor<1x2x4x4xf32>
  %ym = quarc.qmatmul %a, %wm, %bm : (tensor<3x4x!x>, tensor<4x2x!wm>, tensor<2xi32>) -> tensor<3x2xf32>
  return %yc, %ym : tensor<1x2x4x4xf32>, tensor<3x2xf32>
}
