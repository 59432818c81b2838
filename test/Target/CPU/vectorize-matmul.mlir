// RUN: quarc-opt %s -split-input-file --quarc-vectorize-matmul=target=x86_64+avx2 | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-matmul=target=x86_64 | FileCheck %s --check-prefixes=CHECK,SSE
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-matmul=target=x86_64+avx512f | FileCheck %s --check-prefixes=CHECK,AVX512
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-matmul=target=aarch64 | FileCheck %s --check-prefixes=CHECK,NEON
// RUN: not quarc-opt %s -split-input-file --quarc-vectorize-matmul=target=mips 2>&1 | FileCheck %s --check-prefix=BADTARGET

// The register tile per target (TargetInfo::f32MatmulTile):
//   x86_64+avx2     4 x 24, vector<8xf32>,  vector.fma
//   x86_64 (SSE)    3 x 12, vector<4xf32>,  arith.mulf + arith.addf
//   x86_64+avx512f  8 x 48, vector<16xf32>, vector.fma
//   aarch64         8 x 12, vector<4xf32>,  vector.fma
// Each tile row is split into register-sized pieces; edge tiles use the same
// kernel with smaller static sizes.

// BADTARGET: error: unknown target architecture 'mips'; known targets: host (detected), x86_64 (features: +avx2 +avx512f +avx512vnni +avx512vbmi), aarch64 (features: +dotprod +i8mm)

