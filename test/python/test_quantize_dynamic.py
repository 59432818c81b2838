"""`quarc compile/run --quantize=dynamic-int8` (quarc-quantize-dynamic, quarc.qmatmul_dynamic):
MatMul and Gemm weights quantized at compile time (s8, per column), activations at run time
from each run's own range (u8, as ONNX DynamicQuantizeLinear).

Checked two ways: against onnxruntime's `quantize_dynamic` model, run by onnxruntime as
written (graph optimizations off), which computes the same operations in the same order
(DynamicQuantizeLinear, MatMulInteger, Cast, Mul by the scale product, Add); and against an
independent numpy implementation of the documented semantics, for a Gemm with transB, alpha
and beta (onnxruntime's quantize_dynamic leaves Gemm in float).
"""

from __future__ import annotations

import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools

ort = pytest.importorskip("onnxruntime")


def quarc(*args) -> tuple[int, str, str]:
    code, out, err = quarc_tools.run_quarc(list(args), timeout=quarc_tools.RUN_TIMEOUT_S)
    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    return code, out, err


def mlp_model(rng: np.random.Generator) -> onnx.ModelProto:
    """x (2 x 5 x 16) -> MatMul -> Add bias -> Relu -> MatMul -> Gemm (transB, alpha, beta)."""
    def weight(shape, scale=0.2):
        return (scale * rng.standard_normal(shape)).astype(np.float32)
    init = [numpy_helper.from_array(weight((16, 32)), "w1"),
            numpy_helper.from_array(weight(32, 0.1), "b1"),
            numpy_helper.from_array(weight((32, 24)), "w2"),
            numpy_helper.from_array(weight((6, 24)), "w3"),
            numpy_helper.from_array(weight(6, 0.1), "c3"),
            numpy_helper.from_array(np.array([-1, 24], np.int64), "flat")]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h1"], name="fc1"),
             helper.make_node("Add", ["h1", "b1"], ["h1b"], name="bias1"),
             helper.make_node("Relu", ["h1b"], ["r1"], name="relu1"),
             helper.make_node("MatMul", ["r1", "w2"], ["h2"], name="fc2"),
             helper.make_node("Reshape", ["h2", "flat"], ["h2f"], name="flatten"),
             helper.make_node("Gemm", ["h2f", "w3", "c3"], ["y"], name="head", transB=1,
                              alpha=0.5, beta=2.0)]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [10, 6])], init)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def run(model_path, x: np.ndarray, tmp_path, *flags) -> np.ndarray:
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out"
    code, _, err = quarc("run", model_path, "--quantize=dynamic-int8", *flags,
                         tmp_path / "x.npy", "--output-dir", out)
    assert code == 0, err
    return np.load(out / "y.npy")


def test_products_become_dynamic(tmp_path):
    model_path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(np.random.default_rng(1)), model_path)
    ir = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                         "--quarc-quantize-dynamic"],
                        capture_output=True, text=True, timeout=60, check=True).stdout
    assert ir.count("quarc.qmatmul_dynamic") == 3, ir
    assert "quarc.matmul " not in ir and "quarc.gemm " not in ir, ir


def test_matches_onnxruntime_quantize_dynamic(tmp_path):
    """onnxruntime quantizes the MatMuls (not the Gemm), so the Gemm stays float on both
    sides here: the quantized parts compute the same f32 operations in the same order.
    Only the float Gemm's summation order may differ: a few f32 ulps. The model
    quantize_dynamic writes is evaluated by onnx.reference (its ONNX semantics) and, on
    hosts with VNNI, by onnxruntime too: without VNNI onnxruntime's u8 x s8 kernels add
    pairs of products with vpmaddubsw, which saturates at int16 (on a Zen 3 its outputs
    here are up to 0.26 off the reference's, of 1.9)."""
    from onnx.reference import ReferenceEvaluator
    from onnxruntime.quantization import QuantType, quantize_dynamic
    rng = np.random.default_rng(2)
    model_path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(rng), model_path)
    ort_path = tmp_path / "mlp_dynamic.onnx"
    quantize_dynamic(str(model_path), str(ort_path), per_channel=True,
                     weight_type=QuantType.QInt8)
    assert sum(n.op_type == "MatMulInteger" for n in onnx.load(ort_path).graph.node) == 2
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(ort_path), options, providers=["CPUExecutionProvider"])
    exact_kernels = quarc_tools.host_has("avx512_vnni") or quarc_tools.host_has("avx_vnni")
    reference_session = ReferenceEvaluator(str(ort_path))
    float_session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    for i in range(4):
        # Natural-looking activations: smooth waves along the features, varying range.
        t = np.linspace(0, 1, 16, dtype=np.float32)
        x = np.stack([np.stack([rng.uniform(0.5, 3) * np.sin(2 * np.pi * (rng.uniform(0.5, 2) * t
                                                                         + rng.uniform(0, 1)))
                                for _ in range(5)]) for _ in range(2)]).astype(np.float32)
        x += 0.05 * rng.standard_normal(x.shape).astype(np.float32)
        ours = run(model_path, x, tmp_path, "--keep-float=Gemm")
        references = [reference_session.run(None, {"x": x})[0]]
        if exact_kernels:
            references.append(session.run(None, {"x": x})[0])
        for theirs in references:
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * np.abs(theirs).max())
        reference = float_session.run(None, {"x": x})[0]
        assert not np.array_equal(ours, reference)  # it did quantize


