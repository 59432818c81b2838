"""`quarc calibrate`: the model quarc compiled runs on the samples of a folder and
its observers fill histograms of every float tensor, keyed by ONNX tensor name.

The reference is onnxruntime running the same model with the observed tensors
added as graph outputs: each tensor's count, minimum, maximum and number of
exact zeros must match. That also checks that every name is attached to the
right value through import and the graph passes (a BatchNorm folded into its
convolution leaves the BatchNorm's output name on the convolution).
Merging stats of disjoint sample ranges must give the file of one run over all
samples, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools

ort = pytest.importorskip("onnxruntime")

# A PP-OCR model compiles in ~20 s on an idle core.
COMPILE_TIMEOUT_S = 600

# Observed values come from quarc's kernels, the reference from onnxruntime's:
# extremes agree to this fraction of the tensor's largest magnitude.
REL_TOL = 1e-4
ZERO_COUNT_SLACK = 1e-5


def quarc(*args, timeout: int = quarc_tools.RUN_TIMEOUT_S) -> tuple[int, str, str]:
    code, out, err = quarc_tools.run_quarc(list(args), timeout=timeout)
    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    return code, out, err


def conv_model(batch="N") -> onnx.ModelProto:
    """Conv -> BatchNorm -> Relu -> MaxPool -> Sigmoid, plus a second input added in."""
    rng = np.random.default_rng(1)
    weights = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b"),
        numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), "scale"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "shift"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "mean"),
        numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), "var"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "w", "b"], ["conv_out"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("BatchNormalization", ["conv_out", "scale", "shift", "mean", "var"],
                         ["bn_out"], name="bn"),
        helper.make_node("Relu", ["bn_out"], ["relu_out"], name="relu"),
        helper.make_node("MaxPool", ["relu_out"], ["pool_out"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Add", ["pool_out", "offset"], ["sum"]),
        helper.make_node("Sigmoid", ["sum"], ["prob"]),
    ]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, 16, 16]),
              helper.make_tensor_value_info("offset", TensorProto.FLOAT, [1, 4, 1, 1])]
    outputs = [helper.make_tensor_value_info("prob", TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, "calibration_test", inputs, outputs, weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def smooth_images(rng: np.random.Generator, batch: int) -> np.ndarray:
    """Natural-looking 16x16 images: low-frequency patterns plus a little noise, in [-1, 1]."""
    y, x = np.mgrid[0:16, 0:16] / 16.0
    images = np.empty((batch, 3, 16, 16), np.float32)
    for b in range(batch):
        for c in range(3):
            fx, fy, phase = rng.uniform(0.5, 3, 2).tolist() + [rng.uniform(0, 6.3)]
            images[b, c] = np.sin(2 * np.pi * (fx * x + fy * y) + phase)
    images += 0.05 * rng.standard_normal(images.shape).astype(np.float32)
    return np.clip(images, -1, 1)


def write_samples(folder: Path, count: int, batches=(2,)) -> list[dict[str, np.ndarray]]:
    """`count` .npz samples for conv_model, batch sizes cycling through `batches`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    samples = []
    for i in range(count):
        sample = {"image": smooth_images(rng, batches[i % len(batches)]),
                  "offset": rng.uniform(-0.5, 0.5, (1, 4, 1, 1)).astype(np.float32)}
        np.savez(folder / f"sample{i:03d}.npz", **sample)
        samples.append(sample)
    return samples