//===----------------------------------------------------------------------===//
// 9 x 40 x 53: full tiles, a row remainder and a column remainder.
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @matmul_9x40x53(
// CHECK-SAME:      %[[A:[^:]+]]: memref<9x40xf32>, %[[B:[^:]+]]: memref<40x53xf32>, %[[C:[^:]+]]: memref<9x53xf32>)
// CHECK-NOT:     linalg.matmul

// With AVX2, 53 columns = 2 x 24 + 5: three column tiles, the iterations of
// one parallel loop; the last one is narrower. 9 rows = 2 x 4 (a loop) + 1.
// Each iteration first copies its column's rows of B (k block x 24) into a
// contiguous, aligned panel on the stack, which all row tiles then read.
// AVX2:          scf.parallel (%[[T:[^ ]+]]) = (%{{[^ ]+}}) to (%c3) step (%{{[^ ]+}}) {
// AVX2:            %[[PANEL:.+]] = memref.alloca() {alignment = 64 : i64} : memref<40x24xf32>
// AVX2:            %[[N0:.+]] = arith.muli %[[T]], %c24 : index
// AVX2:            %[[WHOLE:.+]] = arith.cmpi ult, %[[T]], %c2 : index
// AVX2:            scf.if %[[WHOLE]] {
// AVX2:            %[[K0:.+]] = arith.constant 0 : index
// AVX2:            scf.for %[[KK:[^ ]+]] = %{{[^ ]+}} to %c40{{[_0-9]*}} step
// AVX2:              %[[KP:.+]] = arith.addi %[[K0]], %[[KK]] : index
// AVX2:              %[[BROW:.+]] = vector.load %[[B]][%[[KP]], %[[N0]]] : memref<40x53xf32>, vector<8xf32>
// AVX2:              vector.store %[[BROW]], %[[PANEL]][%[[KK]], %c0{{[_0-9]*}}] : memref<40x24xf32>, vector<8xf32>
// AVX2-COUNT-2:      vector.store %{{.+}}, %[[PANEL]]
// AVX2:            scf.for %[[M0:[^ ]+]] = %{{[^ ]+}} to %c8{{[_0-9]*}} step %c4{{[_0-9]*}} {
// AVX2:              %[[N8:.+]] = arith.addi %[[N0]], %c8{{[_0-9]*}} : index
// AVX2:              %[[N16:.+]] = arith.addi %[[N0]], %c16{{[_0-9]*}} : index
// AVX2:              %[[M1:.+]] = arith.addi %[[M0]], %c1{{[_0-9]*}} : index
// AVX2:              %[[M2:.+]] = arith.addi %[[M0]], %c2{{[_0-9]*}} : index
// AVX2:              %[[M3:.+]] = arith.addi %[[M0]], %c3{{[_0-9]*}} : index
// AVX2:              %[[C00:.+]] = vector.load %[[C]][%[[M0]], %[[N0]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:         %[[C01:.+]] = vector.load %[[C]][%[[M0]], %[[N8]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:         %[[C02:.+]] = vector.load %[[C]][%[[M0]], %[[N16]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:         vector.load %[[C]][%[[M1]], %[[N0]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-COUNT-7:      vector.load %[[C]]{{.+}} : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:         %[[C32:.+]] = vector.load %[[C]][%[[M3]], %[[N16]]] : memref<9x53xf32>, vector<8xf32>
// AVX2:              %[[KEND:.+]] = arith.addi %[[K0]], %c40{{[_0-9]*}} : index
// AVX2:              %[[TILE:.+]]:12 = scf.for %[[K:[^ ]+]] = %[[K0]] to %[[KEND]] step %{{[^ ]+}}
// AVX2-SAME:             iter_args(%[[ACC00:[^ ]+]] = %[[C00]], %[[ACC01:[^ ]+]] = %[[C01]], %[[ACC02:[^ ]+]] = %[[C02]],
// AVX2-SAME:             %[[ACC32:[^ ]+]] = %[[C32]]) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2-NEXT:           %[[ROW:.+]] = arith.subi %[[K]], %[[K0]] : index
// AVX2-NEXT:           %[[J0:.+]] = arith.constant 0 : index
// AVX2-NEXT:           %[[B0:.+]] = vector.load %[[PANEL]][%[[ROW]], %[[J0]]] : memref<40x24xf32>, vector<8xf32>
// AVX2-NEXT:           %[[J8:.+]] = arith.constant 8 : index
// AVX2-NEXT:           %[[B1:.+]] = vector.load %[[PANEL]][%[[ROW]], %[[J8]]] : memref<40x24xf32>, vector<8xf32>
// AVX2-NEXT:           %[[J16:.+]] = arith.constant 16 : index
// AVX2-NEXT:           %[[B2:.+]] = vector.load %[[PANEL]][%[[ROW]], %[[J16]]] : memref<40x24xf32>, vector<8xf32>
// AVX2-NEXT:           %[[A0:.+]] = memref.load %[[A]][%[[M0]], %[[K]]] : memref<9x40xf32>
// AVX2-NEXT:           %[[S0:.+]] = vector.broadcast %[[A0]] : f32 to vector<8xf32>
// AVX2-NEXT:           %[[R00:.+]] = vector.fma %[[S0]], %[[B0]], %[[ACC00]] : vector<8xf32>
// AVX2-NEXT:           %[[S1:.+]] = vector.broadcast %[[A0]] : f32 to vector<8xf32>
// AVX2-NEXT:           %[[R01:.+]] = vector.fma %[[S1]], %[[B1]], %[[ACC01]] : vector<8xf32>
// AVX2-NEXT:           %[[S2:.+]] = vector.broadcast %[[A0]] : f32 to vector<8xf32>
// AVX2-NEXT:           %[[R02:.+]] = vector.fma %[[S2]], %[[B2]], %[[ACC02]] : vector<8xf32>
// AVX2-NEXT:           memref.load %[[A]][%[[M1]], %[[K]]] : memref<9x40xf32>
// AVX2:                memref.load %[[A]][%[[M2]], %[[K]]] : memref<9x40xf32>
// AVX2:                %[[A3:.+]] = memref.load %[[A]][%[[M3]], %[[K]]] : memref<9x40xf32>
// AVX2-COUNT-2:        vector.fma {{.+}} : vector<8xf32>
// AVX2-NEXT:           %[[S32:.+]] = vector.broadcast %[[A3]] : f32 to vector<8xf32>
// AVX2-NEXT:           %[[R32:.+]] = vector.fma %[[S32]], %[[B2]], %[[ACC32]] : vector<8xf32>
// AVX2-NEXT:           scf.yield %[[R00]], %[[R01]], %[[R02]], {{.+}}, %[[R32]] : vector<8xf32>
// AVX2-NEXT:         }
// AVX2-NEXT:         vector.store %[[TILE]]#0, %[[C]][%[[M0]], %[[N0]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:         vector.store %[[TILE]]#1, %[[C]][%[[M0]], %[[N8]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:         vector.store %[[TILE]]#2, %[[C]][%[[M0]], %[[N16]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:         vector.store %[[TILE]]#3, %[[C]][%[[M1]], %[[N0]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-COUNT-7:      vector.store
// AVX2-NEXT:         vector.store %[[TILE]]#11, %[[C]][%[[M3]], %[[N16]]] : memref<9x53xf32>, vector<8xf32>
// AVX2-NEXT:       }
// The last row (8) of the column tile: a 1 x 24 tile.
// AVX2:            %[[ROW8:.+]] = arith.constant 8 : index
// AVX2:            %{{.+}}:3 = scf.for
// AVX2-NOT:        vector.fma
// AVX2-COUNT-3:      vector.fma {{.+}} : vector<8xf32>
// AVX2-NOT:        vector.fma
// AVX2:            scf.yield
// AVX2-COUNT-3:    vector.store %{{.+}}, %[[C]][%[[ROW8]], %{{.+}}] : memref<9x53xf32>, vector<8xf32>
// The last 5 columns: 4 x 5 tiles of one vector<5xf32> per row, then 1 x 5.
// AVX2-NEXT:       } else {
// AVX2:            scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c8{{[_0-9]*}} step %c4{{[_0-9]*}} {
// AVX2-COUNT-4:    vector.load %[[C]][%{{.+}}, %[[N0]]] : memref<9x53xf32>, vector<5xf32>
// AVX2:            scf.for {{.+}} -> (vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>) {
// AVX2-NEXT:         arith.subi
// AVX2-NEXT:         arith.constant 0 : index
// AVX2-NEXT:         vector.load %[[PANEL]][%{{.+}}, %{{.+}}] : memref<40x24xf32>, vector<5xf32>
// AVX2-NOT:          vector.load
// AVX2-COUNT-4:      vector.fma {{.+}} : vector<5xf32>
// AVX2-NOT:          vector.fma
// AVX2:              scf.yield
// AVX2-COUNT-4:    vector.store {{.+}} : memref<9x53xf32>, vector<5xf32>
// AVX2:          }
// AVX2:          vector.load %[[C]][%{{.+}}, %[[N0]]] : memref<9x53xf32>, vector<5xf32>
// AVX2:          scf.for {{.+}} -> (vector<5xf32>) {
// AVX2-COUNT-1:    vector.fma {{.+}} : vector<5xf32>
// AVX2-NOT:        vector.fma
// AVX2:          vector.store {{.+}} : memref<9x53xf32>, vector<5xf32>
// AVX2-NEXT:       }
// AVX2-NEXT:       scf.reduce
// AVX2-NEXT:     } {quarc.kernel}
// AVX2-NEXT:     return

// With SSE, 53 columns = 4 x 12 + 5 (a vector<4xf32> and a vector<1xf32>):
// five column tiles; 9 rows = 3 x 3, no row remainder. No FMA: a multiply
// and an add.
// SSE-NOT:       vector.fma
// SSE:           scf.parallel (%[[T:[^ ]+]]) = (%{{[^ ]+}}) to (%c5) step (%{{[^ ]+}}) {
// SSE:             %[[N0:.+]] = arith.muli %[[T]], %c12 : index
// SSE:             arith.cmpi ult, %[[T]], %c4 : index
// SSE:             scf.for %[[M0:[^ ]+]] = %{{[^ ]+}} to %c9{{[_0-9]*}} step %c3{{[_0-9]*}} {
// SSE-COUNT-9:       vector.load %[[C]]{{.+}} : memref<9x53xf32>, vector<4xf32>
// SSE:               scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// SSE-COUNT-3:         vector.load %{{.+}} : memref<40x12xf32>, vector<4xf32>
// SSE-NEXT:            %[[A0:.+]] = memref.load %[[A]][%[[M0]], %{{.+}}] : memref<9x40xf32>
// SSE-NEXT:            %[[S0:.+]] = vector.broadcast %[[A0]] : f32 to vector<4xf32>
// SSE-NEXT:            %[[P0:.+]] = arith.mulf %[[S0]], %{{.+}} : vector<4xf32>
// SSE-NEXT:            %{{.+}} = arith.addf %{{.+}}, %[[P0]] : vector<4xf32>
// SSE-COUNT-8:         arith.mulf
// SSE:                 scf.yield
// SSE-COUNT-9:       vector.store {{.+}} : memref<9x53xf32>, vector<4xf32>
// SSE-NEXT:        }
// SSE-NEXT:        } else {
// SSE:             scf.for %[[M0:[^ ]+]] = %{{[^ ]+}} to %c9{{[_0-9]*}} step %c3{{[_0-9]*}} {
// SSE:             scf.for {{.+}} -> (vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>) {
// SSE:               vector.load %{{.+}} : memref<40x12xf32>, vector<4xf32>
// SSE:               vector.load %{{.+}} : memref<40x12xf32>, vector<1xf32>
// SSE-COUNT-3:       arith.addf {{.+}} : vector<4xf32>
// SSE:               scf.yield
// SSE-NEXT:      }
// SSE-NEXT:      vector.store %{{.+}}#0, %[[C]][%[[M0]], %[[N0]]] : memref<9x53xf32>, vector<4xf32>
// SSE-NEXT:      vector.store %{{.+}}#1, %[[C]][%[[M0]], %{{.+}}] : memref<9x53xf32>, vector<1xf32>
// SSE-COUNT-4:   vector.store
// SSE-NEXT:      }
// SSE-NEXT:      }
// SSE-NEXT:      scf.reduce
// SSE-NEXT:      } {quarc.kernel}
// SSE-NEXT:      return

// With AVX-512, 53 columns = 48 + 5: two column tiles; 9 rows = 8 (no loop) + 1.
// AVX512:        scf.parallel (%{{[^ ]+}}) = (%{{[^ ]+}}) to (%c2) step
// AVX512-COUNT-24: vector.load %[[C]]{{.+}} : memref<9x53xf32>, vector<16xf32>
// AVX512:        scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// AVX512-COUNT-3:  vector.load %{{.+}} : memref<40x48xf32>, vector<16xf32>
// AVX512-COUNT-24: vector.fma {{.+}} : vector<16xf32>
// AVX512-NOT:      vector.fma
// AVX512:          scf.yield
// AVX512-COUNT-24: vector.store {{.+}} : memref<9x53xf32>, vector<16xf32>
// AVX512:        scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// AVX512:        scf.for {{.+}} -> (vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>) {
// AVX512:        scf.for {{.+}} -> (vector<5xf32>) {
// AVX512-NOT:    scf.for
// AVX512:        return

// With NEON, 53 columns = 4 x 12 + 5: five column tiles; 9 rows = 8 (no loop) + 1.
// NEON:          scf.parallel (%{{[^ ]+}}) = (%{{[^ ]+}}) to (%c5) step
// NEON-NOT:        scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c8
// NEON-COUNT-24:   vector.load %[[C]]{{.+}} : memref<9x53xf32>, vector<4xf32>
// NEON:            scf.for
// NEON-COUNT-3:      vector.load %{{.+}} : memref<40x12xf32>, vector<4xf32>
// NEON-COUNT-24:     vector.fma {{.+}} : vector<4xf32>
// NEON-NOT:          vector.fma
// NEON:              scf.yield
// NEON-COUNT-24:   vector.store {{.+}} : memref<9x53xf32>, vector<4xf32>
// NEON:            scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// NEON:          scf.for {{.+}} -> (vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>) {
// NEON:          scf.for {{.+}} -> (vector<4xf32>, vector<1xf32>) {
// NEON:          return
func.func @matmul_9x40x53(%a: memref<9x40xf32>, %b: memref<40x53xf32>, %c: memref<9x53xf32>) {
  linalg.matmul ins(%a, %b : memref<9x40xf32>, memref<40x53xf32>) outs(%c : memref<9x53xf32>)
  return
}

// -----

// k is blocked so that the B panel of a tile column (k block x 24 columns,
// 24 KiB) stays in L1: 256 for AVX2. k = 300 is one block of 256 and one of
// 44, both inside the column tile's iteration.
// AVX2-LABEL: func @k_blocks_300
// AVX2:         scf.parallel
// AVX2:         %[[PANEL:.+]] = memref.alloca() {alignment = 64 : i64} : memref<256x24xf32>
// AVX2:         %[[K0:.+]] = arith.constant 0 : index
// AVX2:         scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c256{{[_0-9]*}} step
// AVX2-COUNT-3:   vector.store %{{.+}}, %[[PANEL]]
// AVX2:         %[[E0:.+]] = arith.addi %[[K0]], %c256{{[_0-9]*}} : index
// AVX2:         scf.for %{{[^ ]+}} = %[[K0]] to %[[E0]] step %{{[^ ]+}} iter_args
// AVX2-COUNT-12:  vector.fma
// AVX2:         %[[K1:.+]] = arith.constant 256 : index
// AVX2:         scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c44{{[_0-9]*}} step
// AVX2-COUNT-3:   vector.store %{{.+}}, %[[PANEL]]
// AVX2:         %[[E1:.+]] = arith.addi %[[K1]], %c44{{[_0-9]*}} : index
// AVX2:         scf.for %{{[^ ]+}} = %[[K1]] to %[[E1]] step %{{[^ ]+}} iter_args
// AVX2-COUNT-12:  vector.fma
// AVX2-NOT:     vector.fma
// AVX2:         scf.reduce
// AVX2:         return
func.func @k_blocks_300(%a: memref<4x300xf32>, %b: memref<300x24xf32>, %c: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x300xf32>, memref<300x24xf32>) outs(%c : memref<4x24xf32>)
  return
}

