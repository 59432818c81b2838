// RUN: quarc-opt %s -split-input-file --quarc-lower-reductions | FileCheck %s

// A Softmax's sum: the row's partial sum is loaded once, carried through the
// reduction loop as a value (its add may be reassociated, so that LLVM
// vectorizes it), and stored once; the exp computing each element is not
// marked.
// CHECK-LABEL: func @row_sum(
// CHECK-SAME:      %[[X:[^:]+]]: memref<12x32xf32>, %[[S:[^:]+]]: memref<12xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         scf.parallel (%[[I:[^ ]+]]) = (%c0) to (%c12) step (%c1)
// CHECK:           %[[INIT:.+]] = memref.load %[[S]][%[[I]]] : memref<12xf32>
// CHECK:           %[[SUM:.+]] = scf.for %[[J:[^ ]+]] = %c0{{.*}} to %c32{{.*}} step %c1{{.*}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32)
// CHECK:             %[[V:.+]] = memref.load %[[X]][%[[I]], %[[J]]] : memref<12x32xf32>
// CHECK:             %[[E:.+]] = math.exp %[[V]] : f32
// CHECK:             %[[NEW:.+]] = arith.addf %[[E]], %[[ACC]] fastmath<reassoc> : f32
// CHECK:             scf.yield %[[NEW]] : f32
// CHECK:           memref.store %[[SUM]], %[[S]][%[[I]]] : memref<12xf32>
func.func @row_sum(%x: memref<12x32xf32>, %s: memref<12xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<12x32xf32>) outs(%s : memref<12xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %e = math.exp %in : f32
    %sum = arith.addf %e, %acc : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Two outputs and two reduction dims (a global pool's sum and max), an
// index op, a dynamic parallel dim.
// CHECK-LABEL: func @two_outputs(
// CHECK-SAME:      %[[X:[^:]+]]: memref<?x3x4xf32>, %[[S:[^:]+]]: memref<?xf32>, %[[M:[^:]+]]: memref<?xi32>)
// CHECK:         %[[N:.+]] = memref.dim %[[X]], %c0
// CHECK:         scf.parallel (%[[I:[^ ]+]]) = (%c0{{.*}}) to (%[[N]]) step
// CHECK:           %[[S0:.+]] = memref.load %[[S]][%[[I]]]
// CHECK:           %[[M0:.+]] = memref.load %[[M]][%[[I]]]
// CHECK:           %[[R:.+]]:2 = scf.for %[[J:[^ ]+]] = {{.+}} iter_args(%[[SA:.+]] = %[[S0]], %[[MA:.+]] = %[[M0]]) -> (f32, i32)
// CHECK:             %[[IN:.+]]:2 = scf.for %[[K:[^ ]+]] = {{.+}} iter_args(%[[SB:.+]] = %[[SA]], %[[MB:.+]] = %[[MA]]) -> (f32, i32)
// CHECK:               memref.load %[[X]][%[[I]], %[[J]], %[[K]]]
// CHECK:               arith.index_cast %[[K]]
// CHECK:               arith.addf {{.+}} fastmath<reassoc>
// CHECK:               arith.maxsi
// CHECK:           memref.store %[[R]]#0, %[[S]][%[[I]]]
// CHECK:           memref.store %[[R]]#1, %[[M]][%[[I]]]
func.func @two_outputs(%x: memref<?x3x4xf32>, %s: memref<?xf32>, %m: memref<?xi32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (i)>, affine_map<(i, j, k) -> (i)>],
                  iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%x : memref<?x3x4xf32>) outs(%s, %m : memref<?xf32>, memref<?xi32>) {
  ^bb0(%in: f32, %sum: f32, %max: i32):
    %k = linalg.index 2 : index
    %ki = arith.index_cast %k : index to i32
    %new = arith.addf %in, %sum : f32
    %big = arith.maxsi %ki, %max : i32
    linalg.yield %new, %big : f32, i32
  }
  return
}

// -----

