// RUN: quarc-opt %s -split-input-file --quarc-plan-memory | FileCheck %s

// Every static temporary buffer (an alloc with a dealloc in the function's
// block) gets an offset in one workspace, a new last argument
// memref<BYTESxi8> {quarc.workspace}; its size is also the function's
// quarc.workspace_bytes. Placement is greedy: largest buffer first (ties in
// block order), each at the lowest 64-byte aligned offset where it overlaps
// no placed buffer that is live at the same time. A buffer is live from its
// alloc to its last use, through any view of it; the deallocs, which the
// deallocation pipeline puts at the end of the block, do not count.

//===----------------------------------------------------------------------===//
// (a) A chain: the third buffer is allocated after the first is dead.
//===----------------------------------------------------------------------===//

// a: 32 x f32 = 128 bytes, live until the copy into b.
// b: 20 x f32 =  80 bytes, overlaps a and c.
// c: 24 x f32 =  96 bytes, allocated after a's last use.
// Largest first: a at 0; c at 0 (a is dead when c is allocated); b after
// both, at alignUp(128) = 128. 128 + 80 = 208 bytes, aligned: 256.
// CHECK-LABEL: func.func @chain(
// CHECK-SAME:      %[[IN:[^:]+]]: memref<32xf32>, %[[OUT:[^:]+]]: memref<24xf32>,
// CHECK-SAME:      %[[WS:[^:]+]]: memref<256xi8> {quarc.workspace})
// CHECK-SAME:      attributes {quarc.workspace_bytes = 256 : i64}
// CHECK-NOT:     memref.alloc
// CHECK:         %[[OA:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[A:.+]] = memref.view %[[WS]][%[[OA]]][] : memref<256xi8> to memref<32xf32>
// CHECK-NEXT:    linalg.copy ins(%[[IN]] : memref<32xf32>) outs(%[[A]] : memref<32xf32>)
// CHECK-NEXT:    %[[OB:.+]] = arith.constant 128 : index
// CHECK-NEXT:    %[[B:.+]] = memref.view %[[WS]][%[[OB]]][] : memref<256xi8> to memref<20xf32>
// CHECK-NEXT:    %[[SA:.+]] = memref.subview %[[A]][0] [20] [1]
// CHECK-NEXT:    linalg.copy ins(%[[SA]] : {{.+}}) outs(%[[B]] : memref<20xf32>)
// CHECK-NEXT:    %[[OC:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[C:.+]] = memref.view %[[WS]][%[[OC]]][] : memref<256xi8> to memref<24xf32>
// CHECK-NEXT:    %[[SC:.+]] = memref.subview %[[C]][0] [20] [1]
// CHECK-NEXT:    linalg.copy ins(%[[B]] : memref<20xf32>) outs(%[[SC]] : {{.+}})
// CHECK-NEXT:    linalg.copy ins(%[[C]] : memref<24xf32>) outs(%[[OUT]] : memref<24xf32>)
// CHECK-NEXT:    return
func.func @chain(%in: memref<32xf32>, %out: memref<24xf32>) {
  %a = memref.alloc() : memref<32xf32>
  linalg.copy ins(%in : memref<32xf32>) outs(%a : memref<32xf32>)
  %b = memref.alloc() : memref<20xf32>
  %sa = memref.subview %a[0] [20] [1] : memref<32xf32> to memref<20xf32, strided<[1]>>
  linalg.copy ins(%sa : memref<20xf32, strided<[1]>>) outs(%b : memref<20xf32>)
  %c = memref.alloc() : memref<24xf32>
  %sc = memref.subview %c[0] [20] [1] : memref<24xf32> to memref<20xf32, strided<[1]>>
  linalg.copy ins(%b : memref<20xf32>) outs(%sc : memref<20xf32, strided<[1]>>)
  linalg.copy ins(%c : memref<24xf32>) outs(%out : memref<24xf32>)
  memref.dealloc %a : memref<32xf32>
  memref.dealloc %b : memref<20xf32>
  memref.dealloc %c : memref<24xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// (b) Buffers live at the same time get disjoint, 64-byte aligned offsets.
//===----------------------------------------------------------------------===//

// x: 25 x f32 = 100 bytes at 0; z: 7 x f32 = 28 bytes at alignUp(100) = 128;
// y: 5 x f32 = 20 bytes at alignUp(128 + 28) = 192. 212 bytes, aligned: 256.
// CHECK-LABEL: func.func @all_live(
// CHECK-SAME:      %[[WS:[^:]+]]: memref<256xi8> {quarc.workspace})
// CHECK-SAME:      attributes {quarc.workspace_bytes = 256 : i64}
// CHECK-NOT:     memref.alloc
// CHECK:         %[[OX:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[X:.+]] = memref.view %[[WS]][%[[OX]]][] : memref<256xi8> to memref<25xf32>
// CHECK-NEXT:    %[[OY:.+]] = arith.constant 192 : index
// CHECK-NEXT:    %[[Y:.+]] = memref.view %[[WS]][%[[OY]]][] : memref<256xi8> to memref<5xf32>
// CHECK-NEXT:    %[[OZ:.+]] = arith.constant 128 : index
// CHECK-NEXT:    %[[Z:.+]] = memref.view %[[WS]][%[[OZ]]][] : memref<256xi8> to memref<7xf32>
// CHECK-NEXT:    linalg.fill {{.+}} outs(%[[X]] : memref<25xf32>)
// CHECK-NEXT:    linalg.fill {{.+}} outs(%[[Y]] : memref<5xf32>)
// CHECK-NEXT:    linalg.fill {{.+}} outs(%[[Z]] : memref<7xf32>)
// CHECK:         memref.load %[[X]]
// CHECK-NEXT:    memref.load %[[Y]]
// CHECK-NEXT:    memref.load %[[Z]]
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func @all_live(%out: memref<3xf32>, %cst: f32) {
  %x = memref.alloc() : memref<25xf32>
  %y = memref.alloc() : memref<5xf32>
  %z = memref.alloc() : memref<7xf32>
  linalg.fill ins(%cst : f32) outs(%x : memref<25xf32>)
  linalg.fill ins(%cst : f32) outs(%y : memref<5xf32>)
  linalg.fill ins(%cst : f32) outs(%z : memref<7xf32>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %0 = memref.load %x[%c0] : memref<25xf32>
  %1 = memref.load %y[%c0] : memref<5xf32>
  %2 = memref.load %z[%c0] : memref<7xf32>
  memref.store %0, %out[%c0] : memref<3xf32>
  memref.store %1, %out[%c1] : memref<3xf32>
  memref.store %2, %out[%c2] : memref<3xf32>
  memref.dealloc %x : memref<25xf32>
  memref.dealloc %y : memref<5xf32>
  memref.dealloc %z : memref<7xf32>
  return
}

// -----

// A buffer goes into the lowest gap between live buffers that fits it.
// p: 256 bytes, dead once q is written. q: 128 bytes, live to the end.
// r: 64 bytes, allocated after p is dead; s: 64 bytes, live with q and r.
// p at 0; q at 256 (overlaps p); r at 0 (below q, p is dead); s at 64
// (between r at [0, 64) and q at [256, 384)). 384 bytes.
// CHECK-LABEL: func.func @gap(
// CHECK-SAME:      %[[WS:[^:]+]]: memref<384xi8> {quarc.workspace})
// CHECK-SAME:      attributes {quarc.workspace_bytes = 384 : i64}
// CHECK-NOT:     memref.alloc
// CHECK:         %[[OP:.+]] = arith.constant 0 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[OP]]][] : memref<384xi8> to memref<64xf32>
// CHECK:         %[[OQ:.+]] = arith.constant 256 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[OQ]]][] : memref<384xi8> to memref<32xf32>
// CHECK:         %[[OR:.+]] = arith.constant 0 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[OR]]][] : memref<384xi8> to memref<16xf32>
// CHECK:         %[[OS:.+]] = arith.constant 64 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[OS]]][] : memref<384xi8> to memref<16xi32>
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func @gap(%in: memref<64xf32>, %out: memref<32xf32>, %out2: memref<16xi32>) {
  %p = memref.alloc() : memref<64xf32>
  linalg.copy ins(%in : memref<64xf32>) outs(%p : memref<64xf32>)
  %q = memref.alloc() : memref<32xf32>
  %p0 = memref.subview %p[0] [32] [1] : memref<64xf32> to memref<32xf32, strided<[1]>>
  linalg.copy ins(%p0 : memref<32xf32, strided<[1]>>) outs(%q : memref<32xf32>)
  %r = memref.alloc() : memref<16xf32>
  %q0 = memref.subview %q[0] [16] [1] : memref<32xf32> to memref<16xf32, strided<[1]>>
  linalg.copy ins(%q0 : memref<16xf32, strided<[1]>>) outs(%r : memref<16xf32>)
  %s = memref.alloc() : memref<16xi32>
  %r0 = memref.subview %out[0] [16] [1] : memref<32xf32> to memref<16xf32, strided<[1]>>
  linalg.copy ins(%r : memref<16xf32>) outs(%r0 : memref<16xf32, strided<[1]>>)
  linalg.copy ins(%s : memref<16xi32>) outs(%out2 : memref<16xi32>)
  linalg.copy ins(%q : memref<32xf32>) outs(%out : memref<32xf32>)
  memref.dealloc %p : memref<64xf32>
  memref.dealloc %q : memref<32xf32>
  memref.dealloc %r : memref<16xf32>
  memref.dealloc %s : memref<16xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// (c) A buffer used through views stays live until the views' last use,
// including uses nested in a loop body.
//===----------------------------------------------------------------------===//

// a (128 bytes) is read through a collapse_shape and a subview of it inside
// the scf.for, after b (128 bytes) is allocated and written: they overlap, so
// b is at 128. c (128 bytes) is allocated after the loop, when a is dead: 0.
// CHECK-LABEL: func.func @view_in_loop(
// CHECK-SAME:      %[[IN:[^:]+]]: memref<4x8xf32>, %[[OUT:[^:]+]]: memref<32xf32>, %{{[^:]+}}: index, %{{[^:]+}}: f32,
// CHECK-SAME:      %[[WS:[^:]+]]: memref<256xi8> {quarc.workspace})
// CHECK-SAME:      attributes {quarc.workspace_bytes = 256 : i64}
// CHECK-NOT:     memref.alloc
// CHECK:         %[[OA:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[A:.+]] = memref.view %[[WS]][%[[OA]]][] : memref<256xi8> to memref<4x8xf32>
// CHECK-NEXT:    linalg.copy ins(%[[IN]] : memref<4x8xf32>) outs(%[[A]] : memref<4x8xf32>)
// CHECK-NEXT:    %[[FLAT:.+]] = memref.collapse_shape %[[A]] {{\[}}[0, 1]]
// CHECK-NEXT:    %[[HALF:.+]] = memref.subview %[[FLAT]][0] [16] [1]
// CHECK-NEXT:    %[[OB:.+]] = arith.constant 128 : index
// CHECK-NEXT:    %[[B:.+]] = memref.view %[[WS]][%[[OB]]][] : memref<256xi8> to memref<32xf32>
// CHECK-NEXT:    linalg.fill {{.+}} outs(%[[B]] : memref<32xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[B]] : memref<32xf32>) outs(%[[OUT]] : memref<32xf32>)
// CHECK:         scf.for
// CHECK-NEXT:      memref.load %[[HALF]]
// CHECK-NEXT:      memref.store
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[OC:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[C:.+]] = memref.view %[[WS]][%[[OC]]][] : memref<256xi8> to memref<32xf32>
// CHECK-NEXT:    linalg.copy ins(%[[OUT]] : memref<32xf32>) outs(%[[C]] : memref<32xf32>)
// CHECK-NEXT:    linalg.copy ins(%[[C]] : memref<32xf32>) outs(%[[OUT]] : memref<32xf32>)
// CHECK-NEXT:    return
func.func @view_in_loop(%in: memref<4x8xf32>, %out: memref<32xf32>, %n: index, %cst: f32) {
  %a = memref.alloc() : memref<4x8xf32>
  linalg.copy ins(%in : memref<4x8xf32>) outs(%a : memref<4x8xf32>)
  %flat = memref.collapse_shape %a [[0, 1]] : memref<4x8xf32> into memref<32xf32>
  %half = memref.subview %flat[0] [16] [1] : memref<32xf32> to memref<16xf32, strided<[1]>>
  %b = memref.alloc() : memref<32xf32>
  linalg.fill ins(%cst : f32) outs(%b : memref<32xf32>)
  linalg.copy ins(%b : memref<32xf32>) outs(%out : memref<32xf32>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %half[%i] : memref<16xf32, strided<[1]>>
    memref.store %v, %out[%i] : memref<32xf32>
  }
  %c = memref.alloc() : memref<32xf32>
  linalg.copy ins(%out : memref<32xf32>) outs(%c : memref<32xf32>)
  linalg.copy ins(%c : memref<32xf32>) outs(%out : memref<32xf32>)
  memref.dealloc %a : memref<4x8xf32>
  memref.dealloc %b : memref<32xf32>
  memref.dealloc %c : memref<32xf32>
  return
}

// -----

// The same with the buffer itself, not a view, used in the loop body: a
// (64 bytes) is live through the loop, so b (64 bytes, allocated before the
// loop) does not share its bytes.
// CHECK-LABEL: func.func @buffer_in_loop(
// CHECK-SAME:      %[[WS:[^:]+]]: memref<128xi8> {quarc.workspace})
// CHECK-SAME:      attributes {quarc.workspace_bytes = 128 : i64}
// CHECK:         %[[OA:.+]] = arith.constant 0 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[OA]]][] : memref<128xi8> to memref<16xf32>
// CHECK:         %[[OB:.+]] = arith.constant 64 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[OB]]][] : memref<128xi8> to memref<16xf32>
// CHECK:         scf.for
// CHECK:         return
func.func @buffer_in_loop(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%in : memref<16xf32>) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  linalg.copy ins(%in : memref<16xf32>) outs(%b : memref<16xf32>)
  linalg.copy ins(%b : memref<16xf32>) outs(%out : memref<16xf32>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %a[%i] : memref<16xf32>
    memref.store %v, %out[%i] : memref<16xf32>
  }
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// (d) Left alone, and element sizes.
//===----------------------------------------------------------------------===//

// A returned buffer (no dealloc), a dynamic-size buffer, a buffer without a
// dealloc and a buffer allocated in a loop body keep their allocation; only
// the static temporary t (48 bytes) is planned: a 64-byte workspace.
// CHECK-LABEL: func.func @left_alone(
// CHECK-SAME:      %[[IN:[^:]+]]: memref<16xf32>, %[[N:[^:]+]]: index,
// CHECK-SAME:      %[[WS:[^:]+]]: memref<64xi8> {quarc.workspace}) -> memref<16xf32>
// CHECK-SAME:      attributes {quarc.workspace_bytes = 64 : i64}
// CHECK:         %[[RET:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NEXT:    linalg.copy ins(%[[IN]] : memref<16xf32>) outs(%[[RET]] : memref<16xf32>)
// CHECK-NEXT:    %[[DYN:.+]] = memref.alloc(%[[N]]) : memref<?xf32>
// CHECK-NEXT:    %[[LEAK:.+]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT:    %[[OT:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[T:.+]] = memref.view %[[WS]][%[[OT]]][] : memref<64xi8> to memref<12xf32>
// CHECK-NEXT:    linalg.fill {{.+}} outs(%[[DYN]] : memref<?xf32>)
// CHECK-NEXT:    linalg.fill {{.+}} outs(%[[LEAK]] : memref<8xf32>)
// CHECK-NEXT:    linalg.fill {{.+}} outs(%[[T]] : memref<12xf32>)
// CHECK-NEXT:    scf.for
// CHECK-NEXT:      %[[INNER:.+]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:      linalg.fill {{.+}} outs(%[[INNER]] : memref<4xf32>)
// CHECK-NEXT:      memref.dealloc %[[INNER]] : memref<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    memref.dealloc %[[DYN]] : memref<?xf32>
// CHECK-NEXT:    return %[[RET]] : memref<16xf32>
func.func @left_alone(%in: memref<16xf32>, %n: index) -> memref<16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  %ret = memref.alloc() : memref<16xf32>
  linalg.copy ins(%in : memref<16xf32>) outs(%ret : memref<16xf32>)
  %dyn = memref.alloc(%n) : memref<?xf32>
  %leak = memref.alloc() : memref<8xf32>
  %t = memref.alloc() : memref<12xf32>
  linalg.fill ins(%cst : f32) outs(%dyn : memref<?xf32>)
  linalg.fill ins(%cst : f32) outs(%leak : memref<8xf32>)
  linalg.fill ins(%cst : f32) outs(%t : memref<12xf32>)
  scf.for %i = %c0 to %n step %c1 {
    %inner = memref.alloc() : memref<4xf32>
    linalg.fill ins(%cst : f32) outs(%inner : memref<4xf32>)
    memref.dealloc %inner : memref<4xf32>
  }
  memref.dealloc %dyn : memref<?xf32>
  memref.dealloc %t : memref<12xf32>
  return %ret : memref<16xf32>
}

// -----

// A buffer whose view is returned escapes too, even with a dealloc.
// CHECK-LABEL: func.func @view_returned(
// CHECK-SAME:      %{{[^:]+}}: memref<4x4xf32>) -> memref<16xf32> {
// CHECK-NOT:     quarc.workspace
// CHECK-NOT:     memref.view
// CHECK:         memref.alloc() : memref<4x4xf32>
// CHECK:         memref.collapse_shape
// CHECK:         memref.dealloc
// CHECK:         return
func.func @view_returned(%in: memref<4x4xf32>) -> memref<16xf32> {
  %a = memref.alloc() : memref<4x4xf32>
  linalg.copy ins(%in : memref<4x4xf32>) outs(%a : memref<4x4xf32>)
  %flat = memref.collapse_shape %a [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  memref.dealloc %a : memref<4x4xf32>
  return %flat : memref<16xf32>
}

// -----

// No temporaries: no workspace argument, no attribute.
// CHECK-LABEL: func.func @no_temporaries(
// CHECK-SAME:      %{{[^:]+}}: memref<16xf32>, %{{[^:]+}}: memref<16xf32>) {
// CHECK-NOT:     quarc.workspace
// CHECK-NEXT:    linalg.copy
// CHECK-NEXT:    return
func.func @no_temporaries(%in: memref<16xf32>, %out: memref<16xf32>) {
  linalg.copy ins(%in : memref<16xf32>) outs(%out : memref<16xf32>)
  return
}

// -----

// Element sizes from the data layout: i1 is one byte, i64 eight, index eight
// (the default index bitwidth). 100 x i1 = 100 bytes; 3x5 x i64 = 120 bytes;
// 9 x index = 72 bytes, all live at once. i64 at 0, i1 at 128, index at 256:
// 328 bytes, aligned: 384.
// CHECK-LABEL: func.func @element_sizes(
// CHECK-SAME:      %[[WS:[^:]+]]: memref<384xi8> {quarc.workspace})
// CHECK-SAME:      attributes {quarc.workspace_bytes = 384 : i64}
// CHECK-NOT:     memref.alloc
// CHECK:         %[[O1:.+]] = arith.constant 128 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[O1]]][] : memref<384xi8> to memref<100xi1>
// CHECK-NEXT:    %[[O2:.+]] = arith.constant 0 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[O2]]][] : memref<384xi8> to memref<3x5xi64>
// CHECK-NEXT:    %[[O3:.+]] = arith.constant 256 : index
// CHECK-NEXT:    memref.view %[[WS]][%[[O3]]][] : memref<384xi8> to memref<9xindex>
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func @element_sizes(%o1: memref<i1>, %o2: memref<i64>, %o3: memref<index>) {
  %c0 = arith.constant 0 : index
  %a = memref.alloc() : memref<100xi1>
  %b = memref.alloc() : memref<3x5xi64>
  %c = memref.alloc() : memref<9xindex>
  %0 = memref.load %a[%c0] : memref<100xi1>
  %1 = memref.load %b[%c0, %c0] : memref<3x5xi64>
  %2 = memref.load %c[%c0] : memref<9xindex>
  memref.store %0, %o1[] : memref<i1>
  memref.store %1, %o2[] : memref<i64>
  memref.store %2, %o3[] : memref<index>
  memref.dealloc %a : memref<100xi1>
  memref.dealloc %b : memref<3x5xi64>
  memref.dealloc %c : memref<9xindex>
  return
}

// -----

// The index size follows the module's data layout: with 32-bit indices,
// 9 x index = 36 bytes, a 64-byte workspace.
// CHECK-LABEL: func.func @index32(
// CHECK-SAME:      %{{[^:]+}}: memref<64xi8> {quarc.workspace})
// CHECK-SAME:      attributes {quarc.workspace_bytes = 64 : i64}
// CHECK:         memref.view %{{.+}} : memref<64xi8> to memref<9xindex>
module attributes {dlti.dl_spec = #dlti.dl_spec<index = 32 : i64>} {
  func.func @index32(%o: memref<index>) {
    %c0 = arith.constant 0 : index
    %a = memref.alloc() : memref<9xindex>
    %0 = memref.load %a[%c0] : memref<9xindex>
    memref.store %0, %o[] : memref<index>
    memref.dealloc %a : memref<9xindex>
    return
  }
}
