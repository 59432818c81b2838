// RUN: quarc-opt %s -split-input-file | FileCheck %s
// RUN: quarc-opt %s -split-input-file | quarc-opt -split-input-file | FileCheck %s
// RUN: quarc-opt %s -split-input-file -mlir-print-op-generic | quarc-opt -split-input-file | FileCheck %s

// Round trip and result-type inference of representative ops of every family.
// Each op's declared result type is checked against its inferred one: a `?`
// declared here pins an inferred `?`, a number must equal the inferred dim or
// refine an inferred `?` (the importer tests pin fully inferred types).

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @add_broadcast_dynamic(
// CHECK: quarc.add %{{.*}}, %{{.*}} : (tensor<?x1x3xf32>, tensor<4x?xf32>) -> tensor<?x4x3xf32>
func.func @add_broadcast_dynamic(%a: tensor<?x1x3xf32>, %b: tensor<4x?xf32>) -> tensor<?x4x3xf32> {
  %r = quarc.add %a, %b : (tensor<?x1x3xf32>, tensor<4x?xf32>) -> tensor<?x4x3xf32>
  return %r : tensor<?x4x3xf32>
}

// -----

// CHECK-LABEL: func @add_result_refines_dynamic(
// CHECK: quarc.add %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
func.func @add_result_refines_dynamic(%a: tensor<?x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %r = quarc.add %a, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @equal_gives_i1(
// CHECK: quarc.equal %{{.*}}, %{{.*}} : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
func.func @equal_gives_i1(%a: tensor<2x3xi64>, %b: tensor<i64>) -> tensor<2x3xi1> {
  %r = quarc.equal %a, %b : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi1>
  return %r : tensor<2x3xi1>
}

// -----

// CHECK-LABEL: func @where_takes_x_element(
// CHECK: quarc.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3xi1>, tensor<2x1xf16>, tensor<f16>) -> tensor<2x3xf16>
func.func @where_takes_x_element(%c: tensor<3xi1>, %x: tensor<2x1xf16>, %y: tensor<f16>) -> tensor<2x3xf16> {
  %r = quarc.where %c, %x, %y : (tensor<3xi1>, tensor<2x1xf16>, tensor<f16>) -> tensor<2x3xf16>
  return %r : tensor<2x3xf16>
}

// -----

// CHECK-LABEL: func @sum_variadic(
// CHECK: quarc.sum %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>, tensor<1x1xf32>) -> tensor<2x3xf32>
func.func @sum_variadic(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<1x1xf32>) -> tensor<2x3xf32> {
  %r = quarc.sum %a, %b, %c : (tensor<2x3xf32>, tensor<3xf32>, tensor<1x1xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @unary_ops_with_attributes(
// CHECK: quarc.leaky_relu %{{.*}} {alpha = 2.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK: quarc.gelu %{{.*}} {approximate = "tanh"} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK: quarc.clip %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<f32>, none) -> tensor<4xf32>
func.func @unary_ops_with_attributes(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = quarc.leaky_relu %x {alpha = 2.0e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = quarc.gelu %0 {approximate = "tanh"} : (tensor<4xf32>) -> tensor<4xf32>
  %n = quarc.none
  %lo = quarc.constant dense<0.0> : tensor<f32>
  %2 = quarc.clip %1, %lo, %n : (tensor<4xf32>, tensor<f32>, none) -> tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @conv_strides_pads_dilations(
// CHECK: quarc.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x15x15xf32>
func.func @conv_strides_pads_dilations(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x15x15xf32> {
  %r = quarc.conv %x, %w, %b {dilations = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x15x15xf32>
  return %r : tensor<1x8x15x15xf32>
}

// -----

// CHECK-LABEL: func @conv_depthwise_group(
// CHECK: quarc.conv %{{.*}}, %{{.*}}, %{{.*}} {group = 8 : i64} : (tensor<1x8x10x10xf32>, tensor<8x1x3x3xf32>, none) -> tensor<1x8x8x8xf32>
func.func @conv_depthwise_group(%x: tensor<1x8x10x10xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {group = 8 : i64} : (tensor<1x8x10x10xf32>, tensor<8x1x3x3xf32>, none) -> tensor<1x8x8x8xf32>
  return %r : tensor<1x8x8x8xf32>
}

// -----

// CHECK-LABEL: func @conv_same_upper_stride2(
// CHECK: quarc.conv %{{.*}}, %{{.*}}, %{{.*}} {auto_pad = "SAME_UPPER", strides = array<i64: 2, 2>} : (tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x4x4xf32>
func.func @conv_same_upper_stride2(%x: tensor<1x3x7x7xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {auto_pad = "SAME_UPPER", strides = array<i64: 2, 2>} : (tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x4x4xf32>
  return %r : tensor<1x4x4x4xf32>
}

// -----

// CHECK-LABEL: func @conv_valid_ignores_pads(
// CHECK: quarc.conv %{{.*}}, %{{.*}}, %{{.*}} {auto_pad = "VALID"} : (tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x5x5xf32>
func.func @conv_valid_ignores_pads(%x: tensor<1x3x7x7xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x5x5xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {auto_pad = "VALID"} : (tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x5x5xf32>
  return %r : tensor<1x4x5x5xf32>
}

// -----

// CHECK-LABEL: func @conv_dynamic_batch_and_height(
// CHECK: quarc.conv %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x3x?x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<?x4x?x6xf32>
func.func @conv_dynamic_batch_and_height(%x: tensor<?x3x?x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x4x?x6xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n : (tensor<?x3x?x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<?x4x?x6xf32>
  return %r : tensor<?x4x?x6xf32>
}

// -----

// CHECK-LABEL: func @conv_1d(
// CHECK: quarc.conv %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x3x10xf32>, tensor<2x3x3xf32>, none) -> tensor<1x2x8xf32>
func.func @conv_1d(%x: tensor<1x3x10xf32>, %w: tensor<2x3x3xf32>) -> tensor<1x2x8xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n : (tensor<1x3x10xf32>, tensor<2x3x3xf32>, none) -> tensor<1x2x8xf32>
  return %r : tensor<1x2x8xf32>
}

// -----

// CHECK-LABEL: func @conv_transpose_stride2_pads_output_padding(
// CHECK: quarc.conv_transpose %{{.*}}, %{{.*}}, %{{.*}} {output_padding = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x2x10x10xf32>
func.func @conv_transpose_stride2_pads_output_padding(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x10x10xf32> {
  %n = quarc.none
  %r = quarc.conv_transpose %x, %w, %n {output_padding = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x2x10x10xf32>
  return %r : tensor<1x2x10x10xf32>
}

// -----

// CHECK-LABEL: func @conv_transpose_group_multiplies_channels(
// CHECK: quarc.conv_transpose %{{.*}}, %{{.*}}, %{{.*}} {group = 2 : i64} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x4x7x7xf32>
func.func @conv_transpose_group_multiplies_channels(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x7x7xf32> {
  %n = quarc.none
  %r = quarc.conv_transpose %x, %w, %n {group = 2 : i64} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x4x7x7xf32>
  return %r : tensor<1x4x7x7xf32>
}

// -----

// CHECK-LABEL: func @conv_transpose_output_shape(
// CHECK: quarc.conv_transpose %{{.*}}, %{{.*}}, %{{.*}} {output_shape = array<i64: 10, 10>, strides = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x2x10x10xf32>
func.func @conv_transpose_output_shape(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x10x10xf32> {
  %n = quarc.none
  %r = quarc.conv_transpose %x, %w, %n {output_shape = array<i64: 10, 10>, strides = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x2x10x10xf32>
  return %r : tensor<1x2x10x10xf32>
}

// -----

// CHECK-LABEL: func @max_pool_ceil_mode(
// CHECK: quarc.max_pool %{{.*}} {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x6x6xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
// CHECK: quarc.max_pool %{{.*}} {ceil_mode = 1 : i64, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x6x6xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xi64>)
func.func @max_pool_ceil_mode(%x: tensor<1x1x6x6xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x3x3xf32>) {
  %floor:2 = quarc.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x6x6xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  %ceil:2 = quarc.max_pool %x {ceil_mode = 1 : i64, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x6x6xf32>) -> (tensor<1x1x3x3xf32>, tensor<1x1x3x3xi64>)
  return %floor#0, %ceil#0 : tensor<1x1x2x2xf32>, tensor<1x1x3x3xf32>
}

// -----

// With ceil_mode a last window that would start in the right padding is
// dropped: (4 + 1 - 2) / 2 rounds up to 2 windows + 1, but the third starts
// at 4, past the input.
// CHECK-LABEL: func @max_pool_ceil_mode_drops_window_in_right_pad(
// CHECK: quarc.max_pool %{{.*}} {ceil_mode = 1 : i64, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
func.func @max_pool_ceil_mode_drops_window_in_right_pad(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) {
  %r, %i = quarc.max_pool %x {ceil_mode = 1 : i64, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  return %r, %i : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>
}

// -----

// CHECK-LABEL: func @average_pool_pads(
// CHECK: quarc.average_pool %{{.*}} {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
func.func @average_pool_pads(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  %r = quarc.average_pool %x {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
  return %r : tensor<1x3x8x8xf32>
}

// -----

// CHECK-LABEL: func @global_average_pool(
// CHECK: quarc.global_average_pool %{{.*}} : (tensor<2x16x7x?xf32>) -> tensor<2x16x1x1xf32>
func.func @global_average_pool(%x: tensor<2x16x7x?xf32>) -> tensor<2x16x1x1xf32> {
  %r = quarc.global_average_pool %x : (tensor<2x16x7x?xf32>) -> tensor<2x16x1x1xf32>
  return %r : tensor<2x16x1x1xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Normalization, gemm, matmul
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @batch_and_layer_normalization(
// CHECK: quarc.batch_normalization %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f32} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
// CHECK: quarc.layer_normalization %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>, none) -> (tensor<2x3x4xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
func.func @batch_and_layer_normalization(%x: tensor<2x3x4xf32>, %p: tensor<3xf32>, %s: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %0 = quarc.batch_normalization %x, %p, %p, %p, %p {epsilon = 1.0e-03 : f32} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  %n = quarc.none
  %1:3 = quarc.layer_normalization %0, %s, %n {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<4xf32>, none) -> (tensor<2x3x4xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
  return %1#0 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func @gemm_transA_transB(
// CHECK: quarc.gemm %{{.*}}, %{{.*}}, %{{.*}} {alpha = 5.000000e-01 : f32, transA = 1 : i64, transB = 1 : i64} : (tensor<3x2xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
func.func @gemm_transA_transB(%a: tensor<3x2xf32>, %b: tensor<4x3xf32>, %c: tensor<4xf32>) -> tensor<2x4xf32> {
  %r = quarc.gemm %a, %b, %c {alpha = 5.000000e-01 : f32, transA = 1 : i64, transB = 1 : i64} : (tensor<3x2xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @matmul_1d_operands(
// CHECK: quarc.matmul %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
// CHECK: quarc.matmul %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
// CHECK: quarc.matmul %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
func.func @matmul_1d_operands(%v: tensor<3xf32>, %m: tensor<3x4xf32>, %n: tensor<2x3xf32>) -> (tensor<4xf32>, tensor<2xf32>, tensor<f32>) {
  %0 = quarc.matmul %v, %m : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
  %1 = quarc.matmul %n, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  %2 = quarc.matmul %v, %v : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  return %0, %1, %2 : tensor<4xf32>, tensor<2xf32>, tensor<f32>
}

// -----

// CHECK-LABEL: func @matmul_batch_broadcast(
// CHECK: quarc.matmul %{{.*}}, %{{.*}} : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
func.func @matmul_batch_broadcast(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32> {
  %r = quarc.matmul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
  return %r : tensor<2x5x3x6xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @reshape_copy_dim_and_infer(
// CHECK: quarc.reshape %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
func.func @reshape_copy_dim_and_infer(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %s = quarc.constant dense<[0, -1]> : tensor<2xi64>
  %r = quarc.reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  return %r : tensor<2x12xf32>
}

// -----

// CHECK-LABEL: func @reshape_dynamic_input_infer_dim(
// CHECK: quarc.reshape %{{.*}}, %{{.*}} : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x12xf32>
func.func @reshape_dynamic_input_infer_dim(%x: tensor<?x3x4xf32>) -> tensor<?x12xf32> {
  %s = quarc.constant dense<[0, -1]> : tensor<2xi64>
  %r = quarc.reshape %x, %s : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x12xf32>
  return %r : tensor<?x12xf32>
}

// -----

// CHECK-LABEL: func @reshape_unknown_shape(
// CHECK: quarc.reshape %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
func.func @reshape_unknown_shape(%x: tensor<2x3x4xf32>, %s: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %r = quarc.reshape %x, %s : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

// -----

// CHECK-LABEL: func @reshape_allowzero(
// CHECK: quarc.reshape %{{.*}}, %{{.*}} {allowzero = 1 : i64} : (tensor<0x3xf32>, tensor<2xi64>) -> tensor<3x0xf32>
func.func @reshape_allowzero(%x: tensor<0x3xf32>) -> tensor<3x0xf32> {
  %s = quarc.constant dense<[3, 0]> : tensor<2xi64>
  %r = quarc.reshape %x, %s {allowzero = 1 : i64} : (tensor<0x3xf32>, tensor<2xi64>) -> tensor<3x0xf32>
  return %r : tensor<3x0xf32>
}

// -----

// CHECK-LABEL: func @flatten_axes(
// CHECK: quarc.flatten %{{.*}} {axis = 2 : i64} : (tensor<2x3x4x5xf32>) -> tensor<6x20xf32>
// CHECK: quarc.flatten %{{.*}} {axis = 0 : i64} : (tensor<2x3x4x5xf32>) -> tensor<1x120xf32>
// CHECK: quarc.flatten %{{.*}} : (tensor<2x?x4xf32>) -> tensor<2x?xf32>
func.func @flatten_axes(%x: tensor<2x3x4x5xf32>, %d: tensor<2x?x4xf32>) -> (tensor<6x20xf32>, tensor<1x120xf32>, tensor<2x?xf32>) {
  %0 = quarc.flatten %x {axis = 2 : i64} : (tensor<2x3x4x5xf32>) -> tensor<6x20xf32>
  %1 = quarc.flatten %x {axis = 0 : i64} : (tensor<2x3x4x5xf32>) -> tensor<1x120xf32>
  %2 = quarc.flatten %d : (tensor<2x?x4xf32>) -> tensor<2x?xf32>
  return %0, %1, %2 : tensor<6x20xf32>, tensor<1x120xf32>, tensor<2x?xf32>
}

// -----

// CHECK-LABEL: func @transpose_default_perm_reverses(
// CHECK: quarc.transpose %{{.*}} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
// CHECK: quarc.transpose %{{.*}} {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
func.func @transpose_default_perm_reverses(%x: tensor<2x3x4xf32>) -> (tensor<4x3x2xf32>, tensor<3x2x4xf32>) {
  %0 = quarc.transpose %x : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  %1 = quarc.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0, %1 : tensor<4x3x2xf32>, tensor<3x2x4xf32>
}

// -----

// CHECK-LABEL: func @squeeze_unsqueeze(
// CHECK: quarc.squeeze %{{.*}}, %{{.*}} : (tensor<1x3x1x?xf32>, tensor<1xi64>) -> tensor<3x1x?xf32>
// CHECK: quarc.squeeze %{{.*}}, %{{.*}} : (tensor<1x3x1x?xf32>, tensor<2xi64>) -> tensor<3x?xf32>
// CHECK: quarc.unsqueeze %{{.*}}, %{{.*}} : (tensor<1x3x1x?xf32>, tensor<2xi64>) -> tensor<1x1x3x1x?x1xf32>
func.func @squeeze_unsqueeze(%x: tensor<1x3x1x?xf32>) -> (tensor<3x1x?xf32>, tensor<3x?xf32>, tensor<1x1x3x1x?x1xf32>) {
  %axes = quarc.constant dense<0> : tensor<1xi64>
  %n = quarc.none
  %0 = quarc.squeeze %x, %axes : (tensor<1x3x1x?xf32>, tensor<1xi64>) -> tensor<3x1x?xf32>
  %neg = quarc.constant dense<[-4, 2]> : tensor<2xi64>
  %1 = quarc.squeeze %x, %neg : (tensor<1x3x1x?xf32>, tensor<2xi64>) -> tensor<3x?xf32>
  %uaxes = quarc.constant dense<[0, -1]> : tensor<2xi64>
  %2 = quarc.unsqueeze %x, %uaxes : (tensor<1x3x1x?xf32>, tensor<2xi64>) -> tensor<1x1x3x1x?x1xf32>
  return %0, %1, %2 : tensor<3x1x?xf32>, tensor<3x?xf32>, tensor<1x1x3x1x?x1xf32>
}

// -----

// CHECK-LABEL: func @squeeze_all_unit_dims(
// CHECK: quarc.squeeze %{{.*}}, %{{.*}} : (tensor<1x3x1x4xf32>, none) -> tensor<3x4xf32>
func.func @squeeze_all_unit_dims(%x: tensor<1x3x1x4xf32>) -> tensor<3x4xf32> {
  %n = quarc.none
  %r = quarc.squeeze %x, %n : (tensor<1x3x1x4xf32>, none) -> tensor<3x4xf32>
  return %r : tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func @concat_dynamic(
// CHECK: quarc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<2x?xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
// CHECK: quarc.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = -2 : i64} : (tensor<2x?xf32>, tensor<3x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
func.func @concat_dynamic(%a: tensor<2x?xf32>, %b: tensor<3x4xf32>, %c: tensor<?x4xf32>) -> (tensor<5x4xf32>, tensor<?x4xf32>) {
  %0 = quarc.concat %a, %b {axis = 0 : i64} : (tensor<2x?xf32>, tensor<3x4xf32>) -> tensor<5x4xf32>
  %1 = quarc.concat %a, %b, %c {axis = -2 : i64} : (tensor<2x?xf32>, tensor<3x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %0, %1 : tensor<5x4xf32>, tensor<?x4xf32>
}

// -----

// CHECK-LABEL: func @split_sizes_and_num_outputs(
// CHECK: quarc.split %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x5xf32>, tensor<2xi64>) -> (tensor<2x1xf32>, tensor<2x4xf32>)
// CHECK: quarc.split %{{.*}}, %{{.*}} {axis = -1 : i64, num_outputs = 2 : i64} : (tensor<2x5xf32>, none) -> (tensor<2x3xf32>, tensor<2x2xf32>)
func.func @split_sizes_and_num_outputs(%x: tensor<2x5xf32>) -> (tensor<2x1xf32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x2xf32>) {
  %s = quarc.constant dense<[1, 4]> : tensor<2xi64>
  %0:2 = quarc.split %x, %s {axis = 1 : i64} : (tensor<2x5xf32>, tensor<2xi64>) -> (tensor<2x1xf32>, tensor<2x4xf32>)
  %n = quarc.none
  %1:2 = quarc.split %x, %n {axis = -1 : i64, num_outputs = 2 : i64} : (tensor<2x5xf32>, none) -> (tensor<2x3xf32>, tensor<2x2xf32>)
  return %0#0, %0#1, %1#0, %1#1 : tensor<2x1xf32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func @split_unknown_sizes(
// CHECK: quarc.split %{{.*}}, %{{.*}} : (tensor<2x5xf32>, tensor<2xi64>) -> (tensor<?x5xf32>, tensor<?x5xf32>)
func.func @split_unknown_sizes(%x: tensor<2x5xf32>, %s: tensor<2xi64>) -> (tensor<?x5xf32>, tensor<?x5xf32>) {
  %0:2 = quarc.split %x, %s : (tensor<2x5xf32>, tensor<2xi64>) -> (tensor<?x5xf32>, tensor<?x5xf32>)
  return %0#0, %0#1 : tensor<?x5xf32>, tensor<?x5xf32>
}

// -----

// CHECK-LABEL: func @slice_negative_step_int64_extremes(
// CHECK: quarc.slice %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, none, tensor<1xi64>) -> tensor<10x8xf32>
// CHECK: quarc.slice %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<9x8xf32>
// CHECK: quarc.slice %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<10x3xf32>
func.func @slice_negative_step_int64_extremes(%x: tensor<10x8xf32>) -> (tensor<10x8xf32>, tensor<9x8xf32>, tensor<10x3xf32>) {
  %none = quarc.none
  %start = quarc.constant dense<-1> : tensor<1xi64>
  %int64min = quarc.constant dense<-9223372036854775808> : tensor<1xi64>
  %step = quarc.constant dense<-1> : tensor<1xi64>
  %0 = quarc.slice %x, %start, %int64min, %none, %step : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, none, tensor<1xi64>) -> tensor<10x8xf32>
  %one = quarc.constant dense<1> : tensor<1xi64>
  %int64max = quarc.constant dense<9223372036854775807> : tensor<1xi64>
  %1 = quarc.slice %x, %one, %int64max, %none, %none : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<9x8xf32>
  %zero = quarc.constant dense<0> : tensor<1xi64>
  %axis1 = quarc.constant dense<-1> : tensor<1xi64>
  %three = quarc.constant dense<3> : tensor<1xi64>
  %2 = quarc.slice %x, %zero, %int64max, %axis1, %three : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<10x3xf32>
  return %0, %1, %2 : tensor<10x8xf32>, tensor<9x8xf32>, tensor<10x3xf32>
}

// -----

// CHECK-LABEL: func @slice_negative_step_partial(
// CHECK: quarc.slice %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, none, tensor<1xi64>) -> tensor<3xf32>
func.func @slice_negative_step_partial(%x: tensor<10xf32>) -> tensor<3xf32> {
  %none = quarc.none
  %start = quarc.constant dense<8> : tensor<1xi64>
  %end = quarc.constant dense<1> : tensor<1xi64>
  %step = quarc.constant dense<-3> : tensor<1xi64>
  %r = quarc.slice %x, %start, %end, %none, %step : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, none, tensor<1xi64>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

// CHECK-LABEL: func @slice_unknown_starts(
// CHECK: quarc.slice %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<10x?xf32>
func.func @slice_unknown_starts(%x: tensor<10x8xf32>, %s: tensor<1xi64>) -> tensor<10x?xf32> {
  %e = quarc.constant dense<5> : tensor<1xi64>
  %a = quarc.constant dense<1> : tensor<1xi64>
  %none = quarc.none
  %r = quarc.slice %x, %s, %e, %a, %none : (tensor<10x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<10x?xf32>
  return %r : tensor<10x?xf32>
}

// -----

// CHECK-LABEL: func @gather_axis1_and_scalar_index(
// CHECK: quarc.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<5x4x3xf32>, tensor<2x2xi64>) -> tensor<5x2x2x3xf32>
// CHECK: quarc.gather %{{.*}}, %{{.*}} : (tensor<5x4x3xf32>, tensor<i32>) -> tensor<4x3xf32>
func.func @gather_axis1_and_scalar_index(%x: tensor<5x4x3xf32>, %i: tensor<2x2xi64>, %s: tensor<i32>) -> (tensor<5x2x2x3xf32>, tensor<4x3xf32>) {
  %0 = quarc.gather %x, %i {axis = 1 : i64} : (tensor<5x4x3xf32>, tensor<2x2xi64>) -> tensor<5x2x2x3xf32>
  %1 = quarc.gather %x, %s : (tensor<5x4x3xf32>, tensor<i32>) -> tensor<4x3xf32>
  return %0, %1 : tensor<5x2x2x3xf32>, tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func @expand_and_tile(
// CHECK: quarc.expand %{{.*}}, %{{.*}} : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
// CHECK: quarc.tile %{{.*}}, %{{.*}} : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<6x2xf32>
func.func @expand_and_tile(%x: tensor<3x1xf32>) -> (tensor<2x3x4xf32>, tensor<6x2xf32>) {
  %s = quarc.constant dense<[2, 1, 4]> : tensor<3xi64>
  %0 = quarc.expand %x, %s : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %rep = quarc.constant dense<[2, 2]> : tensor<2xi64>
  %1 = quarc.tile %x, %rep : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<6x2xf32>
  return %0, %1 : tensor<2x3x4xf32>, tensor<6x2xf32>
}

// -----

// CHECK-LABEL: func @pad_modes_and_axes(
// CHECK: quarc.pad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<4xi64>, tensor<f32>, none) -> tensor<4x5xf32>
// CHECK: quarc.pad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {mode = "reflect"} : (tensor<2x3xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<2x7xf32>
func.func @pad_modes_and_axes(%x: tensor<2x3xf32>) -> (tensor<4x5xf32>, tensor<2x7xf32>) {
  %pads = quarc.constant dense<[1, 0, 1, 2]> : tensor<4xi64>
  %v = quarc.constant dense<1.5> : tensor<f32>
  %none = quarc.none
  %0 = quarc.pad %x, %pads, %v, %none : (tensor<2x3xf32>, tensor<4xi64>, tensor<f32>, none) -> tensor<4x5xf32>
  %apads = quarc.constant dense<[2, 2]> : tensor<2xi64>
  %axes = quarc.constant dense<-1> : tensor<1xi64>
  %1 = quarc.pad %x, %apads, %none, %axes {mode = "reflect"} : (tensor<2x3xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<2x7xf32>
  return %0, %1 : tensor<4x5xf32>, tensor<2x7xf32>
}

// -----

// CHECK-LABEL: func @resize_scales_sizes_axes(
// CHECK: quarc.resize %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {mode = "linear"} : (tensor<1x3x4x5xf32>, none, tensor<4xf32>, none) -> tensor<1x3x8x7xf32>
// CHECK: quarc.resize %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x3x4x5xf32>, none, none, tensor<4xi64>) -> tensor<1x3x6x6xf32>
// CHECK: quarc.resize %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {axes = array<i64: 3>, coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"} : (tensor<1x3x4x5xf32>, none, tensor<1xf32>, none) -> tensor<1x3x4x10xf32>
func.func @resize_scales_sizes_axes(%x: tensor<1x3x4x5xf32>) -> (tensor<1x3x8x7xf32>, tensor<1x3x6x6xf32>, tensor<1x3x4x10xf32>) {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 1.5]> : tensor<4xf32>
  %0 = quarc.resize %x, %none, %scales, %none {mode = "linear"} : (tensor<1x3x4x5xf32>, none, tensor<4xf32>, none) -> tensor<1x3x8x7xf32>
  %sizes = quarc.constant dense<[1, 3, 6, 6]> : tensor<4xi64>
  %1 = quarc.resize %x, %none, %none, %sizes : (tensor<1x3x4x5xf32>, none, none, tensor<4xi64>) -> tensor<1x3x6x6xf32>
  %s1 = quarc.constant dense<2.0> : tensor<1xf32>
  %2 = quarc.resize %x, %none, %s1, %none {axes = array<i64: 3>, coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"} : (tensor<1x3x4x5xf32>, none, tensor<1xf32>, none) -> tensor<1x3x4x10xf32>
  return %0, %1, %2 : tensor<1x3x8x7xf32>, tensor<1x3x6x6xf32>, tensor<1x3x4x10xf32>
}

// -----

// CHECK-LABEL: func @shape_start_end(
// CHECK: quarc.shape %{{.*}} : (tensor<2x?x4x5xf32>) -> tensor<4xi64>
// CHECK: quarc.shape %{{.*}} {end = -1 : i64, start = 1 : i64} : (tensor<2x?x4x5xf32>) -> tensor<2xi64>
// CHECK: quarc.shape %{{.*}} {end = 1 : i64, start = 3 : i64} : (tensor<2x?x4x5xf32>) -> tensor<0xi64>
func.func @shape_start_end(%x: tensor<2x?x4x5xf32>) -> (tensor<4xi64>, tensor<2xi64>, tensor<0xi64>) {
  %0 = quarc.shape %x : (tensor<2x?x4x5xf32>) -> tensor<4xi64>
  %1 = quarc.shape %x {end = -1 : i64, start = 1 : i64} : (tensor<2x?x4x5xf32>) -> tensor<2xi64>
  %2 = quarc.shape %x {end = 1 : i64, start = 3 : i64} : (tensor<2x?x4x5xf32>) -> tensor<0xi64>
  return %0, %1, %2 : tensor<4xi64>, tensor<2xi64>, tensor<0xi64>
}

// -----

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @reduce_keepdims(
// CHECK: quarc.reduce_mean %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<2x1x4xf32>
// CHECK: quarc.reduce_sum %{{.*}}, %{{.*}} {keepdims = 0 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2xf32>
// CHECK: quarc.reduce_max %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, none) -> tensor<1x1x1xf32>
// CHECK: quarc.reduce_l2 %{{.*}}, %{{.*}} {noop_with_empty_axes = 1 : i64} : (tensor<2x3x4xf32>, none) -> tensor<2x3x4xf32>
func.func @reduce_keepdims(%x: tensor<2x3x4xf32>) -> (tensor<2x1x4xf32>, tensor<2xf32>, tensor<1x1x1xf32>, tensor<2x3x4xf32>) {
  %axes = quarc.constant dense<1> : tensor<1xi64>
  %0 = quarc.reduce_mean %x, %axes : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<2x1x4xf32>
  %two = quarc.constant dense<[-1, 1]> : tensor<2xi64>
  %1 = quarc.reduce_sum %x, %two {keepdims = 0 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2xf32>
  %none = quarc.none
  %2 = quarc.reduce_max %x, %none : (tensor<2x3x4xf32>, none) -> tensor<1x1x1xf32>
  %3 = quarc.reduce_l2 %x, %none {noop_with_empty_axes = 1 : i64} : (tensor<2x3x4xf32>, none) -> tensor<2x3x4xf32>
  return %0, %1, %2, %3 : tensor<2x1x4xf32>, tensor<2xf32>, tensor<1x1x1xf32>, tensor<2x3x4xf32>
}

// -----

// Axes known only at run time: every dim may be reduced, so all are `?`;
// without keepdims the rank drops by the number of axes.
// CHECK-LABEL: func @reduce_unknown_axes(
// CHECK: quarc.reduce_prod %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<?x?xf32>
// CHECK: quarc.reduce_min %{{.*}}, %{{.*}} {keepdims = 0 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<?xf32>
func.func @reduce_unknown_axes(%x: tensor<2x3xf32>, %axes: tensor<1xi64>) -> (tensor<?x?xf32>, tensor<?xf32>) {
  %0 = quarc.reduce_prod %x, %axes : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<?x?xf32>
  %1 = quarc.reduce_min %x, %axes {keepdims = 0 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0, %1 : tensor<?x?xf32>, tensor<?xf32>
}

// -----

// CHECK-LABEL: func @arg_max_keepdims(
// CHECK: quarc.arg_max %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x1x4xi64>
// CHECK: quarc.arg_min %{{.*}} {axis = -1 : i64, keepdims = 0 : i64, select_last_index = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
func.func @arg_max_keepdims(%x: tensor<2x3x4xf32>) -> (tensor<2x1x4xi64>, tensor<2x3xi64>) {
  %0 = quarc.arg_max %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x1x4xi64>
  %1 = quarc.arg_min %x {axis = -1 : i64, keepdims = 0 : i64, select_last_index = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
  return %0, %1 : tensor<2x1x4xi64>, tensor<2x3xi64>
}

// -----

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @lstm_bidirectional(
// CHECK: quarc.lstm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {direction = "bidirectional", hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<2x32x4xf32>, tensor<2x32x8xf32>, tensor<2x64xf32>, none, none, none, none) -> (tensor<5x2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>)
func.func @lstm_bidirectional(%x: tensor<5x2x4xf32>, %w: tensor<2x32x4xf32>, %r: tensor<2x32x8xf32>, %b: tensor<2x64xf32>) -> (tensor<5x2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>) {
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %b, %none, %none, %none, %none {direction = "bidirectional", hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<2x32x4xf32>, tensor<2x32x8xf32>, tensor<2x64xf32>, none, none, none, none) -> (tensor<5x2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>)
  return %y, %yh, %yc : tensor<5x2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>
}

// -----

// CHECK-LABEL: func @lstm_batch_first_layout(
// CHECK: quarc.lstm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {hidden_size = 8 : i64, layout = 1 : i64} : (tensor<2x5x4xf32>, tensor<1x32x4xf32>, tensor<1x32x8xf32>, none, none, none, none, none) -> (tensor<2x5x1x8xf32>, tensor<2x1x8xf32>, tensor<2x1x8xf32>)
func.func @lstm_batch_first_layout(%x: tensor<2x5x4xf32>, %w: tensor<1x32x4xf32>, %r: tensor<1x32x8xf32>) -> (tensor<2x5x1x8xf32>, tensor<2x1x8xf32>) {
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %none, %none, %none {hidden_size = 8 : i64, layout = 1 : i64} : (tensor<2x5x4xf32>, tensor<1x32x4xf32>, tensor<1x32x8xf32>, none, none, none, none, none) -> (tensor<2x5x1x8xf32>, tensor<2x1x8xf32>, tensor<2x1x8xf32>)
  return %y, %yh : tensor<2x5x1x8xf32>, tensor<2x1x8xf32>
}

// -----

// CHECK-LABEL: func @gru_forward(
// CHECK: quarc.gru %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {hidden_size = 8 : i64, linear_before_reset = 1 : i64} : (tensor<?x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>, none, none, none) -> (tensor<?x1x2x8xf32>, tensor<1x2x8xf32>)
func.func @gru_forward(%x: tensor<?x2x4xf32>, %w: tensor<1x24x4xf32>, %r: tensor<1x24x8xf32>) -> (tensor<?x1x2x8xf32>, tensor<1x2x8xf32>) {
  %none = quarc.none
  %y, %yh = quarc.gru %x, %w, %r, %none, %none, %none {hidden_size = 8 : i64, linear_before_reset = 1 : i64} : (tensor<?x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>, none, none, none) -> (tensor<?x1x2x8xf32>, tensor<1x2x8xf32>)
  return %y, %yh : tensor<?x1x2x8xf32>, tensor<1x2x8xf32>
}

// -----

// CHECK-LABEL: func @rnn_reverse_batch_first(
// CHECK: quarc.rnn %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {activations = ["Relu"], direction = "reverse", hidden_size = 8 : i64, layout = 1 : i64} : (tensor<2x5x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>, tensor<1x16xf32>, tensor<2xi32>, none) -> (tensor<2x5x1x8xf32>, tensor<2x1x8xf32>)
func.func @rnn_reverse_batch_first(%x: tensor<2x5x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>, %b: tensor<1x16xf32>, %lens: tensor<2xi32>) -> (tensor<2x5x1x8xf32>, tensor<2x1x8xf32>) {
  %none = quarc.none
  %y, %yh = quarc.rnn %x, %w, %r, %b, %lens, %none {activations = ["Relu"], direction = "reverse", hidden_size = 8 : i64, layout = 1 : i64} : (tensor<2x5x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>, tensor<1x16xf32>, tensor<2xi32>, none) -> (tensor<2x5x1x8xf32>, tensor<2x1x8xf32>)
  return %y, %yh : tensor<2x5x1x8xf32>, tensor<2x1x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @if_joins_branch_shapes(
// CHECK: quarc.if %{{.*}} : tensor<i1> -> tensor<?x3xf32> {
// CHECK: quarc.relu %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: quarc.yield %{{.*}} : tensor<2x3xf32>
// CHECK: } else {
// CHECK: quarc.yield %{{.*}} : tensor<4x3xf32>
func.func @if_joins_branch_shapes(%c: tensor<i1>, %a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<?x3xf32> {
  %r = quarc.if %c : tensor<i1> -> tensor<?x3xf32> {
    %0 = quarc.relu %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
    quarc.yield %0 : tensor<2x3xf32>
  } else {
    quarc.yield %b : tensor<4x3xf32>
  }
  return %r : tensor<?x3xf32>
}

// -----

// CHECK-LABEL: func @loop_carried_and_scan(
// CHECK: quarc.loop(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<i64>, none, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
// CHECK: ^bb0(%{{.*}}: tensor<i64>, %{{.*}}: tensor<i1>, %{{.*}}: tensor<2xf32>):
// CHECK: quarc.add %{{.*}}, %{{.*}} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
// CHECK: quarc.yield %{{.*}}, %{{.*}}, %{{.*}} : tensor<i1>, tensor<2xf32>, tensor<2xf32>
func.func @loop_carried_and_scan(%m: tensor<i64>, %v: tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  %none = quarc.none
  %r:2 = quarc.loop(%m, %none, %v) : (tensor<i64>, none, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %acc: tensor<2xf32>):
    %next = quarc.add %acc, %acc : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    quarc.yield %cond, %next, %acc : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  }
  return %r#0, %r#1 : tensor<2xf32>, tensor<?x2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Constants, casts, utilities
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @constant_of_shape_cast_range_dropout(
// CHECK: quarc.constant_of_shape %{{.*}} {value = dense<7> : tensor<1xi32>} : (tensor<2xi64>) -> tensor<2x3xi32>
// CHECK: quarc.constant_of_shape %{{.*}} : (tensor<2xi64>) -> tensor<2x3xf32>
// CHECK: quarc.cast %{{.*}} {to = f16} : (tensor<4xf32>) -> tensor<4xf16>
// CHECK: quarc.range %{{.*}}, %{{.*}}, %{{.*}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<5xi64>
// CHECK: quarc.dropout %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4xf32>, none, none) -> (tensor<4xf32>, tensor<4xi1>)
func.func @constant_of_shape_cast_range_dropout(%x: tensor<4xf32>) -> (tensor<2x3xi32>, tensor<2x3xf32>, tensor<4xf16>, tensor<5xi64>, tensor<4xf32>, tensor<4xi1>) {
  %s = quarc.constant dense<[2, 3]> : tensor<2xi64>
  %0 = quarc.constant_of_shape %s {value = dense<7> : tensor<1xi32>} : (tensor<2xi64>) -> tensor<2x3xi32>
  %1 = quarc.constant_of_shape %s : (tensor<2xi64>) -> tensor<2x3xf32>
  %2 = quarc.cast %x {to = f16} : (tensor<4xf32>) -> tensor<4xf16>
  %start = quarc.constant dense<1> : tensor<i64>
  %limit = quarc.constant dense<10> : tensor<i64>
  %delta = quarc.constant dense<2> : tensor<i64>
  %3 = quarc.range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<5xi64>
  %none = quarc.none
  %4:2 = quarc.dropout %x, %none, %none : (tensor<4xf32>, none, none) -> (tensor<4xf32>, tensor<4xi1>)
  return %0, %1, %2, %3, %4#0, %4#1 : tensor<2x3xi32>, tensor<2x3xf32>, tensor<4xf16>, tensor<5xi64>, tensor<4xf32>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func @range_float_unknown(
// CHECK: quarc.range %{{.*}}, %{{.*}}, %{{.*}} : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
func.func @range_float_unknown(%start: tensor<f32>, %limit: tensor<f32>) -> tensor<?xf32> {
  %r = quarc.range %start, %limit, %start : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @quantize_dequantize_linear(
// CHECK: quarc.quantize_linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<f32>, tensor<i8>) -> tensor<2x3xi8>
// CHECK: quarc.quantize_linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>, none) -> tensor<2x3xui8>
// CHECK: quarc.dequantize_linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
// CHECK: quarc.quantize_linear %{{.*}}, %{{.*}}, %{{.*}} {output_dtype = i16} : (tensor<2x3xf32>, tensor<f32>, none) -> tensor<2x3xi16>
func.func @quantize_dequantize_linear(%x: tensor<2x3xf32>, %s: tensor<f32>, %zp: tensor<i8>, %cs: tensor<3xf32>) -> (tensor<2x3xi8>, tensor<2x3xui8>, tensor<2x3xf32>, tensor<2x3xi16>) {
  %0 = quarc.quantize_linear %x, %s, %zp : (tensor<2x3xf32>, tensor<f32>, tensor<i8>) -> tensor<2x3xi8>
  %none = quarc.none
  %1 = quarc.quantize_linear %x, %cs, %none : (tensor<2x3xf32>, tensor<3xf32>, none) -> tensor<2x3xui8>
  %2 = quarc.dequantize_linear %0, %s, %zp : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  %3 = quarc.quantize_linear %x, %s, %none {output_dtype = i16} : (tensor<2x3xf32>, tensor<f32>, none) -> tensor<2x3xi16>
  return %0, %1, %2, %3 : tensor<2x3xi8>, tensor<2x3xui8>, tensor<2x3xf32>, tensor<2x3xi16>
}

// -----

// CHECK-LABEL: func @dequantize_linear_blocked(
// CHECK: quarc.dequantize_linear %{{.*}}, %{{.*}}, %{{.*}} {block_size = 32 : i64} : (tensor<4x64xi8>, tensor<4x2xf16>, none) -> tensor<4x64xf16>
func.func @dequantize_linear_blocked(%x: tensor<4x64xi8>, %s: tensor<4x2xf16>) -> tensor<4x64xf16> {
  %none = quarc.none
  %r = quarc.dequantize_linear %x, %s, %none {axis = 1 : i64, block_size = 32 : i64} : (tensor<4x64xi8>, tensor<4x2xf16>, none) -> tensor<4x64xf16>
  return %r : tensor<4x64xf16>
}

// -----

// CHECK-LABEL: func @dynamic_quantize_linear(
// CHECK: quarc.dynamic_quantize_linear %{{.*}} : (tensor<?x8xf32>) -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>)
func.func @dynamic_quantize_linear(%x: tensor<?x8xf32>) -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) {
  %y, %s, %zp = quarc.dynamic_quantize_linear %x : (tensor<?x8xf32>) -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>)
  return %y, %s, %zp : tensor<?x8xui8>, tensor<f32>, tensor<ui8>
}

// -----

// CHECK-LABEL: func @qlinear_conv_per_channel(
// CHECK: quarc.qlinear_conv %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xui8>, tensor<f32>, tensor<ui8>, tensor<4x3x3x3xi8>, tensor<4xf32>, tensor<4xi8>, tensor<f32>, tensor<ui8>, tensor<4xi32>) -> tensor<1x4x8x8xui8>
func.func @qlinear_conv_per_channel(%x: tensor<1x3x8x8xui8>, %xs: tensor<f32>, %xzp: tensor<ui8>, %w: tensor<4x3x3x3xi8>, %ws: tensor<4xf32>, %wzp: tensor<4xi8>, %b: tensor<4xi32>) -> tensor<1x4x8x8xui8> {
  %r = quarc.qlinear_conv %x, %xs, %xzp, %w, %ws, %wzp, %xs, %xzp, %b {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x8x8xui8>, tensor<f32>, tensor<ui8>, tensor<4x3x3x3xi8>, tensor<4xf32>, tensor<4xi8>, tensor<f32>, tensor<ui8>, tensor<4xi32>) -> tensor<1x4x8x8xui8>
  return %r : tensor<1x4x8x8xui8>
}

// -----

// CHECK-LABEL: func @qlinear_matmul(
// CHECK: quarc.qlinear_matmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xi8>, tensor<f32>, tensor<i8>, tensor<3x4xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<ui8>) -> tensor<2x4xui8>
func.func @qlinear_matmul(%a: tensor<2x3xi8>, %b: tensor<3x4xi8>, %s: tensor<f32>, %zp: tensor<i8>, %yzp: tensor<ui8>) -> tensor<2x4xui8> {
  %r = quarc.qlinear_matmul %a, %s, %zp, %b, %s, %zp, %s, %yzp : (tensor<2x3xi8>, tensor<f32>, tensor<i8>, tensor<3x4xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<ui8>) -> tensor<2x4xui8>
  return %r : tensor<2x4xui8>
}

// -----

// CHECK-LABEL: func @matmul_integer_and_conv_integer(
// CHECK: quarc.matmul_integer %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xui8>, tensor<3x4xi8>, tensor<ui8>, none) -> tensor<2x4xi32>
// CHECK: quarc.conv_integer %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x3x5x5xui8>, tensor<2x3x3x3xi8>, none, none) -> tensor<1x2x3x3xi32>
func.func @matmul_integer_and_conv_integer(%a: tensor<2x3xui8>, %b: tensor<3x4xi8>, %azp: tensor<ui8>, %x: tensor<1x3x5x5xui8>, %w: tensor<2x3x3x3xi8>) -> (tensor<2x4xi32>, tensor<1x2x3x3xi32>) {
  %none = quarc.none
  %0 = quarc.matmul_integer %a, %b, %azp, %none : (tensor<2x3xui8>, tensor<3x4xi8>, tensor<ui8>, none) -> tensor<2x4xi32>
  %1 = quarc.conv_integer %x, %w, %none, %none : (tensor<1x3x5x5xui8>, tensor<2x3x3x3xi8>, none, none) -> tensor<1x2x3x3xi32>
  return %0, %1 : tensor<2x4xi32>, tensor<1x2x3x3xi32>
}

// -----

// CHECK-LABEL: func @matmul_nbits_4bit(
// CHECK: quarc.matmul_nbits %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {K = 64 : i64, N = 8 : i64, accuracy_level = 4 : i64, block_size = 32 : i64} : (tensor<?x5x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8xui8>, none, none) -> tensor<?x5x8xf32>
func.func @matmul_nbits_4bit(%a: tensor<?x5x64xf32>, %b: tensor<8x2x16xui8>, %s: tensor<16xf32>, %zp: tensor<8xui8>) -> tensor<?x5x8xf32> {
  %none = quarc.none
  %r = quarc.matmul_nbits %a, %b, %s, %zp, %none, %none {K = 64 : i64, N = 8 : i64, accuracy_level = 4 : i64, block_size = 32 : i64} : (tensor<?x5x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8xui8>, none, none) -> tensor<?x5x8xf32>
  return %r : tensor<?x5x8xf32>
}

// -----

// CHECK-LABEL: func @quantize_per_tensor(
// CHECK: quarc.quantize %{{.*}} : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>>
// CHECK: quarc.storage_cast %{{.*}} : tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>> -> tensor<2x3xui8>
// CHECK: quarc.storage_cast %{{.*}} : tensor<2x3xui8> -> tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>>
// CHECK: quarc.dequantize %{{.*}} : tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>> -> tensor<2x3xf32>
func.func @quantize_per_tensor(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %q = quarc.quantize %x : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>>
  %i = quarc.storage_cast %q : tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>> -> tensor<2x3xui8>
  %q2 = quarc.storage_cast %i : tensor<2x3xui8> -> tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>>
  %r = quarc.dequantize %q2 : tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>> -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @quantize_per_axis(
// CHECK: quarc.quantize %{{.*}} : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>>
// CHECK: quarc.storage_cast %{{.*}} : tensor<2x3x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>> -> tensor<2x3xi8>
// CHECK: quarc.storage_cast %{{.*}} : tensor<2x3xi8> -> tensor<2x3x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>>
// CHECK: quarc.dequantize %{{.*}} : tensor<2x3x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>> -> tensor<2x3xf32>
func.func @quantize_per_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %q = quarc.quantize %x : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32:0, {0.1,0.2}>>
  %i = quarc.storage_cast %q : tensor<2x3x!quant.uniform<i8:f32:0, {0.1,0.2}>> -> tensor<2x3xi8>
  %q2 = quarc.storage_cast %i : tensor<2x3xi8> -> tensor<2x3x!quant.uniform<i8:f32:0, {0.1,0.2}>>
  %r = quarc.dequantize %q2 : tensor<2x3x!quant.uniform<i8:f32:0, {0.1,0.2}>> -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}


// -----

// A dynamic kernel dim of W gives a dynamic output dim.
// CHECK-LABEL: func @conv_transpose_dynamic_kernel
// CHECK: -> tensor<1x1x?x6xf32>
func.func @conv_transpose_dynamic_kernel(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x?x3xf32>) -> tensor<1x1x?x6xf32> {
  %none = quarc.none
  %0 = quarc.conv_transpose %x, %w, %none : (tensor<1x1x4x4xf32>, tensor<1x1x?x3xf32>, none) -> tensor<1x1x?x6xf32>
  return %0 : tensor<1x1x?x6xf32>
}
