// RUN: quarc-translate --export-onnx %s -o %t.onnx
// RUN: %onnx-to-text %t.onnx --check | FileCheck %s
// RUN: quarc-translate --import-onnx %t.onnx | quarc-opt -canonicalize | FileCheck %s --check-prefix=IMPORT

// The QDQ form becomes QuantizeLinear/DequantizeLinear with scale and zero
// point initializers named after the tensor (shared by its quantize and
// dequantize); a weight's integers are an initializer of the quantized
// type's signedness, the storage_cast disappears, and the dequantized
// weight keeps the weight's name. A zero point is written even when 0: it
// sets QuantizeLinear's output type. A returned value is named after the
// output (m_out, r_out).

// CHECK: checker: ok
// CHECK: model ir_version=11 producer=quarc opsets=ai.onnx:23
// CHECK: graph qdq
// CHECK: input image FLOAT [1,3,4,4]
// CHECK: input r FLOAT [3]
// CHECK: output y FLOAT [1,2,4,4]
// CHECK: output m_out FLOAT [4,2]
// CHECK: output r_out FLOAT [3]
// CHECK-DAG: initializer image_scale FLOAT [] typed [0.0078125]
// CHECK-DAG: initializer image_zero_point UINT8 [] typed [128]
// CHECK-DAG: initializer w_quantized INT8 [2, 3, 1, 1] typed [127,-64,1,-127,0,5]
// CHECK-DAG: initializer w_scale FLOAT [2] typed [0.5,0.25]
// CHECK-DAG: initializer w_zero_point INT8 [2] typed [0,0]
// CHECK-DAG: initializer b FLOAT [2] typed [0.5,-0.5]
// CHECK-DAG: initializer c_scale FLOAT [] typed [0.0625]
// CHECK-DAG: initializer c_zero_point INT8 [] typed [0]
// CHECK-DAG: initializer c_qmin INT8 [] typed [-127]
// CHECK-DAG: initializer c_qmax INT8 [] typed [127]
// CHECK-DAG: initializer m_quantized UINT8 [4, 2] typed [1,2,3,4,5,6,7,8]
// CHECK-DAG: initializer m_scale FLOAT [2, 2] typed [0.5,0.25,0.125,1]
// CHECK-DAG: initializer m_zero_point UINT8 [2, 2] typed [128,128,128,128]
// CHECK-DAG: initializer r_scale FLOAT [] typed [0.0009765625]
// CHECK-DAG: initializer r_zero_point UINT16 [] typed [32768]
// CHECK: node image_QuantizeLinear QuantizeLinear(image, image_scale, image_zero_point) -> (image_quantized)
// CHECK-NEXT: node image_DequantizeLinear DequantizeLinear(image_quantized, image_scale, image_zero_point) -> (image_dequantized)
// CHECK-NEXT: node w_DequantizeLinear DequantizeLinear(w_quantized, w_scale, w_zero_point) -> (w) {axis=0}
// CHECK-NEXT: node conv Conv(image_dequantized, w, b) -> (c)
// A narrow range (s8 in [-127, 127]) is a Clip of the integers.
// CHECK-NEXT: node c_QuantizeLinear QuantizeLinear(c, c_scale, c_zero_point) -> (c_quantized_full_range)
// CHECK-NEXT: node c_Clip Clip(c_quantized_full_range, c_qmin, c_qmax) -> (c_quantized)
// CHECK-NEXT: node c_DequantizeLinear DequantizeLinear(c_quantized, c_scale, c_zero_point) -> (c_dequantized)
// Blocked (sub-channel) quantization: axis and block_size.
// CHECK-NEXT: node m_DequantizeLinear DequantizeLinear(m_quantized, m_scale, m_zero_point) -> (m_out) {axis=0, block_size=2}
// 16-bit storage.
// CHECK-NEXT: node r_QuantizeLinear QuantizeLinear(r, r_scale, r_zero_point) -> (r_quantized)
// CHECK-NEXT: node r_DequantizeLinear DequantizeLinear(r_quantized, r_scale, r_zero_point) -> (r_out)
// CHECK-NEXT: node relu Relu(c_dequantized) -> (y)
// CHECK-NOT: node

