// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg -verify-diagnostics | FileCheck %s
// RUN: quarc-opt %s -split-input-file --convert-quarc-to-linalg -verify-diagnostics | quarc-opt -split-input-file > /dev/null

// LSTM, GRU and RNN: the input projection of all time steps as one
// batch_matmul before the loop, an scf.for over the time steps carrying the
// state as tensors, one small batch_matmul and one gate generic per step.
// The numerics are checked against onnxruntime in test/python/test_rnn.py
// and by the ONNX backend node tests (test_compiled_node_conformance.py);
// these tests pin the structure.

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

// Constant weights are transposed at compile time (W [1, 4, 2] -> [1, 2, 4],
// R [1, 4, 1] -> [1, 1, 4]), so the kernel reads them contiguous along n.
// The projection X x W^T starts from Wb + Rb broadcast over the 5 x 2 rows;
// the loop carries h, c and Y; step t reads rows [2t, 2t + 2) of the
// projection and writes Y[t].
// CHECK-LABEL: func @lstm_forward_hoists_input_projection(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<5x2x2xf32>, %[[B:[^:]+]]: tensor<1x8xf32>)
// CHECK:         %[[ROWS:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<5x2x2xf32> into tensor<10x2xf32>
// CHECK:         %[[XS:.+]] = tensor.expand_shape %[[ROWS]] {{\[}}[0, 1], [2]] output_shape [1, 10, 2]
// CHECK:         %[[WT:.+]] = arith.constant dense<{{\[\[\[}}1.000000e+00, 3.000000e+00, 5.000000e+00, 7.000000e+00], [2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00]]]> : tensor<1x2x4xf32>
// CHECK:         %[[BIAS:.+]] = linalg.generic
// CHECK:           arith.addf
// CHECK:         } -> tensor<1x10x4xf32>
// CHECK:         %[[PROJ:.+]] = linalg.batch_matmul ins(%[[XS]], %[[WT]] : tensor<1x10x2xf32>, tensor<1x2x4xf32>) outs(%[[BIAS]] : tensor<1x10x4xf32>)
// CHECK:         %[[RT:.+]] = arith.constant dense<{{\[\[\[}}5.000000e-01, 2.500000e-01, 1.250000e-01, 6.250000e-02]]]> : tensor<1x1x4xf32>
// CHECK:         %[[LOOP:.+]]:3 = scf.for %[[T:.+]] = %{{.+}} to %c5{{.*}} step %{{.+}} iter_args(%[[H:.+]] = %{{.+}}, %[[C:.+]] = %{{.+}}, %[[Y:.+]] = %{{.+}}) -> (tensor<1x2x1xf32>, tensor<1x2x1xf32>, tensor<5x1x2x1xf32>) {
// CHECK:           %[[ROW:.+]] = arith.muli %[[T]], %c2
// CHECK:           %[[XT:.+]] = tensor.extract_slice %[[PROJ]][0, %[[ROW]], 0] [1, 2, 4] [1, 1, 1]
// CHECK:           %[[ZERO:.+]] = linalg.fill
// CHECK:           %[[GATES:.+]] = linalg.batch_matmul ins(%[[H]], %[[RT]] : tensor<1x2x1xf32>, tensor<1x1x4xf32>) outs(%[[ZERO]] : tensor<1x2x4xf32>)
// CHECK:           %[[YT:.+]] = tensor.extract_slice %[[Y]][%[[T]], 0, 0, 0] [1, 1, 2, 1]
// CHECK:           %[[STEP:.+]]:3 = linalg.generic
// CHECK-SAME:        outs(%[[H]], %[[C]], %[[YT]] :
// CHECK:             math.exp
// CHECK:             math.exp
// CHECK:             math.tanh
// CHECK:             math.exp
// CHECK:             math.tanh
// CHECK:           %[[YNEXT:.+]] = tensor.insert_slice %[[STEP]]#2 into %[[Y]][%[[T]], 0, 0, 0] [1, 1, 2, 1]
// CHECK:           scf.yield %[[STEP]]#0, %[[STEP]]#1, %[[YNEXT]]
// CHECK:         %[[YH:.+]] = linalg.generic {{.+}} ins(%[[LOOP]]#0,
// CHECK:         return %[[LOOP]]#2, %[[YH]]
func.func @lstm_forward_hoists_input_projection(%x: tensor<5x2x2xf32>, %b: tensor<1x8xf32>) -> (tensor<5x1x2x1xf32>, tensor<1x2x1xf32>) {
  %w = quarc.constant dense<[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]]> : tensor<1x4x2xf32>
  %r = quarc.constant dense<[[[0.5], [0.25], [0.125], [0.0625]]]> : tensor<1x4x1xf32>
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %b, %none, %none, %none, %none {hidden_size = 1 : i64} : (tensor<5x2x2xf32>, tensor<1x4x2xf32>, tensor<1x4x1xf32>, tensor<1x8xf32>, none, none, none, none) -> (tensor<5x1x2x1xf32>, tensor<1x2x1xf32>, tensor<1x2x1xf32>)
  return %y, %yh : tensor<5x1x2x1xf32>, tensor<1x2x1xf32>
}

