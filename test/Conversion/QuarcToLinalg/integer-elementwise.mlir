// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg | FileCheck %s

// requantize: (x - 10) * 2 as requantize(acc, M = 2^30, n = 29), since
// 0.5 / 0.25 = 2 = 2^30 * 2^-29; then the zero point -3 and the i8 clamp.
// An 8-bit input takes the i32 form with M in 16-bit halves: x' * 16384
// (M >> 16) plus ((x' * 0) >> 16) + 2^(n-17), shifted by n - 16 = 13.

!in = !quant.uniform<u8:f32, 0.5:10>
!out = !quant.uniform<i8:f32, 0.25:-3>
// CHECK-LABEL: func.func @requantize
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3xi8>) outs(%{{.*}} : tensor<2x3xi8>)
// CHECK: ^bb0(%[[X:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[XE:.*]] = arith.extui %[[X]] : i8 to i32
// CHECK: %[[ZP:.*]] = arith.constant 10 : i32
// CHECK: %[[ACC:.*]] = arith.subi %[[XE]], %[[ZP]] : i32
// CHECK: %[[MH:.*]] = arith.constant 16384 : i32
// CHECK: %[[H:.*]] = arith.muli %[[ACC]], %[[MH]] : i32
// CHECK: %[[L:.*]] = arith.muli %[[ACC]], %{{.*}} : i32
// CHECK: %[[LH:.*]] = arith.shrsi %[[L]], %{{.*}} : i32
// CHECK: %[[HALF:.*]] = arith.constant 4096 : i32
// CHECK: %[[CARRIED:.*]] = arith.addi %[[LH]], %[[HALF]] : i32
// CHECK: %[[SUM:.*]] = arith.addi %[[H]], %[[CARRIED]] : i32
// CHECK: %[[REST:.*]] = arith.constant 13 : i32
// CHECK: %[[R:.*]] = arith.shrsi %[[SUM]], %[[REST]] : i32
// CHECK: arith.constant -3 : i32
// CHECK: arith.constant -128 : i32
// CHECK: arith.constant 127 : i32
// CHECK: arith.trunci %{{.*}} : i32 to i8
func.func @requantize(%x: tensor<2x3x!in>) -> tensor<2x3x!out> {
  %y = quarc.requantize %x : tensor<2x3x!in> -> tensor<2x3x!out>
  return %y : tensor<2x3x!out>
}

// -----

// requantize of a 16-bit input by 0.5 / 0.001 = 500 = 2^31 (500 / 512)
// 2^-22: with a shift below 23 its product with M needs i64 (the form conv
// output stages take below a shift of 32); from 23 on, the multiplier would
// be cut in 11-bit thirds (as a Mul's product's is, below).

!in = !quant.uniform<i16:f32, 0.5:10>
!out = !quant.uniform<i8:f32, 0.001:-3>
// CHECK-LABEL: func.func @requantize_wide
// CHECK: %[[XE:.*]] = arith.extsi %{{.*}} : i16 to i32
// CHECK: %[[ACC:.*]] = arith.subi %[[XE]], %{{.*}} : i32
// CHECK-DAG: arith.constant 2097152000 : i32
// CHECK-DAG: arith.constant 22 : i32
// CHECK: arith.muli %{{.*}}, %{{.*}} : i64
// CHECK: arith.shrsi
// CHECK: arith.constant -3 : i64
// CHECK: arith.trunci %{{.*}} : i64 to i8
func.func @requantize_wide(%x: tensor<2x3x!in>) -> tensor<2x3x!out> {
  %y = quarc.requantize %x : tensor<2x3x!in> -> tensor<2x3x!out>
  return %y : tensor<2x3x!out>
}

// -----