// Imported back, canonicalization gives the same quantized types.
// IMPORT: quarc.quantize %arg0 : tensor<1x3x4x4xf32> -> tensor<1x3x4x4x!quant.uniform<u8:f32, 7.812500e-03:128>>
// IMPORT: quarc.storage_cast %{{.*}} : tensor<2x3x1x1xi8> -> tensor<2x3x1x1x!quant.uniform<i8:f32:0, {5.000000e-01,2.500000e-01}>>
// IMPORT: quarc.quantize %{{.*}} : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<i8:f32, 6.250000e-02>>
// IMPORT: quarc.clip

module attributes {quarc.graph_name = "qdq"} {
  func.func @main_graph(%x: tensor<1x3x4x4xf32> {quarc.name = "image"},
                        %r: tensor<3xf32> {quarc.name = "r"})
      -> (tensor<1x2x4x4xf32> {quarc.name = "y"}, tensor<4x2xf32> {quarc.name = "m_out"},
          tensor<3xf32> {quarc.name = "r_out"}) {
    %xq = quarc.quantize %x : tensor<1x3x4x4xf32> -> tensor<1x3x4x4x!quant.uniform<u8:f32, 0.0078125:128>>
    %xd = quarc.dequantize %xq : tensor<1x3x4x4x!quant.uniform<u8:f32, 0.0078125:128>> -> tensor<1x3x4x4xf32>
    %wi = quarc.constant dense<[[[[127]], [[-64]], [[1]]], [[[-127]], [[0]], [[5]]]]> : tensor<2x3x1x1xi8> loc("w")
    %wq = quarc.storage_cast %wi : tensor<2x3x1x1xi8> -> tensor<2x3x1x1x!quant.uniform<i8:f32:0, {0.5, 0.25}>> loc("w")
    %w = quarc.dequantize %wq : tensor<2x3x1x1x!quant.uniform<i8:f32:0, {0.5, 0.25}>> -> tensor<2x3x1x1xf32> loc("w")
    %b = quarc.constant dense<[0.5, -0.5]> : tensor<2xf32> loc("b")
    %c = quarc.conv %xd, %w, %b : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32> loc("conv"(fused<"onnx.outputs">["c"]))
    %cq = quarc.quantize %c : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<i8<-127:127>:f32, 0.0625>> loc("conv"(fused<"onnx.outputs">["c"]))
    %cd = quarc.dequantize %cq : tensor<1x2x4x4x!quant.uniform<i8<-127:127>:f32, 0.0625>> -> tensor<1x2x4x4xf32> loc("conv"(fused<"onnx.outputs">["c"]))
    %mi = quarc.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xui8> loc("m")
    %mq = quarc.storage_cast %mi : tensor<4x2xui8> -> tensor<4x2x!quant.uniform<u8:f32:{0:2, 1:1}, {{0.5:128, 0.25:128}, {0.125:128, 1.0:128}}>> loc("m")
    %m = quarc.dequantize %mq : tensor<4x2x!quant.uniform<u8:f32:{0:2, 1:1}, {{0.5:128, 0.25:128}, {0.125:128, 1.0:128}}>> -> tensor<4x2xf32> loc("m")
    %rq = quarc.quantize %r : tensor<3xf32> -> tensor<3x!quant.uniform<u16:f32, 0.0009765625:32768>>
    %rd = quarc.dequantize %rq : tensor<3x!quant.uniform<u16:f32, 0.0009765625:32768>> -> tensor<3xf32>
    %y = quarc.relu %cd : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("relu"(fused<"onnx.outputs">["y"]))
    return %y, %m, %rd : tensor<1x2x4x4xf32>, tensor<4x2xf32>, tensor<3xf32>
  }
}