// -----

// Weight blobs stay blobs: the transposed copy is a new resource. W holds
// 1, 2, ..., 24 as [1, 8, 3]; its transpose starts 1, 4, 7, 10, ...
// CHECK-LABEL: func @lstm_resource_weights_transposed_at_compile_time(
// CHECK-DAG:     arith.constant dense_resource<W_t> : tensor<1x3x8xf32>
// CHECK-DAG:     arith.constant dense_resource<R_t> : tensor<1x2x8xf32>
// CHECK-NOT:     linalg.transpose
// CHECK:         return
// CHECK:         W_t: "0x040000000000803F000080400000E04000002041
func.func @lstm_resource_weights_transposed_at_compile_time(%x: tensor<4x1x3xf32>) -> tensor<1x1x2xf32> {
  %w = quarc.constant dense_resource<W> : tensor<1x8x3xf32>
  %r = quarc.constant dense_resource<R> : tensor<1x8x2xf32>
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %none, %none, %none {hidden_size = 2 : i64} : (tensor<4x1x3xf32>, tensor<1x8x3xf32>, tensor<1x8x2xf32>, none, none, none, none, none) -> (tensor<4x1x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>)
  return %yh : tensor<1x1x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      W: "0x040000000000803F0000004000004040000080400000A0400000C0400000E0400000004100001041000020410000304100004041000050410000604100007041000080410000884100009041000098410000A0410000A8410000B0410000B8410000C041",
      R: "0x040000000000803F0000004000004040000080400000A0400000C0400000E040000000410000104100002041000030410000404100005041000060410000704100008041"
    }
  }
#-}

// -----

// Weights that are not constants are transposed at run time. Only Y_h is
// used: the loop carries no Y, only h and c.
// CHECK-LABEL: func @lstm_runtime_weights_without_y(
// CHECK-SAME:      %[[W:[^:]+]]: tensor<1x8x3xf32>, %[[R:[^:]+]]: tensor<1x8x2xf32>)
// CHECK:         linalg.transpose ins(%[[W]] : tensor<1x8x3xf32>) outs(%{{.+}} : tensor<1x3x8xf32>) permutation = [0, 2, 1]
// CHECK:         linalg.transpose ins(%[[R]] : tensor<1x8x2xf32>) outs(%{{.+}} : tensor<1x2x8xf32>) permutation = [0, 2, 1]
// CHECK:         scf.for {{.+}} -> (tensor<1x1x2xf32>, tensor<1x1x2xf32>) {
// CHECK-NOT:       tensor.insert_slice
// CHECK:           scf.yield
func.func @lstm_runtime_weights_without_y(%x: tensor<4x1x3xf32>, %w: tensor<1x8x3xf32>, %r: tensor<1x8x2xf32>) -> tensor<1x1x2xf32> {
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %none, %none, %none {hidden_size = 2 : i64} : (tensor<4x1x3xf32>, tensor<1x8x3xf32>, tensor<1x8x2xf32>, none, none, none, none, none) -> (tensor<4x1x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>)
  return %yh : tensor<1x1x2xf32>
}

