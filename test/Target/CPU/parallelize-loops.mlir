// RUN: quarc-opt %s -split-input-file --quarc-parallelize-loops | FileCheck %s
// RUN: quarc-opt %s -split-input-file --quarc-parallelize-loops --convert-scf-to-cf --convert-arith-to-llvm --convert-func-to-llvm --finalize-memref-to-llvm --reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// A loop nest large enough (256 x 256 iterations) runs on the runtime's
// threads: its outer loop is split, the inner loop stays whole; buffers
// and scalars travel in a context struct on the stack, constants are
// rematerialized in the outlined body.
// CHECK-LABEL: func.func private @quarc_parallel_for((!llvm.ptr, i64, i64) -> (), !llvm.ptr, i64)
// CHECK-LABEL: func.func @scale(
// CHECK-SAME:      %[[IN:.+]]: memref<256x256xf32>, %[[OUT:.+]]: memref<256x256xf32>, %[[S:.+]]: f32)
// CHECK:         %[[SLOT:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, f32, struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>)>
// CHECK:         %[[IN_DESC:.+]] = builtin.unrealized_conversion_cast %[[IN]] : memref<256x256xf32> to !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK:         llvm.insertvalue %[[IN_DESC]], %{{.+}}[0]
// CHECK:         llvm.insertvalue %[[S]], %{{.+}}[1]
// CHECK:         %[[OUT_DESC:.+]] = builtin.unrealized_conversion_cast %[[OUT]]
// CHECK:         %[[CTX:.+]] = llvm.insertvalue %[[OUT_DESC]], %{{.+}}[2]
// CHECK:         llvm.store %[[CTX]], %[[SLOT]]
// CHECK:         %[[FN:.+]] = constant @scale_parallel_0 : (!llvm.ptr, i64, i64) -> ()
// CHECK:         call @quarc_parallel_for(%[[FN]], %[[SLOT]], %{{.+}})
// CHECK-NOT:     scf.parallel
// CHECK:         return
// CHECK-LABEL: func.func private @scale_parallel_0(
// CHECK-SAME:      %[[CTXP:.+]]: !llvm.ptr, %[[BEGIN:.+]]: i64, %[[END:.+]]: i64)
// CHECK:         %[[FIELDS:.+]] = llvm.load %[[CTXP]]
// CHECK:         %[[F0:.+]] = llvm.extractvalue %[[FIELDS]][0]
// CHECK:         %[[IN2:.+]] = builtin.unrealized_conversion_cast %[[F0]] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<256x256xf32>
// CHECK:         %[[S2:.+]] = llvm.extractvalue %[[FIELDS]][1]
// CHECK:         %[[B:.+]] = arith.index_cast %[[BEGIN]] : i64 to index
// CHECK:         %[[E:.+]] = arith.index_cast %[[END]] : i64 to index
// CHECK:         scf.for %[[I:.+]] = %[[B]] to %[[E]]
// CHECK:           scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step
// CHECK:             memref.load %[[IN2]][%{{.+}}, %[[J]]]
// CHECK:             arith.mulf %{{.+}}, %[[S2]]
// LLVM-LABEL: llvm.func @scale(
// LLVM:         llvm.mlir.addressof @scale_parallel_0
// LLVM:         llvm.call @quarc_parallel_for
// LLVM-NOT:     unrealized_conversion_cast {{.*}}memref
func.func @scale(%in: memref<256x256xf32>, %out: memref<256x256xf32>, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c256, %c256) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<256x256xf32>
    %y = arith.mulf %x, %s : f32
    memref.store %y, %out[%i, %j] : memref<256x256xf32>
    scf.reduce
  }
  return
}

// -----

// Small loops stay where they are: waking threads would cost more. The
// smallest nest split by default has 16384 iterations (128 x 128); one of
// 127 x 128 stays.
// CHECK-LABEL: func.func @small(
// CHECK:         scf.parallel
// CHECK:         scf.parallel
// CHECK-NOT:     scf.parallel
// CHECK:         call @quarc_parallel_for
// CHECK-NOT:     quarc_parallel_for
// CHECK:         return
func.func @small(%out: memref<16x16xf32>, %v: f32, %below: memref<127x128xf32>, %at: memref<128x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c127 = arith.constant 127 : index
  %c128 = arith.constant 128 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c16, %c16) step (%c1, %c1) {
    memref.store %v, %out[%i, %j] : memref<16x16xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c127, %c128) step (%c1, %c1) {
    memref.store %v, %below[%i, %j] : memref<127x128xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c128, %c128) step (%c1, %c1) {
    memref.store %v, %at[%i, %j] : memref<128x128xf32>
    scf.reduce
  }
  return
}

// -----

// A kernel loop (marked by the kernel generators) is split whatever its
// static size, here over a dynamic bound; an index captured from an
// enclosing loop travels as i64.
// CHECK-LABEL: func.func @kernel(
// CHECK:         scf.for %[[K:.+]] =
// CHECK:           arith.index_cast %[[K]] : index to i64
// CHECK:           call @quarc_parallel_for
// CHECK-LABEL: func.func private @kernel_parallel_0(
// CHECK:         arith.index_cast %{{.+}} : i64 to index
func.func @kernel(%out: memref<?x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %k = %c0 to %c4 step %c1 {
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %v = arith.index_cast %k : index to i64
      %f = arith.sitofp %v : i64 to f32
      memref.store %f, %out[%i, %k] : memref<?x8xf32>
      scf.reduce
    } {quarc.kernel}
  }
  return
}

