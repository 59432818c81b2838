// RUN: quarc-opt %s -split-input-file --quarc-winograd-convolution=target=x86_64+avx2 --mlir-print-elementsattrs-with-hex-if-larger=-1 | FileCheck %s
// RUN: quarc-opt %s -split-input-file --quarc-winograd-convolution=target=x86_64+avx512vnni | FileCheck %s --check-prefix=VNNI

// A packed 3x3 u8 x s8 convolution (as quarc-pack-integer-weights leaves it,
// on buffers): 4 channels (one group of four), 2 filters, a 16 x 16 input,
// 14 x 14 outputs. With AVX2 and no VNNI it becomes Winograd F(2x2, 3x3):
// the filter transformed at compile time into a new global, the products
// on vpmaddwd. With VNNI the generic stays (quarc-vectorize-integer-matmul
// takes it).
//
// Filter 0 is 1 at channel 0's centre tap (1, 1) (byte 16 of [2][1][3][3][4]),
// filter 1 is 2 at channel 1's tap (0, 0) (byte 37). U = (2G) g (2G)^T, with 2G's column for tap row (or
// column) 0 (2, 1, 1, 0) and for 1 (0, 1, -1, 0): filter 0's U at channel 0
// is the outer product of (0, 1, -1, 0) with itself (points 5, 6, 9, 10:
// 1, -1, -1, 1), filter 1's at channel 1 twice that of (2, 1, 1, 0) (points
// 0, 1, 2, 4, 5, 6, 8, 9, 10: 8, 4, 4, 4, 2, 2, 4, 2, 2). Element (point p,
// filter f, channel c) is at (p * 2 + f) * 4 + c; 16 zeros after the end
// (the prefetches of the last register tile's successor, up to 4 filters).
// CHECK: memref.global "private" constant @__winograd_filter : memref<144xi16> = dense<[0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, -1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, -1, 0, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> {alignment = 64 : i64}
// The packed filter is gone with its last reader.
// CHECK-NOT: @filter
// CHECK-LABEL: func @winograd_14x14(
// CHECK-SAME:      %[[IN:[^:]+]]: memref<1x4x16x16xi8>, %[[OUT:[^:]+]]: memref<1x2x14x14xi32>)
// CHECK: %[[U:.*]] = memref.get_global @__winograd_filter : memref<144xi16>
// 7 tile rows of 7 tiles (one vector of 8 each), one block; too few
// iterations for two threads, and too few filters to split: one half of the
// filters x one image x one block.
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = (%c0{{.*}}, %c0{{.*}}, %c0{{.*}}) to (%c1{{.*}}, %c1{{.*}}, %c1{{.*}})
// CHECK:   memref.alloca() {alignment = 64 : i64} : memref<16x2x112xi16>
// CHECK:   memref.alloca() {alignment = 64 : i64} : memref<16x128x8xi32>
// The input transform: 16 bytes of a row of each of two channels, the even
// bytes (the tiles' column 0) of both side by side, widened; the transform's
// results are stored as they are.
// CHECK:   vector.load %[[IN]]{{.*}} : memref<1x4x16x16xi8>, vector<16xi8>
// CHECK:   vector.shuffle {{.*}} [0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30] : vector<16xi8>, vector<16xi8>
// CHECK:   arith.extui {{.*}} : vector<16xi8> to vector<16xi16>
// CHECK:   vector.store {{.*}} : memref<16x2x112xi16>, vector<16xi16>
// The products: a channel pair of U broadcast, times pairs of the transformed input.
// CHECK:   scf.for
// CHECK:     memref.prefetch %[[U]]
// CHECK:     llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// CHECK:   vector.store {{.*}} : memref<16x128x8xi32>, vector<8xi32>
// The output transform: 4 x the convolution, shifted back; the two columns
// of each tile interleaved into 14 pixels of an output row, plus C's values.
// CHECK:   arith.shrsi
// CHECK:   vector.shuffle {{.*}} [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15] : vector<8xi32>, vector<8xi32>
// CHECK:   vector.load %[[OUT]]{{.*}} : memref<1x2x14x14xi32>, vector<14xi32>
// CHECK:   vector.store {{.*}}, %[[OUT]]{{.*}} : memref<1x2x14x14xi32>, vector<14xi32>
// CHECK: } {quarc.kernel}
// CHECK-NOT: linalg.generic
// VNNI-LABEL: func @winograd_14x14(
// VNNI: linalg.generic
module {
  memref.global "private" constant @filter : memref<2x1x3x3x4xi8> = dense<"0x000000000000000000000000000000000100000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000000">
  func.func @winograd_14x14(%in: memref<1x4x16x16xi8>, %out: memref<1x2x14x14xi32>) {
    %w = memref.get_global @filter : memref<2x1x3x3x4xi8>
    linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%in, %w : memref<1x4x16x16xi8>, memref<2x1x3x3x4xi8>) outs(%out : memref<1x2x14x14xi32>) {
    ^bb0(%x: i8, %y: i8, %acc: i32):
      %0 = arith.extui %x : i8 to i32
      %1 = arith.extsi %y : i8 to i32
      %2 = arith.muli %0, %1 : i32
      %3 = arith.addi %acc, %2 : i32
      linalg.yield %3 : i32
    }
    return
  }
}

