// An integer depthwise convolution (5 x 5, as quarc-fold-qdq leaves it)
// for the disassembly test of quarc-vectorize-depthwise's integer kernels;
// the weights are not a splat.
!x = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<u8:f32, 1.0:5>
func.func @main_graph(%xf: tensor<1x4x12x40xf32>) -> tensor<1x4x12x40xf32> {
  %x = quarc.quantize %xf : tensor<1x4x12x40xf32> -> tensor<1x4x12x40x!x>
  %ws = arith.constant dense<[[[[59, -35, 89, -9, 76], [89, 66, 35, -93, 19], [98, -37, 66, -87, -60], [-72, -5, 20, -37, -3], [39, -74, 46, -37, -97]]], [[[87, -45, 4, -29, -54], [96, -1, -60, 95, -82], [-65, 58, 58, 13, -68], [-67, -100, -99, -47, 98], [-45, -58, -58, -26, -20]]], [[[-50, 38, 73, 60, -48], [-54, 76, -50, -2, -24], [-95, -8, 6, -58, -63], [-33, -84, -16, -23, 54], [50, -100, 52, 73, 81]]], [[[-14, -84, -21, -10, -22], [23, 78, -20, -53, 23], [20, 80, -55, -86, -35], [-95, 91, -9, 3, -96], [40, 7, -7, -4, 48]]]]> : tensor<4x1x5x5xi8>
  %w = quarc.storage_cast %ws : tensor<4x1x5x5xi8> -> tensor<4x1x5x5x!w>
  %b = arith.constant dense<[7, -3, 0, 11]> : tensor<4xi32>
  %y = quarc.qconv %x, %w, %b {group = 4 : i64, pads = array<i64: 2, 2, 2, 2>} : (tensor<1x4x12x40x!x>, tensor<4x1x5x5x!w>, tensor<4xi32>) -> tensor<1x4x12x40x!y>
  %yf = quarc.dequantize %y : tensor<1x4x12x40x!y> -> tensor<1x4x12x40xf32>
  return %yf : tensor<1x4x12x40xf32>
}
