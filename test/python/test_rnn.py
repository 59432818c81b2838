"""LSTM, GRU and RNN compiled by quarc, checked against onnxruntime (the reference).

Each model is built here with seeded random weights as initializers (so the
compile-time weight transposes are exercised), compiled to an executable
with `quarc compile`, run on seeded random inputs, and every output compared
with onnxruntime's CPU provider. The configurations are the ones real models
use (bidirectional layers with per-sequence lengths, batch > 1, batch-first
layout, peepholes, both GRU forms) plus the attribute corners (clip,
input_forget, every activation function, a sequence of length 0) and a
sequence length left symbolic at compile time and run at two lengths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools

pytest.importorskip("onnxruntime")  # the reference (quarc_tools.onnxruntime_reference)

# |quarc - onnxruntime| <= TOL * max(1, max |onnxruntime|), per output. Both
# compute in float32 but sum the products of X x W^T and h x R^T in different
# orders (kernel tiles vs MLAS), add the biases at different points, and use
# different exp/tanh (libm vs MLAS approximations): each step differs by a few
# float32 ulps (~1e-7 relative), and the recurrence carries that over the
# steps without amplifying it much for these bounded, contracting layers (the
# worst case measured over these tests is 2.4e-7). 1e-5 leaves a 40x margin
# while a wrong gate, bias, direction or mask gives errors of 1e-2 and more.
TOL = 1e-5

# Compiling one small model takes a few seconds; a minute means a hang.
COMPILE_TIMEOUT_S = 120

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def make_model(op_type: str, *, seq, batch: int, input_size: int, hidden: int,
               direction: str = "forward", layout: int = 0, bias: bool = True,
               sequence_lens: bool = False, initial_h: bool = False,
               initial_c: bool = False, peepholes: bool = False, outputs=("Y", "Y_h"),
               seed: int = 0, **attributes) -> onnx.ModelProto:
    """One recurrent node with random weights (initializers). X, sequence_lens,
    initial_h and initial_c are graph inputs; `seq` may be a symbolic dim name."""
    rng = np.random.default_rng(seed)
    directions = 2 if direction == "bidirectional" else 1
    gates = GATES[op_type]
    scale = 1.0 / np.sqrt(hidden)  # PyTorch's initialization range

    def weight(name, shape):
        return numpy_helper.from_array(rng.uniform(-scale, scale, shape).astype(np.float32), name)

    initializers = [weight("W", (directions, gates * hidden, input_size)),
                    weight("R", (directions, gates * hidden, hidden))]
    x_shape = [batch, seq, input_size] if layout else [seq, batch, input_size]
    state_shape = [batch, directions, hidden] if layout else [directions, batch, hidden]
    graph_inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)]
    node_inputs = ["X", "W", "R", "", "", "", "", ""]
    if bias:
        initializers.append(weight("B", (directions, 2 * gates * hidden)))
        node_inputs[3] = "B"
    if sequence_lens:
        graph_inputs.append(helper.make_tensor_value_info("sequence_lens", TensorProto.INT32,
                                                          [batch]))
        node_inputs[4] = "sequence_lens"
    if initial_h:
        graph_inputs.append(helper.make_tensor_value_info("initial_h", TensorProto.FLOAT,
                                                          state_shape))
        node_inputs[5] = "initial_h"
    if initial_c:
        graph_inputs.append(helper.make_tensor_value_info("initial_c", TensorProto.FLOAT,
                                                          state_shape))
        node_inputs[6] = "initial_c"
    if peepholes:
        initializers.append(weight("P", (directions, 3 * hidden)))
        node_inputs[7] = "P"
    node_inputs = node_inputs[:8 if op_type == "LSTM" else 6]
    while node_inputs[-1] == "":
        node_inputs.pop()
    names = ["Y", "Y_h", "Y_c"][:3 if op_type == "LSTM" else 2]
    node_outputs = [name if name in outputs else "" for name in names]
    node = helper.make_node(op_type, node_inputs, node_outputs, hidden_size=hidden,
                            direction=direction, layout=layout, **attributes)
    y_shape = [batch, seq, directions, hidden] if layout else [seq, directions, batch, hidden]
    shapes = {"Y": y_shape, "Y_h": state_shape, "Y_c": state_shape}
    graph_outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, shapes[name])
                     for name in names if name in outputs]
    graph = helper.make_graph([node], op_type.lower(), graph_inputs, graph_outputs,
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    return model


def make_inputs(model: onnx.ModelProto, seq: int, lengths=None, seed: int = 1) -> dict:
    """Random X and initial states for `model`, with X's sequence dim `seq`."""
    rng = np.random.default_rng(seed)
    node = model.graph.node[0]
    layout = next((a.i for a in node.attribute if a.name == "layout"), 0)
    feeds = {}
    for value in model.graph.input:
        dims = [d.dim_value if d.HasField("dim_value") else seq
                for d in value.type.tensor_type.shape.dim]
        if value.name == "X":
            dims[1 if layout else 0] = seq
            feeds["X"] = rng.standard_normal(dims).astype(np.float32)
        elif value.name == "sequence_lens":
            feeds["sequence_lens"] = np.asarray(lengths, np.int32)
        else:
            feeds[value.name] = (0.5 * rng.standard_normal(dims)).astype(np.float32)
    return feeds


