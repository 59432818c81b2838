"""Writes DIR/model.onnx whose initializer W (2 floats) is external data at
location LOCATION (relative to DIR), for the external-data lit tests.

usage: external_weight_model.py DIR LOCATION
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

directory, location = sys.argv[1], sys.argv[2]
weight = onnx.TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[2])
weight.data_location = TensorProto.EXTERNAL
entry = weight.external_data.add()
entry.key, entry.value = "location", location
graph = helper.make_graph(
    [helper.make_node("Add", ["X", "W"], ["Y"], name="add")], "external",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2])], [weight])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
with open(os.path.join(directory, "model.onnx"), "wb") as f:
    f.write(model.SerializeToString())
