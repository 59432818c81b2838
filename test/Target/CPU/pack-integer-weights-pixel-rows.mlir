// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=x86_64+avx512vnni | FileCheck %s --check-prefixes=ROWS,PAIRS
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=x86_64+avx2 | FileCheck %s --check-prefixes=AVX2,PAIRS
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg --canonicalize --quarc-pack-integer-weights=target=x86_64+avx512vnni+avx512vbmi | FileCheck %s --check-prefix=QUADS

// With AVX-512 VNNI, a convolution with a window (here 1 x 2) and a
// multiple of 16 output channels is packed for the pixel-rows kernel of
// quarc-vectorize-integer-matmul: the filter in panels of 16 output
// channels, [F/16, C4/4, KH, KW, 16, 4], so that one k step (channel group,
// tap) of 16 channels is 64 contiguous bytes. w[f, c, 0, j] = 4 f + 2 c + j:
// tap 0 holds (4 f, 4 f + 2, 0, 0) for each f, tap 1 (4 f + 1, 4 f + 3, 0, 0)
// (channels 2 and 3 are padding). AVX2 has the kernel too, with panels of 8
// channels, for images of at most 64 output pixels (here 3 x 6) whose
// filter pairs fit vpmaddubsw's i16 (here at most 60 + 62): [F/8, C4/4, KH,
// KW, 8, 4], channels 0-7 at tap 0, then at tap 1, then channels 8-15.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// ROWS-DAG: #[[FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1 floordiv 16, d5, d3, d4, d1 mod 16, d7)>
// ROWS-LABEL: func.func @window
// ROWS: %[[PACKED:.*]] = arith.constant dense_resource<[[BLOB:.*]]> : tensor<1x1x1x2x16x4xi8>
// ROWS: linalg.generic {indexing_maps = [#{{.*}}, #[[FILTER]], #{{.*}}]
// ROWS-SAME: ins(%{{.*}}, %[[PACKED]] : tensor<1x4x3x7xi8>, tensor<1x1x1x2x16x4xi8>)
// AVX2-DAG: #[[AFILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1 floordiv 8, d5, d3, d4, d1 mod 8, d7)>
// AVX2-LABEL: func.func @window
// AVX2: %[[APACKED:.*]] = arith.constant dense_resource<[[ABLOB:.*]]> : tensor<2x1x1x2x8x4xi8>
// AVX2: linalg.generic {indexing_maps = [#{{.*}}, #[[AFILTER]], #{{.*}}]
// AVX2-SAME: ins(%{{.*}}, %[[APACKED]] : tensor<1x4x3x7xi8>, tensor<2x1x1x2x8x4xi8>)
// The bytes, after the blob's 4-byte alignment header.
// ROWS: [[BLOB]]: "0x08000000{{0002000004060000080A00000C0E00001012000014160000181A00001C1E00002022000024260000282A00002C2E00003032000034360000383A00003C3E0000}}{{0103000005070000090B00000D0F0000}}
// AVX2: [[ABLOB]]: "0x08000000{{0002000004060000080A00000C0E00001012000014160000181A00001C1E0000}}{{0103000005070000090B00000D0F00001113000015170000191B00001D1F0000}}{{20220000}}
func.func @window(%x: tensor<1x2x3x7x!x>, %b: tensor<16xi32>) -> tensor<1x16x3x6x!y> {
  %wc = arith.constant dense<[
    [[[0, 1]], [[2, 3]]], [[[4, 5]], [[6, 7]]], [[[8, 9]], [[10, 11]]], [[[12, 13]], [[14, 15]]],
    [[[16, 17]], [[18, 19]]], [[[20, 21]], [[22, 23]]], [[[24, 25]], [[26, 27]]], [[[28, 29]], [[30, 31]]],
    [[[32, 33]], [[34, 35]]], [[[36, 37]], [[38, 39]]], [[[40, 41]], [[42, 43]]], [[[44, 45]], [[46, 47]]],
    [[[48, 49]], [[50, 51]]], [[[52, 53]], [[54, 55]]], [[[56, 57]], [[58, 59]]], [[[60, 61]], [[62, 63]]]]> : tensor<16x2x1x2xi8>
  %w = quarc.storage_cast %wc : tensor<16x2x1x2xi8> -> tensor<16x2x1x2x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x2x3x7x!x>, tensor<16x2x1x2x!w>, tensor<16xi32>) -> tensor<1x16x3x6x!y>
  return %y : tensor<1x16x3x6x!y>
}

