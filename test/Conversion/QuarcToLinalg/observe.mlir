// RUN: quarc-opt %s -split-input-file -verify-diagnostics --convert-quarc-to-linalg | FileCheck %s

// quarc.observe hands the tensor's buffer, whatever its layout, to the
// runtime's callback as an unranked memref, with the observation's index.

// CHECK-LABEL: func.func @observe
// CHECK-SAME: (%[[X:.*]]: tensor<2x?xf32>)
// CHECK: %[[B:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<2x?xf32> to memref<2x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[U:.*]] = memref.cast %[[B]] : memref<2x?xf32, strided<[?, ?], offset: ?>> to memref<*xf32>
// CHECK: %[[I:.*]] = arith.constant 7 : i64
// CHECK: call @quarc_observe(%[[I]], %[[U]]) : (i64, memref<*xf32>) -> ()
func.func @observe(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  quarc.observe %x {index = 7 : i64, tensor = "x"} : tensor<2x?xf32>
  return %x : tensor<2x?xf32>
}
func.func private @quarc_observe(i64, memref<*xf32>)

// -----

func.func @undeclared(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'quarc.observe' needs the declaration of @quarc_observe in its module (quarc-insert-observers adds it)}}
  quarc.observe %x {index = 0 : i64, tensor = "x"} : tensor<4xf32>
  return %x : tensor<4xf32>
}
