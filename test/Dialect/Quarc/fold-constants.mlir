// RUN: quarc-opt %s -split-input-file --quarc-fold-constants | FileCheck %s

// CHECK-LABEL: func.func @shape_arithmetic
// CHECK: %[[C:.*]] = quarc.constant dense<[2, 96]> : tensor<2xi64>
// CHECK-NEXT: return %[[C]]
func.func @shape_arithmetic() -> tensor<2xi64> {
  %s = quarc.constant dense<[2, 3, 4, 8]> : tensor<4xi64>
  %none = quarc.none
  %zero = quarc.constant dense<0> : tensor<1xi64>
  %i = quarc.cast %s {to = i32} : (tensor<4xi64>) -> tensor<4xi32>
  %start = quarc.constant dense<1> : tensor<1xi64>
  %end = quarc.constant dense<9223372036854775807> : tensor<1xi64>
  %tail = quarc.slice %i, %start, %end, %none, %none : (tensor<4xi32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<3xi32>
  %idx = quarc.constant dense<[0, 1]> : tensor<2xi64>
  %two = quarc.gather %tail, %idx {axis = 0 : i64} : (tensor<3xi32>, tensor<2xi64>) -> tensor<2xi32>
  %prod = quarc.mul %two, %two : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %p64 = quarc.cast %prod {to = i64} : (tensor<2xi32>) -> tensor<2xi64>
  %first = quarc.slice %s, %zero, %start, %zero, %start : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %last = quarc.slice %p64, %start, %end, %zero, %start : (tensor<2xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %six = quarc.constant dense<6> : tensor<1xi64>
  %r = quarc.mul %last, %six : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %c = quarc.concat %first, %r {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %c : tensor<2xi64>
}

// -----

// Integer division by zero is left for run time (ONNX leaves it undefined).
// CHECK-LABEL: func.func @division_by_zero
// CHECK: quarc.div
func.func @division_by_zero() -> tensor<1xi64> {
  %a = quarc.constant dense<4> : tensor<1xi64>
  %z = quarc.constant dense<0> : tensor<1xi64>
  %d = quarc.div %a, %z : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %d : tensor<1xi64>
}

// -----

// Results above max-elements stay ops (weights are not duplicated).
// RUN: quarc-opt %s -split-input-file --quarc-fold-constants=max-elements=4 | FileCheck %s --check-prefix=LIMIT
// LIMIT-LABEL: func.func @too_big
// LIMIT: quarc.add
func.func @too_big() -> tensor<8xf32> {
  %a = quarc.constant dense<1.0> : tensor<8xf32>
  %s = quarc.add %a, %a : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %s : tensor<8xf32>
}
