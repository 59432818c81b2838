// RUN: quarc-opt %s -split-input-file --quarc-collapse-elementwise-dims | FileCheck %s

// The residual Add of two 14 x 14 feature maps with a per-channel
// parameter: the spatial dims merge into one loop of 196; the parameter,
// which does not use them, is read as it is.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func @feature_maps(
// CHECK-SAME: %[[A:[^:]+]]: memref<?x64x14x14xi8>, %[[P:[^:]+]]: memref<64xi32>, %[[O:[^:]+]]: memref<?x64x14x14xi8>)
// CHECK-DAG: %[[CA:.*]] = memref.collapse_shape %[[A]] {{\[\[}}0], [1], [2, 3]] : memref<?x64x14x14xi8> into memref<?x64x196xi8>
// CHECK-DAG: %[[CO:.*]] = memref.collapse_shape %[[O]] {{\[\[}}0], [1], [2, 3]] : memref<?x64x14x14xi8> into memref<?x64x196xi8>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[CA]], %[[P]] : memref<?x64x196xi8>, memref<64xi32>) outs(%[[CO]] : memref<?x64x196xi8>)
// CHECK: arith.addi
func.func @feature_maps(%a: memref<?x64x14x14xi8>, %p: memref<64xi32>, %o: memref<?x64x14x14xi8>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a, %p : memref<?x64x14x14xi8>, memref<64xi32>) outs(%o : memref<?x64x14x14xi8>) {
  ^bb0(%x: i8, %q: i32, %out: i8):
    %w = arith.extsi %x : i8 to i32
    %s = arith.addi %w, %q : i32
    %t = arith.trunci %s : i32 to i8
    linalg.yield %t : i8
  }
  return
}

// -----

// Contiguous along every dim: one loop over all of them.
// CHECK-LABEL: func @all_dims(
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2]] : memref<2x7x7xf32> into memref<98xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]
func.func @all_dims(%a: memref<2x7x7xf32>, %o: memref<2x7x7xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%a : memref<2x7x7xf32>) outs(%o : memref<2x7x7xf32>) {
  ^bb0(%x: f32, %out: f32):
    %y = arith.negf %x : f32
    linalg.yield %y : f32
  }
  return
}

// -----

// A padded buffer's border value (tensor.pad bufferizes to a linalg.map
// that yields it) and a fill, on contiguous buffers: each a generic over
// one dim, the value from outside. (Row by row, the loops LLVM left had
// a division per row to find the row's offset.) A fill of a strided view
// (the interior of a padded buffer), not contiguous, keeps its four dims.
// CHECK-LABEL: func @fills(
// CHECK-SAME: %[[P:[^:]+]]: memref<1x200x6x100xi8>, %[[F:[^:]+]]: memref<2x8x3x3xi32>, %[[S:[^:]+]]: memref<1x4x5x5xf32, strided<[196, 49, 7, 1], offset: 8>>)
// CHECK-NOT: linalg.map
// CHECK-NOT: linalg.fill
// CHECK: %[[PF:.*]] = memref.collapse_shape %[[P]] {{\[\[}}0, 1, 2, 3]] : memref<1x200x6x100xi8> into memref<120000xi8>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} outs(%[[PF]] : memref<120000xi8>)
// CHECK:   linalg.yield %c9_i8 : i8
// CHECK: %[[FF:.*]] = memref.collapse_shape %[[F]] {{\[\[}}0, 1, 2, 3]] : memref<2x8x3x3xi32> into memref<144xi32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%c0_i32 : i32) outs(%[[FF]] : memref<144xi32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%{{.*}} : f32) outs(%[[S]] :
// CHECK: return
func.func @fills(%p: memref<1x200x6x100xi8>, %f: memref<2x8x3x3xi32>, %s: memref<1x4x5x5xf32, strided<[196, 49, 7, 1], offset: 8>>) {
  %c9_i8 = arith.constant 9 : i8
  %c0_i32 = arith.constant 0 : i32
  %zero = arith.constant 0.0 : f32
  linalg.map outs(%p : memref<1x200x6x100xi8>)
    (%init: i8) {
      linalg.yield %c9_i8 : i8
    }
  linalg.fill ins(%c0_i32 : i32) outs(%f : memref<2x8x3x3xi32>)
  linalg.fill ins(%zero : f32) outs(%s : memref<1x4x5x5xf32, strided<[196, 49, 7, 1], offset: 8>>)
  return
}

