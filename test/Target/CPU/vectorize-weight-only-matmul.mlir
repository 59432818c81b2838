// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=x86_64+avx512f" | FileCheck %s --check-prefixes=CHECK,TILE
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=x86_64+avx2" | FileCheck %s --check-prefixes=CHECK,DEQUANT
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=aarch64" | FileCheck %s --check-prefixes=CHECK,DEQUANT

// The packed product of quarc.qmatmul_weight_only (PackedNibbles.h):
// M = 3, N = 20 (two panels, the second with 4 columns: C through a mask),
// K = 21 in groups of 16 (one whole group, then a tail of 5: two byte rows
// and one low nibble).
//
// AVX-512 tiles all 3 rows at once (up to 8), unpacking the weights in the
// tile; panels in parallel.
//
// AVX2 and NEON tile 2 rows so: more rows take groups of 4 panels in
// parallel, and per k block (128 k) and panel dequantize the weights,
// (q - z) * s, into a buffer on the stack that tiles of up to 6 rows read.

// CHECK-LABEL: func.func @weight_only(
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel (%[[P:.*]]) =
// TILE: scf.if
// TILE: vector.load %arg4[{{.*}}] : memref<3x20xf32>, vector<16xf32>
// The byte rows of a whole group: two rows of weights from one load.
// TILE: scf.for {{.*}} iter_args
// TILE: %[[B:.*]] = vector.load %arg1[%[[P]], {{.*}}] : memref<2x11x16xi8>, vector<16xi8>
// TILE: %[[W:.*]] = arith.extui %[[B]] : vector<16xi8> to vector<16xi32>
// TILE: %[[LO:.*]] = arith.andi %[[W]], %{{.*}} : vector<16xi32>
// TILE: arith.uitofp %[[LO]]
// TILE: %[[HI:.*]] = arith.shrui %[[W]], %{{.*}} : vector<16xi32>
// TILE: arith.uitofp %[[HI]]
// TILE: memref.load %arg0
// TILE: vector.fma
// TILE: arith.addf {{.*}} : f32
// TILE: scf.yield
// The group's end: s * (sum a q - z * sum a) added to the totals.
// TILE: vector.load %arg2[%[[P]], {{.*}}] : memref<2x2x16xf32>, vector<16xf32>
// TILE: vector.load %arg3[%[[P]], {{.*}}] : memref<2x2x16xi8>, vector<16xi8>
// TILE: arith.mulf
// TILE: arith.subf
// TILE: vector.fma
// TILE: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// TILE: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// TILE: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// TILE: } else {
// TILE: %[[MASK:.*]] = vector.constant_mask [4] : vector<16xi1>
// TILE: vector.maskedload %arg4[{{.*}}], %[[MASK]]
// TILE: vector.maskedstore %arg4[{{.*}}], %[[MASK]]
// DEQUANT: %[[BUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<128x16xf32>
// DEQUANT: scf.for %[[PANEL:.*]] = %{{.*}} to %{{.*}} step
// DEQUANT: scf.if
// The whole group: its scales and zero points, then byte rows, each two
// rows of (q - z) * s.
// DEQUANT: %[[S:.*]] = vector.load %arg2[%[[PANEL]], {{.*}}] : memref<2x2x16xf32>, vector<16xf32>
// DEQUANT: %[[Z8:.*]] = vector.load %arg3[%[[PANEL]], {{.*}}] : memref<2x2x16xi8>, vector<16xi8>
// DEQUANT: %[[Z32:.*]] = arith.extui %[[Z8]]
// DEQUANT: %[[Z:.*]] = arith.uitofp %[[Z32]]
// DEQUANT: scf.for
// DEQUANT: %[[B:.*]] = vector.load %arg1[%[[PANEL]], {{.*}}] : memref<2x11x16xi8>, vector<16xi8>
// DEQUANT: %[[W:.*]] = arith.extui %[[B]] : vector<16xi8> to vector<16xi32>
// DEQUANT: %[[LO:.*]] = arith.andi %[[W]], %{{.*}} : vector<16xi32>
// DEQUANT: %[[QLO:.*]] = arith.uitofp %[[LO]]
// DEQUANT: %[[CLO:.*]] = arith.subf %[[QLO]], %[[Z]]
// DEQUANT: %[[DLO:.*]] = arith.mulf %[[CLO]], %[[S]]
// DEQUANT: vector.store %[[DLO]], %[[BUF]]
// DEQUANT: %[[HI:.*]] = arith.shrui %[[W]], %{{.*}} : vector<16xi32>
// DEQUANT: arith.uitofp %[[HI]]
// DEQUANT: vector.store {{.*}}, %[[BUF]]
// The tail of 5: two byte rows in a loop, then a low nibble alone.
// DEQUANT: scf.for
// DEQUANT: vector.store {{.*}}, %[[BUF]]
// DEQUANT: vector.store {{.*}}, %[[BUF]]
// DEQUANT: }
// DEQUANT: arith.andi
// DEQUANT: vector.store {{.*}}, %[[BUF]]
// DEQUANT-NOT: arith.shrui
// Then the 3 rows' tile over the block's 21 k, from C and back to it.
// DEQUANT: vector.load %arg4[{{.*}}] : memref<3x20xf32>, vector<16xf32>
// DEQUANT: vector.load %arg4[{{.*}}] : memref<3x20xf32>, vector<16xf32>
// DEQUANT: vector.load %arg4[{{.*}}] : memref<3x20xf32>, vector<16xf32>
// DEQUANT: scf.for %{{.*}} = %c0{{.*}} to %c21{{.*}} step %{{.*}} iter_args
// DEQUANT: vector.load %[[BUF]]
// DEQUANT: memref.load %arg0
// DEQUANT: vector.fma
// DEQUANT: memref.load %arg0
// DEQUANT: vector.fma
// DEQUANT: memref.load %arg0
// DEQUANT: vector.fma
// DEQUANT: scf.yield
// DEQUANT: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// DEQUANT: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// DEQUANT: vector.store {{.*}} : memref<3x20xf32>, vector<16xf32>
// The second panel's 4 columns through a mask.
// DEQUANT: } else {
// DEQUANT: %[[MASK:.*]] = vector.constant_mask [4] : vector<16xi1>
// DEQUANT: vector.maskedload %arg4[{{.*}}], %[[MASK]]
// DEQUANT: vector.maskedstore %arg4[{{.*}}], %[[MASK]]
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

// -----

// A dynamic M: on AVX2 and NEON the rows decide at run time, more than a
// tile's 2 on dequantized weights, fewer on the tile that unpacks them.
// CHECK-LABEL: func.func @dynamic_rows(
// CHECK: %[[M:.*]] = memref.dim %arg4, %c0
// CHECK: scf.parallel
// DEQUANT: %[[MORE:.*]] = arith.cmpi ugt, %[[M]], %c2
// DEQUANT: scf.if %[[MORE]] {
// DEQUANT: memref.alloca() {alignment = 64 : i64} : memref<128x16xf32>
// DEQUANT: } else {
// DEQUANT-NOT: memref.alloca
// DEQUANT: arith.addf {{.*}} : f32
// TILE-NOT: memref.alloca
func.func @dynamic_rows(%a: memref<?x32xf32>, %bytes: memref<1x16x16xi8>, %scales: memref<1x1x16xf32>, %zeros: memref<1x1x16xi8>, %c: memref<?x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 2, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 32, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 32, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %bytes, %scales, %zeros : memref<?x32xf32>, memref<1x16x16xi8>, memref<1x1x16xf32>, memref<1x1x16xi8>) outs(%c : memref<?x16xf32>) {
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
