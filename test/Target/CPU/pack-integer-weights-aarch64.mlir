// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=aarch64+dotprod | FileCheck %s --check-prefixes=CHECK,SDOT
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=aarch64+i8mm | FileCheck %s --check-prefixes=CHECK,USDOT

// AArch64 packs for NEON's 4 i32 lanes: panels of 4 columns. i8mm's usdot
// and usmmla multiply u8 by s8 as x86 does. dotprod's sdot multiplies s8 by
// s8 only: u8 activations enter as x - 128, and the accumulators start 128
// * sum(w) higher per output channel (a constant added to the bias), so the
// sum is the same. With i8mm a matrix product of more than one row packs k
// in groups of eight for usmmla (two columns' eight k per 16 bytes: each
// column's k = 0..4, then zeros to 8), its activations padded to 8 k.

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @matmul
// Column sums of w: 0+10+20+30+40 = 100, 105, 110, 115; times 128.
// SDOT: %[[COMP:.*]] = arith.constant dense<[12800, 13440, 14080, 14720]> : tensor<4xi32>
// SDOT: %[[INIT:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[COMP]] : tensor<3x4xi32>, tensor<4xi32>)
// SDOT: arith.addi
// USDOT-NOT: dense<[12800
// USDOT: arith.constant dense<{{\[\[\[\[}}0, 10, 20, 30, 40, 0, 0, 0], [1, 11, 21, 31, 41, 0, 0, 0], [2, 12, 22, 32, 42, 0, 0, 0], [3, 13, 23, 33, 43, 0, 0, 0]]]]> : tensor<1x1x4x8xi8>
// USDOT: tensor.pad %{{.*}} low[0, 0] high[0, 3]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]
// SDOT-SAME: tensor<3x2x4xi8>, tensor<1x2x4x4xi8>
// USDOT-SAME: tensor<3x1x8xi8>, tensor<1x1x4x8xi8>
// CHECK: %[[X:.*]] = arith.extui %{{.*}} : i8 to i32
// SDOT: %[[C128:.*]] = arith.constant 128 : i32
// SDOT: %[[XS:.*]] = arith.subi %[[X]], %[[C128]] : i32
// SDOT: arith.muli %[[XS]], %{{.*}} : i32
// USDOT-NOT: arith.subi
// USDOT: arith.muli %[[X]], %{{.*}} : i32
func.func @matmul(%a: tensor<3x5x!a>, %b: tensor<4xi32>) -> tensor<3x4x!y> {
  %wc = arith.constant dense<[[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23], [30, 31, 32, 33], [40, 41, 42, 43]]> : tensor<5x4xi8>
  %w = quarc.storage_cast %wc : tensor<5x4xi8> -> tensor<5x4x!w>
  %y = quarc.qmatmul %a, %w, %b : (tensor<3x5x!a>, tensor<5x4x!w>, tensor<4xi32>) -> tensor<3x4x!y>
  return %y : tensor<3x4x!y>
}

// -----

// One row: usmmla would compute a second row for nothing, so k stays in
// groups of four (usdot) with i8mm too.
!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @matmul_one_row
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]
// CHECK-SAME: tensor<1x2x4xi8>, tensor<1x2x4x4xi8>
func.func @matmul_one_row(%a: tensor<1x5x!a>, %b: tensor<4xi32>) -> tensor<1x4x!y> {
  %wc = arith.constant dense<[[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23], [30, 31, 32, 33], [40, 41, 42, 43]]> : tensor<5x4xi8>
  %w = quarc.storage_cast %wc : tensor<5x4xi8> -> tensor<5x4x!w>
  %y = quarc.qmatmul %a, %w, %b : (tensor<1x5x!a>, tensor<5x4x!w>, tensor<4xi32>) -> tensor<1x4x!y>
  return %y : tensor<1x4x!y>
}

// -----

// A convolution: the compensation is per output channel (2 here: sums 15
// and -15 over its 1 x 2 window and 3 channels, padded to 4 with zeros).

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @conv
// SDOT: %[[COMP:.*]] = arith.constant dense<[1920, -1920]> : tensor<2xi32>
// SDOT: linalg.generic {{.*}} ins(%{{.*}}, %[[COMP]] : tensor<1x2x3x6xi32>, tensor<2xi32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]
// SDOT: arith.subi
// USDOT-NOT: arith.subi
func.func @conv(%x: tensor<1x3x3x7x!x>, %b: tensor<2xi32>) -> tensor<1x2x3x6x!y> {
  %wc = arith.constant dense<[[[[1, 2]], [[2, 3]], [[3, 4]]], [[[-1, -2]], [[-2, -3]], [[-3, -4]]]]> : tensor<2x3x1x2xi8>
  %w = quarc.storage_cast %wc : tensor<2x3x1x2xi8> -> tensor<2x3x1x2x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x3x3x7x!x>, tensor<2x3x1x2x!w>, tensor<2xi32>) -> tensor<1x2x3x6x!y>
  return %y : tensor<1x2x3x6x!y>
}

// -----

// Eight or more input channels: with i8mm the filter groups them by eight for
// usmmla, [F, C8/8, KH, KW, 8], channel c of tap (i, j) at [f, c floordiv 8,
// i, j, c mod 8] (here 10 channels padded to 16: zeros after c = 9), and the
// input is read at channel 8 c1 + c0. dotprod groups by four.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// USDOT: #{{.*}} = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 8 + d7, d2 + d3, d4 + d6)>
// CHECK-LABEL: func.func @conv_ten_channels
// USDOT: tensor.pad %{{.*}} low[0, 0, 0, 0, 0] high[0, 0, 6, 0, 0]
// USDOT: arith.constant dense<{{\[\[\[\[\[}}0, 1, 2, 3, 4, 5, 6, 7]]], {{\[\[\[}}8, 9, 0, 0, 0, 0, 0, 0]]]], {{\[\[\[\[}}-1, -2, -3, -4, -5, -6, -7, -8]]], {{\[\[\[}}-9, -10, 0, 0, 0, 0, 0, 0]]]]]> : tensor<2x2x1x1x8xi8>
// USDOT: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x16x1x21xi8>, tensor<2x2x1x1x8xi8>)
// SDOT: tensor<2x3x1x1x4xi8>
func.func @conv_ten_channels(%x: tensor<1x10x3x7x!x>, %b: tensor<2xi32>) -> tensor<1x2x3x7x!y> {
  %wc = arith.constant dense<[[[[0]], [[1]], [[2]], [[3]], [[4]], [[5]], [[6]], [[7]], [[8]], [[9]]], [[[-1]], [[-2]], [[-3]], [[-4]], [[-5]], [[-6]], [[-7]], [[-8]], [[-9]], [[-10]]]]> : tensor<2x10x1x1xi8>
  %w = quarc.storage_cast %wc : tensor<2x10x1x1xi8> -> tensor<2x10x1x1x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x10x3x7x!x>, tensor<2x10x1x1x!w>, tensor<2xi32>) -> tensor<1x2x3x7x!y>
  return %y : tensor<1x2x3x7x!y>
}
