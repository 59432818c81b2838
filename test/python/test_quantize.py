"""`quarc-quantize` and `quarc run/compile --quantize=int8`, checked against onnxruntime's
quantizer: on the same calibration samples, with onnxruntime's comparable settings (QDQ,
u8 asymmetric activations, s8 symmetric per-channel weights, min-max calibration), every
scale and zero point quarc chooses is exactly onnxruntime's. The quantized model's outputs
stay within a few quantization steps of the float model's.

The convolutions and matrix products run as integer ops (quarc-fold-qdq), and so does
onnxruntime's own QDQ model when quarc compiles it: its parameters as they are, no
re-quantization, within one output step of the ONNX reference evaluator running the same
QDQ model.
(test_integer_ops.py checks the integer code bit for bit against a reference.)
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import quarc_tools

ort = pytest.importorskip("onnxruntime")
quantization = pytest.importorskip("onnxruntime.quantization")

QUANT_TYPE = re.compile(r"!quant\.uniform<(u8|i8):f32(?::(\d+))?, ([^>]*)>")


def quarc(*args, timeout: int = quarc_tools.RUN_TIMEOUT_S) -> tuple[int, str, str]:
    code, out, err = quarc_tools.run_quarc(list(args), timeout=timeout)
    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    return code, out, err


def cnn_model() -> onnx.ModelProto:
    """Conv 3x3 -> Relu -> Conv 1x1 -> GlobalAveragePool -> Flatten -> MatMul."""
    rng = np.random.default_rng(5)
    weights = [
        numpy_helper.from_array((0.3 * rng.standard_normal((8, 3, 3, 3))).astype(np.float32), "w1"),
        numpy_helper.from_array((0.1 * rng.standard_normal(8)).astype(np.float32), "b1"),
        numpy_helper.from_array((0.3 * rng.standard_normal((4, 8, 1, 1))).astype(np.float32), "w2"),
        numpy_helper.from_array(rng.standard_normal((4, 5)).astype(np.float32), "fc"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2"),
        helper.make_node("GlobalAveragePool", ["c2"], ["pooled"], name="pool"),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "fc"], ["logits"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes, "quantize_test",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 24, 24])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 5])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def smooth_image(rng: np.random.Generator) -> np.ndarray:
    """A natural-looking image: a few low-frequency waves per channel plus a little noise."""
    y, x = np.mgrid[0:24, 0:24] / 24.0
    image = np.zeros((1, 3, 24, 24), np.float32)
    for c in range(3):
        for _ in range(3):
            fx, fy = rng.uniform(0.3, 2.5, 2)
            image[0, c] += rng.uniform(0.2, 0.6) * np.sin(2 * np.pi * (fx * x + fy * y)
                                                          + rng.uniform(0, 6.3))
    return image + 0.03 * rng.standard_normal(image.shape).astype(np.float32)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantize")
    model = cnn_model()
    model_path = folder / "cnn.onnx"
    onnx.save(model, model_path)
    data = folder / "data"
    data.mkdir()
    rng = np.random.default_rng(11)
    samples = [smooth_image(rng) for _ in range(8)]
    for i, sample in enumerate(samples):
        np.save(data / f"{i}.npy", sample)
    stats = folder / "stats.json"
    code, _, err = quarc("calibrate", model_path, "--data", data, "-o", stats)
    assert code == 0, err
    return folder, model_path, data, stats, samples


def quarc_params(model_path, stats) -> tuple[set, list]:
    """Activation (scale, zero point) pairs and per-channel weight scale lists that
    quarc-quantize chooses."""
    out = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                          f"--quarc-quantize=stats={stats}"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    activations, weights = set(), []
    for kind, axis, params in set(QUANT_TYPE.findall(out)):
        if axis:
            scales = [float(p.split(":")[0]) for p in params.strip("{}").split(",")]
            weights.append(np.array(scales, np.float32))
        else:
            scale, _, zero_point = params.partition(":")  # a zero point of 0 is not printed
            activations.add((np.float32(scale), int(zero_point or 0)))
    return activations, weights


def onnxruntime_params(model_path, samples, out_path,
                       weight_type: str = "QInt8") -> tuple[set, list]:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"image": s} for s in samples])

        def get_next(self):
            return next(self.items, None)

    quantize_static(str(model_path), str(out_path), Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["Conv", "MatMul"], per_channel=True,
                    activation_type=QuantType.QUInt8,
                    weight_type=getattr(QuantType, weight_type),
                    calibrate_method=CalibrationMethod.MinMax,
                    extra_options={"ActivationSymmetric": False,
                                   "WeightSymmetric": weight_type == "QInt8"})
    model = onnx.load(out_path)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    activations, weights = set(), []
    for node in model.graph.node:
        if node.op_type != "QuantizeLinear" and node.op_type != "DequantizeLinear":
            continue
        scale = init.get(node.input[1])
        zero_point = init.get(node.input[2]) if len(node.input) > 2 else None
        if scale is None or (zero_point is not None and zero_point.dtype == np.int32):
            continue  # int32 bias
        if scale.ndim == 0:
            activations.add((np.float32(scale), int(zero_point)))
        else:
            weights.append(scale.astype(np.float32))
    return activations, weights


def test_parameters_equal_onnxruntime_quantize_static(case):
    folder, model_path, _, stats, samples = case
    ours_act, ours_w = quarc_params(model_path, stats)
    theirs_act, theirs_w = onnxruntime_params(model_path, samples, folder / "ort_qdq.onnx")
    # Every tensor quarc quantizes, onnxruntime quantizes too, with the same
    # parameters: the image, the Relu's output (conv1 clamps into it: quarc does not
    # quantize conv1's own output, onnxruntime does), conv2's output and the pooled
    # features (the logits, only returned, stay f32).
    assert len(ours_act) == 4
    assert ours_act <= theirs_act, (sorted(ours_act), sorted(theirs_act))
    assert len(ours_w) == 3
    for scales in ours_w:
        assert any(s.shape == scales.shape and np.array_equal(s, scales) for s in theirs_w), scales


def test_quantized_run_is_close_to_float(case, tmp_path):
    _, model_path, data, stats, samples = case
    sample = data / "0.npy"
    for name, extra in (("float", []), ("int8", ["--quantize=int8", "--stats", stats]),
                        ("int8_data", ["--quantize=int8", "--data", data])):
        code, _, err = quarc("run", model_path, *extra, sample, "--output-dir", tmp_path / name)
        assert code == 0, err
    reference = ort.InferenceSession(str(model_path)).run(None, {"image": samples[0]})[0]
    ours_float = np.load(tmp_path / "float" / "logits.npy")
    ours_int8 = np.load(tmp_path / "int8" / "logits.npy")
    np.testing.assert_allclose(ours_float, reference, rtol=1e-4, atol=1e-5)
    # Calibrating in the same command gives the same model.
    np.testing.assert_array_equal(ours_int8, np.load(tmp_path / "int8_data" / "logits.npy"))
    # Within a few steps of the logits' quantization (their range / 255).
    step = (reference.max() - min(0, reference.min())) / 255
    assert np.abs(ours_int8 - reference).max() <= 4 * step, (ours_int8, reference)
    assert not np.array_equal(ours_int8, ours_float)  # it did quantize


def fold_qdq(model_path) -> str:
    """The graph after import and quarc-fold-qdq."""
    return subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                           "--canonicalize", "--quarc-fold-qdq"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def test_quantized_model_runs_integer_ops(case):
    _, model_path, _, stats, _ = case
    out = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                          f"--quarc-quantize=stats={stats}", "--quarc-fold-qdq"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.count("quarc.qconv") == 2 and out.count("quarc.qmatmul") == 1, out
    assert "quarc.conv " not in out and "quarc.matmul " not in out


@pytest.mark.parametrize("weight_type", ["QInt8", "QUInt8"])
def test_onnxruntime_qdq_model_compiles_to_integer_ops(case, tmp_path, weight_type):
    """QInt8: symmetric weights; QUInt8: asymmetric uint8 weights with zero points, which
    the integer ops take as they are (products x * (w - zw))."""
    folder, model_path, data, _, samples = case
    qdq_path = folder / f"ort_qdq_import_{weight_type}.onnx"
    onnxruntime_params(model_path, samples, qdq_path, weight_type)
    ir = fold_qdq(qdq_path)
    assert ir.count("quarc.qconv") == 2 and ir.count("quarc.qmatmul") == 1, ir
    assert "quarc.conv " not in ir and "quarc.matmul " not in ir
    # The last DequantizeLinear gives the output's quantization step.
    model = onnx.load(qdq_path)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    last = next(n for n in model.graph.node if n.output[0] == model.graph.output[0].name)
    assert last.op_type == "DequantizeLinear"
    step = float(init[last.input[1]])
    # The reference: onnx's evaluator runs the QDQ model as ONNX defines it (float
    # ops between exact QuantizeLinear/DequantizeLinear). It implements these ops
    # from opset 19 on; their semantics here are opset 13's.
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = 21
    reference = ReferenceEvaluator(model)
    for i, sample in enumerate(samples):
        out = tmp_path / f"out{i}"
        code, _, err = quarc("run", qdq_path, data / f"{i}.npy", "--output-dir", out)
        assert code == 0, err
        ours = np.load(out / "logits.npy")
        expected = reference.run(None, {"image": sample})[0]
        # Fixed-point requantization may round a near-tie the other way in a layer,
        # by one step; measured: every output equal.
        assert np.abs(ours - expected).max() <= step * 1.001, (ours, expected)


@pytest.mark.parametrize("args,message", [
    (["--quantize=int4", "--stats", "s.json"], "--quantize takes int8"),
    (["--quantize=int8"], "needs either --stats"),
    (["--quantize=int8", "--stats", "s.json", "--data", "d"], "needs either --stats"),
    (["--stats", "s.json"], "go with --quantize"),
    (["--quantize=int8", "--stats", "s.json", "--scheme=bogus"], "--scheme: bad scheme clause"),
    (["--quantize=int8", "--stats", "s.json", "--scheme", "weights=s8:per-row"], "--scheme:"),
    (["--quantize=int8", "--stats", "s.json", "--scheme", "calibration=kl"],
     "--scheme: unknown calibration method 'kl'"),
    (["--quantize=int8", "--stats", "s.json", "--keep-float=conv"],
     "--keep-float: 'conv' is not an ONNX op type"),
    (["--exclude-nodes=conv1"], "go with --quantize"),
    (["--quantize=int8", "--stats", "s.json", "--keep-float"], "--keep-float needs a value"),
])
def test_quantize_usage_errors(case, args, message):
    _, model_path, _, _, _ = case
    code, _, err = quarc("compile", model_path, "-o", "/nonexistent/x.so", *args)
    assert code == 2 and message in err, err


def test_asymmetric_weights_run_integer(case, tmp_path):
    """--scheme weights=u8:asymmetric: uint8 weights with a zero point per channel run as
    integer ops too, within a few output steps of the float model."""
    _, model_path, data, stats, samples = case
    scheme = "weights=u8:asymmetric"
    ir = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                         f"--quarc-quantize=stats={stats} scheme={scheme}",
                         "--quarc-fold-qdq"],
                        capture_output=True, text=True, timeout=60, check=True).stdout
    assert ir.count("quarc.qconv") == 2 and ir.count("quarc.qmatmul") == 1, ir
    assert re.search(r"quarc\.qconv .*!quant\.uniform<u8:f32:0, \{", ir), ir
    code, _, err = quarc("run", model_path, "--quantize=int8", "--stats", stats,
                         "--scheme", scheme, data / "0.npy", "--output-dir", tmp_path)
    assert code == 0, err
    reference = ort.InferenceSession(str(model_path)).run(None, {"image": samples[0]})[0]
    ours = np.load(tmp_path / "logits.npy")
    step = (reference.max() - min(0, reference.min())) / 255
    assert np.abs(ours - reference).max() <= 4 * step, (ours, reference)


def test_nodes_and_op_types_kept_float(case, tmp_path):
    """--keep-float=Conv,MatMul leaves nothing to run integer (the pooling has no integer
    neighbour left), so the outputs are the float model's exactly; --exclude-nodes=fc
    keeps the last product float (and with it the pooling, which has no integer consumer
    left), which changes the result but keeps the convolutions quantized."""
    _, model_path, data, stats, _ = case
    sample = data / "0.npy"
    outputs = {}
    for name, extra in (("float", []),
                        ("int8", ["--quantize=int8", "--stats", stats]),
                        ("no_contractions", ["--quantize=int8", "--stats", stats,
                                             "--keep-float=Conv,MatMul"]),
                        ("fc_float", ["--quantize=int8", "--stats", stats,
                                      "--exclude-nodes", "fc"])):
        code, _, err = quarc("run", model_path, *extra, sample, "--output-dir", tmp_path / name)
        assert code == 0, err
        outputs[name] = np.load(tmp_path / name / "logits.npy")
    np.testing.assert_array_equal(outputs["no_contractions"], outputs["float"])
    assert not np.array_equal(outputs["fc_float"], outputs["int8"])
    assert not np.array_equal(outputs["fc_float"], outputs["float"])
    ir = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                         f"--quarc-quantize=stats={stats} exclude-nodes=fc",
                         "--quarc-fold-qdq"],
                        capture_output=True, text=True, timeout=60, check=True).stdout
    assert ir.count("quarc.qconv") == 2 and "quarc.qmatmul" not in ir, ir
    assert "quarc.matmul " in ir and "quarc.global_average_pool " in ir, ir


def test_outputs_never_overwrite_inputs(case, tmp_path):
    """-o naming the model or the stats file (by another path too) is a usage error that
    leaves them as they were."""
    folder, model_path, data, stats, _ = case
    before = (model_path.read_bytes(), stats.read_bytes())
    for args in (["compile", model_path, "-o", model_path],
                 ["compile", model_path, "-o", folder / "." / stats.name, "--quantize=int8",
                  "--stats", stats],
                 ["calibrate", model_path, "--data", data, "-o", model_path]):
        code, _, err = quarc(*args)
        assert code == 2 and "would overwrite the input" in err, err
    assert (model_path.read_bytes(), stats.read_bytes()) == before


def test_stats_of_another_model_are_rejected(case, tmp_path):
    folder, model_path, data, stats, _ = case
    other = cnn_model()
    other.graph.name = "another"
    other_path = tmp_path / "other.onnx"
    onnx.save(other, other_path)
    out = tmp_path / "other.so"
    code, _, err = quarc("compile", other_path, "-o", out, "--quantize=int8", "--stats", stats)
    assert code == 1 and "model" in err and "hash" in err, err
    assert not out.exists()


def test_uint8_model_inputs_and_outputs(tmp_path):
    """A model that takes and returns quantized tensors (uint8 in, DequantizeLinear, Sigmoid,
    QuantizeLinear, uint8 out) runs as one table on the uint8 data and returns uint8, equal
    to onnxruntime's result (its sigmoid is not correctly rounded, but no value here is
    near a rounding boundary)."""
    init = [numpy_helper.from_array(np.array(0.05, np.float32), "s"),
            numpy_helper.from_array(np.array(100, np.uint8), "z"),
            numpy_helper.from_array(np.array(0.03, np.float32), "so"),
            numpy_helper.from_array(np.array(10, np.uint8), "zo")]
    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["xd"], name="dq"),
             helper.make_node("Sigmoid", ["xd"], ["y"], name="sigmoid"),
             helper.make_node("QuantizeLinear", ["y", "so", "zo"], ["yq"], name="q")]
    graph = helper.make_graph(
        nodes, "uint8_io", [helper.make_tensor_value_info("x", TensorProto.UINT8, [2, 8])],
        [helper.make_tensor_value_info("yq", TensorProto.UINT8, [2, 8])], init)
    model_path = tmp_path / "uint8_io.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model_path)
    ir = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                         "--canonicalize", "--quarc-fold-qdq"],
                        capture_output=True, text=True, timeout=60, check=True).stdout
    assert "quarc.lut" in ir and "quarc.sigmoid" not in ir, ir
    x = np.arange(0, 256, 16, dtype=np.uint8).reshape(2, 8)
    np.save(tmp_path / "x.npy", x)
    code, _, err = quarc("run", model_path, tmp_path / "x.npy", "--output-dir", tmp_path / "out")
    assert code == 0, err
    ours = np.load(tmp_path / "out" / "yq.npy")
    theirs = ort.InferenceSession(str(model_path)).run(None, {"x": x})[0]
    assert ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, theirs)