def reference_values(model: onnx.ModelProto, names, samples) -> dict[str, list[np.ndarray]]:
    """Each named tensor's values in every sample, computed by onnxruntime."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph_outputs = {o.name for o in model.graph.output}
    inputs = {i.name for i in model.graph.input}
    for name in names:
        if name not in graph_outputs and name not in inputs:
            model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    values = {name: [] for name in names}
    for sample in samples:
        wanted = [n for n in names if n not in inputs]
        for name, value in zip(wanted, session.run(wanted, sample)):
            values[name].append(value)
        for name in names:
            if name in inputs:
                values[name].append(sample[name])
    return values


def check_against_reference(stats: dict, values: dict[str, list[np.ndarray]]) -> None:
    for name, arrays in values.items():
        flat = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)
        entry = stats["tensors"][name]
        scale = max(1.0, float(np.abs(flat).max()))
        assert entry["count"] == flat.size, name
        assert abs(entry["min"] - flat.min()) <= REL_TOL * scale, (name, entry["min"], flat.min())
        assert abs(entry["max"] - flat.max()) <= REL_TOL * scale, (name, entry["max"], flat.max())
        # Exact zeros (a ReLU's) match, up to values that round to zero in one
        # implementation and not in the other.
        zeros = int((flat == 0).sum())
        assert abs(entry.get("zeros", 0) - zeros) <= ZERO_COUNT_SLACK * flat.size + 1, name


@pytest.fixture
def conv_case(tmp_path):
    model = conv_model()
    model_path = tmp_path / "model.onnx"
    onnx.save(model, model_path)
    samples = write_samples(tmp_path / "data", 5)
    return model, model_path, samples


def test_stats_match_onnxruntime(conv_case, tmp_path):
    model, model_path, samples = conv_case
    stats_path = tmp_path / "stats.json"
    code, _, err = quarc("calibrate", model_path, "--data", tmp_path / "data", "-o", stats_path)
    assert code == 0, err
    stats = json.loads(stats_path.read_text())
    assert stats["format"] == "quarc-calibration-stats"
    assert stats["num_samples"] == 5 and stats["samples"] == [[0, 4]]
    # The BatchNorm folds into the convolution: its input is gone, its output observed.
    assert set(stats["tensors"]) == {"image", "offset", "bn_out", "relu_out", "pool_out", "sum",
                                     "prob"}
    check_against_reference(stats, reference_values(model, list(stats["tensors"]), samples))


def test_model_hash_is_sha256_of_the_file(conv_case, tmp_path):
    import hashlib

    _, model_path, _ = conv_case
    stats_path = tmp_path / "stats.json"
    code, _, err = quarc("calibrate", model_path, "--data", tmp_path / "data", "-o", stats_path)
    assert code == 0, err
    expected = "sha256:" + hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert json.loads(stats_path.read_text())["model_hash"] == expected


def test_split_runs_merge_to_the_full_run(conv_case, tmp_path):
    _, model_path, _ = conv_case
    data = tmp_path / "data"
    full, part_a, part_b, merged = (tmp_path / f"{n}.json" for n in ("full", "a", "b", "merged"))
    for out, extra in ((full, []), (part_a, ["--samples", "0:1"]), (part_b, ["--samples=2:4"])):
        code, _, err = quarc("calibrate", model_path, "--data", data, "-o", out, *extra)
        assert code == 0, err
    assert json.loads(part_a.read_text())["samples"] == [[0, 1]]
    # Either order of the parts gives the same file.
    for order in ((part_a, part_b), (part_b, part_a)):
        code, _, err = quarc("calibrate", "--merge", *order, "-o", merged)
        assert code == 0, err
        assert merged.read_bytes() == full.read_bytes()


def test_merge_rejects_overlap_and_other_models(conv_case, tmp_path):
    _, model_path, _ = conv_case
    data = tmp_path / "data"
    a, b, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "other.json"
    for out, samples in ((a, "0:2"), (b, "2:4")):
        assert quarc("calibrate", model_path, "--data", data, "-o", out, "--samples", samples)[0] == 0
    code, _, err = quarc("calibrate", "--merge", a, b, "-o", tmp_path / "m.json")
    assert code == 1 and "sample 2" in err, err
    assert not (tmp_path / "m.json").exists()

    other_model = conv_model(batch=2)
    other_path = tmp_path / "other.onnx"
    onnx.save(other_model, other_path)
    assert quarc("calibrate", other_path, "--data", data, "-o", other,
                 "--samples", "3:4")[0] == 0
    code, _, err = quarc("calibrate", "--merge", a, other, "-o", tmp_path / "m.json")
    assert code == 1 and "different models" in err, err


def test_dynamic_batch_samples_of_different_sizes(tmp_path):
    """Samples with batch 1 and 3: the model is compiled once per shape, the stats are one."""
    model = conv_model()
    model_path = tmp_path / "model.onnx"
    onnx.save(model, model_path)
    samples = write_samples(tmp_path / "data", 4, batches=(1, 3))
    stats_path = tmp_path / "stats.json"
    code, _, err = quarc("calibrate", model_path, "--data", tmp_path / "data", "-o", stats_path,
                         "--threads", "2")
    assert code == 0, err
    stats = json.loads(stats_path.read_text())
    check_against_reference(stats, reference_values(model, list(stats["tensors"]), samples))


def test_single_input_model_takes_npy_samples(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    graph = helper.make_graph([helper.make_node("Tanh", ["x"], ["y"])], "tanh", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model_path = tmp_path / "tanh.onnx"
    onnx.save(model, model_path)
    (tmp_path / "data").mkdir()
    rng = np.random.default_rng(3)
    samples = []
    for i in range(3):
        array = rng.uniform(-3, 3, (2, 3)).astype(np.float32)
        np.save(tmp_path / "data" / f"{i}.npy", array)
        samples.append({"x": array})
    (tmp_path / "data" / "README.txt").write_text("not a sample")
    code, _, err = quarc("calibrate", model_path, "--data", tmp_path / "data", "-o",
                         tmp_path / "stats.json")
    assert code == 0, err
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["num_samples"] == 3
    check_against_reference(stats, reference_values(model, ["x", "y"], samples))


# ---------------------------------------------------------------------------
# Errors: one clear message, exit code 1 (2 for usage), no output file


@pytest.mark.parametrize("case", ["empty_folder", "no_folder", "wrong_shape", "wrong_dtype",
                                  "missing_input", "nan", "range"])
def test_bad_data_is_one_clear_error(conv_case, tmp_path, case):
    _, model_path, samples = conv_case
    data = tmp_path / "bad"
    data.mkdir()
    sample = dict(samples[0])
    expected = []
    extra = []
    if case == "empty_folder":
        expected = ["has no .npz or .npy samples"]
    elif case == "no_folder":
        data = tmp_path / "missing"
        expected = ["missing"]
    elif case == "wrong_shape":
        sample["image"] = np.zeros((2, 3, 8, 8), np.float32)
        expected = ["s.npz", "image", "16"]
    elif case == "wrong_dtype":
        sample["offset"] = sample["offset"].astype(np.float64)
        expected = ["s.npz", "offset", "f32"]
    elif case == "missing_input":
        del sample["offset"]
        expected = ["s.npz", "offset"]
    elif case == "nan":
        sample["image"] = sample["image"].copy()
        sample["image"][1, 2, 3, 4] = np.nan
        expected = ["s.npz", "image", "NaN"]
    elif case == "range":
        extra = ["--samples", "0:5"]
        expected = ["0:5", "1 "]
    if case not in ("empty_folder", "no_folder"):
        np.savez(data / "s.npz", **sample)
    out = tmp_path / "stats.json"
    code, _, err = quarc("calibrate", model_path, "--data", data, "-o", out, *extra)
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], (text, err)
    assert not out.exists()


def test_nan_inside_the_model_names_sample_and_tensor(tmp_path):
    """log(x) of a negative input: the observer of the log's output reports it."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    graph = helper.make_graph([helper.make_node("Log", ["x"], ["logged"]),
                               helper.make_node("Abs", ["logged"], ["y"])], "log", [x], [y])
    model_path = tmp_path / "log.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model_path)
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "a.npy", np.array([1, 2, 3, 4], np.float32))
    np.save(tmp_path / "data" / "b.npy", np.array([1, -2, 3, 4], np.float32))
    code, _, err = quarc("calibrate", model_path, "--data", tmp_path / "data", "-o",
                         tmp_path / "s.json")
    assert code == 1
    assert "sample 'b.npy'" in err and "'logged'" in err and "NaN" in err, err
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("args,message", [
    (["--data", "d", "-o", "s.json"], "no model given"),
    (["MODEL", "-o", "s.json"], "needs --data"),
    (["MODEL", "--data", "d"], "needs -o"),
    (["MODEL", "--data", "d", "-o", "s.json", "--samples", "3"], "--samples takes FIRST:LAST"),
    (["MODEL", "--data", "d", "-o", "s.json", "--samples", "4:2"], "--samples takes FIRST:LAST"),
    (["MODEL", "--data", "d", "-o", "s.json", "--threads", "0"], "--threads takes"),
    (["MODEL", "--data", "d", "-o", "s.json", "--bins", "3"], "--bins takes"),
    (["MODEL", "--data", "d", "-o", "s.json", "--frobnicate"], "unknown option '--frobnicate'"),
    (["--merge", "a.json", "-o", "s.json"], "at least two"),
    (["--merge", "a.json", "b.json", "--data", "d", "-o", "s.json"], "only stats files"),
])
def test_usage_errors(conv_case, tmp_path, args, message):
    _, model_path, _ = conv_case
    args = [str(model_path) if a == "MODEL" else a for a in args]
    code, _, err = quarc("calibrate", *args)
    assert code == 2 and message in err, err


