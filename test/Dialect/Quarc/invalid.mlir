// RUN: quarc-opt %s -split-input-file -verify-diagnostics

// Verifier and type-inference errors of quarc ops. A failed inference is
// reported twice: the reason, then "failed to infer returned types".

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

func.func @add_incompatible_broadcast(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{operands cannot be broadcast: dim 0 is 2 and 4}}
  // expected-error @+1 {{'quarc.add' op failed to infer returned types}}
  %r = quarc.add %a, %b : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @add_wrong_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{'quarc.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<2x4xf32>'}}
  // expected-error @+1 {{'quarc.add' op failed to infer returned types}}
  %r = quarc.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

// A declared dim may refine an inferred `?`, but a static inferred dim may
// not become `?`.
func.func @add_result_less_static_than_inferred(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> {
  // expected-error @+2 {{'quarc.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<?x3xf32>'}}
  // expected-error @+1 {{'quarc.add' op failed to infer returned types}}
  %r = quarc.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %r : tensor<?x3xf32>
}

// -----

func.func @gelu_bad_approximate(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'quarc.gelu' op 'approximate' must be "none" or "tanh", got "fast"}}
  %r = quarc.gelu %x {approximate = "fast"} : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @softmax_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %r = quarc.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @clip_bound_of_other_element_type(%x: tensor<4xf32>, %lo: tensor<f16>) -> tensor<4xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.clip' op min and max must have the input's element type}}
  %r = quarc.clip %x, %lo, %none : (tensor<4xf32>, tensor<f16>, none) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @clip_bound_not_scalar(%x: tensor<4xf32>, %hi: tensor<2xf32>) -> tensor<4xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.clip' op min and max must be scalars}}
  %r = quarc.clip %x, %none, %hi : (tensor<4xf32>, none, tensor<2xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @where_branches_of_different_element_types(%c: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{'quarc.where' op X and Y must have the same element type}}
  %r = quarc.where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @prelu_slope_not_unidirectional(%x: tensor<3xf32>, %s: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'quarc.prelu' op slope must broadcast to the shape of X}}
  %r = quarc.prelu %x, %s : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Convolution, pooling, normalization, matmul
//===----------------------------------------------------------------------===//

