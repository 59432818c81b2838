"""`quarc quantize` writes a standard QDQ ONNX model; checked against quarc's own int8
compile, onnxruntime, the ONNX reference evaluator and onnxruntime's quantizer.

Two models: a small CNN (Conv+Relu+MaxPool twice, then Gemm) calibrated on smooth
images, and PP-OCR's text direction classifier (rapidocr's cls model) calibrated on
rendered text lines. For each:

(a) the exported model passes the PyPI onnx package's full checker (libonnx 1.12, which
    quarc's exporter runs, stops at opset 17) and onnxruntime loads and runs it, with its
    graph optimizations and without;
(b) quarc compiling the exported model gives, bit for bit, what quarc's int8 compile of
    the float model gives with the same stats: the export carries exactly quarc's
    quantization. onnxruntime with graph optimizations off (so it executes the QDQ
    graph as written, in float) and onnx.reference agree with quarc's integer code
    within the tolerances stated at the assertions. onnxruntime's optimized int8
    kernels are not compared: on AVX2-only CPUs they saturate u8 x s8 pair sums at
    int16 (vpmaddubsw);
(c) the scales and zero points are those quarc chose (the QDQ IR of
    `quarc-opt --quarc-quantize-pipeline`), and for the CNN, tensor by tensor, those
    of onnxruntime's quantize_static with the same settings, int8 weights included;
(d) errors: an op that cannot be exported, a bad output path, missing or conflicting
    flags, stats of another model; a failed run leaves no file behind.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import quarc_tools

ort = pytest.importorskip("onnxruntime")

# Compiling PP-OCR's cls model takes ~20 s on an idle core; allow for a busy machine.
COMPILE_TIMEOUT_S = 600

# The quantized types in quarc's QDQ IR: `-> tensor<...x!quant.uniform<u8:f32, S:Z>>`
# (a zero point of 0 is not printed) and per-axis `<i8:f32:AXIS, {S0,S1,...}>`.
RESULT_QUANT_TYPE = re.compile(
    r"-> tensor<[^!]*!quant\.uniform<([ui]\d+)(?:<[^>]*>)?:f32(?::(\d+))?, ([^>]*)>>")


def quarc(*args, timeout: int = COMPILE_TIMEOUT_S) -> tuple[int, str, str]:
    code, out, err = quarc_tools.run_quarc(list(args), timeout=timeout)
    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    return code, out, err


def ok(*args, timeout: int = COMPILE_TIMEOUT_S) -> str:
    code, out, err = quarc(*args, timeout=timeout)
    assert code == 0, f"quarc {' '.join(map(str, args))}: {quarc_tools.first_error_line(err)}"
    return out


def ort_options(level=None):
    """onnxruntime on one thread; without graph optimizations unless a level is given,
    so that the QDQ graph runs as written (QuantizeLinear, DequantizeLinear, float ops)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = level or ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return options


def session(path: Path, level=None):
    return ort.InferenceSession(str(path), ort_options(level), providers=["CPUExecutionProvider"])


def run_executable(exe: Path, inputs: dict[str, np.ndarray], folder: Path,
                   names: list[str]) -> dict[str, np.ndarray]:
    """The outputs `names` of a compiled model's executable on `inputs`."""
    folder.mkdir(parents=True, exist_ok=True)
    flags = []
    for name, array in inputs.items():
        path = folder / quarc_tools.output_file_name(name)
        np.save(path, array)
        flags += ["--input", f"{name}={path}"]
    out = folder / "out"
    code, _, err = quarc_tools.run_tool([str(exe)] + flags + ["--output-dir", str(out)])
    assert code == 0, quarc_tools.first_error_line(err)
    outputs = quarc_tools.read_outputs(out, names)
    assert sorted(outputs) == sorted(names)
    return outputs


