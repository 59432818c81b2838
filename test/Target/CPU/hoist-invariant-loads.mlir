// RUN: quarc-opt %s -split-input-file --quarc-hoist-invariant-loads | FileCheck %s

// A gate per row times a map, both views of the workspace at disjoint
// bytes: the gate is read once per row, the last dim becomes an scf.for.
// CHECK-LABEL: func.func @gate
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c88) step (%c1) {
// CHECK-NEXT: %[[G:.*]] = memref.load %{{.*}}[%[[I]]] : memref<88xi8>
// CHECK-NEXT: scf.for %[[J:.*]] = %c0 to %c288 step %c1 {
// CHECK-NEXT: memref.load %{{.*}}[%[[I]], %[[J]]] : memref<88x288xi8>
// CHECK: arith.muli %{{.*}}, %[[G]] : i8
// CHECK: memref.store
// CHECK-NOT: memref.load
// CHECK: scf.reduce
func.func @gate(%ws: memref<65536xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c88 = arith.constant 88 : index
  %c288 = arith.constant 288 : index
  %c30000 = arith.constant 30000 : index
  %c40000 = arith.constant 40000 : index
  %map = memref.view %ws[%c0][] : memref<65536xi8> to memref<88x288xi8>
  %gate = memref.view %ws[%c30000][] : memref<65536xi8> to memref<88xi8>
  %res = memref.view %ws[%c40000][] : memref<65536xi8> to memref<88x288xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c88, %c288) step (%c1, %c1) {
    %x = memref.load %map[%i, %j] : memref<88x288xi8>
    %g = memref.load %gate[%i] : memref<88xi8>
    %y = arith.muli %x, %g : i8
    memref.store %y, %res[%i, %j] : memref<88x288xi8>
    scf.reduce
  }
  return
}

// -----

// The stored view overlaps the loaded one: unchanged.
// CHECK-LABEL: func.func @overlap
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c8, %c64)
// CHECK-NOT: scf.for
func.func @overlap(%ws: memref<4096xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %c100 = arith.constant 100 : index
  %row = memref.view %ws[%c0][] : memref<4096xi8> to memref<8xi8>
  %out = memref.view %ws[%c0][] : memref<4096xi8> to memref<8x64xi8>
  %in = memref.view %ws[%c100][] : memref<4096xi8> to memref<8x64xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c64) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<8x64xi8>
    %g = memref.load %row[%i] : memref<8xi8>
    %y = arith.addi %x, %g : i8
    memref.store %y, %out[%i, %j] : memref<8x64xi8>
    scf.reduce
  }
  return
}

// -----

// One loop, a scalar from a global through a reshape: read before the loop.
// CHECK-LABEL: func.func @one_dim
// CHECK: %[[S:.*]] = memref.load %{{.*}}[%c0] : memref<1xf32>
// CHECK-NEXT: scf.parallel (%[[I:.*]]) = (%c0) to (%c64) step (%c1) {
// CHECK-NEXT: memref.load %arg0[%[[I]]]
// CHECK-NEXT: arith.mulf %{{.*}}, %[[S]]
memref.global "private" constant @scale : memref<1x1xf32> = dense<2.0>
func.func @one_dim(%in: memref<64xf32>, %out: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %g = memref.get_global @scale : memref<1x1xf32>
  %s = memref.collapse_shape %g [[0, 1]] : memref<1x1xf32> into memref<1xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %x = memref.load %in[%i] : memref<64xf32>
    %k = memref.load %s[%c0] : memref<1xf32>
    %y = arith.mulf %x, %k : f32
    memref.store %y, %out[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// Unchanged: the row is read from the buffer the loop writes; a buffer of
// unknown origin (a call's); a kernel's loop; a loop with a call in it.
// CHECK-LABEL: func.func @unproven
// CHECK-NOT: scf.for
// CHECK: return
func.func private @make() -> memref<8xi8>
func.func private @effect()
func.func @unproven(%in: memref<8x64xi8>, %out: memref<8x64xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c64) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<8x64xi8>
    %g = memref.load %out[%i, %c0] : memref<8x64xi8>
    %y = arith.addi %x, %g : i8
    memref.store %y, %out[%i, %j] : memref<8x64xi8>
    scf.reduce
  }
  %row = func.call @make() : () -> memref<8xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c64) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<8x64xi8>
    %g = memref.load %row[%i] : memref<8xi8>
    %y = arith.addi %x, %g : i8
    memref.store %y, %out[%i, %j] : memref<8x64xi8>
    scf.reduce
  }
  %own = memref.alloc() : memref<8xi8>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c64) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<8x64xi8>
    %g = memref.load %own[%i] : memref<8xi8>
    %y = arith.addi %x, %g : i8
    memref.store %y, %out[%i, %j] : memref<8x64xi8>
    scf.reduce
  } {quarc.kernel}
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c64) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<8x64xi8>
    %g = memref.load %own[%i] : memref<8xi8>
    func.call @effect() : () -> ()
    %y = arith.addi %x, %g : i8
    memref.store %y, %out[%i, %j] : memref<8x64xi8>
    scf.reduce
  }
  return
}
