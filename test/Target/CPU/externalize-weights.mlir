// RUN: quarc-opt %s -split-input-file --quarc-externalize-weights=min-bytes=4 | FileCheck %s
// RUN: quarc-opt %s -split-input-file --quarc-externalize-weights | FileCheck %s --check-prefix=DEFAULT

// Every constant global of at least min-bytes bytes used only by
// memref.get_globals in a function nothing calls gets an offset in one
// weights buffer: in the order of the globals, each 64-byte aligned. The
// buffer is a new last argument memref<BYTESxi8> {quarc.weights} (BYTES
// rounded up to 64); each get_global becomes a memref.view of it, the global
// is erased, and the function records the size (quarc.weights_bytes) and the
// bytes (quarc.weights_data, a dense_resource blob whose hex starts with its
// alignment, 64 = 0x40000000, then the data: little-endian, zeros between).

//===----------------------------------------------------------------------===//
// (a) Layout and contents: dense, resource and splat initial values.
//===----------------------------------------------------------------------===//

// ints: 3 x i32 = 12 bytes at 0; halves: 2 x i16 = 4 bytes at 64 (from a
// resource blob); ones: 2 x f32 = 8 bytes at 128 (a splat, written out);
// 136 bytes, rounded up: 192. tiny (2 bytes) is below min-bytes and stays;
// the other globals are gone.
// CHECK:       module {
// CHECK-NEXT:    memref.global "private" constant @tiny : memref<1xi16> = dense<5>
// CHECK-NEXT:    func.func @layout(
// CHECK-SAME:      %[[OUT:[^:]+]]: memref<2xf32>,
// CHECK-SAME:      %[[W:[^:]+]]: memref<192xi8> {quarc.weights})
// CHECK-SAME:      attributes {quarc.weights_bytes = 192 : i64, quarc.weights_data = dense_resource<[[BLOB:.+]]> : tensor<192xi8>}
// CHECK-NEXT:    %[[O1:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[INTS:.+]] = memref.view %[[W]][%[[O1]]][] : memref<192xi8> to memref<3xi32>
// CHECK-NEXT:    %[[O2:.+]] = arith.constant 64 : index
// CHECK-NEXT:    %[[HALVES:.+]] = memref.view %[[W]][%[[O2]]][] : memref<192xi8> to memref<2xi16>
// CHECK-NEXT:    %[[O3:.+]] = arith.constant 128 : index
// CHECK-NEXT:    %[[ONES:.+]] = memref.view %[[W]][%[[O3]]][] : memref<192xi8> to memref<2xf32>
// CHECK-NEXT:    %[[TINY:.+]] = memref.get_global @tiny : memref<1xi16>
// CHECK-NEXT:    arith.constant 0 : index
// CHECK-NEXT:    memref.load %[[INTS]]
// CHECK-NEXT:    memref.load %[[HALVES]]
// CHECK-NEXT:    memref.load %[[TINY]]
// CHECK-NEXT:    linalg.copy ins(%[[ONES]] : memref<2xf32>) outs(%[[OUT]] : memref<2xf32>)
// CHECK-NEXT:    return
// CHECK:       [[BLOB]]: "0x40000000010000000200000003000000{{(0{104})}}0B0A0D0C{{(0{120})}}0000803F0000803F{{(0{112})}}"

