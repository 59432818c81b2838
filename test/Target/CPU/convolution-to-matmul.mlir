// RUN: quarc-opt %s -split-input-file --quarc-convolution-to-matmul | FileCheck %s
// RUN: quarc-opt %s -split-input-file --quarc-convolution-to-matmul | quarc-opt -split-input-file > /dev/null

// A dense NCHW convolution becomes out[n, f, p] += W[f, q] * X[n, q, p] with
// p = oh * OW + ow and q = (c * KH + kh) * KW + kw. Except for 1x1 unit-stride
// convolutions, X is an im2col copy [N, C, KH, KW, OH, OW] that applies the
// strides and dilations. Convolutions with unit stride along the width and
// output rows at least 16 wide stay as they are: quarc-vectorize-matmul runs
// them directly on the input.

//===----------------------------------------------------------------------===//
// im2col
//===----------------------------------------------------------------------===//

// 3x3, strides 2, dilations [1, 2], batch 2 (40 output
// pixels per image, so image by image): the window copy reads
// x[n, c, oh * 2 + kh, ow * 2 + kw * 2].
// CHECK-DAG: #[[IM2COL:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 * 2 + d2, d5 * 2 + d3 * 2)>
// CHECK-DAG: #[[ID6:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func @conv_3x3_strided_dilated(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<2x8x9x23xf32>, %[[W:[^:]+]]: tensor<5x8x3x3xf32>, %[[INIT:[^:]+]]: tensor<2x5x4x10xf32>)
// CHECK-NOT:     linalg.conv_2d_nchw_fchw
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<2x8x3x3x4x10xf32>
// CHECK:         %[[COLS:.+]] = linalg.generic {indexing_maps = [#[[IM2COL]], #[[ID6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:        ins(%[[X]] : tensor<2x8x9x23xf32>) outs(%[[EMPTY]] : tensor<2x8x3x3x4x10xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK-NEXT:    } -> tensor<2x8x3x3x4x10xf32>
// CHECK:         %[[RHS_V:.+]] = tensor.collapse_shape %[[COLS]] {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<2x8x3x3x4x10xf32> into tensor<2x72x40xf32>
// CHECK:         %[[LHS_V:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<5x8x3x3xf32> into tensor<5x72xf32>
// CHECK:         %[[OUT_V:.+]] = tensor.collapse_shape %[[INIT]] {{\[}}[0], [1], [2, 3]] : tensor<2x5x4x10xf32> into tensor<2x5x40xf32>
// CHECK:         %[[PRODUCT:.+]] = linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[LHS_V]], %[[RHS_V]] : tensor<5x72xf32>, tensor<2x72x40xf32>) outs(%[[OUT_V]] : tensor<2x5x40xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.+]]: f32, %[[B:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[MUL:.+]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK-NEXT:      %[[ADD:.+]] = arith.addf %[[ACC]], %[[MUL]] : f32
// CHECK-NEXT:      linalg.yield %[[ADD]] : f32
// CHECK-NEXT:    } -> tensor<2x5x40xf32>
// CHECK:         %[[RESULT:.+]] = tensor.expand_shape %[[PRODUCT]] {{\[}}[0], [1], [2, 3]] output_shape [2, 5, 4, 10] : tensor<2x5x40xf32> into tensor<2x5x4x10xf32>
// CHECK:         return %[[RESULT]]
func.func @conv_3x3_strided_dilated(%x: tensor<2x8x9x23xf32>, %w: tensor<5x8x3x3xf32>, %init: tensor<2x5x4x10xf32>) -> tensor<2x5x4x10xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : tensor<2x8x9x23xf32>, tensor<5x8x3x3xf32>) outs(%init : tensor<2x5x4x10xf32>) -> tensor<2x5x4x10xf32>
  return %r : tensor<2x5x4x10xf32>
}

// -----

