// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg -verify-diagnostics | FileCheck %s
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg -verify-diagnostics | quarc-opt -split-input-file > /dev/null

// Convolution, pooling and normalization lowerings. The numerics of every
// configuration here were compared with onnxruntime by running the lowered
// code; these tests pin the IR shape of each path.

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

// The bias is broadcast into the accumulator; pads become a tensor.pad;
// strides and dilations are the named op's attributes; the batch stays
// dynamic.
// CHECK-DAG:   #[[CHANNEL:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @conv_bias_is_the_accumulator(
// CHECK-SAME:      %[[X:.+]]: tensor<?x3x32x32xf32>, %[[W:.+]]: tensor<8x3x3x3xf32>, %[[B:.+]]: tensor<8xf32>
// CHECK:         %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         } : tensor<?x3x32x32xf32> to tensor<?x3x34x34xf32>
// CHECK:         %[[N:.+]] = tensor.dim %[[PADDED]], %{{.+}} : tensor<?x3x34x34xf32>
// CHECK:         %[[EMPTY:.+]] = tensor.empty(%[[N]]) : tensor<?x8x15x15xf32>
// CHECK:         %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[CHANNEL]], {{.+}}]{{.*}} ins(%[[B]] : tensor<8xf32>) outs(%[[EMPTY]] : tensor<?x8x15x15xf32>)
// CHECK:         %[[CONV:.+]] = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PADDED]], %[[W]] : tensor<?x3x34x34xf32>, tensor<8x3x3x3xf32>) outs(%[[INIT]] : tensor<?x8x15x15xf32>)
// CHECK:         return %[[CONV]]
func.func @conv_bias_is_the_accumulator(%x: tensor<?x3x32x32xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<?x8x15x15xf32> {
  %r = quarc.conv %x, %w, %b {dilations = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x3x32x32xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x15x15xf32>
  return %r : tensor<?x8x15x15xf32>
}

// -----

// group == C_in with one filter per channel: a depthwise convolution on the
// weight without its unit dim; no bias, so a zero accumulator.
// CHECK-LABEL: func @conv_depthwise_collapses_weight(
// CHECK-SAME:      %[[X:.+]]: tensor<1x8x10x10xf32>, %[[W:.+]]: tensor<8x1x3x3xf32>
// CHECK:         %[[FILTER:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2], [3]] : tensor<8x1x3x3xf32> into tensor<8x3x3xf32>
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<1x8x8x8xf32>)
// CHECK:         linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[X]], %[[FILTER]] : tensor<1x8x10x10xf32>, tensor<8x3x3xf32>) outs(%[[INIT]] : tensor<1x8x8x8xf32>)
func.func @conv_depthwise_collapses_weight(%x: tensor<1x8x10x10xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {group = 8 : i64} : (tensor<1x8x10x10xf32>, tensor<8x1x3x3xf32>, none) -> tensor<1x8x8x8xf32>
  return %r : tensor<1x8x8x8xf32>
}

// -----

// Other groups split the channel dims of input, weight and accumulator.
// CHECK-LABEL: func @conv_grouped_splits_channels(
// CHECK-SAME:      %[[X:.+]]: tensor<1x8x10x10xf32>, %[[W:.+]]: tensor<6x4x3x3xf32>
// CHECK:         %[[FILTER:.+]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 4, 3, 3] : tensor<6x4x3x3xf32> into tensor<2x3x4x3x3xf32>
// CHECK:         %[[INIT:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 3, 8, 8] : tensor<1x6x8x8xf32> into tensor<1x2x3x8x8xf32>
// CHECK:         %[[INPUT:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 4, 10, 10] : tensor<1x8x10x10xf32> into tensor<1x2x4x10x10xf32>
// CHECK:         %[[CONV:.+]] = linalg.conv_2d_ngchw_gfchw {{.+}} ins(%[[INPUT]], %[[FILTER]] : tensor<1x2x4x10x10xf32>, tensor<2x3x4x3x3xf32>) outs(%[[INIT]] : tensor<1x2x3x8x8xf32>)
// CHECK:         %[[RESULT:.+]] = tensor.collapse_shape %[[CONV]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x8x8xf32> into tensor<1x6x8x8xf32>
// CHECK:         return %[[RESULT]]
func.func @conv_grouped_splits_channels(%x: tensor<1x8x10x10xf32>, %w: tensor<6x4x3x3xf32>) -> tensor<1x6x8x8xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {group = 2 : i64} : (tensor<1x8x10x10xf32>, tensor<6x4x3x3xf32>, none) -> tensor<1x6x8x8xf32>
  return %r : tensor<1x6x8x8xf32>
}

