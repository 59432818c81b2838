// RUN: quarc-opt %s -split-input-file --quarc-vectorize-depthwise=target=x86_64+avx2 | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-depthwise=target=x86_64 | FileCheck %s --check-prefixes=CHECK,SSE
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-depthwise=target=x86_64+avx512f | FileCheck %s --check-prefixes=CHECK,AVX512
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-depthwise=target=aarch64 | FileCheck %s --check-prefixes=CHECK,NEON
// RUN: not quarc-opt %s -split-input-file --quarc-vectorize-depthwise=target=mips 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not quarc-opt %s -split-input-file --quarc-vectorize-depthwise=target=x86_64+neon 2>&1 | FileCheck %s --check-prefix=BADFEATURE
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-depthwise=target=x86_64+avx512vnni+avx512vbmi | FileCheck %s --check-prefix=QUADS

// Loops over batch, channel and output row around strips of two vector
// registers of output pixels (16 for AVX2, 8 for SSE and NEON, 32 for
// AVX-512); the remainder of a row is one strip with a smaller static width.

// BADTARGET: error: unknown target architecture 'mips'; known targets: host (detected), x86_64 (features: +avx2 +avx512f +avx512vnni +avx512vbmi), aarch64 (features: +dotprod +i8mm)
// BADFEATURE: error: unknown feature 'neon' for x86_64; known targets: host (detected), x86_64 (features: +avx2 +avx512f +avx512vnni +avx512vbmi), aarch64 (features: +dotprod +i8mm)