// -----

// An integer reduction (a global average pool's sums) merges its trailing
// reduction dims, over which its input is contiguous: one loop of 288 that
// LLVM vectorizes (it fully unrolled the inner loop of 96 and left the sums
// scalar). Its parallel dims stay. A float reduction keeps its dims (and
// the order of its additions).
// CHECK-LABEL: func @pool_sums(
// CHECK-SAME: %[[X:[^:]+]]: memref<1x88x1x1x3x96xi8>, %[[S:[^:]+]]: memref<1x88x1x1xi32>,
// CHECK: %[[XF:.*]] = memref.collapse_shape %[[X]] {{\[\[}}0], [1], [2], [3], [4, 5]] : memref<1x88x1x1x3x96xi8> into memref<1x88x1x1x288xi8>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[XF]] : memref<1x88x1x1x288xi8>) outs(%[[S]] : memref<1x88x1x1xi32>)
// CHECK-NOT: memref.collapse_shape
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.*}} : memref<1x88x1x1x3x96xf32>)
func.func @pool_sums(%x: memref<1x88x1x1x3x96xi8>, %s: memref<1x88x1x1xi32>, %xf: memref<1x88x1x1x3x96xf32>, %sf: memref<1x88x1x1xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x : memref<1x88x1x1x3x96xi8>) outs(%s : memref<1x88x1x1xi32>) {
  ^bb0(%in: i8, %acc: i32):
    %e = arith.extui %in : i8 to i32
    %sum = arith.addi %acc, %e : i32
    linalg.yield %sum : i32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%xf : memref<1x88x1x1x3x96xf32>) outs(%sf : memref<1x88x1x1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %sum = arith.addf %acc, %in : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Left alone: an operand not contiguous along the trailing dims (the
// interior of a padded buffer), a transposed operand, a reduction, a body
// that reads the loop indices, an operand read backwards (a Slice with a
// negative step), and an operand with a broadcast unit dim between the
// trailing dims ((d0, d1, 0, d2): d1 and d2 are not adjacent in it).
// CHECK-LABEL: func @not_collapsible(
// CHECK-NOT: memref.collapse_shape
// CHECK: return
func.func @not_collapsible(%a: memref<1x8x16x16xf32>, %o: memref<1x8x18x18xf32>, %t: memref<4x4xf32>, %r: memref<4xf32>, %i: memref<4x4xindex>, %u: memref<4x4xf32>, %v: memref<1x3x1x4xf32>, %w: memref<1x3x4xf32>) {
  %interior = memref.subview %o[0, 0, 1, 1] [1, 8, 16, 16] [1, 1, 1, 1] : memref<1x8x18x18xf32> to memref<1x8x16x16xf32, strided<[2592, 324, 18, 1], offset: 19>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a : memref<1x8x16x16xf32>) outs(%interior : memref<1x8x16x16xf32, strided<[2592, 324, 18, 1], offset: 19>>) {
  ^bb0(%x: f32, %out: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%t : memref<4x4xf32>) outs(%t : memref<4x4xf32>) {
  ^bb0(%x: f32, %out: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%t : memref<4x4xf32>) outs(%r : memref<4xf32>) {
  ^bb0(%x: f32, %out: f32):
    %s = arith.addf %x, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%i : memref<4x4xindex>) {
  ^bb0(%out: index):
    %j = linalg.index 1 : index
    linalg.yield %j : index
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, 3 - d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%t : memref<4x4xf32>) outs(%u : memref<4x4xf32>) {
  ^bb0(%x: f32, %out: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, 0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v : memref<1x3x1x4xf32>) outs(%w : memref<1x3x4xf32>) {
  ^bb0(%x: f32, %out: f32):
    linalg.yield %x : f32
  }
  return
}
