// RUN: quarc-opt %s --quarc-specialize-shapes='input-shapes=y=?x4' | FileCheck %s

// A `?` keeps a dimension dynamic.
// CHECK-LABEL: func.func @keep_batch
// CHECK-SAME: tensor<?x4xf32>
// CHECK: quarc.relu %{{.*}} : (tensor<?x4xf32>) -> tensor<?x4xf32>
func.func @keep_batch(%y: tensor<?x?xf32> {quarc.name = "y"}) -> tensor<?x?xf32> {
  %r = quarc.relu %y : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