// -----

// Both directions in one loop: the input is copied per direction, the
// backward one reversed within each sequence's length (sequence_lens),
// then projected by one batch_matmul over the 2 directions; the steps'
// outputs are put back in time order after the loop, with zeros past each
// sequence's end. Peepholes are read per gate (i, o, f) in the step.
// CHECK-LABEL: func @lstm_bidirectional_sequence_lens_peepholes(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<6x3x4xf32>, {{.+}}, %[[LENS:[^:]+]]: tensor<3xi32>, %[[P:[^:]+]]: tensor<2x6xf32>)
// CHECK:         %[[COPY:.+]] = linalg.generic {{.+}} ins(%[[LENS]] : tensor<3xi32>) outs(%{{.+}} : tensor<2x6x3x4xf32>)
// CHECK:           %[[D:.+]] = linalg.index 0
// CHECK:           %[[T:.+]] = linalg.index 1
// CHECK:           %[[LAST:.+]] = arith.subi
// CHECK:           %[[REV:.+]] = arith.subi %[[LAST]], %[[T]]
// CHECK:           %[[BACKWARD:.+]] = arith.cmpi eq, %[[D]], %c1
// CHECK:           %[[TIME:.+]] = arith.select %[[BACKWARD]], %{{.+}}, %[[T]]
// CHECK:           tensor.extract %[[X]][%[[TIME]],
// CHECK:         %[[XS:.+]] = tensor.collapse_shape %[[COPY]] {{\[}}[0], [1, 2], [3]] : tensor<2x6x3x4xf32> into tensor<2x18x4xf32>
// CHECK:         linalg.batch_matmul ins(%[[XS]], %{{.+}} : tensor<2x18x4xf32>, tensor<2x4x8xf32>) outs(%{{.+}} : tensor<2x18x8xf32>)
// CHECK:         %[[LOOP:.+]]:3 = scf.for
// CHECK:           linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<2x3x2xf32>, tensor<2x2x8xf32>) outs(%{{.+}} : tensor<2x3x8xf32>)
// CHECK:           %[[PV:.+]] = tensor.expand_shape %[[P]] {{\[}}[0], [1, 2]] output_shape [2, 3, 2]
// CHECK:           linalg.generic {{.+}} ins({{.+}}, %[[PV]], %[[PV]], %[[PV]], %[[LENS]] :
// CHECK:         %[[Y:.+]] = linalg.generic {{.+}} ins(%[[LENS]] : tensor<3xi32>) outs(%{{.+}} : tensor<6x2x3x2xf32>)
// CHECK:           tensor.extract %[[LOOP]]#2
// CHECK:         return %[[Y]]
func.func @lstm_bidirectional_sequence_lens_peepholes(%x: tensor<6x3x4xf32>, %w: tensor<2x8x4xf32>, %r: tensor<2x8x2xf32>, %lens: tensor<3xi32>, %p: tensor<2x6xf32>) -> tensor<6x2x3x2xf32> {
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %lens, %none, %none, %p {direction = "bidirectional", hidden_size = 2 : i64} : (tensor<6x3x4xf32>, tensor<2x8x4xf32>, tensor<2x8x2xf32>, none, tensor<3xi32>, none, none, tensor<2x6xf32>) -> (tensor<6x2x3x2xf32>, tensor<2x3x2xf32>, tensor<2x3x2xf32>)
  return %y : tensor<6x2x3x2xf32>
}

// -----

