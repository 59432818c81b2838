// RUN: quarc-opt %s -split-input-file --quarc-expand-strided-copies | FileCheck %s

// A memref.copy with a non-contiguous side becomes a parallel loop over its
// rows, each row one vector load and store, when both sides' rows are
// contiguous and static (up to 1024 elements); otherwise a linalg.copy
// (loops with constant strides). Copies between contiguous buffers stay
// memref.copy (memcpy), as do copies with dynamic dims other than the first.

// The interior of a padded tensor: the target is a strided view.
// CHECK-LABEL: func @copy_into_padded_interior(
// CHECK-SAME:      %[[SRC:[^:]+]]: memref<1x3x8x8xf32>, %[[DST:[^:]+]]: memref<1x3x10x10xf32>)
// CHECK:         %[[VIEW:.+]] = memref.subview %[[DST]][0, 0, 1, 1] [1, 3, 8, 8] [1, 1, 1, 1]
// CHECK-NOT:     memref.copy
// CHECK:         scf.parallel (%[[N:.*]], %[[C:.*]], %[[Y:.*]]) = (%c0, %c0, %c0) to (%{{.*}}, %c3, %c8) step (%c1, %c1, %c1) {
// CHECK:           %[[ROW:.*]] = vector.load %[[SRC]][%[[N]], %[[C]], %[[Y]], %c0] : memref<1x3x8x8xf32>, vector<8xf32>
// CHECK:           vector.store %[[ROW]], %[[VIEW]][%[[N]], %[[C]], %[[Y]], %c0] : memref<1x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>, vector<8xf32>
// CHECK-NOT:     memref.copy
// CHECK:         return
func.func @copy_into_padded_interior(%src: memref<1x3x8x8xf32>, %dst: memref<1x3x10x10xf32>) {
  %view = memref.subview %dst[0, 0, 1, 1] [1, 3, 8, 8] [1, 1, 1, 1] : memref<1x3x10x10xf32> to memref<1x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  memref.copy %src, %view : memref<1x3x8x8xf32> to memref<1x3x8x8xf32, strided<[300, 100, 10, 1], offset: 11>>
  return
}

// -----

// The source is the strided side (a slice of columns).
// CHECK-LABEL: func @copy_from_slice(
// CHECK-SAME:      %[[SRC:[^:]+]]: memref<4x16xf32>, %[[DST:[^:]+]]: memref<4x8xf32>)
// CHECK:         %[[VIEW:.+]] = memref.subview %[[SRC]][0, 4] [4, 8] [1, 1]
// CHECK-NOT:     memref.copy
// CHECK:         scf.parallel (%[[I:.*]]) = (%c0) to (%c4) step (%c1) {
// CHECK:           %[[ROW:.*]] = vector.load %[[VIEW]][%[[I]], %c0] : memref<4x8xf32, strided<[16, 1], offset: 4>>, vector<8xf32>
// CHECK:           vector.store %[[ROW]], %[[DST]][%[[I]], %c0] : memref<4x8xf32>, vector<8xf32>
// CHECK-NOT:     memref.copy
func.func @copy_from_slice(%src: memref<4x16xf32>, %dst: memref<4x8xf32>) {
  %view = memref.subview %src[0, 4] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1], offset: 4>>
  memref.copy %view, %dst : memref<4x8xf32, strided<[16, 1], offset: 4>> to memref<4x8xf32>
  return
}

// -----

// A view that is strided in its innermost dim: a linalg.copy (integer
// elements are copied the same way).
// CHECK-LABEL: func @copy_every_other_element(
// CHECK-NOT:     memref.copy
// CHECK:         linalg.copy ins(%{{.+}} : memref<4x8xi8, strided<[16, 2]>>) outs(%{{.+}} : memref<4x8xi8>)
// CHECK-NOT:     memref.copy
func.func @copy_every_other_element(%src: memref<4x8xi8, strided<[16, 2]>>, %dst: memref<4x8xi8>) {
  memref.copy %src, %dst : memref<4x8xi8, strided<[16, 2]>> to memref<4x8xi8>
  return
}

// -----

// A dynamic offset with static strides: the view is still strided.
// CHECK-LABEL: func @copy_dynamic_offset(
// CHECK-NOT:     memref.copy
// CHECK:         vector.store %{{.+}}, %{{.+}}[%{{.+}}, %c0] : memref<2x8xf32, strided<[16, 1], offset: ?>>, vector<8xf32>
func.func @copy_dynamic_offset(%src: memref<2x8xf32>, %dst: memref<2x8xf32, strided<[16, 1], offset: ?>>) {
  memref.copy %src, %dst : memref<2x8xf32> to memref<2x8xf32, strided<[16, 1], offset: ?>>
  return
}