// 5x5, unit strides, dilation 2 along H, stride 3 along W; the input is
// larger than the windows need (the extra row and column are never read).
// CHECK-DAG: #[[IM2COL:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2 * 2, d5 * 3 + d3)>
// CHECK-LABEL: func @conv_5x5_mixed(
// CHECK:         tensor.empty() : tensor<1x3x5x5x6x4xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[IM2COL]], {{.+}}]
// CHECK-SAME:        ins(%{{.+}} : tensor<1x3x15x15xf32>) outs(%{{.+}} : tensor<1x3x5x5x6x4xf32>)
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<1x3x5x5x6x4xf32> into tensor<1x75x24xf32>
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<7x3x5x5xf32> into tensor<7x75xf32>
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<7x75xf32>, tensor<1x75x24xf32>) outs(%{{.+}} : tensor<1x7x24xf32>)
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0], [1], [2, 3]] output_shape [1, 7, 6, 4] : tensor<1x7x24xf32> into tensor<1x7x6x4xf32>
func.func @conv_5x5_mixed(%x: tensor<1x3x15x15xf32>, %w: tensor<7x3x5x5xf32>, %init: tensor<1x7x6x4xf32>) -> tensor<1x7x6x4xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<[2, 1]> : tensor<2xi64>, strides = dense<[1, 3]> : tensor<2xi64>}
    ins(%x, %w : tensor<1x3x15x15xf32>, tensor<7x3x5x5xf32>) outs(%init : tensor<1x7x6x4xf32>) -> tensor<1x7x6x4xf32>
  return %r : tensor<1x7x6x4xf32>
}

// -----

// A strided 1x1 convolution still needs the copy (it subsamples).
// CHECK-DAG: #[[IM2COL:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 * 2 + d2, d5 * 2 + d3)>
// CHECK-LABEL: func @conv_1x1_strided(
// CHECK:         tensor.empty() : tensor<1x8x1x1x4x5xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[IM2COL]], {{.+}}]
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<1x8x1x1x4x5xf32> into tensor<1x8x20xf32>
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<16x8xf32>, tensor<1x8x20xf32>) outs(%{{.+}} : tensor<1x16x20xf32>)
func.func @conv_1x1_strided(%x: tensor<1x8x7x9xf32>, %w: tensor<16x8x1x1xf32>, %init: tensor<1x16x4x5xf32>) -> tensor<1x16x4x5xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : tensor<1x8x7x9xf32>, tensor<16x8x1x1xf32>) outs(%init : tensor<1x16x4x5xf32>) -> tensor<1x16x4x5xf32>
  return %r : tensor<1x16x4x5xf32>
}

// -----

//===----------------------------------------------------------------------===//
// A batch of images with fewer than 32 output pixels: all images' pixels as
// the columns of one product
//===----------------------------------------------------------------------===//