// -----

// Not for Winograd here: an odd output size (13 x 14), rows narrower than
// 14 pixels (12 x 12), the same convolution at stride 2 along the width
// (7 x 7 from 16 x 15... not a unit window index), and s8 activations (the
// transforms assume u8's range).
// CHECK-LABEL: func @direct_odd_rows(
// CHECK: linalg.generic
// CHECK-LABEL: func @direct_narrow(
// CHECK: linalg.generic
// CHECK-LABEL: func @direct_stride2(
// CHECK: linalg.generic
// CHECK-LABEL: func @direct_signed_input(
// CHECK: linalg.generic
#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>
#in2 = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d6 * 2 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
module {
  memref.global "private" constant @filter : memref<2x1x3x3x4xi8> = dense<1>
  func.func @direct_odd_rows(%in: memref<1x4x15x16xi8>, %out: memref<1x2x13x14xi32>) {
    %w = memref.get_global @filter : memref<2x1x3x3x4xi8>
    linalg.generic {indexing_maps = [#in, #w, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%in, %w : memref<1x4x15x16xi8>, memref<2x1x3x3x4xi8>) outs(%out : memref<1x2x13x14xi32>) {
    ^bb0(%x: i8, %y: i8, %acc: i32):
      %0 = arith.extui %x : i8 to i32
      %1 = arith.extsi %y : i8 to i32
      %2 = arith.muli %0, %1 : i32
      %3 = arith.addi %acc, %2 : i32
      linalg.yield %3 : i32
    }
    return
  }
  func.func @direct_narrow(%in: memref<1x4x14x14xi8>, %out: memref<1x2x12x12xi32>) {
    %w = memref.get_global @filter : memref<2x1x3x3x4xi8>
    linalg.generic {indexing_maps = [#in, #w, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%in, %w : memref<1x4x14x14xi8>, memref<2x1x3x3x4xi8>) outs(%out : memref<1x2x12x12xi32>) {
    ^bb0(%x: i8, %y: i8, %acc: i32):
      %0 = arith.extui %x : i8 to i32
      %1 = arith.extsi %y : i8 to i32
      %2 = arith.muli %0, %1 : i32
      %3 = arith.addi %acc, %2 : i32
      linalg.yield %3 : i32
    }
    return
  }
  func.func @direct_stride2(%in: memref<1x4x16x33xi8>, %out: memref<1x2x14x16xi32>) {
    %w = memref.get_global @filter : memref<2x1x3x3x4xi8>
    linalg.generic {indexing_maps = [#in2, #w, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%in, %w : memref<1x4x16x33xi8>, memref<2x1x3x3x4xi8>) outs(%out : memref<1x2x14x16xi32>) {
    ^bb0(%x: i8, %y: i8, %acc: i32):
      %0 = arith.extui %x : i8 to i32
      %1 = arith.extsi %y : i8 to i32
      %2 = arith.muli %0, %1 : i32
      %3 = arith.addi %acc, %2 : i32
      linalg.yield %3 : i32
    }
    return
  }
  func.func @direct_signed_input(%in: memref<1x4x16x16xi8>, %out: memref<1x2x14x14xi32>) {
    %w = memref.get_global @filter : memref<2x1x3x3x4xi8>
    linalg.generic {indexing_maps = [#in, #w, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%in, %w : memref<1x4x16x16xi8>, memref<2x1x3x3x4xi8>) outs(%out : memref<1x2x14x14xi32>) {
    ^bb0(%x: i8, %y: i8, %acc: i32):
      %0 = arith.extsi %x : i8 to i32
      %1 = arith.extsi %y : i8 to i32
      %2 = arith.muli %0, %1 : i32
      %3 = arith.addi %acc, %2 : i32
      linalg.yield %3 : i32
    }
    return
  }
}
