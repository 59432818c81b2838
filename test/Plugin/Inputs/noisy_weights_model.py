"""Writes the model of the plugin tests: two MatMuls in a row.

`noisy`'s weight (256 x 64) is small values (|w| <= 0.01) with one
outlier of 1.0 per column: at 8 bits per channel its SQNR is about 29 dB.
`clean`'s weight (64 x 8) is uniform in [-1, 1]: about 42 dB at 8 bits,
17 dB at 4.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
noisy = rng.uniform(-0.01, 0.01, size=(256, 64)).astype(np.float32)
noisy[rng.integers(0, 256, size=64), np.arange(64)] = 1.0
clean = rng.uniform(-1.0, 1.0, size=(64, 8)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w_noisy"], ["h"], name="noisy"),
     helper.make_node("MatMul", ["h", "w_clean"], ["y"], name="clean")],
    "noisy_weights",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 256])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
    [numpy_helper.from_array(noisy, "w_noisy"),
     numpy_helper.from_array(clean, "w_clean")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, sys.argv[1])
