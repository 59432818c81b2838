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
!w = !quant.uniform<i8:f32:0, {0.25, 0.125:3}>
func.func @weight_zero_point(%x: tensor<1x1x4x4x!x>, %w: tensor<2x1x1x1x!w>, %b: tensor<2xi32>) {
  // expected-error @+1 {{weight zero points must be 0}}
  %y = quarc.qconv %x, %w, %b : (tensor<1x1x4x4x!x>, tensor<2x1x1x1x!w>, tensor<2xi32>) -> tensor<1x2x4x4xf32>
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