// -----

// SAME_LOWER puts the odd pad at the start.
// CHECK-LABEL: func @conv_same_lower_pads_start(
// CHECK:         tensor.pad %{{.+}} low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK:         linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%{{.+}}, %{{.+}} : tensor<1x3x9x9xf32>, tensor<4x3x3x3xf32>)
func.func @conv_same_lower_pads_start(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {auto_pad = "SAME_LOWER", strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x4x4xf32>
  return %r : tensor<1x4x4x4xf32>
}

// -----

// A 1-D convolution runs as a 2-D one of unit height.
// CHECK-LABEL: func @conv_1d_runs_as_2d(
// CHECK-SAME:      %[[X:.+]]: tensor<?x3x10xf32>, %[[W:.+]]: tensor<2x3x3xf32>
// CHECK:         %[[INPUT:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] {{.+}} : tensor<?x3x10xf32> into tensor<?x3x1x10xf32>
// CHECK:         %[[FILTER:.+]] = tensor.expand_shape %[[W]] {{\[}}[0], [1], [2, 3]] {{.+}} : tensor<2x3x3xf32> into tensor<2x3x1x3xf32>
// CHECK:         %[[CONV:.+]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[1, 2]> : tensor<2xi64>} ins(%[[INPUT]], %[[FILTER]] : tensor<?x3x1x10xf32>, tensor<2x3x1x3xf32>) outs(%{{.+}} : tensor<?x2x1x4xf32>)
// CHECK:         %[[RESULT:.+]] = tensor.collapse_shape %[[CONV]] {{\[}}[0], [1], [2, 3]] : tensor<?x2x1x4xf32> into tensor<?x2x4xf32>
// CHECK:         return %[[RESULT]]
func.func @conv_1d_runs_as_2d(%x: tensor<?x3x10xf32>, %w: tensor<2x3x3xf32>) -> tensor<?x2x4xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {strides = array<i64: 2>} : (tensor<?x3x10xf32>, tensor<2x3x3xf32>, none) -> tensor<?x2x4xf32>
  return %r : tensor<?x2x4xf32>
}

// -----

