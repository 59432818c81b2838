// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=x86_64+avx2 | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=x86_64+avx512vnni | FileCheck %s --check-prefixes=CHECK,VNNI
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=x86_64 | FileCheck %s --check-prefix=NONE
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=aarch64 | FileCheck %s --check-prefix=NONE

// Targets without an integer kernel (SSE; AArch64 without dotprod) keep the
// lowering's products as they are. (AArch64 with it: pack-integer-weights-
// aarch64.mlir.)
// NONE-NOT: "parallel", "reduction"]
// NONE-NOT: tensor<4x2x2xi8>

// A matrix product's weight [K, N] becomes [N/n0, K4/4, n0, 4]. Here w[k][n]
// = 10 k + n, K = 5, N = 8: one panel of 8 columns (a whole AVX2 register of
// i32 lanes; half of an AVX-512 one, the largest part that divides N), two
// groups of four k, the second holding k = 4 and three zeros. Each column's
// group is four consecutive k: 0, 10, 20, 30 for column 0.

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3, d4)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[X:[^:]+]]: tensor<3x5xi8>,
// CHECK: %[[BIAS:.*]] = linalg.generic
// CHECK: %[[PACKED:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[0, 10, 20, 30], [1, 11, 21, 31], [2, 12, 22, 32], [3, 13, 23, 33], [4, 14, 24, 34], [5, 15, 25, 35], [6, 16, 26, 36], [7, 17, 27, 37]], {{\[}}[40, 0, 0, 0], [41, 0, 0, 0], [42, 0, 0, 0], [43, 0, 0, 0], [44, 0, 0, 0], [45, 0, 0, 0], [46, 0, 0, 0], [47, 0, 0, 0]]]]> : tensor<1x2x8x4xi8>
// K padded to 8 for the activations too; a and C viewed by groups.
// CHECK: %[[PAD:.*]] = tensor.pad %[[X]] low[0, 0] high[0, 3]
// CHECK: %[[AG:.*]] = tensor.expand_shape %[[PAD]] {{\[}}[0], [1, 2]] output_shape [3, 2, 4] : tensor<3x8xi8> into tensor<3x2x4xi8>
// CHECK: %[[CG:.*]] = tensor.expand_shape %[[BIAS]] {{\[}}[0], [1, 2]] output_shape [3, 1, 8] : tensor<3x8xi32> into tensor<3x1x8xi32>
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[A]], #[[W]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[AG]], %[[PACKED]] : tensor<3x2x4xi8>, tensor<1x2x8x4xi8>) outs(%[[CG]] : tensor<3x1x8xi32>)
// CHECK: ^bb0(%[[XV:.*]]: i8, %[[WV:.*]]: i8, %[[ACC:.*]]: i32):
// CHECK: %[[XE:.*]] = arith.extui %[[XV]] : i8 to i32
// CHECK: %[[WE:.*]] = arith.extsi %[[WV]] : i8 to i32
// CHECK: %[[M:.*]] = arith.muli %[[XE]], %[[WE]] : i32
// CHECK: arith.addi %[[ACC]], %[[M]] : i32
// CHECK: tensor.collapse_shape %[[P]] {{\[}}[0], [1, 2]] : tensor<3x1x8xi32> into tensor<3x8xi32>
func.func @matmul(%a: tensor<3x5x!a>, %b: tensor<8xi32>) -> tensor<3x8x!y> {
  %wc = arith.constant dense<[[0, 1, 2, 3, 4, 5, 6, 7], [10, 11, 12, 13, 14, 15, 16, 17], [20, 21, 22, 23, 24, 25, 26, 27], [30, 31, 32, 33, 34, 35, 36, 37], [40, 41, 42, 43, 44, 45, 46, 47]]> : tensor<5x8xi8>
  %w = quarc.storage_cast %wc : tensor<5x8xi8> -> tensor<5x8x!w>
  %y = quarc.qmatmul %a, %w, %b : (tensor<3x5x!a>, tensor<5x8x!w>, tensor<8xi32>) -> tensor<3x8x!y>
  return %y : tensor<3x8x!y>
}

// -----

