// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg | FileCheck %s

// Data-movement ops: constants, shapes, reshapes, transpose, concat, slice,
// split, gather, pad, expand, tile, constant_of_shape, range, resize.

// CHECK-LABEL: func @constant_dense
// CHECK: %[[C:.*]] = arith.constant dense<[3, 4]> : tensor<2xi64>
// CHECK: return %[[C]]
func.func @constant_dense() -> tensor<2xi64> {
  %0 = quarc.constant dense<[3, 4]> : tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// Large weights stay resource blobs.
// CHECK-LABEL: func @constant_resource_stays_blob
// CHECK: arith.constant dense_resource<weights> : tensor<2xf32>
func.func @constant_resource_stays_blob() -> tensor<2xf32> {
  %0 = quarc.constant dense_resource<weights> : tensor<2xf32>
  return %0 : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      weights: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// A declared type may refine the operand's: the value is cast to it.
// CHECK-LABEL: func @identity_refines_type
// CHECK-SAME: (%[[X:.*]]: tensor<?x3xf32>)
// CHECK: %[[R:.*]] = tensor.cast %[[X]] : tensor<?x3xf32> to tensor<2x3xf32>
// CHECK: return %[[R]]
func.func @identity_refines_type(%x: tensor<?x3xf32>) -> tensor<2x3xf32> {
  %0 = quarc.identity %x : (tensor<?x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @dropout_is_identity_with_true_mask
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK: %[[TRUE:.*]] = arith.constant true
// CHECK: %[[MASK:.*]] = linalg.fill ins(%[[TRUE]] : i1) outs(%{{.*}} : tensor<?x4xi1>)
// CHECK: return %[[X]], %[[MASK]]
func.func @dropout_is_identity_with_true_mask(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xi1>) {
  %none = quarc.none
  %0:2 = quarc.dropout %x, %none, %none : (tensor<?x4xf32>, none, none) -> (tensor<?x4xf32>, tensor<?x4xi1>)
  return %0#0, %0#1 : tensor<?x4xf32>, tensor<?x4xi1>
}

// -----

// CHECK-LABEL: func @shape_static_is_constant
// CHECK: %[[C:.*]] = arith.constant dense<[3, 4]> : tensor<2xi64>
// CHECK: return %[[C]]
func.func @shape_static_is_constant(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  %0 = quarc.shape %x {start = -2 : i64} : (tensor<2x3x4xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func @shape_dynamic_batch
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x4xf32>)
// CHECK: %[[DIM:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[N:.*]] = arith.index_cast %[[DIM]] : index to i64
// CHECK: %[[C3:.*]] = arith.constant 3 : i64
// CHECK: tensor.from_elements %[[N]], %[[C3]] : tensor<2xi64>
func.func @shape_dynamic_batch(%x: tensor<?x3x4xf32>) -> tensor<2xi64> {
  %0 = quarc.shape %x {end = 2 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func @reshape_dynamic_batch_collapses
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : tensor<?x3x4xf32> into tensor<?x12xf32>
func.func @reshape_dynamic_batch_collapses(%x: tensor<?x3x4xf32>) -> tensor<?x12xf32> {
  %s = quarc.constant dense<[0, -1]> : tensor<2xi64>
  %0 = quarc.reshape %x, %s : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

// CHECK-LABEL: func @reshape_static_expands
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [2, 3, 4] : tensor<2x12xf32> into tensor<2x3x4xf32>
func.func @reshape_static_expands(%x: tensor<2x12xf32>) -> tensor<2x3x4xf32> {
  %s = quarc.constant dense<[2, 3, 4]> : tensor<3xi64>
  %0 = quarc.reshape %x, %s : (tensor<2x12xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// No collapse/expand relates 2x3x4 and 4x3x2: tensor.reshape with a
// constant shape.
// CHECK-LABEL: func @reshape_without_reassociation
// CHECK: %[[SHAPE:.*]] = arith.constant dense<[4, 3, 2]> : tensor<3xindex>
// CHECK: tensor.reshape %{{.*}}(%[[SHAPE]]) : (tensor<2x3x4xf32>, tensor<3xindex>) -> tensor<4x3x2xf32>
func.func @reshape_without_reassociation(%x: tensor<2x3x4xf32>) -> tensor<4x3x2xf32> {
  %s = quarc.constant dense<[4, 3, 2]> : tensor<3xi64>
  %0 = quarc.reshape %x, %s : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<4x3x2xf32>
  return %0 : tensor<4x3x2xf32>
}

// -----

// Two dynamic dims are copied (shape 0), so the grouping is still certain.
// CHECK-LABEL: func @reshape_two_copied_dynamic_dims
// CHECK: %[[D0:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[D1:.*]] = tensor.dim %{{.*}}, %c1
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [%[[D0]], %[[D1]], 3, 4] : tensor<?x?x12xf32> into tensor<?x?x3x4xf32>
func.func @reshape_two_copied_dynamic_dims(%x: tensor<?x?x12xf32>) -> tensor<?x?x3x4xf32> {
  %s = quarc.constant dense<[0, 0, 3, 4]> : tensor<4xi64>
  %0 = quarc.reshape %x, %s : (tensor<?x?x12xf32>, tensor<4xi64>) -> tensor<?x?x3x4xf32>
  return %0 : tensor<?x?x3x4xf32>
}

// -----

// Two dynamic source dims and an inferred dim: no grouping is certain.
// CHECK-LABEL: func @reshape_two_inferred_groups_uses_reshape
// CHECK-NOT: tensor.collapse_shape
// CHECK: tensor.reshape
func.func @reshape_two_inferred_groups_uses_reshape(%x: tensor<?x?x4xf32>) -> tensor<?x2xf32> {
  %s = quarc.constant dense<[-1, 2]> : tensor<2xi64>
  %0 = quarc.reshape %x, %s : (tensor<?x?x4xf32>, tensor<2xi64>) -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// A shape computed at run time: ONNX's 0 (copy) and -1 (infer) rules are
// evaluated on the extracted values.
// CHECK-LABEL: func @reshape_runtime_shape
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>, %[[S:.*]]: tensor<2xi64>)
// CHECK: %[[E0:.*]] = tensor.extract %[[S]][%{{.*}}] : tensor<2xi64>
// CHECK: %[[I0:.*]] = arith.index_cast %[[E0]] : i64 to index
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[I0]], %{{.*}} : index
// CHECK: arith.select %[[ZERO]]
// CHECK: arith.divsi
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xindex>
// CHECK: tensor.reshape %[[X]](%[[SHAPE]]) : (tensor<?x4xf32>, tensor<2xindex>) -> tensor<?x?xf32>
func.func @reshape_runtime_shape(%x: tensor<?x4xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = quarc.reshape %x, %s : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func @flatten_dynamic_batch
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : tensor<?x3x4xf32> into tensor<?x12xf32>
func.func @flatten_dynamic_batch(%x: tensor<?x3x4xf32>) -> tensor<?x12xf32> {
  %0 = quarc.flatten %x {axis = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

// CHECK-LABEL: func @flatten_axis0
// CHECK: tensor.reshape %{{.*}} : (tensor<2x3xf32>, tensor<2xindex>) -> tensor<1x6xf32>
func.func @flatten_axis0(%x: tensor<2x3xf32>) -> tensor<1x6xf32> {
  %0 = quarc.flatten %x {axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<1x6xf32>
  return %0 : tensor<1x6xf32>
}

// -----

// CHECK-LABEL: func @squeeze_axes
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : tensor<?x1x4x1xf32> into tensor<?x4xf32>
func.func @squeeze_axes(%x: tensor<?x1x4x1xf32>) -> tensor<?x4xf32> {
  %a = quarc.constant dense<[1, -1]> : tensor<2xi64>
  %0 = quarc.squeeze %x, %a : (tensor<?x1x4x1xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Squeezing a dynamic dim asserts it is 1.
// CHECK-LABEL: func @squeeze_dynamic_dim
// CHECK: %[[CAST:.*]] = tensor.cast %{{.*}} : tensor<?x4xf32> to tensor<1x4xf32>
// CHECK: tensor.collapse_shape %[[CAST]] {{\[}}[0, 1]] : tensor<1x4xf32> into tensor<4xf32>
func.func @squeeze_dynamic_dim(%x: tensor<?x4xf32>) -> tensor<4xf32> {
  %a = quarc.constant dense<0> : tensor<1xi64>
  %0 = quarc.squeeze %x, %a : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @unsqueeze
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2, 3]] output_shape [1, %[[D]], 4, 1] : tensor<?x4xf32> into tensor<1x?x4x1xf32>
func.func @unsqueeze(%x: tensor<?x4xf32>) -> tensor<1x?x4x1xf32> {
  %a = quarc.constant dense<[0, 3]> : tensor<2xi64>
  %0 = quarc.unsqueeze %x, %a : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<1x?x4x1xf32>
  return %0 : tensor<1x?x4x1xf32>
}

// -----

// CHECK-LABEL: func @transpose_dynamic_batch
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[INIT:.*]] = tensor.empty(%[[D]]) : tensor<4x?x3xf32>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<?x3x4xf32>) outs(%[[INIT]] : tensor<4x?x3xf32>) permutation = [2, 0, 1]
func.func @transpose_dynamic_batch(%x: tensor<?x3x4xf32>) -> tensor<4x?x3xf32> {
  %0 = quarc.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<?x3x4xf32>) -> tensor<4x?x3xf32>
  return %0 : tensor<4x?x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_default_reverses
// CHECK: linalg.transpose {{.*}} permutation = [1, 0]
func.func @transpose_default_reverses(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = quarc.transpose %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func @concat_negative_axis
// CHECK: tensor.concat dim(1) %{{.*}}, %{{.*}} : (tensor<?x2xf32>, tensor<?x3xf32>) -> tensor<?x5xf32>
func.func @concat_negative_axis(%a: tensor<?x2xf32>, %b: tensor<?x3xf32>) -> tensor<?x5xf32> {
  %0 = quarc.concat %a, %b {axis = -1 : i64} : (tensor<?x2xf32>, tensor<?x3xf32>) -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

// -----

// Static dims fold ONNX's clamping: INT64_MAX and 100 end at the dim.
// CHECK-LABEL: func @slice_clamps_ends
// CHECK: tensor.extract_slice %{{.*}}[0, 1, 1] [%{{.*}}, 2, 4] [1, 1, 2] : tensor<?x3x8xf32> to tensor<?x2x4xf32>
func.func @slice_clamps_ends(%x: tensor<?x3x8xf32>) -> tensor<?x2x4xf32> {
  %starts = quarc.constant dense<[1, -2]> : tensor<2xi64>
  %ends = quarc.constant dense<[9223372036854775807, 100]> : tensor<2xi64>
  %axes = quarc.constant dense<[2, 1]> : tensor<2xi64>
  %steps = quarc.constant dense<[2, 1]> : tensor<2xi64>
  %0 = quarc.slice %x, %starts, %ends, %axes, %steps : (tensor<?x3x8xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x2x4xf32>
  return %0 : tensor<?x2x4xf32>
}

// -----

// A negative step reads upwards from the last element taken, then reverses.
// CHECK-LABEL: func @slice_negative_step_reverses
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %{{.*}}[0, 0] [2, 3] [1, 2] : tensor<2x5xf32> to tensor<2x3xf32>
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: %[[REV:.*]] = arith.subi %c2, %[[J]]
// CHECK: tensor.extract %[[SLICE]][%[[I]], %[[REV]]]
func.func @slice_negative_step_reverses(%x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %starts = quarc.constant dense<-1> : tensor<1xi64>
  %ends = quarc.constant dense<-9223372036854775808> : tensor<1xi64>
  %axes = quarc.constant dense<1> : tensor<1xi64>
  %steps = quarc.constant dense<-2> : tensor<1xi64>
  %0 = quarc.slice %x, %starts, %ends, %axes, %steps : (tensor<2x5xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// On a dynamic dim the clamping is index arithmetic.
// CHECK-LABEL: func @slice_dynamic_dim
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[FROM_END:.*]] = arith.addi %[[D]], %c-2
// CHECK: %[[LOW:.*]] = arith.maxsi %[[FROM_END]], %{{.*}}
// CHECK: %[[START:.*]] = arith.minsi %[[LOW]], %[[D]]
// CHECK: %[[END:.*]] = arith.minsi %c100, %[[D]]
// CHECK: %[[LEN:.*]] = arith.subi %[[END]], %[[START]]
// CHECK: tensor.extract_slice %{{.*}}[%[[START]], 0] [%{{.*}}, 4] [1, 1] : tensor<?x4xf32> to tensor<?x4xf32>
func.func @slice_dynamic_dim(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %starts = quarc.constant dense<-2> : tensor<1xi64>
  %ends = quarc.constant dense<100> : tensor<1xi64>
  %none = quarc.none
  %0 = quarc.slice %x, %starts, %ends, %none, %none : (tensor<?x4xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// CHECK-LABEL: func @split_sizes
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [%[[D]], 2] [1, 1] : tensor<?x6xf32> to tensor<?x2xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 2] [%[[D]], 4] [1, 1] : tensor<?x6xf32> to tensor<?x4xf32>
func.func @split_sizes(%x: tensor<?x6xf32>) -> (tensor<?x2xf32>, tensor<?x4xf32>) {
  %split = quarc.constant dense<[2, 4]> : tensor<2xi64>
  %0:2 = quarc.split %x, %split {axis = 1 : i64} : (tensor<?x6xf32>, tensor<2xi64>) -> (tensor<?x2xf32>, tensor<?x4xf32>)
  return %0#0, %0#1 : tensor<?x2xf32>, tensor<?x4xf32>
}

// -----

// An empty part (a rotary embedding that rotates the whole head: split
// [8, 0]) is an empty tensor, not a slice at offset 8 of a dim of 8, which
// would not verify; a concat leaves it out.
// CHECK-LABEL: func @split_empty_part
// CHECK: %[[FULL:.*]] = tensor.extract_slice %{{.*}}[0, 0] [2, 8] [1, 1] : tensor<2x8xf32> to tensor<2x8xf32>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<2x0xf32>
// CHECK-NOT: tensor.concat
// CHECK: return %[[FULL]], %[[FULL]], %[[EMPTY]]
func.func @split_empty_part(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x0xf32>) {
  %split = quarc.constant dense<[8, 0]> : tensor<2xi64>
  %0:2 = quarc.split %x, %split {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2xi64>) -> (tensor<2x8xf32>, tensor<2x0xf32>)
  %1 = quarc.concat %0#0, %0#1 {axis = 1 : i64} : (tensor<2x8xf32>, tensor<2x0xf32>) -> tensor<2x8xf32>
  return %0#0, %1, %0#1 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x0xf32>
}

// -----

// num_outputs on a dynamic dim: ceil(n / 2), then the rest.
// CHECK-LABEL: func @split_num_outputs_dynamic
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[CHUNK:.*]] = arith.ceildivsi %[[D]], %c2
// CHECK: %[[REST:.*]] = arith.subi %[[D]], %[[CHUNK]]
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [%[[CHUNK]], 6] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[%[[CHUNK]], 0] [%[[REST]], 6] [1, 1]
func.func @split_num_outputs_dynamic(%x: tensor<?x6xf32>) -> (tensor<?x6xf32>, tensor<?x6xf32>) {
  %none = quarc.none
  %0:2 = quarc.split %x, %none {axis = 0 : i64, num_outputs = 2 : i64} : (tensor<?x6xf32>, none) -> (tensor<?x6xf32>, tensor<?x6xf32>)
  return %0#0, %0#1 : tensor<?x6xf32>, tensor<?x6xf32>
}

// -----

// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @gather_runtime_indices
// CHECK-SAME: (%[[X:.*]]: tensor<?x5x3xf32>, %[[I:.*]]: tensor<2x2xi64>)
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #[[OUT]]], {{.*}}} ins(%[[I]] : tensor<2x2xi64>) outs(%{{.*}} : tensor<?x2x2x3xf32>)
// CHECK: ^bb0(%[[IN:[a-z0-9_]*]]: i64, %{{.*}}: f32):
// CHECK: %[[INDEX:.*]] = arith.index_cast %[[IN]] : i64 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[INDEX]]
// CHECK: %[[WRAPPED:.*]] = arith.addi %[[INDEX]], %c5
// CHECK: %[[SEL:.*]] = arith.select %[[NEG]], %[[WRAPPED]], %[[INDEX]]
// CHECK: %[[B:.*]] = linalg.index 0
// CHECK: %[[K:.*]] = linalg.index 3
// CHECK: tensor.extract %[[X]][%[[B]], %[[SEL]], %[[K]]]
func.func @gather_runtime_indices(%x: tensor<?x5x3xf32>, %i: tensor<2x2xi64>) -> tensor<?x2x2x3xf32> {
  %0 = quarc.gather %x, %i {axis = 1 : i64} : (tensor<?x5x3xf32>, tensor<2x2xi64>) -> tensor<?x2x2x3xf32>
  return %0 : tensor<?x2x2x3xf32>
}

// -----

// A constant scalar index (one dim of a shape) is a rank-reducing slice.
// CHECK-LABEL: func @gather_constant_scalar_index
// CHECK: tensor.extract_slice %{{.*}}[3] [1] [1] : tensor<4xi64> to tensor<i64>
func.func @gather_constant_scalar_index(%x: tensor<4xi64>) -> tensor<i64> {
  %i = quarc.constant dense<-1> : tensor<i64>
  %0 = quarc.gather %x, %i : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

// Negative pads crop first; the rest is a tensor.pad with the value.
// CHECK-LABEL: func @pad_constant_crops_negative
// CHECK: %[[CROP:.*]] = tensor.extract_slice %{{.*}}[0, 0, 1] [%{{.*}}, 3, 3] [1, 1, 1] : tensor<?x4x4xf32> to tensor<?x3x3xf32>
// CHECK: %[[V:.*]] = tensor.extract %{{.*}}[] : tensor<f32>
// CHECK: tensor.pad %[[CROP]] low[0, 2, 0] high[0, 0, 1]
// CHECK: tensor.yield %[[V]] : f32
// CHECK: } : tensor<?x3x3xf32> to tensor<?x5x4xf32>
func.func @pad_constant_crops_negative(%x: tensor<?x4x4xf32>) -> tensor<?x5x4xf32> {
  %pads = quarc.constant dense<[0, 2, -1, 0, -1, 1]> : tensor<6xi64>
  %value = quarc.constant dense<1.5> : tensor<f32>
  %none = quarc.none
  %0 = quarc.pad %x, %pads, %value, %none : (tensor<?x4x4xf32>, tensor<6xi64>, tensor<f32>, none) -> tensor<?x5x4xf32>
  return %0 : tensor<?x5x4xf32>
}

// -----

// CHECK-LABEL: func @pad_reflect_on_axes
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x3x7xf32>)
// CHECK: %[[K:.*]] = linalg.index 2
// CHECK: %[[SHIFTED:.*]] = arith.subi %[[K]], %c1
// CHECK: arith.cmpi slt, %[[SHIFTED]]
// CHECK: arith.cmpi sgt, %[[SHIFTED]]
// CHECK: tensor.extract
func.func @pad_reflect_on_axes(%x: tensor<1x3x4xf32>) -> tensor<1x3x7xf32> {
  %pads = quarc.constant dense<[1, 2]> : tensor<2xi64>
  %axes = quarc.constant dense<-1> : tensor<1xi64>
  %none = quarc.none
  %0 = quarc.pad %x, %pads, %none, %axes {mode = "reflect"} : (tensor<1x3x4xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<1x3x7xf32>
  return %0 : tensor<1x3x7xf32>
}

// -----

// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func @expand_broadcasts
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0 : tensor<?x1xf32>
// CHECK: %[[INIT:.*]] = tensor.empty(%[[D]]) : tensor<2x?x5xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #{{.*}}], {{.*}}} ins(%{{.*}} : tensor<?x1xf32>) outs(%[[INIT]] : tensor<2x?x5xf32>)
func.func @expand_broadcasts(%x: tensor<?x1xf32>) -> tensor<2x?x5xf32> {
  %shape = quarc.constant dense<[2, 1, 5]> : tensor<3xi64>
  %0 = quarc.expand %x, %shape : (tensor<?x1xf32>, tensor<3xi64>) -> tensor<2x?x5xf32>
  return %0 : tensor<2x?x5xf32>
}

// -----

// Tile is a broadcast to [r0, d0, r1, d1] and a collapse of each pair.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-LABEL: func @tile
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[IN]], #{{.*}}], {{.*}}} ins(%{{.*}} : tensor<?x3xf32>) outs(%{{.*}} : tensor<1x?x2x3xf32>)
// CHECK: tensor.collapse_shape %[[R]] {{\[}}[0, 1], [2, 3]] : tensor<1x?x2x3xf32> into tensor<?x6xf32>
func.func @tile(%x: tensor<?x3xf32>) -> tensor<?x6xf32> {
  %repeats = quarc.constant dense<[1, 2]> : tensor<2xi64>
  %0 = quarc.tile %x, %repeats : (tensor<?x3xf32>, tensor<2xi64>) -> tensor<?x6xf32>
  return %0 : tensor<?x6xf32>
}

// -----

// CHECK-LABEL: func @constant_of_shape_runtime
// CHECK-SAME: (%[[S:.*]]: tensor<2xi64>)
// CHECK: %[[V:.*]] = arith.constant 7 : i64
// CHECK: %[[E0:.*]] = tensor.extract %[[S]]
// CHECK: %[[D0:.*]] = arith.index_cast %[[E0]] : i64 to index
// CHECK: %[[E1:.*]] = tensor.extract %[[S]]
// CHECK: %[[D1:.*]] = arith.index_cast %[[E1]] : i64 to index
// CHECK: %[[INIT:.*]] = tensor.empty(%[[D0]], %[[D1]]) : tensor<?x?xi64>
// CHECK: linalg.fill ins(%[[V]] : i64) outs(%[[INIT]] : tensor<?x?xi64>)
func.func @constant_of_shape_runtime(%s: tensor<2xi64>) -> tensor<?x?xi64> {
  %0 = quarc.constant_of_shape %s {value = dense<7> : tensor<1xi64>} : (tensor<2xi64>) -> tensor<?x?xi64>
  return %0 : tensor<?x?xi64>
}

// -----

// CHECK-LABEL: func @range_constant
// CHECK: %[[R:.*]] = arith.constant dense<[10, 6, 2]> : tensor<3xi64>
// CHECK: return %[[R]]
func.func @range_constant() -> tensor<3xi64> {
  %start = quarc.constant dense<10> : tensor<i64>
  %limit = quarc.constant dense<1> : tensor<i64>
  %delta = quarc.constant dense<-4> : tensor<i64>
  %0 = quarc.range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// CHECK-LABEL: func @range_runtime
// CHECK: %[[START:.*]] = tensor.extract %arg0[]
// CHECK: %[[DELTA:.*]] = tensor.extract %arg2[]
// CHECK: math.ceil
// CHECK: %[[N:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[INIT:.*]] = tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK: linalg.generic {{.*}} outs(%[[INIT]] : tensor<?xf32>)
// CHECK: %[[I:.*]] = arith.sitofp
// CHECK: %[[STEP:.*]] = arith.mulf %[[I]], %[[DELTA]]
// CHECK: arith.addf %[[START]], %[[STEP]]
func.func @range_runtime(%start: tensor<f32>, %limit: tensor<f32>, %delta: tensor<f32>) -> tensor<?xf32> {
  %0 = quarc.range %start, %limit, %delta : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// The PP-OCR detector's upsampling (nearest, asymmetric, floor, scales
// [1, 1, 2, 2]) is a repeat: a broadcast to [n, c, h, 2, w, 2] and a
// collapse, with no index arithmetic.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
// CHECK-LABEL: func @resize_nearest_integer_scales_repeats
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[IN]], #{{.*}}], {{.*}}} ins(%{{.*}} : tensor<?x8x?x?xf32>) outs(%{{.*}} : tensor<?x8x?x2x?x2xf32>)
// CHECK-NEXT: ^bb0(%[[V:[a-z0-9_]*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[V]]
// CHECK: tensor.collapse_shape %[[R]] {{\[}}[0], [1], [2, 3], [4, 5]] : tensor<?x8x?x2x?x2xf32> into tensor<?x8x?x?xf32>
func.func @resize_nearest_integer_scales_repeats(%x: tensor<?x8x?x?xf32>) -> tensor<?x8x?x?xf32> {
  %roi = quarc.constant dense<> : tensor<0xf32>
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %none = quarc.none
  %0 = quarc.resize %x, %roi, %scales, %none {coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"} : (tensor<?x8x?x?xf32>, tensor<0xf32>, tensor<4xf32>, none) -> tensor<?x8x?x?xf32>
  return %0 : tensor<?x8x?x?xf32>
}

// -----

// Sizes on some axes: scale = 6/4; half_pixel, round_prefer_floor
// (ceil(x - 0.5)), clamped to the input.
// CHECK-LABEL: func @resize_nearest_sizes_on_axes
// CHECK: %[[SCALE:.*]] = arith.constant 1.500000e+00 : f32
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x6x6xf32>)
// CHECK: %[[H:.*]] = linalg.index 2
// CHECK: %[[HF:.*]] = arith.sitofp
// CHECK: %[[CENTER:.*]] = arith.addf %[[HF]], %{{.*}}
// CHECK: arith.divf %[[CENTER]], %[[SCALE]]
// CHECK: math.ceil
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %{{.*}} : tensor<1x1x4x4xf32>
func.func @resize_nearest_sizes_on_axes(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x6x6xf32> {
  %none = quarc.none
  %sizes = quarc.constant dense<[6, 6]> : tensor<2xi64>
  %0 = quarc.resize %x, %none, %none, %sizes {axes = array<i64: 2, 3>} : (tensor<1x1x4x4xf32>, none, none, tensor<2xi64>) -> tensor<1x1x6x6xf32>
  return %0 : tensor<1x1x6x6xf32>
}

// -----

// Bilinear: four corners weighted by the fractional coordinate.
// CHECK-LABEL: func @resize_bilinear
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x8x8xf32>)
// CHECK: math.floor
// CHECK: math.floor
// CHECK-COUNT-4: tensor.extract %{{.*}} : tensor<1x1x4x4xf32>
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @resize_bilinear(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32> {
  %none = quarc.none
  %scales = quarc.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %0 = quarc.resize %x, %none, %scales, %none {mode = "linear"} : (tensor<1x1x4x4xf32>, none, tensor<4xf32>, none) -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}