// -----

// With AVX2 only images of at most 64 output pixels take the pixel-rows
// kernel: a 1 x 2 window on 9 x 9 output pixels (81) keeps the broadcast-
// rows layout [F, C4/4, KH, KW, 4] there, while AVX-512 VNNI packs panels
// of 16 at every size.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// ROWS-LABEL: func.func @window_large
// ROWS: arith.constant dense_resource<{{.*}}> : tensor<1x1x1x2x16x4xi8>
// AVX2-LABEL: func.func @window_large
// AVX2: arith.constant dense_resource<{{.*}}> : tensor<16x1x1x2x4xi8>
func.func @window_large(%x: tensor<1x2x9x10x!x>, %b: tensor<16xi32>) -> tensor<1x16x9x9x!y> {
  %wc = arith.constant dense<1> : tensor<16x2x1x2xi8>
  %w = quarc.storage_cast %wc : tensor<16x2x1x2xi8> -> tensor<16x2x1x2x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x2x9x10x!x>, tensor<16x2x1x2x!w>, tensor<16xi32>) -> tensor<1x16x9x9x!y>
  return %y : tensor<1x16x9x9x!y>
}

// -----

// With AVX2 a filter whose pairs can pass i16 in vpmaddubsw (100 + 100,
// times 255) keeps the broadcast-rows layout on a small image too, widened
// to i16 words for the exact vpmaddwd path: the pixel-rows kernel has none.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// ROWS-LABEL: func.func @window_wide_pairs
// ROWS: arith.constant dense_resource<{{.*}}> : tensor<1x1x1x2x16x4xi8>
// AVX2-LABEL: func.func @window_wide_pairs
// AVX2: arith.constant dense_resource<{{.*}}> : tensor<16x1x1x2x4xi16>
func.func @window_wide_pairs(%x: tensor<1x2x3x7x!x>, %b: tensor<16xi32>) -> tensor<1x16x3x6x!y> {
  %wc = arith.constant dense<100> : tensor<16x2x1x2xi8>
  %w = quarc.storage_cast %wc : tensor<16x2x1x2xi8> -> tensor<16x2x1x2x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x2x3x7x!x>, tensor<16x2x1x2x!w>, tensor<16xi32>) -> tensor<1x16x3x6x!y>
  return %y : tensor<1x16x3x6x!y>
}

// -----

// A pointwise convolution takes the pixel-rows kernel only on small images
// (up to 256 output pixels): 17 x 16 = 272 keeps the broadcast-rows layout,
// with its pixels viewed as one row.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// ROWS-LABEL: func.func @pointwise_large
// ROWS-NOT: floordiv
// ROWS: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x4x1x272xi8>, tensor<16x1x1x1x4xi8>)
func.func @pointwise_large(%x: tensor<1x4x17x16x!x>, %b: tensor<16xi32>) -> tensor<1x16x17x16x!y> {
  %wc = arith.constant dense<1> : tensor<16x4x1x1xi8>
  %w = quarc.storage_cast %wc : tensor<16x4x1x1xi8> -> tensor<16x4x1x1x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x4x17x16x!x>, tensor<16x4x1x1x!w>, tensor<16xi32>) -> tensor<1x16x17x16x!y>
  return %y : tensor<1x16x17x16x!y>
}

// -----