//===----------------------------------------------------------------------===//
// Stride 1, 3x3, 19 output columns
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @depthwise_3x3(
// CHECK-SAME:      %[[X:[^:]+]]: memref<2x3x9x21xf32>, %[[W:[^:]+]]: memref<3x3x3xf32>, %[[O:[^:]+]]: memref<2x3x7x19xf32>)
// CHECK-NOT:     linalg.depthwise_conv_2d_nchw_chw
// CHECK:         scf.parallel (%[[N:[a-z0-9_]+]], %[[CH:[a-z0-9_]+]], %[[Y:[a-z0-9_]+]]) = (%{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}) to (%c2, %c3, %c7) step (%{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}) {

// With AVX2, 19 = 16 (two vector<8xf32>) + 3. Tap (i, j) reads x[n, c, y + i, x0 + j].
// AVX2-NEXT:           %[[X0:.+]] = arith.constant 0 : index
// AVX2-NEXT:           %[[ACC:.+]] = vector.load %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X0]]] : memref<2x3x7x19xf32>, vector<8xf32>
// AVX2-NEXT:           %[[P00:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[Y]], %[[X0]]] : memref<2x3x9x21xf32>, vector<8xf32>
// AVX2:                %[[W00:.+]] = memref.load %[[W]][%[[CH]], %c0{{[_0-9]*}}, %c0{{[_0-9]*}}] : memref<3x3x3xf32>
// AVX2-NEXT:           %[[S00:.+]] = vector.broadcast %[[W00]] : f32 to vector<8xf32>
// AVX2-NEXT:           %[[F00:.+]] = vector.fma %[[P00]], %[[S00]], %[[ACC]] : vector<8xf32>
// AVX2:                %[[COL1:.+]] = arith.addi %[[X0]], %c1{{[_0-9]*}} : index
// AVX2-NEXT:           %[[P01:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[Y]], %[[COL1]]] : memref<2x3x9x21xf32>, vector<8xf32>
// AVX2:                %[[W01:.+]] = memref.load %[[W]][%[[CH]], %c0{{[_0-9]*}}, %c1{{[_0-9]*}}] : memref<3x3x3xf32>
// AVX2-NEXT:           %[[S01:.+]] = vector.broadcast %[[W01]] : f32 to vector<8xf32>
// AVX2-NEXT:           %[[F01:.+]] = vector.fma %[[P01]], %[[S01]], %[[F00]] : vector<8xf32>
// AVX2:                %[[COL2:.+]] = arith.addi %[[X0]], %c2{{[_0-9]*}} : index
// AVX2-NEXT:           vector.load %[[X]][%[[N]], %[[CH]], %[[Y]], %[[COL2]]]
// AVX2:                %[[ROW1:.+]] = arith.addi %[[Y]], %c1{{[_0-9]*}} : index
// AVX2-NEXT:           vector.load %[[X]][%[[N]], %[[CH]], %[[ROW1]], %[[X0]]]
// AVX2:                memref.load %[[W]][%[[CH]], %c1{{[_0-9]*}}, %c0{{[_0-9]*}}]
// AVX2-COUNT-3:        vector.fma
// AVX2:                %[[ROW2:.+]] = arith.addi %[[Y]], %c2{{[_0-9]*}} : index
// AVX2:                %[[COL22:.+]] = arith.addi %[[X0]], %c2{{[_0-9]*}} : index
// AVX2-NEXT:           %[[P22:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[ROW2]], %[[COL22]]] : memref<2x3x9x21xf32>, vector<8xf32>
// AVX2:                %[[W22:.+]] = memref.load %[[W]][%[[CH]], %c2{{[_0-9]*}}, %c2{{[_0-9]*}}] : memref<3x3x3xf32>
// AVX2-NEXT:           %[[S22:.+]] = vector.broadcast %[[W22]] : f32 to vector<8xf32>
// AVX2-NEXT:           %[[F22:.+]] = vector.fma %[[P22]], %[[S22]], %{{.+}} : vector<8xf32>
// AVX2-NEXT:           vector.store %[[F22]], %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X0]]] : memref<2x3x7x19xf32>, vector<8xf32>
// The strip's second register: pixels 8..15.
// AVX2-NEXT:           %[[C8:.+]] = arith.constant 8 : index
// AVX2-NEXT:           %[[X8:.+]] = arith.addi %[[X0]], %[[C8]] : index
// AVX2-NEXT:           vector.load %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X8]]] : memref<2x3x7x19xf32>, vector<8xf32>
// AVX2-NEXT:           vector.load %[[X]][%[[N]], %[[CH]], %[[Y]], %[[X8]]] : memref<2x3x9x21xf32>, vector<8xf32>
// AVX2-COUNT-9:        vector.fma {{.+}} : vector<8xf32>
// AVX2-NEXT:           vector.store %{{.+}}, %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X8]]] : memref<2x3x7x19xf32>, vector<8xf32>
// The remainder: pixels 16..18.
// AVX2-NEXT:           %[[X16:.+]] = arith.constant 16 : index
// AVX2-NEXT:           vector.load %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X16]]] : memref<2x3x7x19xf32>, vector<3xf32>
// AVX2-NEXT:           vector.load %[[X]][%[[N]], %[[CH]], %[[Y]], %[[X16]]] : memref<2x3x9x21xf32>, vector<3xf32>
// AVX2-COUNT-9:        vector.fma {{.+}} : vector<3xf32>
// AVX2-NEXT:           vector.store %{{.+}}, %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X16]]] : memref<2x3x7x19xf32>, vector<3xf32>
// AVX2-NEXT:         scf.reduce
// AVX2-NEXT:       } {quarc.kernel}
// AVX2-NEXT:     return

// With SSE, strips of 8 = two vector<4xf32>, in a loop over 16 columns, then 3;
// a multiply and an add instead of an FMA.
// SSE-NOT:         vector.fma
// SSE:             scf.for %[[X0:[a-z0-9_]+]] = %{{[^ ]+}} to %c16 step %c8 {
// SSE-NEXT:          %[[ACC:.+]] = vector.load %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X0]]] : memref<2x3x7x19xf32>, vector<4xf32>
// SSE-NEXT:          %[[P00:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[Y]], %[[X0]]] : memref<2x3x9x21xf32>, vector<4xf32>
// SSE:               %[[S00:.+]] = vector.broadcast %{{.+}} : f32 to vector<4xf32>
// SSE-NEXT:          %[[PROD:.+]] = arith.mulf %[[P00]], %[[S00]] : vector<4xf32>
// SSE-NEXT:          %{{.+}} = arith.addf %[[ACC]], %[[PROD]] : vector<4xf32>
// SSE-COUNT-8:       arith.addf {{.+}} : vector<4xf32>
// SSE-NEXT:          vector.store {{.+}} : memref<2x3x7x19xf32>, vector<4xf32>
// SSE-NEXT:          %[[C4:.+]] = arith.constant 4 : index
// SSE-NEXT:          %[[X4:.+]] = arith.addi %[[X0]], %[[C4]] : index
// SSE-COUNT-9:       arith.addf {{.+}} : vector<4xf32>
// SSE-NEXT:          vector.store %{{.+}}, %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X4]]] : memref<2x3x7x19xf32>, vector<4xf32>
// SSE-NEXT:        }
// SSE-NEXT:        %[[X16:.+]] = arith.constant 16 : index
// SSE-NEXT:        vector.load %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X16]]] : memref<2x3x7x19xf32>, vector<3xf32>
// SSE-COUNT-9:     arith.addf {{.+}} : vector<3xf32>
// SSE-NEXT:        vector.store {{.+}} : memref<2x3x7x19xf32>, vector<3xf32>
// SSE-NEXT:        scf.reduce

// AVX-512: one strip of 19 columns (narrower than 32): a vector<16xf32> and a vector<3xf32>.
// AVX512-NOT:      scf.for
// AVX512-COUNT-9:  vector.fma {{.+}} : vector<16xf32>
// AVX512-NEXT:     vector.store {{.+}} : memref<2x3x7x19xf32>, vector<16xf32>
// AVX512-COUNT-9:  vector.fma {{.+}} : vector<3xf32>
// AVX512-NEXT:     vector.store {{.+}} : memref<2x3x7x19xf32>, vector<3xf32>
// AVX512-NEXT:     scf.reduce

// With NEON, as with SSE but with FMAs.
// NEON-NOT:        arith.mulf
// NEON:            scf.for %{{[a-z0-9_]+}} = %{{[^ ]+}} to %c16 step %c8 {
// NEON-COUNT-9:      vector.fma {{.+}} : vector<4xf32>
// NEON-NEXT:         vector.store {{.+}} : memref<2x3x7x19xf32>, vector<4xf32>
// NEON-COUNT-9:      vector.fma {{.+}} : vector<4xf32>
// NEON-NEXT:         vector.store {{.+}} : memref<2x3x7x19xf32>, vector<4xf32>
// NEON-NEXT:       }
// NEON-COUNT-9:    vector.fma {{.+}} : vector<3xf32>
// NEON-NEXT:       vector.store {{.+}} : memref<2x3x7x19xf32>, vector<3xf32>
// NEON-NEXT:       scf.reduce
// CHECK-NOT:     linalg.depthwise_conv_2d_nchw_chw
func.func @depthwise_3x3(%x: memref<2x3x9x21xf32>, %w: memref<3x3x3xf32>, %o: memref<2x3x7x19xf32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<2x3x9x21xf32>, memref<3x3x3xf32>) outs(%o : memref<2x3x7x19xf32>)
  return
}

// -----