// layout = 1: X [batch, seq, input] is read batch-first by the input copy,
// initial_h [batch, D, hidden] is transposed into the state, and Y and Y_h
// come out batch-first.
// CHECK-LABEL: func @lstm_batch_first(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<2x5x3xf32>, {{.+}}, %[[H0:[^:]+]]: tensor<2x1x4xf32>)
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<1x5x2x3xf32>)
// CHECK:           %[[B:.+]] = linalg.index 2
// CHECK:           tensor.extract %[[X]][%[[B]],
// CHECK:         linalg.transpose ins(%[[H0]] : tensor<2x1x4xf32>) outs(%{{.+}} : tensor<1x2x4xf32>) permutation = [1, 0, 2]
// CHECK:         scf.for
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<2x5x1x4xf32>)
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<2x1x4xf32>)
func.func @lstm_batch_first(%x: tensor<2x5x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>, %h0: tensor<2x1x4xf32>) -> (tensor<2x5x1x4xf32>, tensor<2x1x4xf32>) {
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %h0, %none, %none {hidden_size = 4 : i64, layout = 1 : i64} : (tensor<2x5x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, none, none, tensor<2x1x4xf32>, none, none) -> (tensor<2x5x1x4xf32>, tensor<2x1x4xf32>, tensor<2x1x4xf32>)
  return %y, %yh : tensor<2x5x1x4xf32>, tensor<2x1x4xf32>
}

// -----

// A dynamic sequence length: the loop runs to X's dim 0, the projection has
// seq * 2 rows.
// CHECK-LABEL: func @lstm_dynamic_sequence(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<?x2x3xf32>
// CHECK:         %[[SEQ:.+]] = tensor.dim %[[X]], %c0
// CHECK:         linalg.batch_matmul {{.+}} -> tensor<1x?x16xf32>
// CHECK:         scf.for %{{.+}} = %{{.+}} to %[[SEQ]] step
func.func @lstm_dynamic_sequence(%x: tensor<?x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>) -> (tensor<?x1x2x4xf32>, tensor<1x2x4xf32>) {
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %none, %none, %none {hidden_size = 4 : i64} : (tensor<?x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, none, none, none, none, none) -> (tensor<?x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y, %yh : tensor<?x1x2x4xf32>, tensor<1x2x4xf32>
}

// -----

// input_forget couples the gates (f = 1 - i) and clip bounds every gate's
// input to [-2, 2]: two sigmoids (i, o), no third.
// CHECK-LABEL: func @lstm_input_forget_clip(
// CHECK:         scf.for
// CHECK:           linalg.generic
// CHECK:             arith.minimumf %{{.+}}, %[[BOUND:cst[_0-9]*]]
// CHECK:             arith.maximumf %{{.+}}, %[[NEG:cst[_0-9]*]]
// CHECK:             math.exp
// CHECK:             arith.subf
// CHECK-NOT:         math.exp
// CHECK:             math.tanh
// CHECK:             math.exp
// CHECK-NOT:         math.exp
// CHECK:             linalg.yield
func.func @lstm_input_forget_clip(%x: tensor<3x1x2xf32>, %w: tensor<1x8x2xf32>, %r: tensor<1x8x2xf32>) -> tensor<1x1x2xf32> {
  %none = quarc.none
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %none, %none, %none {clip = 2.0 : f32, hidden_size = 2 : i64, input_forget = 1 : i64} : (tensor<3x1x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, none, none, none, none, none) -> (tensor<3x1x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>)
  return %yh : tensor<1x1x2xf32>
}

//===----------------------------------------------------------------------===//
// GRU
//===----------------------------------------------------------------------===//

// -----

// Without linear_before_reset, r is needed before R[h]: per step one product
// with R[zr] (the first 2 * hidden columns of R^T), a generic computing
// r * h, the product with R[h], then the update.
// CHECK-LABEL: func @gru_reset_before_product(
// CHECK-SAME:      %[[R:[^:]+]]: tensor<1x12x4xf32>)
// CHECK:         %[[RT:.+]] = linalg.transpose ins(%[[R]]
// CHECK:         %[[RZR:.+]] = tensor.extract_slice %[[RT]][0, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<1x4x12xf32> to tensor<1x4x8xf32>
// CHECK:         %[[RH:.+]] = tensor.extract_slice %[[RT]][0, 0, 8] [1, 4, 4] [1, 1, 1] : tensor<1x4x12xf32> to tensor<1x4x4xf32>
// CHECK:         scf.for
// CHECK:           %[[ZR:.+]] = linalg.batch_matmul ins(%{{.+}}, %[[RZR]] : tensor<1x2x4xf32>, tensor<1x4x8xf32>)
// CHECK:           %[[RESET:.+]] = linalg.generic
// CHECK:             math.exp
// CHECK:             arith.mulf
// CHECK:           linalg.batch_matmul ins(%[[RESET]], %[[RH]] : tensor<1x2x4xf32>, tensor<1x4x4xf32>)
// CHECK:           linalg.generic
// CHECK:             math.exp
// CHECK:             math.tanh
func.func @gru_reset_before_product(%x: tensor<3x2x5xf32>, %w: tensor<1x12x5xf32>, %r: tensor<1x12x4xf32>) -> tensor<1x2x4xf32> {
  %none = quarc.none
  %y, %yh = quarc.gru %x, %w, %r, %none, %none, %none {hidden_size = 4 : i64} : (tensor<3x2x5xf32>, tensor<1x12x5xf32>, tensor<1x12x4xf32>, none, none, none) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>)
  return %yh : tensor<1x2x4xf32>
}

