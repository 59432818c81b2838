// RUN: quarc-opt %s -split-input-file -verify-diagnostics --convert-quarc-to-linalg | FileCheck %s

// Quantized tensors become tensors of their storage type. quantize:
// roundeven(x / scale), clamped to [qmin - zp, qmax - zp] in f32, plus zp;
// NaN gives zp. dequantize: f32(q - zp) * scale, unsigned storage
// zero-extended.

!u8 = !quant.uniform<u8:f32, 0.05:128>
// CHECK-LABEL: func.func @per_tensor
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x4xf32>) outs(%{{.*}} : tensor<2x4xi8>)
// CHECK-DAG: %[[S:.*]] = arith.constant 5.000000e-02 : f32
// CHECK-DAG: %[[ZP:.*]] = arith.constant 128 : i32
// CHECK: %[[D:.*]] = arith.divf %{{.*}}, %[[S]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[D]] : f32
// CHECK: arith.maxnumf %[[R]]
// CHECK: arith.minnumf
// CHECK: %[[I:.*]] = arith.fptosi
// CHECK: %[[Q:.*]] = arith.addi %[[I]], %[[ZP]] : i32
// CHECK: %[[NAN:.*]] = arith.cmpf uno
// CHECK: %[[SEL:.*]] = arith.select %[[NAN]], %[[ZP]], %[[Q]] : i32
// CHECK: arith.trunci %[[SEL]] : i32 to i8
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x4xi8>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
func.func @per_tensor(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %q = quarc.quantize %x : tensor<2x4xf32> -> tensor<2x4x!u8>
  %d = quarc.dequantize %q : tensor<2x4x!u8> -> tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}

// -----

// Per-axis parameters are constant tensors broadcast along the axis.
!s8 = !quant.uniform<i8:f32:1, {0.5, 0.25, 2.0}>
// CHECK-LABEL: func.func @per_axis
// CHECK-DAG: arith.constant dense<[{{\[}}5.000000e-01, 2.500000e-01, 2.000000e+00]]> : tensor<1x3xf32>
// CHECK-DAG: arith.constant dense<0> : tensor<1x3xi32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[AXIS:.*]], #[[AXIS]], #{{.*}}]
// CHECK: arith.extsi %{{.*}} : i8 to i32
func.func @per_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %q = quarc.quantize %x : tensor<2x3xf32> -> tensor<2x3x!s8>
  %d = quarc.dequantize %q : tensor<2x3x!s8> -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// A dequantized constant is evaluated at compile time (per-axis along dim 0:
// row 0 times 0.5, row 1 times 0.25).
!w8 = !quant.uniform<i8:f32:0, {0.5, 0.25}>
// CHECK-LABEL: func.func @constant
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[5.000000e-01, -1.000000e+00, 1.500000e+00], [3.175000e+01, -3.200000e+01, 0.000000e+00]]> : tensor<2x3xf32>
// CHECK: return %[[W]]
func.func @constant() -> tensor<2x3xf32> {
  %c = quarc.constant dense<[[1, -2, 3], [127, -128, 0]]> : tensor<2x3xi8>
  %w = quarc.storage_cast %c : tensor<2x3xi8> -> tensor<2x3x!w8>
  %d = quarc.dequantize %w : tensor<2x3x!w8> -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

!g = !quant.uniform<i8:f32:{1:2}, {{0.5, 0.25}}>
func.func @sub_channel_unlisted_dim(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @below {{dim 0 has no block size}}
  %q = quarc.quantize %x : tensor<1x4xf32> -> tensor<1x4x!g>
  %d = quarc.dequantize %q : tensor<1x4x!g> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

// Groups of 2 along a dim of 4: only a constant lowers (at compile time).
!g = !quant.uniform<i8:f32:{0:1, 1:2}, {{0.5, 0.25}}>
func.func @partial_groups(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @below {{groups spanning part of a dim lower only for constant tensors}}
  %q = quarc.quantize %x : tensor<1x4xf32> -> tensor<1x4x!g>
  %d = quarc.dequantize %q : tensor<1x4x!g> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func.func @partial_groups_constant
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}5.000000e-01, -1.000000e+00, 7.500000e-01, 2.500000e-01]]> : tensor<1x4xf32>
// CHECK: return %[[W]]
!g = !quant.uniform<i8:f32:{0:1, 1:2}, {{0.5, 0.25}}>
func.func @partial_groups_constant() -> tensor<1x4xf32> {
  %c = quarc.constant dense<[[1, -2, 3, 1]]> : tensor<1x4xi8>
  %w = quarc.storage_cast %c : tensor<1x4xi8> -> tensor<1x4x!g>
  %d = quarc.dequantize %w : tensor<1x4x!g> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

// One scale per row (groups spanning the whole of dim 1): read from a
// 2x1 tensor that broadcasts along the row.
// CHECK-LABEL: func.func @whole_row_groups
// CHECK: %[[S:.*]] = arith.constant dense<{{\[\[}}5.000000e-01], [2.500000e-01]]> : tensor<2x1xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %[[S]], %{{.*}} : tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xi32>)
!g = !quant.uniform<i8:f32:{0:1, 1:4}, {{0.5}, {0.25}}>
func.func @whole_row_groups(%x: tensor<2x4xi8>) -> tensor<2x4xf32> {
  %w = quarc.storage_cast %x : tensor<2x4xi8> -> tensor<2x4x!g>
  %d = quarc.dequantize %w : tensor<2x4x!g> -> tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}

// -----

// 32-bit storage (the int32 biases of onnxruntime's QDQ models) lowers as
// any per-tensor type: a constant is evaluated, a tensor dequantized.
// CHECK-LABEL: func.func @i32_storage
// CHECK: arith.constant dense<[5.000000e-01, -1.000000e+00]> : tensor<2xf32>
// CHECK: linalg.generic
// CHECK: arith.subi
// CHECK: arith.sitofp
!b = !quant.uniform<i32:f32, 0.25>
func.func @i32_storage(%x: tensor<2xi32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %c = quarc.constant dense<[2, -4]> : tensor<2xi32>
  %cq = quarc.storage_cast %c : tensor<2xi32> -> tensor<2x!b>
  %cd = quarc.dequantize %cq : tensor<2x!b> -> tensor<2xf32>
  %xq = quarc.storage_cast %x : tensor<2xi32> -> tensor<2x!b>
  %xd = quarc.dequantize %xq : tensor<2x!b> -> tensor<2xf32>
  return %cd, %xd : tensor<2xf32>, tensor<2xf32>
}