// 33 columns with AVX2 are a loop over two strips of 16, then one column.
// CHECK-LABEL: func @depthwise_33_columns(
// AVX2:          scf.for %[[X0:[a-z0-9_]+]] = %{{[^ ]+}} to %c32 step %c16 {
// AVX2-COUNT-2:    vector.store {{.+}} : memref<1x2x3x33xf32>, vector<8xf32>
// AVX2-NEXT:     }
// AVX2:          vector.load {{.+}} : memref<1x2x3x33xf32>, vector<1xf32>
// AVX2-COUNT-9:  vector.fma {{.+}} : vector<1xf32>
// AVX2-NEXT:     vector.store {{.+}} : memref<1x2x3x33xf32>, vector<1xf32>
// AVX512-NOT:    scf.for %{{[^ ]+}} = %{{[^ ]+}} to %c32 step
// AVX512-COUNT-2: vector.store {{.+}} : memref<1x2x3x33xf32>, vector<16xf32>
// AVX512-NEXT:   %{{.+}} = arith.constant 32 : index
// AVX512:        vector.store {{.+}} : memref<1x2x3x33xf32>, vector<1xf32>
// CHECK:         return
func.func @depthwise_33_columns(%x: memref<1x2x5x35xf32>, %w: memref<2x3x3xf32>, %o: memref<1x2x3x33xf32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x2x5x35xf32>, memref<2x3x3xf32>) outs(%o : memref<1x2x3x33xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Stride 2: two loads and a shuffle that keeps the even elements
//===----------------------------------------------------------------------===//

// Output pixel x reads input column 2 * x + j. For a piece of 8 pixels the
// loads start at 2 * x0 + j and 2 * x0 + j + 7 (the last element needed is
// 2 * x0 + j + 14): lanes 0, 2, 4, 6 of the first and 1, 3, 5, 7 of the second.
// CHECK-LABEL: func @depthwise_stride_2(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x2x9x39xf32>, %[[W:[^:]+]]: memref<2x3x3xf32>, %[[O:[^:]+]]: memref<1x2x4x19xf32>)
// CHECK:         scf.parallel (%[[N:[a-z0-9_]+]], %[[CH:[a-z0-9_]+]], %[[Y:[a-z0-9_]+]]) =
// AVX2-NEXT:           %[[X0:.+]] = arith.constant 0 : index
// AVX2-NEXT:           %[[ACC:.+]] = vector.load %[[O]][%[[N]], %[[CH]], %[[Y]], %[[X0]]] : memref<1x2x4x19xf32>, vector<8xf32>
// AVX2:                %[[ROW:.+]] = arith.muli %[[Y]], %c2{{[_0-9]*}} : index
// AVX2:                %[[COL:.+]] = arith.muli %[[X0]], %c2{{[_0-9]*}} : index
// AVX2-NEXT:           %[[LO:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[ROW]], %[[COL]]] : memref<1x2x9x39xf32>, vector<8xf32>
// AVX2:                %[[COL7:.+]] = arith.addi %[[COL]], %c7{{[_0-9]*}} : index
// AVX2-NEXT:           %[[HI:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[ROW]], %[[COL7]]] : memref<1x2x9x39xf32>, vector<8xf32>
// AVX2-NEXT:           %[[PIX:.+]] = vector.shuffle %[[LO]], %[[HI]] [0, 2, 4, 6, 9, 11, 13, 15] : vector<8xf32>, vector<8xf32>
// AVX2:                %[[WT:.+]] = memref.load %[[W]][%[[CH]], %c0{{[_0-9]*}}, %c0{{[_0-9]*}}]
// AVX2-NEXT:           %[[S:.+]] = vector.broadcast %[[WT]] : f32 to vector<8xf32>
// AVX2-NEXT:           vector.fma %[[PIX]], %[[S]], %[[ACC]] : vector<8xf32>
// Tap (0, 1): the same two loads one column further.
// AVX2:                %[[COL1:.+]] = arith.addi %[[COL]], %c1{{[_0-9]*}} : index
// AVX2-NEXT:           %[[LO1:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[ROW]], %[[COL1]]]
// AVX2:                %[[COL17:.+]] = arith.addi %[[COL1]], %c7{{[_0-9]*}} : index
// AVX2-NEXT:           %[[HI1:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %[[ROW]], %[[COL17]]]
// AVX2-NEXT:           vector.shuffle %[[LO1]], %[[HI1]] [0, 2, 4, 6, 9, 11, 13, 15] : vector<8xf32>, vector<8xf32>
// AVX2-COUNT-7:        vector.shuffle {{.+}} [0, 2, 4, 6, 9, 11, 13, 15] : vector<8xf32>, vector<8xf32>
// AVX2-NOT:            vector.shuffle
// AVX2:                vector.store
// The second piece starts at input column 2 * (x0 + 8).
// AVX2-NEXT:           %[[C8:.+]] = arith.constant 8 : index
// AVX2-NEXT:           %[[X8:.+]] = arith.addi %[[X0]], %[[C8]] : index
// AVX2:                arith.muli %[[X8]], %c2{{[_0-9]*}} : index
// AVX2-COUNT-9:        vector.shuffle {{.+}} [0, 2, 4, 6, 9, 11, 13, 15] : vector<8xf32>, vector<8xf32>
// AVX2-NOT:            vector.shuffle
// AVX2:                vector.store
// The remainder of 3 pixels: loads at 2 * 16 + j and 2 * 16 + j + 2.
// AVX2-NEXT:           %[[X16:.+]] = arith.constant 16 : index
// AVX2:                %[[RCOL:.+]] = arith.muli %[[X16]], %c2{{[_0-9]*}} : index
// AVX2-NEXT:           %[[RLO:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %{{.+}}, %[[RCOL]]] : memref<1x2x9x39xf32>, vector<3xf32>
// AVX2:                %[[RCOL2:.+]] = arith.addi %[[RCOL]], %c2{{[_0-9]*}} : index
// AVX2-NEXT:           %[[RHI:.+]] = vector.load %[[X]][%[[N]], %[[CH]], %{{.+}}, %[[RCOL2]]] : memref<1x2x9x39xf32>, vector<3xf32>
// AVX2-NEXT:           vector.shuffle %[[RLO]], %[[RHI]] [0, 2, 5] : vector<3xf32>, vector<3xf32>
// AVX2-COUNT-8:        vector.shuffle {{.+}} [0, 2, 5] : vector<3xf32>, vector<3xf32>
// AVX2-NOT:            vector.shuffle
// AVX2:                vector.store {{.+}} : memref<1x2x4x19xf32>, vector<3xf32>
// SSE:                 scf.for %{{[a-z0-9_]+}} = %{{[^ ]+}} to %c16 step %c8 {
// SSE-COUNT-18:          vector.shuffle {{.+}} [0, 2, 5, 7] : vector<4xf32>, vector<4xf32>
// SSE-NOT:             vector.shuffle {{.+}} [0, 2, 5, 7]
// SSE-COUNT-9:         vector.shuffle {{.+}} [0, 2, 5] : vector<3xf32>, vector<3xf32>
// NEON-COUNT-18:       vector.shuffle {{.+}} [0, 2, 5, 7] : vector<4xf32>, vector<4xf32>
// NEON-NOT:            vector.shuffle {{.+}} [0, 2, 5, 7]
// NEON-COUNT-9:        vector.shuffle {{.+}} [0, 2, 5] : vector<3xf32>, vector<3xf32>
// AVX512-COUNT-9:      vector.shuffle {{.+}} [0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31] : vector<16xf32>, vector<16xf32>
// AVX512-COUNT-9:      vector.shuffle {{.+}} [0, 2, 5] : vector<3xf32>, vector<3xf32>
// CHECK:         return
func.func @depthwise_stride_2(%x: memref<1x2x9x39xf32>, %w: memref<2x3x3xf32>, %o: memref<1x2x4x19xf32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<1x2x9x39xf32>, memref<2x3x3xf32>) outs(%o : memref<1x2x4x19xf32>)
  return
}