// -----

// Each copy of the function is handled on its own.
// CHECK-LABEL: func @two_copies(
// CHECK:         vector.load %{{.+}} : memref<4x8xf32, strided<[16, 1]>>, vector<8xf32>
// CHECK:         memref.copy %{{.+}}, %{{.+}} : memref<4x8xf32> to memref<4x8xf32>
// CHECK:         vector.store %{{.+}} : memref<4x8xf32, strided<[16, 1]>>, vector<8xf32>
func.func @two_copies(%a: memref<4x8xf32, strided<[16, 1]>>, %b: memref<4x8xf32>, %c: memref<4x8xf32>) {
  memref.copy %a, %b : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  memref.copy %b, %c : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %c, %a : memref<4x8xf32> to memref<4x8xf32, strided<[16, 1]>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Left alone
//===----------------------------------------------------------------------===//

// Both sides contiguous.
// CHECK-LABEL: func @contiguous_left_alone(
// CHECK-NOT:     linalg.copy
// CHECK:         memref.copy %{{.+}}, %{{.+}} : memref<4x8xf32> to memref<4x8xf32>
// CHECK-NOT:     linalg.copy
func.func @contiguous_left_alone(%src: memref<4x8xf32>, %dst: memref<4x8xf32>) {
  memref.copy %src, %dst : memref<4x8xf32> to memref<4x8xf32>
  return
}

// -----

// A view of whole rows is contiguous, even with an offset.
// CHECK-LABEL: func @whole_rows_left_alone(
// CHECK-NOT:     linalg.copy
// CHECK:         memref.copy %{{.+}}, %{{.+}} : memref<2x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 8>>
// CHECK-NOT:     linalg.copy
func.func @whole_rows_left_alone(%src: memref<2x8xf32>, %dst: memref<4x8xf32>) {
  %view = memref.subview %dst[1, 0] [2, 8] [1, 1] : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 8>>
  memref.copy %src, %view : memref<2x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 8>>
  return
}

// -----

// A single row of a wider buffer is contiguous (its outer stride is never used).
// CHECK-LABEL: func @unit_outer_dim_left_alone(
// CHECK-NOT:     linalg.copy
// CHECK:         memref.copy %{{.+}}, %{{.+}} : memref<1x8xf32, strided<[16, 1]>> to memref<1x8xf32>
// CHECK-NOT:     linalg.copy
func.func @unit_outer_dim_left_alone(%src: memref<1x8xf32, strided<[16, 1]>>, %dst: memref<1x8xf32>) {
  memref.copy %src, %dst : memref<1x8xf32, strided<[16, 1]>> to memref<1x8xf32>
  return
}

// -----

// A dynamic batch (the first dim) with static inner dims: loops too.
// CHECK-LABEL: func @dynamic_batch(
// CHECK-SAME:      %[[SRC:[^:]+]]: memref<?x8xf32>
// CHECK:         %[[N:.*]] = memref.dim %[[SRC]], %{{.*}} : memref<?x8xf32>
// CHECK:         scf.parallel (%{{.*}}) = (%c0) to (%[[N]]) step (%c1) {
// CHECK:           vector.load %[[SRC]]
// CHECK-NOT:     memref.copy
func.func @dynamic_batch(%src: memref<?x8xf32>, %dst: memref<?x8xf32, strided<[16, 1]>>) {
  memref.copy %src, %dst : memref<?x8xf32> to memref<?x8xf32, strided<[16, 1]>>
  return
}

// -----

// A dynamic inner dim.
// CHECK-LABEL: func @dynamic_inner_left_alone(
// CHECK-NOT:     linalg.copy
// CHECK:         memref.copy %{{.+}}, %{{.+}} : memref<2x?xf32> to memref<2x?xf32, strided<[16, 1]>>
// CHECK-NOT:     linalg.copy
func.func @dynamic_inner_left_alone(%src: memref<2x?xf32>, %dst: memref<2x?xf32, strided<[16, 1]>>) {
  memref.copy %src, %dst : memref<2x?xf32> to memref<2x?xf32, strided<[16, 1]>>
  return
}

// -----

// Rows longer than 1024 elements: a linalg.copy.
// CHECK-LABEL: func @long_rows(
// CHECK-NOT:     vector.load
// CHECK:         linalg.copy ins(%{{.+}} : memref<2x1100xf32>) outs(%{{.+}} : memref<2x1100xf32, strided<[1200, 1]>>)
func.func @long_rows(%src: memref<2x1100xf32>, %dst: memref<2x1100xf32, strided<[1200, 1]>>) {
  memref.copy %src, %dst : memref<2x1100xf32> to memref<2x1100xf32, strided<[1200, 1]>>
  return
}