// Frames of a 1-D signal (H = 1), window 8 with stride 8, 4 pixels per image:
// the im2col buffer is [C, KH, KW, N, OH, OW] = [Q, N*P]; the product
// [F, N*P] starts from zeros and is added to the accumulator (the bias) in
// NCHW order.
// CHECK-DAG: #[[BIAS:.+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-DAG: #[[IM2COL:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d1 + d4, d5 * 8 + d2)>
// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[FNP:.+]] = affine_map<(d0, d1, d2) -> (d1, d0, d2)>
// CHECK-DAG: #[[ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func @frames_images_as_columns(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<3x2x1x32xf32>, %[[W:[^:]+]]: tensor<4x2x1x8xf32>,
// CHECK:         %[[ACC:.+]] = linalg.generic {indexing_maps = [#[[BIAS]], {{.+}}]
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<2x1x8x3x1x4xf32>
// CHECK:         %[[COLS:.+]] = linalg.generic {indexing_maps = [#[[IM2COL]], {{.+}}]
// CHECK-SAME:        ins(%[[X]] : tensor<3x2x1x32xf32>) outs(%[[EMPTY]] : tensor<2x1x8x3x1x4xf32>)
// CHECK:         %[[RHS_V:.+]] = tensor.collapse_shape %[[COLS]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<2x1x8x3x1x4xf32> into tensor<16x12xf32>
// CHECK:         %[[LHS_V:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<4x2x1x8xf32> into tensor<4x16xf32>
// CHECK:         %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4x12xf32>)
// CHECK:         %[[PRODUCT:.+]] = linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[LHS_V]], %[[RHS_V]] : tensor<4x16xf32>, tensor<16x12xf32>) outs(%[[ZEROS]] : tensor<4x12xf32>)
// CHECK:         %[[BY_IMAGE:.+]] = tensor.expand_shape %[[PRODUCT]] {{\[}}[0], [1, 2]] output_shape [4, 3, 4] : tensor<4x12xf32> into tensor<4x3x4xf32>
// CHECK:         %[[ACC_V:.+]] = tensor.collapse_shape %[[ACC]] {{\[}}[0], [1], [2, 3]] : tensor<3x4x1x4xf32> into tensor<3x4x4xf32>
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[FNP]], #[[ID3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME:        ins(%[[BY_IMAGE]], %[[ACC_V]] : tensor<4x3x4xf32>, tensor<3x4x4xf32>) outs(%[[ACC_V]] : tensor<3x4x4xf32>)
// CHECK-NEXT:    ^bb0(%[[P:.+]]: f32, %[[A:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[ADD:.+]] = arith.addf %[[A]], %[[P]] : f32
// CHECK-NEXT:      linalg.yield %[[ADD]] : f32
// CHECK:         %[[RESULT:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0], [1], [2, 3]] output_shape [3, 4, 1, 4] : tensor<3x4x4xf32> into tensor<3x4x1x4xf32>
// CHECK:         return %[[RESULT]]
func.func @frames_images_as_columns(%x: tensor<3x2x1x32xf32>, %w: tensor<4x2x1x8xf32>, %b: tensor<4xf32>) -> tensor<3x4x1x4xf32> {
  %empty = tensor.empty() : tensor<3x4x1x4xf32>
  %init = linalg.generic {indexing_maps = [affine_map<(n, f, h, w) -> (f)>, affine_map<(n, f, h, w) -> (n, f, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<4xf32>) outs(%empty : tensor<3x4x1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x4x1x4xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[1, 8]> : tensor<2xi64>}
    ins(%x, %w : tensor<3x2x1x32xf32>, tensor<4x2x1x8xf32>) outs(%init : tensor<3x4x1x4xf32>) -> tensor<3x4x1x4xf32>
  return %r : tensor<3x4x1x4xf32>
}

// -----

// A 1x1 unit-stride convolution of such a batch copies its input too: the
// copy puts the images side by side.
// CHECK-DAG: #[[IM2COL:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d1 + d4, d2 + d5)>
// CHECK-LABEL: func @frames_1x1(
// CHECK:         tensor.empty() : tensor<8x1x1x2x3x5xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[IM2COL]], {{.+}}]
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<8x1x1x2x3x5xf32> into tensor<8x30xf32>
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<6x8xf32>, tensor<8x30xf32>) outs(%{{.+}} : tensor<6x30xf32>)
func.func @frames_1x1(%x: tensor<2x8x3x5xf32>, %w: tensor<6x8x1x1xf32>, %init: tensor<2x6x3x5xf32>) -> tensor<2x6x3x5xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<2x8x3x5xf32>, tensor<6x8x1x1xf32>) outs(%init : tensor<2x6x3x5xf32>) -> tensor<2x6x3x5xf32>
  return %r : tensor<2x6x3x5xf32>
}

// -----

