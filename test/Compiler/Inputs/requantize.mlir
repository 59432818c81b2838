// A requantization from i16 to u8 (real scale 0.001 / 0.05 = 0.02: a
// right shift of 37), for the tests of how quarc compile finishes it.
!x = !quant.uniform<i16:f32, 0.001>
!y = !quant.uniform<u8:f32, 0.05:10>
func.func @main_graph(%xf: tensor<1x64x64xf32>) -> tensor<1x64x64xf32> {
  %x = quarc.quantize %xf : tensor<1x64x64xf32> -> tensor<1x64x64x!x>
  %y = quarc.requantize %x : tensor<1x64x64x!x> -> tensor<1x64x64x!y>
  %yf = quarc.dequantize %y : tensor<1x64x64x!y> -> tensor<1x64x64xf32>
  return %yf : tensor<1x64x64xf32>
}
