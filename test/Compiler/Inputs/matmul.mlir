// y = x * w, 4 x 16 by 16 x 48: one matmul for the kernel generator.
module attributes {quarc.graph_name = "matmul"} {
  func.func @main_graph(%x: tensor<4x16xf32> {quarc.name = "x"}) -> (tensor<4x48xf32> {quarc.name = "y"}) {
    %w = quarc.constant dense<0.5> : tensor<16x48xf32>
    %y = quarc.matmul %x, %w : (tensor<4x16xf32>, tensor<16x48xf32>) -> tensor<4x48xf32>
    return %y : tensor<4x48xf32>
  }
}