// -----

// Stride 3: one load spanning the piece and a shuffle picking every third.
// CHECK-LABEL: func @depthwise_stride_3(
// AVX2:          %[[COL:.+]] = arith.muli %c0{{[_0-9]*}}, %c3{{[_0-9]*}} : index
// AVX2-NEXT:     %[[STRIP:.+]] = vector.load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %[[COL]]] : memref<1x1x7x24xf32>, vector<22xf32>
// AVX2-NEXT:     vector.shuffle %[[STRIP]], %[[STRIP]] [0, 3, 6, 9, 12, 15, 18, 21] : vector<22xf32>, vector<22xf32>
// AVX2-COUNT-2:  vector.shuffle {{.+}} [0, 3, 6, 9, 12, 15, 18, 21] : vector<22xf32>, vector<22xf32>
// AVX2-NOT:      vector.shuffle
// AVX2:          vector.store {{.+}} : memref<1x1x3x8xf32>, vector<8xf32>
// CHECK:         return
func.func @depthwise_stride_3(%x: memref<1x1x7x24xf32>, %w: memref<1x1x3xf32>, %o: memref<1x1x3x8xf32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<3> : tensor<2xi64>}
    ins(%x, %w : memref<1x1x7x24xf32>, memref<1x1x3xf32>) outs(%o : memref<1x1x3x8xf32>)
  return
}

// -----

// Dilations [2, 3]: tap (i, j) reads row y + 2 * i and column x0 + 3 * j.
// CHECK-LABEL: func @depthwise_dilated(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x1x9x14xf32>
// CHECK:         scf.parallel (%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %[[Y:[a-z0-9_]+]]) =
// AVX2:            %[[X0:.+]] = arith.constant 0 : index
// AVX2:            vector.load %[[X]][%{{.+}}, %{{.+}}, %[[Y]], %[[X0]]] : memref<1x1x9x14xf32>, vector<8xf32>
// AVX2:            %[[C3:.+]] = arith.addi %[[X0]], %c3{{[_0-9]*}} : index
// AVX2-NEXT:       vector.load %[[X]][%{{.+}}, %{{.+}}, %[[Y]], %[[C3]]] : memref<1x1x9x14xf32>, vector<8xf32>
// AVX2:            %[[C6:.+]] = arith.addi %[[X0]], %c6{{[_0-9]*}} : index
// AVX2-NEXT:       vector.load %[[X]][%{{.+}}, %{{.+}}, %[[Y]], %[[C6]]] : memref<1x1x9x14xf32>, vector<8xf32>
// AVX2:            %[[R2:.+]] = arith.addi %[[Y]], %c2{{[_0-9]*}} : index
// AVX2-NEXT:       vector.load %[[X]][%{{.+}}, %{{.+}}, %[[R2]], %[[X0]]] : memref<1x1x9x14xf32>, vector<8xf32>
// AVX2:            %[[R4:.+]] = arith.addi %[[Y]], %c4{{[_0-9]*}} : index
// AVX2-NEXT:       vector.load %[[X]][%{{.+}}, %{{.+}}, %[[R4]], %[[X0]]] : memref<1x1x9x14xf32>, vector<8xf32>
// AVX2:            vector.store {{.+}} : memref<1x1x5x8xf32>, vector<8xf32>
// CHECK:         return
func.func @depthwise_dilated(%x: memref<1x1x9x14xf32>, %w: memref<1x3x3xf32>, %o: memref<1x1x5x8xf32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<[2, 3]> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x1x9x14xf32>, memref<1x3x3xf32>) outs(%o : memref<1x1x5x8xf32>)
  return
}

// -----