// A dynamic spatial output size is (padded - extent) / stride + 1.
// CHECK-LABEL: func @conv_dynamic_spatial_output_size(
// CHECK:         %[[PADDED:.+]] = tensor.pad
// CHECK:         } : tensor<?x3x?x8xf32> to tensor<?x3x?x10xf32>
// CHECK:         %[[N:.+]] = tensor.dim %[[PADDED]], %c0
// CHECK:         %[[H:.+]] = tensor.dim %[[PADDED]], %c2
// CHECK:         %[[SPAN:.+]] = arith.subi %[[H]], %c3
// CHECK:         %[[STEPS:.+]] = arith.divui %[[SPAN]], %c2
// CHECK:         %[[OH:.+]] = arith.addi %[[STEPS]], %c1
// CHECK:         tensor.empty(%[[N]], %[[OH]]) : tensor<?x4x?x4xf32>
// CHECK:         linalg.conv_2d_nchw_fchw
func.func @conv_dynamic_spatial_output_size(%x: tensor<?x3x?x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x4x?x4xf32> {
  %n = quarc.none
  %r = quarc.conv %x, %w, %n {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x3x?x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<?x4x?x4xf32>
  return %r : tensor<?x4x?x4xf32>
}

// -----

func.func @conv_3d_is_rejected(%x: tensor<1x3x4x4x4xf32>, %w: tensor<2x3x3x3x3xf32>) -> tensor<1x2x2x2x2xf32> {
  %n = quarc.none
  // expected-error @+1 {{only 1-D and 2-D convolutions lower to linalg; this one has 3 spatial dims}}
  %r = quarc.conv %x, %w, %n : (tensor<1x3x4x4x4xf32>, tensor<2x3x3x3x3xf32>, none) -> tensor<1x2x2x2x2xf32>
  return %r : tensor<1x2x2x2x2xf32>
}

// -----

func.func @conv_same_stride_2_on_dynamic_dim_is_rejected(%x: tensor<1x3x?x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x?x4xf32> {
  %n = quarc.none
  // expected-error @+1 {{auto_pad SAME_UPPER with stride > 1 on a dynamic spatial dim does not lower to linalg}}
  %r = quarc.conv %x, %w, %n {auto_pad = "SAME_UPPER", strides = array<i64: 2, 2>} : (tensor<1x3x?x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x?x4xf32>
  return %r : tensor<1x4x?x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

// Overlapping windows: zeros inserted between the input pixels (an
// insert_slice with strides), padding extent-1-pad before and the rest after,
// and a stride-1 convolution with the weight flipped and its channel dims
// swapped.
// CHECK-DAG:   #[[FLIP:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, -d2 + 2, -d3 + 2)>
// CHECK-LABEL: func @conv_transpose_overlapping_upsamples_input(
// CHECK-SAME:      %[[X:.+]]: tensor<1x4x5x5xf32>, %[[W:.+]]: tensor<4x2x3x3xf32>
// CHECK:         %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x4x12x12xf32>)
// CHECK:         %[[INPUT:.+]] = tensor.insert_slice %[[X]] into %[[ZEROS]][0, 0, 1, 1] [1, 4, 5, 5] [1, 1, 2, 2] : tensor<1x4x5x5xf32> into tensor<1x4x12x12xf32>
// CHECK:         %[[FILTER:.+]] = linalg.generic {indexing_maps = [#[[FLIP]], {{.+}}]{{.*}} ins(%[[W]] : tensor<4x2x3x3xf32>) outs(%{{.+}} : tensor<2x4x3x3xf32>)
// CHECK:         linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[INPUT]], %[[FILTER]] : tensor<1x4x12x12xf32>, tensor<2x4x3x3xf32>) outs(%{{.+}} : tensor<1x2x10x10xf32>)
func.func @conv_transpose_overlapping_upsamples_input(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x10x10xf32> {
  %n = quarc.none
  %r = quarc.conv_transpose %x, %w, %n {output_padding = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x2x10x10xf32>
  return %r : tensor<1x2x10x10xf32>
}

// -----

// Grouped: the flipped weight is laid out G x F/G x C/G x kh x kw.
// CHECK-DAG:   #[[FLIP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0 * 2 + d2, d1, -d3 + 2, -d4 + 2)>
// CHECK-LABEL: func @conv_transpose_grouped(
// CHECK:         tensor.pad %{{.+}} low[0, 0, 2, 2] high[0, 0, 2, 2]
// CHECK:         %[[FILTER:.+]] = linalg.generic {indexing_maps = [#[[FLIP]], {{.+}}]{{.*}} outs(%{{.+}} : tensor<2x3x2x3x3xf32>)
// CHECK:         linalg.conv_2d_ngchw_gfchw {{.+}} ins(%{{.+}}, %[[FILTER]] : tensor<1x2x2x9x9xf32>, tensor<2x3x2x3x3xf32>) outs(%{{.+}} : tensor<1x2x3x7x7xf32>)
func.func @conv_transpose_grouped(%x: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x6x7x7xf32> {
  %n = quarc.none
  %r = quarc.conv_transpose %x, %w, %n {group = 2 : i64} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x6x7x7xf32>
  return %r : tensor<1x6x7x7xf32>
}

// -----

// Stride == kernel without pads (the PP-OCR detector's upsampling): every
// input pixel writes its own 2x2 output block. Per group that is one matrix
// product (output channel x block position) x input pixels, no
// multiplications by inserted zeros, then a copy that moves the blocks into
// place and adds the bias; dynamic H and W.
// CHECK-DAG:   #[[WMAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d2)>
// CHECK-DAG:   #[[XMAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[MOVE:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d4, d6, d3, d5)>
// CHECK-DAG:   #[[BIAS:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1 * 24 + d2)>
// CHECK-LABEL: func @conv_transpose_disjoint_windows(
// CHECK-SAME:      %[[X:.+]]: tensor<?x24x?x?xf32>, %[[W:.+]]: tensor<24x24x2x2xf32>, %[[B:.+]]: tensor<24xf32>
// CHECK:         %[[GROUPED:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2], [3], [4]] {{.+}} into tensor<?x1x24x?x?xf32>
// CHECK:         %[[PIXELS:.+]] = tensor.collapse_shape %[[GROUPED]] {{\[}}[0], [1], [2], [3, 4]] : tensor<?x1x24x?x?xf32> into tensor<?x1x24x?xf32>
// CHECK:         %[[FILTER:.+]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] {{.+}} into tensor<1x24x24x2x2xf32>
// CHECK:         %[[MATRIX:.+]] = tensor.collapse_shape %[[FILTER]] {{\[}}[0], [1], [2, 3, 4]] : tensor<1x24x24x2x2xf32> into tensor<1x24x96xf32>
// CHECK:         %[[ZERO:.+]] = linalg.fill {{.+}} -> tensor<?x1x96x?xf32>
// CHECK:         %[[BLOCKS:.+]] = linalg.generic {indexing_maps = [#[[WMAP]], #[[XMAP]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[MATRIX]], %[[PIXELS]] : tensor<1x24x96xf32>, tensor<?x1x24x?xf32>) outs(%[[ZERO]] : tensor<?x1x96x?xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         %[[UNPACKED:.+]] = tensor.expand_shape %[[BLOCKS]] {{\[}}[0], [1], [2, 3, 4], [5, 6]] {{.+}} into tensor<?x1x24x2x2x?x?xf32>
// CHECK:         %[[MOVED:.+]] = linalg.generic {indexing_maps = [#[[MOVE]], #[[BIAS]], {{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[UNPACKED]], %[[B]] : tensor<?x1x24x2x2x?x?xf32>, tensor<24xf32>) outs(%{{.+}} : tensor<?x1x24x?x2x?x2xf32>)
// CHECK:           arith.addf
// CHECK:         %[[RESULT:.+]] = tensor.collapse_shape %[[MOVED]] {{\[}}[0], [1, 2], [3, 4], [5, 6]] : tensor<?x1x24x?x2x?x2xf32> into tensor<?x24x?x?xf32>
// CHECK:         return %[[RESULT]]
func.func @conv_transpose_disjoint_windows(%x: tensor<?x24x?x?xf32>, %w: tensor<24x24x2x2xf32>, %b: tensor<24xf32>) -> tensor<?x24x?x?xf32> {
  %r = quarc.conv_transpose %x, %w, %b {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<?x24x?x?xf32>, tensor<24x24x2x2xf32>, tensor<24xf32>) -> tensor<?x24x?x?xf32>
  return %r : tensor<?x24x?x?xf32>
}

// -----

// The depthwise form of the same: 24 groups of one channel.
// CHECK-LABEL: func @conv_transpose_disjoint_windows_depthwise(
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 24, 1, 5, 6]
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3], [4]] output_shape [24, 1, 1, 2, 2]
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<1x24x4x30xf32>)
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<1x24x1x5x2x6x2xf32>)
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3, 4], [5, 6]] : tensor<1x24x1x5x2x6x2xf32> into tensor<1x24x10x12xf32>
func.func @conv_transpose_disjoint_windows_depthwise(%x: tensor<1x24x5x6xf32>, %w: tensor<24x1x2x2xf32>) -> tensor<1x24x10x12xf32> {
  %n = quarc.none
  %r = quarc.conv_transpose %x, %w, %n {group = 24 : i64, strides = array<i64: 2, 2>} : (tensor<1x24x5x6xf32>, tensor<24x1x2x2xf32>, none) -> tensor<1x24x10x12xf32>
  return %r : tensor<1x24x10x12xf32>
}

// -----

func.func @conv_transpose_overlapping_dynamic_is_rejected(%x: tensor<1x4x?x5xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x?x11xf32> {
  %n = quarc.none
  // expected-error @+1 {{a transposed convolution with overlapping windows (stride other than the kernel size, dilation, pads or output_padding) on a dynamic spatial dim does not lower to linalg yet}}
  %r = quarc.conv_transpose %x, %w, %n {strides = array<i64: 2, 2>} : (tensor<1x4x?x5xf32>, tensor<4x2x3x3xf32>, none) -> tensor<1x2x?x11xf32>
  return %r : tensor<1x2x?x11xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// Pads and the fill are -inf; ceil_mode pads one more row and column at the
// end so the last window fits.
// CHECK-LABEL: func @max_pool_pads_lowest_ceil_mode(
// CHECK-SAME:      %[[X:.+]]: tensor<?x3x8x8xf32>
// CHECK:         %[[LOWEST:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 2, 2]
// CHECK:           tensor.yield %[[LOWEST]] : f32
// CHECK:         } : tensor<?x3x8x8xf32> to tensor<?x3x11x11xf32>
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[LOWEST]] : f32) outs(%{{.+}} : tensor<?x3x5x5xf32>)
// CHECK:         %[[WINDOW:.+]] = tensor.empty() : tensor<3x3xf32>
// CHECK:         %[[POOL:.+]] = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PADDED]], %[[WINDOW]] : tensor<?x3x11x11xf32>, tensor<3x3xf32>) outs(%[[INIT]] : tensor<?x3x5x5xf32>)
// CHECK:         return %[[POOL]]
func.func @max_pool_pads_lowest_ceil_mode(%x: tensor<?x3x8x8xf32>) -> tensor<?x3x5x5xf32> {
  %y, %i = quarc.max_pool %x {ceil_mode = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x3x8x8xf32>) -> (tensor<?x3x5x5xf32>, tensor<?x3x5x5xi64>)
  return %y : tensor<?x3x5x5xf32>
}

// -----

// Integer max pooling starts from the smallest value; 1-D runs as 2-D.
// CHECK-LABEL: func @max_pool_1d_int(
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0], [1], [2, 3]] {{.+}} : tensor<1x2x9xi8> into tensor<1x2x1x9xi8>
// CHECK:         %[[LOWEST:.+]] = arith.constant -128 : i8
// CHECK:         linalg.fill ins(%[[LOWEST]] : i8)
// CHECK:         linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<[1, 2]> : tensor<2xi64>} ins(%{{.+}}, %{{.+}} : tensor<1x2x1x9xi8>, tensor<1x3xi8>) outs(%{{.+}} : tensor<1x2x1x4xi8>)
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<1x2x1x4xi8> into tensor<1x2x4xi8>
func.func @max_pool_1d_int(%x: tensor<1x2x9xi8>) -> tensor<1x2x4xi8> {
  %y, %i = quarc.max_pool %x {kernel_shape = array<i64: 3>, strides = array<i64: 2>} : (tensor<1x2x9xi8>) -> (tensor<1x2x4xi8>, tensor<1x2x4xi64>)
  return %y : tensor<1x2x4xi8>
}

