// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=x86_64+avx512vnni" | FileCheck %s --check-prefixes=CHECK,VNNI
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=x86_64+avx2" | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=aarch64+dotprod" | FileCheck %s --check-prefixes=CHECK,SDOT
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=aarch64+i8mm" | FileCheck %s --check-prefixes=CHECK,USDOT
// RUN: quarc-opt %s -split-input-file "--quarc-vectorize-weight-only-matmul=target=x86_64" | FileCheck %s --check-prefix=NODOT

// The int8-activation form (RowQuads bytes: 64 per 8 rows of k): M = 3,
// K = 24 in groups of 16 (a whole group, then a tail of 8), N = 20. The
// sums of each row's activations per group are computed once, before the
// panels; per byte row, one 64-byte load, its low nibbles and its high
// ones (shifted) against each row's four activations broadcast, through
// the target's dot product (16 lanes: one zmm, two ymm, four NEON
// registers); the group ends in f32. Without a dot product: loops.

// CHECK-LABEL: func.func @int8_activations(
// CHECK: %[[SUMS:.*]] = memref.alloc() : memref<3x2xi32>
// CHECK: vector.reduction <add>
// CHECK: memref.store {{.*}}, %[[SUMS]]
// CHECK: scf.parallel
// CHECK: %[[W:.*]] = vector.load %arg2[{{.*}}] : memref<2x3x64xi8>, vector<64xi8>
// CHECK: %[[LO:.*]] = arith.andi %[[W]]
// CHECK: arith.shrui %[[W]]
// CHECK: vector.load %arg0[{{.*}}] : memref<3x24xi8>, vector<4xi8>
// CHECK: vector.bitcast {{.*}} : vector<4xi8> to vector<1xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// AVX2: vector.extract_strided_slice %[[LO]] {offsets = [0], sizes = [32], strides = [1]}
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// AVX2: vector.extract_strided_slice %[[LO]] {offsets = [32], sizes = [32], strides = [1]}
// SDOT: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
// USDOT: llvm.call_intrinsic "llvm.aarch64.neon.usdot.v4i32.v16i8"
// CHECK: memref.load %[[SUMS]]
// CHECK: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.maskedstore
// CHECK: memref.dealloc %[[SUMS]]

// NODOT-LABEL: func.func @int8_activations(
// NODOT: linalg.generic
// NODOT-NOT: scf.parallel
func.func @int8_activations(%a: memref<3x24xi8>, %sa: memref<3x2xf32>, %bytes: memref<2x3x64xi8>, %scales: memref<2x2x16xf32>, %zeros: memref<2x2x16xi8>, %c: memref<3x20xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d2 floordiv 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 8, (d1 mod 16) * 4 + d2 mod 4)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 16, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2 floordiv 16, d1 mod 16)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %sa, %bytes, %scales, %zeros : memref<3x24xi8>, memref<3x2xf32>, memref<2x3x64xi8>, memref<2x2x16xf32>, memref<2x2x16xi8>) outs(%c : memref<3x20xf32>) {
  ^bb0(%in: i8, %in_6: f32, %in_7: i8, %in_8: f32, %in_9: i8, %out: f32):
    %c8 = arith.constant 8 : index
    %c4 = arith.constant 4 : index
    %c0_i32 = arith.constant 0 : i32
    %c4_i32 = arith.constant 4 : i32
    %c15_i32 = arith.constant 15 : i32
    %10 = linalg.index 2 : index
    %11 = arith.remui %10, %c8 : index
    %12 = arith.cmpi uge, %11, %c4 : index
    %13 = arith.select %12, %c4_i32, %c0_i32 : i32
    %14 = arith.extui %in_7 : i8 to i32
    %15 = arith.shrui %14, %13 : i32
    %16 = arith.andi %15, %c15_i32 : i32
    %17 = arith.extui %in_9 : i8 to i32
    %18 = arith.subi %16, %17 : i32
    %19 = arith.extsi %in : i8 to i32
    %20 = arith.muli %19, %18 : i32
    %21 = arith.mulf %in_6, %in_8 : f32
    %22 = arith.sitofp %20 : i32 to f32
    %23 = arith.mulf %21, %22 : f32
    %24 = arith.addf %out, %23 : f32
    linalg.yield %24 : f32
  }
  return
}
