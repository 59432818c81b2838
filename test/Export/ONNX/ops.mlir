// RUN: quarc-translate --export-onnx %s -o %t.onnx
// RUN: %onnx-to-text %t.onnx --check | FileCheck %s
// RUN: quarc-translate --import-onnx %t.onnx | FileCheck %s --check-prefix=IMPORT

// quarc ops become the ONNX ops they mirror, in their opset-23 form (the
// Reduce axes and Pad axes inputs, Split's num_outputs, Resize's antialias,
// AveragePool's dilations, Gelu: forms libonnx 1.12's checker does not know
// and the exporter adds). Attributes convert back by kind: ints, floats,
// strings, int and float lists, string lists, tensors, and types as ONNX
// data type numbers; attributes equal to the default are left out (the
// second LeakyRelu's alpha, Conv's group, Resize's
// coordinate_transformation_mode). An absent input in the middle is "",
// absent inputs at the end are dropped. Values without tensor names get
// names from their node's; a dynamic dim is a dim_param.

// CHECK: checker: ok
// CHECK: model ir_version=11 producer=quarc opsets=ai.onnx:23
// CHECK: input x FLOAT [x_d0,1,12,12]
// CHECK: output pq INT8 [pq_d0,1,10]
// CHECK: output f FLOAT16 [f_d0,f_d1,f_d2]
// CHECK: initializer constant FLOAT [2, 1, 3, 3] raw [1,2,3,4,5,6,7,8,... (18 values)]
// CHECK: initializer constant_1 FLOAT [4] typed [1,1,2,2]
// CHECK: node Conv Conv(x, constant) -> (Conv_output) {kernel_shape=[3,3], pads=[1,1,1,1], strides=[2,2]}
// CHECK: node LSTM LSTM(seq, constant_6, constant_7) -> (ly, LSTM_output_1, lc) {activation_alpha=[0.5,0.25], activations=['Sigmoid','Tanh','Relu'], clip=4, hidden_size=1}
// CHECK: node LeakyRelu LeakyRelu(Conv_output) -> (LeakyRelu_output) {alpha=0.125}
// CHECK: node LeakyRelu_1 LeakyRelu(LeakyRelu_output) -> (LeakyRelu_1_output){{$}}
// CHECK: node AveragePool AveragePool(LeakyRelu_1_output) -> (AveragePool_output) {dilations=[2,2], kernel_shape=[2,2]}
// CHECK: node Resize Resize(AveragePool_output, , constant_1) -> (Resize_output) {antialias=1, mode='linear'}
// CHECK: node Gelu Gelu(Resize_output) -> (Gelu_output) {approximate='tanh'}
// CHECK: node ReduceMean ReduceMean(Gelu_output, constant_2) -> (ReduceMean_output) {keepdims=0}
// CHECK: node Split Split(ReduceMean_output) -> (Split_output_0, Split_output_1) {axis=1, num_outputs=2}
// CHECK: node Pad Pad(Split_output_0, constant_3, , constant_4) -> (Pad_output) {mode='reflect'}
// CHECK: node Cast Cast(Split_output_1) -> (Cast_output) {to=3}
// CHECK: node QuantizeLinear QuantizeLinear(Pad_output, constant_5) -> (pq) {output_dtype=3}
// CHECK: node Shape Shape(Cast_output) -> (Shape_output)
// CHECK: node ConstantOfShape ConstantOfShape(Shape_output) -> (f) {value=tensor FLOAT16 [1] [1]}

// Imported back: the same ops and attributes.
// IMPORT: quarc.conv %arg0, %{{.*}}, %{{.*}} {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
// IMPORT: quarc.lstm {{.*}} {activation_alpha = array<f32: 5.000000e-01, 2.500000e-01>, activations = ["Sigmoid", "Tanh", "Relu"], clip = 4.000000e+00 : f32, hidden_size = 1 : i64}
// IMPORT: quarc.leaky_relu %{{.*}} {alpha = 1.250000e-01 : f32}
// IMPORT: quarc.average_pool %{{.*}} {dilations = array<i64: 2, 2>, kernel_shape = array<i64: 2, 2>}
// IMPORT: quarc.resize {{.*}} {antialias = 1 : i64, mode = "linear"} : (tensor<?x2x4x4xf32>, none, tensor<4xf32>, none) -> tensor<?x2x8x8xf32>
// IMPORT: quarc.gelu %{{.*}} {approximate = "tanh"}
// IMPORT: quarc.reduce_mean {{.*}} {keepdims = 0 : i64} : (tensor<?x2x8x8xf32>, tensor<1xi64>) -> tensor<?x2x8xf32>
// IMPORT: quarc.split {{.*}} {axis = 1 : i64, num_outputs = 2 : i64}
// IMPORT: quarc.pad {{.*}} {mode = "reflect"} : (tensor<?x1x8xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<?x1x10xf32>
// IMPORT: quarc.cast %{{.*}} {to = i8}
// IMPORT: quarc.quantize_linear {{.*}} {output_dtype = i8}
// IMPORT: quarc.constant_of_shape %{{.*}} {value = dense<1.000000e+00> : tensor<1xf16>}