// -----

func.func @max_pool_used_indices_are_rejected(%x: tensor<1x1x6x6xf32>) -> tensor<1x1x2x2xi64> {
  // expected-error @+1 {{the Indices output of MaxPool does not lower to linalg yet; only Y can be used}}
  %y, %i = quarc.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x6x6xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  return %i : tensor<1x1x2x2xi64>
}

// -----

func.func @max_pool_ceil_mode_dynamic_is_rejected(%x: tensor<1x1x?x6xf32>) -> tensor<1x1x?x3xf32> {
  // expected-error @+1 {{ceil_mode on a dynamic spatial dim does not lower to linalg yet}}
  %y, %i = quarc.max_pool %x {ceil_mode = 1 : i64, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x?x6xf32>) -> (tensor<1x1x?x3xf32>, tensor<1x1x?x3xi64>)
  return %y : tensor<1x1x?x3xf32>
}

// -----

// Windows without pads all hold kernel-size cells: one constant divisor.
// CHECK-LABEL: func @average_pool_uniform_divisor(
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<?x3x3x3xf32>)
// CHECK:         %[[SUM:.+]] = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%{{.+}}, %{{.+}} : tensor<?x3x6x6xf32>, tensor<2x2xf32>) outs(%[[INIT]] : tensor<?x3x3x3xf32>)
// CHECK:         linalg.generic {{.+}} ins(%[[SUM]] : tensor<?x3x3x3xf32>)
// CHECK:           %[[COUNT:.+]] = arith.constant 4.000000e+00 : f32
// CHECK:           arith.divf %{{.+}}, %[[COUNT]] : f32
func.func @average_pool_uniform_divisor(%x: tensor<?x3x6x6xf32>) -> tensor<?x3x3x3xf32> {
  %y = quarc.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x3x6x6xf32>) -> tensor<?x3x3x3xf32>
  return %y : tensor<?x3x3x3xf32>
}