// With the default min-bytes (1024) all of them stay.
// DEFAULT-LABEL: func.func @layout(
// DEFAULT-SAME:      %{{[^:]+}}: memref<2xf32>) {
// DEFAULT-NOT:     quarc.weights
// DEFAULT-NOT:     memref.view
memref.global "private" constant @ints : memref<3xi32> = dense<[1, 2, 3]> {alignment = 64 : i64}
memref.global "private" constant @halves : memref<2xi16> = dense_resource<halves_blob>
memref.global "private" constant @ones : memref<2xf32> = dense<1.0>
memref.global "private" constant @tiny : memref<1xi16> = dense<5>
func.func @layout(%out: memref<2xf32>) {
  %0 = memref.get_global @ints : memref<3xi32>
  %1 = memref.get_global @halves : memref<2xi16>
  %2 = memref.get_global @ones : memref<2xf32>
  %3 = memref.get_global @tiny : memref<1xi16>
  %c0 = arith.constant 0 : index
  %4 = memref.load %0[%c0] : memref<3xi32>
  %5 = memref.load %1[%c0] : memref<2xi16>
  %6 = memref.load %3[%c0] : memref<1xi16>
  linalg.copy ins(%2 : memref<2xf32>) outs(%out : memref<2xf32>)
  return
}
{-#
  dialect_resources: {
    builtin: {
      halves_blob: "0x020000000B0A0D0C"
    }
  }
#-}

// -----

//===----------------------------------------------------------------------===//
// (b) After quarc-plan-memory: the weights follow the workspace.
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @after_workspace(
// CHECK-SAME:      %{{[^:]+}}: memref<4xf32>, %{{[^:]+}}: memref<256xi8> {quarc.workspace},
// CHECK-SAME:      %[[W:[^:]+]]: memref<64xi8> {quarc.weights})
// CHECK-SAME:      attributes {quarc.weights_bytes = 64 : i64, quarc.weights_data = dense_resource<{{.+}}> : tensor<64xi8>, quarc.workspace_bytes = 256 : i64}
// CHECK:         memref.view %[[W]][%{{.+}}][] : memref<64xi8> to memref<4xf32>
func.func @after_workspace(%out: memref<4xf32>, %ws: memref<256xi8> {quarc.workspace})
    attributes {quarc.workspace_bytes = 256 : i64} {
  %0 = memref.get_global @bias : memref<4xf32>
  linalg.copy ins(%0 : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}
memref.global "private" constant @bias : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>

// -----

//===----------------------------------------------------------------------===//
// (c) Uses in nested regions, and a global used twice: views of one offset.
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @nested_and_repeated(
// CHECK-SAME:      %[[W:[^:]+]]: memref<64xi8> {quarc.weights})
// CHECK:         scf.for
// CHECK-NEXT:      %[[O1:.+]] = arith.constant 0 : index
// CHECK-NEXT:      %[[V1:.+]] = memref.view %[[W]][%[[O1]]][] : memref<64xi8> to memref<8xf32>
// CHECK-NEXT:      memref.load %[[V1]]
// CHECK:         }
// CHECK-NEXT:    %[[O2:.+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[V2:.+]] = memref.view %[[W]][%[[O2]]][] : memref<64xi8> to memref<8xf32>
// CHECK-NEXT:    memref.load %[[V2]]
// CHECK-NOT:     memref.get_global
memref.global "private" constant @table : memref<8xf32> = dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]>
func.func @nested_and_repeated(%out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %t = memref.get_global @table : memref<8xf32>
    %v = memref.load %t[%i] : memref<8xf32>
    memref.store %v, %out[%i] : memref<8xf32>
  }
  %t2 = memref.get_global @table : memref<8xf32>
  %w = memref.load %t2[%c0] : memref<8xf32>
  memref.store %w, %out[%c0] : memref<8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// (d) Left embedded.
//===----------------------------------------------------------------------===//

// Not plain constant buffers: a global that is not constant, one without an
// initial value, i1 and index elements (their storage depends on the
// target), an alignment above 64. And a constant that another function uses
// too, and one used only by a function that is called (a new argument would
// break its callers). Nothing moves: no argument, no attributes.
// CHECK:       memref.global "private" @mutable
// CHECK-NEXT:  memref.global "private" constant @declared
// CHECK-NEXT:  memref.global "private" constant @bools
// CHECK-NEXT:  memref.global "private" constant @indices
// CHECK-NEXT:  memref.global "private" constant @overaligned
// CHECK-NEXT:  memref.global "private" constant @shared
// CHECK-NEXT:  memref.global "private" constant @callee_only
// CHECK-NEXT:  memref.global "private" constant @unused
// CHECK-LABEL: func.func @left_alone(
// CHECK-SAME:      %{{[^:]+}}: memref<16xf32>) {
// CHECK-NOT:     quarc.weights
// CHECK-NOT:     memref.view
// CHECK:         return
// CHECK:       func.func @also_uses_shared(
// CHECK-NOT:     quarc.weights
// CHECK:       func.func private @called(
// CHECK-NOT:     quarc.weights
// CHECK:         memref.get_global @callee_only
memref.global "private" @mutable : memref<16xf32> = dense<1.0>
memref.global "private" constant @declared : memref<16xf32>
memref.global "private" constant @bools : memref<64xi1> = dense<true>
memref.global "private" constant @indices : memref<16xindex> = dense<1>
memref.global "private" constant @overaligned : memref<16xf32> = dense<1.0> {alignment = 128 : i64}
memref.global "private" constant @shared : memref<16xf32> = dense<2.0>
memref.global "private" constant @callee_only : memref<16xf32> = dense<3.0>
memref.global "private" constant @unused : memref<16xf32> = dense<4.0>
func.func @left_alone(%out: memref<16xf32>) {
  %0 = memref.get_global @mutable : memref<16xf32>
  %1 = memref.get_global @declared : memref<16xf32>
  %2 = memref.get_global @bools : memref<64xi1>
  %3 = memref.get_global @indices : memref<16xindex>
  %4 = memref.get_global @overaligned : memref<16xf32>
  %5 = memref.get_global @shared : memref<16xf32>
  call @called(%out) : (memref<16xf32>) -> ()
  return
}
func.func @also_uses_shared(%out: memref<16xf32>) {
  %0 = memref.get_global @shared : memref<16xf32>
  linalg.copy ins(%0 : memref<16xf32>) outs(%out : memref<16xf32>)
  return
}
func.func private @called(%out: memref<16xf32>) {
  %0 = memref.get_global @callee_only : memref<16xf32>
  linalg.copy ins(%0 : memref<16xf32>) outs(%out : memref<16xf32>)
  return
}
