// RUN: quarc-opt %s --quarc-specialize-shapes='input-shapes=x=2x3x8x8' | FileCheck %s

// Fixing the input shape makes the whole graph static: Shape folds, the
// computed reshape becomes static, the function type follows.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%{{.*}}: tensor<2x3x8x8xf32> {quarc.name = "x"}) -> tensor<2x192xf32>
// CHECK-NOT: quarc.shape
// CHECK: quarc.reshape %{{.*}}, %{{.*}} : (tensor<2x3x8x8xf32>, tensor<2xi64>) -> tensor<2x192xf32>
func.func @reshape_chain(%x: tensor<?x3x?x?xf32> {quarc.name = "x"}) -> tensor<?x?xf32> {
  %shape = quarc.shape %x : (tensor<?x3x?x?xf32>) -> tensor<4xi64>
  %zero = quarc.constant dense<0> : tensor<1xi64>
  %one = quarc.constant dense<1> : tensor<1xi64>
  %batch = quarc.slice %shape, %zero, %one, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %minus = quarc.constant dense<-1> : tensor<1xi64>
  %target = quarc.concat %batch, %minus {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = quarc.reshape %x, %target : (tensor<?x3x?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