// One image of 4 pixels stays as it is (nothing to put side by side).
// CHECK-LABEL: func @one_small_image(
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<1x2x1x8x1x4xf32> into tensor<1x16x4xf32>
// CHECK-NOT:     linalg.fill
func.func @one_small_image(%x: tensor<1x2x1x32xf32>, %w: tensor<4x2x1x8xf32>, %init: tensor<1x4x1x4xf32>) -> tensor<1x4x1x4xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[1, 8]> : tensor<2xi64>}
    ins(%x, %w : tensor<1x2x1x32xf32>, tensor<4x2x1x8xf32>) outs(%init : tensor<1x4x1x4xf32>) -> tensor<1x4x1x4xf32>
  return %r : tensor<1x4x1x4xf32>
}

// -----

// A dynamic batch: the im2col buffer gets the input's batch size; small
// images are not put side by side (their number is unknown).
// CHECK-LABEL: func @dynamic_batch(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<?x8x6x7xf32>
// CHECK:         %[[N:.+]] = tensor.dim %[[X]], %c0 : tensor<?x8x6x7xf32>
// CHECK:         tensor.empty(%[[N]]) : tensor<?x8x3x3x4x5xf32>
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<?x8x3x3x4x5xf32> into tensor<?x72x20xf32>
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<13x72xf32>, tensor<?x72x20xf32>) outs(%{{.+}} : tensor<?x13x20xf32>)
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0], [1], [2, 3]] output_shape [%{{.+}}, 13, 4, 5] : tensor<?x13x20xf32> into tensor<?x13x4x5xf32>
func.func @dynamic_batch(%x: tensor<?x8x6x7xf32>, %w: tensor<13x8x3x3xf32>, %init: tensor<?x13x4x5xf32>) -> tensor<?x13x4x5xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<?x8x6x7xf32>, tensor<13x8x3x3xf32>) outs(%init : tensor<?x13x4x5xf32>) -> tensor<?x13x4x5xf32>
  return %r : tensor<?x13x4x5xf32>
}

// -----

//===----------------------------------------------------------------------===//
// 1x1, unit strides: the input is the right-hand side as it is
//===----------------------------------------------------------------------===//

// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func @conv_1x1(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<2x8x6x7xf32>, %[[W:[^:]+]]: tensor<13x8x1x1xf32>, %[[INIT:[^:]+]]: tensor<2x13x6x7xf32>)
// CHECK-NOT:     tensor.empty
// CHECK:         %[[RHS_V:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1], [2, 3]] : tensor<2x8x6x7xf32> into tensor<2x8x42xf32>
// CHECK:         %[[LHS_V:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<13x8x1x1xf32> into tensor<13x8xf32>
// CHECK:         %[[OUT_V:.+]] = tensor.collapse_shape %[[INIT]] {{\[}}[0], [1], [2, 3]] : tensor<2x13x6x7xf32> into tensor<2x13x42xf32>
// CHECK:         %[[PRODUCT:.+]] = linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[LHS_V]], %[[RHS_V]] : tensor<13x8xf32>, tensor<2x8x42xf32>) outs(%[[OUT_V]] : tensor<2x13x42xf32>)
// CHECK:         %[[RESULT:.+]] = tensor.expand_shape %[[PRODUCT]] {{\[}}[0], [1], [2, 3]] output_shape [2, 13, 6, 7] : tensor<2x13x42xf32> into tensor<2x13x6x7xf32>
// CHECK:         return %[[RESULT]]
func.func @conv_1x1(%x: tensor<2x8x6x7xf32>, %w: tensor<13x8x1x1xf32>, %init: tensor<2x13x6x7xf32>) -> tensor<2x13x6x7xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<2x8x6x7xf32>, tensor<13x8x1x1xf32>) outs(%init : tensor<2x13x6x7xf32>) -> tensor<2x13x6x7xf32>
  return %r : tensor<2x13x6x7xf32>
}

// -----

