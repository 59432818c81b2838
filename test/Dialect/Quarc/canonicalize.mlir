// RUN: quarc-opt %s -canonicalize -split-input-file | FileCheck %s

//===----------------------------------------------------------------------===//
// Folds of shape and utility ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @identity_folds(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>
// CHECK-NOT: quarc.identity
// CHECK: return %[[X]]
func.func @identity_folds(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = quarc.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// The default perm (reversed dims) followed by its inverse is the identity.
// CHECK-LABEL: func @transpose_pair_cancels(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>
// CHECK-NOT: quarc.transpose
// CHECK: return %[[X]]
func.func @transpose_pair_cancels(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = quarc.transpose %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = quarc.transpose %0 {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_pair_composes(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x4xf32>
// CHECK-NEXT: %[[T:.*]] = quarc.transpose %[[X]] {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_pair_composes(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = quarc.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = quarc.transpose %0 {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_identity_perm_folds(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>
// CHECK-NOT: quarc.transpose
// CHECK: return %[[X]]
func.func @transpose_identity_perm_folds(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = quarc.transpose %x {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @reshape_of_reshape(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>
// CHECK-DAG: %[[S:.*]] = quarc.constant dense<[3, 2]> : tensor<2xi64>
// CHECK: %[[R:.*]] = quarc.reshape %[[X]], %[[S]] : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
// CHECK-NOT: quarc.reshape
// CHECK: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %s6 = quarc.constant dense<6> : tensor<1xi64>
  %0 = quarc.reshape %x, %s6 : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
  %s32 = quarc.constant dense<[3, 2]> : tensor<2xi64>
  %1 = quarc.reshape %0, %s32 : (tensor<6xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return %1 : tensor<3x2xf32>
}

// -----

// A 0 in the outer shape copies a dim of the inner result, so the pair stays.
// CHECK-LABEL: func @reshape_of_reshape_with_copied_dim_stays(
// CHECK: %[[INNER:.*]] = quarc.reshape %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xi64>) -> tensor<2x3x1xf32>
// CHECK: quarc.reshape %[[INNER]], %{{.*}} : (tensor<2x3x1xf32>, tensor<2xi64>) -> tensor<2x3xf32>
func.func @reshape_of_reshape_with_copied_dim_stays(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s3 = quarc.constant dense<[2, 3, 1]> : tensor<3xi64>
  %0 = quarc.reshape %x, %s3 : (tensor<2x3xf32>, tensor<3xi64>) -> tensor<2x3x1xf32>
  %s = quarc.constant dense<[0, 3]> : tensor<2xi64>
  %1 = quarc.reshape %0, %s : (tensor<2x3x1xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// Flatten, Squeeze and Unsqueeze are reshapes too: the outer reshape reads x.
// CHECK-LABEL: func @reshape_of_squeeze_and_flatten(
// CHECK-SAME: %[[X:.*]]: tensor<2x1x3xf32>
// CHECK: %[[A:.*]] = quarc.reshape %[[X]], %{{.*}} : (tensor<2x1x3xf32>, tensor<1xi64>) -> tensor<6xf32>
// CHECK: %[[B:.*]] = quarc.reshape %[[X]], %{{.*}} : (tensor<2x1x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
// CHECK-NOT: quarc.squeeze
// CHECK-NOT: quarc.flatten
// CHECK: return %[[A]], %[[B]]
func.func @reshape_of_squeeze_and_flatten(%x: tensor<2x1x3xf32>) -> (tensor<6xf32>, tensor<3x2xf32>) {
  %axes = quarc.constant dense<1> : tensor<1xi64>
  %0 = quarc.squeeze %x, %axes : (tensor<2x1x3xf32>, tensor<1xi64>) -> tensor<2x3xf32>
  %s6 = quarc.constant dense<6> : tensor<1xi64>
  %1 = quarc.reshape %0, %s6 : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
  %2 = quarc.flatten %x : (tensor<2x1x3xf32>) -> tensor<2x3xf32>
  %s32 = quarc.constant dense<[3, 2]> : tensor<2xi64>
  %3 = quarc.reshape %2, %s32 : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return %1, %3 : tensor<6xf32>, tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func @reshape_to_same_type_folds(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>
// CHECK-NOT: quarc.reshape
// CHECK: return %[[X]]
func.func @reshape_to_same_type_folds(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = quarc.constant dense<[2, -1]> : tensor<2xi64>
  %0 = quarc.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @shape_of_static_tensor_folds(
// CHECK-DAG: %[[ALL:.*]] = quarc.constant dense<[2, 3, 4]> : tensor<3xi64>
// CHECK-DAG: %[[TAIL:.*]] = quarc.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-NOT: quarc.shape
// CHECK: return %[[ALL]], %[[TAIL]]
func.func @shape_of_static_tensor_folds(%x: tensor<2x3x4xf32>) -> (tensor<3xi64>, tensor<2xi64>) {
  %0 = quarc.shape %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %1 = quarc.shape %x {start = -2 : i64} : (tensor<2x3x4xf32>) -> tensor<2xi64>
  return %0, %1 : tensor<3xi64>, tensor<2xi64>
}

// -----

// Only the dims that are asked for must be static.
// CHECK-LABEL: func @shape_of_dynamic_tensor(
// CHECK-DAG: %[[TAIL:.*]] = quarc.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-DAG: %[[ALL:.*]] = quarc.shape %{{.*}} : (tensor<?x3x4xf32>) -> tensor<3xi64>
// CHECK: return %[[ALL]], %[[TAIL]]
func.func @shape_of_dynamic_tensor(%x: tensor<?x3x4xf32>) -> (tensor<3xi64>, tensor<2xi64>) {
  %0 = quarc.shape %x : (tensor<?x3x4xf32>) -> tensor<3xi64>
  %1 = quarc.shape %x {start = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
  return %0, %1 : tensor<3xi64>, tensor<2xi64>
}

// -----

// CHECK-LABEL: func @cast_to_same_type_folds(
// CHECK-SAME: %[[X:.*]]: tensor<4xf32>
// CHECK: %[[H:.*]] = quarc.cast %[[X]] {to = f16} : (tensor<4xf32>) -> tensor<4xf16>
// CHECK: return %[[X]], %[[H]]
func.func @cast_to_same_type_folds(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf16>) {
  %0 = quarc.cast %x {to = f32} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = quarc.cast %x {to = f16} : (tensor<4xf32>) -> tensor<4xf16>
  return %0, %1 : tensor<4xf32>, tensor<4xf16>
}

// -----

// In inference dropout is the identity and its mask is all true.
// CHECK-LABEL: func @dropout_becomes_identity(
// CHECK-SAME: %[[X:.*]]: tensor<4xf32>
// CHECK: %[[MASK:.*]] = quarc.constant dense<true> : tensor<4xi1>
// CHECK-NOT: quarc.dropout
// CHECK: return %[[X]], %[[MASK]]
func.func @dropout_becomes_identity(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>) {
  %n = quarc.none
  %r = quarc.constant dense<0.5> : tensor<f32>
  %0:2 = quarc.dropout %x, %r, %n : (tensor<4xf32>, tensor<f32>, none) -> (tensor<4xf32>, tensor<4xi1>)
  return %0#0, %0#1 : tensor<4xf32>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func @dropout_unused_mask(
// CHECK-SAME: %[[X:.*]]: tensor<?xf32>
// CHECK-NEXT: return %[[X]]
func.func @dropout_unused_mask(%x: tensor<?xf32>) -> tensor<?xf32> {
  %n = quarc.none
  %0:2 = quarc.dropout %x, %n, %n : (tensor<?xf32>, none, none) -> (tensor<?xf32>, tensor<?xi1>)
  return %0#0 : tensor<?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Quantization parameters move into !quant.uniform types
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @quantize_linear_to_quantize(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>
// CHECK-NEXT: %[[Q:.*]] = quarc.quantize %[[X]] : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<u8:f32, 1.250000e-01:128>>
// CHECK-NEXT: %[[I:.*]] = quarc.storage_cast %[[Q]] : tensor<2x3x!quant.uniform<u8:f32, 1.250000e-01:128>> -> tensor<2x3xui8>
// CHECK-NEXT: return %[[I]]
func.func @quantize_linear_to_quantize(%x: tensor<2x3xf32>) -> tensor<2x3xui8> {
  %s = quarc.constant dense<0.125> : tensor<f32>
  %zp = quarc.constant dense<128> : tensor<ui8>
  %0 = quarc.quantize_linear %x, %s, %zp : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

// Without a zero point the result is ui8 with zero point 0; a 1-element
// scale is per tensor.
// CHECK-LABEL: func @quantize_linear_default_ui8(
// CHECK: quarc.quantize %{{.*}} : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<u8:f32, 5.000000e-01>>
// CHECK: quarc.storage_cast %{{.*}} : tensor<2x3x!quant.uniform<u8:f32, 5.000000e-01>> -> tensor<2x3xui8>
func.func @quantize_linear_default_ui8(%x: tensor<2x3xf32>) -> tensor<2x3xui8> {
  %s = quarc.constant dense<0.5> : tensor<1xf32>
  %n = quarc.none
  %0 = quarc.quantize_linear %x, %s, %n : (tensor<2x3xf32>, tensor<1xf32>, none) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

// CHECK-LABEL: func @quantize_linear_per_axis(
// CHECK: quarc.quantize %{{.*}} : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32:1, {5.000000e-01,2.500000e-01:1,1.250000e-01:-1}>>
// CHECK: quarc.storage_cast %{{.*}} : tensor<2x3x!quant.uniform<i8:f32:1, {5.000000e-01,2.500000e-01:1,1.250000e-01:-1}>> -> tensor<2x3xi8>
func.func @quantize_linear_per_axis(%x: tensor<2x3xf32>) -> tensor<2x3xi8> {
  %s = quarc.constant dense<[0.5, 0.25, 0.125]> : tensor<3xf32>
  %zp = quarc.constant dense<[0, 1, -1]> : tensor<3xi8>
  %0 = quarc.quantize_linear %x, %s, %zp : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  return %0 : tensor<2x3xi8>
}

// -----

// CHECK-LABEL: func @dequantize_linear_to_dequantize(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xi8>
// CHECK-NEXT: %[[Q:.*]] = quarc.storage_cast %[[X]] : tensor<2x3xi8> -> tensor<2x3x!quant.uniform<i8:f32, 2.500000e-01:-3>>
// CHECK-NEXT: %[[F:.*]] = quarc.dequantize %[[Q]] : tensor<2x3x!quant.uniform<i8:f32, 2.500000e-01:-3>> -> tensor<2x3xf32>
// CHECK-NEXT: return %[[F]]
func.func @dequantize_linear_to_dequantize(%x: tensor<2x3xi8>) -> tensor<2x3xf32> {
  %s = quarc.constant dense<0.25> : tensor<f32>
  %zp = quarc.constant dense<-3> : tensor<i8>
  %0 = quarc.dequantize_linear %x, %s, %zp : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @dequantize_linear_per_axis_0(
// CHECK: quarc.storage_cast %{{.*}} : tensor<2x3xi8> -> tensor<2x3x!quant.uniform<i8:f32:0, {5.000000e-01,2.500000e-01}>>
// CHECK: quarc.dequantize %{{.*}} : tensor<2x3x!quant.uniform<i8:f32:0, {5.000000e-01,2.500000e-01}>> -> tensor<2x3xf32>
func.func @dequantize_linear_per_axis_0(%x: tensor<2x3xi8>) -> tensor<2x3xf32> {
  %s = quarc.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %n = quarc.none
  %0 = quarc.dequantize_linear %x, %s, %n {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, none) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @quantize_linear_with_unknown_scale_stays(
// CHECK: quarc.quantize_linear
// CHECK-NOT: quarc.quantize
func.func @quantize_linear_with_unknown_scale_stays(%x: tensor<2x3xf32>, %s: tensor<f32>) -> tensor<2x3xui8> {
  %n = quarc.none
  %0 = quarc.quantize_linear %x, %s, %n : (tensor<2x3xf32>, tensor<f32>, none) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}

// -----

// Blocked quantization: a sub-channel type listing every dim, blocks of
// block_size along the axis and 1 along the others.
// CHECK-LABEL: func @dequantize_linear_blocked(
// CHECK: %[[Q:.*]] = quarc.storage_cast %{{.*}} : tensor<2x64xi8> -> tensor<2x64x!quant.uniform<i8:f32:{0:1, 1:32}, {{\{\{}}5.000000e-01:1, 2.500000e-01:2}, {1.000000e+00:3, 2.000000e+00:4}}>>
// CHECK: quarc.dequantize %[[Q]]
// CHECK-NOT: quarc.dequantize_linear
func.func @dequantize_linear_blocked(%x: tensor<2x64xi8>) -> tensor<2x64xf32> {
  %s = quarc.constant dense<[[0.5, 0.25], [1.0, 2.0]]> : tensor<2x2xf32>
  %z = quarc.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %0 = quarc.dequantize_linear %x, %s, %z {axis = 1 : i64, block_size = 32 : i64} : (tensor<2x64xi8>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

// CHECK-LABEL: func @storage_cast_pair_folds(
// CHECK-SAME: %[[X:.*]]: tensor<4xi8>
// CHECK-NEXT: return %[[X]]
func.func @storage_cast_pair_folds(%x: tensor<4xi8>) -> tensor<4xi8> {
  %0 = quarc.storage_cast %x : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
  %1 = quarc.storage_cast %0 : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<4xi8>
  return %1 : tensor<4xi8>
}

// -----

// Reinterpreting the storage with another scale is not a round trip.
// CHECK-LABEL: func @storage_cast_pair_to_other_type_stays(
// CHECK-SAME: %[[Q:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK-NEXT: %[[I:.*]] = quarc.storage_cast %[[Q]] : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<4xi8>
// CHECK-NEXT: %[[R:.*]] = quarc.storage_cast %[[I]] : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 2.000000e-01>>
// CHECK-NEXT: return %[[R]]
func.func @storage_cast_pair_to_other_type_stays(%q: tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>) -> tensor<4x!quant.uniform<i8:f32, 2.000000e-01>> {
  %0 = quarc.storage_cast %q : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<4xi8>
  %1 = quarc.storage_cast %0 : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 2.000000e-01>>
  return %1 : tensor<4x!quant.uniform<i8:f32, 2.000000e-01>>
}

// -----

//===----------------------------------------------------------------------===//
// Regression: a quantize/dequantize pair is never folded away (upstream
// quant.dcast(quant.qcast(x)) folding to x would drop the rounding and
// saturation that a QDQ model relies on).
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @dequantize_of_quantize_not_folded(
// CHECK-SAME: %[[X:.*]]: tensor<4xf32>
// CHECK-NEXT: %[[Q:.*]] = quarc.quantize %[[X]] : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK-NEXT: %[[F:.*]] = quarc.dequantize %[[Q]] : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<4xf32>
// CHECK-NEXT: return %[[F]]
func.func @dequantize_of_quantize_not_folded(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = quarc.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>
  %1 = quarc.dequantize %0 : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// An ONNX QDQ pair: the storage casts between the two meet and fold, the
// quantize and dequantize stay.
// CHECK-LABEL: func @quantize_linear_dequantize_linear_pair(
// CHECK-SAME: %[[X:.*]]: tensor<4xf32>
// CHECK-NEXT: %[[Q:.*]] = quarc.quantize %[[X]] : tensor<4xf32> -> tensor<4x!quant.uniform<u8:f32, 1.250000e-01:128>>
// CHECK-NEXT: %[[F:.*]] = quarc.dequantize %[[Q]] : tensor<4x!quant.uniform<u8:f32, 1.250000e-01:128>> -> tensor<4xf32>
// CHECK-NEXT: return %[[F]]
func.func @quantize_linear_dequantize_linear_pair(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = quarc.constant dense<0.125> : tensor<f32>
  %zp = quarc.constant dense<128> : tensor<ui8>
  %0 = quarc.quantize_linear %x, %s, %zp : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  %1 = quarc.dequantize_linear %0, %s, %zp : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
