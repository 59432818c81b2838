// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg -verify-diagnostics | FileCheck %s
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg -verify-diagnostics | quarc-opt -split-input-file > /dev/null

// MatMul (numpy semantics) and Gemm lowerings. The numerics of every
// configuration here were compared with onnxruntime by running the lowered
// code; these tests pin which linalg op each shape becomes.

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @matmul_2d(
// CHECK-SAME:      %[[A:.+]]: tensor<?x4xf32>, %[[B:.+]]: tensor<4x5xf32>
// CHECK:         %[[M:.+]] = tensor.dim %[[A]], %c0
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[EMPTY:.+]] = tensor.empty(%[[M]]) : tensor<?x5xf32>
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<?x5xf32>)
// CHECK:         %[[PRODUCT:.+]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<?x4xf32>, tensor<4x5xf32>) outs(%[[INIT]] : tensor<?x5xf32>)
// CHECK:         return %[[PRODUCT]]
func.func @matmul_2d(%a: tensor<?x4xf32>, %b: tensor<4x5xf32>) -> tensor<?x5xf32> {
  %r = quarc.matmul %a, %b : (tensor<?x4xf32>, tensor<4x5xf32>) -> tensor<?x5xf32>
  return %r : tensor<?x5xf32>
}

// -----

// A batched A times a 2-D B (a transformer's projections): the batch folds
// into the rows of one matmul.
// CHECK-LABEL: func @matmul_batched_lhs_2d_rhs_folds_batch_into_rows(
// CHECK-SAME:      %[[A:.+]]: tensor<?x12x4x5xf32>, %[[B:.+]]: tensor<5x6xf32>
// CHECK:         %[[N:.+]] = tensor.dim %[[A]], %c0
// CHECK:         %[[ROWS:.+]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1, 2], [3]] : tensor<?x12x4x5xf32> into tensor<?x5xf32>
// CHECK:         %[[PRODUCT:.+]] = linalg.matmul ins(%[[ROWS]], %[[B]] : tensor<?x5xf32>, tensor<5x6xf32>) outs(%{{.+}} : tensor<?x6xf32>)
// CHECK:         %[[RESULT:.+]] = tensor.expand_shape %[[PRODUCT]] {{\[}}[0, 1, 2], [3]] output_shape [%[[N]], 12, 4, 6] : tensor<?x6xf32> into tensor<?x12x4x6xf32>
// CHECK:         return %[[RESULT]]
func.func @matmul_batched_lhs_2d_rhs_folds_batch_into_rows(%a: tensor<?x12x4x5xf32>, %b: tensor<5x6xf32>) -> tensor<?x12x4x6xf32> {
  %r = quarc.matmul %a, %b : (tensor<?x12x4x5xf32>, tensor<5x6xf32>) -> tensor<?x12x4x6xf32>
  return %r : tensor<?x12x4x6xf32>
}

// -----

