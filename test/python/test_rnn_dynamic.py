"""LSTM, GRU and RNN under `--quantize=dynamic-int8`: W and R quantized to s8 at compile
time (one scale per output row of each direction), X and each step's hidden state to u8
as the model runs (as ONNX DynamicQuantizeLinear), the products in integers.

Checked three ways:
  * against an independent numpy implementation of the documented semantics
    (quarc.lstm's `dynamic_quantization` description), which must agree to float32
    rounding: any misplaced scale, zero point, gate or direction is off by 1e-2 and more;
  * against onnxruntime's own dynamic quantization of the LSTM (quantize_dynamic,
    per_channel, which makes com.microsoft.DynamicQuantizeLSTM: the same arithmetic,
    except that it quantizes each direction's state separately and uses its own
    sigmoid/tanh approximations, so the two differ by a few quantization steps);
  * for accuracy against FP32 onnxruntime: quarc's error is no larger than onnxruntime's
    dynamic LSTM's, and of the size int8 gives for the GRU and RNN, which onnxruntime
    does not quantize.
"""

from __future__ import annotations

import subprocess

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import quarc_tools
from test_rnn import make_inputs, make_model, run_compiled

ort = pytest.importorskip("onnxruntime")

COMPILE_TIMEOUT_S = 120


def compile_dynamic(model: onnx.ModelProto, folder, name: str = "model", *flags):
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    exe = folder / name
    code, _, err = quarc_tools.run_quarc(["compile", path, "--quantize=dynamic-int8", *flags,
                                          "-o", exe], timeout=COMPILE_TIMEOUT_S)
    assert not quarc_tools.is_crash(code, err), quarc_tools.crash_summary(code, err)
    assert code == 0, quarc_tools.first_error_line(err)
    return path, exe


# ---------------------------------------------------------------------------
# The numpy reference (layout 0, default activations, no clip)

f32 = np.float32


def quantize_rows(w: np.ndarray):
    """s8 symmetric per (direction, row): scale absmax / 127, values in [-127, 127]."""
    scale = (np.abs(w).max(axis=2, keepdims=True) / f32(127)).astype(f32)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int32)
    return q, scale[..., 0]


def quantize_dynamic_linear(x: np.ndarray):
    """ONNX DynamicQuantizeLinear: u8 values and (scale, zero point)."""
    lo, hi = min(f32(0), x.min()), max(f32(0), x.max())
    scale = f32((hi - lo) / f32(255))
    if scale == 0:
        return np.zeros(x.shape, np.int32), f32(0)
    zero = int(np.round(np.clip(-lo / scale, 0, 255)))
    q = np.clip(np.round(x / scale) + zero, 0, 255).astype(np.int32)
    return q - zero, scale


def product(centered: np.ndarray, scale, wq: np.ndarray, wscale: np.ndarray) -> np.ndarray:
    """f32(sum over k of centered * wq[n, k]) * f32(scale * wscale[n])."""
    acc = centered.astype(np.int64) @ wq.T.astype(np.int64)
    return acc.astype(f32) * (f32(scale) * wscale).astype(f32)


def sigmoid(x):
    return (f32(1) / (f32(1) + np.exp(-x))).astype(f32)