// 12 columns: panels of 4 (a quarter of an AVX-512 register, half of an
// AVX2 one); a batch dim and K a multiple of four (no padding). Asymmetric
// u8 weights with a zero point per column: the packed bytes are w - zw
// (weights 100..111 and zero points 100, 110, ...: 0, -9, ...).

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<u8:f32:1, {0.1:100, 0.1:110, 0.1:100, 0.1:110, 0.1:100, 0.1:110, 0.1:100, 0.1:110, 0.1:100, 0.1:110, 0.1:100, 0.1:110}>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @panels_of_four
// CHECK-NOT: tensor.pad
// CHECK: arith.constant dense<{{\[}}{{\[}}{{\[}}[0, 0, 0, 0], [-9, -9, -9, -9], [2, 2, 2, 2], [-7, -7, -7, -7]]], {{\[}}{{\[}}[4, 4, 4, 4], [-5, -5, -5, -5], [6, 6, 6, 6], [-3, -3, -3, -3]]], {{\[}}{{\[}}[8, 8, 8, 8], [-1, -1, -1, -1], [10, 10, 10, 10], [1, 1, 1, 1]]]]> : tensor<3x1x4x4xi8>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [2, 3, 1, 4] : tensor<2x3x4xi8> into tensor<2x3x1x4xi8>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel", "reduction"]
// CHECK-SAME: outs(%{{.*}} : tensor<2x3x3x4xi32>)
// CHECK-NOT: arith.subi
// CHECK: arith.extsi
func.func @panels_of_four(%a: tensor<2x3x4x!a>, %b: tensor<12xi32>) -> tensor<2x3x12x!y> {
  %wc = arith.constant dense<[[100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111], [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111], [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111], [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111]]> : tensor<4x12xui8>
  %w = quarc.storage_cast %wc : tensor<4x12xui8> -> tensor<4x12x!w>
  %y = quarc.qmatmul %a, %w, %b : (tensor<2x3x4x!a>, tensor<4x12x!w>, tensor<12xi32>) -> tensor<2x3x12x!y>
  return %y : tensor<2x3x12x!y>
}

// -----

// A convolution's filter [G, F, C, KH, KW] becomes [G, F, C4/4, KH, KW, 4],
// [F, C4/4, KH, KW, 4] without groups: the input channels in groups of four,
// each group's taps one after the other. Here F = 2, C = 5, a 1 x 2 window,
// w[f][c][0][j] = 50 f + 10 c + j: for f = 0 the first group's taps are (0,
// 10, 20, 30) and (1, 11, 21, 31), the second's (40, 0, 0, 0) and (41, 0, 0,
// 0). The input's channels are padded to 8 to match. Without groups
// the loops are (n, f, y, i, j, c1, x, c0) on the ungrouped input and
// accumulators (the grouped views the lowering made fold away). Pairs such
// as (60, 70) could saturate AVX2's vpmaddubsw (255 x 130 > 32767), so for
// AVX2 the filter is stored as i16 (for the exact vpmaddwd path).

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:0, {0.25, 0.125}>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>
// CHECK-DAG: #[[FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
// CHECK-LABEL: func.func @conv
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 3, 0, 0]
// CHECK: } : tensor<1x1x5x3x7xi8> to tensor<1x1x8x3x7xi8>
// CHECK: %[[IN8:.*]] = tensor.collapse_shape %[[PAD]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x1x8x3x7xi8> into tensor<1x8x3x7xi8>
// CHECK: %[[PACKED:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}{{\[}}[0, 10, 20, 30], [1, 11, 21, 31]]], {{\[}}{{\[}}[40, 0, 0, 0], [41, 0, 0, 0]]]], {{\[}}{{\[}}{{\[}}[50, 60, 70, 80], [51, 61, 71, 81]]], {{\[}}{{\[}}[90, 0, 0, 0], [91, 0, 0, 0]]]]]> : tensor<2x2x1x2x4x
// VNNI-SAME: i8>
// AVX2-SAME: i16>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[FILTER]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[IN8]], %[[PACKED]] : tensor<1x8x3x7xi8>, tensor<2x2x1x2x4x{{i8|i16}}>) outs(%{{.*}} : tensor<1x2x3x6xi32>)
// VNNI: arith.extsi %{{.*}} : i8 to i32
// AVX2: arith.extsi %{{.*}} : i16 to i32
func.func @conv(%x: tensor<1x5x3x7x!x>, %b: tensor<2xi32>) -> tensor<1x2x3x6x!y> {
  %wc = arith.constant dense<[[[[0, 1]], [[10, 11]], [[20, 21]], [[30, 31]], [[40, 41]]], [[[50, 51]], [[60, 61]], [[70, 71]], [[80, 81]], [[90, 91]]]]> : tensor<2x5x1x2xi8>
  %w = quarc.storage_cast %wc : tensor<2x5x1x2xi8> -> tensor<2x5x1x2x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x5x3x7x!x>, tensor<2x5x1x2x!w>, tensor<2xi32>) -> tensor<1x2x3x6x!y>
  return %y : tensor<1x2x3x6x!y>
}

// -----

