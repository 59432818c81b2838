// y = sigmoid(x + b), with a symbolic batch dimension.
module attributes {quarc.graph_name = "add_sigmoid"} {
  func.func @main_graph(%x: tensor<?x4xf32> {quarc.name = "x"}) -> (tensor<?x4xf32> {quarc.name = "y"}) {
    %b = quarc.constant dense<[1.0, -2.0, 3.0, -4.0]> : tensor<4xf32>
    %t = quarc.add %x, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
    %y = quarc.sigmoid %t : (tensor<?x4xf32>) -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}