def compile_model(model: onnx.ModelProto, folder: Path, name: str) -> tuple[Path, Path]:
    """Saves `model` and compiles it to an executable; returns (model, executable)."""
    path = folder / f"{name}.onnx"
    onnx.save(model, str(path))
    exe = folder / name
    code, _, err = quarc_tools.run_quarc(["compile", path, "-o", exe], timeout=COMPILE_TIMEOUT_S)
    assert not quarc_tools.is_crash(code, err), quarc_tools.crash_summary(code, err)
    assert code == 0, quarc_tools.first_error_line(err)
    return path, exe


def run_compiled(exe: Path, feeds: dict, names, folder: Path) -> dict[str, np.ndarray]:
    """Runs the executable on `feeds`; returns its outputs by name."""
    args = [str(exe)]
    for name, array in feeds.items():
        path = folder / f"in_{name}.npy"
        np.save(path, array)
        args += ["--input", f"{name}={path}"]
    out = folder / "out"
    code, _, err = quarc_tools.run_tool(args + ["--output-dir", str(out)],
                                        timeout=COMPILE_TIMEOUT_S)
    assert code == 0, quarc_tools.diagnostic_summary(code, err)
    return quarc_tools.read_outputs(out, names)


def assert_matches_onnxruntime(model: onnx.ModelProto, folder: Path, feeds: dict,
                               name: str = "model") -> dict[str, np.ndarray]:
    """Compiles and runs `model`, compares every output with onnxruntime, returns ours."""
    path, exe = compile_model(model, folder, name)
    want = quarc_tools.onnxruntime_reference(path, feeds)
    got = run_compiled(exe, feeds, want.keys(), folder)
    check_outputs(got, want)
    return got


def check_outputs(got: dict, want: dict) -> None:
    for name, expected in want.items():
        assert name in got, f"output '{name}' was not written"
        actual = got[name]
        assert actual.shape == expected.shape, f"{name}: shape {actual.shape}, want {expected.shape}"
        error = float(np.abs(actual - expected).max()) if expected.size else 0.0
        bound = TOL * max(1.0, float(np.abs(expected).max()) if expected.size else 0.0)
        assert error <= bound, f"{name}: max abs error {error:.3g} > {bound:.3g}"


# ---------------------------------------------------------------------------
# LSTM


def test_bidirectional_lstm_with_sequence_lens(tmp_path):
    """A CRNN-style BiLSTM over a batch of 4 sequences of different lengths,
    with initial states: the reverse direction starts at each sequence's own
    end, steps past the end keep the state and write zeros."""
    model = make_model("LSTM", seq=9, batch=4, input_size=16, hidden=24,
                       direction="bidirectional", sequence_lens=True, initial_h=True,
                       initial_c=True, outputs=("Y", "Y_h", "Y_c"))
    lengths = [9, 5, 1, 7]
    got = assert_matches_onnxruntime(model, tmp_path, make_inputs(model, 9, lengths))
    # The check above has teeth: past its end a sequence's Y is exactly zero.
    assert not got["Y"][5:, :, 1].any() and got["Y"][:5, :, 1].any()


@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_lstm_batch_first_with_peepholes(tmp_path, direction):
    """layout = 1 (X [batch, seq, input], states [batch, D, hidden]) and P.
    onnxruntime has no layout 1, so the reference is the same layer (same
    weights) in layout 0 on the transposed inputs, its outputs transposed."""
    config = dict(seq=6, batch=3, input_size=5, hidden=8, direction=direction, peepholes=True,
                  initial_h=True, initial_c=True, outputs=("Y", "Y_h", "Y_c"))
    model = make_model("LSTM", layout=1, **config)
    reference_model = make_model("LSTM", layout=0, **config)
    feeds = make_inputs(model, 6)
    _, exe = compile_model(model, tmp_path, "lstm_batch_first")
    got = run_compiled(exe, feeds, ["Y", "Y_h", "Y_c"], tmp_path)

    reference_path = tmp_path / "lstm_time_first.onnx"
    onnx.save(reference_model, str(reference_path))
    to_time_first = {"X": (1, 0, 2), "initial_h": (1, 0, 2), "initial_c": (1, 0, 2)}
    want = quarc_tools.onnxruntime_reference(
        reference_path, {name: a.transpose(to_time_first[name]) for name, a in feeds.items()})
    to_batch_first = {"Y": (2, 0, 1, 3), "Y_h": (1, 0, 2), "Y_c": (1, 0, 2)}
    check_outputs(got, {name: a.transpose(to_batch_first[name]) for name, a in want.items()})