// -----

// k = 600: blocks of 256, 256 and 88, all inside the column tile's
// iteration: the first block and the last one are built on their own (they
// may start from the op that initializes C and end with the consumer of C).
// AVX2-LABEL: func @k_blocks_600
// AVX2:         scf.parallel
// AVX2:         %[[K0:.+]] = arith.constant 0 : index
// AVX2:         scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c256{{[_0-9]*}} step
// AVX2:         %[[E0:.+]] = arith.addi %[[K0]], %c256{{[_0-9]*}} : index
// AVX2:         scf.for %{{[^ ]+}} = %[[K0]] to %[[E0]] step %{{[^ ]+}} iter_args
// AVX2-COUNT-12:  vector.fma
// AVX2:         %[[K1:.+]] = arith.constant 256 : index
// AVX2:         scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c256{{[_0-9]*}} step
// AVX2:         %[[E1:.+]] = arith.addi %[[K1]], %c256{{[_0-9]*}} : index
// AVX2:         scf.for %{{[^ ]+}} = %[[K1]] to %[[E1]] step %{{[^ ]+}} iter_args
// AVX2-COUNT-12:  vector.fma
// AVX2:         %[[K2:.+]] = arith.constant 512 : index
// AVX2:         scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c88{{[_0-9]*}} step
// AVX2:         %[[E2:.+]] = arith.addi %[[K2]], %c88{{[_0-9]*}} : index
// AVX2:         scf.for %{{[^ ]+}} = %[[K2]] to %[[E2]] step %{{[^ ]+}} iter_args
// AVX2-COUNT-12:  vector.fma
// AVX2-NOT:     vector.fma
// AVX2:         return
func.func @k_blocks_600(%a: memref<4x600xf32>, %b: memref<600x24xf32>, %c: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x600xf32>, memref<600x24xf32>) outs(%c : memref<4x24xf32>)
  return
}

// -----

// k = 1200: the blocks between the first and the last are a loop.
// AVX2-LABEL: func @k_blocks_1200
// AVX2:         scf.parallel
// AVX2:         %[[K0:.+]] = arith.constant 0 : index
// AVX2:         %[[E0:.+]] = arith.addi %[[K0]], %c256{{[_0-9]*}} : index
// AVX2:         scf.for %{{[^ ]+}} = %[[K0]] to %[[E0]] step
// AVX2-COUNT-12:  vector.fma
// AVX2:         scf.for %[[KB:[^ ]+]] = %c256{{[_0-9]*}} to %c1024 step %c256{{[_0-9]*}} {
// AVX2:           scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c256{{[_0-9]*}} step
// AVX2:           %[[E:.+]] = arith.addi %[[KB]], %c256{{[_0-9]*}} : index
// AVX2:           scf.for %{{[^ ]+}} = %[[KB]] to %[[E]] step
// AVX2-COUNT-12:    vector.fma
// AVX2:         }
// AVX2:         %[[E3:.+]] = arith.addi %[[K3:c1024[_0-9]*]], %c176{{[_0-9]*}} : index
// AVX2:         scf.for %{{[^ ]+}} = %[[K3]] to %[[E3]] step
// AVX2-COUNT-12:  vector.fma
// AVX2-NOT:     vector.fma
// AVX2:         return
func.func @k_blocks_1200(%a: memref<4x1200xf32>, %b: memref<1200x24xf32>, %c: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x1200xf32>, memref<1200x24xf32>) outs(%c : memref<4x24xf32>)
  return
}

// -----

