// RUN: quarc-opt %s -canonicalize -split-input-file | FileCheck %s

// A declared result may refine `?` dims of the inferred type; a fold must not
// then replace the result with the less static operand.

// CHECK-LABEL: func @identity_refines
// CHECK: quarc.identity
func.func @identity_refines(%x: tensor<?x3xf32>) -> tensor<2x3xf32> {
  %0 = quarc.identity %x : (tensor<?x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_identity_refines
// CHECK: quarc.transpose
func.func @transpose_identity_refines(%x: tensor<?x3xf32>) -> tensor<2x3xf32> {
  %0 = quarc.transpose %x {perm = array<i64: 0, 1>} : (tensor<?x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @identity_same_type_folds
// CHECK-NOT: quarc.identity
// CHECK: return %arg0
func.func @identity_same_type_folds(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = quarc.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