// -----

// A loop with a reduction is left alone.
// CHECK-LABEL: func.func @reduction(
// CHECK:         scf.parallel
// CHECK-NOT:     quarc_parallel_for
// CHECK:         return
func.func @reduction(%in: memref<65536xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 65536 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %x = memref.load %in[%i] : memref<65536xf32>
    scf.reduce(%x : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  } {quarc.kernel}
  return %sum : f32
}

// -----

// Only as many outer loops are split as it takes to reach 256 parallel
// iterations (here 96 x 60); the loops inside stay nested loops, so no
// index arithmetic runs per element and the innermost loop stays whole.
// CHECK-LABEL: func.func private @upsample_parallel_0(
// CHECK:         scf.for %[[L:.+]] = %{{.+}} to %{{.+}} step
// CHECK:           %[[W:.+]] = arith.remsi %[[L]], %{{.+}}
// CHECK:           %[[C:.+]] = arith.divsi %[[L]], %{{.+}}
// CHECK-NOT:       arith.remsi
// CHECK:           scf.for %[[A:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT:        scf.for %[[X:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT:          scf.for %[[B:.+]] = %{{.+}} to %{{.+}} step
// CHECK:                 memref.load %{{.+}}[%{{.+}}, %{{.+}}, %[[X]]]
// CHECK:                 memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}, %[[A]], %[[X]], %[[B]]]
func.func @upsample(%in: memref<96x60x80xf32>, %out: memref<96x60x2x80x2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c60 = arith.constant 60 : index
  %c80 = arith.constant 80 : index
  %c96 = arith.constant 96 : index
  scf.parallel (%c, %h, %a, %x, %b) = (%c0, %c0, %c0, %c0, %c0) to (%c96, %c60, %c2, %c80, %c2) step (%c1, %c1, %c1, %c1, %c1) {
    %v = memref.load %in[%c, %h, %x] : memref<96x60x80xf32>
    memref.store %v, %out[%c, %h, %a, %x, %b] : memref<96x60x2x80x2xf32>
    scf.reduce
  }
  return
}

// -----

// A fixed-size stack buffer that the loop body allocates (a kernel's panel)
// is allocated once at the outlined function's entry: in the loop, every
// iteration would grow the stack.
// CHECK-LABEL: func.func private @scratch_parallel_0(
// CHECK-NEXT:    %[[BUF:.+]] = memref.alloca() {alignment = 64 : i64} : memref<8xf32>
// CHECK:         scf.for
// CHECK-NOT:       memref.alloca
// CHECK:           memref.store %{{.+}}, %[[BUF]]
func.func @scratch(%out: memref<64x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %v = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %buf = memref.alloca() {alignment = 64 : i64} : memref<8xf32>
    memref.store %v, %buf[%c0] : memref<8xf32>
    %x = memref.load %buf[%c0] : memref<8xf32>
    memref.store %x, %out[%i, %c0] : memref<64x8xf32>
    scf.reduce
  } {quarc.kernel}
  return
}

// -----

// An elementwise loop nest on a batch of one (its feature map flattened
// into the last loop, 40000 elements): the outer loop alone has one
// iteration, so the last loop is split too, in 37 blocks of 1088
// iterations (a multiple of 64, at least 1024): the parallel iteration is
// the block, and the block's iterations, up to the loop's end, stay one
// loop that LLVM vectorizes.
// CHECK-LABEL: func.func @flat_batch_of_one(
// CHECK:         %[[C37:.+]] = arith.constant 37 : index
// CHECK:         %[[N:.+]] = arith.muli %{{.+}}, %[[C37]] : index
// CHECK:         %[[N64:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK:         call @quarc_parallel_for(%{{.+}}, %{{.+}}, %[[N64]])
// CHECK-LABEL: func.func private @flat_batch_of_one_parallel_0(
// CHECK:         scf.for %[[LINEAR:.+]] = %{{.+}} to %{{.+}} step
// CHECK:           %[[BLOCK:.+]] = arith.remsi %[[LINEAR]], %[[C37B:.+]] : index
// CHECK:           %[[BATCH:.+]] = arith.divsi %[[LINEAR]], %[[C37B]] : index
// CHECK:           %[[FIRST:.+]] = arith.muli %[[BLOCK]], %c1088 : index
// CHECK:           %[[START:.+]] = arith.addi %c0, %{{.+}} : index
// CHECK:           %[[END:.+]] = arith.minsi %{{.+}}, %c40000 : index
// CHECK:           scf.for %[[J:.+]] = %[[START]] to %[[END]] step %c1 {
// CHECK:             memref.load %{{.+}}[%{{.+}}, %[[J]]] : memref<1x40000xi8>
func.func @flat_batch_of_one(%in: memref<1x40000xi8>, %out: memref<1x40000xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c40000 = arith.constant 40000 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c1, %c40000) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<1x40000xi8>
    %y = arith.addi %x, %x : i8
    memref.store %y, %out[%i, %j] : memref<1x40000xi8>
    scf.reduce
  }
  return
}