// -----

// With linear_before_reset: one product per step; the projection's bias
// leaves out Rbh (columns 8..11 get Wb only), which the step adds to the
// recurrent product before r multiplies it (B read as [1, 6, 4], part 5).
// CHECK:         #[[$RBH:.+]] = affine_map<(d0, d1, d2) -> (d0, 5, d2)>
// CHECK-LABEL: func @gru_linear_before_reset(
// CHECK:         linalg.generic
// CHECK:           %[[COL:.+]] = linalg.index 2
// CHECK:           %[[ISH:.+]] = arith.cmpi sge, %[[COL]], %c8
// CHECK:           arith.select %[[ISH]]
// CHECK:         scf.for
// CHECK:           linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<1x2x4xf32>, tensor<1x4x12xf32>)
// CHECK-NOT:       linalg.batch_matmul
// CHECK:           linalg.generic {indexing_maps = [{{.*}}#[[$RBH]]
// CHECK:         scf.yield
func.func @gru_linear_before_reset(%x: tensor<3x2x5xf32>, %w: tensor<1x12x5xf32>, %r: tensor<1x12x4xf32>, %b: tensor<1x24xf32>) -> tensor<1x2x4xf32> {
  %none = quarc.none
  %y, %yh = quarc.gru %x, %w, %r, %b, %none, %none {hidden_size = 4 : i64, linear_before_reset = 1 : i64} : (tensor<3x2x5xf32>, tensor<1x12x5xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>, none, none) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>)
  return %yh : tensor<1x2x4xf32>
}

//===----------------------------------------------------------------------===//
// RNN
//===----------------------------------------------------------------------===//

// -----

// A reverse RNN with Relu: the input copy reads X at seq - 1 - t, the step
// is max(x + h R^T, 0).
// CHECK-LABEL: func @rnn_reverse_relu(
// CHECK:         linalg.generic {{.+}} outs(%{{.+}} : tensor<1x4x2x3xf32>)
// CHECK:           arith.subi
// CHECK-NOT:       arith.cmpi eq
// CHECK:           tensor.extract
// CHECK:         scf.for
// CHECK:           linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<1x2x5xf32>, tensor<1x5x5xf32>)
// CHECK:           linalg.generic
// CHECK:             arith.maximumf
// CHECK-NOT:         math.tanh
// CHECK:             linalg.yield
func.func @rnn_reverse_relu(%x: tensor<4x2x3xf32>, %w: tensor<1x5x3xf32>, %r: tensor<1x5x5xf32>) -> tensor<4x1x2x5xf32> {
  %none = quarc.none
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {activations = ["Relu"], direction = "reverse", hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<1x5x3xf32>, tensor<1x5x5xf32>, none, none, none) -> (tensor<4x1x2x5xf32>, tensor<1x2x5xf32>)
  return %y : tensor<4x1x2x5xf32>
}