// qadd with broadcasting: sa/so = 0.25 and sb/so = 0.5 share the shift of
// the larger (0.5 = 2^30 * 2^-31): Ma = 2^29, Mb = 2^30, n = 31, one
// rounding of the sum; clamp_min 0 (a fused Relu) is the lower bound. With
// 8-bit inputs and 17 <= n <= 47 the sum is taken in i32, each multiplier
// in 16-bit halves: H = a' (Ma >> 16) + b' (Mb >> 16) = a' 8192 + b' 16384,
// L = a' (Ma & 0xFFFF) + b' (Mb & 0xFFFF) (both 0 here), and the result
// (H + (L >> 16) + 2^(n-17)) >> (n - 16).

!a = !quant.uniform<u8:f32, 0.05:128>
!b = !quant.uniform<u8:f32, 0.1:10>
!y = !quant.uniform<i8:f32, 0.2:-3>
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>
// CHECK-DAG: #[[CHAN:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d1, 0, 0)>
// CHECK-DAG: #[[FULL:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[CHAN]], #[[FULL]]]
// CHECK: ^bb0(%[[A:.*]]: i8, %[[B:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[AE:.*]] = arith.extui %[[A]] : i8 to i32
// CHECK: %[[AC:.*]] = arith.subi %[[AE]], %{{.*}} : i32
// CHECK: %[[BE:.*]] = arith.extui %[[B]] : i8 to i32
// CHECK: %[[BC:.*]] = arith.subi %[[BE]], %{{.*}} : i32
// CHECK: %[[MAH:.*]] = arith.constant 8192 : i32
// CHECK: %[[AH:.*]] = arith.muli %[[AC]], %[[MAH]] : i32
// CHECK: %[[MBH:.*]] = arith.constant 16384 : i32
// CHECK: %[[BH:.*]] = arith.muli %[[BC]], %[[MBH]] : i32
// CHECK: %[[H:.*]] = arith.addi %[[AH]], %[[BH]] : i32
// CHECK: %[[AL:.*]] = arith.muli %[[AC]], %{{.*}} : i32
// CHECK: %[[BL:.*]] = arith.muli %[[BC]], %{{.*}} : i32
// CHECK: %[[L:.*]] = arith.addi %[[AL]], %[[BL]] : i32
// CHECK: %[[C16:.*]] = arith.constant 16 : i32
// CHECK: %[[LH:.*]] = arith.shrsi %[[L]], %[[C16]] : i32
// CHECK: %[[HALF:.*]] = arith.constant 16384 : i32
// CHECK: %[[CARRIED:.*]] = arith.addi %[[LH]], %[[HALF]] : i32
// CHECK: %[[SUM:.*]] = arith.addi %[[H]], %[[CARRIED]] : i32
// CHECK: %[[REST:.*]] = arith.constant 15 : i32
// CHECK: %[[R:.*]] = arith.shrsi %[[SUM]], %[[REST]] : i32
// CHECK: arith.addi %[[R]], %{{.*}} : i32
// CHECK: arith.constant 0 : i32
// CHECK: arith.constant 127 : i32
// CHECK-NOT: i64
// CHECK: linalg.yield
func.func @add_broadcast(%a: tensor<1x4x6x6x!a>, %b: tensor<1x4x1x1x!b>) -> tensor<1x4x6x6x!y> {
  %y = quarc.qadd %a, %b {clamp_min = 0 : i64} : (tensor<1x4x6x6x!a>, tensor<1x4x1x1x!b>) -> tensor<1x4x6x6x!y>
  return %y : tensor<1x4x6x6x!y>
}

// -----

// qadd into a far coarser output: sb/so = 0.1 / (0.1 x 2^20) = 2^-20 =
// 2^30 x 2^-50 (n = 50), beyond the i32 form's 47: the sum is taken in
// i64; from a shift of 32 on, the i64 sum plus the rounding half is shifted
// by 32 and taken as i32, the rest of the shift (n - 32), the zero point
// and the clamp are i32 arithmetic.