// With groups (2 here, 4 channels each) the loops are (n, g, f, y, i, j, c1,
// x, c0) on the grouped views, and the filter keeps its group dim.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-DAG: #[[GIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d6 * 4 + d8, d3 + d4, d5 + d7)>
// CHECK-DAG: #[[GFILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d1, d2, d6, d4, d5, d8)>
// CHECK-DAG: #[[GOUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d2, d3, d7)>
// CHECK-LABEL: func.func @grouped
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic {indexing_maps = [#[[GIN]], #[[GFILTER]], #[[GOUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x2x4x3x7xi8>, tensor<2x3x1x1x2x4xi8>) outs(%{{.*}} : tensor<1x2x3x3x6xi32>)
func.func @grouped(%x: tensor<1x8x3x7x!x>, %b: tensor<6xi32>) -> tensor<1x6x3x6x!y> {
  %wc = arith.constant dense<[[[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]]], [[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]]], [[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]]], [[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]]], [[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]]], [[[1, 2]], [[3, 4]], [[5, 6]], [[7, 9]]]]> : tensor<6x4x1x2xi8>
  %w = quarc.storage_cast %wc : tensor<6x4x1x2xi8> -> tensor<6x4x1x2x!w>
  %y = quarc.qconv %x, %w, %b {group = 2 : i64} : (tensor<1x8x3x7x!x>, tensor<6x4x1x2x!w>, tensor<6xi32>) -> tensor<1x6x3x6x!y>
  return %y : tensor<1x6x3x6x!y>
}

// -----

// A depthwise convolution (one input and one output channel per group)
// becomes the integer form quarc-vectorize-depthwise takes: input [N, C, H,
// W], filter [C, KH, KW] (the weights minus their zero point: 200 - 128 =
// 72), output [N, C, OH, OW], loops (n, c, y, x, i, j) with the stride and
// dilation in the input's map. For these x86 targets' kernel, which takes
// two taps per step, the filter is sign-extended to i16 (its rows are
// already whole pairs of taps).

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<u8:f32, 0.25:128>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-DAG: #[[DIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5 * 2)>
// CHECK-DAG: #[[DFILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d4, d5)>
// CHECK-DAG: #[[DOUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @depthwise
// CHECK: %[[FILTER:.*]] = arith.constant dense<72> : tensor<4x2x2xi16>
// CHECK: %[[IN:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] : tensor<1x4x1x9x11xi8> into tensor<1x4x9x11xi8>
// CHECK: %[[INIT:.*]] = tensor.collapse_shape %{{.*}} : tensor<1x4x1x4x5xi32> into tensor<1x4x4x5xi32>
// CHECK: %[[D:.*]] = linalg.generic {indexing_maps = [#[[DIN]], #[[DFILTER]], #[[DOUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[IN]], %[[FILTER]] : tensor<1x4x9x11xi8>, tensor<4x2x2xi16>) outs(%[[INIT]] : tensor<1x4x4x5xi32>)
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.extsi %{{.*}} : i16 to i32
// CHECK: tensor.expand_shape %[[D]] {{\[}}[0], [1, 2], [3], [4]]
func.func @depthwise(%x: tensor<1x4x9x11x!x>, %b: tensor<4xi32>) -> tensor<1x4x4x5x!y> {
  %wc = arith.constant dense<200> : tensor<4x1x2x2xui8>
  %w = quarc.storage_cast %wc : tensor<4x1x2x2xui8> -> tensor<4x1x2x2x!w>
  %y = quarc.qconv %x, %w, %b {group = 4 : i64, strides = array<i64: 2, 2>, dilations = array<i64: 1, 2>} : (tensor<1x4x9x11x!x>, tensor<4x1x2x2x!w>, tensor<4xi32>) -> tensor<1x4x4x5x!y>
  return %y : tensor<1x4x4x5x!y>
}

// -----

// Columns that no panel width divides (N = 6, as 6625 classes of a text
// recognizer's last layer) are padded to a whole panel of zero weights, C
// too (with zeros), and the first 6 columns of the product are the result.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @padded_columns
// AVX2 panels are 8 wide, AVX-512 ones 16.
// CHECK: arith.constant dense<{{.*}}> : tensor<1x1x{{8|16}}x4xi8>
// CHECK: %[[PADC:.*]] = tensor.pad %{{.*}} low[0, 0] high[0, {{2|10}}]
// CHECK: tensor.expand_shape %[[PADC]]
// CHECK: %[[P:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[P]]
// CHECK: tensor.extract_slice %[[FLAT]][0, 0] [3, 6] [1, 1] : tensor<3x{{8|16}}xi32> to tensor<3x6xi32>
func.func @padded_columns(%a: tensor<3x4x!x>, %b6: tensor<6xi32>) -> tensor<3x6x!y> {
  %w6c = arith.constant dense<[[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7]]> : tensor<4x6xi8>
  %w6 = quarc.storage_cast %w6c : tensor<4x6xi8> -> tensor<4x6x!w>
  %six = quarc.qmatmul %a, %w6, %b6 : (tensor<3x4x!x>, tensor<4x6x!w>, tensor<6xi32>) -> tensor<3x6x!y>
  return %six : tensor<3x6x!y>
}