def reference(op_type: str, model: onnx.ModelProto, feeds: dict) -> dict[str, np.ndarray]:
    """Y, Y_h (and Y_c) of the dynamically quantized layer. A GRU without
    linear_before_reset quantizes r * h of every sequence, finished or not, so it is
    checked on sequences that run the whole X only."""
    node = model.graph.node[0]
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    x = feeds["X"]
    seq, batch, _ = x.shape
    wq, wscale = quantize_rows(inits["W"])
    rq, rscale = quantize_rows(inits["R"])
    directions, rows, _ = inits["W"].shape
    hidden = attributes["hidden_size"]
    linear_before_reset = attributes.get("linear_before_reset", 0)
    bias = inits.get("B", np.zeros((directions, 2 * rows), f32))
    wb, rb = bias[:, :rows], bias[:, rows:]
    lengths = feeds.get("sequence_lens", np.full(batch, seq, np.int32))
    if op_type == "GRU" and not linear_before_reset:
        assert (lengths == seq).all()
    backward = [d == 1 or attributes.get("direction") == b"reverse" for d in range(directions)]

    # The input projection: X quantized once, for every step; biases added after.
    xc, xscale = quantize_dynamic_linear(x)
    projected = np.stack([product(xc.reshape(seq * batch, -1), xscale, wq[d], wscale[d])
                          for d in range(directions)]).reshape(directions, seq, batch, rows)
    added = wb + rb
    if op_type == "GRU" and linear_before_reset:
        added[:, 2 * hidden:] = wb[:, 2 * hidden:]  # Rbh joins inside the step
    projected += added[:, None, None, :]

    def recurrent(state, first, count):
        """state [D, B, H] quantized once (all directions), times rows
        [first, first + count) of R of each direction."""
        centered, scale = quantize_dynamic_linear(state)
        return np.stack([product(centered[d], scale, rq[d][first:first + count],
                                 rscale[d][first:first + count]) for d in range(directions)])

    h = feeds.get("initial_h", np.zeros((directions, batch, hidden), f32))
    c = feeds.get("initial_c", np.zeros((directions, batch, hidden), f32))
    y = np.zeros((seq, directions, batch, hidden), f32)
    gate = lambda v, k: v[..., k * hidden:(k + 1) * hidden]  # noqa: E731
    for t in range(seq):
        valid = t < lengths  # [B]
        time = np.array([[(lengths[b] - 1 - t if backward[d] else t) if valid[b] else 0
                          for b in range(batch)] for d in range(directions)])
        xp = projected[np.arange(directions)[:, None], time, np.arange(batch)[None, :]]
        c_new = c
        if op_type == "LSTM":
            s = xp + recurrent(h, 0, rows)
            i, o, f = sigmoid(gate(s, 0)), sigmoid(gate(s, 1)), sigmoid(gate(s, 2))
            c_new = f * c + i * np.tanh(gate(s, 3))
            h_new = o * np.tanh(c_new)
        elif op_type == "GRU" and linear_before_reset:
            g = recurrent(h, 0, rows)
            z = sigmoid(gate(xp, 0) + gate(g, 0))
            r = sigmoid(gate(xp, 1) + gate(g, 1))
            candidate = np.tanh(gate(xp, 2) + r * (gate(g, 2) + rb[:, None, 2 * hidden:]))
            h_new = (1 - z) * candidate + z * h
        elif op_type == "GRU":
            g = recurrent(h, 0, 2 * hidden)
            z = sigmoid(gate(xp, 0) + gate(g, 0))
            r = sigmoid(gate(xp, 1) + gate(g, 1))
            candidate = np.tanh(gate(xp, 2) + recurrent(r * h, 2 * hidden, hidden))
            h_new = (1 - z) * candidate + z * h
        else:
            h_new = np.tanh(xp + recurrent(h, 0, rows))
        keep = valid[None, :, None]
        h, c = np.where(keep, h_new, h).astype(f32), np.where(keep, c_new, c).astype(f32)
        for d in range(directions):
            for b in np.flatnonzero(valid):
                y[time[d, b], d, b] = h[d, b]
    return {"Y": y, "Y_h": h, "Y_c": c}


# ---------------------------------------------------------------------------
# Tests

