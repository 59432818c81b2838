"""`quarc report`: the float model and its int8 integer code run side by side on samples,
every tensor the integer code writes compared with the float one.

Checked against what does not come from the report: the quantized types in the IR that
quarc-opt prints for the same stats, the model's output SQNR computed in numpy from
onnxruntime's FP32 outputs and `quarc run --quantize=int8`'s, an input whose values the
quantized type holds exactly (SQNR infinite), the JSON against the Markdown; and every
bad input gives one error line and leaves no file behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import pytest

import quarc_tools
from test_quantize import cnn_model, smooth_image

ort = pytest.importorskip("onnxruntime")

# quarc report compiles the model twice and runs both on every sample.
REPORT_TIMEOUT_S = 300
QUANT_TYPE = re.compile(r"!quant\.uniform<(u8|i8):f32, ([^>:]*)(?::(-?\d+))?>")
# The CNN's tensors as the integer code writes them: the input's quantize, conv1 with
# its Relu fused (it writes the Relu's output), conv2, the average pool, the Flatten
# that moves the pooled values, and the final MatMul writing f32 from int32.
EXPECTED_TENSORS = [("image", "", "quantize", "u8"), ("r1", "relu1", "qconv", "u8"),
                    ("c2", "conv2", "qconv", "u8"), ("pooled", "pool", "qaverage_pool", "u8"),
                    ("flat", "flatten", "flatten", "u8"), ("logits", "fc", "qmatmul", "f32")]


def quarc(*args, env=None, timeout: int = REPORT_TIMEOUT_S) -> tuple[int, str, str]:
    command = [str(quarc_tools.tool_path("quarc"))] + [str(a) for a in args]
    proc = subprocess.run(command, capture_output=True, text=True, errors="replace",
                          timeout=timeout, check=False, env=env)
    assert not quarc_tools.is_crash(proc.returncode, proc.stderr), proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def case(tmp_path_factory, quarc_driver):
    folder = tmp_path_factory.mktemp("report")
    model_path = folder / "cnn.onnx"
    onnx.save(cnn_model(), model_path)
    data = folder / "data"
    data.mkdir()
    rng = np.random.default_rng(11)
    samples = [smooth_image(rng) for _ in range(6)]
    for i, sample in enumerate(samples):
        np.save(data / f"{i}.npy", sample)
    stats = folder / "stats.json"
    code, _, err = quarc("calibrate", model_path, "--data", data, "-o", stats)
    assert code == 0, err
    out = folder / "out"
    out.mkdir()
    code, _, err = quarc("report", model_path, "--data", data, "--stats", stats,
                         "-o", out / "r.md", "--json", out / "r.json", "--png", out / "r.png")
    assert code == 0, err
    report = json.loads((out / "r.json").read_text())
    return folder, model_path, data, stats, samples, out, report


def sqnr_db(x: np.ndarray, q: np.ndarray) -> float:
    x, q = x.astype(np.float64), q.astype(np.float64)
    return float(10 * np.log10(np.sum(x * x) / np.sum((x - q) ** 2)))


def test_lists_every_tensor_the_integer_code_writes(case):
    *_, report = case
    got = [(t["name"], t["node"], t["op"], t["type"]) for t in report["tensors"]]
    assert got == EXPECTED_TENSORS
    assert all(t["count"] > 0 for t in report["tensors"])
    assert report["samples"] == 6 and report["calibration_samples"] == 6
    ops = {o["op_type"]: (o["integer"], o["float"]) for o in report["ops"]}
    assert ops == {"Conv": (2, 0), "Relu": (1, 0), "GlobalAveragePool": (1, 0),
                   "Flatten": (1, 0), "MatMul": (1, 0)}


def test_scales_equal_the_compiled_ir(case):
    _, model_path, _, stats, *_, report = case
    ir = subprocess.run([str(quarc_tools.tool_path("quarc-opt")), str(model_path),
                         "--pass-pipeline=builtin.module(quarc-quantize{stats=%s},cse,"
                         "func.func(quarc-fold-qdq))" % stats],
                        capture_output=True, text=True, timeout=60, check=True).stdout
    in_ir = {(np.float32(scale), int(zero_point or 0))
             for _, scale, zero_point in QUANT_TYPE.findall(ir)}
    in_report = {(np.float32(t["scale"]), t["zero_point"])
                 for t in report["tensors"] if t["type"] != "f32"}
    assert in_report == in_ir
    for tensor in report["tensors"]:
        if tensor["type"] == "f32":
            assert tensor["scale"] is None and tensor["representable"] is None
            continue
        # The representable range is the u8 grid; the calibrated range (min-max) is
        # inside it, widened to 0 by at most a step.
        scale, zero_point = tensor["scale"], tensor["zero_point"]
        assert tensor["representable"] == pytest.approx([-zero_point * scale,
                                                         (255 - zero_point) * scale])
        low, high = tensor["calibrated_range"]
        assert tensor["representable"][0] <= min(low, 0) + scale
        assert tensor["representable"][1] >= high - scale


def test_weights(case):
    *_, report = case
    weights = {(w["node"], w["op"]): w for w in report["weights"]}
    assert set(weights) == {("conv1", "qconv"), ("conv2", "qconv"), ("fc", "qmatmul")}
    # (elements, scales): 8x3x3x3 and 4x8x1x1 per output channel, 4x5 per column.
    for key, (elements, channels) in {("conv1", "qconv"): (216, 8), ("conv2", "qconv"): (32, 4),
                                      ("fc", "qmatmul"): (20, 5)}.items():
        weight = weights[key]
        assert (weight["elements"], weight["channels"], weight["type"]) == (elements, channels,
                                                                             "i8")
        assert weight["float_bytes"] == 4 * elements
        assert weight["quantized_bytes"] == elements
        assert weight["scale_bytes"] == 4 * channels
        assert weight["zero_point_bytes"] == 0  # symmetric
    assert report["weight_bytes"] == {"float": 4 * 268, "quantized": 268, "scales": 4 * 17,
                                      "zero_points": 0}
    assert report["constant_bytes"]["quantized"] < report["constant_bytes"]["float"]


def test_output_sqnr_agrees_with_an_independent_computation(case, tmp_path):
    """FP32 from onnxruntime, int8 from `quarc run --quantize=int8`, SQNR in numpy."""
    _, model_path, data, stats, samples, _, report = case
    session = ort.InferenceSession(str(model_path))
    reference, quantized = [], []
    for i, sample in enumerate(samples):
        reference.append(session.run(None, {"image": sample})[0])
        out = tmp_path / f"out{i}"
        code, _, err = quarc("run", model_path, "--quantize=int8", "--stats", stats,
                             data / f"{i}.npy", "--output-dir", out)
        assert code == 0, err
        quantized.append(np.load(out / "logits.npy"))
    x, q = np.concatenate(reference), np.concatenate(quantized)
    (output,) = report["outputs"]
    assert output["name"] == "logits" and output["count"] == x.size
    # quarc's FP32 code and onnxruntime differ by float rounding (~1e-6 relative),
    # far below the quantization error (~1e-2 relative): the SQNR agrees to 0.01 dB.
    assert output["sqnr_db"] == pytest.approx(sqnr_db(x, q), abs=0.01)
    assert output["max_abs_error"] == pytest.approx(np.abs(x - q).max(), rel=1e-3)
    cosine = np.sum(x * q) / np.sqrt(np.sum(x * x) * np.sum(q * q))
    assert output["cosine"] == pytest.approx(cosine, abs=1e-6)
    # The integer op that writes the output is the output.
    logits = report["tensors"][-1]
    assert logits["sqnr_db"] == pytest.approx(output["sqnr_db"], abs=1e-6)
    assert not output["exact"] and 10 < output["sqnr_db"] < 60


def test_exactly_representable_input_is_exact(case, tmp_path):
    """Inputs on the grid k/128, k = 0..255, with both ends present: min-max gives the
    scale 1/128 and zero point 0, so the quantized input is the float input exactly."""
    _, model_path, *_ = case
    data = tmp_path / "grid"
    data.mkdir()
    rng = np.random.default_rng(3)
    for i in range(3):
        k = rng.integers(0, 256, (1, 3, 24, 24))
        k.flat[0], k.flat[1] = 0, 255
        np.save(data / f"{i}.npy", (k / 128.0).astype(np.float32))
    code, _, err = quarc("report", model_path, "--data", data, "-o", tmp_path / "r.md",
                         "--json", tmp_path / "r.json")
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["stats"] is None  # calibrated on the samples themselves
    image = report["tensors"][0]
    assert image["name"] == "image"
    assert (image["scale"], image["zero_point"]) == (1 / 128, 0)
    assert image["exact"] and image["sqnr_db"] is None and image["max_abs_error"] == 0
    assert image["clipped"] == 0
    # The convolution's rounding is not exact.
    assert not report["tensors"][1]["exact"] and report["tensors"][1]["sqnr_db"] > 0
    markdown = (tmp_path / "r.md").read_text()
    assert "| 0 | image | - | quantize | u8 | 0.007812 | 0 | [0, 1.992] | inf (exact) |" \
        in markdown


def markdown_rows(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip("|").split(" | ")] for row in rows[2:]]


def test_json_matches_markdown(case):
    *_, out, report = case
    markdown = (out / "r.md").read_text()
    rows = markdown_rows(markdown, "Tensors")
    assert len(rows) == len(report["tensors"])
    for row, tensor in zip(rows, report["tensors"]):
        index, name, node, op, kind, scale, zero_point, _, sqnr, max_error, _ = row
        assert (name, node, op, kind) == (tensor["name"], tensor["node"] or "-", tensor["op"],
                                          tensor["type"])
        if tensor["scale"] is not None:
            assert float(scale) == pytest.approx(tensor["scale"], rel=1e-3)
            assert int(zero_point) == tensor["zero_point"]
        assert float(sqnr.strip("*")) == pytest.approx(tensor["sqnr_db"], abs=0.051)
        assert float(max_error) == pytest.approx(tensor["max_abs_error"], rel=1e-3)
    # The lowest SQNR are bold, and named in the summary.
    worst = min(report["tensors"], key=lambda t: t["sqnr_db"])
    assert f"`{worst['name']}` {worst['sqnr_db']:.1f} dB" in markdown
    bold = [r[1] for r in rows if r[8].startswith("**")]
    assert worst["name"] in bold and len(bold) == 5
    (output_row,) = markdown_rows(markdown, "Model outputs")
    assert output_row[0] == "logits"
    assert float(output_row[1]) == pytest.approx(report["outputs"][0]["sqnr_db"], abs=0.051)
    assert f"Ops: 6 of 6 run as integer code" in markdown


def test_chart_is_a_png(case):
    *_, out, _ = case
    png = (out / "r.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert sorted(p.name for p in out.iterdir()) == ["r.json", "r.md", "r.png"]


def test_exclude_nodes_and_scheme_reach_the_quantizer(case, tmp_path):
    _, model_path, data, stats, *_ = case
    code, _, err = quarc("report", model_path, "--data", data, "--stats", stats,
                         "--exclude-nodes", "conv2", "--scheme", "activations=s8:symmetric",
                         "-o", tmp_path / "r.md", "--json", tmp_path / "r.json")
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    ops = {o["op_type"]: (o["integer"], o["float"]) for o in report["ops"]}
    assert ops["Conv"] == (1, 1)
    assert "activations=s8:symmetric" in report["scheme"]
    assert {t["type"] for t in report["tensors"]} <= {"i8", "f32"}
    assert all(t["zero_point"] in (None, 0) for t in report["tensors"])
    assert "c2" not in [t["name"] for t in report["tensors"]]


# ---------------------------------------------------------------------------
# Errors: one line, the right exit status, nothing written


def report_error(case, tmp_path, *args, env=None) -> tuple[int, str]:
    _, model_path, data, stats, *_ = case
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    code, _, err = quarc("report", *args, env=env)
    assert list(out.iterdir()) == [], "a failed report left files behind"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return code, err


@pytest.mark.parametrize("args,message", [
    (["{model}", "-o", "{out}/r.md"], "report needs --data DIR"),
    (["{model}", "--data", "{data}"], "report needs -o REPORT.md"),
    (["--data", "{data}", "-o", "{out}/r.md"], "no model given"),
    (["{model}", "{model}", "--data", "{data}", "-o", "{out}/r.md"], "report takes one model"),
    (["{model}", "--data", "{data}", "-o", "{out}/r.md", "--bogus"],
     "unknown option '--bogus' for report"),
    (["{model}", "--data", "{data}", "-o", "{out}/r.md", "--json"], "--json needs a value"),
    (["{model}", "--data", "{data}", "-o", "{out}/r.md", "--png="], "--png needs a value"),
    (["{model}", "--data", "{data}", "-o", "{out}/r.md", "--json", "{out}/r.md"],
     "must name different files"),
    (["{model}", "--data", "{data}", "-o", "{out}/r.md", "--scheme", "bogus"], "--scheme:"),
    (["{model}", "--data", "{data}", "-o", "{out}/r.md", "--keep-float", "conv"],
     "--keep-float: 'conv' is not an ONNX op type"),
    (["{model}", "--data", "{data}", "-o", "{out}/r.md", "--threads", "0"],
     "--threads takes a number"),
])
def test_usage_errors(case, tmp_path, args, message):
    _, model_path, data, *_ = case
    args = [a.format(model=model_path, data=data, out=tmp_path / "out") for a in args]
    code, err = report_error(case, tmp_path, *args)
    assert code == 2 and message in err, err


def other_model_stats(case, tmp_path):
    """Stats calibrated on a model with other weights (another hash)."""
    folder, _, data, *_ = case
    model = cnn_model()
    model.graph.initializer[1].float_data[:] = []
    model.graph.initializer[1].raw_data = np.ones(8, np.float32).tobytes()
    path = tmp_path / "other.onnx"
    onnx.save(model, path)
    stats = tmp_path / "other.json"
    code, _, err = quarc("calibrate", path, "--data", data, "-o", stats)
    assert code == 0, err
    return stats


def test_runtime_errors(case, tmp_path):
    _, model_path, data, stats, *_ = case
    out = tmp_path / "out"
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "quarc-calibration-stats", "version": "one"}')
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = tmp_path / "bad"
    bad.mkdir()
    np.save(bad / "0.npy", np.zeros((1, 3, 20, 24), np.float32))
    cases = [
        (["--data", data, "--stats", tmp_path / "missing.json"], "missing.json"),
        (["--data", data, "--stats", corrupt], "corrupt.json"),
        (["--data", data, "--stats", other_model_stats(case, tmp_path)],
         "the stats were made for a different model"),
        (["--data", empty], "has no .npz or .npy samples"),
        (["--data", tmp_path / "nowhere"], "No such file or directory"),
        (["--data", bad], "0.npy"),
    ]
    for args, message in cases:
        code, err = report_error(case, tmp_path, model_path, *args, "-o", out / "r.md",
                                 "--json", out / "r.json")
        assert code == 1 and message in err, (args, err)
    code, err = report_error(case, tmp_path, tmp_path / "nomodel.onnx", "--data", data,
                             "-o", out / "r.md")
    assert code == 1 and "no such file" in err, err


def test_unwritable_outputs(case, tmp_path):
    _, model_path, data, stats, *_ = case
    out = tmp_path / "out"
    for args, message in [
        (["-o", tmp_path / "nowhere" / "r.md"], "no folder"),
        (["-o", out / "r.md", "--json", tmp_path / "nowhere" / "r.json"], "no folder"),
        (["-o", out], "it is a folder"),
    ]:
        code, err = report_error(case, tmp_path, model_path, "--data", data, "--stats", stats,
                                 *args)
        assert code == 1 and message in err, err
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, err = report_error(case, tmp_path, model_path, "--data", data, "--stats", stats,
                                 "-o", locked / "r.md")
        assert code == 1 and "is not writable" in err, err


def test_chart_without_matplotlib(case, tmp_path):
    """A Python without matplotlib: one error saying so before anything runs; no file."""
    _, model_path, data, stats, *_ = case
    fake = tmp_path / "fake"
    (fake / "matplotlib").mkdir(parents=True)
    (fake / "matplotlib" / "__init__.py").write_text("raise ImportError('no matplotlib')\n")
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nPYTHONPATH={fake} exec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    out = tmp_path / "out"
    for interpreter, message in [(python, "matplotlib is not installed"),
                                 (tmp_path / "no-python", "drawing the chart with")]:
        env = dict(os.environ, QUARC_PYTHON=str(interpreter))
        code, err = report_error(case, tmp_path, model_path, "--data", data, "--stats", stats,
                                 "-o", out / "r.md", "--png", out / "r.png", env=env)
        assert code == 1 and message in err, err


def hardswish_model() -> onnx.ModelProto:
    """Conv -> x * Clip(x + 3, 0, 6) / 6 -> Conv -> Softmax: the chain becomes one table
    between the integer convolutions, the Softmax stays float."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    inits = [numpy_helper.from_array((0.3 * rng.standard_normal((8, 3, 3, 3))).astype(np.float32),
                                     "w1"),
             numpy_helper.from_array((0.3 * rng.standard_normal((4, 8, 1, 1))).astype(np.float32),
                                     "w2"),
             numpy_helper.from_array(np.array(3, np.float32), "three"),
             numpy_helper.from_array(np.array(0, np.float32), "zero"),
             numpy_helper.from_array(np.array(6, np.float32), "six")]
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Add", ["c1", "three"], ["a"], name="add"),
             helper.make_node("Clip", ["a", "zero", "six"], ["clipped"], name="clip"),
             helper.make_node("Mul", ["c1", "clipped"], ["m"], name="mul"),
             helper.make_node("Div", ["m", "six"], ["hs"], name="div"),
             helper.make_node("Conv", ["hs", "w2"], ["c2"], name="conv2"),
             helper.make_node("Softmax", ["c2"], ["probs"], axis=1, name="softmax")]
    graph = helper.make_graph(
        nodes, "hardswish",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 24, 24])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 4, 24, 24])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_table_chains_count_as_integer(case, tmp_path):
    """The chain's Add, Clip and Mul are folded into the table (quarc.lut) that replaces
    its last op, Div: all four run as integer code; the Softmax runs in float."""
    _, _, data, *_ = case
    model_path = tmp_path / "hardswish.onnx"
    onnx.save(hardswish_model(), model_path)
    code, _, err = quarc("report", model_path, "--data", data, "-o", tmp_path / "r.md",
                         "--json", tmp_path / "r.json")
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    ops = {o["op_type"]: (o["integer"], o["float"]) for o in report["ops"]}
    assert ops == {"Conv": (2, 0), "Add": (1, 0), "Clip": (1, 0), "Mul": (1, 0), "Div": (1, 0),
                   "Softmax": (0, 1)}
    got = [(t["name"], t["node"], t["op"], t["type"]) for t in report["tensors"]]
    assert got == [("image", "", "quantize", "u8"), ("c1", "conv1", "qconv", "u8"),
                   ("hs", "div", "lut", "u8"), ("c2", "conv2", "qconv", "f32")]
    assert all(t["count"] > 0 and t["sqnr_db"] > 15 for t in report["tensors"])


