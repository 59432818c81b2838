"""Weight-only quantized products: com.microsoft MatMulNBits models and `--quantize=int4-weight`
(quarc-decompose-matmul-nbits, quarc-quantize-weights, quarc.qmatmul_weight_only).

The reference is onnxruntime: its MatMulNBits kernel on models packed here with numpy
(independently of quarc), and its run of the QDQ model `quarc quantize --quantize=int4-weight`
writes, with the DequantizeLinear + MatMul fusion at accuracy level 0 (f32 activations, as
quarc computes; its default level 4 quantizes the activations to int8). Both dequantize the
weights exactly, so only the order of the f32 sums differs.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools

ort = pytest.importorskip("onnxruntime")


def quarc(*args):
    return quarc_tools.run_quarc([str(a) for a in args])


# x86 code runs in process where the host has the feature; AArch64 executables under
# qemu-aarch64. F32 activations use one kernel on every target; int8 activations use the
# integer dot products (vpdpbusd, vpmaddubsw, sdot, usdot), and loops on plain x86_64 and
# aarch64.
TARGETS = [
    pytest.param("x86_64", "sse4_2", id="x86_64"),
    pytest.param("x86_64+avx2", "avx2", id="avx2"),
    pytest.param("x86_64+avx512f", "avx512f", id="avx512f"),
    pytest.param("aarch64", None, id="aarch64"),
]
INT8_TARGETS = TARGETS + [
    pytest.param("x86_64+avx512vnni", "avx512_vnni", id="avx512vnni"),
    pytest.param("aarch64+dotprod", None, id="aarch64-dotprod"),
    pytest.param("aarch64+i8mm", None, id="aarch64-i8mm"),
]


def skip_unless_runnable(target, feature):
    if reason := quarc_tools.cannot_run_target(target, feature):
        pytest.skip(reason)


def run_model(model_path, target, inputs: dict, out_dir, *flags):
    """Runs the model for `target` (in process for x86, under qemu for AArch64); returns
    (exit code, stderr)."""
    paths = []
    for name, value in inputs.items():
        path = out_dir.parent / f"{name}.npy"
        np.save(path, value)
        paths.append(f"{name}={path}")
    return quarc_tools.run_for_target(model_path, target, paths, out_dir, *flags)


# --- MatMulNBits models packed with numpy (quarc_tools.matmul_nbits_model) -----------


def assert_close(actual, expected):
    assert actual.shape == expected.shape
    scale = np.abs(expected).max()
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * scale)


# (K, N, block, A shape without K, zero points, symmetric, bias)
NBITS_CASES = [
    pytest.param(64, 32, 32, [1], True, False, False, id="gemv"),
    pytest.param(100, 37, 16, [3], False, False, True, id="ragged-bias"),
    pytest.param(256, 48, 128, [2, 5], True, True, False, id="symmetric-batched"),
    pytest.param(96, 20, 32, [33], True, False, True, id="rows"),
    # More rows than a tile (AVX2, NEON: weights dequantized per k block and panel): an
    # odd K's last group of 13, 7 panels in groups of 4 (the last with 4 columns), 8 rows
    # as two tiles of 4; and K in three blocks of 128, the last with a group of 12.
    pytest.param(45, 100, 16, [8], True, False, True, id="odd-k-panel-groups"),
    pytest.param(300, 40, 32, [2, 7], False, False, False, id="k-blocks"),
]


@pytest.mark.parametrize("target,feature", TARGETS)
@pytest.mark.parametrize("k,n,block,rows,zero_points,symmetric,with_bias", NBITS_CASES)
def test_matmul_nbits_matches_onnxruntime(k, n, block, rows, zero_points, symmetric,
                                          with_bias, target, feature, quarc_driver, tmp_path):
    skip_unless_runnable(target, feature)
    rng = np.random.default_rng(k * n + block)
    w = rng.normal(size=(k, n)).astype(np.float32)
    bias = rng.normal(size=n).astype(np.float32) if with_bias else None
    model = quarc_tools.matmul_nbits_model(w, block, rows + [k], zero_points=zero_points,
                               symmetric=symmetric, bias=bias)
    path = tmp_path / "nbits.onnx"
    onnx.save(model, path)
    a = rng.normal(size=rows + [k]).astype(np.float32)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"A": a})[0]
    code, err = run_model(path, target, {"A": a}, tmp_path / "out")
    assert code == 0, err
    assert_close(np.load(tmp_path / "out" / "Y.npy"), expected)


# (K, N, block, A shape without K, zero points): K a multiple of 8 runs the integer kernel.
INT8_CASES = [
    pytest.param(256, 40, 32, [1], True, id="gemv"),
    pytest.param(128, 20, 16, [2, 9], False, id="batched"),
    pytest.param(96, 24, 64, [3], True, id="ragged-group"),
    pytest.param(100, 17, 32, [3], True, id="k-not-multiple-of-8"),
]


@pytest.mark.parametrize("target,feature", INT8_TARGETS)
@pytest.mark.parametrize("k,n,block,rows,zero_points", INT8_CASES)
def test_matmul_nbits_int8_activations(k, n, block, rows, zero_points, target, feature,
                                       quarc_driver, tmp_path):
    """accuracy_level 4: the activations quantized to s8 per row and block, as onnxruntime
    does, so the results agree to f32 rounding and differ from level 0 by far more."""
    skip_unless_runnable(target, feature)
    rng = np.random.default_rng(k + n + block)
    w = rng.normal(size=(k, n)).astype(np.float32)
    path = tmp_path / "nbits.onnx"
    onnx.save(quarc_tools.matmul_nbits_model(w, block, rows + [k], zero_points=zero_points,
                                             accuracy_level=4), path)
    a = rng.normal(size=rows + [k]).astype(np.float32)
    a[..., :block] = 0  # an all-zero group of some row: scale 0
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"A": a})[0]
    code, err = run_model(path, target, {"A": a}, tmp_path / "out")
    assert code == 0, err
    actual = np.load(tmp_path / "out" / "Y.npy")
    assert_close(actual, expected)
    level0 = path.with_name("level0.onnx")
    onnx.save(quarc_tools.matmul_nbits_model(w, block, rows + [k], zero_points=zero_points), level0)
    f32 = ort.InferenceSession(str(level0), providers=["CPUExecutionProvider"]).run(
        None, {"A": a})[0]
    assert np.abs(actual - f32).max() > 100 * np.abs(actual - expected).max()


@pytest.mark.parametrize("bits", [2, 8])
def test_matmul_nbits_other_widths(bits, quarc_driver, tmp_path):
    """2-bit weights take the nibble kernels too; 8-bit ones are dequantized at compile
    time (a float product)."""
    rng = np.random.default_rng(bits)
    w = rng.normal(size=(64, 24)).astype(np.float32)
    path = tmp_path / "nbits.onnx"
    onnx.save(quarc_tools.matmul_nbits_model(w, 32, [3, 64], bits=bits), path)
    a = rng.normal(size=(3, 64)).astype(np.float32)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"A": a})[0]
    code, err = run_model(path, "host", {"A": a}, tmp_path / "out")
    assert code == 0, err
    assert_close(np.load(tmp_path / "out" / "Y.npy"), expected)


def test_matmul_nbits_dynamic_rows(quarc_driver, tmp_path):
    rng = np.random.default_rng(7)
    w = rng.normal(size=(64, 24)).astype(np.float32)
    path = tmp_path / "nbits.onnx"
    onnx.save(quarc_tools.matmul_nbits_model(w, 32, ["batch", 64]), path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for rows in (1, 6, 9):
        a = rng.normal(size=(rows, 64)).astype(np.float32)
        out = tmp_path / f"out{rows}"
        code, err = run_model(path, "host", {"A": a}, out)
        assert code == 0, err
        assert_close(np.load(out / "Y.npy"), session.run(None, {"A": a})[0])


@pytest.mark.parametrize("kwargs,message", [
    ({"g_idx": True}, "g_idx (act-order group indices) is not supported"),
    ({"float_zero_points": True}, "zero points of type 'tensor<32xf32>' are not supported"),
])
def test_matmul_nbits_unsupported(kwargs, message, quarc_driver, tmp_path):
    w = np.random.default_rng(0).normal(size=(32, 16)).astype(np.float32)
    path = tmp_path / "nbits.onnx"
    onnx.save(quarc_tools.matmul_nbits_model(w, 16, [2, 32], **kwargs), path)
    np.save(tmp_path / "a.npy", np.zeros((2, 32), np.float32))
    code, _, err = quarc("run", path, "--input", f"A={tmp_path / 'a.npy'}")
    assert code != 0
    assert "com.microsoft MatMulNBits: " + message in err, err
    assert "'mm'" in err or "mm" in err.split("error")[0], err
    assert not quarc_tools.is_crash(code, err), err


# --- --quantize=int4-weight -------------------------------------------------------------


def mlp_model(rng, k=96, hidden=80, n=10, rows="batch"):
    w1 = (rng.normal(size=(k, hidden)) * 0.1).astype(np.float32)
    w2 = (rng.normal(size=(n, hidden)) * 0.1).astype(np.float32)  # Gemm, transB
    b2 = rng.normal(size=n).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], transB=1, name="fc2")]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, n])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
         numpy_helper.from_array(b2, "b2")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def onnxruntime_f32_activations(path):
    options = ort.SessionOptions()
    options.add_session_config_entry("session.qdq_matmulnbits_accuracy_level", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("scheme", [None, "weights=s4:symmetric:per-group=16",
                                    "weights=per-group=5"])  # odd groups: loops
def test_int4_weight_matches_onnxruntime(scheme, quarc_driver, tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(rng), path)
    scheme_flags = ["--scheme", scheme] if scheme else []
    qdq = tmp_path / "mlp_int4.onnx"
    code, _, err = quarc("quantize", path, "--quantize=int4-weight", *scheme_flags, "-o", qdq)
    assert code == 0, err
    # The QDQ model: blocked 4-bit DequantizeLinear before each product.
    written = onnx.load(qdq)
    blocked = [n for n in written.graph.node if n.op_type == "DequantizeLinear"]
    assert len(blocked) == 2
    group = int(scheme.rsplit("=", 1)[1]) if scheme else 32
    assert all(helper.get_attribute_value(a) == group
               for n in blocked for a in n.attribute if a.name == "block_size")
    four_bit = {TensorProto.UINT4, TensorProto.INT4}
    weights = {i.name: i for i in written.graph.initializer}
    assert all(weights[n.input[0]].data_type in four_bit for n in blocked)

    x = rng.normal(size=(5, 96)).astype(np.float32)
    expected = onnxruntime_f32_activations(qdq).run(None, {"x": x})[0]
    code, err = run_model(path, "host", {"x": x}, tmp_path / "out", "--quantize=int4-weight",
                          *scheme_flags)
    assert code == 0, err
    actual = np.load(tmp_path / "out" / "y.npy")
    assert_close(actual, expected)
    # quarc compiles its own QDQ model to the same weight-only code.
    code, err = run_model(qdq, "host", {"x": x}, tmp_path / "roundtrip")
    assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "roundtrip" / "y.npy"), actual)
    # And 4-bit weights are not the float model.
    floating = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    error = np.abs(actual - floating).max() / np.abs(floating).max()
    assert 1e-4 < error < 0.1, error


def w4a8_product(a, q, scale, zero, group):
    """a (M x K) times the blocked 4-bit weight q (K x N, scale and zero [K/g, N]), with a
    quantized per row and group to s8 as onnxruntime's MatMulNBits does at accuracy level 4
    (scale max|a| / 127 in f32, a * (1 / scale) rounded half to even); float64 sums."""
    m, k = a.shape
    out = np.zeros((m, q.shape[1]))
    for start in range(0, k, group):
        block = a[:, start:start + group].astype(np.float32)
        sa = (np.abs(block).max(axis=1) / np.float32(127)).astype(np.float32)
        inverse = np.where(sa == 0, np.float32(0), np.float32(1) / np.where(sa == 0, 1, sa))
        aq = np.clip(np.rint(block * inverse[:, None].astype(np.float32)), -127, 127)
        j = start // group
        centered = q[start:start + group].astype(np.int64) - zero[j].astype(np.int64)
        out += (sa[:, None].astype(np.float64) * scale[j].astype(np.float64)) * (
            aq.astype(np.int64) @ centered)
    return out


def test_w4a8_matches_reference(quarc_driver, tmp_path):
    """--quantize=w4a8 is --quantize=int4-weight with int8 activations: the weights that
    `quarc quantize --quantize=int4-weight` writes, multiplied as onnxruntime's accuracy
    level 4 does (an independent numpy reference; onnxruntime itself fuses only some of
    the exported DequantizeLinear + MatMul pairs into MatMulNBits)."""
    rng = np.random.default_rng(4)
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(rng), path)
    qdq = tmp_path / "mlp_int4.onnx"
    code, _, err = quarc("quantize", path, "--quantize=int4-weight", "-o", qdq)
    assert code == 0, err
    written = onnx.load(qdq)
    arrays = {i.name: numpy_helper.to_array(i) for i in written.graph.initializer}
    weights = [[arrays[name] for name in node.input]
               for node in written.graph.node if node.op_type == "DequantizeLinear"]
    bias = next(arrays[name] for node in written.graph.node if node.op_type == "Add"
                for name in node.input if name in arrays)
    x = rng.normal(size=(5, 96)).astype(np.float32)
    hidden = np.maximum(w4a8_product(x, *weights[0], 32), 0).astype(np.float32)
    expected = (w4a8_product(hidden, *weights[1], 32) + bias).astype(np.float32)
    code, err = run_model(path, "host", {"x": x}, tmp_path / "out", "--quantize=w4a8")
    assert code == 0, err
    assert_close(np.load(tmp_path / "out" / "y.npy"), expected)


def test_int4_weights_stay_packed(quarc_driver, tmp_path):
    """A 512 x 512 weight is 1 MiB in f32; packed two per byte, with an f32 scale and a byte
    zero point per group of 32, it is 168 KiB (5.25 bits a weight), and the shared library
    shrinks with it."""
    rng = np.random.default_rng(5)
    w = rng.normal(size=(512, 512)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(w, "w")])
    path = tmp_path / "fc.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    sizes = {}
    for name, flags in (("f32", []), ("int4", ["--quantize=int4-weight"])):
        code, _, err = quarc("compile", path, "-o", tmp_path / f"{name}.so", *flags)
        assert code == 0, err
        sizes[name] = (tmp_path / f"{name}.so").stat().st_size
    assert sizes["f32"] > 1 << 20
    assert sizes["int4"] < 0.25 * sizes["f32"], sizes


@pytest.mark.parametrize("args,message", [
    (["--quantize=int4-weight", "--stats", "s.json"], "needs no calibration"),
    (["--quantize=int4-weight", "--scheme", "weights=s8"],
     "weight-only quantization takes 2- to 4-bit weights per group"),
])
def test_int4_weight_usage_errors(args, message, quarc_driver, tmp_path):
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model(np.random.default_rng(1), rows=2), path)
    np.save(tmp_path / "x.npy", np.zeros((2, 96), np.float32))
    code, _, err = quarc("run", path, "--input", f"x={tmp_path / 'x.npy'}", *args)
    assert code != 0
    assert message in err, err
    assert not quarc_tools.is_crash(code, err), err