CASES = {
    "bilstm_lengths": ("LSTM", dict(seq=9, batch=4, input_size=16, hidden=24,
                                    direction="bidirectional", sequence_lens=True,
                                    initial_h=True, initial_c=True,
                                    outputs=("Y", "Y_h", "Y_c")), [9, 5, 1, 7]),
    "lstm_reverse": ("LSTM", dict(seq=7, batch=2, input_size=10, hidden=16,
                                  direction="reverse", outputs=("Y", "Y_h", "Y_c")), None),
    "gru_linear_before_reset": ("GRU", dict(seq=8, batch=3, input_size=10, hidden=12,
                                            direction="bidirectional", sequence_lens=True,
                                            initial_h=True, linear_before_reset=1), [8, 3, 6]),
    "gru": ("GRU", dict(seq=8, batch=3, input_size=10, hidden=12, direction="bidirectional",
                        initial_h=True), None),
    "rnn": ("RNN", dict(seq=10, batch=2, input_size=7, hidden=9, direction="bidirectional",
                        initial_h=True), None),
}


# |quarc - numpy| <= TOL * max(1, max |numpy|). The integer products are exact on both
# sides; the f32 gate arithmetic differs by libm's and numpy's last-bit differences in
# exp and tanh, ~1e-7 (measured: 1.2e-7 at most over these cases). A quantized value
# flipping to its neighbour over such a difference would move an output by ~1e-3,
# which the seeded inputs here do not meet.
TOL = 1e-5


def max_error(got: dict, want: dict) -> dict[str, float]:
    return {name: float(np.abs(got[name] - want[name]).max()) for name in got}


@pytest.mark.parametrize("case", CASES)
def test_matches_numpy_reference(tmp_path, case):
    op_type, config, lengths = CASES[case]
    model = make_model(op_type, **config)
    feeds = make_inputs(model, config["seq"], lengths)
    _, exe = compile_dynamic(model, tmp_path)
    want = reference(op_type, model, feeds)
    got = run_compiled(exe, feeds, [o.name for o in model.graph.output], tmp_path)
    assert got.keys() == {o.name for o in model.graph.output}
    for name, error in max_error(got, want).items():
        bound = TOL * max(1.0, float(np.abs(want[name]).max()))
        assert error <= bound, f"{name}: max abs error {error:.3g} > {bound:.3g}"