def test_corrupt_stats_file_in_merge(conv_case, tmp_path):
    _, model_path, _ = conv_case
    good = tmp_path / "good.json"
    assert quarc("calibrate", model_path, "--data", tmp_path / "data", "-o", good)[0] == 0
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text()[:200])
    code, _, err = quarc("calibrate", "--merge", good, bad, "-o", tmp_path / "m.json")
    assert code == 1 and "bad.json" in err, err


# ---------------------------------------------------------------------------
# A real model on realistic inputs


def test_ppocr_rec_on_rendered_text(tmp_path):
    """The PP-OCRv4 recognizer on text lines rendered with a real font: every observed
    tensor (hundreds, after BatchNorm folding and layout clean-up) matches onnxruntime."""
    from test_compiled_models import ocr_model, rec_input, render_line

    model_path = ocr_model("ch_PP-OCRv4_rec_infer")
    data = tmp_path / "data"
    data.mkdir()
    samples = []
    for i, text in enumerate(("Invoice 2026-11-23", "quarc int8", "Total: 389.50 EUR")):
        array = rec_input(render_line(text))
        np.save(data / f"{i}.npy", array)
        samples.append({"x": array})
    stats_path = tmp_path / "stats.json"
    code, _, err = quarc("calibrate", model_path, "--data", data, "-o", stats_path,
                         timeout=COMPILE_TIMEOUT_S)
    assert code == 0, err
    stats = json.loads(stats_path.read_text())
    model = onnx.load(model_path)
    assert len(stats["tensors"]) > 100
    check_against_reference(stats, reference_values(model, list(stats["tensors"]), samples))