def test_asymmetric_weights_count_their_zero_points(case, tmp_path):
    _, model_path, data, stats, *_ = case
    code, _, err = quarc("report", model_path, "--data", data, "--stats", stats,
                         "--scheme", "weights=u8:asymmetric", "-o", tmp_path / "r.md",
                         "--json", tmp_path / "r.json")
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    channels = {w["node"]: w["channels"] for w in report["weights"]}
    assert channels == {"conv1": 8, "conv2": 4, "fc": 5}
    for weight in report["weights"]:
        assert weight["type"] == "u8"
        # One u8 zero point per channel (random weights: none is exactly 0).
        assert weight["zero_point_bytes"] == weight["channels"]
    assert report["weight_bytes"]["zero_points"] == 17


def test_quantized_model_is_an_error(case, tmp_path):
    """A QDQ model runs as integer code in every compile: there is no float model to
    compare with."""
    from onnx import TensorProto, helper, numpy_helper
    _, _, data, *_ = case
    inits = [numpy_helper.from_array(np.array(0.02, np.float32), "scale"),
             numpy_helper.from_array(np.array(128, np.uint8), "zero_point")]
    nodes = [helper.make_node("QuantizeLinear", ["image", "scale", "zero_point"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "scale", "zero_point"], ["dq"]),
             helper.make_node("MaxPool", ["dq"], ["pooled"], kernel_shape=[2, 2]),
             helper.make_node("QuantizeLinear", ["pooled", "scale", "zero_point"], ["q2"]),
             helper.make_node("DequantizeLinear", ["q2", "scale", "zero_point"], ["out"])]
    graph = helper.make_graph(
        nodes, "qdq", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 24, 24])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 23, 23])], inits)
    model_path = tmp_path / "qdq.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model_path)
    code, err = report_error(case, tmp_path, model_path, "--data", data,
                             "-o", tmp_path / "out" / "r.md")
    assert code == 1 and "is already quantized" in err, err