// Five columns: narrower than an AVX2 register, so left to the loops there;
// SSE and NEON (4 lanes) vectorize it as a vector<4xf32> and a vector<1xf32>.
// CHECK-LABEL: func @narrow_n
// AVX2-NOT:      vector.
// AVX2:          linalg.matmul
// AVX512-NOT:    vector.
// AVX512:        linalg.matmul
// SSE-NOT:       linalg.matmul
// SSE:           scf.for {{.+}} -> (vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>)
// NEON-NOT:      linalg.matmul
// NEON:          scf.for {{.+}} -> (vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>, vector<4xf32>, vector<1xf32>)
// CHECK:         return
func.func @narrow_n(%a: memref<8x16xf32>, %b: memref<16x5xf32>, %c: memref<8x5xf32>) {
  linalg.matmul ins(%a, %b : memref<8x16xf32>, memref<16x5xf32>) outs(%c : memref<8x5xf32>)
  return
}

// -----

// The batch dim is a dim of the kernel's parallel loop and indexes every
// operand.
// CHECK-LABEL: func @batch_matmul(
// CHECK-SAME:      %[[A:[^:]+]]: memref<3x4x16xf32>, %[[B:[^:]+]]: memref<3x16x24xf32>, %[[C:[^:]+]]: memref<3x4x24xf32>)
// CHECK-NOT:     linalg.batch_matmul
// AVX2:          scf.parallel (%[[BATCH:[^ ]+]], %{{[^ ]+}}) = (%{{[^ ]+}}, %{{[^ ]+}}) to (%c3, %c1{{[_0-9]*}}) step
// AVX2:            scf.for %[[KK:[^ ]+]] =
// AVX2:              %[[KP:.+]] = arith.addi %{{.+}}, %[[KK]] : index
// AVX2:              vector.load %[[B]][%[[BATCH]], %[[KP]], %{{.+}}] : memref<3x16x24xf32>, vector<8xf32>
// AVX2:            %[[C00:.+]] = vector.load %[[C]][%[[BATCH]], %[[M:[a-z0-9_]+]], %[[N:[a-z0-9_]+]]] : memref<3x4x24xf32>, vector<8xf32>
// AVX2:            scf.for %[[K:[^ ]+]] =
// AVX2-COUNT-3:      vector.load %{{.+}} : memref<16x24xf32>, vector<8xf32>
// AVX2-NEXT:         memref.load %[[A]][%[[BATCH]], %[[M]], %[[K]]] : memref<3x4x16xf32>
// AVX2-COUNT-12:     vector.fma
// AVX2:            vector.store %{{.+}}, %[[C]][%[[BATCH]], %[[M]], %[[N]]] : memref<3x4x24xf32>, vector<8xf32>
// CHECK:         return
func.func @batch_matmul(%a: memref<3x4x16xf32>, %b: memref<3x16x24xf32>, %c: memref<3x4x24xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x4x16xf32>, memref<3x16x24xf32>) outs(%c : memref<3x4x24xf32>)
  return
}

// -----