// -----

// count_include_pad = 0: the border windows count fewer cells; the divisors
// are a compile-time table over the output positions.
// CHECK-DAG:   #[[TABLE:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func @average_pool_exclude_pad_divisor_table(
// CHECK:         %[[SUM:.+]] = linalg.pooling_nchw_sum {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x2x6x5xf32>, tensor<3x3xf32>)
// CHECK:         %[[COUNTS:.+]] = arith.constant dense<{{\[}}[4.000000e+00, 6.000000e+00, 4.000000e+00], [6.000000e+00, 9.000000e+00, 6.000000e+00], [6.000000e+00, 9.000000e+00, 6.000000e+00], [4.000000e+00, 6.000000e+00, 4.000000e+00]]> : tensor<4x3xf32>
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[TABLE]], #{{.+}}]{{.*}} ins(%[[SUM]], %[[COUNTS]] : tensor<1x2x4x3xf32>, tensor<4x3xf32>)
// CHECK:           arith.divf
func.func @average_pool_exclude_pad_divisor_table(%x: tensor<1x2x4x3xf32>) -> tensor<1x2x4x3xf32> {
  %y = quarc.average_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x4x3xf32>) -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}

// -----

// count_include_pad = 1 counts the pads: 9 everywhere.
// CHECK-LABEL: func @average_pool_include_pad_uniform(
// CHECK:         linalg.pooling_nchw_sum
// CHECK:           arith.constant 9.000000e+00 : f32
// CHECK-NOT:     arith.constant dense
func.func @average_pool_include_pad_uniform(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32> {
  %y = quarc.average_pool %x {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

// Dynamic spatial sizes: the number of taps inside the input is computed
// from the output position (linalg.index) and the input size.
// CHECK-LABEL: func @average_pool_dynamic_exclude_pad(
// CHECK-SAME:      %[[X:.+]]: tensor<1x2x?x?xf32>
// CHECK:         %[[SUM:.+]] = linalg.pooling_nchw_sum
// CHECK:         %[[H:.+]] = tensor.dim %[[X]], %c2
// CHECK:         linalg.generic {{.+}} ins(%[[SUM]] : tensor<1x2x?x?xf32>)
// CHECK:           %[[OH:.+]] = linalg.index 2 : index
// CHECK:           arith.muli %[[OH]], %c2
// CHECK:           arith.subi %[[H]], %c1
// CHECK:           arith.minsi
// CHECK:           linalg.index 3 : index
// CHECK:           %[[CELLS64:.+]] = arith.index_cast %{{.+}} : index to i64
// CHECK:           %[[DIVISOR:.+]] = arith.sitofp %[[CELLS64]] : i64 to f32
// CHECK:           arith.divf %{{.+}}, %[[DIVISOR]] : f32
func.func @average_pool_dynamic_exclude_pad(%x: tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32> {
  %y = quarc.average_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  return %y : tensor<1x2x?x?xf32>
}

// -----

// A reduction over the spatial dims into N x C, divided by their (here
// dynamic) size, then the unit dims restored.
// CHECK-DAG:   #[[ROWS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func @global_average_pool_keeps_dims(
// CHECK-SAME:      %[[X:.+]]: tensor<?x8x?x?xf32>
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[ROWS]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[X]] : tensor<?x8x?x?xf32>) outs(%{{.+}} : tensor<?x8xf32>)
// CHECK:           arith.addf
// CHECK:         %[[H:.+]] = tensor.dim %[[X]], %c2
// CHECK:         %[[W:.+]] = tensor.dim %[[X]], %c3
// CHECK:         %[[HW:.+]] = arith.muli %[[H]], %[[W]] : index
// CHECK:         %[[HW64:.+]] = arith.index_cast %[[HW]] : index to i64
// CHECK:         %[[COUNT:.+]] = arith.sitofp %[[HW64]] : i64 to f32
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.+}} ins(%[[SUM]] : tensor<?x8xf32>)
// CHECK:           arith.divf %{{.+}}, %[[COUNT]] : f32
// CHECK:         %[[RESULT:.+]] = tensor.expand_shape %[[MEAN]] {{\[}}[0], [1, 2, 3]] {{.+}} : tensor<?x8xf32> into tensor<?x8x1x1xf32>
// CHECK:         return %[[RESULT]]
func.func @global_average_pool_keeps_dims(%x: tensor<?x8x?x?xf32>) -> tensor<?x8x1x1xf32> {
  %y = quarc.global_average_pool %x : (tensor<?x8x?x?xf32>) -> tensor<?x8x1x1xf32>
  return %y : tensor<?x8x1x1xf32>
}

