"""The graph passes (quarc-fold-batchnorm, quarc-simplify-layout) on small ONNX models.

Each model is compiled by `quarc run` and checked against onnxruntime, and the graph
the driver lowers (the IR just before convert-quarc-to-linalg) is checked for what the
passes must have removed: no BatchNormalization after a conv, no transB on a constant
Gemm weight, no transposes of constants or pairs of transposes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools

pytest.importorskip("onnxruntime")  # the reference (quarc_tools.onnxruntime_reference)

# Folding BatchNorm rounds the scaled weights to f32 once, where onnxruntime
# rounds the conv result and then the normalization: the outputs (magnitude
# ~1-10 here) differ by a few ulps of the accumulated sums, far below 1e-4
# relative. The layout rewrites move data without arithmetic, so only the
# order of the matmul's f32 additions can differ.
RTOL = 1e-4
ATOL = 1e-5

OPSET = 17


def tensor(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.ascontiguousarray(array), name)


def make_model(nodes, inputs, outputs, initializers) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "graph",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in inputs],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in outputs],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model)
    return model


def batch_norm_params(rng, prefix: str, channels: int) -> list[onnx.TensorProto]:
    """Non-trivial BatchNorm parameters: scales of both signs, shifts, means, variances."""
    return [
        tensor(f"{prefix}_scale", rng.uniform(-2.0, 2.0, channels).astype(np.float32)),
        tensor(f"{prefix}_bias", rng.uniform(-1.0, 1.0, channels).astype(np.float32)),
        tensor(f"{prefix}_mean", rng.uniform(-0.5, 0.5, channels).astype(np.float32)),
        tensor(f"{prefix}_var", rng.uniform(0.1, 3.0, channels).astype(np.float32)),
    ]


def batch_norm(prefix: str, x: str, y: str) -> onnx.NodeProto:
    return helper.make_node(
        "BatchNormalization",
        [x, f"{prefix}_scale", f"{prefix}_bias", f"{prefix}_mean", f"{prefix}_var"], [y],
        epsilon=1e-3)


# ---------------------------------------------------------------------------
# The models


def conv_bn_model(rng) -> onnx.ModelProto:
    """Conv (with bias) -> BN -> Relu -> depthwise Conv -> BN -> ConvTranspose -> Add -> BN."""
    inits = [
        tensor("w1", rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3),
        tensor("b1", rng.standard_normal(8).astype(np.float32)),
        tensor("w2", rng.standard_normal((8, 1, 3, 3)).astype(np.float32) * 0.3),
        tensor("w3", rng.standard_normal((8, 3, 2, 2)).astype(np.float32) * 0.3),
        tensor("b3", rng.standard_normal((1, 6, 1, 1)).astype(np.float32)),
    ]
    inits += batch_norm_params(rng, "bn1", 8)
    inits += batch_norm_params(rng, "bn2", 8)
    inits += batch_norm_params(rng, "bn3", 6)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        batch_norm("bn1", "c1", "n1"),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], group=8, strides=[2, 2], pads=[1, 1, 1, 1]),
        batch_norm("bn2", "c2", "n2"),
        # ConvTranspose with 2 groups: W is C x M/group x k, M = 6; its bias
        # added by a separate Add, as PaddlePaddle exports it.
        helper.make_node("ConvTranspose", ["n2", "w3"], ["c3"], group=2, strides=[2, 2]),
        helper.make_node("Add", ["c3", "b3"], ["a3"]),
        batch_norm("bn3", "a3", "y"),
    ]
    return make_model(nodes, [("x", [2, 3, 10, 10])], [("y", [2, 6, 10, 10])], inits)


def linear_model(rng) -> onnx.ModelProto:
    """nn.Linear as exported: Gemm with transB=1, a bias, then BatchNorm1d and a second Linear."""
    inits = [
        tensor("w1", rng.standard_normal((32, 24)).astype(np.float32) * 0.2),
        tensor("b1", rng.standard_normal(32).astype(np.float32)),
        tensor("w2", rng.standard_normal((10, 32)).astype(np.float32) * 0.2),
        tensor("b2", rng.standard_normal(10).astype(np.float32)),
    ]
    inits += batch_norm_params(rng, "bn", 32)
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["g1"], transB=1, alpha=0.75, beta=1.5),
        batch_norm("bn", "g1", "n1"),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Gemm", ["r1", "w2", "b2"], ["y"], transB=1),
    ]
    return make_model(nodes, [("x", [5, 24])], [("y", [5, 10])], inits)


def matmul_model(rng) -> onnx.ModelProto:
    """MatMul by a transposed weight, and MatMul + Add + BatchNorm1d."""
    inits = [
        tensor("w1", rng.standard_normal((16, 12)).astype(np.float32) * 0.3),  # used transposed
        tensor("w2", rng.standard_normal((16, 8)).astype(np.float32) * 0.3),
        tensor("b2", rng.standard_normal(8).astype(np.float32)),
    ]
    inits += batch_norm_params(rng, "bn", 8)
    nodes = [
        helper.make_node("Transpose", ["w1"], ["w1t"], perm=[1, 0]),
        helper.make_node("MatMul", ["x", "w1t"], ["m1"]),
        helper.make_node("MatMul", ["m1", "w2"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["a2"]),
        batch_norm("bn", "a2", "y"),
    ]
    return make_model(nodes, [("x", [4, 12])], [("y", [4, 8])], inits)


def transpose_model(rng) -> onnx.ModelProto:
    """A transpose pair that cancels, unit-dim transposes, a reshape chain."""
    nodes = [
        helper.make_node("Transpose", ["x"], ["t1"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["t1"], ["t2"], perm=[0, 3, 1, 2]),
        helper.make_node("Relu", ["t2"], ["r"]),
        # [1, 3, 1, 5] -> [1, 1, 3, 5]: only size-1 dims move.
        helper.make_node("Transpose", ["r"], ["u"], perm=[0, 2, 1, 3]),
        helper.make_node("Unsqueeze", ["u", "axes"], ["v"]),
        helper.make_node("Flatten", ["v"], ["y"], axis=3),
        # The same transpose alone: a reshape of equal rank.
        helper.make_node("Transpose", ["x"], ["w"], perm=[2, 0, 1, 3]),
        helper.make_node("Sigmoid", ["w"], ["z"]),
    ]
    inits = [tensor("axes", np.array([0], np.int64))]
    return make_model(nodes, [("x", [1, 3, 1, 5])], [("y", [1, 15]), ("z", [1, 1, 3, 5])],
                      inits)


MODELS = {
    "conv_bn": (conv_bn_model, {"x": (2, 3, 10, 10)}),
    "linear": (linear_model, {"x": (5, 24)}),
    "matmul": (matmul_model, {"x": (4, 12)}),
    "transpose": (transpose_model, {"x": (1, 3, 1, 5)}),
}


# ---------------------------------------------------------------------------
# Helpers


def save(model: onnx.ModelProto, folder: Path, name: str) -> Path:
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


def lowered_graph(model: Path, shapes: dict[str, tuple]) -> str:
    """The quarc-dialect IR the driver's pipeline hands to convert-quarc-to-linalg."""
    shape_list = ",".join(f"{name}=" + "x".join(map(str, shape)) for name, shape in shapes.items())
    code, _, err = quarc_tools.run_tool(
        [str(quarc_tools.tool_path("quarc-opt")), str(model), "-o", "/dev/null",
         f"--quarc-compile-to-llvm=input-shapes={shape_list}",
         "--mlir-print-ir-before=convert-quarc-to-linalg", "--mlir-elide-elementsattrs-if-larger=8",
         "--mlir-elide-resource-strings-if-larger=8"],
        timeout=quarc_tools.RUN_TIMEOUT_S)
    assert code == 0, quarc_tools.diagnostic_summary(code, err)
    return err


