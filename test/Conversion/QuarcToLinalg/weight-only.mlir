// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize | FileCheck %s

// K = 16, N = 2 (one panel of 16 columns, 14 of them padding), one group:
// column 0 holds k, column 1 holds 12. Each byte row of the packed weight
// is two rows k, k + 1 of 16 bytes: byte c has column c of row k in its
// low nibble and of row k + 1 in its high one, so byte row 0 is
// [0x10, 0xCC, 0, ...]. Scales and zero points are laid out per panel and
// group, 16 lanes each. The batch dims of a are merged into the rows and
// split again after the product.

!w = !quant.uniform<u4:f32:{0:16, 1:1}, {{5.000000e-01:8, 2.500000e-01:7}}>
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 2, d1 mod 16)>
// CHECK-DAG: #[[S:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 16, d1 mod 16)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @weight_only
// CHECK-DAG: %[[BYTES:.*]] = arith.constant dense<"0x10CC{{0+}}32CC{{0+}}54CC{{0+}}76CC{{0+}}98CC{{0+}}BACC{{0+}}DCCC{{0+}}FECC{{0+}}"> : tensor<1x8x16xi8>
// CHECK-DAG: %[[SCALES:.*]] = arith.constant dense<{{\[\[\[}}5.000000e-01, 2.500000e-01, 0.000000e+00, {{.*}}]]]> : tensor<1x1x16xf32>
// CHECK-DAG: %[[ZEROS:.*]] = arith.constant dense<{{\[\[\[}}8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]]> : tensor<1x1x16xi8>
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<2x3x16xf32> into tensor<6x16xf32>
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[S]], #[[S]], #[[O]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[ROWS]], %[[BYTES]], %[[SCALES]], %[[ZEROS]] : tensor<6x16xf32>, tensor<1x8x16xi8>, tensor<1x1x16xf32>, tensor<1x1x16xi8>)
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.expand_shape %[[P]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 2] : tensor<6x2xf32> into tensor<2x3x2xf32>
func.func @weight_only(%a: tensor<2x3x16xf32>) -> tensor<2x3x2xf32> {
  %c = quarc.constant dense<[[0, 12], [1, 12], [2, 12], [3, 12], [4, 12], [5, 12], [6, 12], [7, 12], [8, 12], [9, 12], [10, 12], [11, 12], [12, 12], [13, 12], [14, 12], [15, 12]]> : tensor<16x2xui4>
  %w = quarc.storage_cast %c : tensor<16x2xui4> -> tensor<16x2x!w>
  %none = quarc.none
  %y = quarc.qmatmul_weight_only %a, %w, %none : (tensor<2x3x16xf32>, tensor<16x2x!w>, none) -> tensor<2x3x2xf32>
  return %y : tensor<2x3x2xf32>
}

// -----

// Signed storage is offset by 8 into nibbles, with the zero point: q = -8
// (row 0) is stored as 0, 7 (row 1) as 15, 0 as 8; zero point -1 as 7.
!w = !quant.uniform<i4:f32:{0:16, 1:1}, {{2.500000e-01:-1}}>
// CHECK-LABEL: func.func @signed
// CHECK-DAG: arith.constant dense<"0xF0{{0+}}88{{0+}}88{{0+}}88{{0+}}88{{0+}}88{{0+}}88{{0+}}88{{0+}}"> : tensor<1x8x16xi8>
// CHECK-DAG: arith.constant dense<{{\[\[\[}}7, 0, {{.*}}]]]> : tensor<1x1x16xi8>
func.func @signed(%a: tensor<1x16xf32>) -> tensor<1x1xf32> {
  %c = quarc.constant dense<[[-8], [7], [0], [0], [0], [0], [0], [0], [0], [0], [0], [0], [0], [0], [0], [0]]> : tensor<16x1xi4>
  %w = quarc.storage_cast %c : tensor<16x1xi4> -> tensor<16x1x!w>
  %none = quarc.none
  %y = quarc.qmatmul_weight_only %a, %w, %none : (tensor<1x16xf32>, tensor<16x1x!w>, none) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// int8 activations: each row's group quantized to s8 (max |a| / 127, a
// times its inverse rounded half to even), then one generic over the
// RowQuads layout: byte 4c + j of a byte row holds column c of rows
// 8i + j (low nibble) and 8i + 4 + j (high), so column 0 (k) of byte row 0
// is 0x40, 0x51, 0x62, 0x73 and column 1 (12) 0xCC; the integer product
// a * (q - z) is scaled by the row's and the column's scales.
!w = !quant.uniform<u4:f32:{0:16, 1:1}, {{5.000000e-01:8, 2.500000e-01:7}}>
// CHECK-DAG: #[[QB:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 8, (d1 mod 16) * 4 + d2 mod 4)>
// CHECK-DAG: #[[ROWSCALE:.*]] = affine_map<(d0, d1, d2) -> (d0, d2 floordiv 16)>
// CHECK-LABEL: func.func @int8_activations
// CHECK-DAG: %[[QBYTES:.*]] = arith.constant dense<"0x40516273CCCCCCCC{{0+}}C8D9EAFBCCCCCCCC{{0+}}"> : tensor<1x2x64xi8>
// CHECK: math.absf
// CHECK: arith.maxnumf
// CHECK: %[[SA:.*]] = linalg.generic
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: math.roundeven
// CHECK: arith.fptosi %{{.*}} : f32 to i8
// CHECK: %[[AQ:.*]] = tensor.collapse_shape
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROWSCALE]], #[[QB]], #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[AQ]], %[[SA]], %[[QBYTES]], %{{.*}}, %{{.*}} : tensor<3x16xi8>, tensor<3x1xf32>, tensor<1x2x64xi8>, tensor<1x1x16xf32>, tensor<1x1x16xi8>)
// CHECK: arith.subi
// CHECK: arith.muli
// CHECK: arith.sitofp
func.func @int8_activations(%a: tensor<3x16xf32>) -> tensor<3x2xf32> {
  %c = quarc.constant dense<[[0, 12], [1, 12], [2, 12], [3, 12], [4, 12], [5, 12], [6, 12], [7, 12], [8, 12], [9, 12], [10, 12], [11, 12], [12, 12], [13, 12], [14, 12], [15, 12]]> : tensor<16x2xui4>
  %w = quarc.storage_cast %c : tensor<16x2xui4> -> tensor<16x2x!w>
  %none = quarc.none
  %y = quarc.qmatmul_weight_only %a, %w, %none {int8_activations} : (tensor<3x16xf32>, tensor<16x2x!w>, none) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