module attributes {quarc.graph_name = "ops"} {
  func.func @main_graph(%arg0: tensor<?x1x12x12xf32> {quarc.name = "x"}, %arg1: tensor<3x1x2xf32> {quarc.name = "seq"}) -> (tensor<?x1x10xi8> {quarc.name = "pq"}, tensor<?x?x?xf16> {quarc.name = "f"}, tensor<3x1x1x1xf32> {quarc.name = "ly"}, tensor<1x1x1xf32> {quarc.name = "lc"}) {
    %0 = quarc.constant dense<[[[[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00, 9.000000e+00]]], [[[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00, 9.000000e+00]]]]> : tensor<2x1x3x3xf32>
    %1 = quarc.constant dense<[1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00]> : tensor<4xf32>
    %2 = quarc.constant dense<3> : tensor<1xi64>
    %3 = quarc.constant dense<1> : tensor<2xi64>
    %4 = quarc.constant dense<2> : tensor<1xi64>
    %5 = quarc.constant dense<5.000000e-01> : tensor<f32>
    %6 = quarc.constant dense<1.000000e+00> : tensor<1x4x2xf32>
    %7 = quarc.constant dense<1.000000e+00> : tensor<1x4x1xf32>
    %8 = quarc.none
    %9 = quarc.conv %arg0, %0, %8 {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x1x12x12xf32>, tensor<2x1x3x3xf32>, none) -> tensor<?x2x6x6xf32>
    %10 = quarc.none
    %11 = quarc.none
    %12 = quarc.none
    %13 = quarc.none
    %14 = quarc.none
    %Y, %Y_h, %Y_c = quarc.lstm %arg1, %6, %7, %10, %11, %12, %13, %14 {activation_alpha = array<f32: 5.000000e-01, 2.500000e-01>, activations = ["Sigmoid", "Tanh", "Relu"], clip = 4.000000e+00 : f32, hidden_size = 1 : i64} : (tensor<3x1x2xf32>, tensor<1x4x2xf32>, tensor<1x4x1xf32>, none, none, none, none, none) -> (tensor<3x1x1x1xf32>, tensor<1x1x1xf32>, tensor<1x1x1xf32>)
    %15 = quarc.leaky_relu %9 {alpha = 1.250000e-01 : f32} : (tensor<?x2x6x6xf32>) -> tensor<?x2x6x6xf32>
    %16 = quarc.leaky_relu %15 : (tensor<?x2x6x6xf32>) -> tensor<?x2x6x6xf32>
    %17 = quarc.average_pool %16 {dilations = array<i64: 2, 2>, kernel_shape = array<i64: 2, 2>} : (tensor<?x2x6x6xf32>) -> tensor<?x2x4x4xf32>
    %18 = quarc.none
    %19 = quarc.none
    %20 = quarc.resize %17, %18, %1, %19 {antialias = 1 : i64, mode = "linear"} : (tensor<?x2x4x4xf32>, none, tensor<4xf32>, none) -> tensor<?x2x8x8xf32>
    %21 = quarc.gelu %20 {approximate = "tanh"} : (tensor<?x2x8x8xf32>) -> tensor<?x2x8x8xf32>
    %22 = quarc.reduce_mean %21, %2 {keepdims = 0 : i64} : (tensor<?x2x8x8xf32>, tensor<1xi64>) -> tensor<?x2x8xf32>
    %23 = quarc.none
    %24:2 = quarc.split %22, %23 {axis = 1 : i64, num_outputs = 2 : i64} : (tensor<?x2x8xf32>, none) -> (tensor<?x1x8xf32>, tensor<?x1x8xf32>)
    %25 = quarc.none
    %26 = quarc.pad %24#0, %3, %25, %4 {mode = "reflect"} : (tensor<?x1x8xf32>, tensor<2xi64>, none, tensor<1xi64>) -> tensor<?x1x10xf32>
    %27 = quarc.cast %24#1 {to = i8} : (tensor<?x1x8xf32>) -> tensor<?x1x8xi8>
    %28 = quarc.none
    %29 = quarc.quantize_linear %26, %5, %28 {output_dtype = i8} : (tensor<?x1x10xf32>, tensor<f32>, none) -> tensor<?x1x10xi8>
    %30 = quarc.shape %27 : (tensor<?x1x8xi8>) -> tensor<3xi64>
    %31 = quarc.constant_of_shape %30 {value = dense<1.000000e+00> : tensor<1xf16>} : (tensor<3xi64>) -> tensor<?x?x?xf16>
    return %29, %31, %Y, %Y_c : tensor<?x1x10xi8>, tensor<?x?x?xf16>, tensor<3x1x1x1xf32>, tensor<1x1x1xf32>
  }
}