// A named op (here a matmul; in the pipeline, one the kernels did not take,
// such as a product whose columns are dynamic):
// the same lowering, C[i, j] kept in a register over k.
// CHECK-LABEL: func @matmul_dynamic_rows(
// CHECK-SAME:      %[[A:[^:]+]]: memref<?x16xf32>, %[[B:[^:]+]]: memref<16x24xf32>, %[[C:[^:]+]]: memref<?x24xf32>)
// CHECK-NOT:     linalg.matmul
// CHECK:         scf.parallel (%[[I:[^ ]+]], %[[J:[^ ]+]]) =
// CHECK:           %[[C0:.+]] = memref.load %[[C]][%[[I]], %[[J]]]
// CHECK:           %[[SUM:.+]] = scf.for %[[K:[^ ]+]] = {{.+}} iter_args(%[[ACC:.+]] = %[[C0]]) -> (f32)
// CHECK:             %[[AV:.+]] = memref.load %[[A]][%[[I]], %[[K]]]
// CHECK:             %[[BV:.+]] = memref.load %[[B]][%[[K]], %[[J]]]
// CHECK:             %[[P:.+]] = arith.mulf %[[AV]], %[[BV]] : f32
// CHECK:             arith.addf %[[ACC]], %[[P]] fastmath<reassoc> : f32
// CHECK:           memref.store %[[SUM]], %[[C]][%[[I]], %[[J]]]
func.func @matmul_dynamic_rows(%a: memref<?x16xf32>, %b: memref<16x24xf32>, %c: memref<?x24xf32>) {
  linalg.matmul ins(%a, %b : memref<?x16xf32>, memref<16x24xf32>) outs(%c : memref<?x24xf32>)
  return
}

// -----

// Left for convert-linalg-to-parallel-loops: a reduction dim outside a
// parallel one, tensors, elementwise, an output indexed by only some
// parallel dims (every parallel iteration would store its own partial
// result), an input in the output's buffer (the loop would read stale
// partial results), a body with a region.
// CHECK-LABEL: func @left_alone(
// CHECK-COUNT-6: linalg.generic
// CHECK-NOT:     scf.for
func.func @left_alone(%x: memref<4x8xf32>, %c: memref<4xf32>, %t: tensor<4x8xf32>, %u: tensor<4xf32>, %y: memref<4x8xf32>) -> tensor<4xf32> {
  linalg.generic {indexing_maps = [affine_map<(j, i) -> (i, j)>, affine_map<(j, i) -> (i)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%c : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%t : tensor<4x8xf32>) outs(%u : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x8xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  %all = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xf32>) outs(%all : memref<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  %row = memref.subview %y[0, 0] [4, 1] [1, 1] : memref<4x8xf32> to memref<4xf32, strided<[8]>>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%y : memref<4x8xf32>) outs(%row : memref<4xf32, strided<[8]>>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xf32>) outs(%c : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %positive = arith.cmpf ogt, %in, %acc : f32
    %s = scf.if %positive -> f32 {
      scf.yield %in : f32
    } else {
      scf.yield %acc : f32
    }
    linalg.yield %s : f32
  }
  return %r : tensor<4xf32>
}

// -----

// After quarc-plan-memory, input and output are views of the one
// workspace: at disjoint byte ranges the reduction is lowered (@apart); at
// overlapping ones it is left alone (@overlapping).
// CHECK-LABEL: func @apart(
// CHECK:         scf.parallel
// CHECK:           scf.for
// CHECK-NOT:     linalg.generic
// CHECK-LABEL: func @overlapping(
// CHECK:         linalg.generic
// CHECK-NOT:     scf.for
func.func @apart(%ws: memref<4096xi8>) {
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  %x = memref.view %ws[%c0][] : memref<4096xi8> to memref<4x8xf32>
  %sum = memref.view %ws[%c128][] : memref<4096xi8> to memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xf32>) outs(%sum : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  return
}
func.func @overlapping(%ws: memref<4096xi8>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %x = memref.view %ws[%c0][] : memref<4096xi8> to memref<4x8xf32>
  %sum = memref.view %ws[%c64][] : memref<4096xi8> to memref<4xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xf32>) outs(%sum : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  }
  return
}