func.func @conv_channel_mismatch(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %none = quarc.none
  // expected-error @+2 {{input has 3 channels but weight expects 2 (2 x group 1)}}
  // expected-error @+1 {{'quarc.conv' op failed to infer returned types}}
  %r = quarc.conv %x, %w, %none : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  return %r : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_channel_mismatch_with_group(%x: tensor<1x6x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %none = quarc.none
  // expected-error @+2 {{input has 6 channels but weight expects 4 (2 x group 2)}}
  // expected-error @+1 {{'quarc.conv' op failed to infer returned types}}
  %r = quarc.conv %x, %w, %none {group = 2 : i64} : (tensor<1x6x8x8xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  return %r : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_bad_auto_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %none = quarc.none
  // expected-error @+2 {{unknown auto_pad 'SAME' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)}}
  // expected-error @+1 {{'quarc.conv' op failed to infer returned types}}
  %r = quarc.conv %x, %w, %none {auto_pad = "SAME"} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  return %r : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_pads_wrong_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %none = quarc.none
  // expected-error @+2 {{'pads' has 2 values, expected 4}}
  // expected-error @+1 {{'quarc.conv' op failed to infer returned types}}
  %r = quarc.conv %x, %w, %none {pads = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  return %r : tensor<1x4x8x8xf32>
}

// -----

func.func @max_pool_without_kernel_shape(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
  // expected-error @+2 {{needs the attribute 'kernel_shape'}}
  // expected-error @+1 {{'quarc.max_pool' op failed to infer returned types}}
  %r, %i = quarc.max_pool %x : (tensor<1x3x8x8xf32>) -> (tensor<1x3x8x8xf32>, tensor<1x3x8x8xi64>)
  return %r : tensor<1x3x8x8xf32>
}

// -----

func.func @average_pool_window_larger_than_input(%x: tensor<1x3x2x2xf32>) -> tensor<1x3x1x1xf32> {
  // expected-error @+2 {{window of extent 3 does not fit spatial dim 0 of size 2 (with padding)}}
  // expected-error @+1 {{'quarc.average_pool' op failed to infer returned types}}
  %r = quarc.average_pool %x {kernel_shape = array<i64: 3, 3>} : (tensor<1x3x2x2xf32>) -> tensor<1x3x1x1xf32>
  return %r : tensor<1x3x1x1xf32>
}

// -----

func.func @batch_normalization_parameter_size(%x: tensor<2x3x4x4xf32>, %p: tensor<3xf32>, %bad: tensor<4xf32>) -> tensor<2x3x4x4xf32> {
  // expected-error @+1 {{'quarc.batch_normalization' op parameter has 4 values for 3 channels}}
  %r = quarc.batch_normalization %x, %p, %p, %bad, %p : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  return %r : tensor<2x3x4x4xf32>
}

// -----

func.func @layer_normalization_scale_not_broadcastable(%x: tensor<2x8xf32>, %s: tensor<4xf32>) -> tensor<2x8xf32> {
  %none = quarc.none
  // expected-error @+2 {{operands cannot be broadcast: dim 0 is 8 and 4}}
  // expected-error @+1 {{'quarc.layer_normalization' op Scale and B must broadcast to the normalized dims}}
  %r, %mean, %inv = quarc.layer_normalization %x, %s, %none : (tensor<2x8xf32>, tensor<4xf32>, none) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return %r : tensor<2x8xf32>
}

// -----

func.func @layer_normalization_stash_type_not_f32(%x: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  %none = quarc.none
  // expected-error @+2 {{stash_type 0 is not supported (only 1: float32)}}
  // expected-error @+1 {{'quarc.layer_normalization' op failed to infer returned types}}
  %r, %mean, %inv = quarc.layer_normalization %x, %s, %none {stash_type = 0 : i64} : (tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return %r : tensor<2x8xf32>
}

// -----

func.func @matmul_contracting_dim_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{matmul contracting dims differ: 3 and 4}}
  // expected-error @+1 {{'quarc.matmul' op failed to infer returned types}}
  %r = quarc.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %r : tensor<2x5xf32>
}

// -----

func.func @gemm_contracting_dim_mismatch_with_transB(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %none = quarc.none
  // expected-error @+2 {{contracting dims differ: 3 and 4}}
  // expected-error @+1 {{'quarc.gemm' op failed to infer returned types}}
  %r = quarc.gemm %a, %b, %none {transB = 1 : i64} : (tensor<2x3xf32>, tensor<3x4xf32>, none) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @gemm_c_not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<1x2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{C must broadcast to M x N}}
  // expected-error @+1 {{'quarc.gemm' op failed to infer returned types}}
  %r = quarc.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<1x2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

func.func @reshape_two_inferred_dims(%x: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s = quarc.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+2 {{shape has more than one -1}}
  // expected-error @+1 {{'quarc.reshape' op failed to infer returned types}}
  %r = quarc.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

func.func @reshape_element_count_mismatch(%x: tensor<2x3xf32>) -> tensor<4x2xf32> {
  %s = quarc.constant dense<[4, 2]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape 6 elements into 8}}
  // expected-error @+1 {{'quarc.reshape' op failed to infer returned types}}
  %r = quarc.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @reshape_inferred_dim_not_divisible(%x: tensor<2x3xf32>) -> tensor<4x?xf32> {
  %s = quarc.constant dense<[4, -1]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape 6 elements with a -1 dim}}
  // expected-error @+1 {{'quarc.reshape' op failed to infer returned types}}
  %r = quarc.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x?xf32>
  return %r : tensor<4x?xf32>
}

// -----