def run_quarc(model: Path, inputs: dict[str, np.ndarray], folder: Path) -> dict[str, np.ndarray]:
    args = ["run", model, "--output-dir", folder / "out"]
    for name, array in inputs.items():
        path = folder / f"{name}.npy"
        np.save(path, array)
        args += quarc_tools.shape_flag(name, array.shape) + ["--input", f"{name}={path}"]
    code, _, err = quarc_tools.run_quarc(args)
    if quarc_tools.is_crash(code, err):
        pytest.fail(f"quarc run crashed: {quarc_tools.crash_summary(code, err)}")
    assert code == 0, quarc_tools.first_error_line(err)
    return {path.stem: np.load(path) for path in (folder / "out").glob("*.npy")}


# ---------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("name", sorted(MODELS))
def test_matches_onnxruntime(quarc_driver, tmp_path, name):
    build, shapes = MODELS[name]
    rng = np.random.default_rng(7)
    model = save(build(rng), tmp_path, name)
    inputs = {key: rng.standard_normal(shape).astype(np.float32) for key, shape in shapes.items()}
    expected = quarc_tools.onnxruntime_reference(model, inputs)
    actual = run_quarc(model, inputs, tmp_path)
    for output, reference in expected.items():
        assert output in actual, f"quarc wrote no output '{output}'"
        np.testing.assert_allclose(actual[output], reference, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{name}: output '{output}'")


def test_batchnorm_folded_into_convs(quarc_driver, tmp_path):
    model = save(conv_bn_model(np.random.default_rng(7)), tmp_path, "conv_bn")
    graph = lowered_graph(model, {"x": (2, 3, 10, 10)})
    assert "quarc.batch_normalization" not in graph
    assert "quarc.add" not in graph
    assert graph.count("quarc.conv ") == 2 and graph.count("quarc.conv_transpose ") == 1
    # Every convolution got a bias (the BatchNorm's shift).
    assert "none)" not in "".join(line for line in graph.splitlines() if "quarc.conv" in line)


def test_linear_weights_transposed_at_compile_time(quarc_driver, tmp_path):
    model = save(linear_model(np.random.default_rng(7)), tmp_path, "linear")
    graph = lowered_graph(model, {"x": (5, 24)})
    assert "quarc.batch_normalization" not in graph
    gemms = [line for line in graph.splitlines() if "quarc.gemm" in line]
    assert len(gemms) == 2
    for gemm in gemms:
        assert "transB" not in gemm and "transA" not in gemm, gemm
    # B is K x N now: 24x32 and 32x10.
    assert re.search(r"tensor<5x24xf32>, tensor<24x32xf32>", graph)
    assert re.search(r"tensor<5x32xf32>, tensor<32x10xf32>", graph)


def test_matmul_weights_transposed_and_batchnorm_folded(quarc_driver, tmp_path):
    model = save(matmul_model(np.random.default_rng(7)), tmp_path, "matmul")
    graph = lowered_graph(model, {"x": (4, 12)})
    for op in ("quarc.transpose", "quarc.batch_normalization", "quarc.add"):
        assert op not in graph
    assert "quarc.gemm" in graph  # MatMul + Add + BatchNorm


def test_layout_ops_simplified(quarc_driver, tmp_path):
    model = save(transpose_model(np.random.default_rng(7)), tmp_path, "transpose")
    graph = lowered_graph(model, {"x": (1, 3, 1, 5)})
    for op in ("quarc.transpose", "quarc.unsqueeze", "quarc.flatten"):
        assert op not in graph
    assert graph.count("quarc.reshape ") == 2
