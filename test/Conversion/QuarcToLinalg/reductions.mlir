// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg | FileCheck %s

// Reduce*, Softmax/LogSoftmax and ArgMax/ArgMin.

// The layer-norm pattern of the PP-OCR recognizer: a mean over the last
// axis of a tensor with a dynamic batch, kept as a unit dim.
// CHECK-LABEL: func @reduce_mean_keepdims_dynamic
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[FILL:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK: %[[SUM:.*]] = linalg.reduce ins(%{{.*}} : tensor<?x?x120xf32>) outs(%[[FILL]] : tensor<?x?xf32>) dimensions = [2]
// CHECK: arith.addf
// CHECK: %[[COUNT:.*]] = arith.constant 1.200000e+02 : f32
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<?x?xf32>)
// CHECK: arith.divf %{{.*}}, %[[COUNT]]
// CHECK: tensor.expand_shape %[[MEAN]] {{\[}}[0], [1, 2]] output_shape [%{{.*}}, %{{.*}}, 1] : tensor<?x?xf32> into tensor<?x?x1xf32>
func.func @reduce_mean_keepdims_dynamic(%x: tensor<?x?x120xf32>) -> tensor<?x?x1xf32> {
  %axes = quarc.constant dense<-1> : tensor<1xi64>
  %0 = quarc.reduce_mean %x, %axes : (tensor<?x?x120xf32>, tensor<1xi64>) -> tensor<?x?x1xf32>
  return %0 : tensor<?x?x1xf32>
}

// -----