// A dynamic batch: the parallel loop runs to the output's first dim.
// CHECK-LABEL: func @dynamic_batch(
// CHECK-SAME:      %[[X:[^:]+]]: memref<?x2x9x21xf32>, %{{[^:]+}}: memref<2x3x3xf32>, %[[O:[^:]+]]: memref<?x2x7x19xf32>)
// CHECK:         %[[N:.+]] = memref.dim %[[O]], %c0 : memref<?x2x7x19xf32>
// CHECK:         scf.parallel (%{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}) = (%{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}) to (%[[N]], %c2{{[_0-9]*}}, %c7{{[_0-9]*}})
// CHECK-NOT:     linalg.depthwise_conv_2d_nchw_chw
// AVX2:          vector.load %[[X]]{{.+}} : memref<?x2x9x21xf32>, vector<8xf32>
// CHECK:         return
func.func @dynamic_batch(%x: memref<?x2x9x21xf32>, %w: memref<2x3x3xf32>, %o: memref<?x2x7x19xf32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<?x2x9x21xf32>, memref<2x3x3xf32>) outs(%o : memref<?x2x7x19xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Left alone
//===----------------------------------------------------------------------===//

// A dynamic height: the strips need static rows.
// CHECK-LABEL: func @dynamic_height_left_alone(
// CHECK-NOT:     vector.
// CHECK:         linalg.depthwise_conv_2d_nchw_chw
// CHECK-NOT:     vector.
// CHECK:         return
func.func @dynamic_height_left_alone(%x: memref<1x2x?x21xf32>, %w: memref<2x3x3xf32>, %o: memref<1x2x?x19xf32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x2x?x21xf32>, memref<2x3x3xf32>) outs(%o : memref<1x2x?x19xf32>)
  return
}

// -----

// CHECK-LABEL: func @i32_left_alone(
// CHECK-NOT:     vector.
// CHECK:         linalg.depthwise_conv_2d_nchw_chw
// CHECK-NOT:     vector.
// CHECK:         return
func.func @i32_left_alone(%x: memref<1x2x9x21xi32>, %w: memref<2x3x3xi32>, %o: memref<1x2x7x19xi32>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x2x9x21xi32>, memref<2x3x3xi32>) outs(%o : memref<1x2x7x19xi32>)
  return
}

// -----

// The output is a strided view along W.
// CHECK-LABEL: func @strided_output_left_alone(
// CHECK-NOT:     vector.
// CHECK:         linalg.depthwise_conv_2d_nchw_chw
// CHECK-NOT:     vector.
// CHECK:         return
func.func @strided_output_left_alone(%x: memref<1x2x9x21xf32>, %w: memref<2x3x3xf32>, %o: memref<1x2x7x19xf32, strided<[532, 266, 38, 2]>>) {
  linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x2x9x21xf32>, memref<2x3x3xf32>) outs(%o : memref<1x2x7x19xf32, strided<[532, 266, 38, 2]>>)
  return
}

// -----

// Tensors (the pass runs after bufferization).
// CHECK-LABEL: func @tensor_left_alone(
// CHECK-NOT:     vector.
// CHECK:         linalg.depthwise_conv_2d_nchw_chw
// CHECK-NOT:     vector.
// CHECK:         return
func.func @tensor_left_alone(%x: tensor<1x2x9x21xf32>, %w: tensor<2x3x3xf32>, %o: tensor<1x2x7x19xf32>) -> tensor<1x2x7x19xf32> {
  %r = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x2x9x21xf32>, tensor<2x3x3xf32>) outs(%o : tensor<1x2x7x19xf32>) -> tensor<1x2x7x19xf32>
  return %r : tensor<1x2x7x19xf32>
}

// -----

// The integer form of quarc-pack-integer-weights (u8 input, s8 filter, i32
// accumulators), stride 2 along the rows. x86 with AVX2 (or AVX-512) takes
// two taps per step where the filter is stored as i16 in rows of whole
// pairs of taps (here the leading [3, 2, 3] slice of a [3, 2, 4] constant
// with zeros past the third tap): each 128-bit lane of a register (four
// pixels) is loaded with the 9 bytes its pixels read (3 x 2 + 2 + 1; the
// lane's other bytes are never picked: poison), and for taps (0, 1), then
// (2, none), one byte shuffle gives each pixel's i32 lane its two input
// bytes as zero-extended words (32: a zero byte of the second operand),
// multiplied in vpmaddwd by the pair of weights, one i32 word of the
// filter broadcast. Elsewhere, each tap's strip of u8 pixels is widened to
// i32 and multiplied by the widened weight.

