// RUN: quarc-opt %s -split-input-file --quarc-vectorize-matmul=target=x86_64+avx2 | FileCheck %s

// The ops around a contraction, fused into its kernel: the bias copied into
// C before it gives the accumulators their initial values (one scalar per
// tile row), and the activation after it runs on the accumulators before
// they are stored. C itself is never stored, so its buffer goes.
// CHECK-LABEL: func @bias_convolution_relu(
// CHECK-SAME:      %[[X:[^:]+]]: memref<1x3x6x30xf32>, %[[W:[^:]+]]: memref<5x3x3x3xf32>, %[[BIAS:[^:]+]]: memref<5xf32>, %[[Y:[^:]+]]: memref<1x5x4x28xf32>)
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     linalg.generic
// CHECK:         scf.parallel
// CHECK:           %[[B0:.+]] = memref.load %[[BIAS]][%[[ROW:[a-z0-9_]+]]] : memref<5xf32>
// CHECK-NEXT:      %[[ACC:.+]] = vector.broadcast %[[B0]] : f32 to vector<8xf32>
// CHECK:           %[[SUM:.+]]:12 = scf.for {{.+}} iter_args(%{{[^ ]+}} = %[[ACC]],
// CHECK:           %[[RELU:.+]] = arith.maximumf %[[SUM]]#0, %{{.+}} : vector<8xf32>
// CHECK-NEXT:      vector.store %[[RELU]], %[[Y]][%{{.+}}, %[[ROW]], %{{.+}}, %{{.+}}] : memref<1x5x4x28xf32>, vector<8xf32>
// CHECK-NOT:       memref.dealloc
// CHECK:         return
func.func @bias_convolution_relu(%x: memref<1x3x6x30xf32>, %w: memref<5x3x3x3xf32>, %bias: memref<5xf32>, %y: memref<1x5x4x28xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<1x5x4x28xf32>
  linalg.generic {indexing_maps = [affine_map<(n, f, i, j) -> (f)>, affine_map<(n, f, i, j) -> (n, f, i, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%bias : memref<5xf32>) outs(%c : memref<1x5x4x28xf32>) {
  ^bb0(%b: f32, %o: f32):
    linalg.yield %b : f32
  }
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x6x30xf32>, memref<5x3x3x3xf32>) outs(%c : memref<1x5x4x28xf32>)
  linalg.generic {indexing_maps = [affine_map<(n, f, i, j) -> (0, f, i, j)>, affine_map<(n, f, i, j) -> (n, f, i, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : memref<1x5x4x28xf32>) outs(%y : memref<1x5x4x28xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.maximumf %v, %zero : f32
    linalg.yield %r : f32
  }
  memref.dealloc %c : memref<1x5x4x28xf32>
  return
}

// -----

// A pointwise convolution as the contraction quarc-convolution-to-matmul
// builds (C is a collapsed view). Its consumer reads the image-shaped
// buffer: a per-channel scale (one scalar per tile row), a residual of C's
// shape (read through the same collapse) and an output allocated after the
// contraction (moved before it). C is read again later, so it is stored.
#lhs = affine_map<(n, f, p, q) -> (f, q)>
#rhs = affine_map<(n, f, p, q) -> (n, q, p)>
#out = affine_map<(n, f, p, q) -> (n, f, p)>
// CHECK-LABEL: func @pointwise_epilogue(
// CHECK-SAME:      %[[W:[^:]+]]: memref<4x8xf32>, %[[X:[^:]+]]: memref<1x8x24xf32>, %[[SCALE:[^:]+]]: memref<1x4x1x1xf32>, %[[RES:[^:]+]]: memref<1x4x4x6xf32>, %[[C:[^:]+]]: memref<1x4x4x6xf32>)
// CHECK:         %[[FLAT_C:.+]] = memref.collapse_shape %[[C]]
// CHECK:         %[[Y:.+]] = memref.alloc() : memref<1x4x4x6xf32>
// CHECK-DAG:     %[[FLAT_RES:.+]] = memref.collapse_shape %[[RES]] {{\[}}[0], [1], [2, 3]] : memref<1x4x4x6xf32> into memref<1x4x24xf32>
// CHECK-DAG:     %[[FLAT_Y:.+]] = memref.collapse_shape %[[Y]] {{\[}}[0], [1], [2, 3]] : memref<1x4x4x6xf32> into memref<1x4x24xf32>
// CHECK:         scf.parallel
// CHECK:           %[[SUM:.+]]:12 = scf.for
// CHECK:           vector.store %[[SUM]]#0, %[[FLAT_C]]
// CHECK:           %[[S:.+]] = memref.load %[[SCALE]][%c0{{[_0-9]*}}, %{{.+}}, %c0{{[_0-9]*}}, %c0{{[_0-9]*}}] : memref<1x4x1x1xf32>
// CHECK-NEXT:      %[[R:.+]] = vector.load %[[FLAT_RES]][{{.+}}] : memref<1x4x24xf32>, vector<8xf32>
// CHECK-NEXT:      %[[SV:.+]] = vector.broadcast %[[S]] : f32 to vector<8xf32>
// CHECK-NEXT:      %[[M:.+]] = arith.mulf %[[SUM]]#0, %[[SV]] : vector<8xf32>
// CHECK-NEXT:      %[[A:.+]] = arith.addf %[[M]], %[[R]] : vector<8xf32>
// CHECK-NEXT:      vector.store %[[A]], %[[FLAT_Y]][{{.+}}] : memref<1x4x24xf32>, vector<8xf32>
// CHECK-NOT:     linalg.generic
// CHECK:         memref.copy %[[C]], %[[RES]]
func.func @pointwise_epilogue(%w: memref<4x8xf32>, %x: memref<1x8x24xf32>, %scale: memref<1x4x1x1xf32>, %res: memref<1x4x4x6xf32>, %c: memref<1x4x4x6xf32>) {
  %flat = memref.collapse_shape %c [[0], [1], [2, 3]] : memref<1x4x4x6xf32> into memref<1x4x24xf32>
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %x : memref<4x8xf32>, memref<1x8x24xf32>) outs(%flat : memref<1x4x24xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  %y = memref.alloc() : memref<1x4x4x6xf32>
  linalg.generic {indexing_maps = [affine_map<(n, f, i, j) -> (0, f, i, j)>, affine_map<(n, f, i, j) -> (0, f, 0, 0)>,
                                   affine_map<(n, f, i, j) -> (n, f, i, j)>, affine_map<(n, f, i, j) -> (n, f, i, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %scale, %res : memref<1x4x4x6xf32>, memref<1x4x1x1xf32>, memref<1x4x4x6xf32>) outs(%y : memref<1x4x4x6xf32>) {
  ^bb0(%v: f32, %s: f32, %r: f32, %o: f32):
    %m = arith.mulf %v, %s : f32
    %a = arith.addf %m, %r : f32
    linalg.yield %a : f32
  }
  memref.copy %c, %res : memref<1x4x4x6xf32> to memref<1x4x4x6xf32>
  memref.copy %y, %res : memref<1x4x4x6xf32> to memref<1x4x4x6xf32>
  memref.dealloc %y : memref<1x4x4x6xf32>
  return
}

// -----

// Not fused: the consumer writes the buffer the kernel reads (B), which
// other tiles may still need.
// CHECK-LABEL: func @consumer_writes_kernel_input(
// CHECK:         scf.parallel
// CHECK:         linalg.generic
// CHECK:         return
func.func @consumer_writes_kernel_input(%a: memref<4x24xf32>, %b: memref<24x24xf32>, %c: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x24xf32>, memref<24x24xf32>) outs(%c : memref<4x24xf32>)
  %top = memref.subview %b[0, 0] [4, 24] [1, 1] : memref<24x24xf32> to memref<4x24xf32, strided<[24, 1]>>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x24xf32>) outs(%top : memref<4x24xf32, strided<[24, 1]>>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.negf %v : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not fused: an op between the contraction and its consumer (it could
// write what the consumer reads).
// CHECK-LABEL: func @op_in_between(
// CHECK:         scf.parallel
// CHECK:         memref.copy
// CHECK:         linalg.generic
// CHECK:         return
func.func @op_in_between(%a: memref<4x24xf32>, %b: memref<24x24xf32>, %c: memref<4x24xf32>, %d: memref<4x24xf32>, %e: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x24xf32>, memref<24x24xf32>) outs(%c : memref<4x24xf32>)
  memref.copy %e, %d : memref<4x24xf32> to memref<4x24xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c, %d : memref<4x24xf32>, memref<4x24xf32>) outs(%e : memref<4x24xf32>) {
  ^bb0(%v: f32, %w: f32, %o: f32):
    %r = arith.addf %v, %w : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not fused: an operand that varies along n but is not shaped like C (a
// per-column bias), and a body that reads the output's old value.
// CHECK-LABEL: func @not_elementwise_on_tiles(
// CHECK:         scf.parallel
// CHECK:         linalg.generic
// CHECK:         scf.parallel
// CHECK:         linalg.generic
// CHECK:         return
func.func @not_elementwise_on_tiles(%a: memref<4x24xf32>, %b: memref<24x24xf32>, %c: memref<4x24xf32>, %bias: memref<24xf32>, %y: memref<4x24xf32>) {
  linalg.matmul ins(%a, %b : memref<4x24xf32>, memref<24x24xf32>) outs(%c : memref<4x24xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<4x24xf32>, memref<24xf32>) outs(%y : memref<4x24xf32>) {
  ^bb0(%v: f32, %w: f32, %o: f32):
    %r = arith.addf %v, %w : f32
    linalg.yield %r : f32
  }
  linalg.matmul ins(%a, %b : memref<4x24xf32>, memref<24x24xf32>) outs(%c : memref<4x24xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x24xf32>) outs(%y : memref<4x24xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.addf %v, %o : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// In place: the consumer overwrites C, so C's value is never seen and only
// the consumer's result is stored (into C's buffer). The fill before the
// contraction starts the accumulators at zero.
// CHECK-LABEL: func @in_place_consumer(
// CHECK-SAME:      %{{[^:]+}}: memref<4x24xf32>, %{{[^:]+}}: memref<24x24xf32>, %[[C:[^:]+]]: memref<4x24xf32>
// CHECK-NOT:     linalg.fill
// CHECK:         %[[ZERO:.+]] = vector.broadcast %{{.+}} : f32 to vector<8xf32>
// CHECK:         %[[SUM:.+]]:12 = scf.for {{.+}} iter_args(%{{[^ ]+}} = %[[ZERO]],
// CHECK-NOT:     vector.store %[[SUM]]#0
// CHECK:         %[[T:.+]] = math.tanh %[[SUM]]#0 : vector<8xf32>
// CHECK-NEXT:    vector.store %[[T]], %[[C]]
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @in_place_consumer(%a: memref<4x24xf32>, %b: memref<24x24xf32>, %c: memref<4x24xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x24xf32>)
  linalg.matmul ins(%a, %b : memref<4x24xf32>, memref<24x24xf32>) outs(%c : memref<4x24xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x24xf32>) outs(%c : memref<4x24xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = math.tanh %v : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Not fused: the consumer writes the buffer the fused bias is read from
// (its column 0), which other column tiles still read for their initial
// values. The bias copy is still fused.
// CHECK-LABEL: func @consumer_writes_bias_source(
// CHECK-NOT:     linalg.fill
// CHECK:         scf.parallel
// CHECK:           memref.load %{{.+}} : memref<16xf32, strided<[48]>>
// CHECK:         } {quarc.kernel}
// CHECK-NEXT:    linalg.generic
// CHECK:         return
func.func @consumer_writes_bias_source(%a: memref<16x8xf32>, %b: memref<8x48xf32>, %x: memref<16x48xf32>) {
  %c = memref.alloc() : memref<16x48xf32>
  %bias = memref.subview %x[0, 0] [16, 1] [1, 1] : memref<16x48xf32> to memref<16xf32, strided<[48]>>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<16xf32, strided<[48]>>) outs(%c : memref<16x48xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x48xf32>) outs(%c : memref<16x48xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<16x48xf32>) outs(%x : memref<16x48xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %in : f32
    linalg.yield %r : f32
  }
  memref.dealloc %c : memref<16x48xf32>
  return
}

// -----

// A consumer that yields a scalar from outside its body: the scalar is
// broadcast and stored.
// CHECK-LABEL: func @consumer_yields_outside_value(
// CHECK-SAME:      %[[S:[^:]+]]: f32)
// CHECK:         %[[V:.+]] = vector.broadcast %[[S]] : f32 to vector<8xf32>
// CHECK-NEXT:    vector.store %[[V]]
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @consumer_yields_outside_value(%a: memref<16x8xf32>, %b: memref<8x48xf32>, %x: memref<16x48xf32>, %s: f32) {
  %c = memref.alloc() : memref<16x48xf32>
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<16x48xf32>)
  linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x48xf32>) outs(%c : memref<16x48xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<16x48xf32>) outs(%x : memref<16x48xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %s : f32
  }
  memref.dealloc %c : memref<16x48xf32>
  return
}

// -----

// A dynamic batch: the same fusion. The consumer reads C with an identity
// map, so its loop over the batch has C's size; the output allocated after
// the contraction, sized by the input's batch, moves before it.
// CHECK-LABEL: func @dynamic_batch_convolution_relu(
// CHECK-SAME:      %[[X:[^:]+]]: memref<?x3x6x30xf32>, %{{[^:]+}}: memref<5x3x3x3xf32>, %[[BIAS:[^:]+]]: memref<5xf32>)
// CHECK:         %[[N:.+]] = memref.dim %[[X]], %c0
// CHECK:         %[[Y:.+]] = memref.alloc(%[[N]]) : memref<?x5x4x28xf32>
// CHECK-NOT:     linalg.generic
// CHECK:         scf.parallel
// CHECK:           memref.load %[[BIAS]]
// CHECK:           arith.maximumf {{.+}} : vector<8xf32>
// CHECK-NEXT:      vector.store {{.+}}, %[[Y]]{{.+}} : memref<?x5x4x28xf32>, vector<8xf32>
// CHECK:         return %[[Y]]
func.func @dynamic_batch_convolution_relu(%x: memref<?x3x6x30xf32>, %w: memref<5x3x3x3xf32>, %bias: memref<5xf32>) -> memref<?x5x4x28xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x3x6x30xf32>
  %c = memref.alloc(%n) : memref<?x5x4x28xf32>
  linalg.generic {indexing_maps = [affine_map<(n, f, i, j) -> (f)>, affine_map<(n, f, i, j) -> (n, f, i, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%bias : memref<5xf32>) outs(%c : memref<?x5x4x28xf32>) {
  ^bb0(%b: f32, %o: f32):
    linalg.yield %b : f32
  }
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<?x3x6x30xf32>, memref<5x3x3x3xf32>) outs(%c : memref<?x5x4x28xf32>)
  %y = memref.alloc(%n) : memref<?x5x4x28xf32>
  linalg.generic {indexing_maps = [affine_map<(n, f, i, j) -> (n, f, i, j)>, affine_map<(n, f, i, j) -> (n, f, i, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : memref<?x5x4x28xf32>) outs(%y : memref<?x5x4x28xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.maximumf %v, %zero : f32
    linalg.yield %r : f32
  }
  memref.dealloc %c : memref<?x5x4x28xf32>
  return %y : memref<?x5x4x28xf32>
}

// -----

// A consumer with a bool (i1) result is not fused: a vector of i1 is stored
// as bits, one byte per 8 elements, where the loops store a byte per element.
// CHECK-LABEL: func @comparison_not_fused
// CHECK:         scf.parallel
// CHECK:         linalg.generic
// CHECK:           arith.cmpf ogt
func.func @comparison_not_fused(%x: memref<1x3x6x30xf32>, %w: memref<5x3x3x3xf32>) -> memref<1x5x4x28xi1> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<1x5x4x28xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<1x5x4x28xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : memref<1x3x6x30xf32>, memref<5x3x3x3xf32>) outs(%c : memref<1x5x4x28xf32>)
  %y = memref.alloc() : memref<1x5x4x28xi1>
  linalg.generic {indexing_maps = [affine_map<(n, f, i, j) -> (n, f, i, j)>, affine_map<(n, f, i, j) -> (n, f, i, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : memref<1x5x4x28xf32>) outs(%y : memref<1x5x4x28xi1>) {
  ^bb0(%v: f32, %o: i1):
    %r = arith.cmpf ogt, %v, %zero : f32
    linalg.yield %r : i1
  }
  memref.dealloc %c : memref<1x5x4x28xf32>
  return %y : memref<1x5x4x28xi1>
}

// -----

// C's buffer is used again after the consumer, but the first later op
// overwrites all of it (a fill through a reshape: the next layer's bias, as
// the memory plan reuses buffers) before anything reads it: C itself is not
// stored. The per-channel scale is loaded once per tile row, not once per
// vector of the row.
#lhs = affine_map<(n, f, p, q) -> (f, q)>
#rhs = affine_map<(n, f, p, q) -> (n, q, p)>
#out = affine_map<(n, f, p, q) -> (n, f, p)>
// CHECK-LABEL: func @overwritten_later(
// CHECK-SAME:      %{{[^:]+}}: memref<4x8xf32>, %{{[^:]+}}: memref<1x8x24xf32>, %[[SCALE:[^:]+]]: memref<1x4x1x1xf32>, %[[Y:[^:]+]]: memref<1x4x4x6xf32>,
// CHECK:         %[[FLAT_Y:.+]] = memref.collapse_shape %[[Y]]
// CHECK:         scf.parallel
// CHECK:           %[[SUM:.+]]:12 = scf.for
// CHECK-NOT:       vector.store
// CHECK:           %[[S:.+]] = memref.load %[[SCALE]]
// CHECK-NEXT:      %[[SV:.+]] = vector.broadcast %[[S]] : f32 to vector<8xf32>
// CHECK-NEXT:      %[[M0:.+]] = arith.mulf %[[SUM]]#0, %[[SV]] : vector<8xf32>
// CHECK-NEXT:      vector.store %[[M0]], %[[FLAT_Y]]
// CHECK-NOT:       memref.load
// CHECK:           arith.mulf %[[SUM]]#1, %{{.+}} : vector<8xf32>
// CHECK-NEXT:      vector.store %{{.+}}, %[[FLAT_Y]]
// CHECK-NOT:       memref.load
// CHECK:           arith.mulf %[[SUM]]#2, %{{.+}} : vector<8xf32>
// CHECK-NEXT:      vector.store %{{.+}}, %[[FLAT_Y]]
// CHECK:           memref.load %[[SCALE]]
// CHECK:         linalg.fill
func.func @overwritten_later(%w: memref<4x8xf32>, %x: memref<1x8x24xf32>, %scale: memref<1x4x1x1xf32>, %y: memref<1x4x4x6xf32>, %z: memref<1x4x4x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<1x4x4x6xf32>
  %flat = memref.collapse_shape %c [[0], [1], [2, 3]] : memref<1x4x4x6xf32> into memref<1x4x24xf32>
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %x : memref<4x8xf32>, memref<1x8x24xf32>) outs(%flat : memref<1x4x24xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(n, f, i, j) -> (0, f, i, j)>, affine_map<(n, f, i, j) -> (0, f, 0, 0)>,
                                   affine_map<(n, f, i, j) -> (n, f, i, j)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %scale : memref<1x4x4x6xf32>, memref<1x4x1x1xf32>) outs(%y : memref<1x4x4x6xf32>) {
  ^bb0(%v: f32, %s: f32, %o: f32):
    %m = arith.mulf %v, %s : f32
    linalg.yield %m : f32
  }
  %again = memref.expand_shape %flat [[0], [1], [2, 3]] output_shape [1, 4, 4, 6] : memref<1x4x24xf32> into memref<1x4x4x6xf32>
  linalg.fill ins(%zero : f32) outs(%again : memref<1x4x4x6xf32>)
  memref.copy %c, %z : memref<1x4x4x6xf32> to memref<1x4x4x6xf32>
  memref.dealloc %c : memref<1x4x4x6xf32>
  return
}

// -----

// The first later op writes only part of C's buffer (a fill of one row):
// the rest may still be read, so C is stored as well.
#lhs = affine_map<(n, f, p, q) -> (f, q)>
#rhs = affine_map<(n, f, p, q) -> (n, q, p)>
#out = affine_map<(n, f, p, q) -> (n, f, p)>
// CHECK-LABEL: func @partly_overwritten_later(
// CHECK:         %[[C:.+]] = memref.alloc() : memref<1x4x24xf32>
// CHECK:         scf.parallel
// CHECK:           %[[SUM:.+]]:12 = scf.for
// CHECK:           vector.store %[[SUM]]#0, %[[C]]
// CHECK:         linalg.fill
func.func @partly_overwritten_later(%w: memref<4x8xf32>, %x: memref<1x8x24xf32>, %y: memref<1x4x24xf32>, %z: memref<1x4x24xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<1x4x24xf32>
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %x : memref<4x8xf32>, memref<1x8x24xf32>) outs(%c : memref<1x4x24xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(n, f, p) -> (n, f, p)>, affine_map<(n, f, p) -> (n, f, p)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c : memref<1x4x24xf32>) outs(%y : memref<1x4x24xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.negf %v : f32
    linalg.yield %r : f32
  }
  %row = memref.subview %c[0, 0, 0] [1, 1, 24] [1, 1, 1] : memref<1x4x24xf32> to memref<1x1x24xf32, strided<[96, 24, 1]>>
  linalg.fill ins(%zero : f32) outs(%row : memref<1x1x24xf32, strided<[96, 24, 1]>>)
  memref.copy %c, %z : memref<1x4x24xf32> to memref<1x4x24xf32>
  memref.dealloc %c : memref<1x4x24xf32>
  return
}
