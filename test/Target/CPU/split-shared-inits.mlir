// RUN: quarc-opt %s -split-input-file --quarc-split-shared-inits | FileCheck %s

// Two products start from one zero fill (CSE merged theirs): the first gets
// its own copy of the fill, the second keeps the original.

// CHECK-LABEL: func.func @shared_fill
// CHECK:       %[[EMPTY:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK:       %[[FILL:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[EMPTY]] : tensor<4x8xf32>)
// CHECK:       %[[OWN:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[EMPTY]] : tensor<4x8xf32>)
// CHECK:       linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x8xf32>) outs(%[[OWN]] : tensor<4x8xf32>)
// CHECK:       linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x8xf32>) outs(%[[FILL]] : tensor<4x8xf32>)
func.func @shared_fill(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>, %c: tensor<16x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x8xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x8xf32>) -> tensor<4x8xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%fill : tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = linalg.matmul ins(%a, %c : tensor<4x16xf32>, tensor<16x8xf32>) outs(%fill : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A bias broadcast seen through a reshape by one product and directly by
// another: the first gets its own broadcast and reshape (the original
// reshape, unused, goes), the second keeps the original.

#row = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @shared_broadcast
// CHECK:       %[[BIAS:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8xf32>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK-NOT:   tensor.expand_shape %[[BIAS]]
// CHECK:       %[[OWN:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8xf32>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK:       %[[OWNVIEW:.*]] = tensor.expand_shape %[[OWN]]
// CHECK:       linalg.batch_matmul {{.*}} outs(%[[OWNVIEW]] : tensor<1x4x8xf32>)
// CHECK:       linalg.matmul {{.*}} outs(%[[BIAS]] : tensor<4x8xf32>)
func.func @shared_broadcast(%a: tensor<1x4x16xf32>, %a2: tensor<4x16xf32>, %b: tensor<1x16x8xf32>, %b2: tensor<16x8xf32>, %bias: tensor<8xf32>) -> (tensor<1x4x8xf32>, tensor<4x8xf32>) {
  %empty = tensor.empty() : tensor<4x8xf32>
  %broadcast = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]} ins(%bias : tensor<8xf32>) outs(%empty : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x8xf32>
  %view = tensor.expand_shape %broadcast [[0, 1], [2]] output_shape [1, 4, 8] : tensor<4x8xf32> into tensor<1x4x8xf32>
  %0 = linalg.batch_matmul ins(%a, %b : tensor<1x4x16xf32>, tensor<1x16x8xf32>) outs(%view : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %1 = linalg.matmul ins(%a2, %b2 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%broadcast : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1 : tensor<1x4x8xf32>, tensor<4x8xf32>
}

// -----

// An init that is computed (not a fill or a copy) stays shared: recomputing
// it could cost more than the copy bufferization makes.

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @computed_init
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT:     linalg.generic
func.func @computed_init(%a: tensor<4x16xf32>, %b: tensor<16x8xf32>, %x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %empty = tensor.empty() : tensor<4x8xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%empty : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  } -> tensor<4x8xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%exp : tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x8xf32>) outs(%exp : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}
