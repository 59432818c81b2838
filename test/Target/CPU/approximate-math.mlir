// RUN: quarc-opt %s -split-input-file --quarc-approximate-math | FileCheck %s

// f32 exp, erf and tanh become arithmetic (no math op of theirs is left);
// exp's polynomial is evaluated with fma and rebuilt from its exponent bits.
// CHECK-LABEL: func @scalars(
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK:         math.fma
// CHECK:         arith.bitcast {{.+}} : i32 to f32
// CHECK:         return
func.func @scalars(%x: f32) -> (f32, f32, f32) {
  %e = math.exp %x : f32
  %r = math.erf %x : f32
  %t = math.tanh %x : f32
  return %e, %r, %t : f32, f32, f32
}

// -----

// Vectors (a fused epilogue of the matmul kernel) too, lane by lane.
// CHECK-LABEL: func @vectors(
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK:         math.fma {{.+}} : vector<16xf32>
// CHECK:         return
func.func @vectors(%x: vector<16xf32>) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>) {
  %e = math.exp %x : vector<16xf32>
  %r = math.erf %x : vector<16xf32>
  %t = math.tanh %x : vector<16xf32>
  return %e, %r, %t : vector<16xf32>, vector<16xf32>, vector<16xf32>
}

// -----

// Other functions, and f64, keep their math ops (libm calls later).
// CHECK-LABEL: func @left_alone(
// CHECK:         math.log %{{.+}} : f32
// CHECK:         math.sin %{{.+}} : f32
// CHECK:         math.exp %{{.+}} : f64
// CHECK:         math.tanh %{{.+}} : f64
func.func @left_alone(%x: f32, %y: f64) -> (f32, f32, f64, f64) {
  %l = math.log %x : f32
  %s = math.sin %x : f32
  %e = math.exp %y : f64
  %t = math.tanh %y : f64
  return %l, %s, %e, %t : f32, f32, f64, f64
}