// The accumulator (here a bias broadcast) is the contraction's init: the
// convolution adds to it as before.
// CHECK-LABEL: func @conv_bias(
// CHECK:         %[[BIAS:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<4xf32>) outs(%{{.+}} : tensor<1x4x6x6xf32>)
// CHECK:         %[[OUT_V:.+]] = tensor.collapse_shape %[[BIAS]] {{\[}}[0], [1], [2, 3]] : tensor<1x4x6x6xf32> into tensor<1x4x36xf32>
// CHECK:         linalg.generic {{.+}} outs(%[[OUT_V]] : tensor<1x4x36xf32>)
#bias = affine_map<(n, f, h, w) -> (f)>
#id4 = affine_map<(n, f, h, w) -> (n, f, h, w)>
func.func @conv_bias(%x: tensor<1x2x8x8xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  %empty = tensor.empty() : tensor<1x4x6x6xf32>
  %init = linalg.generic {indexing_maps = [#bias, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<4xf32>) outs(%empty : tensor<1x4x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x6x6xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>) outs(%init : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %r : tensor<1x4x6x6xf32>
}

// -----

// Every convolution of the function is rewritten.
// CHECK-LABEL: func @two_convs(
// CHECK-NOT:     linalg.conv_2d_nchw_fchw
// CHECK-COUNT-2: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-NOT:     linalg.conv_2d_nchw_fchw
// CHECK:         return
func.func @two_convs(%x: tensor<1x4x6x6xf32>, %w1: tensor<4x4x1x1xf32>, %w2: tensor<2x4x3x3xf32>,
                     %i1: tensor<1x4x6x6xf32>, %i2: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w1 : tensor<1x4x6x6xf32>, tensor<4x4x1x1xf32>) outs(%i1 : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%0, %w2 : tensor<1x4x6x6xf32>, tensor<2x4x3x3xf32>) outs(%i2 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Left alone
//===----------------------------------------------------------------------===//

// A dynamic height.
// CHECK-LABEL: func @dynamic_height_left_alone(
// CHECK-NOT:     linalg.generic
// CHECK:         linalg.conv_2d_nchw_fchw
// CHECK-NOT:     linalg.generic
func.func @dynamic_height_left_alone(%x: tensor<1x8x?x7xf32>, %w: tensor<13x8x3x3xf32>, %init: tensor<1x13x?x5xf32>) -> tensor<1x13x?x5xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x8x?x7xf32>, tensor<13x8x3x3xf32>) outs(%init : tensor<1x13x?x5xf32>) -> tensor<1x13x?x5xf32>
  return %r : tensor<1x13x?x5xf32>
}

// -----

// Integer elements.
// CHECK-LABEL: func @i32_left_alone(
// CHECK-NOT:     linalg.generic
// CHECK:         linalg.conv_2d_nchw_fchw
// CHECK-NOT:     linalg.generic
func.func @i32_left_alone(%x: tensor<1x8x6x7xi32>, %w: tensor<13x8x3x3xi32>, %init: tensor<1x13x4x5xi32>) -> tensor<1x13x4x5xi32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x8x6x7xi32>, tensor<13x8x3x3xi32>) outs(%init : tensor<1x13x4x5xi32>) -> tensor<1x13x4x5xi32>
  return %r : tensor<1x13x4x5xi32>
}

// -----

// A grouped convolution.
// CHECK-LABEL: func @grouped_left_alone(
// CHECK-NOT:     linalg.generic
// CHECK:         linalg.conv_2d_ngchw_gfchw
// CHECK-NOT:     linalg.generic
func.func @grouped_left_alone(%x: tensor<1x2x4x6x7xf32>, %w: tensor<2x3x4x3x3xf32>, %init: tensor<1x2x3x4x5xf32>) -> tensor<1x2x3x4x5xf32> {
  %r = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x2x4x6x7xf32>, tensor<2x3x4x3x3xf32>) outs(%init : tensor<1x2x3x4x5xf32>) -> tensor<1x2x3x4x5xf32>
  return %r : tensor<1x2x3x4x5xf32>
}

