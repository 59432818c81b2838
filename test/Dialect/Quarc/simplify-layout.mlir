// RUN: quarc-opt %s -split-input-file --quarc-simplify-layout | FileCheck %s

//===----------------------------------------------------------------------===//
// Transposes of constants at compile time
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @transpose_of_constant_folds(
// CHECK: %[[C:.*]] = quarc.constant dense<{{\[\[}}1, 4], [2, 5], [3, 6]]> : tensor<3x2xi32>
// CHECK-NOT: quarc.transpose
// CHECK: return %[[C]]
func.func @transpose_of_constant_folds() -> tensor<3x2xi32> {
  %c = quarc.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi32>
  %t = quarc.transpose %c : (tensor<2x3xi32>) -> tensor<3x2xi32>
  return %t : tensor<3x2xi32>
}

// -----

// Result dim i is source dim perm[i]: element [i, j, k] of the result is
// source element [j, k, i].
// CHECK-LABEL: func @transpose_of_constant_3d(
// CHECK: %[[C:.*]] = quarc.constant dense<{{\[\[\[}}0.000000e+00, 2.000000e+00], [4.000000e+00, 6.000000e+00]], {{\[\[}}1.000000e+00, 3.000000e+00], [5.000000e+00, 7.000000e+00]]]> : tensor<2x2x2xf32>
// CHECK: return %[[C]]
func.func @transpose_of_constant_3d() -> tensor<2x2x2xf32> {
  %c = quarc.constant dense<[[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]]> : tensor<2x2x2xf32>
  %t = quarc.transpose %c {perm = array<i64: 2, 0, 1>} : (tensor<2x2x2xf32>) -> tensor<2x2x2xf32>
  return %t : tensor<2x2x2xf32>
}

// -----

// MatMul by a transposed weight reads a transposed constant.
// CHECK-LABEL: func @matmul_of_transposed_constant(
// CHECK-SAME: %[[X:.*]]: tensor<4x3xf32>
// CHECK: %[[W:.*]] = quarc.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-NOT: quarc.transpose
// CHECK: quarc.matmul %[[X]], %[[W]]
func.func @matmul_of_transposed_constant(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = quarc.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %t = quarc.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = quarc.matmul %x, %t : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// Large weights stay resources (named after the source), splats stay splats.
// Element [j, i] of the result is element [i, j] = 10 * i + j of the source.
// CHECK-LABEL: func @transpose_of_large_constant_is_resource(
// CHECK-DAG: %[[T:.*]] = quarc.constant dense_resource<w_t> : tensor<10x9xi8>
// CHECK-DAG: %[[S:.*]] = quarc.constant dense<2.000000e+00> : tensor<10x9xf32>
// CHECK-NOT: quarc.transpose
// CHECK: return %[[T]], %[[S]]
// CHECK: w_t: "0x08000000000A141E28323C4650010B151F29333D4751020C16202A343E4852030D17212B353F4953040E18222C36404A54050F19232D37414B5506101A242E38424C5607111B252F39434D5708121C26303A444E5809131D27313B454F59"
func.func @transpose_of_large_constant_is_resource() -> (tensor<10x9xi8>, tensor<10x9xf32>) {
  %c = quarc.constant dense_resource<w> : tensor<9x10xi8>
  %t = quarc.transpose %c : (tensor<9x10xi8>) -> tensor<10x9xi8>
  %splat = quarc.constant dense<2.0> : tensor<9x10xf32>
  %s = quarc.transpose %splat : (tensor<9x10xf32>) -> tensor<10x9xf32>
  return %t, %s : tensor<10x9xi8>, tensor<10x9xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x04000000000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F50515253545556575859"
    }
  }
#-}

// -----

// A large constant that is also used untransposed is not stored twice.
// CHECK-LABEL: func @transpose_of_large_shared_constant_stays(
// CHECK: %[[C:.*]] = quarc.constant
// CHECK: %[[T:.*]] = quarc.transpose %[[C]]
// CHECK: return %[[C]], %[[T]]
func.func @transpose_of_large_shared_constant_stays() -> (tensor<300x300xf32>, tensor<300x300xf32>) {
  %c = quarc.constant dense<1.0> : tensor<300x300xf32>
  %t = quarc.transpose %c : (tensor<300x300xf32>) -> tensor<300x300xf32>
  return %c, %t : tensor<300x300xf32>, tensor<300x300xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Gemm transA/transB
//===----------------------------------------------------------------------===//

// nn.Linear: B is N x K with transB = 1; afterwards B is K x N, flag gone.
// CHECK-LABEL: func @gemm_trans_b_constant(
// CHECK-SAME: %[[A:.*]]: tensor<4x3xf32>
// CHECK-DAG: %[[B:.*]] = quarc.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: %[[C:.*]] = quarc.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = quarc.gemm %[[A]], %[[B]], %[[C]] {alpha = 2.000000e+00 : f32} : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
// CHECK: return %[[Y]]
func.func @gemm_trans_b_constant(%a: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %b = quarc.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %c = quarc.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = quarc.gemm %a, %b, %c {alpha = 2.0 : f32, transB = 1 : i64} : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// CHECK-LABEL: func @gemm_trans_a_constant(
// CHECK-SAME: %[[B:.*]]: tensor<2x5xf32>
// CHECK: %[[A:.*]] = quarc.constant dense<{{\[\[}}1.000000e+00, 3.000000e+00], [2.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK: quarc.gemm %[[A]], %[[B]], %{{.*}} : (tensor<2x2xf32>, tensor<2x5xf32>, none)
func.func @gemm_trans_a_constant(%b: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %none = quarc.none
  %a = quarc.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %y = quarc.gemm %a, %b, %none {transA = 1 : i64} : (tensor<2x2xf32>, tensor<2x5xf32>, none) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// Two Gemms reading one large weight transposed share one transposed copy.
// CHECK-LABEL: func @gemms_share_transposed_constant(
// CHECK: %[[B:.*]] = quarc.constant dense<1.000000e+00> : tensor<3x100xf32>
// CHECK-NOT: quarc.constant
// CHECK: quarc.gemm %{{.*}}, %[[B]], %{{.*}} : (tensor<4x3xf32>, tensor<3x100xf32>, none)
// CHECK: quarc.gemm %{{.*}}, %[[B]], %{{.*}} : (tensor<5x3xf32>, tensor<3x100xf32>, none)
func.func @gemms_share_transposed_constant(%a: tensor<4x3xf32>, %a2: tensor<5x3xf32>) -> (tensor<4x100xf32>, tensor<5x100xf32>) {
  %none = quarc.none
  %b = quarc.constant dense<1.0> : tensor<100x3xf32>
  %y = quarc.gemm %a, %b, %none {transB = 1 : i64} : (tensor<4x3xf32>, tensor<100x3xf32>, none) -> tensor<4x100xf32>
  %z = quarc.gemm %a2, %b, %none {transB = 1 : i64} : (tensor<5x3xf32>, tensor<100x3xf32>, none) -> tensor<5x100xf32>
  return %y, %z : tensor<4x100xf32>, tensor<5x100xf32>
}

// -----

// transB on transpose(X): the two transposes cancel.
// CHECK-LABEL: func @gemm_trans_b_of_transpose(
// CHECK-SAME: %[[A:.*]]: tensor<4x3xf32>, %[[X:.*]]: tensor<3x2xf32>
// CHECK-NOT: quarc.transpose
// CHECK: quarc.gemm %[[A]], %[[X]], %{{.*}} : (tensor<4x3xf32>, tensor<3x2xf32>, none)
func.func @gemm_trans_b_of_transpose(%a: tensor<4x3xf32>, %x: tensor<3x2xf32>) -> tensor<4x2xf32> {
  %none = quarc.none
  %t = quarc.transpose %x : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %y = quarc.gemm %a, %t, %none {transB = 1 : i64} : (tensor<4x3xf32>, tensor<2x3xf32>, none) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// CHECK-LABEL: func @gemm_trans_b_of_argument_stays(
// CHECK: quarc.gemm {{.*}} {transB = 1 : i64}
func.func @gemm_trans_b_of_argument_stays(%a: tensor<4x3xf32>, %b: tensor<2x3xf32>) -> tensor<4x2xf32> {
  %none = quarc.none
  %y = quarc.gemm %a, %b, %none {transB = 1 : i64} : (tensor<4x3xf32>, tensor<2x3xf32>, none) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// A large weight that is also used elsewhere keeps the flag.
// CHECK-LABEL: func @gemm_trans_b_of_large_shared_constant_stays(
// CHECK: quarc.gemm {{.*}} {transB = 1 : i64}
func.func @gemm_trans_b_of_large_shared_constant_stays(%a: tensor<4x300xf32>) -> (tensor<4x300xf32>, tensor<300x300xf32>) {
  %none = quarc.none
  %b = quarc.constant dense<1.0> : tensor<300x300xf32>
  %y = quarc.gemm %a, %b, %none {transB = 1 : i64} : (tensor<4x300xf32>, tensor<300x300xf32>, none) -> tensor<4x300xf32>
  return %y, %b : tensor<4x300xf32>, tensor<300x300xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Transposes that move no data, transpose pairs
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @transpose_of_unit_dims_is_reshape(
// CHECK-SAME: %[[X:.*]]: tensor<1x3x1x4xf32>
// CHECK: %[[S:.*]] = quarc.constant dense<[1, 1, 3, 4]> : tensor<4xi64>
// CHECK: %[[R:.*]] = quarc.reshape %[[X]], %[[S]] : (tensor<1x3x1x4xf32>, tensor<4xi64>) -> tensor<1x1x3x4xf32>
// CHECK-NOT: quarc.transpose
// CHECK: return %[[R]]
func.func @transpose_of_unit_dims_is_reshape(%x: tensor<1x3x1x4xf32>) -> tensor<1x1x3x4xf32> {
  %t = quarc.transpose %x {perm = array<i64: 2, 0, 1, 3>} : (tensor<1x3x1x4xf32>) -> tensor<1x1x3x4xf32>
  return %t : tensor<1x1x3x4xf32>
}

// -----

// CHECK-LABEL: func @transpose_moving_data_stays(
// CHECK: quarc.transpose
func.func @transpose_moving_data_stays(%x: tensor<1x3x1x4xf32>) -> tensor<1x4x1x3xf32> {
  %t = quarc.transpose %x {perm = array<i64: 0, 3, 2, 1>} : (tensor<1x3x1x4xf32>) -> tensor<1x4x1x3xf32>
  return %t : tensor<1x4x1x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_with_dynamic_dims_stays(
// CHECK: quarc.transpose
func.func @transpose_with_dynamic_dims_stays(%x: tensor<?x1x4xf32>) -> tensor<1x?x4xf32> {
  %t = quarc.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<?x1x4xf32>) -> tensor<1x?x4xf32>
  return %t : tensor<1x?x4xf32>
}

// -----

// NCHW -> NHWC -> NCHW around nothing: both go.
// CHECK-LABEL: func @transpose_pair_cancels(
// CHECK-SAME: %[[X:.*]]: tensor<1x3x4x5xf32>
// CHECK-NOT: quarc.transpose
// CHECK: return %[[X]]
func.func @transpose_pair_cancels(%x: tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32> {
  %0 = quarc.transpose %x {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x3x4x5xf32>) -> tensor<1x4x5x3xf32>
  %1 = quarc.transpose %0 {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x5x3xf32>) -> tensor<1x3x4x5xf32>
  return %1 : tensor<1x3x4x5xf32>
}

// -----

// CHECK-LABEL: func @transpose_pair_composes(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x4xf32>
// CHECK: %[[T:.*]] = quarc.transpose %[[X]] {perm = array<i64: 2, 0, 1>}
// CHECK-NOT: quarc.transpose
// CHECK: return %[[T]]
func.func @transpose_pair_composes(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = quarc.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = quarc.transpose %0 {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Reshape chains
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @unsqueeze_flatten_chain_is_one_reshape(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x4xf32>
// CHECK: %[[S:.*]] = quarc.constant dense<[6, 4]> : tensor<2xi64>
// CHECK: %[[R:.*]] = quarc.reshape %[[X]], %[[S]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
// CHECK-NOT: quarc.unsqueeze
// CHECK-NOT: quarc.flatten
// CHECK: return %[[R]]
func.func @unsqueeze_flatten_chain_is_one_reshape(%x: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
  %axes = quarc.constant dense<[0]> : tensor<1xi64>
  %0 = quarc.unsqueeze %x, %axes : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %1 = quarc.flatten %0 {axis = 3 : i64} : (tensor<1x2x3x4xf32>) -> tensor<6x4xf32>
  return %1 : tensor<6x4xf32>
}

// -----

// CHECK-LABEL: func @squeeze_of_unsqueeze_cancels(
// CHECK-SAME: %[[X:.*]]: tensor<3x4xf32>
// CHECK-NOT: quarc.squeeze
// CHECK-NOT: quarc.unsqueeze
// CHECK-NOT: quarc.reshape
// CHECK: return %[[X]]
func.func @squeeze_of_unsqueeze_cancels(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %axes = quarc.constant dense<[1]> : tensor<1xi64>
  %0 = quarc.unsqueeze %x, %axes : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3x1x4xf32>
  %1 = quarc.squeeze %0, %axes : (tensor<3x1x4xf32>, tensor<1xi64>) -> tensor<3x4xf32>
  return %1 : tensor<3x4xf32>
}

// -----

// Reshape's folder takes the flatten too (also under canonicalize).
// CHECK-LABEL: func @reshape_of_flatten(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x4xf32>
// CHECK: %[[R:.*]] = quarc.reshape %[[X]], %{{.*}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
// CHECK-NOT: quarc.flatten
// CHECK: return %[[R]]
func.func @reshape_of_flatten(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = quarc.flatten %x : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  %s = quarc.constant dense<[4, 6]> : tensor<2xi64>
  %1 = quarc.reshape %0, %s : (tensor<2x12xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// A flatten that changes nothing is removed.
// CHECK-LABEL: func @flatten_of_matrix_folds(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32>
// CHECK-NOT: quarc.flatten
// CHECK: return %[[X]]
func.func @flatten_of_matrix_folds(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = quarc.flatten %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A lone flatten is already one view: it stays as it is.
// CHECK-LABEL: func @lone_flatten_stays(
// CHECK: quarc.flatten
func.func @lone_flatten_stays(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %0 = quarc.flatten %x : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  return %0 : tensor<2x12xf32>
}

// -----

// With a dynamic dim the chain stays (the shape would need a -1 or a 0).
// CHECK-LABEL: func @dynamic_chain_stays(
// CHECK: quarc.unsqueeze
// CHECK: quarc.flatten
func.func @dynamic_chain_stays(%x: tensor<?x3x4xf32>) -> tensor<?x4xf32> {
  %axes = quarc.constant dense<[0]> : tensor<1xi64>
  %0 = quarc.unsqueeze %x, %axes : (tensor<?x3x4xf32>, tensor<1xi64>) -> tensor<1x?x3x4xf32>
  %1 = quarc.flatten %0 {axis = 3 : i64} : (tensor<1x?x3x4xf32>) -> tensor<?x4xf32>
  return %1 : tensor<?x4xf32>
}