// -----

// Different activations per direction: both are computed and the
// direction (loop dim 0) selects one. HardSigmoid's alpha comes from
// activation_alpha, its beta is the default 0.5.
// CHECK-LABEL: func @rnn_activation_per_direction(
// CHECK:         scf.for
// CHECK:           linalg.generic
// CHECK:             math.tanh
// CHECK:             arith.constant 3.000000e-01 : f32
// CHECK:             arith.constant 5.000000e-01 : f32
// CHECK:             %[[D:.+]] = linalg.index 0
// CHECK:             %[[BACKWARD:.+]] = arith.cmpi eq, %[[D]], %c1
// CHECK:             arith.select %[[BACKWARD]]
func.func @rnn_activation_per_direction(%x: tensor<4x2x3xf32>, %w: tensor<2x5x3xf32>, %r: tensor<2x5x5xf32>) -> tensor<2x2x5xf32> {
  %none = quarc.none
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {activation_alpha = array<f32: 0.3>, activations = ["Tanh", "HardSigmoid"], direction = "bidirectional", hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<2x5x3xf32>, tensor<2x5x5xf32>, none, none, none) -> (tensor<4x2x2x5xf32>, tensor<2x2x5xf32>)
  return %yh : tensor<2x2x5xf32>
}

//===----------------------------------------------------------------------===//
// What does not lower, with the reason
//===----------------------------------------------------------------------===//

// -----

func.func @unknown_activation(%x: tensor<4x2x3xf32>, %w: tensor<1x5x3xf32>, %r: tensor<1x5x5xf32>) -> tensor<1x2x5xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.rnn' op activation 'Swish' is not one of the ONNX recurrent activations}}
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {activations = ["Swish"], hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<1x5x3xf32>, tensor<1x5x5xf32>, none, none, none) -> (tensor<4x1x2x5xf32>, tensor<1x2x5xf32>)
  return %yh : tensor<1x2x5xf32>
}

// -----

func.func @activation_count(%x: tensor<4x2x3xf32>, %w: tensor<1x20x3xf32>, %r: tensor<1x20x5xf32>) -> tensor<1x2x5xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.lstm' op has 2 activations; expected 3 per direction (Sigmoid, Tanh, Tanh)}}
  %y, %yh, %yc = quarc.lstm %x, %w, %r, %none, %none, %none, %none, %none {activations = ["Sigmoid", "Tanh"], hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<1x20x3xf32>, tensor<1x20x5xf32>, none, none, none, none, none) -> (tensor<4x1x2x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>)
  return %yh : tensor<1x2x5xf32>
}

// -----

func.func @thresholded_relu_needs_alpha(%x: tensor<4x2x3xf32>, %w: tensor<1x15x3xf32>, %r: tensor<1x15x5xf32>) -> tensor<1x2x5xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.gru' op activation 'ThresholdedRelu' needs its alpha in activation_alpha (the ONNX spec and onnxruntime share no default for it)}}
  %y, %yh = quarc.gru %x, %w, %r, %none, %none, %none {activations = ["Sigmoid", "ThresholdedRelu"], hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<1x15x3xf32>, tensor<1x15x5xf32>, none, none, none) -> (tensor<4x1x2x5xf32>, tensor<1x2x5xf32>)
  return %yh : tensor<1x2x5xf32>
}

// -----

func.func @f64_layer(%x: tensor<4x2x3xf64>, %w: tensor<1x5x3xf64>, %r: tensor<1x5x5xf64>) -> tensor<1x2x5xf64> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.rnn' op on 'tensor<4x2x3xf64>': only f32 recurrent layers lower to native code}}
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {hidden_size = 5 : i64} : (tensor<4x2x3xf64>, tensor<1x5x3xf64>, tensor<1x5x5xf64>, none, none, none) -> (tensor<4x1x2x5xf64>, tensor<1x2x5xf64>)
  return %yh : tensor<1x2x5xf64>
}

