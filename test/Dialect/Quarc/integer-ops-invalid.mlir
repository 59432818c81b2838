// RUN: quarc-opt %s -split-input-file -verify-diagnostics

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:0, {0.25, 0.125}>
func.func @float_input(%x: tensor<1x1x4x4xf32>, %w: tensor<2x1x1x1x!w>, %b: tensor<2xi32>) {
  // expected-error @+1 {{input must hold 8-bit per-tensor !quant.uniform values of f32}}
  %y = quarc.qconv %x, %w, %b : (tensor<1x1x4x4xf32>, tensor<2x1x1x1x!w>, tensor<2xi32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:1, {0.25}>
func.func @weight_axis(%x: tensor<1x1x4x4x!x>, %w: tensor<2x1x1x1x!w>, %b: tensor<2xi32>) {
  // expected-error @+1 {{weight must be quantized along axis 0 (its output channels)}}
  %y = quarc.qconv %x, %w, %b : (tensor<1x1x4x4x!x>, tensor<2x1x1x1x!w>, tensor<2xi32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
func.func @bias_size(%x: tensor<1x1x4x4x!x>, %w: tensor<2x1x1x1x!w>, %b: tensor<3xi32>) {
  // expected-error @+1 {{bias must be 1-D with one value per output channel (2)}}
  %y = quarc.qconv %x, %w, %b : (tensor<1x1x4x4x!x>, tensor<2x1x1x1x!w>, tensor<3xi32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
func.func @result_type(%x: tensor<1x1x4x4x!x>, %w: tensor<2x1x1x1x!w>, %b: tensor<2xi32>) {
  // expected-error @+1 {{result must be f32 or hold per-tensor !quant.uniform values of f32 (at most 16 bits)}}
  %y = quarc.qconv %x, %w, %b : (tensor<1x1x4x4x!x>, tensor<2x1x1x1x!w>, tensor<2xi32>) -> tensor<1x2x4x4xi32>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32:1, {0.25, 0.5}>
func.func @matmul_inner_dims(%a: tensor<4x3x!a>, %w: tensor<2x2x!w>, %b: tensor<2xi32>) {
  // expected-error @+1 {{a has 3 columns, b 2 rows}}
  %y = quarc.qmatmul %a, %w, %b : (tensor<4x3x!a>, tensor<2x2x!w>, tensor<2xi32>) -> tensor<4x2xf32>
  return
}

// -----

!a = !quant.uniform<u16:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
func.func @matmul_16_bit_input(%a: tensor<4x2x!a>, %w: tensor<2x2x!w>, %b: tensor<2xi32>) {
  // expected-error @+1 {{input must hold 8-bit per-tensor !quant.uniform values of f32}}
  %y = quarc.qmatmul %a, %w, %b : (tensor<4x2x!a>, tensor<2x2x!w>, tensor<2xi32>) -> tensor<4x2xf32>
  return
}

// -----

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
func.func @conv_result_shape(%x: tensor<1x1x4x4x!x>, %w: tensor<2x1x3x3x!w>, %b: tensor<2xi32>) {
  // expected-error @+1 {{result shape differs from the convolution's (1x2x2x2)}}
  %y = quarc.qconv %x, %w, %b : (tensor<1x1x4x4x!x>, tensor<2x1x3x3x!w>, tensor<2xi32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
func.func @matmul_result_shape(%a: tensor<4x2x!a>, %w: tensor<2x3x!w>, %b: tensor<3xi32>) {
  // expected-error @+1 {{result must be 4x3 (a's rows, b's columns)}}
  %y = quarc.qmatmul %a, %w, %b : (tensor<4x2x!a>, tensor<2x3x!w>, tensor<3xi32>) -> tensor<4x2xf32>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
func.func @clamp_float_result(%a: tensor<4x2x!a>, %w: tensor<2x3x!w>, %b: tensor<3xi32>) {
  // expected-error @+1 {{clamp_min and clamp_max need a quantized result}}
  %y = quarc.qmatmul %a, %w, %b {clamp_min = 0 : i64} : (tensor<4x2x!a>, tensor<2x3x!w>, tensor<3xi32>) -> tensor<4x3xf32>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 0.05:10>
func.func @clamp_outside_storage(%a: tensor<4x2x!a>, %w: tensor<2x3x!w>, %b: tensor<3xi32>) {
  // expected-error @+1 {{clamp range [-5, 255] is empty or outside the storage range}}
  %y = quarc.qmatmul %a, %w, %b {clamp_min = -5 : i64} : (tensor<4x2x!a>, tensor<2x3x!w>, tensor<3xi32>) -> tensor<4x3x!y>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
!b = !quant.uniform<i16:f32, 0.5>
func.func @qadd_16bit_operand(%a: tensor<4x!a>, %b: tensor<4x!b>) {
  // expected-error @+1 {{b must hold per-tensor !quant.uniform values of f32 with at most 8 bits}}
  %y = quarc.qadd %a, %b : (tensor<4x!a>, tensor<4x!b>) -> tensor<4x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
func.func @qmul_shape(%a: tensor<4x!a>, %b: tensor<3x!a>) {
  // expected-error @+1 {{operands cannot be broadcast: dim 0 is 4 and 3}}
  %y = quarc.qmul %a, %b : (tensor<4x!a>, tensor<3x!a>) -> tensor<4x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
func.func @qadd_result_shape(%a: tensor<4x1x!a>, %b: tensor<3x!a>) {
  // expected-error @+1 {{result shape must be the broadcast of the operands'}}
  %y = quarc.qadd %a, %b : (tensor<4x1x!a>, tensor<3x!a>) -> tensor<4x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
func.func @qadd_float_result(%a: tensor<4x!a>, %b: tensor<4x!a>) {
  // expected-error @+1 {{result #0 must be ranked tensor of quantized type values}}
  %y = quarc.qadd %a, %b : (tensor<4x!a>, tensor<4x!a>) -> tensor<4xf32>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
func.func @qadd_clamp(%a: tensor<4x!a>, %b: tensor<4x!a>) {
  // expected-error @+1 {{clamp range [300, 255] is empty or outside the storage range}}
  %y = quarc.qadd %a, %b {clamp_min = 300 : i64} : (tensor<4x!a>, tensor<4x!a>) -> tensor<4x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<u8:f32:0, {0.5, 0.25}>
func.func @requantize_per_axis(%x: tensor<2x!w>) {
  // expected-error @+1 {{input must hold per-tensor !quant.uniform values of f32 with at most 16 bits}}
  %y = quarc.requantize %x : tensor<2x!w> -> tensor<2x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
func.func @lut_size(%x: tensor<2x!a>) {
  // expected-error @+1 {{table must have 256 entries (one per stored input value), has 2}}
  %y = quarc.lut %x {table = array<i32: 0, 1>} : tensor<2x!a> -> tensor<2x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
!s = !quant.uniform<i8:f32, 0.5>
func.func @lut_entry_range(%x: tensor<2x!s>) {
  // expected-error @+1 {{table entry -1 is outside the result's storage range [0, 255]}}
  %y = quarc.lut %x {table = array<i32: -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255>} : tensor<2x!s> -> tensor<2x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
func.func @average_pool_dynamic(%x: tensor<1x2x?x4x!a>) {
  // expected-error @+1 {{spatial dims must be static (the divisors and their multipliers are compile-time constants)}}
  %y = quarc.qaverage_pool %x {kernel_shape = array<i64: 2, 2>} : tensor<1x2x?x4x!a> -> tensor<1x2x?x3x!a>
  return
}

// -----

!a = !quant.uniform<u8:f32, 0.5:10>
func.func @average_pool_shape(%x: tensor<1x2x4x4x!a>) {
  // expected-error @+1 {{result shape differs from the pooling's (1x2x3x3)}}
  %y = quarc.qaverage_pool %x {kernel_shape = array<i64: 2, 2>} : tensor<1x2x4x4x!a> -> tensor<1x2x2x2x!a>
  return
}

// -----

!w = !quant.uniform<i8:f32:0, {0.5, 0.25}>
func.func @dynamic_weight_axis(%a: tensor<3x2xf32>, %w: tensor<2x2x!w>, %b: none) {
  // expected-error @+1 {{b must be quantized per tensor or along axis 1 (its columns)}}
  %y = quarc.qmatmul_dynamic %a, %w, %b : (tensor<3x2xf32>, tensor<2x2x!w>, none) -> tensor<3x2xf32>
  return
}

// -----

!w = !quant.uniform<i8:f32, 0.5>
func.func @dynamic_bias(%a: tensor<3x2xf32>, %w: tensor<2x2x!w>, %b: tensor<3xf32>) {
  // expected-error @+1 {{bias must be f32 with one value per column (2), has 'tensor<3xf32>'}}
  %y = quarc.qmatmul_dynamic %a, %w, %b : (tensor<3x2xf32>, tensor<2x2x!w>, tensor<3xf32>) -> tensor<3x2xf32>
  return
}

// -----

!w = !quant.uniform<i8:f32, 0.5>
func.func @dynamic_shapes(%a: tensor<3x4xf32>, %w: tensor<2x2x!w>, %b: none) {
  // expected-error @+1 {{a has 4 columns, b 2 rows}}
  %y = quarc.qmatmul_dynamic %a, %w, %b : (tensor<3x4xf32>, tensor<2x2x!w>, none) -> tensor<3x2xf32>
  return
}

// -----

!w = !quant.uniform<u8:f32:{0:16, 1:1}, {{5.000000e-01:8}}>
func.func @weight_only_eight_bits(%a: tensor<1x16xf32>, %w: tensor<16x1x!w>) {
  %none = quarc.none
  // expected-error @+1 {{'quarc.qmatmul_weight_only' op b must hold 2- to 4-bit values of f32 quantized per group (a sub-channel type)}}
  %y = quarc.qmatmul_weight_only %a, %w, %none : (tensor<1x16xf32>, tensor<16x1x!w>, none) -> tensor<1x1xf32>
  return
}

// -----

!w = !quant.uniform<u4:f32:{0:1, 1:2}, {{5.000000e-01:8}, {5.000000e-01:8}}>
func.func @weight_only_groups_along_n(%a: tensor<1x2xf32>, %w: tensor<2x2x!w>) {
  %none = quarc.none
  // expected-error @+1 {{'quarc.qmatmul_weight_only' op b's groups must run along k (axis 0) within one column, has blocks of 2 along axis 1}}
  %y = quarc.qmatmul_weight_only %a, %w, %none : (tensor<1x2xf32>, tensor<2x2x!w>, none) -> tensor<1x2xf32>
  return
}

// -----

!w = !quant.uniform<u4:f32:{0:16, 1:1}, {{5.000000e-01:8}}>
func.func @weight_only_bias(%a: tensor<1x16xf32>, %w: tensor<16x1x!w>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'quarc.qmatmul_weight_only' op bias must be f32 with one value per column (1), has 'tensor<2xf32>'}}
  %y = quarc.qmatmul_weight_only %a, %w, %b : (tensor<1x16xf32>, tensor<16x1x!w>, tensor<2xf32>) -> tensor<1x1xf32>
  return
}

// -----

!w = !quant.uniform<u4:f32:{0:32, 1:1}, {{5.000000e-01:8}}>
func.func @weight_only_scale_shape(%a: tensor<1x64xf32>, %w: tensor<64x1x!w>) {
  %none = quarc.none
  // expected-error @+1 {{'quarc.qmatmul_weight_only' op b's scales must be 2x1 (groups of 32 along k, columns), has 'tensor<1x1xf32>'}}
  %y = quarc.qmatmul_weight_only %a, %w, %none : (tensor<1x64xf32>, tensor<64x1x!w>, none) -> tensor<1x1xf32>
  return
}

// -----

!w = !quant.uniform<u4:f32:{0:16, 1:1}, {{5.000000e-01:8}}>
func.func @weight_only_dynamic_k(%a: tensor<1x?xf32>, %w: tensor<16x1x!w>) {
  %none = quarc.none
  // expected-error @+1 {{'quarc.qmatmul_weight_only' op a's last dim (K) must be static}}
  %y = quarc.qmatmul_weight_only %a, %w, %none : (tensor<1x?xf32>, tensor<16x1x!w>, none) -> tensor<1x1xf32>
  return
}