// Absent axes reduce everything; a dynamic dim joins the element count.
// CHECK-LABEL: func @reduce_mean_all_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK: linalg.reduce ins(%[[X]] : tensor<?x4xf32>) outs(%{{.*}} : tensor<f32>) dimensions = [0, 1]
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[STATIC:.*]] = arith.constant 4.000000e+00 : f32
// CHECK: %[[DI:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: %[[DF:.*]] = arith.sitofp %[[DI]] : i64 to f32
// CHECK: %[[COUNT:.*]] = arith.mulf %[[STATIC]], %[[DF]]
// CHECK: arith.divf %{{.*}}, %[[COUNT]]
func.func @reduce_mean_all_dynamic(%x: tensor<?x4xf32>) -> tensor<f32> {
  %none = quarc.none
  %0 = quarc.reduce_mean %x, %none {keepdims = 0 : i64} : (tensor<?x4xf32>, none) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// CHECK-LABEL: func @reduce_max_starts_at_minus_inf
// CHECK: %[[INIT:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[FILL:.*]] = linalg.fill ins(%[[INIT]] : f32)
// CHECK: linalg.reduce ins(%{{.*}} : tensor<2x3xf32>) outs(%[[FILL]] : tensor<2xf32>) dimensions = [1]
// CHECK: arith.maximumf
func.func @reduce_max_starts_at_minus_inf(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %axes = quarc.constant dense<1> : tensor<1xi64>
  %0 = quarc.reduce_max %x, %axes {keepdims = 0 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @reduce_min_int_starts_at_max
// CHECK: %[[INIT:.*]] = arith.constant 9223372036854775807 : i64
// CHECK: linalg.fill ins(%[[INIT]] : i64)
// CHECK: linalg.reduce
// CHECK: arith.minsi
func.func @reduce_min_int_starts_at_max(%x: tensor<2x3xi64>) -> tensor<3xi64> {
  %axes = quarc.constant dense<0> : tensor<1xi64>
  %0 = quarc.reduce_min %x, %axes {keepdims = 0 : i64} : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// CHECK-LABEL: func @reduce_prod_keepdims
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: linalg.fill ins(%[[ONE]] : f32)
// CHECK: %[[R:.*]] = linalg.reduce
// CHECK: arith.mulf
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1]] output_shape [1, 3] : tensor<3xf32> into tensor<1x3xf32>
func.func @reduce_prod_keepdims(%x: tensor<2x3xf32>) -> tensor<1x3xf32> {
  %axes = quarc.constant dense<0> : tensor<1xi64>
  %0 = quarc.reduce_prod %x, %axes : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<1x3xf32>
  return %0 : tensor<1x3xf32>
}

// -----

// CHECK-LABEL: func @reduce_l2
// CHECK: linalg.reduce
// CHECK: (%[[IN:[a-z0-9_]*]]: f32, %[[ACC:[a-z0-9_]*]]: f32) {
// CHECK: %[[SQ:.*]] = arith.mulf %[[IN]], %[[IN]]
// CHECK: arith.addf %[[SQ]], %[[ACC]]
// CHECK: linalg.generic
// CHECK: math.sqrt
func.func @reduce_l2(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %axes = quarc.constant dense<1> : tensor<1xi64>
  %0 = quarc.reduce_l2 %x, %axes {keepdims = 0 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func @reduce_sum_noop_with_empty_axes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: linalg.reduce
// CHECK: return %[[X]]
func.func @reduce_sum_noop_with_empty_axes(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %axes = quarc.constant dense<> : tensor<0xi64>
  %0 = quarc.reduce_sum %x, %axes {noop_with_empty_axes = 1 : i64} : (tensor<2x3xf32>, tensor<0xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Softmax: the max, the sum of exp(x - max), then exp(x - max) / sum.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @softmax_last_axis
// CHECK-SAME: (%[[X:.*]]: tensor<?x10xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<?x10xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]], %[[MAX]] : tensor<?x10xf32>, tensor<?xf32>)
// CHECK: %[[SHIFTED:.*]] = arith.subf
// CHECK: %[[EXP:.*]] = math.exp %[[SHIFTED]]
// CHECK: arith.addf %[[EXP]]
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MAX]], %[[SUM]] : tensor<?x10xf32>, tensor<?xf32>, tensor<?xf32>)
// CHECK: math.exp
// CHECK: arith.divf
func.func @softmax_last_axis(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %0 = quarc.softmax %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// CHECK-LABEL: func @log_softmax_axis0
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK: linalg.generic
// CHECK: %[[SHIFTED:.*]] = arith.subf
// CHECK: %[[LOG:.*]] = math.log
// CHECK: arith.subf %[[SHIFTED]], %[[LOG]]
func.func @log_softmax_axis0(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = quarc.log_softmax %x {axis = 0 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// One reduction carrying the best value and its index; ties keep the first.
// CHECK-LABEL: func @arg_max_keepdims
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<?x5xf32>) outs(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xi64>)
// CHECK: ^bb0(%[[IN:[a-z0-9_]*]]: f32, %[[BEST:[a-z0-9_]*]]: f32, %[[BEST_INDEX:[a-z0-9_]*]]: i64):
// CHECK: %[[BETTER:.*]] = arith.cmpf ogt, %[[IN]], %[[BEST]]
// CHECK: %[[I:.*]] = linalg.index 1
// CHECK: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[V:.*]] = arith.select %[[BETTER]], %[[IN]], %[[BEST]]
// CHECK: %[[J:.*]] = arith.select %[[BETTER]], %[[I64]], %[[BEST_INDEX]]
// CHECK: linalg.yield %[[V]], %[[J]]
// CHECK: tensor.expand_shape %[[R]]#1 {{\[}}[0, 1]] output_shape [%{{.*}}, 1] : tensor<?xi64> into tensor<?x1xi64>
func.func @arg_max_keepdims(%x: tensor<?x5xf32>) -> tensor<?x1xi64> {
  %0 = quarc.arg_max %x {axis = 1 : i64} : (tensor<?x5xf32>) -> tensor<?x1xi64>
  return %0 : tensor<?x1xi64>
}

// -----

// select_last_index: a non-strict comparison lets later ties win.
// CHECK-LABEL: func @arg_min_select_last_index
// CHECK: %[[INIT:.*]] = arith.constant 2147483647 : i32
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
// CHECK: arith.cmpi sle
// CHECK: linalg.index 0
func.func @arg_min_select_last_index(%x: tensor<3x5xi32>) -> tensor<5xi64> {
  %0 = quarc.arg_min %x {keepdims = 0 : i64, select_last_index = 1 : i64} : (tensor<3x5xi32>) -> tensor<5xi64>
  return %0 : tensor<5xi64>
}
