// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=x86_64+avx512f" | FileCheck %s --check-prefixes=CHECK,AVX512
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=x86_64+avx2" | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=aarch64" | FileCheck %s --check-prefixes=CHECK,AVX2

// The packed product of quarc.qmatmul_weight_only (PackedNibbles.h):
// M = 3, N = 20 (two panels, the second with 4 columns: C through a mask),
// K = 21 in groups of 16 (one whole group, then a tail of 5: two byte rows
// and one low nibble). Panels in parallel; AVX-512 tiles all 3 rows at
// once (up to 8), AVX2 and NEON 2 rows then 1.

// CHECK-LABEL: func.func @weight_only(
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel (%[[P:.*]]) =
// CHECK: scf.if
// CHECK: vector.load %arg4[{{.*}}] : memref<3x20xf32>, vector<16xf32>
// The byte rows of a whole group: two rows of weights from one load.
// CHECK: scf.for {{.*}} iter_args
// CHECK: %[[B:.*]] = vector.load %arg1[%[[P]], {{.*}}] : memref<2x11x16xi8>, vector<16xi8>
// CHECK: %[[W:.*]] = arith.extui %[[B]] : vector<16xi8> to vector<16xi32>
// CHECK: %[[LO:.*]] = arith.andi %[[W]], %{{.*}} : vector<16xi32>
// CHECK: arith.uitofp %[[LO]]
// CHECK: %[[HI:.*]] = arith.shrui %[[W]], %{{.*}} : vector<16xi32>
// CHECK: arith.uitofp %[[HI]]
// CHECK: memref.load %arg0
// CHECK: vector.fma
// CHECK: arith.addf {{.*}} : f32
// CHECK: scf.yield
// The group's end: s * (sum a q - z * sum a) added to the totals.
// CHECK: vector.load %arg2[%[[P]], {{.*}}] : memref<2x2x16xf32>, vector<16xf32>
// CHECK: vector.load %arg3[%[[P]], {{.*}}] : memref<2x2x16xi8>, vector<16xi8>
// CHECK: arith.mulf
// CHECK: arith.subf
// CHECK: vector.fma
// AVX512: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// AVX512: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// AVX512: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// AVX2: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// AVX2: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// CHECK: } else {
// CHECK: %[[MASK:.*]] = vector.constant_mask [4] : vector<16xi1>
// CHECK: vector.maskedload %arg4[{{.*}}], %[[MASK]]
// CHECK: vector.maskedstore %arg4[{{.*}}], %[[MASK]]
func.func @weight_only(%a: memref<3x21xf32>, %bytes: memref<2x11x16xi8>, %scales: memref<2x2x16xf32>, %zeros: memref<2x2x16xi8>, %c: memref<3x20xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 2, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 16, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 16, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %bytes, %scales, %zeros : memref<3x21xf32>, memref<2x11x16xi8>, memref<2x2x16xf32>, memref<2x2x16xi8>) outs(%c : memref<3x20xf32>) {
  ^bb0(%in: f32, %in_3: i8, %in_4: f32, %in_5: i8, %out: f32):
    %c15_i32 = arith.constant 15 : i32
    %c0_i32 = arith.constant 0 : i32
    %c4_i32 = arith.constant 4 : i32
    %c2 = arith.constant 2 : index
    %c0 = arith.constant 0 : index
    %3 = linalg.index 2 : index
    %4 = arith.remui %3, %c2 : index
    %5 = arith.cmpi ne, %4, %c0 : index
    %6 = arith.select %5, %c4_i32, %c0_i32 : i32
    %7 = arith.extui %in_3 : i8 to i32
    %8 = arith.shrui %7, %6 : i32
    %9 = arith.andi %8, %c15_i32 : i32
    %10 = arith.extui %in_5 : i8 to i32
    %11 = arith.uitofp %10 : i32 to f32
    %12 = arith.uitofp %9 : i32 to f32
    %13 = arith.subf %12, %11 : f32
    %14 = arith.mulf %13, %in_4 : f32
    %15 = arith.mulf %in, %14 : f32
    %16 = arith.addf %out, %15 : f32
    linalg.yield %16 : f32
  }
  return
}

// -----

// An odd group size would split a byte's two rows between groups: loops.
// CHECK-LABEL: func.func @odd_groups(
// CHECK: linalg.generic
// CHECK-NOT: scf.parallel
func.func @odd_groups(%a: memref<1x6xf32>, %bytes: memref<1x3x16xi8>, %scales: memref<1x2x16xf32>, %zeros: memref<1x2x16xi8>, %c: memref<1x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 2, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 3, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 3, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %bytes, %scales, %zeros : memref<1x6xf32>, memref<1x3x16xi8>, memref<1x2x16xf32>, memref<1x2x16xi8>) outs(%c : memref<1x4xf32>) {
  ^bb0(%in: f32, %in_3: i8, %in_4: f32, %in_5: i8, %out: f32):
    %c15_i32 = arith.constant 15 : i32
    %c0_i32 = arith.constant 0 : i32
    %c4_i32 = arith.constant 4 : i32
    %c2 = arith.constant 2 : index
    %c0 = arith.constant 0 : index
    %3 = linalg.index 2 : index
    %4 = arith.remui %3, %c2 : index
    %5 = arith.cmpi ne, %4, %c0 : index
    %6 = arith.select %5, %c4_i32, %c0_i32 : i32
    %7 = arith.extui %in_3 : i8 to i32
    %8 = arith.shrui %7, %6 : i32
    %9 = arith.andi %8, %c15_i32 : i32
    %10 = arith.extui %in_5 : i8 to i32
    %11 = arith.uitofp %10 : i32 to f32
    %12 = arith.uitofp %9 : i32 to f32
    %13 = arith.subf %12, %11 : f32
    %14 = arith.mulf %13, %in_4 : f32
    %15 = arith.mulf %in, %14 : f32
    %16 = arith.addf %out, %15 : f32
    linalg.yield %16 : f32
  }
  return
}