// -----

func.func @dynamic_weights(%x: tensor<4x2x3xf32>, %w: tensor<1x?x3xf32>, %r: tensor<1x5x5xf32>) -> tensor<1x2x5xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.rnn' op W, R, B and P must have static shapes to lower to native code, got 'tensor<1x?x3xf32>'}}
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<1x?x3xf32>, tensor<1x5x5xf32>, none, none, none) -> (tensor<4x1x2x5xf32>, tensor<1x2x5xf32>)
  return %yh : tensor<1x2x5xf32>
}

// -----

func.func @recurrence_shape_mismatch(%x: tensor<4x2x3xf32>, %w: tensor<1x5x3xf32>, %r: tensor<1x5x4xf32>) -> tensor<1x2x5xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.rnn' op R must be 1x5x5 (hidden_size 5, 1 direction(s), X 'tensor<4x2x3xf32>'), got 'tensor<1x5x4xf32>'}}
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<1x5x3xf32>, tensor<1x5x4xf32>, none, none, none) -> (tensor<4x1x2x5xf32>, tensor<1x2x5xf32>)
  return %yh : tensor<1x2x5xf32>
}

// -----

func.func @bad_layout(%x: tensor<4x2x3xf32>, %w: tensor<1x5x3xf32>, %r: tensor<1x5x5xf32>) -> tensor<4x1x5xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.rnn' op layout must be 0 or 1, got 2}}
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {hidden_size = 5 : i64, layout = 2 : i64} : (tensor<4x2x3xf32>, tensor<1x5x3xf32>, tensor<1x5x5xf32>, none, none, none) -> (tensor<4x2x1x5xf32>, tensor<4x1x5xf32>)
  return %yh : tensor<4x1x5xf32>
}

// -----

// dynamic_quantization: W and R read as 8-bit constants, transposed at
// compile time ([1, 2, 3] -> [1, 3, 2]); X quantized once before the
// projection (one range reduction, then u8 values), the state once per
// step; both products accumulate u8 * s8 in i32 (the plain contraction of
// the int8 kernels), subtract zx times the weight's column sums (W: 6, -5;
// R: -1, 19) and scale by sx * sw[d, n] (the per-row scales, as
// [D, 1, N]).
// CHECK-LABEL: func @rnn_dynamic_quantization(
// CHECK:         linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction"]
// CHECK:           arith.minnumf
// CHECK:           arith.maxnumf
// CHECK:         linalg.generic
// CHECK:           math.roundeven
// CHECK:         } -> tensor<4x1x3xi8>
// CHECK:         %[[WT:.+]] = arith.constant dense<{{\[\[\[}}1, -4], [2, 5], [3, -6]]]> : tensor<1x3x2xi8>
// CHECK:         %[[ACC:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[WT]] : tensor<1x4x3xi8>, tensor<1x3x2xi8>)
// CHECK:           arith.extui
// CHECK-NOT:       arith.subi
// CHECK:           arith.extsi
// CHECK:           arith.muli
// CHECK:         } -> tensor<1x4x2xi32>
// CHECK:         %[[WS:.+]] = arith.constant dense<{{\[\[\[}}5.000000e-01, 2.500000e-01]]]> : tensor<1x1x2xf32>
// CHECK:         %[[WSUM:.+]] = arith.constant dense<{{\[\[\[}}6, -5]]]> : tensor<1x1x2xi32>
// CHECK:         linalg.generic {{.*}} ins(%[[ACC]], %[[WS]], %[[WSUM]] : tensor<1x4x2xi32>, tensor<1x1x2xf32>, tensor<1x1x2xi32>)
// CHECK:           arith.muli
// CHECK:           arith.subi
// CHECK:         %[[RT:.+]] = arith.constant dense<{{\[\[\[}}7, 9], [-8, 10]]]> : tensor<1x2x2xi8>
// CHECK:         scf.for
// CHECK:           linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction"]
// CHECK:           } -> tensor<1x1x2xi8>
// CHECK:           linalg.generic {{.*}} ins(%{{.+}}, %[[RT]] : tensor<1x1x2xi8>, tensor<1x2x2xi8>)
// CHECK:             arith.muli
// CHECK:           arith.constant dense<{{\[\[\[}}1.250000e-01, 6.250000e-02]]]> : tensor<1x1x2xf32>
// CHECK:           arith.constant dense<{{\[\[\[}}-1, 19]]]> : tensor<1x1x2xi32>
// CHECK:           math.tanh
// CHECK-NOT:     linalg.batch_matmul
!w = !quant.uniform<i8:f32:{0:1, 1:1, 2:3}, {{{0.5}, {0.25}}}>
!r = !quant.uniform<i8:f32:{0:1, 1:1, 2:2}, {{{0.125}, {0.0625}}}>
func.func @rnn_dynamic_quantization(%x: tensor<4x1x3xf32>) -> tensor<1x1x2xf32> {
  %none = quarc.none
  %wi = quarc.constant dense<[[[1, 2, 3], [-4, 5, -6]]]> : tensor<1x2x3xi8>
  %wq = quarc.storage_cast %wi : tensor<1x2x3xi8> -> tensor<1x2x3x!w>
  %w = quarc.dequantize %wq : tensor<1x2x3x!w> -> tensor<1x2x3xf32>
  %ri = quarc.constant dense<[[[7, -8], [9, 10]]]> : tensor<1x2x2xi8>
  %rq = quarc.storage_cast %ri : tensor<1x2x2xi8> -> tensor<1x2x2x!r>
  %r = quarc.dequantize %rq : tensor<1x2x2x!r> -> tensor<1x2x2xf32>
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {dynamic_quantization, hidden_size = 2 : i64} : (tensor<4x1x3xf32>, tensor<1x2x3xf32>, tensor<1x2x2xf32>, none, none, none) -> (tensor<4x1x1x2xf32>, tensor<1x1x2xf32>)
  return %yh : tensor<1x1x2xf32>
}