def onnxruntime_dynamic(path, feeds: dict, folder) -> dict[str, np.ndarray]:
    """onnxruntime's quantize_dynamic (per channel, s8 weights) of the model, run as
    written: the LSTM becomes com.microsoft.DynamicQuantizeLSTM."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantized = folder / "ort_dynamic.onnx"
    quantize_dynamic(str(path), str(quantized), per_channel=True, weight_type=QuantType.QInt8)
    assert any(n.op_type == "DynamicQuantizeLSTM" for n in onnx.load(quantized).graph.node)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(quantized), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


@pytest.mark.parametrize("case", ["bilstm_lengths", "lstm_reverse"])
def test_lstm_against_onnxruntime_dynamic(tmp_path, case):
    """Same weights (onnxruntime's per-channel s8 parameters are quarc's: absmax / 127
    per row of each direction), same activation quantization; onnxruntime quantizes
    each direction's state on its own, feeds a finished sequence's state as zeros and
    approximates sigmoid/tanh, so outputs differ by a few quantization steps: less
    than either is from FP32 (checked where onnxruntime's u8 x s8 products are exact,
    on hosts with VNNI: without it vpmaddubsw saturates pairs at int16, and on a Zen 3
    its outputs drift as far from quarc's as from FP32). And quarc's error against
    FP32 is no larger than onnxruntime's (within 25%: measured 0.95 to 1.04 of it)."""
    _, config, lengths = CASES[case]
    model = make_model("LSTM", **config)
    feeds = make_inputs(model, config["seq"], lengths)
    path, exe = compile_dynamic(model, tmp_path)
    got = run_compiled(exe, feeds, ["Y", "Y_h", "Y_c"], tmp_path)
    theirs = onnxruntime_dynamic(path, feeds, tmp_path)
    fp32 = quarc_tools.onnxruntime_reference(path, feeds)
    ours_vs_fp32, theirs_vs_fp32 = max_error(got, fp32), max_error(theirs, fp32)
    exact_kernels = quarc_tools.host_has("avx512_vnni") or quarc_tools.host_has("avx_vnni")
    for name, error in max_error(got, theirs).items():
        # Measured: 0.3 to 0.75 of onnxruntime's own distance to FP32.
        assert not exact_kernels or error <= theirs_vs_fp32[name], (
            f"{name}: {error:.3g} from onnxruntime's dynamic LSTM, which is "
            f"{theirs_vs_fp32[name]:.3g} from FP32")
        assert ours_vs_fp32[name] <= 1.25 * theirs_vs_fp32[name], (
            f"{name}: error vs FP32 {ours_vs_fp32[name]:.3g}, "
            f"onnxruntime's {theirs_vs_fp32[name]:.3g}")


@pytest.mark.parametrize("case", CASES)
def test_error_against_fp32(tmp_path, case):
    """int8 products change the outputs (so the layer really is quantized) by about
    what 8 bits give, bounded: these layers' outputs lie in [-1, 1]."""
    op_type, config, lengths = CASES[case]
    model = make_model(op_type, **config)
    feeds = make_inputs(model, config["seq"], lengths)
    path, exe = compile_dynamic(model, tmp_path)
    got = run_compiled(exe, feeds, [o.name for o in model.graph.output], tmp_path)
    for name, error in max_error(got, quarc_tools.onnxruntime_reference(path, feeds)).items():
        assert 1e-4 < error < 2e-2, f"{name}: {error:.3g} from FP32"


def test_ir_marks_the_layer_and_quantizes_weights(tmp_path):
    """W and R become dequantized s8 constants with one scale per row of each
    direction; the layer carries dynamic_quantization; --keep-float=LSTM and
    --exclude-nodes leave it float."""
    model = make_model("LSTM", seq=4, batch=1, input_size=6, hidden=5,
                       direction="bidirectional")
    model.graph.node[0].name = "encoder_lstm"
    path = tmp_path / "lstm.onnx"
    onnx.save(model, str(path))
    opt = str(quarc_tools.tool_path("quarc-opt"))

    def quantized_ir(*options):
        pass_text = "--quarc-quantize-dynamic" + (f"={' '.join(options)}" if options else "")
        return subprocess.run([opt, str(path), pass_text], capture_output=True, text=True,
                              timeout=60, check=True).stdout

    ir = quantized_ir()
    assert "dynamic_quantization" in ir, ir
    assert ir.count("quarc.dequantize") == 2, ir
    assert "!quant.uniform<i8:f32:{0:1, 1:1, 2:6}" in ir, ir  # W: rows of 6 inputs
    assert "!quant.uniform<i8:f32:{0:1, 1:1, 2:5}" in ir, ir  # R: rows of 5 hidden
    for options in (["float-ops=quarc.lstm"], ["exclude-nodes=encoder_lstm"]):
        ir = quantized_ir(*options)
        assert "dynamic_quantization" not in ir and "quarc.dequantize" not in ir, ir


@pytest.mark.parametrize("scheme", ["weights=s8:symmetric:per-tensor",
                                    "weights=u8:asymmetric:per-channel",
                                    "weights=s8:symmetric:per-group=4"])
def test_weight_schemes(tmp_path, scheme):
    """--scheme's weights: one scale for all of W (and of R); u8 weights with a zero
    point per row (the products subtract it); per-group, which recurrent layers take
    per row."""
    model = make_model("LSTM", seq=6, batch=2, input_size=8, hidden=12,
                       direction="bidirectional", outputs=("Y", "Y_h", "Y_c"))
    feeds = make_inputs(model, 6)
    path, exe = compile_dynamic(model, tmp_path, "model", f"--scheme={scheme}")
    got = run_compiled(exe, feeds, ["Y", "Y_h", "Y_c"], tmp_path)
    for name, error in max_error(got, quarc_tools.onnxruntime_reference(path, feeds)).items():
        assert 1e-4 < error < 2e-2, f"{name}: {error:.3g} from FP32"
