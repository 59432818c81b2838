// RUN: quarc-translate --export-onnx %s -split-input-file -verify-diagnostics -o /dev/null
// RUN: rm -f %t.onnx
// RUN: not quarc-translate --export-onnx %s -split-input-file -o %t.onnx 2>/dev/null
// RUN: test ! -e %t.onnx

// What cannot be exported is one error at the op, naming the ONNX node when
// the location has one, and nothing is written.

func.func @main_graph(%x: tensor<1x1x2x2x!quant.uniform<u8:f32, 0.5:128>>, %w: tensor<1x1x1x1x!quant.uniform<i8:f32, 0.25>>, %b: tensor<1xi32>) -> tensor<1x1x2x2xf32> {
  // expected-error @unknown {{node 'conv1' ('quarc.qconv') is quarc's integer form of a quantized op (made by quarc-fold-qdq) and has no ONNX equivalent; export the QDQ form, before quarc-fold-qdq}}
  %y = quarc.qconv %x, %w, %b : (tensor<1x1x2x2x!quant.uniform<u8:f32, 0.5:128>>, tensor<1x1x1x1x!quant.uniform<i8:f32, 0.25>>, tensor<1xi32>) -> tensor<1x1x2x2xf32> loc("conv1"(fused<"onnx.outputs">["y"]))
  return %y : tensor<1x1x2x2xf32>
}

// -----

func.func @main_graph(%x: tensor<2x!quant.uniform<u8:f32, 0.5:128>>) -> tensor<2x!quant.uniform<u8:f32, 0.25:128>> {
  // expected-error @+1 {{('quarc.requantize') is quarc's integer form of a quantized op (made by quarc-fold-qdq) and has no ONNX equivalent}}
  %y = quarc.requantize %x : tensor<2x!quant.uniform<u8:f32, 0.5:128>> -> tensor<2x!quant.uniform<u8:f32, 0.25:128>>
  return %y : tensor<2x!quant.uniform<u8:f32, 0.25:128>>
}

// -----

func.func @main_graph(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{('quarc.observe') is a calibration observer and has no ONNX equivalent}}
  quarc.observe %x {tensor = "x", index = 0 : i64} : tensor<2xf32>
  return %x : tensor<2xf32>
}

// -----

func.func @main_graph(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{('quant.qcast') has no ONNX equivalent (only quarc ops that mirror an ONNX op, and the quantize/dequantize/storage_cast of the QDQ form, export)}}
  %q = quant.qcast %x : tensor<2xf32> to tensor<2x!quant.uniform<u8:f32, 5.000000e-01>>
  %y = quant.dcast %q : tensor<2x!quant.uniform<u8:f32, 5.000000e-01>> to tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

func.func @main_graph(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{quantized type '!quant.uniform<i32:f32, 5.000000e-01>': ONNX QuantizeLinear has no 32-bit storage type}}
  %q = quarc.quantize %x : tensor<2xf32> -> tensor<2x!quant.uniform<i32:f32, 0.5>>
  %y = quarc.dequantize %q : tensor<2x!quant.uniform<i32:f32, 0.5>> -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

func.func @main_graph(%x: tensor<2xf64>) -> tensor<2xf64> {
  // expected-error @+1 {{quantized type '!quant.uniform<i8:f64, 5.000000e-01>': ONNX scales are float, float16 or bfloat16, not 'f64'}}
  %q = quarc.quantize %x : tensor<2xf64> -> tensor<2x!quant.uniform<i8:f64, 0.5>>
  %y = quarc.dequantize %q : tensor<2x!quant.uniform<i8:f64, 0.5>> -> tensor<2xf64>
  return %y : tensor<2xf64>
}

// -----

// expected-error @+1 {{tensor 'input_0': the element type 'complex<f32>' has no ONNX data type}}
func.func @main_graph(%x: tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>> {
  return %x : tensor<2xcomplex<f32>>
}

// -----

// expected-error @+1 {{the module has several public functions ('a', 'b'); an ONNX model is one graph}}
module {
  func.func @a() {
    return
  }
  func.func @b() {
    return
  }
}

// -----

// expected-error @+1 {{the module has no public function with a body to export as the ONNX graph}}
module {
  func.func private @a()
}