// -----

// CHECK-LABEL: func @global_max_pool(
// CHECK:         %[[LOWEST:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         linalg.fill ins(%[[LOWEST]] : f32) outs(%{{.+}} : tensor<2x8xf32>)
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK:           arith.maximumf
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2, 3]] output_shape [2, 8, 1, 1]
func.func @global_max_pool(%x: tensor<2x8x7x7xf32>) -> tensor<2x8x1x1xf32> {
  %y = quarc.global_max_pool %x : (tensor<2x8x7x7xf32>) -> tensor<2x8x1x1xf32>
  return %y : tensor<2x8x1x1xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

// Constant parameters fold into a per-channel multiplier scale/sqrt(var+eps)
// = [1, 0.5] and offset B - mean * multiplier = [0.5, -2]: one multiply-add.
// CHECK-DAG:   #[[CHANNEL:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @batch_normalization_constant_parameters_fold(
// CHECK-SAME:      %[[X:.+]]: tensor<?x2x4x4xf32>
// CHECK-DAG:     %[[MULTIPLIER:.+]] = arith.constant dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK-DAG:     %[[OFFSET:.+]] = arith.constant dense<[5.000000e-01, -2.000000e+00]> : tensor<2xf32>
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[CHANNEL]], #[[CHANNEL]], #{{.+}}]{{.*}} ins(%[[X]], %[[MULTIPLIER]], %[[OFFSET]] : tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>) outs(%{{.+}} : tensor<?x2x4x4xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %[[M:.+]]: f32, %[[O:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[SCALED:.+]] = arith.mulf %[[IN]], %[[M]] : f32
// CHECK-NEXT:      %[[Y:.+]] = arith.addf %[[SCALED]], %[[O]] : f32
// CHECK-NEXT:      linalg.yield %[[Y]] : f32
func.func @batch_normalization_constant_parameters_fold(%x: tensor<?x2x4x4xf32>) -> tensor<?x2x4x4xf32> {
  %s = quarc.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %b = quarc.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %m = quarc.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %v = quarc.constant dense<[4.0, 1.0]> : tensor<2xf32>
  %y = quarc.batch_normalization %x, %s, %b, %m, %v {epsilon = 0.0 : f32} : (tensor<?x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2x4x4xf32>
  return %y : tensor<?x2x4x4xf32>
}

// -----

// Run-time parameters: the same multiplier and offset from one C-sized
// generic, then the per-element multiply-add.
// CHECK-LABEL: func @batch_normalization_runtime_parameters(
// CHECK-SAME:      %[[X:.+]]: tensor<1x3x5xf32>, %[[S:.+]]: tensor<3xf32>, %[[B:.+]]: tensor<3xf32>, %[[M:.+]]: tensor<3xf32>, %[[V:.+]]: tensor<3xf32>
// CHECK:         %[[PARAMS:.+]]:2 = linalg.generic {{.+}} iterator_types = ["parallel"]} ins(%[[S]], %[[B]], %[[M]], %[[V]] : {{.+}}) outs(%{{.+}}, %{{.+}} : tensor<3xf32>, tensor<3xf32>)
// CHECK:           math.sqrt
// CHECK:           arith.divf
// CHECK:         linalg.generic {{.+}} ins(%[[X]], %[[PARAMS]]#0, %[[PARAMS]]#1 : tensor<1x3x5xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.mulf
// CHECK-NEXT:      arith.addf
func.func @batch_normalization_runtime_parameters(%x: tensor<1x3x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<1x3x5xf32> {
  %y = quarc.batch_normalization %x, %s, %b, %m, %v : (tensor<1x3x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x5xf32>
  return %y : tensor<1x3x5xf32>
}

// -----

// Mean and 1/sqrt(var + eps) per (N, C) plane in two reduction passes, then
// one elementwise generic with the per-channel scale and bias.
// CHECK-DAG:   #[[PLANE:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG:   #[[CHANNEL:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @instance_normalization(
// CHECK-SAME:      %[[X:.+]]: tensor<?x3x4x5xf32>, %[[S:.+]]: tensor<3xf32>, %[[B:.+]]: tensor<3xf32>
// CHECK:         %[[COUNT:.+]] = arith.constant 2.000000e+01 : f32
// CHECK:         %[[SUM:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[X]] : tensor<?x3x4x5xf32>) outs(%{{.+}} : tensor<?x3xf32>)
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.+}} ins(%[[SUM]] : tensor<?x3xf32>)
// CHECK:           arith.divf %{{.+}}, %[[COUNT]]
// CHECK:         %[[SQUARES:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[X]], %[[MEAN]] : tensor<?x3x4x5xf32>, tensor<?x3xf32>)
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK:         %[[INVSTD:.+]] = linalg.generic {{.+}} ins(%[[SQUARES]] : tensor<?x3xf32>)
// CHECK:           math.sqrt
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[PLANE]], #[[PLANE]], #[[CHANNEL]], #[[CHANNEL]], #{{.+}}]{{.*}} ins(%[[X]], %[[MEAN]], %[[INVSTD]], %[[S]], %[[B]] :
func.func @instance_normalization(%x: tensor<?x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<?x3x4x5xf32> {
  %y = quarc.instance_normalization %x, %s, %b : (tensor<?x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x4x5xf32>
  return %y : tensor<?x3x4x5xf32>
}

// -----

// Statistics per row over the last axis; batch and sequence dynamic.
// CHECK-DAG:   #[[ROW:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[FEATURE:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func @layer_normalization_last_axis(
// CHECK-SAME:      %[[X:.+]]: tensor<?x?x16xf32>, %[[S:.+]]: tensor<16xf32>, %[[B:.+]]: tensor<16xf32>
// CHECK:         arith.constant 1.600000e+01 : f32
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<?x?x16xf32>) outs(%{{.+}} : tensor<?x?xf32>)
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %{{.+}} : tensor<?x?x16xf32>, tensor<?x?xf32>)
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[ROW]], #[[ROW]], #[[FEATURE]], #[[FEATURE]], #{{.+}}]{{.*}} ins(%[[X]], %{{.+}}, %{{.+}}, %[[S]], %[[B]] :
func.func @layer_normalization_last_axis(%x: tensor<?x?x16xf32>, %s: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x?x16xf32> {
  %y, %mean, %inv = quarc.layer_normalization %x, %s, %b : (tensor<?x?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x1xf32>, tensor<?x?x1xf32>)
  return %y : tensor<?x?x16xf32>
}

// -----

// f16 accumulates in f32; the used InvStdDev output is the f32 statistic
// with the normalized dims restored as 1.
// CHECK-LABEL: func @layer_normalization_f16_statistics_in_f32(
// CHECK:         linalg.generic {{.+}} ins(%{{.+}} : tensor<2x3x4xf16>) outs(%{{.+}} : tensor<2xf32>)
// CHECK:           arith.extf %{{.+}} : f16 to f32
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<2xf32>)
// CHECK:         %[[SQUARES:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[MEAN]] : tensor<2x3x4xf16>, tensor<2xf32>) outs(%{{.+}} : tensor<2xf32>)
// CHECK:         %[[INVSTD:.+]] = linalg.generic {{.+}} ins(%[[SQUARES]] : tensor<2xf32>)
// CHECK:           math.sqrt
// CHECK:         %[[Y:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<2x3x4xf16>)
// CHECK:           arith.truncf %{{.+}} : f32 to f16
// CHECK:         %[[STAT:.+]] = tensor.expand_shape %[[INVSTD]] {{\[}}[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
// CHECK:         return %[[Y]], %[[STAT]]
func.func @layer_normalization_f16_statistics_in_f32(%x: tensor<2x3x4xf16>, %s: tensor<3x4xf16>) -> (tensor<2x3x4xf16>, tensor<2x1x1xf32>) {
  %n = quarc.none
  %y, %mean, %inv = quarc.layer_normalization %x, %s, %n {axis = 1 : i64} : (tensor<2x3x4xf16>, tensor<3x4xf16>, none) -> (tensor<2x3x4xf16>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
  return %y, %inv : tensor<2x3x4xf16>, tensor<2x1x1xf32>
}

// -----

// axis 0 normalizes the whole tensor: 0-D statistics read by empty maps.
// CHECK-DAG:   #[[WHOLE:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @layer_normalization_axis_0(
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[WHOLE]]], iterator_types = ["reduction", "reduction"]} ins(%{{.+}} : tensor<3x4xf32>) outs(%{{.+}} : tensor<f32>)
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.+}} ins(%[[SUM]] : tensor<f32>) outs(%{{.+}} : tensor<f32>)
// CHECK:         %[[STAT:.+]] = tensor.expand_shape %[[MEAN]] [] output_shape [1, 1] : tensor<f32> into tensor<1x1xf32>
// CHECK:         return %{{.+}}, %[[STAT]]
func.func @layer_normalization_axis_0(%x: tensor<3x4xf32>, %s: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<1x1xf32>) {
  %n = quarc.none
  %y, %mean, %inv = quarc.layer_normalization %x, %s, %n {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>, none) -> (tensor<3x4xf32>, tensor<1x1xf32>, tensor<1x1xf32>)
  return %y, %mean : tensor<3x4xf32>, tensor<1x1xf32>
}