!a = !quant.uniform<u8:f32, 0.05:128>
!b = !quant.uniform<u8:f32, 0.1:10>
!y = !quant.uniform<i8:f32, 104857.6:-3>
// CHECK-LABEL: func.func @add_coarse
// CHECK: arith.extui %{{.*}} : i8 to i64
// CHECK: %[[SUM:.*]] = arith.addi %{{.*}}, %{{.*}} : i64
// CHECK: %[[N:.*]] = arith.constant 50 : i64
// CHECK: %[[RS:.*]] = arith.addi %[[SUM]], %{{.*}} : i64
// CHECK: %[[C32:.*]] = arith.constant 32 : i64
// CHECK: %[[HIGH64:.*]] = arith.shrsi %[[RS]], %[[C32]] : i64
// CHECK: %[[HIGH:.*]] = arith.trunci %[[HIGH64]] : i64 to i32
// CHECK: %[[N32:.*]] = arith.trunci %[[N]] : i64 to i32
// CHECK: %[[REST:.*]] = arith.subi %[[N32]], %{{.*}} : i32
// CHECK: %[[R:.*]] = arith.shrsi %[[HIGH]], %[[REST]] : i32
// CHECK: %[[Z:.*]] = arith.addi %[[R]], %{{.*}} : i32
// CHECK: arith.maxsi %[[Z]], %{{.*}} : i32
// CHECK: arith.minsi
// CHECK: arith.trunci %{{.*}} : i32 to i8
func.func @add_coarse(%a: tensor<8x!a>, %b: tensor<8x!b>) -> tensor<8x!y> {
  %y = quarc.qadd %a, %b : (tensor<8x!a>, tensor<8x!b>) -> tensor<8x!y>
  return %y : tensor<8x!y>
}

// -----

// qmul: (a - za) * (b - zb) in i32, then requantize with (0.5 * 0.25) /
// 0.3 = 0.41666 = 1789569707 * 2^-32; signed inputs are sign-extended. The
// product has at most 17 bits, so the multiplier is cut in three pieces of
// 11 bits (683 + 1365 * 2^11 + 426 * 2^22) whose products fit i32: each
// piece's sum carries its floor over 2^11 into the next, the rounding half
// 2^31 joins the top piece as 2^9, and the result is shifted by 32 - 22.

!a = !quant.uniform<i8:f32, 0.5:1>
!b = !quant.uniform<i8:f32, 0.25:-2>
!y = !quant.uniform<u8:f32, 0.3:7>
// CHECK-LABEL: func.func @mul
// CHECK: ^bb0(%[[A:.*]]: i8, %[[B:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[AE:.*]] = arith.extsi %[[A]] : i8 to i32
// CHECK: %[[AC:.*]] = arith.subi %[[AE]], %{{.*}} : i32
// CHECK: %[[BE:.*]] = arith.extsi %[[B]] : i8 to i32
// CHECK: %[[BC:.*]] = arith.subi %[[BE]], %{{.*}} : i32
// CHECK: %[[P:.*]] = arith.muli %[[AC]], %[[BC]] : i32
// CHECK: %[[M2:.*]] = arith.constant 426 : i32
// CHECK: %[[S2:.*]] = arith.muli %[[P]], %[[M2]] : i32
// CHECK: %[[M0:.*]] = arith.constant 683 : i32
// CHECK: %[[S0:.*]] = arith.muli %[[P]], %[[M0]] : i32
// CHECK: %[[M1:.*]] = arith.constant 1365 : i32
// CHECK: %[[S1:.*]] = arith.muli %[[P]], %[[M1]] : i32
// CHECK: %[[C0:.*]] = arith.shrsi %[[S0]], %{{.*}} : i32
// CHECK: %[[T1:.*]] = arith.addi %[[S1]], %[[C0]] : i32
// CHECK: %[[C1:.*]] = arith.shrsi %[[T1]], %{{.*}} : i32
// CHECK: %[[HALF:.*]] = arith.constant 512 : i32
// CHECK: %[[R:.*]] = arith.addi %[[C1]], %[[HALF]] : i32
// CHECK: %[[T2:.*]] = arith.addi %[[S2]], %[[R]] : i32
// CHECK: %[[N:.*]] = arith.constant 10 : i32
// CHECK: arith.shrsi %[[T2]], %[[N]] : i32
// CHECK-NOT: i64
// CHECK: linalg.yield
func.func @mul(%a: tensor<8x!a>, %b: tensor<8x!b>) -> tensor<8x!y> {
  %y = quarc.qmul %a, %b : (tensor<8x!a>, tensor<8x!b>) -> tensor<8x!y>
  return %y : tensor<8x!y>
}

