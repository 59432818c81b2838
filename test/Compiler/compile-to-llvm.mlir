// The whole compile pipeline, as `quarc compile` runs it, ends in the LLVM
// dialect with nothing of quarc, linalg, tensor or memref left.
// RUN: quarc-opt %S/Inputs/add-sigmoid.mlir --quarc-compile-to-llvm | FileCheck %s
// RUN: quarc-opt %S/Inputs/add-sigmoid.mlir --quarc-compile-to-llvm='input-shapes=x=3x4' | FileCheck %s --check-prefix=STATIC

// CHECK: llvm.func @main_graph
// CHECK-NOT: = quarc.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// The result buffer is allocated by the callee through the runtime's
// allocator (runtime/src/buffers.h), which frees it.
// CHECK: llvm.call @_mlir_memref_to_llvm_alloc

// STATIC: llvm.func @main_graph
// STATIC-NOT: = quarc.
