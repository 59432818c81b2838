// RUN: quarc-opt %s | quarc-opt | FileCheck %s

// The integer ops print and parse back (types, clamps, tables, windows).

!a = !quant.uniform<u8:f32, 0.05:128>
!b = !quant.uniform<i8:f32, 0.1:-2>
!y = !quant.uniform<u8:f32, 0.2:3>
// CHECK-LABEL: func.func @integer_ops
// CHECK: quarc.requantize %{{.*}} : tensor<1x2x4x4x!quant.uniform<u8:f32, 5.000000e-02:128>> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 2.000000e-01:3>>
// CHECK: quarc.qadd %{{.*}}, %{{.*}} {clamp_max = 200 : i64, clamp_min = 3 : i64} : (tensor<1x2x4x4x!quant.uniform<u8:f32, 5.000000e-02:128>>, tensor<1x2x1x1x!quant.uniform<i8:f32, 1.000000e-01:-2>>) -> tensor<1x2x4x4x!quant.uniform<u8:f32, 2.000000e-01:3>>
// CHECK: quarc.qmul %{{.*}}, %{{.*}} : (tensor<1x2x4x4x!quant.uniform<u8:f32, 5.000000e-02:128>>, tensor<1x2x1x1x!quant.uniform<i8:f32, 1.000000e-01:-2>>) -> tensor<1x2x4x4x!quant.uniform<u8:f32, 2.000000e-01:3>>
// CHECK: quarc.qaverage_pool %{{.*}} {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>}
// CHECK: quarc.lut %{{.*}} {table = array<i32: 0, 0, 1,
func.func @integer_ops(%a: tensor<1x2x4x4x!a>, %b: tensor<1x2x1x1x!b>) -> (tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>) {
  %r = quarc.requantize %a : tensor<1x2x4x4x!a> -> tensor<1x2x4x4x!y>
  %s = quarc.qadd %a, %b {clamp_min = 3 : i64, clamp_max = 200 : i64} : (tensor<1x2x4x4x!a>, tensor<1x2x1x1x!b>) -> tensor<1x2x4x4x!y>
  %m = quarc.qmul %a, %b : (tensor<1x2x4x4x!a>, tensor<1x2x1x1x!b>) -> tensor<1x2x4x4x!y>
  %p = quarc.qaverage_pool %a {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x4x!a> -> tensor<1x2x4x4x!y>
  %l = quarc.lut %a {table = array<i32: 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 30, 30, 31, 31, 32, 32, 33, 33, 34, 34, 35, 35, 36, 36, 37, 37, 38, 38, 39, 39, 40, 40, 41, 41, 42, 42, 43, 43, 44, 44, 45, 45, 46, 46, 47, 47, 48, 48, 49, 49, 50, 50, 51, 51, 52, 52, 53, 53, 54, 54, 55, 55, 56, 56, 57, 57, 58, 58, 59, 59, 60, 60, 61, 61, 62, 62, 63, 63, 64, 64, 65, 65, 66, 66, 67, 67, 68, 68, 69, 69, 70, 70, 71, 71, 72, 72, 73, 73, 74, 74, 75, 75, 76, 76, 77, 77, 78, 78, 79, 79, 80, 80, 81, 81, 82, 82, 83, 83, 84, 84, 85, 85, 86, 86, 87, 87, 88, 88, 89, 89, 90, 90, 91, 91, 92, 92, 93, 93, 94, 94, 95, 95, 96, 96, 97, 97, 98, 98, 99, 99, 100, 100, 101, 101, 102, 102, 103, 103, 104, 104, 105, 105, 106, 106, 107, 107, 108, 108, 109, 109, 110, 110, 111, 111, 112, 112, 113, 113, 114, 114, 115, 115, 116, 116, 117, 117, 118, 118, 119, 119, 120, 120, 121, 121, 122, 122, 123, 123, 124, 124, 125, 125, 126, 126, 127, 127>} : tensor<1x2x4x4x!a> -> tensor<1x2x4x4x!y>
  return %r, %s, %m, %p, %l : tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>, tensor<1x2x4x4x!y>
}