// -----

// lut: the table becomes a constant of the result's storage type (u8
// values as their i8 bits, 0x00 ... 0xFF), read at x - qmin: x + 128 for
// an i8 input (sign-extended).

!in = !quant.uniform<i8:f32, 0.1>
!out = !quant.uniform<u8:f32, 0.01:0>
// CHECK-LABEL: func.func @lut
// CHECK: %[[TABLE:.*]] = arith.constant dense<"0x000102{{.*}}FDFEFF"> : tensor<256xi8>
// CHECK: ^bb0(%[[X:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[XE:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK: %[[QMIN:.*]] = arith.constant -128 : i32
// CHECK: %[[I:.*]] = arith.subi %[[XE]], %[[QMIN]] : i32
// CHECK: %[[IDX:.*]] = arith.index_cast %[[I]] : i32 to index
// CHECK: tensor.extract %[[TABLE]][%[[IDX]]] : tensor<256xi8>
func.func @lut(%x: tensor<4x!in>) -> tensor<4x!out> {
  %y = quarc.lut %x {table = array<i32: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255>} : tensor<4x!in> -> tensor<4x!out>
  return %y : tensor<4x!out>
}

// -----

// qaverage_pool, 3x3 window, stride 2, pads 1, count_include_pad 0: the
// divisors per output row and column are 2, 3, 3, so the multipliers of
// 1/4, 1/6 and 1/9 (sx = so) form a 3x3 table, and so do their shifts.
// The input is centered (x - 128) in i32 and the pads add 0.

!q = !quant.uniform<u8:f32, 0.1:128>
// CHECK-LABEL: func.func @average_pool
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.constant 128 : i32
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[SUM:.*]] = linalg.pooling_nchw_sum {{.*}} ins(%[[PAD]], %{{.*}} : tensor<1x2x8x8xi32>, tensor<3x3xi32>) outs(%{{.*}} : tensor<1x2x3x3xi32>)
// CHECK-DAG: %[[M:.*]] = arith.constant dense<{{\[\[}}1073741824, 1431655765, 1431655765], [1431655765, 1908874354, 1908874354], [1431655765, 1908874354, 1908874354]]> : tensor<3x3xi32>
// CHECK-DAG: %[[N:.*]] = arith.constant dense<{{\[\[}}32, 33, 33], [33, 34, 34], [33, 34, 34]]> : tensor<3x3xi32>
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %[[M]], %[[N]] : tensor<1x2x3x3xi32>, tensor<3x3xi32>, tensor<3x3xi32>)
func.func @average_pool(%x: tensor<1x2x6x6x!q>) -> tensor<1x2x3x3x!q> {
  %y = quarc.qaverage_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x6x6x!q> -> tensor<1x2x3x3x!q>
  return %y : tensor<1x2x3x3x!q>
}

// -----

// A global average (a 6x6 window, one divisor 36): a reduction of the
// stored values, x - zx summed over the spatial dims (which
// quarc-lower-reductions runs with the sums in registers), and a scalar
// multiplier.

