// RUN: quarc-opt %s -split-input-file --quarc-vectorize-integer-matmul=target=x86_64+avx512vnni --canonicalize | FileCheck %s --check-prefixes=CHECK,VNNI
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-integer-matmul=target=x86_64+avx2 --canonicalize | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-integer-matmul=target=x86_64 | FileCheck %s --check-prefix=NONE
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-integer-matmul=target=aarch64+i8mm --canonicalize | FileCheck %s --check-prefix=USDOT
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-integer-matmul=target=aarch64+dotprod --canonicalize | FileCheck %s --check-prefix=SDOT

// The packed products of quarc-pack-integer-weights as register-tiled
// kernels: vpdpbusd with AVX-512 VNNI (tile 8 x 48: three vector<16xi32> per
// row), vpmaddubsw + vpmaddwd with AVX2 (tile 4 x 16: two vector<8xi32> per
// row). Without either (SSE) the generic stays, for the loops.
// NONE-COUNT-3: linalg.generic

//===----------------------------------------------------------------------===//
// A matrix product: 9 rows, 5 panels of 16 columns, 2 k steps. The rows are
// the u8 activations, broadcast four bytes at a time; each panel row (16
// columns x 4 k) is one vector<64xi8>.
//===----------------------------------------------------------------------===//

#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3, d4)>
#c = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3)>
// CHECK-LABEL: func @matmul(
// CHECK-SAME:      %[[A:[^:]+]]: memref<9x2x4xi8>, %[[W:[^:]+]]: memref<5x2x16x4xi8>, %[[C:[^:]+]]: memref<9x5x16xi32>)
// VNNI: %[[PANELS:.*]] = memref.collapse_shape %[[W]] {{\[}}[0], [1], [2, 3]] : memref<5x2x16x4xi8> into memref<5x2x64xi8>
// 80 columns: one tile of 48 and one of 32, the iterations of the parallel loop.
// VNNI: scf.parallel (%[[T:.*]]) = (%c0) to (%c2) step (%c1) {
// VNNI:   %[[N0:.*]] = arith.muli %[[T]], %c48 : index
// VNNI:   scf.if
// The accumulators start from C; 9 rows = 8 + 1.
// VNNI:     vector.load %[[C]][%c0, %{{.*}}, %c0] : memref<9x5x16xi32>, vector<16xi32>
// VNNI:     scf.for %[[K:.*]] = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<16xi32>,
// VNNI:       %[[P0:.*]] = vector.load %[[PANELS]][%{{.*}}, %[[K]], %c0] : memref<5x2x64xi8>, vector<64xi8>
// VNNI:       %[[G:.*]] = vector.load %[[A]][%c0, %[[K]], %c0] : memref<9x2x4xi8>, vector<4xi8>
// VNNI:       %[[G32:.*]] = vector.bitcast %[[G]] : vector<4xi8> to vector<1xi32>
// VNNI:       %[[E:.*]] = vector.extract %[[G32]][0] : i32 from vector<1xi32>
// VNNI:       %[[S:.*]] = vector.broadcast %[[E]] : i32 to vector<16xi32>
// VNNI:       %[[U8:.*]] = vector.bitcast %[[S]] : vector<16xi32> to vector<64xi8>
// VNNI:       llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[U8]], %[[P0]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// VNNI-COUNT-23: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI:       scf.yield
// VNNI:     vector.store %{{.*}}, %[[C]][%c0, %{{.*}}, %c0] : memref<9x5x16xi32>, vector<16xi32>
// The AVX2 tile is 8 lanes wide: panels of 16 were packed for another target.
// AVX2: linalg.generic
func.func @matmul(%a: memref<9x2x4xi8>, %w: memref<5x2x16x4xi8>, %c: memref<9x5x16xi32>) {
  linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]} ins(%a, %w : memref<9x2x4xi8>, memref<5x2x16x4xi8>) outs(%c : memref<9x5x16xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extui %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

//===----------------------------------------------------------------------===//
// A 3x3 convolution on a 9 x 9 image: 7 x 7 output pixels, 8 output
// channels. With AVX2 two rows of 7 share a column tile (two vectors of 8),
// so there are four blocks of rows, of 2, 2, 2 and 1: on two threads one
// would take 4 rows and the other 3. The output channels are split in two
// halves then, the outermost dim of the parallel loop, so that two threads
// take one half each: half h computes channels 4 h to 4 h + 3.
//===----------------------------------------------------------------------===//

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d6 * 4 + d8, d3 + d4, d7 + d5)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d1, d2, d6, d4, d5, d8)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d2, d3, d7)>
// AVX2-LABEL: func @small_image_halves(
// AVX2-SAME:      %{{[^:]+}}: memref<1x1x8x9x9xi8>, %{{[^:]+}}: memref<1x8x2x3x3x4xi8>, %[[C:[^:]+]]: memref<1x1x8x7x7xi32>)
// AVX2: %[[FLATC:.*]] = memref.collapse_shape %[[C]] {{\[}}[0], [1], [2], [3, 4]] : memref<1x1x8x7x7xi32> into memref<1x1x8x49xi32>
// AVX2: scf.parallel (%[[HALF:.*]], %[[BLOCK:.*]]) = (%c0, %c0) to (%c2, %c4) step (%c1, %c1) {
// AVX2:   %[[FIRSTROW:.*]] = arith.muli %[[BLOCK]], %c2 : index
// AVX2:   %[[CHANNEL:.*]] = arith.muli %[[HALF]], %c4 : index
// AVX2:   vector.load %[[FLATC]][%c0, %c0, %[[CHANNEL]], %{{.*}}] : memref<1x1x8x49xi32>, vector<8xi32>
func.func @small_image_halves(%x: memref<1x1x8x9x9xi8>, %w: memref<1x8x2x3x3x4xi8>, %c: memref<1x1x8x7x7xi32>) {
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x1x8x9x9xi8>, memref<1x8x2x3x3x4xi8>) outs(%c : memref<1x1x8x7x7xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// The same with a dynamic batch, counted as one image: the halves stay (at
// a batch of one, a 7 x 7 image's single block of rows would leave a thread
// idle), the images are the parallel loop's second dim.
#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d6 * 4 + d8, d3 + d4, d7 + d5)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d1, d2, d6, d4, d5, d8)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d2, d3, d7)>
// AVX2-LABEL: func @dynamic_batch_halves(
// AVX2: %[[IMAGES:.*]] = memref.dim %{{.*}}, %c0 : memref<?x1x8x7x7xi32>
// AVX2: scf.parallel (%[[HALF:.*]], %[[IMAGE:.*]], %[[BLOCK:.*]]) = (%c0, %c0, %c0) to (%c2, %[[IMAGES]], %c4) step (%c1, %c1, %c1) {
// AVX2:   arith.muli %[[HALF]], %c4 : index
func.func @dynamic_batch_halves(%x: memref<?x1x8x9x9xi8>, %w: memref<1x8x2x3x3x4xi8>, %c: memref<?x1x8x7x7xi32>) {
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<?x1x8x9x9xi8>, memref<1x8x2x3x3x4xi8>) outs(%c : memref<?x1x8x7x7xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

//===----------------------------------------------------------------------===//
// A 3x3 convolution with stride 2: 6 output channels, 4 rows of 11 pixels,
// 8 input channels (2 groups of four). The rows are the filter's output
// channels, broadcast; the columns the output pixels of one row. For each
// step (channel group, kernel row, kernel column) the four channels' pixels
// are loaded (twice the width for stride 2, every other byte kept),
// interleaved and stored in the panel, then the row tiles read it. The
// filter is an argument: its pairs may saturate vpmaddubsw, so AVX2 widens
// both operands to i16 words in place, the even bytes of each word (k = 0,
// 2: masked, or shifted left and back arithmetically for the s8 weights)
// apart from the odd ones (shifted right), and multiplies each half with
// vpmaddwd.
//===----------------------------------------------------------------------===//

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d6 * 4 + d8, d3 * 2 + d4, d7 * 2 + d5)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d1, d2, d6, d4, d5, d8)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d2, d3, d7)>
// CHECK-LABEL: func @conv(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x1x8x9x23xi8>, %[[F:[^:]+]]: memref<1x6x2x3x3x4xi8>, %[[C:[^:]+]]: memref<1x1x6x4x11xi32>)
// With AVX2, a row of 11 pixels alone would leave 5 of the tile's 16 lanes
// idle: two rows (22 pixels) share a column tile of three vectors of 8 that
// cross rows (chooseWideColumnTile), read through the collapsed input and
// C; the 4 x 16 register tile runs over its vectors two, then one, at a
// time. Two blocks of rows leave a thread idle on two cores, so the 6
// output channels are split too: groups of 4 and 2. The filter is read as
// one row of weights per output channel, in the order of the k steps.
// AVX2: %[[FF:.*]] = memref.collapse_shape %[[F]] {{\[}}[0], [1], [2, 3, 4, 5]] : memref<1x6x2x3x3x4xi8> into memref<1x6x72xi8>
// AVX2: %[[FLAT:.*]] = memref.collapse_shape %[[X]] {{\[}}[0], [1], [2], [3, 4]] : memref<1x1x8x9x23xi8> into memref<1x1x8x207xi8>
// AVX2: %[[FLATC:.*]] = memref.collapse_shape %[[C]] {{\[}}[0], [1], [2], [3, 4]] : memref<1x1x6x4x11xi32> into memref<1x1x6x44xi32>
// AVX2: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c2, %c2) step (%c1, %c1) {
// With AVX-512, rows of 11 pixels are narrower than half the 48-column tile, so
// rows share tiles: all 4 (44 pixels, in column vectors of 16 that cross
// rows) fit one, and the parallel loop has a single iteration. The input is
// read with its rows x columns collapsed: one load from a vector's first
// pixel to its last and one shuffle (row 1 starts 2 x 23 bytes on).
// VNNI: %[[FLAT:.*]] = memref.collapse_shape %[[X]] {{\[}}[0], [1], [2], [3, 4]] : memref<1x1x8x9x23xi8> into memref<1x1x8x207xi8>
// 18 steps, 4 bytes per column: 48 (AVX-512) or 24 (AVX2) columns.
// VNNI:   %[[PANEL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<18x192xi8>
// AVX2:   %[[PANEL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<18x96xi8>
// CHECK:  scf.for %[[C1:.*]] = %c0 to %c2 step %c1 {
// CHECK:    scf.for %[[I:.*]] = %c0 to %c3 step %c1 {
// CHECK:      scf.for %[[J:.*]] = %c0 to %c3 step %c1 {
// With AVX-512 the 55 bytes from the first pixel to the last are loaded
// into a vector of 64 under a mask (a shuffle of an odd-sized vector
// becomes one byte at a time in LLVM).
// VNNI:         %[[STRIP:.*]] = vector.maskedload %[[FLAT]][%c0, %c0, %{{.*}}, %{{.*}}], %{{.*}}, %{{.*}} : memref<1x1x8x207xi8>, vector<64xi1>, vector<64xi8> into vector<64xi8>
// VNNI:         vector.shuffle %[[STRIP]], %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 46, 48, 50, 52, 54] : vector<64xi8>, vector<64xi8>
// Channel 4 c1, at input row 2 y + i and column j: 8 pixels 2 apart, a
// strip of 15 bytes. Without masked byte loads it is read as two loads of 8
// that overlap (bytes 0-7 and 7-14; one load of 15 would be split into
// pieces by LLVM, and the shuffle would then move its bytes one at a time),
// then one shuffle keeps every other byte.
// AVX2:         %[[HEAD:.*]] = vector.load %[[FLAT]][%c0, %c0, %{{.*}}, %{{.*}}] : memref<1x1x8x207xi8>, vector<8xi8>
// AVX2:         %[[TAIL:.*]] = vector.load %[[FLAT]][%c0, %c0, %{{.*}}, %{{.*}}] : memref<1x1x8x207xi8>, vector<8xi8>
// AVX2:         vector.shuffle %[[HEAD]], %[[TAIL]] [0, 2, 4, 6, 9, 11, 13, 15] : vector<8xi8>, vector<8xi8>
// AVX2-COUNT-6: vector.load %[[FLAT]]{{.*}} vector<8xi8>
// AVX2-NOT:     vector<15xi8>
// AVX2:         vector.store %{{.*}}, %[[PANEL]][%{{.*}}, %c0] : memref<18x96xi8>, vector<32xi8>
// The second vector: the last 3 pixels of row 0 and the first 5 of row 1,
// whose bytes span 64 (row 1 starts 2 x 23 bytes on): two loads of 32.
// AVX2:         %[[HEAD2:.*]] = vector.load %[[FLAT]]{{.*}} vector<32xi8>
// AVX2:         %[[TAIL2:.*]] = vector.load %[[FLAT]]{{.*}} vector<32xi8>
// AVX2:         vector.shuffle %[[HEAD2]], %[[TAIL2]] [0, 2, 4, 30, 57, 59, 61, 63] : vector<32xi8>, vector<32xi8>
// AVX2:         vector.store %{{.*}}, %[[PANEL]][%{{.*}}, %c32] : memref<18x96xi8>, vector<32xi8>
// The third: row 1's last 6 pixels, the rest of the vector zeros.
// AVX2:         %[[PICKED:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 13, 15, 0, 0] : vector<8xi8>, vector<8xi8>
// AVX2:         vector.shuffle %[[PICKED]], %{{.*}} [0, 1, 2, 3, 4, 5, 8, 8] : vector<8xi8>, vector<8xi8>
// AVX2:         vector.store %{{.*}}, %[[PANEL]][%{{.*}}, %c64] : memref<18x96xi8>, vector<32xi8>
// The register tile over the first two vectors: the first within row 0 of
// C, the second across rows 0 and 1 (one load through the collapsed C).
// The 18 steps are one loop, which reads the panel's row and 4 weights of
// each tile row at the step.
// AVX2:   vector.load %[[C]][%c0, %c0, %{{.*}}, %{{.*}}, %c0] : memref<1x1x6x4x11xi32>, vector<8xi32>
// AVX2:   vector.load %[[FLATC]][%c0, %c0, %{{.*}}, %{{.*}}] : memref<1x1x6x44xi32>, vector<8xi32>
// AVX2:   scf.for %[[STEP:.*]] = %c0 to %c18 step %c1 iter_args(
// AVX2-NEXT: %[[OFFSET:.*]] = arith.muli %[[STEP]], %c4 : index
// AVX2-NEXT: %[[COLUMNS:.*]] = vector.load %[[PANEL]][%[[STEP]], %c0] : memref<18x96xi8>, vector<32xi8>
// AVX2-NEXT: vector.load %[[PANEL]][%[[STEP]], %c32] : memref<18x96xi8>, vector<32xi8>
// AVX2-NEXT: %[[WG:.*]] = vector.load %[[FF]][%c0, %{{.*}}, %[[OFFSET]]] : memref<1x6x72xi8>, vector<4xi8>
// AVX2:   %[[WB:.*]] = vector.bitcast %[[WG]] : vector<4xi8> to vector<1xi32>
// AVX2:   %[[W:.*]] = vector.broadcast %{{.*}} : i32 to vector<8xi32>
// AVX2:   %[[CWORDS:.*]] = vector.bitcast %[[COLUMNS]] : vector<32xi8> to vector<16xi16>
// AVX2:   %[[CEVEN:.*]] = arith.andi %[[CWORDS]], %{{.*}} : vector<16xi16>
// AVX2:   %[[CODD:.*]] = arith.shrui %[[CWORDS]], %{{.*}} : vector<16xi16>
// AVX2:   %[[WWORDS:.*]] = vector.bitcast %[[W]] : vector<8xi32> to vector<16xi16>
// AVX2:   %[[WLEFT:.*]] = arith.shli %[[WWORDS]], %{{.*}} : vector<16xi16>
// AVX2:   %[[WEVEN:.*]] = arith.shrsi %[[WLEFT]], %{{.*}} : vector<16xi16>
// AVX2:   %[[WODD:.*]] = arith.shrsi %[[WWORDS]], %{{.*}} : vector<16xi16>
// AVX2:   %[[EVEN:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[CEVEN]], %[[WEVEN]])
// AVX2:   %[[ODD:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[CODD]], %[[WODD]])
// AVX2:   %[[SUM:.*]] = arith.addi %[[EVEN]], %[[ODD]] : vector<8xi32>
// AVX2:   arith.addi %{{.*}}, %[[SUM]] : vector<8xi32>
// AVX2-NOT: pmadd.ub.sw
// AVX2:   vector.store %{{.*}}, %[[FLATC]][%c0, %c0, %{{.*}}, %{{.*}}] : memref<1x1x6x44xi32>, vector<8xi32>
// Then the third vector alone: row 1's last 6 pixels (C loaded into zeros,
// 6 lanes stored).
// AVX2:   vector.load %[[C]][%c0, %c0, %{{.*}}, %{{.*}}, %c5] : memref<1x1x6x4x11xi32>, vector<6xi32>
// AVX2:   vector.load %[[PANEL]][%{{.*}}, %c64] : memref<18x96xi8>, vector<32xi8>
// AVX2:   vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [6], strides = [1]} : vector<8xi32> to vector<6xi32>
// AVX2:   vector.store %{{.*}}, %[[C]][%c0, %c0, %{{.*}}, %{{.*}}, %c5] : memref<1x1x6x4x11xi32>, vector<6xi32>
// VNNI:   llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"({{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// AArch64 with i8mm: the same kernel on NEON's 4 lanes (tile 8 x 12), usdot;
// all 4 rows (44 pixels, 11 vectors of 4) share one column tile.
// USDOT-LABEL: func @conv(
// USDOT: memref.alloca() {alignment = 64 : i64} : memref<18x176xi8>
// USDOT: llvm.call_intrinsic "llvm.aarch64.neon.usdot.v4i32.v16i8"({{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// AArch64 with dotprod only multiplies s8 by s8: this product (u8 activations
// not shifted) stays a generic.
// SDOT-LABEL: func @conv(
// SDOT: linalg.generic
func.func @conv(%x: memref<1x1x8x9x23xi8>, %w: memref<1x6x2x3x3x4xi8>, %c: memref<1x1x6x4x11xi32>) {
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x1x8x9x23xi8>, memref<1x6x2x3x3x4xi8>) outs(%c : memref<1x1x6x4x11xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A constant filter whose adjacent weights cannot saturate an i16 pair (7-bit
// weights, as `reduce-range` makes them): one vpmaddubsw and one vpmaddwd per
// column vector and step on AVX2.

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d6 * 4 + d8, d3 + d4, d7 + d5)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d1, d2, d6, d4, d5, d8)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8) -> (d0, d1, d2, d3, d7)>
memref.global "private" constant @filter : memref<1x2x1x1x1x4xi8> = dense<[[[[[[64, 64, -64, -64]]]], [[[[-64, 64, 1, 2]]]]]]>
// CHECK-LABEL: func @conv_7bit_weights(
// AVX2-NOT: arith.shrsi
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// AVX2-NEXT: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// AVX2-NEXT: arith.addi
// AVX2-NOT: arith.shrsi
// AVX2: return
func.func @conv_7bit_weights(%x: memref<1x1x4x1x8xi8>, %c: memref<1x1x2x1x8xi32>) {
  %w = memref.get_global @filter : memref<1x2x1x1x1x4xi8>
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x1x4x1x8xi8>, memref<1x2x1x1x1x4xi8>) outs(%c : memref<1x1x2x1x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A convolution without groups (loops n, f, y, i, j, c1, x, c0) between the
// bias that initializes its accumulators and the requantization that reads
// them: both run in the kernel (MatmulFusion.h), on the accumulators in
// registers. The bias is one broadcast per tile row; the output stage's
// per-channel multiplier too, and its i64 arithmetic runs on vectors; only
// the 8-bit result is stored, and C's buffer goes.

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @fused_bias_and_requantization(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x4x3x18xi8>, %[[F:[^:]+]]: memref<2x1x1x1x4xi8>, %[[B:[^:]+]]: memref<2xi32>, %[[M:[^:]+]]: memref<2xi32>, %[[Y:[^:]+]]: memref<1x2x3x18xi8>)
// VNNI-NOT: memref.alloc(
// VNNI-NOT: linalg.generic
// VNNI: scf.parallel
// VNNI: %[[BIAS:.*]] = memref.load %[[B]][%{{.*}}] : memref<2xi32>
// VNNI: vector.broadcast %[[BIAS]] : i32 to vector<16xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// The per-channel multiplier is widened as a scalar, then broadcast.
// VNNI: %[[MUL:.*]] = memref.load %[[M]][%{{.*}}] : memref<2xi32>
// VNNI: %[[MUL64:.*]] = arith.extsi %[[MUL]] : i32 to i64
// VNNI: vector.broadcast %[[MUL64]] : i64 to vector<16xi64>
// VNNI: arith.muli %{{.*}}, %{{.*}} : vector<16xi64>
// VNNI: arith.trunci %{{.*}} : vector<16xi64> to vector<16xi8>
// VNNI: vector.store %{{.*}}, %[[Y]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x2x3x18xi8>, vector<16xi8>
// The last two columns: the same on vector<2x...>.
// VNNI: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [2], strides = [1]} : vector<16xi32> to vector<2xi32>
// VNNI: vector.store %{{.*}}, %[[Y]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x2x3x18xi8>, vector<2xi8>
// VNNI-NOT: memref.dealloc
// AVX2 (three rows of 18 share a tile of seven vectors of 8): the first two
// vectors of a row, pixels 0-7 and 8-15, go through the output stage as one
// vector of 16 (stored as 16 bytes at once); the ones that cross rows go
// alone.
// AVX2: %[[PAIR:.+]] = vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xi32>, vector<8xi32>
// AVX2-NEXT: %[[MUL:.+]] = memref.load %[[M]][%{{.*}}] : memref<2xi32>
// AVX2-NEXT: %[[WIDE:.+]] = arith.extsi %[[PAIR]] : vector<16xi32> to vector<16xi64>
// AVX2-NEXT: %[[MUL64:.+]] = arith.extsi %[[MUL]] : i32 to i64
// AVX2-NEXT: %[[MULV:.+]] = vector.broadcast %[[MUL64]] : i64 to vector<16xi64>
// AVX2-NEXT: %[[P:.+]] = arith.muli %[[WIDE]], %[[MULV]] : vector<16xi64>
// AVX2-NEXT: %[[R:.+]] = arith.shrsi %[[P]], %{{.+}} : vector<16xi64>
// AVX2-NEXT: %[[T:.+]] = arith.trunci %[[R]] : vector<16xi64> to vector<16xi8>
// AVX2-NEXT: vector.store %[[T]], %[[Y]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x2x3x18xi8>, vector<16xi8>
func.func @fused_bias_and_requantization(%x: memref<1x4x3x18xi8>, %w: memref<2x1x1x1x4xi8>, %bias: memref<2xi32>, %multiplier: memref<2xi32>, %y: memref<1x2x3x18xi8>) {
  %c31 = arith.constant 31 : i64
  %acc = memref.alloc() : memref<1x2x3x18xi32>
  linalg.generic {indexing_maps = [#channel, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bias : memref<2xi32>) outs(%acc : memref<1x2x3x18xi32>) {
  ^bb0(%b: i32, %o: i32):
    linalg.yield %b : i32
  }
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x4x3x18xi8>, memref<2x1x1x1x4xi8>) outs(%acc : memref<1x2x3x18xi32>) {
  ^bb0(%a: i8, %b: i8, %c: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %c, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [#id, #channel, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc, %multiplier : memref<1x2x3x18xi32>, memref<2xi32>) outs(%y : memref<1x2x3x18xi8>) {
  ^bb0(%a: i32, %m: i32, %o: i8):
    %a64 = arith.extsi %a : i32 to i64
    %m64 = arith.extsi %m : i32 to i64
    %p = arith.muli %a64, %m64 : i64
    %r = arith.shrsi %p, %c31 : i64
    %t = arith.trunci %r : i64 to i8
    linalg.yield %t : i8
  }
  memref.dealloc %acc : memref<1x2x3x18xi32>
  return
}

// -----

// C's zeros written by a generic that only yields a constant (a zero bias
// folded away) are the kernel's initial values too: no fill of C is left,
// and the accumulators start from a splat, not from loads of C.

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @zeros_as_generic(
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref<1x2x3x18xi32>
// CHECK: vector.store %{{.*}} : memref<1x2x3x18xi8>
// CHECK-NOT: memref<1x2x3x18xi32>
// CHECK: return
func.func @zeros_as_generic(%x: memref<1x4x3x18xi8>, %w: memref<2x1x1x1x4xi8>, %multiplier: memref<2xi32>, %y: memref<1x2x3x18xi8>) {
  %c31 = arith.constant 31 : i64
  %zero = arith.constant 0 : i32
  %acc = memref.alloc() : memref<1x2x3x18xi32>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%acc : memref<1x2x3x18xi32>) {
  ^bb0(%o: i32):
    linalg.yield %zero : i32
  }
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x4x3x18xi8>, memref<2x1x1x1x4xi8>) outs(%acc : memref<1x2x3x18xi32>) {
  ^bb0(%a: i8, %b: i8, %c: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %c, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [#id, #channel, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%acc, %multiplier : memref<1x2x3x18xi32>, memref<2xi32>) outs(%y : memref<1x2x3x18xi8>) {
  ^bb0(%a: i32, %m: i32, %o: i8):
    %a64 = arith.extsi %a : i32 to i64
    %m64 = arith.extsi %m : i32 to i64
    %p = arith.muli %a64, %m64 : i64
    %r = arith.shrsi %p, %c31 : i64
    %t = arith.trunci %r : i64 to i8
    linalg.yield %t : i8
  }
  memref.dealloc %acc : memref<1x2x3x18xi32>
  return
}

// -----

// The form quarc-pack-integer-weights gives AArch64 with dotprod: u8
// activations shifted by -128 (their compensation is in C's initial values).
// The kernel flips the panel's sign bits (x ^ 0x80 = x - 128 in s8) and
// multiplies with sdot.

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
// SDOT-LABEL: func @shifted_activations(
// SDOT: %[[SIGNS:.*]] = arith.constant dense<-128> : vector<16xi8>
// SDOT: %[[PACKED:.*]] = vector.shuffle
// SDOT: %[[FLIPPED:.*]] = arith.xori %[[PACKED]], %[[SIGNS]] : vector<16xi8>
// SDOT: vector.store %[[FLIPPED]]
// SDOT: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
// USDOT-LABEL: func @shifted_activations(
// USDOT: linalg.generic
func.func @shifted_activations(%x: memref<1x4x1x20xi8>, %w: memref<8x1x1x1x4xi8>, %c: memref<1x8x1x20xi32>) {
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x4x1x20xi8>, memref<8x1x1x1x4xi8>) outs(%c : memref<1x8x1x20xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %c128 = arith.constant 128 : i32
    %0 = arith.extui %a : i8 to i32
    %s = arith.subi %0, %c128 : i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %s, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// Rows that share a tile start from initial values read per segment: here
// the accumulators' initial values vary along the output row y (a copy of a
// [1, 2, 5, 1] buffer), and a column vector of 16 lanes crosses rows of 5
// pixels, so each of its segments gets its own row's value.

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
// VNNI-LABEL: func @row_varying_initial_values(
// VNNI-SAME:      %{{[^:]+}}: memref<1x4x5x5xi8>, %{{[^:]+}}: memref<2x1x1x1x4xi8>, %[[INIT:[^:]+]]: memref<1x2x5x1xi32>
// VNNI: memref.load %[[INIT]][%c0, %{{.*}}, %c0, %c0] : memref<1x2x5x1xi32>
// VNNI: vector.broadcast %{{.*}} : i32 to vector<5xi32>
// VNNI: vector.insert_strided_slice %{{.*}}, %{{.*}} {offsets = [0], strides = [1]} : vector<5xi32> into vector<16xi32>
// VNNI: memref.load %[[INIT]][%c0, %{{.*}}, %c1, %c0] : memref<1x2x5x1xi32>
// VNNI: vector.insert_strided_slice %{{.*}}, %{{.*}} {offsets = [5], strides = [1]} : vector<5xi32> into vector<16xi32>
func.func @row_varying_initial_values(%x: memref<1x4x5x5xi8>, %w: memref<2x1x1x1x4xi8>, %init: memref<1x2x5x1xi32>, %c: memref<1x2x5x5xi32>) {
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%init : memref<1x2x5x1xi32>) outs(%c : memref<1x2x5x5xi32>) {
  ^bb0(%v: i32, %o: i32):
    linalg.yield %v : i32
  }
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x4x5x5xi8>, memref<2x1x1x1x4xi8>) outs(%c : memref<1x2x5x5xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A pointwise convolution writes its accumulators through reshapes of the
// buffer the bias and the requantization see (grouped [1, 1, 2, 2, 10],
// pixels as one row [1, 2, 1, 20]): dims that walk the same elements
// correspond, so both still fuse, and the result buffer is viewed like the
// accumulators (all elements as one dim, then their shape).

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#channel5 = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>
// VNNI-LABEL: func @pointwise_reshaped(
// VNNI-SAME:      %{{[^:]+}}: memref<1x4x1x20xi8>, %{{[^:]+}}: memref<2x1x1x1x4xi8>, %[[B:[^:]+]]: memref<1x2xi32>, %[[M:[^:]+]]: memref<1x2xi32>, %[[Y:[^:]+]]: memref<1x1x2x2x10xi8>)
// VNNI-NOT: memref.alloc(
// VNNI: %[[FLAT:.*]] = memref.collapse_shape %[[Y]] {{\[}}[0, 1, 2, 3, 4]] : memref<1x1x2x2x10xi8> into memref<40xi8>
// VNNI: %[[VIEW:.*]] = memref.expand_shape %[[FLAT]] {{\[}}[0, 1, 2, 3]] output_shape [1, 2, 1, 20] : memref<40xi8> into memref<1x2x1x20xi8>
// VNNI-NOT: linalg.generic
// VNNI: memref.load %[[B]]
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: memref.load %[[M]]
// VNNI: arith.muli %{{.*}}, %{{.*}} : vector<16xi64>
// VNNI: vector.store %{{.*}}, %[[VIEW]]
func.func @pointwise_reshaped(%x: memref<1x4x1x20xi8>, %w: memref<2x1x1x1x4xi8>, %bias: memref<1x2xi32>, %multiplier: memref<1x2xi32>, %y: memref<1x1x2x2x10xi8>) {
  %c31 = arith.constant 31 : i64
  %acc = memref.alloc() : memref<1x1x2x2x10xi32>
  linalg.generic {indexing_maps = [#channel5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%bias : memref<1x2xi32>) outs(%acc : memref<1x1x2x2x10xi32>) {
  ^bb0(%b: i32, %o: i32):
    linalg.yield %b : i32
  }
  %row = memref.collapse_shape %acc [[0], [1], [2], [3, 4]] : memref<1x1x2x2x10xi32> into memref<1x1x2x20xi32>
  %unit = memref.expand_shape %row [[0], [1], [2], [3, 4]] output_shape [1, 1, 2, 1, 20] : memref<1x1x2x20xi32> into memref<1x1x2x1x20xi32>
  %c = memref.collapse_shape %unit [[0], [1, 2], [3], [4]] : memref<1x1x2x1x20xi32> into memref<1x2x1x20xi32>
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x4x1x20xi8>, memref<2x1x1x1x4xi8>) outs(%c : memref<1x2x1x20xi32>) {
  ^bb0(%a: i8, %b: i8, %s: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %s, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [#id5, #channel5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%acc, %multiplier : memref<1x1x2x2x10xi32>, memref<1x2xi32>) outs(%y : memref<1x1x2x2x10xi8>) {
  ^bb0(%a: i32, %m: i32, %o: i8):
    %a64 = arith.extsi %a : i32 to i64
    %m64 = arith.extsi %m : i32 to i64
    %p = arith.muli %a64, %m64 : i64
    %r = arith.shrsi %p, %c31 : i64
    %t = arith.trunci %r : i64 to i8
    linalg.yield %t : i8
  }
  memref.dealloc %acc : memref<1x1x2x2x10xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// The pixel-rows convolution kernel (AVX-512 VNNI), for a filter that
// quarc-pack-integer-weights packed in panels of 16 output channels: [F/16,
// C4/4, KH, KW, 16, 4], read at (f floordiv 16, c1, i, j, f mod 16, c0). Here
// 32 channels, 8 input channels, a 3 x 3 window, a 3 x 7 output image (21
// pixels: one column tile, whose pieces of 16 and 5 pixels cross rows).
// Each pixel is a broadcast row, each k step loads one 64-byte panel row of
// the filter; the 16 x 16 block of sums is transposed to channels x pixels
// (four rounds of shuffles) before it meets C. One column tile would leave
// the second thread idle, so the parallel loop takes the two halves of the
// output channels.
//===----------------------------------------------------------------------===//

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d6 + d4)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1 floordiv 16, d5, d3, d4, d1 mod 16, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
// VNNI-LABEL: func @pixel_rows(
// VNNI-SAME:      %[[X:[^:]+]]: memref<1x8x5x9xi8>, %[[F:[^:]+]]: memref<2x2x3x3x16x4xi8>, %[[C:[^:]+]]: memref<1x32x3x7xi32>)
// VNNI: %[[FLATF:.*]] = memref.collapse_shape %[[F]] {{\[}}[0], [1, 2, 3, 4, 5]] : memref<2x2x3x3x16x4xi8> into memref<2x1152xi8>
// C's rows are contiguous: its pieces that cross rows are one vector each.
// VNNI: %[[FLATC:.*]] = memref.collapse_shape %[[C]] {{\[}}[0], [1], [2, 3]] : memref<1x32x3x7xi32> into memref<1x32x21xi32>
// VNNI: scf.parallel (%[[HALF:.*]]) = (%c0) to (%c2) step (%c1) {
// 18 steps (2 channel groups x 9 taps), 64 pixels of 4 bytes each.
// VNNI:   %[[PANEL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<18x256xi8>
// VNNI:   vector.store %{{.*}}, %[[PANEL]][%{{.*}}, %c0] : memref<18x256xi8>, vector<64xi8>
// VNNI:   vector.store %{{.*}}, %[[PANEL]][%{{.*}}, %c64] : memref<18x256xi8>, vector<64xi8>
// VNNI:   %[[FIRST:.*]] = arith.muli %[[HALF]], %c16 : index
// VNNI:   %[[PANELROW:.*]] = arith.divui %[[FIRST]], %c16 : index
// The first piece: 16 accumulators, zero, through the 18 steps in one loop.
// VNNI:   scf.for %[[STEP:.*]] = %c0 to %c18 step %c1 iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// VNNI:     %[[WOFF:.*]] = arith.muli %[[STEP]], %c64 : index
// The first loop asks L2 for the step's row of the panel the kernel takes
// next: past the half's channels (one panel), the half's first panel at
// the next block, 18 steps on (there is none: clamped to the last row).
// VNNI:     %[[RANGE:.*]] = arith.divui %[[FIRST]], %c16 : index
// VNNI:     %[[END:.*]] = arith.addi %[[RANGE]], %c1 : index
// VNNI:     %[[NEXT:.*]] = arith.addi %[[PANELROW]], %c1 : index
// VNNI:     %[[PAST:.*]] = arith.cmpi uge, %[[NEXT]], %[[END]] : index
// VNNI:     %[[ROW:.*]] = arith.select %[[PAST]], %[[RANGE]], %[[NEXT]] : index
// VNNI:     %[[BLOCK:.*]] = arith.select %[[PAST]], %c18, %c0 : index
// VNNI:     %[[ROWSTEP:.*]] = arith.addi %[[BLOCK]], %[[STEP]] : index
// VNNI:     %[[BYTES:.*]] = arith.muli %[[ROWSTEP]], %c64 : index
// VNNI:     %[[CLAMPED:.*]] = arith.minui %[[BYTES]], %c1088 : index
// VNNI:     memref.prefetch %[[FLATF]][%[[ROW]], %[[CLAMPED]]], read, locality<2>, data : memref<2x1152xi8>
// The step's 64 filter bytes (16 channels x 4) and each pixel's 4 panel bytes.
// VNNI:     %[[W:.*]] = vector.load %[[FLATF]][%[[PANELROW]], %[[WOFF]]] : memref<2x1152xi8>, vector<64xi8>
// VNNI:     %[[PIXEL0:.*]] = vector.load %[[PANEL]][%[[STEP]], %c0] : memref<18x256xi8>, vector<4xi8>
// VNNI:     %[[WORD0:.*]] = vector.bitcast %[[PIXEL0]] : vector<4xi8> to vector<1xi32>
// VNNI:     %[[SPLAT0:.*]] = vector.broadcast %{{.*}} : i32 to vector<16xi32>
// VNNI:     %[[BYTES0:.*]] = vector.bitcast %[[SPLAT0]] : vector<16xi32> to vector<64xi8>
// VNNI:     llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[BYTES0]], %[[W]])
// VNNI:     vector.load %[[PANEL]][%[[STEP]], %c4] : memref<18x256xi8>, vector<4xi8>
// VNNI-COUNT-15: llvm.x86.avx512.vpdpbusd.512
// The transpose: first round, pairs of adjacent pixels.
// VNNI: vector.shuffle %{{.*}}, %{{.*}} [0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30] : vector<16xi32>, vector<16xi32>
// VNNI: vector.shuffle %{{.*}}, %{{.*}} [1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31] : vector<16xi32>, vector<16xi32>
// The last round swaps blocks of 8.
// VNNI: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xi32>, vector<16xi32>
// Channel row 0 of the half: its 16 pixels (rows 0 and 1 and two pixels of
// row 2) are one load and one store through the flat view.
// VNNI: vector.load %[[FLATC]][%c0, %[[FIRST]], %c0] : memref<1x32x21xi32>, vector<16xi32>
// VNNI: vector.store %{{.*}}, %[[FLATC]][%c0, %[[FIRST]], %c0] : memref<1x32x21xi32>, vector<16xi32>
// The second piece: 5 pixels, 5 accumulators, and no prefetch.
// VNNI: scf.for %{{.*}} = %c0 to %c18 step %c1 iter_args({{[^)]*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// VNNI-NOT: memref.prefetch
// VNNI: scf.yield
// They are the last 5 of row 2, within one row.
// VNNI: vector.load %[[C]][%c0, %{{.*}}, %c2, %c2] : memref<1x32x3x7xi32>, vector<5xi32>
// AVX2's pixel-rows kernel reads panels of 8 channels: a filter packed in
// panels of 16 (for AVX-512) is left to the loops, a generic.
// AVX2-LABEL: func @pixel_rows(
// AVX2: linalg.generic
func.func @pixel_rows(%x: memref<1x8x5x9xi8>, %w: memref<2x2x3x3x16x4xi8>, %c: memref<1x32x3x7xi32>) {
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x8x5x9xi8>, memref<2x2x3x3x16x4xi8>) outs(%c : memref<1x32x3x7xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}


// -----

//===----------------------------------------------------------------------===//
// AVX2's pixel-rows kernel: the filter in one panel of 8 channels, constant
// with pairs that fit i16 (so vpmaddubsw's fast path), on 3 rows of 7
// pixels (21, one column tile: no parallel loop is left after
// canonicalization). With 16 registers one k loop computes one panel for 8
// pixels: 8 accumulators of 8 channels, one 32-byte load of the step's
// weights and a broadcast word per pixel, one vpmaddubsw and one vpmaddwd
// each. The 8 x 8 block (pixels x channels) is transposed in three rounds
// of shuffles; each channel's 8 pixels (row 0 and one of row 1) are one
// load and one store of C's flat view.
//===----------------------------------------------------------------------===//

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d6 + d4)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1 floordiv 8, d5, d3, d4, d1 mod 8, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
memref.global "private" constant @panels8 : memref<1x2x3x3x8x4xi8> = dense<1>
// AVX2-LABEL: func @pixel_rows_avx2(
// AVX2-SAME:      %{{[^:]+}}: memref<1x8x5x9xi8>, %[[C:[^:]+]]: memref<1x8x3x7xi32>)
// AVX2: %[[FLATF:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3, 4, 5]] : memref<1x2x3x3x8x4xi8> into memref<1x576xi8>
// AVX2: %[[FLATC:.*]] = memref.collapse_shape %[[C]] {{\[}}[0], [1], [2, 3]] : memref<1x8x3x7xi32> into memref<1x8x21xi32>
// AVX2-NOT: scf.parallel
// AVX2: %[[PANEL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<18x256xi8>
// AVX2: scf.for %[[STEP:.*]] = %c0 to %c18 step %c1 iter_args({{[^)]*}}) -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// AVX2:   %[[W:.*]] = vector.load %[[FLATF]][%c0, %{{.*}}] : memref<1x576xi8>, vector<32xi8>
// AVX2:   vector.load %[[PANEL]][%[[STEP]], %c0] : memref<18x256xi8>, vector<4xi8>
// AVX2:   vector.broadcast %{{.*}} : i32 to vector<8xi32>
// AVX2-NOT: arith.shrsi
// AVX2:   llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%{{.*}}, %[[W]])
// AVX2-NEXT: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// AVX2-COUNT-7: llvm.x86.avx2.pmadd.ub.sw
// AVX2: scf.yield
// AVX2: vector.shuffle %{{.*}}, %{{.*}} [0, 8, 2, 10, 4, 12, 6, 14] : vector<8xi32>, vector<8xi32>
// AVX2: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 8, 9, 4, 5, 12, 13] : vector<8xi32>, vector<8xi32>
// AVX2: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 8, 9, 10, 11] : vector<8xi32>, vector<8xi32>
// AVX2: vector.load %[[FLATC]][%c0, %c0, %c0] : memref<1x8x21xi32>, vector<8xi32>
// AVX2: vector.store %{{.*}}, %[[FLATC]][%c0, %c0, %c0] : memref<1x8x21xi32>, vector<8xi32>
// AVX2: vector.store %{{.*}}, %[[FLATC]][%c0, %c7, %c0] : memref<1x8x21xi32>, vector<8xi32>
func.func @pixel_rows_avx2(%x: memref<1x8x5x9xi8>, %c: memref<1x8x3x7xi32>) {
  %w = memref.get_global @panels8 : memref<1x2x3x3x8x4xi8>
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x8x5x9xi8>, memref<1x2x3x3x8x4xi8>) outs(%c : memref<1x8x3x7xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}
// -----

// Two panels at a time: 64 channels in two parallel halves of 32, each half
// one call of the kernel on its two panels of 16. The 8 pixels run as one
// loop of 16 accumulators (8 pixels x 2 panels): each k step loads both
// panels' filter rows and multiplies each pixel's broadcast word by both.
// Its first loop asks L2 for the panel after the pair (the half's last
// one is its first panel's next block, clamped: there is none).

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d6 + d4)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1 floordiv 16, d5, d3, d4, d1 mod 16, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
// VNNI-LABEL: func @pixel_rows_two_panels(
// VNNI-SAME:      %[[X:[^:]+]]: memref<1x8x3x10xi8>, %[[F:[^:]+]]: memref<4x2x3x3x16x4xi8>, %[[C:[^:]+]]: memref<1x64x1x8xi32>)
// VNNI: %[[FLATF:.*]] = memref.collapse_shape %[[F]] {{\[}}[0], [1, 2, 3, 4, 5]] : memref<4x2x3x3x16x4xi8> into memref<4x1152xi8>
// VNNI: scf.parallel (%[[HALF:.*]]) = (%c0) to (%c2) step (%c1) {
// VNNI:   %[[FIRST:.*]] = arith.muli %[[HALF]], %c32 : index
// VNNI:   %[[P0:.*]] = arith.divui %[[FIRST]], %c16 : index
// VNNI:   %[[P1:.*]] = arith.addi %[[P0]], %c1 : index
// VNNI:   scf.for %[[STEP:.*]] = %c0 to %c18 step %c1 iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// VNNI:     %[[WOFF:.*]] = arith.muli %[[STEP]], %c64 : index
// VNNI:     %[[NEXT:.*]] = arith.addi %[[P0]], %c2 : index
// VNNI:     memref.prefetch %[[FLATF]][%{{.*}}, %{{.*}}], read, locality<2>, data : memref<4x1152xi8>
// VNNI:     %[[W0:.*]] = vector.load %[[FLATF]][%[[P0]], %[[WOFF]]] : memref<4x1152xi8>, vector<64xi8>
// VNNI:     %[[W1:.*]] = vector.load %[[FLATF]][%[[P1]], %[[WOFF]]] : memref<4x1152xi8>, vector<64xi8>
// VNNI:     vector.load %{{.*}}[%[[STEP]], %c0] : memref<18x256xi8>, vector<4xi8>
// VNNI:     %[[BYTES0:.*]] = vector.bitcast %{{.*}} : vector<16xi32> to vector<64xi8>
// VNNI:     llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[BYTES0]], %[[W0]])
// VNNI:     llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[BYTES0]], %[[W1]])
// VNNI-COUNT-14: llvm.x86.avx512.vpdpbusd.512
// VNNI-NOT: llvm.x86.avx512.vpdpbusd.512
// VNNI:     scf.yield
// Panel 0's channels, then panel 1's, each from a transpose; one store of
// the 8 pixels per channel.
// VNNI: vector.store %{{.*}}, %[[C]][%c0, %[[FIRST]], %c0, %c0] : memref<1x64x1x8xi32>, vector<8xi32>
// VNNI-COUNT-15: vector.store %{{.*}}, %[[C]][%c0, %{{.*}}, %c0, %c0] : memref<1x64x1x8xi32>, vector<8xi32>
// VNNI: %[[SECOND:.*]] = arith.addi %[[FIRST]], %c16 : index
// VNNI: vector.store %{{.*}}, %[[C]][%c0, %[[SECOND]], %c0, %c0] : memref<1x64x1x8xi32>, vector<8xi32>
func.func @pixel_rows_two_panels(%x: memref<1x8x3x10xi8>, %w: memref<4x2x3x3x16x4xi8>, %c: memref<1x64x1x8xi32>) {
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x8x3x10xi8>, memref<4x2x3x3x16x4xi8>) outs(%c : memref<1x64x1x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A filter widened to i16 by quarc-pack-integer-weights (AVX2, weights
// whose pairs could saturate vpmaddubsw). The panel holds each pixel's
// channels in the order 0, 2, 1, 3, so that the even bytes of each 16-bit
// word are channels 0 and 1 and the odd bytes channels 2 and 3; each row
// broadcasts its weights (w0, w1) and (w2, w3) as i16 pairs, loaded as
// they are, and vpmaddwd multiplies each with its half of the panel (a
// mask, a right shift). Other targets leave the i16 filter to the loops.

#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d6 + d4)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
// CHECK-LABEL: func @conv_wide_filter(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x4x1x8xi8>, %[[F:[^:]+]]: memref<2x1x1x1x4xi16>, %[[C:[^:]+]]: memref<1x2x1x8xi32>)
// VNNI: linalg.generic
// VNNI-NOT: llvm.call_intrinsic
// AVX2:     %[[FF:.*]] = memref.collapse_shape %[[F]] {{\[}}[0], [1, 2, 3, 4]] : memref<2x1x1x1x4xi16> into memref<2x4xi16>
// AVX2-DAG: %[[CH0:.*]] = vector.load %[[X]][%c0, %c0, %c0, %c0] : memref<1x4x1x8xi8>, vector<8xi8>
// AVX2-DAG: %[[CH1:.*]] = vector.load %[[X]][%c0, %c1, %c0, %c0] : memref<1x4x1x8xi8>, vector<8xi8>
// AVX2-DAG: %[[CH2:.*]] = vector.load %[[X]][%c0, %c2, %c0, %c0] : memref<1x4x1x8xi8>, vector<8xi8>
// AVX2-DAG: %[[CH3:.*]] = vector.load %[[X]][%c0, %c3, %c0, %c0] : memref<1x4x1x8xi8>, vector<8xi8>
// AVX2:     %[[CH02:.*]] = vector.interleave %[[CH0]], %[[CH2]] : vector<8xi8> -> vector<16xi8>
// AVX2:     %[[CH13:.*]] = vector.interleave %[[CH1]], %[[CH3]] : vector<8xi8> -> vector<16xi8>
// AVX2:     %[[PIXELS:.*]] = vector.shuffle %[[CH02]], %[[CH13]] [0, 1, 16, 17, 2, 3, 18, 19,
// AVX2:     vector.store %[[PIXELS]], %[[PANEL:.*]][%c0, %c0] : memref<1x64xi8>, vector<32xi8>
// AVX2:     %[[COLUMNS:.*]] = vector.load %[[PANEL]][%c0, %c0] : memref<1x64xi8>, vector<32xi8>
// AVX2:     %[[W01:.*]] = vector.load %[[FF]][%c0, %c0] : memref<2x4xi16>, vector<2xi16>
// AVX2:     vector.bitcast %[[W01]] : vector<2xi16> to vector<1xi32>
// AVX2:     %[[B01:.*]] = vector.broadcast %{{.*}} : i32 to vector<8xi32>
// AVX2:     %[[P01:.*]] = vector.bitcast %[[B01]] : vector<8xi32> to vector<16xi16>
// AVX2:     %[[W23:.*]] = vector.load %[[FF]][%c0, %c2] : memref<2x4xi16>, vector<2xi16>
// AVX2:     %[[B23:.*]] = vector.broadcast %{{.*}} : i32 to vector<8xi32>
// AVX2:     %[[P23:.*]] = vector.bitcast %[[B23]] : vector<8xi32> to vector<16xi16>
// AVX2:     %[[WORDS:.*]] = vector.bitcast %[[COLUMNS]] : vector<32xi8> to vector<16xi16>
// AVX2:     %[[K01:.*]] = arith.andi %[[WORDS]], %{{.*}} : vector<16xi16>
// AVX2:     %[[K23:.*]] = arith.shrui %[[WORDS]], %{{.*}} : vector<16xi16>
// AVX2:     %[[D01:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[K01]], %[[P01]])
// AVX2:     %[[D23:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[K23]], %[[P23]])
// AVX2:     %[[SUM:.*]] = arith.addi %[[D01]], %[[D23]] : vector<8xi32>
// AVX2:     arith.addi %{{.*}}, %[[SUM]] : vector<8xi32>
// AVX2-NOT: pmadd.ub.sw
// AVX2-NOT: arith.shrsi
// CHECK:    return
func.func @conv_wide_filter(%x: memref<1x4x1x8xi8>, %w: memref<2x1x1x1x4xi16>, %c: memref<1x2x1x8xi32>) {
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x4x1x8xi8>, memref<2x1x1x1x4xi16>) outs(%c : memref<1x2x1x8xi32>) {
  ^bb0(%a: i8, %b: i16, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i16 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

//===----------------------------------------------------------------------===//
// A matrix product packed for i8mm's usmmla (k in groups of eight): 3 rows,
// 2 panels of 4 columns, 2 k steps. Each step loads two rows' eight k as one
// vector<16xi8> (the third row paired with itself) and each panel row's two
// column pairs (16 bytes each), and multiplies every row pair by every
// column pair into a 2 x 2 block of C. The blocks are shuffled out of C's
// rows before the k loop and back after it. Targets without i8mm leave it.
//===----------------------------------------------------------------------===//

#a8 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4)>
#w8 = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3, d4)>
#c8 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3)>
// USDOT-LABEL: func @matmul_i8mm(
// USDOT-SAME:      %[[A:[^:]+]]: memref<3x2x8xi8>, %[[W:[^:]+]]: memref<2x2x4x8xi8>, %[[C:[^:]+]]: memref<3x2x4xi32>)
// USDOT: %[[PANELS:.*]] = memref.collapse_shape %[[W]] {{\[}}[0], [1], [2, 3]] : memref<2x2x4x8xi8> into memref<2x2x32xi8>
// USDOT: %[[R0:.*]] = vector.load %[[C]][%c0, %{{.*}}, %c0] : memref<3x2x4xi32>, vector<4xi32>
// USDOT: %[[R1:.*]] = vector.load %[[C]][%c1, %{{.*}}, %c0] : memref<3x2x4xi32>, vector<4xi32>
// USDOT: vector.shuffle %[[R0]], %[[R1]] [0, 1, 4, 5] : vector<4xi32>, vector<4xi32>
// USDOT: vector.shuffle %[[R0]], %[[R1]] [2, 3, 6, 7] : vector<4xi32>, vector<4xi32>
// USDOT: scf.for %[[K:.*]] = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<4xi32>,
// USDOT:   %[[A0:.*]] = vector.load %[[A]][%c0, %[[K]], %c0] : memref<3x2x8xi8>, vector<8xi8>
// USDOT:   %[[A1:.*]] = vector.load %[[A]][%c1, %[[K]], %c0] : memref<3x2x8xi8>, vector<8xi8>
// USDOT:   %[[PAIR:.*]] = vector.shuffle %[[A0]], %[[A1]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xi8>, vector<8xi8>
// USDOT:   %[[A2:.*]] = vector.load %[[A]][%c2, %[[K]], %c0] : memref<3x2x8xi8>, vector<8xi8>
// USDOT:   %[[SELF:.*]] = vector.shuffle %[[A2]], %[[A2]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// USDOT:   %[[B0:.*]] = vector.load %[[PANELS]][%{{.*}}, %[[K]], %c0] : memref<2x2x32xi8>, vector<16xi8>
// USDOT:   %[[B1:.*]] = vector.load %[[PANELS]][%{{.*}}, %[[K]], %c16] : memref<2x2x32xi8>, vector<16xi8>
// USDOT:   llvm.call_intrinsic "llvm.aarch64.neon.usmmla.v4i32.v16i8"(%{{.*}}, %[[PAIR]], %[[B0]]) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// USDOT:   llvm.call_intrinsic "llvm.aarch64.neon.usmmla.v4i32.v16i8"(%{{.*}}, %[[PAIR]], %[[B1]])
// USDOT-COUNT-6: llvm.call_intrinsic "llvm.aarch64.neon.usmmla.v4i32.v16i8"
// USDOT-NOT: usdot
// USDOT:   scf.yield
// USDOT: %[[ROW0:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 4, 5] : vector<4xi32>, vector<4xi32>
// USDOT: vector.store %[[ROW0]], %[[C]][%c0, %{{.*}}, %c0] : memref<3x2x4xi32>, vector<4xi32>
// SDOT-LABEL: func @matmul_i8mm(
// SDOT: linalg.generic
// VNNI-LABEL: func @matmul_i8mm(
// VNNI: linalg.generic
// AVX2-LABEL: func @matmul_i8mm(
// AVX2: linalg.generic
func.func @matmul_i8mm(%a: memref<3x2x8xi8>, %w: memref<2x2x4x8xi8>, %c: memref<3x2x4xi32>) {
  linalg.generic {indexing_maps = [#a8, #w8, #c8], iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]} ins(%a, %w : memref<3x2x8xi8>, memref<2x2x4x8xi8>) outs(%c : memref<3x2x4xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extui %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

//===----------------------------------------------------------------------===//
// A 3x3 convolution packed for usmmla (channels in one group of eight): 3
// output channels, one row of 8 pixels. The panel holds each pixel's eight
// channels side by side (two interleaved quads); each step multiplies every
// pair of output channels (two filter rows' eight bytes, the third channel
// paired with itself) by every pair of pixels (16 bytes of the panel), the
// pixels as usmmla's unsigned operand: blocks [p c, p c+1, p+1 c, p+1 c+1],
// transposed out of C's channel rows and back.
//===----------------------------------------------------------------------===//

#in8 = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 8 + d7, d2 + d3, d6 + d4)>
#filter8 = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>
#out8 = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>
// USDOT-LABEL: func @conv_i8mm(
// USDOT-SAME:      %[[X:[^:]+]]: memref<1x8x3x10xi8>, %[[W:[^:]+]]: memref<3x1x3x3x8xi8>, %[[C:[^:]+]]: memref<1x3x1x8xi32>)
// USDOT: %[[FILTER:.*]] = memref.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3, 4]] : memref<3x1x3x3x8xi8> into memref<3x72xi8>
// USDOT: %[[PANEL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<9x64xi8>
// Eight channels of four pixels: two quads, then [x c0..c3, x c4..c7] per pixel.
// USDOT: %[[Q0:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15] : vector<8xi8>, vector<8xi8>
// USDOT: %[[Q1:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15] : vector<8xi8>, vector<8xi8>
// USDOT: %[[OCTS:.*]] = vector.shuffle %[[Q0]], %[[Q1]] [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// USDOT: vector.store %[[OCTS]], %[[PANEL]][%{{.*}}, %c0] : memref<9x64xi8>, vector<32xi8>
// USDOT: %[[R0:.*]] = vector.load %[[C]][%c0, %c0, %c0, %c0] : memref<1x3x1x8xi32>, vector<4xi32>
// USDOT: %[[R1:.*]] = vector.load %[[C]][%c0, %c1, %c0, %c0] : memref<1x3x1x8xi32>, vector<4xi32>
// USDOT: vector.shuffle %[[R0]], %[[R1]] [0, 4, 1, 5] : vector<4xi32>, vector<4xi32>
// USDOT: vector.shuffle %[[R0]], %[[R1]] [2, 6, 3, 7] : vector<4xi32>, vector<4xi32>
// USDOT: scf.for %[[STEP:.*]] = %c0 to %c9 step %c1 iter_args({{.*}}) -> (vector<4xi32>,
// USDOT:   %[[OFFSET:.*]] = arith.muli %[[STEP]], %c8 : index
// USDOT:   %[[F0:.*]] = vector.load %[[FILTER]][%c0, %[[OFFSET]]] : memref<3x72xi8>, vector<8xi8>
// USDOT:   %[[F1:.*]] = vector.load %[[FILTER]][%c1, %[[OFFSET]]] : memref<3x72xi8>, vector<8xi8>
// USDOT:   %[[FPAIR:.*]] = vector.shuffle %[[F0]], %[[F1]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// USDOT:   %[[F2:.*]] = vector.load %[[FILTER]][%c2, %[[OFFSET]]] : memref<3x72xi8>, vector<8xi8>
// USDOT:   vector.shuffle %[[F2]], %[[F2]]
// USDOT:   %[[P0:.*]] = vector.load %[[PANEL]][%[[STEP]], %c0] : memref<9x64xi8>, vector<16xi8>
// USDOT:   llvm.call_intrinsic "llvm.aarch64.neon.usmmla.v4i32.v16i8"(%{{.*}}, %[[P0]], %[[FPAIR]])
// USDOT-COUNT-7: llvm.call_intrinsic "llvm.aarch64.neon.usmmla.v4i32.v16i8"
// USDOT:   scf.yield
// USDOT: vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6] : vector<4xi32>, vector<4xi32>
// SDOT-LABEL: func @conv_i8mm(
// SDOT: linalg.generic
func.func @conv_i8mm(%x: memref<1x8x3x10xi8>, %w: memref<3x1x3x3x8xi8>, %c: memref<1x3x1x8xi32>) {
  linalg.generic {indexing_maps = [#in8, #filter8, #out8], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%x, %w : memref<1x8x3x10xi8>, memref<3x1x3x3x8xi8>) outs(%c : memref<1x3x1x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A dynamic batch: the bias broadcast writes C [?, 1, F, H, W] and the
// pointwise convolution (i16 weights: AVX2's exact path) sees it through
// collapses and expansions of a dynamic first dim, with size queries
// (memref.dim) between them. The kernel still starts from the bias (loaded
// per channel) and the broadcast goes.
// AVX2-LABEL: func @dynamic_batch_bias(
// AVX2-NOT:     linalg.generic
// AVX2:         memref.load %{{.*}} : memref<1x24xi32>
// AVX2-NOT:     linalg.generic
// AVX2:         return
func.func @dynamic_batch_bias(%x: memref<?x8x12x96xi8>, %w: memref<24x2x1x1x4xi16>, %bias: memref<1x24xi32>, %n: index) -> memref<?x24x12x96xi32> {
  %c0 = arith.constant 0 : index
  %acc = memref.alloc(%n) {alignment = 64 : i64} : memref<?x1x24x12x96xi32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%bias : memref<1x24xi32>) outs(%acc : memref<?x1x24x12x96xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  }
  %xflat = memref.collapse_shape %x [[0], [1], [2, 3]] : memref<?x8x12x96xi8> into memref<?x8x1152xi8>
  %dx = memref.dim %xflat, %c0 : memref<?x8x1152xi8>
  %xin = memref.expand_shape %xflat [[0], [1], [2, 3]] output_shape [%dx, 8, 1, 1152] : memref<?x8x1152xi8> into memref<?x8x1x1152xi8>
  %cflat = memref.collapse_shape %acc [[0], [1], [2], [3, 4]] : memref<?x1x24x12x96xi32> into memref<?x1x24x1152xi32>
  %dc = memref.dim %cflat, %c0 : memref<?x1x24x1152xi32>
  %cexp = memref.expand_shape %cflat [[0], [1], [2], [3, 4]] output_shape [%dc, 1, 24, 1, 1152] : memref<?x1x24x1152xi32> into memref<?x1x24x1x1152xi32>
  %c = memref.collapse_shape %cexp [[0], [1, 2], [3], [4]] : memref<?x1x24x1x1152xi32> into memref<?x24x1x1152xi32>
  %dd = memref.dim %c, %c0 : memref<?x24x1x1152xi32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%xin, %w : memref<?x8x1x1152xi8>, memref<24x2x1x1x4xi16>) outs(%c : memref<?x24x1x1152xi32>) {
  ^bb0(%in: i8, %wt: i16, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wt : i16 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  %r = memref.collapse_shape %acc [[0], [1, 2], [3], [4]] : memref<?x1x24x12x96xi32> into memref<?x24x12x96xi32>
  return %r : memref<?x24x12x96xi32>
}

// -----

// A dynamic batch with the output stage after the kernel: the consumer
// reads C through another view of its buffer than the kernel's, and its
// output is allocated after the kernel, sized by a memref.dim of that view
// (through an allocation of the same size that only gives its size). The
// views, sizes and allocations move before the kernel, which runs the
// output stage on its accumulators and stores bytes only (the size
// queries read no element of C): no generic is left, no i32 is stored.
// AVX2-LABEL: func @dynamic_batch_output_stage(
// AVX2:         memref.alloc(%{{.+}}) {{.*}} : memref<?x24x12x96xi8>
// AVX2:         %[[OUT:.+]] = memref.alloc(%{{.+}}) {{.*}} : memref<?x24x12x96xi8>
// AVX2-NOT:     linalg.generic
// AVX2-NOT:     vector.store {{.*}}xi32>, vector<8xi32>
// AVX2:         vector.store %{{.+}}, %{{.+}} : memref<?x24x1x1152xi8>, vector<16xi8>
// AVX2-NOT:     vector.store {{.*}}xi32>, vector<8xi32>
// AVX2-NOT:     linalg.generic
// AVX2:         return %[[OUT]]
func.func @dynamic_batch_output_stage(%x: memref<?x8x12x96xi8>, %w: memref<24x2x1x1x4xi16>, %n: index) -> memref<?x24x12x96xi8> {
  %c0 = arith.constant 0 : index
  %c0_i32 = arith.constant 0 : i32
  %c6_i32 = arith.constant 6 : i32
  %acc = memref.alloc(%n) {alignment = 64 : i64} : memref<?x1x24x12x96xi32>
  linalg.fill ins(%c0_i32 : i32) outs(%acc : memref<?x1x24x12x96xi32>)
  %xflat = memref.collapse_shape %x [[0], [1], [2, 3]] : memref<?x8x12x96xi8> into memref<?x8x1152xi8>
  %dx = memref.dim %xflat, %c0 : memref<?x8x1152xi8>
  %xin = memref.expand_shape %xflat [[0], [1], [2, 3]] output_shape [%dx, 8, 1, 1152] : memref<?x8x1152xi8> into memref<?x8x1x1152xi8>
  %cflat = memref.collapse_shape %acc [[0], [1], [2], [3, 4]] : memref<?x1x24x12x96xi32> into memref<?x1x24x1152xi32>
  %dc = memref.dim %cflat, %c0 : memref<?x1x24x1152xi32>
  %cexp = memref.expand_shape %cflat [[0], [1], [2], [3, 4]] output_shape [%dc, 1, 24, 1, 1152] : memref<?x1x24x1152xi32> into memref<?x1x24x1x1152xi32>
  %c = memref.collapse_shape %cexp [[0], [1, 2], [3], [4]] : memref<?x1x24x1x1152xi32> into memref<?x24x1x1152xi32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d5 * 4 + d7, d2 + d3, d4 + d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d3, d4, d7)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d6)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]} ins(%xin, %w : memref<?x8x1x1152xi8>, memref<24x2x1x1x4xi16>) outs(%c : memref<?x24x1x1152xi32>) {
  ^bb0(%in: i8, %wt: i16, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wt : i16 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  %cv = memref.collapse_shape %acc [[0], [1, 2], [3], [4]] : memref<?x1x24x12x96xi32> into memref<?x24x12x96xi32>
  %d = memref.dim %cv, %c0 : memref<?x24x12x96xi32>
  %sized = memref.alloc(%d) {alignment = 64 : i64} : memref<?x24x12x96xi8>
  %sizedexp = memref.expand_shape %sized [[0], [1, 2], [3], [4]] output_shape [%d, 1, 24, 12, 96] : memref<?x24x12x96xi8> into memref<?x1x24x12x96xi8>
  %d2 = memref.dim %sizedexp, %c0 : memref<?x1x24x12x96xi8>
  %result = memref.alloc(%d2) {alignment = 64 : i64} : memref<?x24x12x96xi8>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cv : memref<?x24x12x96xi32>) outs(%result : memref<?x24x12x96xi8>) {
  ^bb0(%in: i32, %out: i8):
    %0 = arith.shrsi %in, %c6_i32 : i32
    %1 = arith.trunci %0 : i32 to i8
    linalg.yield %1 : i8
  }
  return %result : memref<?x24x12x96xi8>
}