// -----

// Squares padded along the channels, a window reduction over them, then
// x / (bias + alpha / size * sum) ^ beta.
// CHECK-DAG:   #[[SHIFTED:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 + d4, d2, d3)>
// CHECK-DAG:   #[[WINDOW:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d4)>
// CHECK-LABEL: func @lrn_window_over_channels(
// CHECK:         %[[SQUARES:.+]] = linalg.generic
// CHECK:           arith.mulf
// CHECK:         %[[PADDED:.+]] = tensor.pad %[[SQUARES]] low[0, 1, 0, 0] high[0, 1, 0, 0]
// CHECK:         %[[SHAPE:.+]] = tensor.empty() : tensor<3xf32>
// CHECK:         %[[SUMS:.+]] = linalg.generic {indexing_maps = [#[[SHIFTED]], #[[WINDOW]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[PADDED]], %[[SHAPE]] : tensor<1x8x3x3xf32>, tensor<3xf32>) outs(%{{.+}} : tensor<1x6x3x3xf32>)
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %[[SUMS]] :
// CHECK:           arith.constant 0.00999999977 : f32
// CHECK:           math.powf
// CHECK:           arith.divf
func.func @lrn_window_over_channels(%x: tensor<1x6x3x3xf32>) -> tensor<1x6x3x3xf32> {
  %y = quarc.lrn %x {size = 3 : i64, alpha = 3.0e-2 : f32} : (tensor<1x6x3x3xf32>) -> tensor<1x6x3x3xf32>
  return %y : tensor<1x6x3x3xf32>
}
