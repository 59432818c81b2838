"""exp, erf and tanh in compiled code: the polynomials of quarc-approximate-math.

quarc evaluates f32 Exp, Erf and Tanh (and the exp inside Softmax, Sigmoid, ...)
as upstream MLIR's polynomial approximations, so that the loops holding them
vectorize, instead of calling libm's expf/erff/tanhf. These tests measure what
that costs in accuracy, against numpy in float64, on a dense sweep of each
function's interesting range and on the special values, and check that the
compiled code calls none of the three libm functions.

Bounds (what quarc-approximate-math's description promises):
* exp: within 1 ulp of the float64 value rounded to f32 where that is a normal
  number below x = 88, within 3e-7 relative from there to the overflow (up to
  5 ulp, measured); overflow gives +inf, results below the normal range are within one
  smallest-normal of the truth (0 for x below about -103.9), NaN stays NaN;
* erf: within 3e-7 absolute; tanh: within 4e-7 absolute and exact to an ulp for
  |x| < 4e-4 (where tanh(x) rounds to x); both saturate to +-1 and keep NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import quarc_tools

FUNCTIONS = ("Exp", "Erf", "Tanh")
SMALLEST_NORMAL = np.finfo(np.float32).tiny


def sweep() -> np.ndarray:
    """Every region each function treats differently, densely, plus special values."""
    rng = np.random.default_rng(7)
    parts = [
        np.linspace(-110.0, 90.0, 200_001),  # exp: underflow, denormals, overflow
        np.linspace(-8.0, 8.0, 160_001),  # erf's three intervals, tanh's clamp at 7.9988
        rng.uniform(-1e-3, 1e-3, 20_000),  # tanh's tiny branch (|x| < 4e-4)
        np.geomspace(1e-38, 1e3, 20_000),
        -np.geomspace(1e-38, 1e3, 20_000),
        [0.0, -0.0, np.inf, -np.inf, np.nan, 88.72283, 88.72284, 88.7, -87.33655, -87.34,
         -103.9, -104.0, 3.75, -3.75, 0.8, 2.0, 7.99881172, 1e30, -1e30, 1e-45, -1e-45],
    ]
    return np.concatenate([np.asarray(p, np.float64) for p in parts]).astype(np.float32)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory, quarc_driver):
    """The three functions of one input vector, compiled and run by `quarc run`."""
    x = sweep()
    folder = tmp_path_factory.mktemp("math")
    nodes = [helper.make_node(op, ["x"], [op.lower()]) for op in FUNCTIONS]
    graph = helper.make_graph(
        nodes, "math", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [x.size])],
        [helper.make_tensor_value_info(op.lower(), TensorProto.FLOAT, [x.size])
         for op in FUNCTIONS])
    model = folder / "math.onnx"
    model.write_bytes(helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    np.save(folder / "x.npy", x)
    code, _, err = quarc_tools.run_quarc(["run", model, "--input", f"x={folder / 'x.npy'}",
                                          "--output-dir", folder / "out"])
    assert code == 0, err
    outputs = quarc_tools.read_outputs(folder / "out", [op.lower() for op in FUNCTIONS])
    return folder, model, x, outputs


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in units of the f32 spacing at want."""
    return np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want).astype(np.float32))


def test_exp(compiled):
    _, _, x, out = compiled
    got = out["exp"]
    with np.errstate(over="ignore"):
        truth = np.exp(x.astype(np.float64))
    normal = (truth >= SMALLEST_NORMAL) & (truth <= np.finfo(np.float32).max)
    below_88 = normal & (x < 88.0)
    worst = ulps(got[below_88], truth[below_88].astype(np.float32).astype(np.float64))
    assert worst.max() <= 1.0, f"exp is {worst.max():.1f} ulp off at x = {x[below_88][worst.argmax()]}"
    near_overflow = normal & (x >= 88.0)
    relative = np.abs(got[near_overflow] - truth[near_overflow]) / truth[near_overflow]
    assert relative.max() <= 3e-7
    overflow = np.isfinite(x) & (truth > np.finfo(np.float32).max)
    assert np.all(got[overflow] == np.inf)
    below = np.isfinite(x) & (truth < SMALLEST_NORMAL)
    assert np.all(np.abs(got[below] - truth[below]) <= SMALLEST_NORMAL)
    assert got[x == np.inf][0] == np.inf and got[x == -np.inf][0] == 0.0
    assert np.isnan(got[np.isnan(x)]).all()


@pytest.mark.parametrize("function,bound", [("erf", 3e-7), ("tanh", 4e-7)])
def test_erf_and_tanh(compiled, function, bound):
    import math
    _, _, x, out = compiled
    got = out[function]
    reference = np.vectorize(math.erf) if function == "erf" else np.tanh
    finite = np.isfinite(x)
    truth = reference(x[finite].astype(np.float64))
    error = np.abs(got[finite] - truth)
    assert error.max() <= bound, (
        f"{function} is {error.max():.2e} off at x = {x[finite][error.argmax()]}")
    assert got[x == np.inf][0] == 1.0 and got[x == -np.inf][0] == -1.0
    assert np.isnan(got[np.isnan(x)]).all()
    if function == "tanh":
        tiny = finite & (np.abs(x) < 4e-4)
        tiny_error = ulps(got[tiny], np.tanh(x[tiny].astype(np.float64)))
        assert tiny_error.max() <= 1.0


def test_no_libm_calls(compiled):
    """The LLVM IR calls none of expf, erff, tanhf (they would keep loops scalar)."""
    folder, model, x, _ = compiled
    ir = folder / "math.ll"
    code, _, err = quarc_tools.run_quarc(["compile", model, "-o", ir, "--target", "x86_64+avx2"])
    assert code == 0, err
    text = ir.read_text()
    for name in ("expf", "erff", "tanhf"):
        assert f"@{name}(" not in text, f"the compiled code still calls {name}"