def dynamic_quantize_linear(x: np.ndarray) -> tuple[np.ndarray, np.float32, int]:
    """ONNX DynamicQuantizeLinear (uint8), in float32."""
    lo, hi = min(0.0, float(x.min())), max(0.0, float(x.max()))
    scale = np.float32((np.float32(hi) - np.float32(lo)) / np.float32(255))
    zero_point = int(np.rint(np.clip(-np.float32(lo) / scale, 0, 255)))
    q = np.clip(np.rint(x / scale) + zero_point, 0, 255).astype(np.int64)
    return q, scale, zero_point


def test_gemm_matches_the_documented_semantics(tmp_path):
    """A Gemm (transB, alpha, beta): the weight alpha * B^T quantized symmetric s8 per column
    (scale max|w| / 127 rounded to f32, q = rint(w / scale)), the activation per
    DynamicQuantizeLinear, y = f32(acc) * f32(sa * sb) + f32(beta * c). Every operation is
    a float32 operation or exact integer arithmetic, in this order: bit for bit."""
    rng = np.random.default_rng(3)
    b = (0.3 * rng.standard_normal((7, 12))).astype(np.float32)  # N x K (transB)
    c = (0.2 * rng.standard_normal(7)).astype(np.float32)
    init = [numpy_helper.from_array(b, "b"), numpy_helper.from_array(c, "c")]
    node = helper.make_node("Gemm", ["x", "b", "c"], ["y"], name="gemm", transB=1, alpha=0.75,
                            beta=1.5)
    graph = helper.make_graph(
        [node], "gemm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 7])], init)
    model_path = tmp_path / "gemm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model_path)
    x = (np.sin(np.arange(36, dtype=np.float32).reshape(3, 12) / 3) * 2 - 0.3).astype(np.float32)
    ours = run(model_path, x, tmp_path)

    w = np.float32(0.75) * b.T  # K x N
    sb = (np.abs(w).max(axis=0).astype(np.float64) / 127).astype(np.float32)
    wq = np.clip(np.rint(w / sb), -128, 127).astype(np.int64)
    aq, sa, za = dynamic_quantize_linear(x)
    acc = (aq - za) @ wq
    expected = acc.astype(np.float32) * (sa * sb) + np.float32(1.5) * c
    np.testing.assert_array_equal(ours, expected)


def test_all_zero_activation_gives_the_bias(tmp_path):
    """A zero range has no scale (DynamicQuantizeLinear would divide by zero): the product
    is 0 and the result the bias."""
    rng = np.random.default_rng(4)
    b = rng.standard_normal((4, 3)).astype(np.float32)
    c = rng.standard_normal(3).astype(np.float32)
    init = [numpy_helper.from_array(b, "b"), numpy_helper.from_array(c, "c")]
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "b", "c"], ["y"], name="gemm")], "zeros",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], init)
    model_path = tmp_path / "zeros.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model_path)
    ours = run(model_path, np.zeros((2, 4), np.float32), tmp_path)
    np.testing.assert_array_equal(ours, np.broadcast_to(c, (2, 3)))


@pytest.mark.parametrize("args,message", [
    (["--quantize=dynamic-int8", "--stats", "s.json"], "needs no calibration"),
    (["--quantize=dynamic-int8", "--data", "d"], "needs no calibration"),
    (["--quantize=dynamic-int4"], "--quantize takes int8 (static quantization), dynamic-int8"),
])
def test_usage_errors(tmp_path, args, message):
    model_path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(np.random.default_rng(1)), model_path)
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "m.so", *args)
    assert code == 2 and message in err, err
    assert not (tmp_path / "m.so").exists()


def test_16_bit_weights_are_a_usage_error(tmp_path):
    model_path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(np.random.default_rng(1)), model_path)
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "m.so",
                         "--quantize=dynamic-int8", "--scheme", "weights=s16:symmetric")
    assert code == 2 and "dynamic-int8 takes 8-bit weights" in err, err
    assert not (tmp_path / "m.so").exists()
    # The pass says so too, when run by itself.
    ir = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                         "--quarc-quantize-dynamic=scheme=weights=s16:symmetric"],
                        capture_output=True, text=True, timeout=60, check=False)
    assert ir.returncode != 0 and "takes 8-bit weights" in ir.stderr, ir.stderr


def test_per_group_weights_of_a_matmul_are_an_error_naming_it(tmp_path):
    """Per-group weights are for recurrent layers (test_rnn_dynamic.py); a MatMul or
    Gemm with them is one error naming the node, not a verifier failure."""
    model_path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(np.random.default_rng(1)), model_path)
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "m.so",
                         "--quantize=dynamic-int8", "--scheme", "weights=s8:per-group=32")
    assert code == 1, err
    assert "MatMul and Gemm weights are quantized per tensor or per channel" in err, err
    assert "op b must be" not in err, err
    assert not (tmp_path / "m.so").exists()