// Dynamic batch and sequence: folding both into the rows would need an
// expand_shape with two dynamic dims in one group (which LLVM 22's
// expand-strided-metadata cannot lower), so a batch_matmul reads the shared
// B through its indexing map instead.
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func @matmul_two_dynamic_rows_broadcast_rhs(
// CHECK-SAME:      %[[A:.+]]: tensor<?x?x768xf32>, %[[B:.+]]: tensor<768x64xf32>
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         %[[PRODUCT:.+]] = linalg.batch_matmul indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]] ins(%[[A]], %[[B]] : tensor<?x?x768xf32>, tensor<768x64xf32>) outs(%{{.+}} : tensor<?x?x64xf32>)
// CHECK-NEXT:    return %[[PRODUCT]]
func.func @matmul_two_dynamic_rows_broadcast_rhs(%a: tensor<?x?x768xf32>, %b: tensor<768x64xf32>) -> tensor<?x?x64xf32> {
  %r = quarc.matmul %a, %b : (tensor<?x?x768xf32>, tensor<768x64xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

// A 2-D A times a batched B: batch_matmul over the collapsed batch, reading
// the same A for every batch.
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-LABEL: func @matmul_2d_lhs_batched_rhs(
// CHECK-SAME:      %[[A:.+]]: tensor<4x5xf32>, %[[B:.+]]: tensor<2x3x5x6xf32>
// CHECK:         %[[BATCHES:.+]] = tensor.collapse_shape %[[B]] {{\[}}[0, 1], [2], [3]] : tensor<2x3x5x6xf32> into tensor<6x5x6xf32>
// CHECK:         %[[PRODUCT:.+]] = linalg.batch_matmul indexing_maps = [#[[LHS]], #[[RHS]], #{{.+}}] ins(%[[A]], %[[BATCHES]] : tensor<4x5xf32>, tensor<6x5x6xf32>) outs(%{{.+}} : tensor<6x4x6xf32>)
// CHECK:         tensor.expand_shape %[[PRODUCT]] {{\[}}[0, 1], [2], [3]] output_shape [2, 3, 4, 6] : tensor<6x4x6xf32> into tensor<2x3x4x6xf32>
func.func @matmul_2d_lhs_batched_rhs(%a: tensor<4x5xf32>, %b: tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32> {
  %r = quarc.matmul %a, %b : (tensor<4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
  return %r : tensor<2x3x4x6xf32>
}

// -----

// Equal batches (attention scores): one batch dim on both sides.
// CHECK-LABEL: func @matmul_equal_batches(
// CHECK-SAME:      %[[A:.+]]: tensor<?x12x4x5xf32>, %[[B:.+]]: tensor<?x12x5x6xf32>
// CHECK:         %[[N:.+]] = tensor.dim %[[A]], %c0
// CHECK:         %[[LHS:.+]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<?x12x4x5xf32> into tensor<?x4x5xf32>
// CHECK:         %[[RHS:.+]] = tensor.collapse_shape %[[B]] {{\[}}[0, 1], [2], [3]] : tensor<?x12x5x6xf32> into tensor<?x5x6xf32>
// CHECK:         %[[PRODUCT:.+]] = linalg.batch_matmul ins(%[[LHS]], %[[RHS]] : tensor<?x4x5xf32>, tensor<?x5x6xf32>) outs(%{{.+}} : tensor<?x4x6xf32>)
// CHECK:         tensor.expand_shape %[[PRODUCT]] {{\[}}[0, 1], [2], [3]] output_shape [%[[N]], 12, 4, 6] : tensor<?x4x6xf32> into tensor<?x12x4x6xf32>
func.func @matmul_equal_batches(%a: tensor<?x12x4x5xf32>, %b: tensor<?x12x5x6xf32>) -> tensor<?x12x4x6xf32> {
  %r = quarc.matmul %a, %b : (tensor<?x12x4x5xf32>, tensor<?x12x5x6xf32>) -> tensor<?x12x4x6xf32>
  return %r : tensor<?x12x4x6xf32>
}

// -----

// Size-1 batch dims broadcasting against others: one generic contraction
// reading them at index 0; integer arithmetic for integer operands.
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d4)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d3)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @matmul_broadcast_batches_generic(
// CHECK:         %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK:         linalg.fill ins(%[[ZERO]] : i32)
// CHECK:         linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<2x1x4x5xi32>, tensor<3x5x6xi32>) outs(%{{.+}} : tensor<2x3x4x6xi32>)
// CHECK:           arith.muli
// CHECK:           arith.addi
func.func @matmul_broadcast_batches_generic(%a: tensor<2x1x4x5xi32>, %b: tensor<3x5x6xi32>) -> tensor<2x3x4x6xi32> {
  %r = quarc.matmul %a, %b : (tensor<2x1x4x5xi32>, tensor<3x5x6xi32>) -> tensor<2x3x4x6xi32>
  return %r : tensor<2x3x4x6xi32>
}

// -----

// A 1-D A is a 1 x K row; the unit dim is dropped from the result.
// CHECK-LABEL: func @matmul_vector_matrix(
// CHECK-SAME:      %[[A:.+]]: tensor<5xf32>, %[[B:.+]]: tensor<5x6xf32>
// CHECK:         %[[ROW:.+]] = tensor.expand_shape %[[A]] {{\[}}[0, 1]] output_shape [1, 5] : tensor<5xf32> into tensor<1x5xf32>
// CHECK:         %[[PRODUCT:.+]] = linalg.matmul ins(%[[ROW]], %[[B]] : tensor<1x5xf32>, tensor<5x6xf32>) outs(%{{.+}} : tensor<1x6xf32>)
// CHECK:         %[[RESULT:.+]] = tensor.collapse_shape %[[PRODUCT]] {{\[}}[0, 1]] : tensor<1x6xf32> into tensor<6xf32>
// CHECK:         return %[[RESULT]]
func.func @matmul_vector_matrix(%a: tensor<5xf32>, %b: tensor<5x6xf32>) -> tensor<6xf32> {
  %r = quarc.matmul %a, %b : (tensor<5xf32>, tensor<5x6xf32>) -> tensor<6xf32>
  return %r : tensor<6xf32>
}

// -----

// A 1-D B is a K x 1 column.
// CHECK-LABEL: func @matmul_batched_matrix_vector(
// CHECK-SAME:      %[[A:.+]]: tensor<?x4x5xf32>, %[[B:.+]]: tensor<5xf32>
// CHECK:         %[[COLUMN:.+]] = tensor.expand_shape %[[B]] {{\[}}[0, 1]] output_shape [5, 1] : tensor<5xf32> into tensor<5x1xf32>
// CHECK:         linalg.matmul ins(%{{.+}}, %[[COLUMN]] : tensor<?x5xf32>, tensor<5x1xf32>) outs(%{{.+}} : tensor<?x1xf32>)
// CHECK:         %[[RESULT:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2]] : tensor<?x4x1xf32> into tensor<?x4xf32>
// CHECK:         return %[[RESULT]]
func.func @matmul_batched_matrix_vector(%a: tensor<?x4x5xf32>, %b: tensor<5xf32>) -> tensor<?x4xf32> {
  %r = quarc.matmul %a, %b : (tensor<?x4x5xf32>, tensor<5xf32>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// Two vectors: a dot product, a 0-D result.
// CHECK-LABEL: func @matmul_vector_vector(
// CHECK:         %[[PRODUCT:.+]] = linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<1x5xf32>, tensor<5x1xf32>) outs(%{{.+}} : tensor<1x1xf32>)
// CHECK:         %[[RESULT:.+]] = tensor.collapse_shape %[[PRODUCT]] [] : tensor<1x1xf32> into tensor<f32>
// CHECK:         return %[[RESULT]]
func.func @matmul_vector_vector(%a: tensor<5xf32>, %b: tensor<5xf32>) -> tensor<f32> {
  %r = quarc.matmul %a, %b : (tensor<5xf32>, tensor<5xf32>) -> tensor<f32>
  return %r : tensor<f32>
}

// -----

//===----------------------------------------------------------------------===//
// Gemm
//===----------------------------------------------------------------------===//

// transB is an indexing map of linalg.matmul (no transposed copy); C is
// broadcast into the accumulator.
// CHECK-DAG:   #[[ROWVEC:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @gemm_bias_is_the_accumulator(
// CHECK-SAME:      %[[A:.+]]: tensor<?x4xf32>, %[[B:.+]]: tensor<5x4xf32>, %[[C:.+]]: tensor<5xf32>
// CHECK:         %[[M:.+]] = tensor.dim %[[A]], %c0
// CHECK:         %[[EMPTY:.+]] = tensor.empty(%[[M]]) : tensor<?x5xf32>
// CHECK:         %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[ROWVEC]], #{{.+}}]{{.*}} ins(%[[C]] : tensor<5xf32>) outs(%[[EMPTY]] : tensor<?x5xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK:         %[[Y:.+]] = linalg.matmul indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]] ins(%[[A]], %[[B]] : tensor<?x4xf32>, tensor<5x4xf32>) outs(%[[INIT]] : tensor<?x5xf32>)
// CHECK-NEXT:    return %[[Y]]
func.func @gemm_bias_is_the_accumulator(%a: tensor<?x4xf32>, %b: tensor<5x4xf32>, %c: tensor<5xf32>) -> tensor<?x5xf32> {
  %r = quarc.gemm %a, %b, %c {transB = 1 : i64} : (tensor<?x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<?x5xf32>
  return %r : tensor<?x5xf32>
}

// -----

// With alpha 1, beta scales C as it is broadcast into the accumulator.
// CHECK-DAG:   #[[COLUMN:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @gemm_beta_scales_accumulator(
// CHECK:         %[[INIT:.+]] = linalg.generic {indexing_maps = [#[[COLUMN]], #{{.+}}]{{.*}} ins(%{{.+}} : tensor<3x1xf32>) outs(%{{.+}} : tensor<3x5xf32>)
// CHECK:           %[[BETA:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:           arith.mulf %{{.+}}, %[[BETA]] : f32
// CHECK:         %[[Y:.+]] = linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<3x4xf32>, tensor<4x5xf32>) outs(%[[INIT]] : tensor<3x5xf32>)
// CHECK-NEXT:    return %[[Y]]
func.func @gemm_beta_scales_accumulator(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<3x1xf32>) -> tensor<3x5xf32> {
  %r = quarc.gemm %a, %b, %c {beta = 0.5 : f32} : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<3x1xf32>) -> tensor<3x5xf32>
  return %r : tensor<3x5xf32>
}

// -----

// alpha != 1: the product into zeros, then alpha * AB + beta * C in one
// generic; transA is the lhs map.
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-LABEL: func @gemm_alpha_scales_after(
// CHECK-SAME:      %[[A:.+]]: tensor<4x3xf32>, %[[B:.+]]: tensor<4x5xf32>, %[[C:.+]]: tensor<3x5xf32>
// CHECK:         %[[INIT:.+]] = linalg.fill
// CHECK:         %[[AB:.+]] = linalg.matmul indexing_maps = [#[[LHS]], #{{.+}}, #{{.+}}] ins(%[[A]], %[[B]] : tensor<4x3xf32>, tensor<4x5xf32>) outs(%[[INIT]] : tensor<3x5xf32>)
// CHECK:         linalg.generic {{.+}} ins(%[[AB]], %[[C]] : tensor<3x5xf32>, tensor<3x5xf32>)
// CHECK:           %[[ALPHA:.+]] = arith.constant 2.000000e+00 : f32
// CHECK:           %[[SCALED:.+]] = arith.mulf %{{.+}}, %[[ALPHA]] : f32
// CHECK:           %[[BETA:.+]] = arith.constant 3.000000e+00 : f32
// CHECK:           %[[SCALEDC:.+]] = arith.mulf %{{.+}}, %[[BETA]] : f32
// CHECK:           arith.addf %[[SCALED]], %[[SCALEDC]] : f32
func.func @gemm_alpha_scales_after(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>, %c: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %r = quarc.gemm %a, %b, %c {alpha = 2.0 : f32, beta = 3.0 : f32, transA = 1 : i64} : (tensor<4x3xf32>, tensor<4x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  return %r : tensor<3x5xf32>
}

// -----

// CHECK-LABEL: func @gemm_without_c(
// CHECK:         %[[INIT:.+]] = linalg.fill
// CHECK:         %[[Y:.+]] = linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<3x4xf32>, tensor<4x5xf32>) outs(%[[INIT]] : tensor<3x5xf32>)
// CHECK-NEXT:    return %[[Y]]
func.func @gemm_without_c(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<3x5xf32> {
  %n = quarc.none
  %r = quarc.gemm %a, %b, %n : (tensor<3x4xf32>, tensor<4x5xf32>, none) -> tensor<3x5xf32>
  return %r : tensor<3x5xf32>
}

// -----

func.func @gemm_integer_alpha_is_rejected(%a: tensor<2x3xi32>, %b: tensor<3x4xi32>) -> tensor<2x4xi32> {
  %n = quarc.none
  // expected-error @+1 {{integer Gemm lowers to linalg only with alpha and beta 1}}
  %r = quarc.gemm %a, %b, %n {alpha = 2.0 : f32} : (tensor<2x3xi32>, tensor<3x4xi32>, none) -> tensor<2x4xi32>
  return %r : tensor<2x4xi32>
}