// -----

// Left alone: centered weights outside s8 (u8 weights 0 and 255 around a
// zero point of 100) and a weight that is not a constant.

!x = !quant.uniform<u8:f32, 0.5:10>
!wd = !quant.uniform<i8:f32, 0.25>
!wa = !quant.uniform<u8:f32, 0.25:100>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: "parallel", "reduction"]
// CHECK: return
func.func @left_alone(%a: tensor<3x4x!x>, %b: tensor<4xi32>, %wv: tensor<4x8x!wd>, %b8: tensor<8xi32>) -> (tensor<3x4x!y>, tensor<3x8x!y>) {
  %wac = arith.constant dense<[[0, 255, 0, 255], [0, 255, 0, 255], [0, 255, 0, 255], [0, 255, 0, 255]]> : tensor<4x4xui8>
  %wa = quarc.storage_cast %wac : tensor<4x4xui8> -> tensor<4x4x!wa>
  %wide = quarc.qmatmul %a, %wa, %b : (tensor<3x4x!x>, tensor<4x4x!wa>, tensor<4xi32>) -> tensor<3x4x!y>
  %variable = quarc.qmatmul %a, %wv, %b8 : (tensor<3x4x!x>, tensor<4x8x!wd>, tensor<8xi32>) -> tensor<3x8x!y>
  return %wide, %variable : tensor<3x4x!y>, tensor<3x8x!y>
}

// -----

// A pointwise convolution (1x1, unit strides, no padding) reads its input at
// its output's pixels: input and accumulators are viewed as one row of H * W
// = 49 pixels, so the kernel's column tiles are not limited to rows of 7.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @pointwise
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x1x4x7x7xi8> into tensor<1x1x4x49xi8>
// CHECK: tensor.expand_shape %{{.*}} : tensor<1x1x4x49xi8> into tensor<1x1x4x1x49xi8>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x4x1x49xi8>, tensor<3x1x1x1x4xi8>) outs(%{{.*}} : tensor<1x3x1x49xi32>)
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x1x3x1x49xi32> into tensor<1x1x3x49xi32>
// CHECK: tensor.expand_shape %{{.*}} : tensor<1x1x3x49xi32> into tensor<1x1x3x7x7xi32>
func.func @pointwise(%x: tensor<1x4x7x7x!x>, %b: tensor<3xi32>) -> tensor<1x3x7x7x!y> {
  %wc = arith.constant dense<[[[[1]], [[2]], [[3]], [[4]]], [[[5]], [[6]], [[7]], [[8]]], [[[9]], [[10]], [[11]], [[12]]]]> : tensor<3x4x1x1xi8>
  %w = quarc.storage_cast %wc : tensor<3x4x1x1xi8> -> tensor<3x4x1x1x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x4x7x7x!x>, tensor<3x4x1x1x!w>, tensor<3xi32>) -> tensor<1x3x7x7x!y>
  return %y : tensor<1x3x7x7x!y>
}

// -----

// s8 activations on x86, whose dot products multiply u8 by s8: they enter the
// product as x + 128, and the accumulators start 128 * sum(w) lower per
// column (sums 100, 105, 110, 115 of w[k][n] = 10 k + n).

!a = !quant.uniform<i8:f32, 0.5:-3>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @signed_activations
// CHECK: %[[COMP:.*]] = arith.constant dense<[-12800, -13440, -14080, -14720]> : tensor<4xi32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[COMP]] :
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]
// CHECK: %[[X:.*]] = arith.extsi %{{.*}} : i8 to i32
// CHECK: %[[C128:.*]] = arith.constant 128 : i32
// CHECK: %[[XS:.*]] = arith.addi %[[X]], %[[C128]] : i32
// CHECK: arith.muli %[[XS]], %{{.*}} : i32
func.func @signed_activations(%a: tensor<3x5x!a>, %b: tensor<4xi32>) -> tensor<3x4x!y> {
  %wc = arith.constant dense<[[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23], [30, 31, 32, 33], [40, 41, 42, 43]]> : tensor<5x4xi8>
  %w = quarc.storage_cast %wc : tensor<5x4xi8> -> tensor<5x4x!w>
  %y = quarc.qmatmul %a, %w, %b : (tensor<3x5x!a>, tensor<5x4x!w>, tensor<4xi32>) -> tensor<3x4x!y>
  return %y : tensor<3x4x!y>
}