func.func @transpose_repeated_perm(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+2 {{perm is not a permutation of 0..1}}
  // expected-error @+1 {{'quarc.transpose' op failed to infer returned types}}
  %r = quarc.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

func.func @transpose_perm_wrong_length(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{perm has 3 entries for rank 2}}
  // expected-error @+1 {{'quarc.transpose' op failed to infer returned types}}
  %r = quarc.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @squeeze_non_unit_dim(%x: tensor<2x1xf32>) -> tensor<1xf32> {
  %axes = quarc.constant dense<0> : tensor<1xi64>
  // expected-error @+2 {{cannot squeeze dim 0 of size 2}}
  // expected-error @+1 {{'quarc.squeeze' op failed to infer returned types}}
  %r = quarc.squeeze %x, %axes : (tensor<2x1xf32>, tensor<1xi64>) -> tensor<1xf32>
  return %r : tensor<1xf32>
}

// -----

func.func @unsqueeze_repeated_axis(%x: tensor<3xf32>) -> tensor<1x1x3xf32> {
  %axes = quarc.constant dense<[0, 0]> : tensor<2xi64>
  // expected-error @+2 {{axis 0 is repeated}}
  // expected-error @+1 {{'quarc.unsqueeze' op failed to infer returned types}}
  %r = quarc.unsqueeze %x, %axes : (tensor<3xf32>, tensor<2xi64>) -> tensor<1x1x3xf32>
  return %r : tensor<1x1x3xf32>
}

// -----

func.func @concat_rank_mismatch(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // expected-error @+2 {{input 1 has rank 1, expected 2}}
  // expected-error @+1 {{'quarc.concat' op failed to infer returned types}}
  %r = quarc.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

func.func @concat_non_axis_dim_mismatch(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // expected-error @+2 {{input 1 has size 4 in dim 1, expected 3}}
  // expected-error @+1 {{'quarc.concat' op failed to infer returned types}}
  %r = quarc.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

func.func @split_sizes_do_not_add_up(%x: tensor<6x2xf32>) -> (tensor<2x2xf32>, tensor<3x2xf32>) {
  %s = quarc.constant dense<[2, 3]> : tensor<2xi64>
  // expected-error @+2 {{split sizes add up to 5 but the dim has size 6}}
  // expected-error @+1 {{'quarc.split' op failed to infer returned types}}
  %a, %b = quarc.split %x, %s {axis = 0 : i64} : (tensor<6x2xf32>, tensor<2xi64>) -> (tensor<2x2xf32>, tensor<3x2xf32>)
  return %a, %b : tensor<2x2xf32>, tensor<3x2xf32>
}

// -----

func.func @split_without_sizes_or_count(%x: tensor<6x2xf32>) -> tensor<6x2xf32> {
  %none = quarc.none
  // expected-error @+2 {{needs 'split' or 'num_outputs'}}
  // expected-error @+1 {{'quarc.split' op failed to infer returned types}}
  %a = quarc.split %x, %none : (tensor<6x2xf32>, none) -> tensor<6x2xf32>
  return %a : tensor<6x2xf32>
}

// -----

func.func @slice_zero_step(%x: tensor<8xf32>) -> tensor<8xf32> {
  %starts = quarc.constant dense<0> : tensor<1xi64>
  %ends = quarc.constant dense<8> : tensor<1xi64>
  %steps = quarc.constant dense<0> : tensor<1xi64>
  %none = quarc.none
  // expected-error @+2 {{slice step must not be 0}}
  // expected-error @+1 {{'quarc.slice' op failed to infer returned types}}
  %r = quarc.slice %x, %starts, %ends, %none, %steps : (tensor<8xf32>, tensor<1xi64>, tensor<1xi64>, none, tensor<1xi64>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

func.func @gather_axis_out_of_range(%x: tensor<4x5xf32>, %i: tensor<2xi64>) -> tensor<4x2xf32> {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{'quarc.gather' op failed to infer returned types}}
  %r = quarc.gather %x, %i {axis = 2 : i64} : (tensor<4x5xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @expand_not_broadcastable(%x: tensor<3xf32>) -> tensor<2x4xf32> {
  %s = quarc.constant dense<[2, 4]> : tensor<2xi64>
  // expected-error @+2 {{operands cannot be broadcast: dim 1 is 3 and 4}}
  // expected-error @+1 {{'quarc.expand' op failed to infer returned types}}
  %r = quarc.expand %x, %s : (tensor<3xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @tile_repeats_wrong_length(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %rep = quarc.constant dense<[2]> : tensor<1xi64>
  // expected-error @+2 {{repeats has 1 values for rank 2}}
  // expected-error @+1 {{'quarc.tile' op failed to infer returned types}}
  %r = quarc.tile %x, %rep : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @pad_bad_mode(%x: tensor<4xf32>) -> tensor<6xf32> {
  %pads = quarc.constant dense<[1, 1]> : tensor<2xi64>
  %none = quarc.none
  // expected-error @+1 {{'quarc.pad' op unknown mode 'symmetric' (expected constant, reflect, edge or wrap)}}
  %r = quarc.pad %x, %pads, %none, %none {mode = "symmetric"} : (tensor<4xf32>, tensor<2xi64>, none, none) -> tensor<6xf32>
  return %r : tensor<6xf32>
}

// -----

func.func @pad_wrong_pads_length(%x: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %pads = quarc.constant dense<[1, 1]> : tensor<2xi64>
  %none = quarc.none
  // expected-error @+2 {{pads has 2 values for 2 axes (expected twice as many)}}
  // expected-error @+1 {{'quarc.pad' op failed to infer returned types}}
  %r = quarc.pad %x, %pads, %none, %none : (tensor<2x4xf32>, tensor<2xi64>, none, none) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

func.func @resize_scales_and_sizes(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %sizes = quarc.constant dense<[1, 1, 4, 4]> : tensor<4xi64>
  // expected-error @+2 {{exactly one of scales and sizes must be given}}
  // expected-error @+1 {{'quarc.resize' op failed to infer returned types}}
  %r = quarc.resize %x, %none, %scales, %sizes : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, tensor<4xi64>) -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}

// -----

func.func @resize_bad_mode(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  // expected-error @+1 {{'quarc.resize' op unknown mode 'bilinear' (expected nearest, linear or cubic)}}
  %r = quarc.resize %x, %none, %scales, %none {mode = "bilinear"} : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}

// -----

func.func @resize_bad_coordinate_transformation_mode(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  // expected-error @+1 {{'quarc.resize' op unknown coordinate_transformation_mode 'corners'}}
  %r = quarc.resize %x, %none, %scales, %none {coordinate_transformation_mode = "corners"} : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}

// -----

func.func @flatten_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<6x1xf32> {
  // expected-error @+2 {{axis 3 is out of range for rank 2}}
  // expected-error @+1 {{'quarc.flatten' op failed to infer returned types}}
  %r = quarc.flatten %x {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %r : tensor<6x1xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

func.func @reduce_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %axes = quarc.constant dense<2> : tensor<1xi64>
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{'quarc.reduce_sum' op failed to infer returned types}}
  %r = quarc.reduce_sum %x, %axes : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2x1xf32>
  return %r : tensor<2x1xf32>
}

// -----

// Without keepdims, axes known only at run time must have a static length
// (it gives the result rank).
func.func @reduce_unknown_axes_of_unknown_length_without_keepdims(%x: tensor<2x3xf32>, %axes: tensor<?xi64>) -> tensor<?xf32> {
  // expected-error @+2 {{with keepdims 0, non-constant axes need a static, non-zero length}}
  // expected-error @+1 {{'quarc.reduce_mean' op failed to infer returned types}}
  %r = quarc.reduce_mean %x, %axes {keepdims = 0 : i64} : (tensor<2x3xf32>, tensor<?xi64>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

func.func @arg_max_result_not_i64(%x: tensor<2x3xf32>) -> tensor<2x1xi32> {
  // expected-error @+1 {{'quarc.arg_max' op result #0 must be ranked tensor of 64-bit signless integer values, but got 'tensor<2x1xi32>'}}
  %r = quarc.arg_max %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi32>
  return %r : tensor<2x1xi32>
}

// -----

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

func.func @lstm_bad_direction(%x: tensor<5x2x4xf32>, %w: tensor<1x32x4xf32>, %r: tensor<1x32x8xf32>) {
  %none = quarc.none
  // expected-error @+2 {{unknown direction 'both' (expected forward, reverse or bidirectional)}}
  // expected-error @+1 {{'quarc.lstm' op failed to infer returned types}}
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %none, %none, %none {direction = "both", hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x32x4xf32>, tensor<1x32x8xf32>, none, none, none, none, none) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Constants, casts, utilities
//===----------------------------------------------------------------------===//

func.func @constant_of_shape_value_of_two_elements() -> tensor<2x3xf32> {
  %s = quarc.constant dense<[2, 3]> : tensor<2xi64>
  // expected-error @+1 {{'quarc.constant_of_shape' op 'value' must have exactly one element, has 2}}
  %r = quarc.constant_of_shape %s {value = dense<[1.0, 2.0]> : tensor<2xf32>} : (tensor<2xi64>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @range_non_scalar(%start: tensor<2xi64>, %limit: tensor<i64>, %delta: tensor<i64>) -> tensor<?xi64> {
  // expected-error @+1 {{'quarc.range' op start, limit and delta must be scalars}}
  %r = quarc.range %start, %limit, %delta : (tensor<2xi64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %r : tensor<?xi64>
}

// -----

func.func @range_zero_delta() -> tensor<?xi64> {
  %start = quarc.constant dense<0> : tensor<i64>
  %limit = quarc.constant dense<4> : tensor<i64>
  %delta = quarc.constant dense<0> : tensor<i64>
  // expected-error @+2 {{delta must not be zero}}
  // expected-error @+1 {{'quarc.range' op failed to infer returned types}}
  %r = quarc.range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %r : tensor<?xi64>
}

// -----

func.func @dropout_constant_training_mode(%x: tensor<4xf32>) -> tensor<4xf32> {
  %none = quarc.none
  %true = quarc.constant dense<true> : tensor<i1>
  // expected-error @+1 {{'quarc.dropout' op training mode is not supported (quarc compiles models for inference)}}
  %y, %mask = quarc.dropout %x, %none, %true : (tensor<4xf32>, none, tensor<i1>) -> (tensor<4xf32>, tensor<4xi1>)
  return %y : tensor<4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

func.func @if_branches_yield_different_element_types(%c: tensor<i1>, %a: tensor<2xf32>, %b: tensor<2xi32>) -> tensor<2xf32> {
  // expected-error @+2 {{branches yield different types for output 0: 'tensor<2xf32>' and 'tensor<2xi32>'}}
  // expected-error @+1 {{'quarc.if' op failed to infer returned types}}
  %r = quarc.if %c : tensor<i1> -> tensor<2xf32> {
    quarc.yield %a : tensor<2xf32>
  } else {
    quarc.yield %b : tensor<2xi32>
  }
  return %r : tensor<2xf32>
}

// -----

func.func @if_branches_yield_different_counts(%c: tensor<i1>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+2 {{then_branch yields 1 values, else_branch 2}}
  // expected-error @+1 {{'quarc.if' op failed to infer returned types}}
  %r = quarc.if %c : tensor<i1> -> tensor<2xf32> {
    quarc.yield %a : tensor<2xf32>
  } else {
    quarc.yield %a, %a : tensor<2xf32>, tensor<2xf32>
  }
  return %r : tensor<2xf32>
}

// -----

func.func @if_cond_of_two_elements(%c: tensor<2xi1>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'quarc.if' op cond must have exactly one element}}
  %r = quarc.if %c : tensor<2xi1> -> tensor<2xf32> {
    quarc.yield %a : tensor<2xf32>
  } else {
    quarc.yield %a : tensor<2xf32>
  }
  return %r : tensor<2xf32>
}

// -----

func.func @loop_body_wrong_argument_count(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'quarc.loop' op body must take the iteration number, the condition and 1 carried values, has 2 arguments}}
  %r = quarc.loop(%m, %c, %v) : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32> {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>):
    quarc.yield %cond, %v : tensor<i1>, tensor<f32>
  }
  return %r : tensor<f32>
}

// -----

func.func @loop_body_yields_too_few(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<f32>) -> tensor<f32> {
  // expected-error @+2 {{body yields 1 values, needs at least 2 (condition and carried values)}}
  // expected-error @+1 {{'quarc.loop' op failed to infer returned types}}
  %r = quarc.loop(%m, %c, %v) : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32> {
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %x: tensor<f32>):
    quarc.yield %cond : tensor<i1>
  }
  return %r : tensor<f32>
}

// -----

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

func.func @quantize_linear_per_axis_scale_length(%x: tensor<2x3xf32>, %s: tensor<2xf32>) -> tensor<2x3xui8> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.quantize_linear' op y_scale has 2 values for axis 1 of size 3}}
  %r = quarc.quantize_linear %x, %s, %none : (tensor<2x3xf32>, tensor<2xf32>, none) -> tensor<2x3xui8>
  return %r : tensor<2x3xui8>
}

// -----

func.func @quantize_linear_output_dtype_differs_from_zero_point(%x: tensor<4xf32>, %s: tensor<f32>, %zp: tensor<i8>) -> tensor<4xi8> {
  // expected-error @+1 {{'quarc.quantize_linear' op output_dtype differs from the zero point's type}}
  %r = quarc.quantize_linear %x, %s, %zp {output_dtype = ui8} : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// -----

func.func @quantize_linear_blocked_scale_shape(%x: tensor<4x64xf32>, %s: tensor<4x3xf32>) -> tensor<4x64xui8> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.quantize_linear' op y_scale has size 3 in dim 1, expected 2}}
  %r = quarc.quantize_linear %x, %s, %none {axis = 1 : i64, block_size = 32 : i64} : (tensor<4x64xf32>, tensor<4x3xf32>, none) -> tensor<4x64xui8>
  return %r : tensor<4x64xui8>
}

// -----

func.func @dequantize_linear_zero_point_type(%x: tensor<4xi8>, %s: tensor<f32>, %zp: tensor<ui8>) -> tensor<4xf32> {
  // expected-error @+1 {{'quarc.dequantize_linear' op x_zero_point must have the element type of x}}
  %r = quarc.dequantize_linear %x, %s, %zp : (tensor<4xi8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @quantize_result_not_quantized(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{'quarc.quantize' op result must be a tensor of !quant types}}
  %r = quarc.quantize %x : tensor<4xf32> -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// -----

func.func @quantize_expressed_type_mismatch(%x: tensor<4xf16>) -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> {
  // expected-error @+1 {{'quarc.quantize' op the quantized type expresses 'f32', the input is 'f16'}}
  %r = quarc.quantize %x : tensor<4xf16> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
  return %r : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
}

// -----

func.func @dequantize_input_not_quantized(%x: tensor<4xi8>) -> tensor<4xf32> {
  // expected-error @+1 {{'quarc.dequantize' op input must be a tensor of !quant types}}
  %r = quarc.dequantize %x : tensor<4xi8> -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @storage_cast_signedness_mismatch(%x: tensor<4xui8>) -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> {
  // expected-error @+1 {{'quarc.storage_cast' op signedness of 'ui8' differs from the quantized storage type}}
  %r = quarc.storage_cast %x : tensor<4xui8> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
  return %r : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
}

// -----

func.func @storage_cast_width_mismatch(%x: tensor<4xi16>) -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> {
  // expected-error @+1 {{'quarc.storage_cast' op the integer side must be i8 storage}}
  %r = quarc.storage_cast %x : tensor<4xi16> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
  return %r : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
}

// -----

func.func @storage_cast_neither_side_quantized(%x: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{'quarc.storage_cast' op exactly one side must be a tensor of !quant types}}
  %r = quarc.storage_cast %x : tensor<4xi8> -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// -----

func.func @matmul_nbits_bad_bits(%a: tensor<2x32xf32>, %b: tensor<8x1x36xui8>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.matmul_nbits' op bits must be in [2, 8], got 9}}
  %r = quarc.matmul_nbits %a, %b, %s, %none, %none, %none {K = 32 : i64, N = 8 : i64, bits = 9 : i64, block_size = 32 : i64} : (tensor<2x32xf32>, tensor<8x1x36xui8>, tensor<8xf32>, none, none, none) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

func.func @matmul_nbits_bad_block_size(%a: tensor<2x32xf32>, %b: tensor<8x1x12xui8>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.matmul_nbits' op block_size must be a power of 2 >= 16, got 24}}
  %r = quarc.matmul_nbits %a, %b, %s, %none, %none, %none {K = 32 : i64, N = 8 : i64, block_size = 24 : i64} : (tensor<2x32xf32>, tensor<8x1x12xui8>, tensor<8xf32>, none, none, none) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

func.func @matmul_nbits_k_mismatch(%a: tensor<2x16xf32>, %b: tensor<8x1x16xui8>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  %none = quarc.none
  // expected-error @+2 {{A has 16 columns but K is 32}}
  // expected-error @+1 {{'quarc.matmul_nbits' op failed to infer returned types}}
  %r = quarc.matmul_nbits %a, %b, %s, %none, %none, %none {K = 32 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x16xf32>, tensor<8x1x16xui8>, tensor<8xf32>, none, none, none) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

func.func @qlinear_conv_channel_mismatch(%x: tensor<1x3x8x8xui8>, %w: tensor<4x2x3x3xi8>, %s: tensor<f32>, %xzp: tensor<ui8>, %wzp: tensor<i8>) -> tensor<1x4x6x6xui8> {
  %none = quarc.none
  // expected-error @+2 {{input has 3 channels but weight expects 2 (2 x group 1)}}
  // expected-error @+1 {{'quarc.qlinear_conv' op failed to infer returned types}}
  %r = quarc.qlinear_conv %x, %s, %xzp, %w, %s, %wzp, %s, %xzp, %none : (tensor<1x3x8x8xui8>, tensor<f32>, tensor<ui8>, tensor<4x2x3x3xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<ui8>, none) -> tensor<1x4x6x6xui8>
  return %r : tensor<1x4x6x6xui8>
}