def initializers(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def attribute(node: onnx.NodeProto, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def quantized_activations(model: onnx.ModelProto) -> dict[str, tuple]:
    """{float tensor: (scale, zero point)} of each QuantizeLinear of the model."""
    init = initializers(model)
    return {n.input[0]: (init[n.input[1]], init[n.input[2]])
            for n in model.graph.node if n.op_type == "QuantizeLinear"}


def quantized_weights(model: onnx.ModelProto) -> dict[str, tuple]:
    """{integer initializer: (integers, scale, zero point, axis)} of each
    DequantizeLinear that reads an initializer."""
    init = initializers(model)
    return {n.input[0]: (init[n.input[0]], init[n.input[1]], init[n.input[2]],
                         attribute(n, "axis", 1))
            for n in model.graph.node
            if n.op_type == "DequantizeLinear" and n.input[0] in init}


def quarc_qdq_types(model_path: Path, stats: Path, scheme: str = "",
                    input_shapes: str = "") -> tuple[Counter, Counter]:
    """The quantized types of quarc's QDQ form, as `quarc quantize` makes it: a Counter of
    activation (storage, scale, zero point) from its quantize ops, and of weight scale
    tuples from its storage casts."""
    options = f"stats={stats}" + (f" scheme={scheme}" if scheme else "")
    options += f" input-shapes={input_shapes}" if input_shapes else ""
    out = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                          f"--quarc-quantize-pipeline={options}"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    activations, weights = Counter(), Counter()
    for line in out.splitlines():
        match = RESULT_QUANT_TYPE.search(line)
        if not match:
            continue
        storage, axis, params = match.groups()
        if " quarc.quantize " in line and axis is None:
            scale, _, zero_point = params.partition(":")
            activations[(storage, np.float32(scale), int(zero_point or 0))] += 1
        elif " quarc.storage_cast " in line and axis is not None:
            weights[tuple(np.float32(p.split(":")[0]) for p in params.strip("{}").split(","))] += 1
    return activations, weights


def exported_types(model: onnx.ModelProto) -> tuple[Counter, Counter]:
    """The same Counters, read from the exported model: one per QuantizeLinear, one per
    DequantizeLinear of an initializer."""
    activations, weights = Counter(), Counter()
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear":
            init = initializers(model)
            scale, zero_point = init[node.input[1]], init[node.input[2]]
            storage = ("u" if zero_point.dtype.kind == "u" else "i") + str(8 * zero_point.itemsize)
            activations[(storage, np.float32(scale), int(zero_point))] += 1
    for _, scale, _, _ in quantized_weights(model).values():
        weights[tuple(np.float32(s) for s in scale.reshape(-1))] += 1
    return activations, weights


def activation_dequantizes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The DequantizeLinear nodes of activations (not of initializers)."""
    init = {t.name for t in model.graph.initializer}
    return [n for n in model.graph.node
            if n.op_type == "DequantizeLinear" and n.input[0] not in init]


def write_probe_model(qdq: Path, path: Path) -> list[str]:
    """The exported model with every dequantized activation also a graph output, so
    that quarc's values of the quantized tensors can be read; returns the outputs."""
    model = onnx.load(qdq)
    names = [o.name for o in model.graph.output]
    for node in activation_dequantizes(model):
        model.graph.output.append(helper.make_tensor_value_info(node.output[0],
                                                                TensorProto.FLOAT, None))
        names.append(node.output[0])
    onnx.save(model, path)
    return names


def layerwise_model(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict]:
    """The exported model cut at every activation DequantizeLinear: their outputs become
    graph inputs (to be fed quarc's values) and the integer tensors they read become
    graph outputs. So each quantized tensor is computed from quarc's values of the
    tensors before it: one layer at a time. Also returns {dequantized: (integer
    tensor, scale, zero point)}."""
    cut = onnx.ModelProto()
    cut.CopyFrom(model)
    init = initializers(model)
    dequantizes = activation_dequantizes(model)
    params = {n.output[0]: (n.input[0], init[n.input[1]], init[n.input[2]]) for n in dequantizes}
    kept = [n for n in cut.graph.node if n.output[0] not in params]
    del cut.graph.node[:]
    cut.graph.node.extend(kept)
    for name in params:
        cut.graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    for integers, _, zero_point in params.values():
        dtype = helper.np_dtype_to_tensor_dtype(zero_point.dtype)
        cut.graph.output.append(helper.make_tensor_value_info(integers, dtype, None))
    return cut, params


def check_layer_by_layer(qdq: onnx.ModelProto, feeds: dict, quarc_values: dict,
                         output_atol: float, counts: dict[str, list[int]]) -> None:
    """Every quantized tensor that onnxruntime computes (graph optimizations off) from
    quarc's values of the tensors before it is quarc's, within one quantization step,
    and so are the outputs, within `output_atol` (plus float rounding). Adds the
    elements one step apart and all elements, by tensor, to `counts`."""
    cut, params = layerwise_model(qdq)
    runner = ort.InferenceSession(cut.SerializeToString(), ort_options(),
                                  providers=["CPUExecutionProvider"])
    inputs = dict(feeds)
    inputs.update({name: quarc_values[name] for name in params})
    names = [o.name for o in runner.get_outputs()]
    theirs = dict(zip(names, runner.run(None, inputs)))
    for name, (integers, scale, zero_point) in params.items():
        # quarc's integers, from its dequantized values: (q - zp) * scale is exact in f32
        # for 8-bit q, and within a thousandth of a step for 16-bit.
        ours = np.round(quarc_values[name] / scale).astype(np.int64) + int(zero_point)
        steps = np.abs(theirs[integers].astype(np.int64) - ours)
        # One step at most, where the exact value sits within rounding error of a
        # boundary between two steps: quarc's integer code requantizes with a fixed-point
        # multiplier and rounds half up, the QDQ graph accumulates in float and rounds
        # half to even (and quarc's int32 bias is the float bias rounded at scale
        # sx * sw). Such values are rare.
        assert steps.max() <= 1, (name, int(steps.max()))
        count = counts.setdefault(name, [0, 0])
        count[0] += int(np.count_nonzero(steps))
        count[1] += steps.size
    for output in qdq.graph.output:
        np.testing.assert_allclose(theirs[output.name], quarc_values[output.name],
                                   rtol=1e-5, atol=output_atol, err_msg=output.name)


def largest_fraction_apart(counts: dict[str, list[int]]) -> tuple[float, str]:
    """The largest share of a tensor's elements (over all inputs) one step apart."""
    return max((apart / total, name) for name, (apart, total) in counts.items())


# ---------------------------------------------------------------------------
# A small CNN


def cnn_model() -> onnx.ModelProto:
    """Conv 3x3 -> Relu -> MaxPool -> Conv 3x3 -> Relu -> MaxPool -> Flatten -> Gemm."""
    rng = np.random.default_rng(3)

    def weight(name, shape, scale):
        return numpy_helper.from_array((scale * rng.standard_normal(shape)).astype(np.float32),
                                       name)

    weights = [weight("w1", (8, 3, 3, 3), 0.3), weight("b1", (8,), 0.1),
               weight("w2", (16, 8, 3, 3), 0.15), weight("b2", (16,), 0.1),
               weight("fc_w", (10, 256), 0.1), weight("fc_b", (10,), 0.1)]
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2],
                         name="pool1"),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2],
                         name="pool2"),
        helper.make_node("Flatten", ["p2"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def smooth_image(rng: np.random.Generator) -> np.ndarray:
    """A natural-looking image: a few low-frequency waves per channel plus a little noise."""
    y, x = np.mgrid[0:16, 0:16] / 16.0
    image = np.zeros((1, 3, 16, 16), np.float32)
    for c in range(3):
        for _ in range(3):
            fx, fy = rng.uniform(0.3, 2.5, 2)
            image[0, c] += rng.uniform(0.2, 0.6) * np.sin(2 * np.pi * (fx * x + fy * y)
                                                          + rng.uniform(0, 6.3))
    return image + 0.03 * rng.standard_normal(image.shape).astype(np.float32)


@pytest.fixture(scope="module")
def cnn(tmp_path_factory, quarc_driver):
    folder = tmp_path_factory.mktemp("qdq_cnn")
    model_path = folder / "cnn.onnx"
    onnx.save(cnn_model(), model_path)
    rng = np.random.default_rng(11)
    data = folder / "data"
    data.mkdir()
    samples = [smooth_image(rng) for _ in range(16)]
    for i, sample in enumerate(samples):
        np.save(data / f"{i:02d}.npy", sample)
    stats = folder / "stats.json"
    ok("calibrate", model_path, "--data", data, "-o", stats)
    # Inputs the calibration did not see.
    tests = [smooth_image(rng) for _ in range(6)]
    return SimpleNamespace(folder=folder, model=model_path, data=data, stats=stats,
                           samples=samples, tests=tests)


# The schemes the CNN is exported with: the default (u8 activations, s8 per-channel
# weights), s8 activations with the narrow range [-127, 127] (a Clip after
# QuantizeLinear), u16 activations, and weights in onnxruntime's reduced range.
SCHEMES = ["", "activations=s8:symmetric:narrow", "activations=u16:asymmetric", "reduce-range"]


@pytest.fixture(scope="module", params=SCHEMES, ids=lambda s: s or "default")
def cnn_qdq(request, cnn):
    scheme = request.param
    folder = cnn.folder / (re.sub(r"\W", "_", scheme) or "default")
    folder.mkdir()
    scheme_flags = ["--scheme", scheme] if scheme else []
    qdq = folder / "cnn.qdq.onnx"
    ok("quantize", cnn.model, "--stats", cnn.stats, "-o", qdq, *scheme_flags)
    int8_exe = folder / "int8"
    ok("compile", cnn.model, "--quantize=int8", "--stats", cnn.stats, *scheme_flags, "-o", int8_exe)
    # quarc compiles the exported model, with its dequantized activations as outputs too.
    probe = folder / "cnn.qdq.probe.onnx"
    probe_outputs = write_probe_model(qdq, probe)
    probe_exe = folder / "probe"
    ok("compile", probe, "-o", probe_exe)
    return SimpleNamespace(scheme=scheme, folder=folder, qdq=qdq, int8_exe=int8_exe,
                           probe=probe, probe_exe=probe_exe, probe_outputs=probe_outputs)


def test_cnn_export_is_a_standard_qdq_model(cnn, cnn_qdq):
    model = onnx.load(cnn_qdq.qdq)
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 23)]
    ops = Counter(n.op_type for n in model.graph.node)
    # Every Conv and the Gemm read dequantized activations and weights.
    producers = {out: n for n in model.graph.node for out in n.output}
    for node in model.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            assert producers[node.input[0]].op_type == "DequantizeLinear", node.name
            assert producers[node.input[1]].op_type == "DequantizeLinear", node.name
    assert ops["Conv"] == 2 and ops["Gemm"] == 1 and ops["MaxPool"] == 2
    assert ops["QuantizeLinear"] >= 3 and ops["DequantizeLinear"] == ops["QuantizeLinear"] + 3
    # The weights are integer initializers of the scheme's type; no float copy is kept.
    init = initializers(model)
    assert {"w1", "w2", "fc_w"}.isdisjoint(init)
    for name in ("w1_quantized", "w2_quantized", "fc_w_quantized"):
        assert init[name].dtype == np.int8, name
    # A narrow range is a Clip after each QuantizeLinear.
    assert ops.get("Clip", 0) == (ops["QuantizeLinear"] if "narrow" in cnn_qdq.scheme else 0)
    # (a) onnxruntime runs it, as written and optimized. With signed activations its
    # extended optimizations fail at opsets 21 and up (onnxruntime 1.32: QDQ propagation
    # inserts a QuantizeLinear with output_dtype INT8, then the S8-to-U8 pass gives it a
    # UINT8 zero point; the same model stamped opset 20 loads), so those get the basic
    # ones.
    optimized = (ort.GraphOptimizationLevel.ORT_ENABLE_BASIC if "activations=s8" in cnn_qdq.scheme
                 else ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    for level in (None, optimized):
        (logits,) = session(cnn_qdq.qdq, level).run(None, {"image": cnn.tests[0]})
        assert logits.shape == (1, 10) and np.isfinite(logits).all()


def test_cnn_export_matches_quarc_int8(cnn, cnn_qdq):
    model = onnx.load(cnn_qdq.qdq)
    init = initializers(model)
    # The Gemm's weight as the QDQ graph reads it (quarc stores it transposed, K x N,
    # quantized per column).
    fc_w = init["fc_w_quantized"] * init["fc_w_scale"]
    # quarc's integer Gemm adds its bias in int32, rounded at scale s(flat) * s(fc_w)[n]:
    # half a step of that apart from the float bias.
    bias_rounding = 0.5 * init["flat_scale"] * init["fc_w_scale"] + 1e-6
    # onnxruntime and onnx.reference on the exported model, its dequantized activations
    # also returned.
    runners = [("onnxruntime", session(cnn_qdq.probe).run),
               ("onnx.reference", ReferenceEvaluator(str(cnn_qdq.probe)).run)]
    counts: dict[str, list[int]] = {}
    for i, x in enumerate(cnn.tests):
        feeds = {"image": x}
        (ours,) = run_executable(cnn_qdq.int8_exe, feeds, cnn_qdq.folder / f"int8-{i}",
                                 ["logits"]).values()
        exported = run_executable(cnn_qdq.probe_exe, feeds, cnn_qdq.folder / f"probe-{i}",
                                  cnn_qdq.probe_outputs)
        # (b) Compiled by quarc, the exported model is quarc's int8 model, bit for bit.
        np.testing.assert_array_equal(exported["logits"], ours)
        # Layer by layer, onnxruntime's QDQ execution is quarc's integer code within a
        # step (see check_layer_by_layer).
        check_layer_by_layer(model, feeds, exported, float(bias_rounding.max()), counts)
        # End to end those steps compound. The logits are the Gemm of `flat` (quantized)
        # with the bias, so a float execution's logits differ from quarc's by its
        # `flat`'s difference from quarc's times the weights, the bias rounding, and
        # float rounding.
        for who, run in runners:
            theirs = dict(zip(cnn_qdq.probe_outputs, run(None, feeds)))
            bound = np.abs(theirs["flat_dequantized"] - exported["flat_dequantized"]) @ np.abs(fc_w)
            bound += bias_rounding + 1e-5 * np.abs(ours)
            assert np.all(np.abs(theirs["logits"] - ours) <= bound), (who, i)
    # Such values are rare: measured at most 0.1% of a tensor's elements over the
    # test images; allowed 1%.
    fraction, name = largest_fraction_apart(counts)
    assert fraction <= 0.01, (name, fraction)


def test_cnn_parameters_are_quarcs(cnn, cnn_qdq):
    model = onnx.load(cnn_qdq.qdq)
    ours_act, ours_w = quarc_qdq_types(cnn.model, cnn.stats, cnn_qdq.scheme)
    exported_act, exported_w = exported_types(model)
    # (c) One QuantizeLinear per quarc.quantize, with its type's scale and zero point;
    # one weight DequantizeLinear per storage cast, with its per-channel scales.
    assert exported_act == ours_act
    assert exported_w == ours_w
    assert sum(ours_act.values()) >= 3 and sum(ours_w.values()) == 3
    # The integers reproduce the float weights to half a step (symmetric, zero point 0).
    float_weights = initializers(onnx.load(cnn.model))
    for name, (q, scale, zero_point, axis) in quantized_weights(model).items():
        w = float_weights[name.removesuffix("_quantized")]
        if q.shape != w.shape:
            w = w.T  # quarc-simplify-layout transposed the Gemm weight (transB)
        shape = [1] * q.ndim
        shape[axis] = -1
        assert not zero_point.any()
        step = scale.reshape(shape)
        assert np.all(np.abs(q * step - w) <= step / 2 * (1 + 1e-6)), name


def onnxruntime_quantize(model_path: Path, samples, out_path: Path) -> onnx.ModelProto:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"image": s} for s in samples])

        def get_next(self):
            return next(self.items, None)

    quantize_static(str(model_path), str(out_path), Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["Conv", "Gemm"], per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
    return onnx.load(out_path)


def test_cnn_parameters_equal_onnxruntime_quantizer_per_tensor(cnn):
    pytest.importorskip("onnxruntime.quantization")
    qdq = cnn.folder / "full-range.qdq.onnx"
    # Full-range weights, as onnxruntime's quantizer makes them (the default on hosts
    # with VNNI; x86 without VNNI defaults to reduce-range=pairs).
    ok("quantize", cnn.model, "--stats", cnn.stats, "--scheme", "reduce-range=false", "-o", qdq)
    ours = onnx.load(qdq)
    theirs = onnxruntime_quantize(cnn.model, cnn.samples, cnn.folder / "ort.qdq.onnx")
    # Both name a tensor's QuantizeLinear after the float tensor: every tensor quarc
    # quantizes that onnxruntime quantizes too has the same scale and zero point (the
    # inputs of the convolutions and the Gemm at least). Each calibrates by running the
    # float model with its own kernels, whose sums round differently, so a tensor's
    # maximum, and its scale, may differ in the last bit of the f32: rtol 1e-6 (8 ulp).
    ours_act, theirs_act = quantized_activations(ours), quantized_activations(theirs)
    common = set(ours_act) & set(theirs_act)
    assert {"image", "p1", "flat"} <= common, (sorted(ours_act), sorted(theirs_act))
    for name in common:
        (s1, z1), (s2, z2) = ours_act[name], theirs_act[name]
        np.testing.assert_allclose(s1, s2, rtol=1e-6, atol=0, err_msg=name)
        assert z1 == z2 and z1.dtype == z2.dtype, (name, z1, z2)
    # Weights: the same int8 values and per-channel scales, under the same name
    # (quarc's Gemm weight is transposed, and so is its axis).
    ours_w, theirs_w = quantized_weights(ours), quantized_weights(theirs)
    for name in ("w1_quantized", "w2_quantized", "fc_w_quantized"):
        q1, s1, _, axis1 = ours_w[name]
        q2, s2, _, axis2 = theirs_w[name]
        if q1.shape != q2.shape:
            q1, axis1 = q1.T, q1.ndim - 1 - axis1
        assert axis1 == axis2, name
        np.testing.assert_array_equal(q1, q2, err_msg=name)
        np.testing.assert_array_equal(s1, s2, err_msg=name)


def test_cnn_data_flag_writes_the_same_model(cnn):
    """Calibrating in the same command gives, byte for byte, the model of --stats."""
    with_stats, with_data = cnn.folder / "stats.qdq.onnx", cnn.folder / "data.qdq.onnx"
    ok("quantize", cnn.model, "--stats", cnn.stats, "-o", with_stats)
    ok("quantize", cnn.model, "--data", cnn.data, "-o", with_data)
    assert with_stats.read_bytes() == with_data.read_bytes()


def test_cnn_keep_float(cnn):
    """--keep-float and --exclude-nodes keep ops float, as for compile."""
    for flags in (["--keep-float=Gemm"], ["--exclude-nodes=fc"]):
        qdq = cnn.folder / "keep-float.qdq.onnx"
        ok("quantize", cnn.model, "--stats", cnn.stats, "-o", qdq, *flags)
        model = onnx.load(qdq)
        producers = {out: n.op_type for n in model.graph.node for out in n.output}
        # The Gemm reads its float weight (its input may still be a dequantized
        # tensor: Flatten passes its quantized input through).
        (gemm,) = [n for n in model.graph.node if n.op_type == "Gemm"]
        assert initializers(model)[gemm.input[1]].dtype == np.float32, flags
        convs = [n for n in model.graph.node if n.op_type == "Conv"]
        assert all(producers[n.input[1]] == "DequantizeLinear" for n in convs), flags


def test_cnn_blocked_weights_export(cnn):
    """Per-group weights become DequantizeLinear with axis and block_size (quarc does not
    compile them yet, so onnxruntime and onnx.reference are compared with each other and
    the weights with the float ones)."""
    qdq = cnn.folder / "blocked.qdq.onnx"
    ok("quantize", cnn.model, "--stats", cnn.stats, "-o", qdq,
       "--scheme", "weights=s8:symmetric:per-group=4")
    model = onnx.load(qdq)
    onnx.checker.check_model(model, full_check=True)
    float_weights = initializers(onnx.load(cnn.model))
    blocks = [n for n in model.graph.node if attribute(n, "block_size")]
    assert len(blocks) == 3
    init = initializers(model)
    for node in blocks:
        q, scale = init[node.input[0]], init[node.input[1]]
        axis, block = attribute(node, "axis"), attribute(node, "block_size")
        assert block == 4 and scale.shape[axis] == -(-q.shape[axis] // block)
        step = np.repeat(scale, block, axis=axis)[tuple(slice(0, n) for n in q.shape)]
        w = float_weights[node.input[0].removesuffix("_quantized")]
        w = w if w.shape == q.shape else w.T
        assert np.all(np.abs(q * step - w) <= step / 2 * (1 + 1e-6)), node.name
    x = cnn.tests[0]
    (theirs,) = session(qdq).run(None, {"image": x})
    (evaluated,) = ReferenceEvaluator(model).run(None, {"image": x})
    # Two float executions of the same graph: summation order only.
    np.testing.assert_allclose(theirs, evaluated, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# PP-OCR's text direction classifier


CLS_CALIBRATION_TEXTS = ["Total: 389.50 EUR", "quarc compiles ONNX", "Invoice 2024-11",
                         "hello world", "ABCDEFG 12345", "to native code"]
CLS_TEST_TEXTS = ["Total: 42.0", "Hello quarc", "2024-12-05 invoice", "OCR text line"]


@pytest.fixture(scope="module")
def cls(tmp_path_factory, quarc_driver):
    from test_compiled_models import cls_input, ocr_model, render_line

    model = ocr_model("ch_ppocr_mobile_v2.0_cls_infer")
    folder = tmp_path_factory.mktemp("qdq_cls")
    data = folder / "data"
    data.mkdir()

    def line(text: str, upside_down: bool) -> np.ndarray:
        image = render_line(text)
        return cls_input(image[::-1, ::-1].copy() if upside_down else image)

    # The classifier tells upright text from text turned by 180 degrees: calibrate and
    # test on both.
    for i, text in enumerate(CLS_CALIBRATION_TEXTS):
        np.save(data / f"{i:02d}.npy", line(text, i % 2 == 1))
    tests = [line(text, flip) for text in CLS_TEST_TEXTS for flip in (False, True)]
    stats = folder / "stats.json"
    ok("calibrate", model, "--data", data, "-o", stats)
    # Quantized for the test images' shape, as the int8 compile is: with the shape
    # arithmetic folded, quarc-quantize sees other ops (and may quantize others).
    shape = quarc_tools.shape_flag("x", tests[0].shape)
    qdq = folder / "cls.qdq.onnx"
    ok("quantize", model, "--stats", stats, *shape, "-o", qdq)
    int8_exe = folder / "int8"
    ok("compile", model, "--quantize=int8", "--stats", stats, *shape, "-o", int8_exe)
    # quarc compiles the exported model, with its dequantized activations as outputs too.
    probe = folder / "cls.qdq.probe.onnx"
    probe_outputs = write_probe_model(qdq, probe)
    probe_exe = folder / "probe"
    ok("compile", probe, *shape, "-o", probe_exe)
    return SimpleNamespace(folder=folder, model=model, stats=stats, qdq=qdq, tests=tests,
                           int8_exe=int8_exe, probe=probe, probe_exe=probe_exe,
                           probe_outputs=probe_outputs)


def logit_margin(probabilities: np.ndarray) -> float:
    """log p1 - log p0 of the two-class softmax: the difference of its input logits."""
    p = probabilities.astype(np.float64).reshape(-1)
    return float(np.log(p[1]) - np.log(p[0]))


@pytest.mark.parametrize("fixed_shape", [True, False], ids=["fixed-shape", "dynamic-shape"])
def test_cls_export_runs_in_onnxruntime(cls, fixed_shape):
    qdq = cls.qdq
    if not fixed_shape:
        qdq = cls.folder / "cls.dynamic.qdq.onnx"
        ok("quantize", cls.model, "--stats", cls.stats, "-o", qdq)
    model = onnx.load(qdq)
    onnx.checker.check_model(model, full_check=True)
    # Without --input-shape the model's dynamic dims stay dynamic.
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ([1, 3, 48, 192] if fixed_shape else ["x_d0", 3, "x_d2", "x_d3"])
    ops = Counter(n.op_type for n in model.graph.node)
    convs = ops["Conv"]
    assert convs > 40 and ops["QuantizeLinear"] > convs
    for level in (None, ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
        (p,) = session(qdq, level).run(None, {"x": cls.tests[0]})
        assert p.shape == (1, 2) and np.isfinite(p).all()


def test_cls_export_matches_quarc_int8(cls):
    model = onnx.load(cls.qdq)
    (output,) = [o.name for o in model.graph.output]
    ort_session = session(cls.qdq)
    reference = ReferenceEvaluator(model)
    float_session = session(cls.model)
    counts, to_ort, to_float = {}, [], []
    for i, x in enumerate(cls.tests):
        feeds = {"x": x}
        ours = run_executable(cls.int8_exe, feeds, cls.folder / f"int8-{i}", [output])[output]
        exported = run_executable(cls.probe_exe, feeds, cls.folder / f"probe-{i}",
                                  cls.probe_outputs)
        # (b) Compiled by quarc, the exported model is quarc's int8 model, bit for bit.
        np.testing.assert_array_equal(exported[output], ours)
        # Layer by layer, within a step (see check_layer_by_layer); the float tail
        # (Softmax) on quarc's values, to float rounding.
        check_layer_by_layer(model, feeds, exported, 1e-6, counts)
        (theirs,) = ort_session.run(None, feeds)
        (evaluated,) = reference.run(None, feeds)
        (floats,) = float_session.run(None, feeds)
        # onnxruntime and onnx.reference: two float executions of the same QDQ graph.
        # Their float ops round differently in the last bit, so a value that lands
        # on a rounding boundary of a QuantizeLinear can come out one step apart,
        # and that step reaches the saturated logits (margins of 12 to 22): 0.25
        # measured on one image, 0 on the others; a graph the two read differently
        # would be far apart or flip the class. Allowed 1.
        assert abs(logit_margin(evaluated) - logit_margin(theirs)) <= 1.0, i
        assert evaluated.argmax() == theirs.argmax(), i
        to_ort.append(abs(logit_margin(ours) - logit_margin(theirs)))
        to_float.append(abs(logit_margin(theirs) - logit_margin(floats)))
        # Where the float model is sure of the direction, so are both int8 executions.
        if abs(logit_margin(floats)) > 4:
            assert ours.argmax() == theirs.argmax() == floats.argmax(), (i, ours, floats)
    # End to end, the layers' one-step differences compound through the model's ~100
    # quantized tensors: the margin log(p1/p0) (13 to 22 on these inputs) of quarc's
    # integer code and of onnxruntime's float QDQ execution differ by up to 0.78
    # (measured), allowed 2; and on average they are closer to each other than the
    # QDQ execution is to the float model (0.48 against 0.99 measured).
    fraction, name = largest_fraction_apart(counts)
    print(f"margin: quarc - onnxruntime up to {max(to_ort):.3f}, mean {np.mean(to_ort):.3f}; "
          f"onnxruntime - float mean {np.mean(to_float):.3f}; largest fraction of a quantized "
          f"tensor one step apart: {fraction:.4f} ({name})")
    # One step apart is rare: measured at most 0.6% of a tensor's elements over the
    # test images (one of the 176 values of a squeeze-excitation block); allowed 1%.
    assert fraction <= 0.01, (name, fraction)
    assert max(to_ort) <= 2.0, to_ort
    assert np.mean(to_ort) < np.mean(to_float), (to_ort, to_float)


def test_cls_parameters_are_quarcs(cls):
    ours_act, ours_w = quarc_qdq_types(cls.model, cls.stats,
                                       input_shapes=f"x={'x'.join(map(str, cls.tests[0].shape))}")
    exported_act, exported_w = exported_types(onnx.load(cls.qdq))
    assert exported_act == ours_act
    assert exported_w == ours_w
    assert sum(ours_w.values()) > 40


# ---------------------------------------------------------------------------
# Errors


def test_integer_ops_cannot_be_exported(cnn, tmp_path):
    """After quarc-fold-qdq the graph has quarc's integer ops, which ONNX has not."""
    folded = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(cnn.model),
                             f"--quarc-quantize=stats={cnn.stats}", "--quarc-fold-qdq",
                             "--mlir-print-debuginfo"],
                            capture_output=True, text=True, timeout=120, check=True).stdout
    source = tmp_path / "folded.mlir"
    source.write_text(folded)
    out = tmp_path / "folded.onnx"
    code, _, err = quarc_tools.run_tool([str(quarc_tools.tool_path("quarc-translate")),
                                         "--export-onnx", str(source), "-o", str(out)])
    assert code == 1
    # The node is named by the op's location: the fold gives the integer op the
    # quantize's, which names the producer (conv1 with its Relu fused: relu1).
    assert ("node 'relu1' ('quarc.qconv') is quarc's integer form of a quantized op (made by "
            "quarc-fold-qdq) and has no ONNX equivalent; export the QDQ form") in err, err
    assert not out.exists()


# `quarc quantize cnn.onnx FLAGS...` (OUT: a file in the test's folder) and the message.
USAGE_ERRORS = [
    (["-o", "OUT"], "quantize needs either --stats STATS.json (from quarc calibrate) or --data DIR"),
    (["--stats", "S", "--data", "D", "-o", "OUT"], "quantize needs either --stats"),
    (["--stats", "S", "--scheme", "activations=q8", "-o", "OUT"], "--scheme: bad scheme clause"),
    (["--stats", "S", "--keep-float=Nope", "-o", "OUT"],
     "--keep-float: 'Nope' is not an ONNX op type quarc imports"),
    (["--stats", "S", "--quantize=dynamic-int8", "-o", "OUT"],
     "quantize takes --quantize=int8 (the default) or --quantize=int4-weight, not "
     "'dynamic-int8'"),
    (["--stats", "S", "--quantize=int4-weight", "-o", "OUT"],
     "--quantize=int4-weight needs no calibration: drop --stats and --data"),
    (["-o", "OUT", "--stats"], "option --stats needs a value"),
    (["--stats", "S", "-o", "OUT", "second.onnx"], "quantize takes one model"),
]


@pytest.mark.parametrize("flags,message", USAGE_ERRORS, ids=[m for _, m in USAGE_ERRORS])
def test_usage_errors(cnn, tmp_path, flags, message):
    out = tmp_path / "out.onnx"
    code, _, err = quarc("quantize", cnn.model, *[out if f == "OUT" else f for f in flags])
    assert code == 2, err
    assert message in err, err
    assert not out.exists()


def test_missing_output_and_model_are_usage_errors(cnn):
    code, _, err = quarc("quantize", cnn.model, "--stats", cnn.stats)
    assert code == 2 and "quantize needs -o OUTPUT.onnx" in err, err
    code, _, err = quarc("quantize", "--stats", cnn.stats, "-o", "x.onnx")
    assert code == 2 and "no model given" in err, err


def test_bad_output_paths(cnn, tmp_path):
    # A folder that does not exist: found before calibrating.
    code, _, err = quarc("quantize", cnn.model, "--data", cnn.data, "-o",
                         tmp_path / "missing" / "out.onnx")
    assert code == 1 and "no folder" in err, err
    # A folder where the file should be: the rename fails, the temporary file goes.
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    code, _, err = quarc("quantize", cnn.model, "--stats", cnn.stats, "-o", folder)
    assert code == 1 and f"cannot write '{folder}'" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.onnx"]
    # The model itself.
    code, _, err = quarc("quantize", cnn.model, "--stats", cnn.stats, "-o", cnn.model)
    assert code == 2 and "-o names the model itself" in err, err


def test_stats_of_another_model_leave_the_output_alone(cnn, tmp_path):
    other = tmp_path / "other.onnx"
    model = cnn_model()
    model.graph.node[1].op_type = "Sigmoid"  # another model, same tensors
    onnx.save(model, other)
    out = tmp_path / "out.onnx"
    out.write_bytes(b"previous")
    code, _, err = quarc("quantize", other, "--stats", cnn.stats, "-o", out)
    assert code == 1 and "the stats were made for a different model" in err, err
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.onnx", "out.onnx"]


def test_bad_sample_is_named(cnn, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "bad.npy", np.zeros((1, 3, 8, 8), np.float32))
    out = tmp_path / "out.onnx"
    code, _, err = quarc("quantize", cnn.model, "--data", data, "-o", out)
    assert code == 1 and "bad.npy" in err, err
    assert not out.exists()
