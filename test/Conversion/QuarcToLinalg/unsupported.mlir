// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg -verify-diagnostics

// What convert-quarc-to-linalg rejects, with the reason. A pattern that
// rejects an op reports why, then the conversion driver reports that the
// op was not legalized.

func.func @if_has_no_lowering(%c: tensor<i1>, %a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{no lowering to native code for 'quarc.if'}}
  %r = quarc.if %c : tensor<i1> -> tensor<2x3xf32> {
    %0 = quarc.relu %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
    // expected-error @+1 {{no lowering to native code for 'quarc.yield'}}
    quarc.yield %0 : tensor<2x3xf32>
  } else {
    // expected-error @+1 {{no lowering to native code for 'quarc.yield'}}
    quarc.yield %a : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}

// -----

func.func @slice_runtime_starts(%x: tensor<8xf32>, %starts: tensor<1xi64>) -> tensor<?xf32> {
  %ends = quarc.constant dense<4> : tensor<1xi64>
  %none = quarc.none
  // expected-error @+1 {{'quarc.slice' op starts must be a constant to lower to native code}}
  %0 = quarc.slice %x, %starts, %ends, %none, %none : (tensor<8xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @pad_runtime_pads(%x: tensor<4xf32>, %pads: tensor<2xi64>) -> tensor<?xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.pad' op pads must be a constant to lower to native code}}
  %0 = quarc.pad %x, %pads, %none, %none : (tensor<4xf32>, tensor<2xi64>, none, none) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @tile_runtime_repeats(%x: tensor<4xf32>, %repeats: tensor<1xi64>) -> tensor<?xf32> {
  // expected-error @+1 {{'quarc.tile' op repeats must be a constant to lower to native code}}
  %0 = quarc.tile %x, %repeats : (tensor<4xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @reduce_runtime_axes(%x: tensor<2x3xf32>, %axes: tensor<1xi64>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'quarc.reduce_sum' op axes must be a constant to lower to native code}}
  %0 = quarc.reduce_sum %x, %axes : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @reduce_l2_of_integers(%x: tensor<2x3xi32>) -> tensor<2x1xi32> {
  %axes = quarc.constant dense<1> : tensor<1xi64>
  // expected-error @+1 {{'quarc.reduce_l2' op ReduceL2 of integers does not lower to native code yet}}
  %0 = quarc.reduce_l2 %x, %axes : (tensor<2x3xi32>, tensor<1xi64>) -> tensor<2x1xi32>
  return %0 : tensor<2x1xi32>
}

// -----

func.func @resize_runtime_scales(%x: tensor<1x1x4x4xf32>, %scales: tensor<4xf32>) -> tensor<?x?x?x?xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.resize' op scales must be a constant to lower to native code}}
  %0 = quarc.resize %x, %none, %scales, %none : (tensor<1x1x4x4xf32>, none, tensor<4xf32>, none) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// -----

func.func @resize_cubic(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32> {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  // expected-error @+1 {{'quarc.resize' op mode 'cubic' does not lower to native code yet (nearest and linear do)}}
  %0 = quarc.resize %x, %none, %scales, %none {mode = "cubic"} : (tensor<1x1x4x4xf32>, none, tensor<4xf32>, none) -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}

// -----

func.func @resize_tf_crop_and_resize(%x: tensor<1x1x4x4xf32>, %roi: tensor<8xf32>) -> tensor<1x1x8x8xf32> {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  // expected-error @+1 {{'quarc.resize' op coordinate_transformation_mode 'tf_crop_and_resize' does not lower to native code yet}}
  %0 = quarc.resize %x, %roi, %scales, %none {coordinate_transformation_mode = "tf_crop_and_resize", mode = "linear"} : (tensor<1x1x4x4xf32>, tensor<8xf32>, tensor<4xf32>, none) -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}

// -----

func.func @resize_antialiased_downscale(%x: tensor<1x1x8x8xf32>) -> tensor<1x1x4x4xf32> {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 0.5, 0.5]> : tensor<4xf32>
  // expected-error @+1 {{'quarc.resize' op antialiased downscaling does not lower to native code yet}}
  %0 = quarc.resize %x, %none, %scales, %none {antialias = 1 : i64, mode = "linear"} : (tensor<1x1x8x8xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @dropout_runtime_training_mode(%x: tensor<4xf32>, %training: tensor<i1>) -> tensor<4xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.dropout' op training_mode must be a constant false to lower to native code}}
  %0:2 = quarc.dropout %x, %none, %training : (tensor<4xf32>, none, tensor<i1>) -> (tensor<4xf32>, tensor<4xi1>)
  return %0#0 : tensor<4xf32>
}
