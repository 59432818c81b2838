// RUN: quarc-opt %s -split-input-file --quarc-flatten-constant-globals | FileCheck %s

// A constant N-D global becomes 1-D (same data); its reads see the old
// shape through an expand_shape of the flat global.
// CHECK-LABEL: memref.global "private" constant @w : memref<6xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00]>
// CHECK-LABEL: memref.global "private" constant @r : memref<8xf32> = dense_resource<blob> {alignment = 64 : i64}
// CHECK-LABEL: memref.global "private" constant @v : memref<3xf32>
// CHECK-LABEL: memref.global "private" @mutable : memref<2x2xf32>
// CHECK-LABEL: func @reads(
// CHECK:         %[[W:.+]] = memref.get_global @w : memref<6xf32>
// CHECK:         %[[W2:.+]] = memref.expand_shape %[[W]] {{\[}}[0, 1]] output_shape [2, 3] : memref<6xf32> into memref<2x3xf32>
// CHECK:         %[[R:.+]] = memref.get_global @r : memref<8xf32>
// CHECK:         %[[R3:.+]] = memref.expand_shape %[[R]] {{\[}}[0, 1, 2]] output_shape [2, 2, 2] : memref<8xf32> into memref<2x2x2xf32>
// CHECK:         %[[V:.+]] = memref.get_global @v : memref<3xf32>
// CHECK-NOT:     memref.expand_shape %[[V]]
// CHECK:         %[[M:.+]] = memref.get_global @mutable : memref<2x2xf32>
// CHECK-NOT:     memref.expand_shape %[[M]]
// CHECK:         return %[[W2]], %[[R3]], %[[V]], %[[M]]
memref.global "private" constant @w : memref<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
memref.global "private" constant @r : memref<2x2x2xf32> = dense_resource<blob> {alignment = 64 : i64}
// Already 1-D, and not constant: left alone.
memref.global "private" constant @v : memref<3xf32> = dense<[1.0, 2.0, 3.0]>
memref.global "private" @mutable : memref<2x2xf32> = dense<0.0>
func.func @reads() -> (memref<2x3xf32>, memref<2x2x2xf32>, memref<3xf32>, memref<2x2xf32>) {
  %w = memref.get_global @w : memref<2x3xf32>
  %r = memref.get_global @r : memref<2x2x2xf32>
  %v = memref.get_global @v : memref<3xf32>
  %m = memref.get_global @mutable : memref<2x2xf32>
  return %w, %r, %v, %m : memref<2x3xf32>, memref<2x2x2xf32>, memref<3xf32>, memref<2x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x04000000000000000000803F0000004000004040000080400000A0400000C0400000E040"
    }
  }
#-}