def test_lstm_clip_and_input_forget(tmp_path):
    """clip bounds every gate's input; input_forget makes f = 1 - i."""
    model = make_model("LSTM", seq=7, batch=2, input_size=6, hidden=10, clip=0.3,
                       input_forget=1, initial_c=True, outputs=("Y", "Y_h", "Y_c"))
    assert_matches_onnxruntime(model, tmp_path, make_inputs(model, 7))


def test_lstm_dynamic_sequence_length(tmp_path):
    """Compiled once with a symbolic sequence length, run at two lengths."""
    model = make_model("LSTM", seq="seq", batch=2, input_size=12, hidden=16,
                       direction="bidirectional")
    path, exe = compile_model(model, tmp_path, "lstm_dynamic")
    for seq in (4, 11):
        feeds = make_inputs(model, seq, seed=seq)
        got = run_compiled(exe, feeds, ["Y", "Y_h"], tmp_path)
        assert got["Y"].shape == (seq, 2, 2, 16)
        check_outputs(got, quarc_tools.onnxruntime_reference(path, feeds))


# ---------------------------------------------------------------------------
# GRU and RNN


@pytest.mark.parametrize("linear_before_reset", [0, 1])
def test_gru(tmp_path, linear_before_reset):
    """Both GRU forms: r applied to h before R[h] (two products per step) or
    to h R[h]^T + Rbh after it; bidirectional, with lengths and initial_h."""
    model = make_model("GRU", seq=8, batch=3, input_size=10, hidden=12,
                       direction="bidirectional", sequence_lens=True, initial_h=True,
                       linear_before_reset=linear_before_reset)
    assert_matches_onnxruntime(model, tmp_path, make_inputs(model, 8, [8, 3, 6]))


def test_rnn_relu_and_tanh_per_direction(tmp_path):
    """An RNN with Relu forward and Tanh backward (the activations differ per
    direction), with bias and initial_h."""
    model = make_model("RNN", seq=10, batch=2, input_size=7, hidden=9,
                       direction="bidirectional", initial_h=True,
                       activations=["Relu", "Tanh"])
    assert_matches_onnxruntime(model, tmp_path, make_inputs(model, 10))


@pytest.mark.parametrize("op_type", ["LSTM", "GRU", "RNN"])
def test_sequence_of_length_zero(tmp_path, op_type):
    """A sequence of length 0 gets zero Y and zero final states (onnxruntime)."""
    model = make_model(op_type, seq=5, batch=3, input_size=4, hidden=6, sequence_lens=True,
                       initial_h=True, direction="bidirectional")
    got = assert_matches_onnxruntime(model, tmp_path, make_inputs(model, 5, [5, 0, 2]))
    assert not got["Y_h"][:, 1].any()


# Every activation the ONNX spec lists, with alpha and beta where it takes
# them (given explicitly: onnxruntime's RNN indexes them per direction, not
# in order, and some defaults are not shared), as the GRU's candidate
# activation g and as the RNN's f.
ACTIVATIONS = [
    ("Relu", [], []), ("Tanh", [], []), ("Sigmoid", [], []), ("Affine", [0.7], [0.1]),
    ("LeakyRelu", [0.2], []), ("ThresholdedRelu", [0.1], []), ("ScaledTanh", [1.5], [0.8]),
    ("HardSigmoid", [0.3], [0.4]), ("Elu", [0.9], []), ("Softsign", [], []),
    ("Softplus", [], []),
]


@pytest.mark.parametrize("op_type", ["GRU", "RNN"])
@pytest.mark.parametrize("name,alpha,beta", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(tmp_path, op_type, name, alpha, beta):
    activations = ["Sigmoid", name] if op_type == "GRU" else [name]
    attributes = {"activations": activations}
    if alpha:
        attributes["activation_alpha"] = alpha
    if beta:
        attributes["activation_beta"] = beta
    model = make_model(op_type, seq=6, batch=2, input_size=5, hidden=7, **attributes)
    assert_matches_onnxruntime(model, tmp_path, make_inputs(model, 6))


def test_default_activation_parameters(tmp_path):
    """HardSigmoid (0.2, 0.5), LeakyRelu (0.01) and Elu (1.0) without
    activation_alpha/beta take the defaults the spec and onnxruntime share."""
    model = make_model("LSTM", seq=6, batch=2, input_size=5, hidden=7,
                       activations=["HardSigmoid", "LeakyRelu", "Elu"])
    assert_matches_onnxruntime(model, tmp_path, make_inputs(model, 6))