// The contraction quarc-convolution-to-matmul builds, after bufferization:
// out[n, f, p] += W[f, q] * X[n, q, p]. The image index n is absent from the
// weights, so it is a dim of the parallel loop. 20 pixels (< 24) are one
// partial tile column: vector<8xf32>, vector<8xf32> and vector<4xf32>.
#lhs = affine_map<(n, f, p, q) -> (f, q)>
#rhs = affine_map<(n, f, p, q) -> (n, q, p)>
#out = affine_map<(n, f, p, q) -> (n, f, p)>
// CHECK-LABEL: func @convolution_contraction(
// CHECK-SAME:      %[[W:[^:]+]]: memref<5x72xf32>, %[[X:[^:]+]]: memref<2x72x20xf32>, %[[O:[^:]+]]: memref<2x5x20xf32>)
// CHECK-NOT:     linalg.generic
// AVX2:          scf.parallel (%[[IMG:[^ ]+]], %{{[^ ]+}}) = (%{{[^ ]+}}, %{{[^ ]+}}) to (%c2, %c1{{[_0-9]*}}) step
// AVX2:            %[[PANEL:.+]] = memref.alloca() {alignment = 64 : i64} : memref<72x24xf32>
// The image's rows of X are packed (20 columns of the panel's 24).
// AVX2:            scf.for %[[QQ:[^ ]+]] =
// AVX2:              %[[QP:.+]] = arith.addi %{{.+}}, %[[QQ]] : index
// AVX2:              vector.load %[[X]][%[[IMG]], %[[QP]], %{{.+}}] : memref<2x72x20xf32>, vector<8xf32>
// AVX2:              vector.load %[[X]][%[[IMG]], %[[QP]], %{{.+}}] : memref<2x72x20xf32>, vector<4xf32>
// 5 rows: a 4 x 20 tile, then a 1 x 20 tile.
// AVX2:            %[[O0:.+]] = vector.load %[[O]][%[[IMG]], %[[F:[a-z0-9_]+]], %[[P:[a-z0-9_]+]]] : memref<2x5x20xf32>, vector<8xf32>
// AVX2-NEXT:       vector.load %[[O]][%[[IMG]], %[[F]], %{{.+}}] : memref<2x5x20xf32>, vector<8xf32>
// AVX2-NEXT:       vector.load %[[O]][%[[IMG]], %[[F]], %{{.+}}] : memref<2x5x20xf32>, vector<4xf32>
// AVX2:            scf.for %[[Q:[^ ]+]] = {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<4xf32>, vector<8xf32>, vector<8xf32>, vector<4xf32>, vector<8xf32>, vector<8xf32>, vector<4xf32>, vector<8xf32>, vector<8xf32>, vector<4xf32>) {
// AVX2:              vector.load %[[PANEL]]{{.+}} : memref<72x24xf32>, vector<8xf32>
// AVX2:              vector.load %[[PANEL]]{{.+}} : memref<72x24xf32>, vector<8xf32>
// AVX2:              vector.load %[[PANEL]]{{.+}} : memref<72x24xf32>, vector<4xf32>
// AVX2-NEXT:         memref.load %[[W]][%[[F]], %[[Q]]] : memref<5x72xf32>
// AVX2-COUNT-4:      vector.fma {{.+}} : vector<4xf32>
// AVX2-NOT:          vector.fma
// AVX2:              scf.yield
// AVX2:            scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<4xf32>) {
// AVX2-COUNT-3:      vector.fma
// AVX2-NOT:          vector.fma
// AVX2:              scf.yield
// AVX2-NEXT:       }
// AVX2-COUNT-3:    vector.store
// AVX2-NEXT:       scf.reduce
// AVX2-NEXT:     } {quarc.kernel}
// CHECK:         return
func.func @convolution_contraction(%w: memref<5x72xf32>, %x: memref<2x72x20xf32>, %o: memref<2x5x20xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %x : memref<5x72xf32>, memref<2x72x20xf32>) outs(%o : memref<2x5x20xf32>) {
  ^bb0(%in: f32, %in_0: f32, %acc: f32):
    %0 = arith.mulf %in, %in_0 : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A is read through its indexing map: a transposed A (k, m) is fine, its
// elements are scalar loads.
#at = affine_map<(m, n, k) -> (k, m)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func @transposed_lhs(
// CHECK-SAME:      %[[A:[^:]+]]: memref<16x4xf32>, %[[B:[^:]+]]: memref<16x24xf32>, %[[C:[^:]+]]: memref<4x24xf32>)
// CHECK-NOT:     linalg.generic
// AVX2:          scf.for %[[K:[^ ]+]] = {{.+}} iter_args
// AVX2:            vector.load %[[PANEL:[^\[]+]]{{\[}}%{{.+}}] : memref<16x24xf32>, vector<8xf32>
// AVX2-COUNT-2:    vector.load %[[PANEL]]{{\[}}%{{.+}}] : memref<16x24xf32>, vector<8xf32>
// AVX2-NEXT:       memref.load %[[A]][%[[K]], %{{.+}}] : memref<16x4xf32>
// AVX2-COUNT-12:   vector.fma
// CHECK:         return
func.func @transposed_lhs(%a: memref<16x4xf32>, %b: memref<16x24xf32>, %c: memref<4x24xf32>) {
  linalg.generic {indexing_maps = [#at, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x4xf32>, memref<16x24xf32>) outs(%c : memref<4x24xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %0 = arith.mulf %x, %y : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// Left alone: a B that is transposed (n, k) is not contiguous along n.
#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func @transposed_rhs_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.generic
// CHECK-NOT:     vector.
// CHECK:         return
func.func @transposed_rhs_left_alone(%a: memref<4x16xf32>, %b: memref<24x16xf32>, %c: memref<4x24xf32>) {
  linalg.generic {indexing_maps = [#a, #bt, #c],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x16xf32>, memref<24x16xf32>) outs(%c : memref<4x24xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %0 = arith.mulf %x, %y : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// Left alone: B is a strided view (every other column).
// CHECK-LABEL: func @strided_rhs_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
// CHECK:         return
func.func @strided_rhs_left_alone(%a: memref<4x16xf32>, %b: memref<16x24xf32, strided<[48, 2]>>, %c: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x16xf32>, memref<16x24xf32, strided<[48, 2]>>) outs(%c : memref<4x24xf32>)
  return
}

// -----

// Left alone: C is a strided view.
// CHECK-LABEL: func @strided_out_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
// CHECK:         return
func.func @strided_out_left_alone(%a: memref<4x16xf32>, %b: memref<16x24xf32>, %c: memref<4x24xf32, strided<[48, 2]>>) {
  linalg.matmul ins(%a, %b : memref<4x16xf32>, memref<16x24xf32>) outs(%c : memref<4x24xf32, strided<[48, 2]>>)
  return
}

// -----

// A row-strided B (a slice of a wider buffer) is still contiguous along n.
// CHECK-LABEL: func @row_strided_rhs
// CHECK-NOT:     linalg.matmul
// AVX2-COUNT-3:  vector.load %{{.+}} : memref<16x24xf32, strided<[64, 1], offset: 8>>, vector<8xf32>
// AVX2-COUNT-12: vector.fma
// CHECK:         return
func.func @row_strided_rhs(%a: memref<4x16xf32>, %b: memref<16x24xf32, strided<[64, 1], offset: 8>>, %c: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x16xf32>, memref<16x24xf32, strided<[64, 1], offset: 8>>) outs(%c : memref<4x24xf32>)
  return
}

// -----

// A dynamic batch dim: the kernel's parallel loop runs to C's size there
// (m, n and k stay static).
// CHECK-LABEL: func @dynamic_batch_matmul(
// CHECK-SAME:      %{{[^:]+}}: memref<?x4x16xf32>, %{{[^:]+}}: memref<?x16x24xf32>, %[[C:[^:]+]]: memref<?x4x24xf32>)
// CHECK:         %[[N:.+]] = memref.dim %[[C]], %c0 : memref<?x4x24xf32>
// AVX2:          scf.parallel (%{{[^ ]+}}, %{{[^ ]+}}) = (%{{[^ ]+}}, %{{[^ ]+}}) to (%[[N]], %c1{{[_0-9]*}}) step
// AVX2-COUNT-12: vector.fma
// CHECK-NOT:     linalg.batch_matmul
// CHECK:         return
func.func @dynamic_batch_matmul(%a: memref<?x4x16xf32>, %b: memref<?x16x24xf32>, %c: memref<?x4x24xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<?x4x16xf32>, memref<?x16x24xf32>) outs(%c : memref<?x4x24xf32>)
  return
}

// -----

// Dynamic rows (a Gemm's batch): whole 4-row tiles in a loop, then the
// remainder's tile, chosen by its height (1 to 3 rows).
// CHECK-LABEL: func @dynamic_rows(
// CHECK-SAME:      %{{[^:]+}}: memref<?x16xf32>, %{{[^:]+}}: memref<16x24xf32>, %[[C:[^:]+]]: memref<?x24xf32>)
// AVX2:          %[[M:.+]] = memref.dim %[[C]], %c0{{[_0-9]*}} : memref<?x24xf32>
// AVX2:          %[[REM:.+]] = arith.remui %[[M]], %c4{{[_0-9]*}} : index
// AVX2:          %[[WHOLE:.+]] = arith.subi %[[M]], %[[REM]] : index
// AVX2:          scf.for %{{.+}} = %{{.+}} to %[[WHOLE]] step %c4
// AVX2-COUNT-12:   vector.fma
// AVX2:          scf.index_switch %[[REM]]
// AVX2-NEXT:     case 1 {
// AVX2-COUNT-3:    vector.fma
// AVX2:          case 2 {
// AVX2-COUNT-6:    vector.fma
// AVX2:          case 3 {
// AVX2-COUNT-9:    vector.fma
// AVX2:          default {
// CHECK-NOT:     linalg.matmul
// CHECK:         return
func.func @dynamic_rows(%a: memref<?x16xf32>, %b: memref<16x24xf32>, %c: memref<?x24xf32>) {
  linalg.matmul ins(%a, %b : memref<?x16xf32>, memref<16x24xf32>) outs(%c : memref<?x24xf32>)
  return
}

// -----

// Left alone: dynamic columns (n).
// CHECK-LABEL: func @dynamic_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
// CHECK:         return
func.func @dynamic_left_alone(%a: memref<4x16xf32>, %b: memref<16x?xf32>, %c: memref<4x?xf32>) {
  linalg.matmul ins(%a, %b : memref<4x16xf32>, memref<16x?xf32>) outs(%c : memref<4x?xf32>)
  return
}

// -----

// Left alone: integer elements.
// CHECK-LABEL: func @i32_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
// CHECK:         return
func.func @i32_left_alone(%a: memref<4x16xi32>, %b: memref<16x24xi32>, %c: memref<4x24xi32>) {
  linalg.matmul ins(%a, %b : memref<4x16xi32>, memref<16x24xi32>) outs(%c : memref<4x24xi32>)
  return
}

// -----

// Left alone: f16 elements.
// CHECK-LABEL: func @f16_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
// CHECK:         return
func.func @f16_left_alone(%a: memref<4x16xf16>, %b: memref<16x24xf16>, %c: memref<4x24xf16>) {
  linalg.matmul ins(%a, %b : memref<4x16xf16>, memref<16x24xf16>) outs(%c : memref<4x24xf16>)
  return
}

// -----

// Left alone: tensors (the pass runs after bufferization).
// CHECK-LABEL: func @tensor_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
// CHECK:         return
func.func @tensor_left_alone(%a: tensor<4x16xf32>, %b: tensor<16x24xf32>, %c: tensor<4x24xf32>) -> tensor<4x24xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x24xf32>) outs(%c : tensor<4x24xf32>) -> tensor<4x24xf32>
  return %0 : tensor<4x24xf32>
}

// -----

// Left alone: not a contraction (an elementwise product).
#id = affine_map<(i, j) -> (i, j)>
// CHECK-LABEL: func @elementwise_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.generic
// CHECK-NOT:     vector.
// CHECK:         return
func.func @elementwise_left_alone(%a: memref<4x24xf32>, %b: memref<4x24xf32>, %c: memref<4x24xf32>) {
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : memref<4x24xf32>, memref<4x24xf32>) outs(%c : memref<4x24xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %0 = arith.mulf %x, %y : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// The operands in the order ins(B, A): the roles come from the indexing
// maps, not the operand order. B (the first operand, indexed (k, n)) is the
// right-hand side whose rows are loaded as vectors; A (the second operand,
// indexed (m, k)) gives the broadcast scalars.
#b = affine_map<(m, n, k) -> (k, n)>
#a = affine_map<(m, n, k) -> (m, k)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func @rhs_first(
// CHECK-SAME:      %[[B:[^:]+]]: memref<16x24xf32>, %[[A:[^:]+]]: memref<4x16xf32>, %[[C:[^:]+]]: memref<4x24xf32>)
// CHECK-NOT:     linalg.generic
// CHECK-NOT:     memref.load %[[B]]
// CHECK-NOT:     vector.load %[[A]]
// AVX2:          scf.parallel (%[[T:[^ ]+]]) =
// AVX2:          %[[PANEL:.+]] = memref.alloca() {alignment = 64 : i64} : memref<16x24xf32>
// AVX2:          %[[N0:.+]] = arith.muli %[[T]], %c24 : index
// The rows of B (the first operand) go to the panel as vectors.
// AVX2:          scf.for
// AVX2:            vector.load %[[B]][%{{.+}}, %[[N0]]] : memref<16x24xf32>, vector<8xf32>
// AVX2:            vector.store %{{.+}}, %[[PANEL]][%{{.+}}, %c16{{[_0-9]*}}] : memref<16x24xf32>, vector<8xf32>
// AVX2-NEXT:     }
// AVX2:          %[[M0:.+]] = arith.constant 0 : index
// AVX2:          %[[N8:.+]] = arith.addi %[[N0]], %c8{{[_0-9]*}} : index
// AVX2:          %[[N16:.+]] = arith.addi %[[N0]], %c16{{[_0-9]*}} : index
// AVX2:          %[[M1:.+]] = arith.addi %[[M0]], %c1{{[_0-9]*}} : index
// AVX2:          %[[M2:.+]] = arith.addi %[[M0]], %c2{{[_0-9]*}} : index
// AVX2:          %[[M3:.+]] = arith.addi %[[M0]], %c3{{[_0-9]*}} : index
// AVX2:          %[[C00:.+]] = vector.load %[[C]][%[[M0]], %[[N0]]] : memref<4x24xf32>, vector<8xf32>
// AVX2-COUNT-11: vector.load %[[C]]{{.+}} : memref<4x24xf32>, vector<8xf32>
// AVX2:          %[[TILE:.+]]:12 = scf.for %[[K:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}} iter_args(%[[ACC00:[^ ]+]] = %[[C00]], %[[ACC01:[^ ]+]] = %{{[^ ]+}}, %[[ACC02:[^ ]+]] = %{{[^,]+}},
// AVX2:            %[[B0:.+]] = vector.load %[[PANEL]]{{.+}} : memref<16x24xf32>, vector<8xf32>
// AVX2:            %[[B1:.+]] = vector.load %[[PANEL]]{{.+}} : memref<16x24xf32>, vector<8xf32>
// AVX2:            %[[B2:.+]] = vector.load %[[PANEL]]{{.+}} : memref<16x24xf32>, vector<8xf32>
// AVX2-NEXT:       %[[A0:.+]] = memref.load %[[A]][%[[M0]], %[[K]]] : memref<4x16xf32>
// AVX2-NEXT:       %[[S0:.+]] = vector.broadcast %[[A0]] : f32 to vector<8xf32>
// AVX2-NEXT:       %[[R00:.+]] = vector.fma %[[S0]], %[[B0]], %[[ACC00]] : vector<8xf32>
// AVX2-NEXT:       %[[S1:.+]] = vector.broadcast %[[A0]] : f32 to vector<8xf32>
// AVX2-NEXT:       %[[R01:.+]] = vector.fma %[[S1]], %[[B1]], %[[ACC01]] : vector<8xf32>
// AVX2-NEXT:       %[[S2:.+]] = vector.broadcast %[[A0]] : f32 to vector<8xf32>
// AVX2-NEXT:       %[[R02:.+]] = vector.fma %[[S2]], %[[B2]], %[[ACC02]] : vector<8xf32>
// AVX2-NEXT:       memref.load %[[A]][%[[M1]], %[[K]]] : memref<4x16xf32>
// AVX2-COUNT-3:    vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<8xf32>
// AVX2-NEXT:       memref.load %[[A]][%[[M2]], %[[K]]] : memref<4x16xf32>
// AVX2-COUNT-3:    vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<8xf32>
// AVX2-NEXT:       memref.load %[[A]][%[[M3]], %[[K]]] : memref<4x16xf32>
// AVX2-COUNT-3:    vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<8xf32>
// AVX2-NEXT:       scf.yield %[[R00]], %[[R01]], %[[R02]],
// AVX2-NEXT:     }
// AVX2-NEXT:     vector.store %[[TILE]]#0, %[[C]][%[[M0]], %[[N0]]] : memref<4x24xf32>, vector<8xf32>
// AVX2-COUNT-11: vector.store %{{.+}}, %[[C]]{{.+}} : memref<4x24xf32>, vector<8xf32>
// AVX2-NEXT:     scf.reduce
// AVX2-NEXT:     } {quarc.kernel}
// AVX2-NEXT:     return
// The other targets too: rows of B as vectors, the four rows of A as
// scalars.
// SSE:           vector.load %[[B]]{{.+}} : memref<16x24xf32>, vector<4xf32>
// SSE-COUNT-4:   memref.load %[[A]]{{.+}} : memref<4x16xf32>
// SSE-NOT:       memref.load
// SSE:           return
// AVX512:        vector.load %[[B]]{{.+}} : memref<16x24xf32>, vector<16xf32>
// AVX512-COUNT-4: memref.load %[[A]]{{.+}} : memref<4x16xf32>
// AVX512-NOT:    memref.load
// AVX512:        return
// NEON:          vector.load %[[B]]{{.+}} : memref<16x24xf32>, vector<4xf32>
// NEON-COUNT-4:  memref.load %[[A]]{{.+}} : memref<4x16xf32>
// NEON-NOT:      memref.load
// NEON:          return
func.func @rhs_first(%b: memref<16x24xf32>, %a: memref<4x16xf32>, %c: memref<4x24xf32>) {
  linalg.generic {indexing_maps = [#b, #a, #c],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%b, %a : memref<16x24xf32>, memref<4x16xf32>) outs(%c : memref<4x24xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %0 = arith.mulf %x, %y : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A direct convolution (unit stride along the width, stride 2 along the
// height): n is the output column, k is (input channel, kernel row, kernel
// column), and B's row k is read from the input image at the window's
// position. The parallel loop runs over (image, output row, column tile).
// 28 columns = 24 + 4.
// CHECK-LABEL: func @direct_convolution(
// CHECK-SAME:      %[[X:[^:]+]]: memref<2x3x9x30xf32>, %[[W:[^:]+]]: memref<5x3x3x3xf32>, %[[O:[^:]+]]: memref<2x5x4x28xf32>)
// CHECK-NOT:     linalg.conv_2d_nchw_fchw
// AVX2:          scf.parallel (%[[IMG:[^ ]+]], %[[Y:[^ ]+]], %[[T:[^ ]+]]) = ({{.+}}) to (%c2, %c4, %c2{{[_0-9]*}}) step
// AVX2:            %[[X0:.+]] = arith.muli %[[T]], %c24 : index
// AVX2:            scf.if
// AVX2:            vector.load %[[O]][%[[IMG]], %{{.+}}, %[[Y]], %[[X0]]] : memref<2x5x4x28xf32>, vector<8xf32>
// AVX2:            scf.for %[[C:[^ ]+]] = {{.+}} -> (vector<8xf32>,
// AVX2:              scf.for %[[I:[^ ]+]] = {{.+}} -> (vector<8xf32>,
// AVX2:                scf.for %[[J:[^ ]+]] = {{.+}} -> (vector<8xf32>,
// AVX2:                  %[[Y2:.+]] = arith.muli %[[Y]], %c2{{[_0-9]*}} overflow<nsw> : index
// AVX2-NEXT:             %[[ROW:.+]] = arith.addi %[[Y2]], %[[I]] : index
// AVX2-NEXT:             %[[COL:.+]] = arith.addi %[[X0]], %[[J]] : index
// AVX2-NEXT:             vector.load %[[X]][%[[IMG]], %[[C]], %[[ROW]], %[[COL]]] : memref<2x3x9x30xf32>, vector<8xf32>
// AVX2-COUNT-2:          vector.load %[[X]]{{.+}} : memref<2x3x9x30xf32>, vector<8xf32>
// AVX2-NEXT:             memref.load %[[W]][%{{.+}}, %[[C]], %[[I]], %[[J]]] : memref<5x3x3x3xf32>
// AVX2-COUNT-12:         vector.fma
// AVX2:            } else {
// AVX2:              vector.load %[[X]]{{.+}} : memref<2x3x9x30xf32>, vector<4xf32>
// AVX2:            } {quarc.kernel}
// CHECK:         return
func.func @direct_convolution(%x: memref<2x3x9x30xf32>, %w: memref<5x3x3x3xf32>, %o: memref<2x5x4x28xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<[2, 1]> : tensor<2xi64>}
    ins(%x, %w : memref<2x3x9x30xf32>, memref<5x3x3x3xf32>) outs(%o : memref<2x5x4x28xf32>)
  return
}

// -----

// Dilation along the width keeps the window's columns contiguous: fine.
// CHECK-LABEL: func @direct_convolution_dilated
// CHECK-NOT:     linalg.conv_2d_nchw_fchw
// AVX2:          vector.fma
// CHECK:         return
func.func @direct_convolution_dilated(%x: memref<1x4x12x28xf32>, %w: memref<4x4x3x3xf32>, %o: memref<1x4x8x24xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x4x12x28xf32>, memref<4x4x3x3xf32>) outs(%o : memref<1x4x8x24xf32>)
  return
}

// -----

// Left alone: stride 2 along the width (the windows of an output row are
// not contiguous; quarc-convolution-to-matmul copies them with im2col).
// CHECK-LABEL: func @strided_width_convolution_left_alone
// CHECK-NOT:     vector.
// CHECK:         linalg.conv_2d_nchw_fchw
// CHECK-NOT:     vector.
// CHECK:         return
func.func @strided_width_convolution_left_alone(%x: memref<1x4x9x49xf32>, %w: memref<4x4x3x3xf32>, %o: memref<1x4x4x24xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<1x4x9x49xf32>, memref<4x4x3x3xf32>) outs(%o : memref<1x4x4x24xf32>)
  return
}

// -----

// A fill of the whole output just before: the first k block starts its
// accumulators from the fill value instead of loading C, the fill goes;
// later k blocks load C as usual (k = 300: blocks of 256 and 44).
// CHECK-LABEL: func @fill_initializes_accumulators(
// CHECK-SAME:      %[[C:[^:]+]]: memref<4x24xf32>, %[[V:[^:]+]]: f32)
// CHECK-NOT:     linalg.fill
// AVX2:          %[[SPLAT:.+]] = vector.broadcast %[[V]] : f32 to vector<8xf32>
// AVX2-NOT:      vector.load %[[C]]
// AVX2:          scf.for %{{.+}} iter_args(%{{[^ ]+}} = %[[SPLAT]],
// AVX2:          vector.store
// AVX2:          vector.load %[[C]]
// AVX2:          scf.for
// CHECK:         return
func.func @fill_initializes_accumulators(%a: memref<4x300xf32>, %b: memref<300x24xf32>, %c: memref<4x24xf32>, %v: f32) {
  linalg.fill ins(%v : f32) outs(%c : memref<4x24xf32>)
  linalg.matmul ins(%a, %b : memref<4x300xf32>, memref<300x24xf32>) outs(%c : memref<4x24xf32>)
  return
}

// -----

// The fill of the buffer a reshaped C views counts too (the contraction
// quarc-convolution-to-matmul builds writes a collapsed view).
// CHECK-LABEL: func @fill_through_reshape
// CHECK-NOT:     linalg.fill
// AVX2:          vector.broadcast %{{.+}} : f32 to vector<8xf32>
// CHECK:         return
func.func @fill_through_reshape(%a: memref<4x16xf32>, %b: memref<16x24xf32>, %c: memref<4x4x6xf32>, %v: f32) {
  linalg.fill ins(%v : f32) outs(%c : memref<4x4x6xf32>)
  %flat = memref.collapse_shape %c [[0], [1, 2]] : memref<4x4x6xf32> into memref<4x24xf32>
  linalg.matmul ins(%a, %b : memref<4x16xf32>, memref<16x24xf32>) outs(%flat : memref<4x24xf32>)
  return
}

// -----

// The fill stays where something reads or writes the buffer in between, or
// where it fills only part of the buffer the kernel writes.
// CHECK-LABEL: func @fill_kept(
// CHECK-SAME:      %[[V:[^:]+]]: f32)
// CHECK:         linalg.fill
// CHECK:         memref.copy
// CHECK-NOT:     vector.broadcast %[[V]]
// AVX2:          vector.fma
// CHECK:         linalg.fill
// CHECK-NOT:     vector.broadcast %[[V]]
// AVX2:          vector.fma
// CHECK:         return
func.func @fill_kept(%a: memref<4x16xf32>, %b: memref<16x24xf32>, %c: memref<4x24xf32>, %d: memref<8x24xf32>, %v: f32) {
  linalg.fill ins(%v : f32) outs(%c : memref<4x24xf32>)
  memref.copy %b, %b : memref<16x24xf32> to memref<16x24xf32>
  %view = memref.subview %c[0, 0] [4, 24] [1, 1] : memref<4x24xf32> to memref<4x24xf32, strided<[24, 1]>>
  memref.copy %view, %view : memref<4x24xf32, strided<[24, 1]>> to memref<4x24xf32, strided<[24, 1]>>
  linalg.matmul ins(%a, %b : memref<4x16xf32>, memref<16x24xf32>) outs(%c : memref<4x24xf32>)
  %half = memref.subview %d[0, 0] [4, 24] [1, 1] : memref<8x24xf32> to memref<4x24xf32, strided<[24, 1]>>
  linalg.fill ins(%v : f32) outs(%half : memref<4x24xf32, strided<[24, 1]>>)
  %top = memref.subview %d[0, 0] [4, 24] [1, 1] : memref<8x24xf32> to memref<4x24xf32, strided<[24, 1]>>
  linalg.matmul ins(%a, %b : memref<4x16xf32>, memref<16x24xf32>) outs(%top : memref<4x24xf32, strided<[24, 1]>>)
  return
}

// -----

// A grouped convolution (here a depthwise one with a channel multiplier of
// 2: 3 groups of 1 input and 2 output channels) runs on the same kernel:
// the group is one more batch dim of the parallel loop, and the tiles have
// as many rows as a group has output channels.
// CHECK-LABEL: func @grouped_convolution(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x3x1x6x26xf32>, %[[W:[^:]+]]: memref<3x2x1x3x3xf32>, %[[O:[^:]+]]: memref<1x3x2x4x24xf32>)
// CHECK-NOT:     linalg.conv_2d_ngchw_gfchw
// AVX2:          scf.parallel (%[[IMG:[^ ]+]], %[[G:[^ ]+]], %[[Y:[^ ]+]], %{{[^ ]+}}) = ({{.+}}) to (%c1{{[_0-9]*}}, %c3, %c4, %c1{{[_0-9]*}}) step
// AVX2:            scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2:              vector.load %[[X]][%[[IMG]], %[[G]], %{{.+}}, %{{.+}}, %{{.+}}] : memref<1x3x1x6x26xf32>, vector<8xf32>
// AVX2:              memref.load %[[W]][%[[G]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : memref<3x2x1x3x3xf32>
// AVX2-COUNT-6:      vector.fma
// AVX2:            vector.store %{{.+}}, %[[O]][%[[IMG]], %[[G]], %{{.+}}, %[[Y]], %{{.+}}] : memref<1x3x2x4x24xf32>, vector<8xf32>
// CHECK:         return
func.func @grouped_convolution(%x: memref<1x3x1x6x26xf32>, %w: memref<3x2x1x3x3xf32>, %o: memref<1x3x2x4x24xf32>) {
  linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x1x6x26xf32>, memref<3x2x1x3x3xf32>) outs(%o : memref<1x3x2x4x24xf32>)
  return
}

// -----

// One column tile and many rows: the parallel loop gets a dim of row blocks
// too (at least 32 rows each, outside the column tiles), so that threads
// share the work. 100 rows = blocks of 36, 36 and 28 (the last under an
// scf.if).
// AVX2-LABEL: func @row_blocks(
// AVX2-SAME:      %[[C:[^:]+]]: memref<100x24xf32>)
// AVX2:         scf.parallel (%[[R:[^ ]+]], %[[T:[^ ]+]]) = (%{{[^ ]+}}, %{{[^ ]+}}) to (%c3, %c1{{[_0-9]*}}) step
// AVX2:           %[[M0:.+]] = arith.muli %[[R]], %c36 : index
// AVX2:           %[[WHOLE:.+]] = arith.cmpi ult, %[[R]], %c2 : index
// AVX2:           scf.if %[[WHOLE]] {
// AVX2:             scf.for %[[OFF:[^ ]+]] = %{{[^ ]+}} to %c36{{[_0-9]*}} step %c4
// AVX2:               %[[ROW:.+]] = arith.addi %[[M0]], %[[OFF]] : index
// AVX2:               vector.load %[[C]][%[[ROW]], %{{.+}}] : memref<100x24xf32>, vector<8xf32>
// AVX2:           } else {
// AVX2:             scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c28 step %c4
// AVX2:         } {quarc.kernel}
// AVX2:         return
func.func @row_blocks(%a: memref<100x16xf32>, %b: memref<16x24xf32>, %c: memref<100x24xf32>) {
  linalg.matmul ins(%a, %b : memref<100x16xf32>, memref<16x24xf32>) outs(%c : memref<100x24xf32>)
  return
}

// -----

// Fewer rows than the tile (a batch-1 product, a recurrent layer's step):
// the registers of the missing rows hold more columns, one tile covers all
// rows (AVX2 1 x 56, SSE 1 x 28, AVX-512 1 x 240, NEON 1 x 60), so its 7 or
// 15 accumulators still hide the FMA latency. Each row of B is read once,
// so it is read in place (no panel copy) and k is not blocked.
// CHECK-LABEL: func @one_row(
// CHECK-SAME:      %[[A:[^:]+]]: memref<1x64xf32>, %[[B:[^:]+]]: memref<64x512xf32>,
// CHECK-NOT:     memref.alloca
// AVX2:          scf.parallel (%{{[^ ]+}}) = (%{{[^ ]+}}) to (%c10) step
// AVX2:            scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2-COUNT-7:      vector.load %[[B]][%{{[^ ]+}}, %{{[^ ]+}}] : memref<64x512xf32>, vector<8xf32>
// AVX2-NEXT:         memref.load %[[A]]
// AVX2-COUNT-7:      vector.fma
// AVX2-NEXT:         scf.yield
// SSE:           scf.parallel (%{{[^ ]+}}) = (%{{[^ ]+}}) to (%c19) step
// SSE:             scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// AVX512:        scf.parallel (%{{[^ ]+}}) = (%{{[^ ]+}}) to (%c3) step
// AVX512:          scf.for {{.+}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// AVX512-COUNT-15:   vector.load %[[B]]
// AVX512-NEXT:       memref.load %[[A]]
// AVX512-COUNT-15:   vector.fma
// AVX512-NEXT:       scf.yield
// NEON:          scf.parallel (%{{[^ ]+}}) = (%{{[^ ]+}}) to (%c9) step
// NEON:            scf.for {{.+}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// CHECK:         return
func.func @one_row(%a: memref<1x64xf32>, %b: memref<64x512xf32>, %c: memref<1x512xf32>) {
  linalg.matmul ins(%a, %b : memref<1x64xf32>, memref<64x512xf32>) outs(%c : memref<1x512xf32>)
  return
}