// The same on a 16 x 16 image (256 pixels): pixel rows.

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// ROWS-LABEL: func.func @pointwise_small
// ROWS: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x4x1x256xi8>, tensor<1x1x1x1x16x4xi8>)
func.func @pointwise_small(%x: tensor<1x4x16x16x!x>, %b: tensor<16xi32>) -> tensor<1x16x16x16x!y> {
  %wc = arith.constant dense<1> : tensor<16x4x1x1xi8>
  %w = quarc.storage_cast %wc : tensor<16x4x1x1xi8> -> tensor<16x4x1x1x!w>
  %y = quarc.qconv %x, %w, %b : (tensor<1x4x16x16x!x>, tensor<16x4x1x1x!w>, tensor<16xi32>) -> tensor<1x16x16x16x!y>
  return %y : tensor<1x16x16x16x!y>
}

// -----

// With AVX-512 VNNI and VBMI, a depthwise filter's rows are padded with
// zeros to whole quads of taps, [C, KH, KW4], for quarc-vectorize-depthwise's
// kernel that takes four taps per step; the product reads its leading [C,
// KH, KW] slice. w[c, 0, i, j] = 10 c + 3 i + j - 20: channel 0's rows are
// (-20, -19, -18, -17, -16, 0, 0, 0) and (-17 .. -13, 0, 0, 0). Other x86
// targets with 256-bit vectors take two taps per step: the rows are padded
// to whole pairs of taps and sign-extended to i16, [C, KH, KW2], each pair
// of weights one i32 word (-20, -19), (-18, -17), (-16, 0).

!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
// QUADS-LABEL: func.func @depthwise_padded_rows
// QUADS: %[[PADDED:.*]] = arith.constant dense<{{\[}}{{\[}}[-20, -19, -18, -17, -16, 0, 0, 0], [-17, -16, -15, -14, -13, 0, 0, 0]], {{\[}}[-10, -9, -8, -7, -6, 0, 0, 0], [-7, -6, -5, -4, -3, 0, 0, 0]]]> : tensor<2x2x8xi8>
// QUADS: %[[FILTER:.*]] = tensor.extract_slice %[[PADDED]][0, 0, 0] [2, 2, 5] [1, 1, 1] : tensor<2x2x8xi8> to tensor<2x2x5xi8>
// QUADS: linalg.generic
// QUADS-SAME: ins(%{{.*}}, %[[FILTER]] : tensor<1x2x6x12xi8>, tensor<2x2x5xi8>)
// PAIRS-LABEL: func.func @depthwise_padded_rows
// PAIRS: %[[PADDED:.*]] = arith.constant dense<{{\[}}{{\[}}[-20, -19, -18, -17, -16, 0], [-17, -16, -15, -14, -13, 0]], {{\[}}[-10, -9, -8, -7, -6, 0], [-7, -6, -5, -4, -3, 0]]]> : tensor<2x2x6xi16>
// PAIRS: %[[FILTER:.*]] = tensor.extract_slice %[[PADDED]][0, 0, 0] [2, 2, 5] [1, 1, 1] : tensor<2x2x6xi16> to tensor<2x2x5xi16>
// PAIRS: linalg.generic
// PAIRS-SAME: ins(%{{.*}}, %[[FILTER]] : tensor<1x2x6x12xi8>, tensor<2x2x5xi16>)
// PAIRS: arith.extui %{{.*}} : i8 to i32
// PAIRS: arith.extsi %{{.*}} : i16 to i32
func.func @depthwise_padded_rows(%x: tensor<1x2x6x12x!x>, %b: tensor<2xi32>) -> tensor<1x2x5x8x!y> {
  %wc = arith.constant dense<[
    [[[-20, -19, -18, -17, -16], [-17, -16, -15, -14, -13]]],
    [[[-10, -9, -8, -7, -6], [-7, -6, -5, -4, -3]]]]> : tensor<2x1x2x5xi8>
  %w = quarc.storage_cast %wc : tensor<2x1x2x5xi8> -> tensor<2x1x2x5x!w>
  %y = quarc.qconv %x, %w, %b {group = 2 : i64} : (tensor<1x2x6x12x!x>, tensor<2x1x2x5x!w>, tensor<2xi32>) -> tensor<1x2x5x8x!y>
  return %y : tensor<1x2x5x8x!y>
}