memref.global "private" constant @pairs : memref<3x2x4xi16> = dense<[[[1, -2, 3, 0], [4, 5, -6, 0]], [[7, 8, 9, 0], [10, 11, 12, 0]], [[-1, -1, -1, 0], [2, 2, 2, 0]]]>
#in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 * 2 + d5)>
#filter = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d4, d5)>
#out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @integer_stride2(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x3x4x41xi8>, %[[Y:[^:]+]]: memref<1x3x3x20xi32>)
// CHECK:       %[[G:.*]] = memref.get_global @pairs : memref<3x2x4xi16>
// CHECK:       %[[W:.*]] = memref.subview %[[G]]
// CHECK-NOT:   linalg.generic
// CHECK:       scf.parallel
// AVX2:          %[[ACC:.*]] = vector.load %[[Y]]{{.*}} : memref<1x3x3x20xi32>, vector<8xi32>
// AVX2:          %[[ZERO:.*]] = arith.constant dense<0> : vector<32xi8>
// AVX2:          %[[UNLOADED:.*]] = ub.poison : vector<32xi8>
// AVX2:          %[[LOW:.*]] = vector.load %[[X]]{{.*}} : memref<1x3x4x41xi8>, vector<9xi8>
// AVX2:          %[[STRIP0:.*]] = vector.insert_strided_slice %[[LOW]], %[[UNLOADED]] {offsets = [0], strides = [1]} : vector<9xi8> into vector<32xi8>
// AVX2:          %[[HIGH:.*]] = vector.load %[[X]]{{.*}} : memref<1x3x4x41xi8>, vector<9xi8>
// AVX2:          %[[STRIP:.*]] = vector.insert_strided_slice %[[HIGH]], %[[STRIP0]] {offsets = [16], strides = [1]} : vector<9xi8> into vector<32xi8>
// AVX2:          %[[W01:.*]] = vector.load %[[G]][%{{.*}}, %c0{{.*}}, %c0{{.*}}] : memref<3x2x4xi16>, vector<2xi16>
// AVX2:          %[[WORD:.*]] = vector.bitcast %[[W01]] : vector<2xi16> to vector<1xi32>
// AVX2:          %[[PAIR:.*]] = vector.extract %[[WORD]][0] : i32 from vector<1xi32>
// AVX2:          %[[SPLAT:.*]] = vector.broadcast %[[PAIR]] : i32 to vector<8xi32>
// AVX2:          %[[WORDS:.*]] = vector.bitcast %[[SPLAT]] : vector<8xi32> to vector<16xi16>
// AVX2:          %[[P:.*]] = vector.shuffle %[[STRIP]], %[[ZERO]] [0, 32, 1, 32, 2, 32, 3, 32, 4, 32, 5, 32, 6, 32, 7, 32, 16, 32, 17, 32, 18, 32, 19, 32, 20, 32, 21, 32, 22, 32, 23, 32] : vector<32xi8>, vector<32xi8>
// AVX2:          %[[PW:.*]] = vector.bitcast %[[P]] : vector<32xi8> to vector<16xi16>
// AVX2:          %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PW]], %[[WORDS]])
// AVX2:          arith.addi %[[ACC]], %[[D]] : vector<8xi32>
// Tap 2 with the zero past the row: no byte for that tap.
// AVX2:          vector.load %[[G]][%{{.*}}, %c0{{.*}}, %c2{{.*}}] : memref<3x2x4xi16>, vector<2xi16>
// AVX2:          vector.shuffle %[[STRIP]], %[[ZERO]] [2, 32, 32, 32, 4, 32, 32, 32, 6, 32, 32, 32, 8, 32, 32, 32, 18, 32, 32, 32, 20, 32, 32, 32, 22, 32, 32, 32, 24, 32, 32, 32] : vector<32xi8>, vector<32xi8>
// The last 4 pixels: one lane loaded, the other reads zeros.
// AVX2:          vector.load %[[Y]]{{.*}} : memref<1x3x3x20xi32>, vector<4xi32>
// AVX2:          vector.shuffle %{{.*}}, %{{.*}} [0, 32, 1, 32, 2, 32, 3, 32, 4, 32, 5, 32, 6, 32, 7, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32] : vector<32xi8>, vector<32xi8>
// SSE:           %[[ACC:.*]] = vector.load %[[Y]]{{.*}} : memref<1x3x3x20xi32>, vector<4xi32>
// SSE:           %[[P:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 2, 5, 7] : vector<4xi8>, vector<4xi8>
// SSE:           %[[W0:.*]] = memref.load %[[W]][%{{.*}}, %c0{{.*}}, %c0{{.*}}] : memref<3x2x3xi16, strided<[8, 4, 1]>>
// SSE:           %[[PW:.*]] = arith.extui %[[P]] : vector<4xi8> to vector<4xi32>
// SSE:           %[[WW:.*]] = arith.extsi %[[W0]] : i16 to i32
// SSE:           %[[S:.*]] = vector.broadcast %[[WW]] : i32 to vector<4xi32>
// SSE:           %[[M:.*]] = arith.muli %[[PW]], %[[S]] : vector<4xi32>
// SSE:           arith.addi %[[ACC]], %[[M]] : vector<4xi32>
func.func @integer_stride2(%x: memref<1x3x4x41xi8>, %y: memref<1x3x3x20xi32>) {
  %g = memref.get_global @pairs : memref<3x2x4xi16>
  %w = memref.subview %g[0, 0, 0] [3, 2, 3] [1, 1, 1] : memref<3x2x4xi16> to memref<3x2x3xi16, strided<[8, 4, 1]>>
  linalg.generic {indexing_maps = [#in, #filter, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : memref<1x3x4x41xi8>, memref<3x2x3xi16, strided<[8, 4, 1]>>) outs(%y : memref<1x3x3x20xi32>) {
  ^bb0(%a: i8, %b: i16, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i16 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// Stride 1 with AVX2, where the pair kernel's registers of 8 pixels read
// 10 bytes each (7 + 2 + 1) and the strip of 16 pixels 18: each register's
// bytes are one 16-byte load into both lanes (vbroadcasti128) placed
// within the strip's bytes: the first at its own first byte, the second 6
// bytes before its own (its 10 bytes end at the strip's last), so that no
// load reads past the strip. Each lane's shuffle picks its own four pixels
// (lane 1 from byte 16 + 4, or 16 + 6 + 4). The row's last 4 pixels read
// 6 bytes, too few for a window: one lane loaded with exactly those.

memref.global "private" constant @pairs3 : memref<1x3x4xi16> = dense<[[[1, -2, 3, 0], [4, 5, -6, 0], [7, 8, 9, 0]]]>
#in1 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>
#filter1 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d4, d5)>
#out1 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @integer_stride1_windows(
// AVX2:          %[[X1:.*]] = arith.addi %[[X0:.*]], %c8 : index
// AVX2:          %[[W0:.*]] = vector.load %[[X:.*]][%{{.*}}, %{{.*}}, %{{.*}}, %[[X0]]] : memref<1x1x3x22xi8>, vector<16xi8>
// AVX2:          %[[S0:.*]] = vector.shuffle %[[W0]], %[[W0]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<16xi8>, vector<16xi8>
// AVX2:          %[[AT1:.*]] = arith.addi %[[X1]], %c-6 : index
// AVX2:          %[[W1:.*]] = vector.load %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %[[AT1]]] : memref<1x1x3x22xi8>, vector<16xi8>
// AVX2:          %[[S1:.*]] = vector.shuffle %[[W1]], %[[W1]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<16xi8>, vector<16xi8>
// AVX2:          vector.shuffle %[[S0]], %{{.*}} [0, 32, 1, 32, 1, 32, 2, 32, 2, 32, 3, 32, 3, 32, 4, 32, 20, 32, 21, 32, 21, 32, 22, 32, 22, 32, 23, 32, 23, 32, 24, 32] : vector<32xi8>, vector<32xi8>
// AVX2:          llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// AVX2:          vector.shuffle %[[S1]], %{{.*}} [6, 32, 7, 32, 7, 32, 8, 32, 8, 32, 9, 32, 9, 32, 10, 32, 26, 32, 27, 32, 27, 32, 28, 32, 28, 32, 29, 32, 29, 32, 30, 32] : vector<32xi8>, vector<32xi8>
// AVX2:          llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// AVX2:          vector.shuffle %[[S0]], %{{.*}} [2, 32, 32, 32, 3, 32, 32, 32, 4, 32, 32, 32, 5, 32, 32, 32, 22, 32, 32, 32, 23, 32, 32, 32, 24, 32, 32, 32, 25, 32, 32, 32] : vector<32xi8>, vector<32xi8>
// AVX2:          vector.load %[[X]]{{.*}} : memref<1x1x3x22xi8>, vector<6xi8>
// AVX2-NOT:      vector<16xi8>
// AVX2:          return
func.func @integer_stride1_windows(%x: memref<1x1x3x22xi8>, %y: memref<1x1x1x20xi32>) {
  %g = memref.get_global @pairs3 : memref<1x3x4xi16>
  %w = memref.subview %g[0, 0, 0] [1, 3, 3] [1, 1, 1] : memref<1x3x4xi16> to memref<1x3x3xi16, strided<[12, 4, 1]>>
  linalg.generic {indexing_maps = [#in1, #filter1, #out1], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : memref<1x1x3x22xi8>, memref<1x3x3xi16, strided<[12, 4, 1]>>) outs(%y : memref<1x1x1x20xi32>) {
  ^bb0(%a: i8, %b: i16, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i16 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// With AVX-512 VNNI and VBMI, an integer filter whose rows are stored as
// whole quads of taps (here the leading [2, 2, 5] slice of a [2, 2, 8]
// constant with zeros past the fifth tap) takes four taps per step: per
// filter row, one masked load of the 20 bytes the 16 pixels read, then per
// quad a shuffle giving pixel p the bytes of its taps (p, p + 1, p + 2,
// p + 3; then p + 4 and three bytes whose weights are zero) and one
// vpdpbusd with the quad's four weights broadcast as an i32.

memref.global "private" constant @padded : memref<2x2x8xi8> = dense<[[[1, 2, 3, 4, 5, 0, 0, 0], [6, 7, 8, 9, 10, 0, 0, 0]], [[11, 12, 13, 14, 15, 0, 0, 0], [16, 17, 18, 19, 20, 0, 0, 0]]]>
#qin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>
#qfilter = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d4, d5)>
#qout = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// QUADS-LABEL: func @integer_quads(
// QUADS-SAME:      %[[X:[^:]+]]: memref<1x2x6x20xi8>, %[[Y:[^:]+]]: memref<1x2x5x16xi32>)
// QUADS:         %[[G:.*]] = memref.get_global @padded : memref<2x2x8xi8>
// QUADS:         scf.parallel
// QUADS:           %[[ACC:.*]] = vector.load %[[Y]]{{.*}} : memref<1x2x5x16xi32>, vector<16xi32>
// QUADS:           %[[STRIP:.*]] = vector.maskedload %[[X]]{{.*}} : memref<1x2x6x20xi8>, vector<32xi1>, vector<32xi8> into vector<32xi8>
// QUADS:           %[[Q0:.*]] = vector.load %[[G]][%{{.*}}, %c0{{.*}}, %c0{{.*}}] : memref<2x2x8xi8>, vector<4xi8>
// QUADS:           %[[P0:.*]] = vector.shuffle %[[STRIP]], %[[STRIP]] [0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, {{.*}}, 15, 16, 17, 18] : vector<32xi8>, vector<32xi8>
// QUADS:           %[[A0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[ACC]], %{{.*}}, %{{.*}})
// QUADS:           vector.load %[[G]][%{{.*}}, %c0{{.*}}, %c4{{.*}}] : memref<2x2x8xi8>, vector<4xi8>
// QUADS:           vector.shuffle %[[STRIP]], %[[STRIP]] [4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, {{.*}}, 19, 0, 0, 0] : vector<32xi8>, vector<32xi8>
// QUADS:           %[[A1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[A0]], %{{.*}}, %{{.*}})
// QUADS:           vector.maskedload %[[X]]
// QUADS-COUNT-2:   llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// QUADS:           vector.store %{{.*}}, %[[Y]]{{.*}} : memref<1x2x5x16xi32>, vector<16xi32>
// QUADS-NOT:     linalg.generic
func.func @integer_quads(%x: memref<1x2x6x20xi8>, %y: memref<1x2x5x16xi32>) {
  %g = memref.get_global @padded : memref<2x2x8xi8>
  %w = memref.subview %g[0, 0, 0] [2, 2, 5] [1, 1, 1] : memref<2x2x8xi8> to memref<2x2x5xi8, strided<[16, 8, 1]>>
  linalg.generic {indexing_maps = [#qin, #qfilter, #qout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : memref<1x2x6x20xi8>, memref<2x2x5xi8, strided<[16, 8, 1]>>) outs(%y : memref<1x2x5x16xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// The tap-pair kernel needs the filter's pairs as i16 words with zeros past
// the row: an i16 filter sliced from a constant with a nonzero tap past its
// row, and an s8 filter, take the kernel that widens each tap (no
// vpmaddwd).

memref.global "private" constant @not_padded : memref<1x1x4xi16> = dense<[[[1, 2, 3, 4]]]>
#uin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>
#ufilter = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d4, d5)>
#uout = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// AVX2-LABEL: func @integer_unpadded(
// AVX2-NOT:     pmadd.wd
// AVX2:         arith.extsi %{{.*}} : i16 to i32
// AVX2-NOT:     pmadd.wd
// AVX2:         arith.extsi %{{.*}} : i8 to i32
// AVX2-NOT:     pmadd.wd
// AVX2:         return
func.func @integer_unpadded(%x: memref<1x1x1x12xi8>, %w8: memref<1x1x3xi8>, %y: memref<1x1x1x10xi32>) {
  %g = memref.get_global @not_padded : memref<1x1x4xi16>
  %w = memref.subview %g[0, 0, 0] [1, 1, 3] [1, 1, 1] : memref<1x1x4xi16> to memref<1x1x3xi16, strided<[4, 4, 1]>>
  linalg.generic {indexing_maps = [#uin, #ufilter, #uout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : memref<1x1x1x12xi8>, memref<1x1x3xi16, strided<[4, 4, 1]>>) outs(%y : memref<1x1x1x10xi32>) {
  ^bb0(%a: i8, %b: i16, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i16 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [#uin, #ufilter, #uout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w8 : memref<1x1x1x12xi8>, memref<1x1x3xi8>) outs(%y : memref<1x1x1x10xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %0 = arith.extui %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A max pool as the integer lowering leaves it (u8 values compared unsigned,
// the window's shape operand never read): per tap one strided strip load and
// one vector max, 32 bytes per AVX2 register. ResNet-50's 3x3 stride-2 pool
// on a 112 x 112 map: the 56 pixels of a row are a register of 32 and one of
// 24, each loaded as two overlapping strips of which a shuffle keeps the even
// bytes.
#pin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#pwin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#pout = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// QUADS-LABEL: func @max_pool_u8(
// AVX2-LABEL: func @max_pool_u8(
// AVX2-SAME:      %[[X:[^:]+]]: memref<1x4x114x114xi8>, %{{[^:]+}}: memref<3x3xi8>, %[[Y:[^:]+]]: memref<1x4x56x56xi8>)
// AVX2:         scf.parallel
// AVX2:           %[[ACC:.*]] = vector.load %[[Y]][{{.*}}] : memref<1x4x56x56xi8>, vector<32xi8>
// AVX2:           %[[A:.*]] = vector.load %[[X]][{{.*}}] : memref<1x4x114x114xi8>, vector<32xi8>
// AVX2:           %[[B:.*]] = vector.load %[[X]][{{.*}}] : memref<1x4x114x114xi8>, vector<32xi8>
// AVX2:           %[[EVEN:.*]] = vector.shuffle %[[A]], %[[B]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63] : vector<32xi8>, vector<32xi8>
// AVX2:           arith.maxui %[[ACC]], %[[EVEN]] : vector<32xi8>
// AVX2-COUNT-8:   arith.maxui %{{.*}} : vector<32xi8>
// AVX2:           vector.store %{{.*}}, %[[Y]][{{.*}}] : memref<1x4x56x56xi8>, vector<32xi8>
// AVX2:           vector.load %[[Y]][{{.*}}] : memref<1x4x56x56xi8>, vector<24xi8>
// AVX2-COUNT-9:   arith.maxui %{{.*}} : vector<24xi8>
// AVX2-NOT:     linalg.generic
func.func @max_pool_u8(%x: memref<1x4x114x114xi8>, %w: memref<3x3xi8>, %y: memref<1x4x56x56xi8>) {
  linalg.generic {indexing_maps = [#pin, #pwin, #pout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : memref<1x4x114x114xi8>, memref<3x3xi8>) outs(%y : memref<1x4x56x56xi8>) {
  ^bb0(%in: i8, %unused: i8, %out: i8):
    %m = arith.maxui %out, %in : i8
    linalg.yield %m : i8
  }
  return
}

// -----

// The float max pool (linalg.pooling_nchw_max), 8 f32 per AVX2 register,
// compares as the named op does (arith.maximumf); a stride-1 window reads
// its strips as they are. A sum over the window (an average pool's) is no
// max or min: it stays a generic.
#sin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>
#swin = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#sout = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// AVX2-LABEL: func @max_pool_f32(
// AVX2-SAME:      %[[X:[^:]+]]: memref<?x2x10x10xf32>
// AVX2:         %[[ACC:.*]] = vector.load %{{.*}} : memref<?x2x8x8xf32>, vector<8xf32>
// AVX2:         %[[S:.*]] = vector.load %[[X]][{{.*}}] : memref<?x2x10x10xf32>, vector<8xf32>
// AVX2-NEXT:    arith.maximumf %[[ACC]], %[[S]] : vector<8xf32>
// AVX2-COUNT-8: arith.maximumf
// AVX2-NOT:     linalg.pooling_nchw_max
// AVX2:         linalg.generic
// AVX2:           arith.addi
func.func @max_pool_f32(%x: memref<?x2x10x10xf32>, %w: memref<3x3xf32>, %y: memref<?x2x8x8xf32>, %xi: memref<1x2x10x10xi8>, %wi: memref<3x3xi8>, %yi: memref<1x2x8x8xi8>) {
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : memref<?x2x10x10xf32>, memref<3x3xf32>) outs(%y : memref<?x2x8x8xf32>)
  linalg.generic {indexing_maps = [#sin, #swin, #sout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%xi, %wi : memref<1x2x10x10xi8>, memref<3x3xi8>) outs(%yi : memref<1x2x8x8xi8>) {
  ^bb0(%in: i8, %unused: i8, %out: i8):
    %s = arith.addi %out, %in : i8
    linalg.yield %s : i8
  }
  return
}