!q = !quant.uniform<u8:f32, 0.1:128>
// CHECK-LABEL: func.func @global_average
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%{{.*}} : tensor<1x2x6x6xi8>) outs(%{{.*}} : tensor<1x2xi32>)
// CHECK: arith.extui
// CHECK: arith.subi %{{.*}}, %c128_i32
// CHECK: arith.addi
// CHECK: tensor.expand_shape {{.*}} into tensor<1x2x1x1xi32>
// CHECK-NOT: linalg.pooling_nchw_sum
// CHECK-DAG: arith.constant 1908874354 : i32
// CHECK-DAG: arith.constant 36 : i32
func.func @global_average(%x: tensor<1x2x6x6x!q>) -> tensor<1x2x1x1x!q> {
  %y = quarc.qaverage_pool %x {kernel_shape = array<i64: 6, 6>} : tensor<1x2x6x6x!q> -> tensor<1x2x1x1x!q>
  return %y : tensor<1x2x1x1x!q>
}

// -----

// Pass-through ops lower on the stored values: an unsigned max pool
// compares unsigned (a generic with maxui starting from 0), a signed one
// is linalg's max pool; reshapes and transposes move i8 values. (The
// quantized values come from quantize here, as they come from quantize
// and the integer ops in a compiled model.)

!u = !quant.uniform<u8:f32, 0.1:128>
!s = !quant.uniform<i8:f32, 0.1:-1>
// CHECK-LABEL: func.func @pass_through
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.maxui %{{.*}}, %{{.*}} : i8
// CHECK: linalg.pooling_nchw_max {{.*}} outs(%{{.*}} : tensor<1x2x3x3xi8>)
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : tensor<1x2x6x6xi8> into tensor<1x72xi8>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x2x6x6xi8>) outs(%{{.*}} : tensor<1x6x6x2xi8>)
// CHECK: tensor.concat dim(1) %{{.*}}, %{{.*}} : (tensor<1x2x6x6xi8>, tensor<1x2x6x6xi8>) -> tensor<1x4x6x6xi8>
func.func @pass_through(%x: tensor<1x2x6x6xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>, tensor<1x72xf32>, tensor<1x6x6x2xf32>, tensor<1x4x6x6xf32>) {
  %u = quarc.quantize %x : tensor<1x2x6x6xf32> -> tensor<1x2x6x6x!u>
  %s = quarc.quantize %x : tensor<1x2x6x6xf32> -> tensor<1x2x6x6x!s>
  %pu, %iu = quarc.max_pool %u {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x6x6x!u>) -> (tensor<1x2x3x3x!u>, tensor<1x2x3x3xi64>)
  %ps, %is = quarc.max_pool %s {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x6x6x!s>) -> (tensor<1x2x3x3x!s>, tensor<1x2x3x3xi64>)
  %f = quarc.flatten %u {axis = 1 : i64} : (tensor<1x2x6x6x!u>) -> tensor<1x72x!u>
  %t = quarc.transpose %u {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x2x6x6x!u>) -> tensor<1x6x6x2x!u>
  %c = quarc.concat %u, %u {axis = 1 : i64} : (tensor<1x2x6x6x!u>, tensor<1x2x6x6x!u>) -> tensor<1x4x6x6x!u>
  %0 = quarc.dequantize %pu : tensor<1x2x3x3x!u> -> tensor<1x2x3x3xf32>
  %1 = quarc.dequantize %ps : tensor<1x2x3x3x!s> -> tensor<1x2x3x3xf32>
  %2 = quarc.dequantize %f : tensor<1x72x!u> -> tensor<1x72xf32>
  %3 = quarc.dequantize %t : tensor<1x6x6x2x!u> -> tensor<1x6x6x2xf32>
  %4 = quarc.dequantize %c : tensor<1x4x6x6x!u> -> tensor<1x4x6x6xf32>
  return %0, %1, %2, %3, %4 : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>, tensor<1x72xf32>, tensor<1x6x6x2xf32>, tensor<1x4x6x6xf32>
}