// -----

func.func @dynamic_quantization_float_weights(%x: tensor<4x1x3xf32>, %w: tensor<1x2x3xf32>, %r: tensor<1x2x2xf32>) -> tensor<1x1x2xf32> {
  %none = quarc.none
  // expected-error @+1 {{'quarc.rnn' op with dynamic_quantization needs W as quarc.dequantize of an 8-bit constant}}
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {dynamic_quantization, hidden_size = 2 : i64} : (tensor<4x1x3xf32>, tensor<1x2x3xf32>, tensor<1x2x2xf32>, none, none, none) -> (tensor<4x1x1x2xf32>, tensor<1x1x2xf32>)
  return %yh : tensor<1x1x2xf32>
}

// -----

// Scales varying along the input dim (groups of 2 of W's 4 inputs) cannot
// scale an i32 sum over all inputs.
!w = !quant.uniform<i8:f32:{0:1, 1:1, 2:2}, {{{0.5, 0.25}}}>
func.func @dynamic_quantization_groups_along_k(%x: tensor<4x1x4xf32>, %r: tensor<1x1x1xf32>) -> tensor<1x1x1xf32> {
  %none = quarc.none
  %wi = quarc.constant dense<[[[1, 2, 3, 4]]]> : tensor<1x1x4xi8>
  %wq = quarc.storage_cast %wi : tensor<1x1x4xi8> -> tensor<1x1x4x!w>
  %w = quarc.dequantize %wq : tensor<1x1x4x!w> -> tensor<1x1x4xf32>
  // expected-error @+1 {{'quarc.rnn' op with dynamic_quantization needs one scale per row of W}}
  %y, %yh = quarc.rnn %x, %w, %r, %none, %none, %none {dynamic_quantization, hidden_size = 1 : i64} : (tensor<4x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x1xf32>, none, none, none) -> (tensor<4x1x1x1xf32>, tensor<1x1x1xf32>)
  return %yh : tensor<1x1x1xf32>
}