// -----

// A depthwise convolution (quarc-vectorize-depthwise's job).
// CHECK-LABEL: func @depthwise_left_alone(
// CHECK-NOT:     linalg.generic
// CHECK:         linalg.depthwise_conv_2d_nchw_chw
// CHECK-NOT:     linalg.generic
func.func @depthwise_left_alone(%x: tensor<1x8x6x7xf32>, %w: tensor<8x3x3xf32>, %init: tensor<1x8x4x5xf32>) -> tensor<1x8x4x5xf32> {
  %r = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x8x6x7xf32>, tensor<8x3x3xf32>) outs(%init : tensor<1x8x4x5xf32>) -> tensor<1x8x4x5xf32>
  return %r : tensor<1x8x4x5xf32>
}

// -----

// A convolution on buffers (the pass runs before bufferization).
// CHECK-LABEL: func @buffers_left_alone(
// CHECK-NOT:     linalg.generic
// CHECK:         linalg.conv_2d_nchw_fchw
// CHECK-NOT:     linalg.generic
func.func @buffers_left_alone(%x: memref<1x8x6x7xf32>, %w: memref<13x8x3x3xf32>, %init: memref<1x13x4x5xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x8x6x7xf32>, memref<13x8x3x3xf32>) outs(%init : memref<1x13x4x5xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Direct
//===----------------------------------------------------------------------===//

// 3x3, stride 2 along H only, dilation 2, 16 columns: left for the direct
// kernel, with no copy.
// CHECK-LABEL: func @conv_direct(
// CHECK-NOT:     tensor.empty
// CHECK-NOT:     linalg.generic
// CHECK:         linalg.conv_2d_nchw_fchw
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @conv_direct(%x: tensor<1x8x13x20xf32>, %w: tensor<5x8x3x3xf32>, %init: tensor<1x5x5x16xf32>) -> tensor<1x5x5x16xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>}
    ins(%x, %w : tensor<1x8x13x20xf32>, tensor<5x8x3x3xf32>) outs(%init : tensor<1x5x5x16xf32>) -> tensor<1x5x5x16xf32>
  return %r : tensor<1x5x5x16xf32>
}

// -----

// The same with 15 columns: mostly edge tiles row by row, so im2col.
// CHECK-LABEL: func @conv_narrow_rows_im2col(
// CHECK-NOT:     linalg.conv_2d_nchw_fchw
// CHECK:         tensor.empty() : tensor<1x8x3x3x5x15xf32>
// CHECK:         return
func.func @conv_narrow_rows_im2col(%x: tensor<1x8x13x19xf32>, %w: tensor<5x8x3x3xf32>, %init: tensor<1x5x5x15xf32>) -> tensor<1x5x5x15xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>}
    ins(%x, %w : tensor<1x8x13x19xf32>, tensor<5x8x3x3xf32>) outs(%init : tensor<1x5x5x15xf32>) -> tensor<1x5x5x15xf32>
  return %r : tensor<1x5x5x15xf32>
}

// -----

// Stride 2 along W and 16 columns: the windows of a row are not contiguous,
// so im2col.
// CHECK-LABEL: func @conv_strided_rows_im2col(
// CHECK-NOT:     linalg.conv_2d_nchw_fchw
// CHECK:         tensor.empty() : tensor<1x8x3x3x5x16xf32>
// CHECK:         return
func.func @conv_strided_rows_im2col(%x: tensor<1x8x13x33xf32>, %w: tensor<5x8x3x3xf32>, %init: tensor<1x5x5x16xf32>) -> tensor<1x5x5x16xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : tensor<1x8x13x33xf32>, tensor<5x8x3x3xf32>) outs(%init : tensor<1x5x5x16xf32>) -> tensor<1x5x5x16xf32>
  return %r : tensor<1x5x5x16xf32>
}
