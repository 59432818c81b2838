"""quarc's integer ops between the contractions (quarc.qadd, quarc.qmul, quarc.qaverage_pool,
quarc.lut, quarc.requantize, and Concat and pass-through ops on quantized tensors), checked
bit for bit against an independent reference written here in numpy int64 / Python ints.

Each case is a small ONNX QDQ model built in the test: QuantizeLinear -> DequantizeLinear on
each f32 input, the float op(s), and QuantizeLinear on the result. `quarc-fold-qdq` turns such
a model into integer ops (asserted first, with quarc-opt: the expected ops are there, no float
op is left, and the only quarc.quantize ops are the inputs', so that no case can pass on the
float path); `quarc run` then has to give exactly the reference's integers.

The reference follows the documented integer semantics (Quantization/FixedPoint.h and
IntegerElementwise.h, the op descriptions in QuarcQuantOps.td), not quarc's implementation:

- inputs quantize as ONNX says, q = clip(rint(f32(x) / f32(s)) + z), in float32;
- a real multiplier becomes (M, n), M = round(mantissa * 2^31) in [2^30, 2^31), and a value
  v requantizes to clip(((v * M + 2^(n-1)) >> n) + zo): one rounding, half up;
- Add: v = (a - za) * Ma + (b - zb) * Mb with ONE shift n, the larger of sa/so, sb/so giving
  (M, n) and the smaller round(real * 2^n) (ties away from zero) at that n;
- Mul: v = (a - za) * (b - zb), real = (sa * sb) / so;
- AveragePool: v = the window's sum of (x - zx) over the taps inside the input, real =
  (sx / so) / count with `count` AveragePool's divisor at that position: the taps inside
  the input, or with count_include_pad the taps inside the padded input (not those past the
  pads that ceil_mode adds), as onnxruntime divides;
- a Relu or Clip fused into Add/Mul clamps the quantized result to
  [quantize(low), quantize(high)] (quantizing is monotonic);
- tables: for every stored input value q, x = f32((q - z) * s), the float op chain in float64
  rounded to float32 after every op, then ONNX QuantizeLinear in float32;
- requantize (Q -> DQ -> Q, and a Concat input whose parameters differ from the result's):
  v = x - zx, real = sx / so;
- pass-through ops (MaxPool, Reshape, Transpose, Flatten, nearest Resize, Slice) move the
  stored values; MaxPool compares them as the storage type does (unsigned for uint8).

Natural data seldom lands on an exact half of an output step, so the `pow2_scales` cases
choose power-of-two scales for which many results do: they pin down the rounding (half up,
toward +inf for negative values too, where QuantizeLinear rounds half to even).

There is no tolerance in the bit-exact test. The reference itself is checked against
onnxruntime running the QDQ model in float (`test_reference_agrees_with_onnxruntime`), where
results may differ by one step on a few elements: onnxruntime computes the op in float32 and
rounds once, half to even, when it quantizes, while the integer code rounds the exact value
once, half up, with a 31-bit multiplier; and onnxruntime's vectorized sigmoid, tanh and erf
are not correctly rounded.

A quantized result is the graph's output as the QuantizeLinear writes it, int8 or uint8,
and comes back as a .npy of that type.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import math
import re
import zlib
from typing import Callable

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools
from test_integer_ops import ONNX_TYPES, RANGES, fixed_point, quantize_input, quarc, scalar, smooth

OPSET = 20  # Gelu

# Cases known to fail, by name: the reason (pytest.mark.xfail(strict=True)).
KNOWN_BUGS: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    op: str  # a key of FAMILIES: what runs between the inputs' DQ and the output's Q
    shapes: tuple  # one shape per input
    scales: tuple  # one scale per input (stored as f32)
    zero_points: tuple  # one per input
    acts: tuple = (np.uint8, np.uint8)  # each input's quantized type
    attrs: dict = dataclasses.field(default_factory=dict)  # the op's attributes/parameters
    table: str | None = None  # op "Table": a key of TABLES
    out: type | None = np.uint8  # the output's quantized type; None: the first input's
    # True: the output takes the first input's parameters (pass-through ops; the Concat
    # input that is not requantized); False: chosen from the real result's range.
    out_like_input: bool = False
    in_fill: float = 0.95  # fraction of the inputs' quantized range they span (> 1: beyond)
    # The output scale, relative to the one that fits the result's range: < 1 saturates.
    out_fill: float = 1.0
    # A Relu or Clip (CLIP_BOUNDS) between the op and its QuantizeLinear, fused as a clamp.
    activation: str | None = None
    # The input scales are powers of two and the output scale is rounded to one, so that
    # many results are exact halves of a step, which the rule rounds up (toward +inf, also
    # for negative values), where QuantizeLinear would round half to even.
    pow2_scales: bool = False

    def __str__(self):
        return self.name

    def out_type(self):
        return self.acts[0] if self.out is None else self.out


CLIP_BOUNDS = (-0.5, 1.25)

NCHW = (1, 4, 8, 8)
U8, I8 = np.uint8, np.int8
TABLE_SHAPE = (1, 4, 32, 32)  # enough values to read most of a table's 256 entries
POOL_3X3_S2_P1 = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}

CASES = [
    # quarc.qadd
    Case("add_u8_scales_zero_points", "Add", (NCHW, NCHW), (0.0213, 0.0371), (120, 97)),
    Case("add_broadcast_nchw_nc11", "Add", ((1, 8, 6, 6), (1, 8, 1, 1)), (0.0187, 0.0092),
         (131, 64)),
    Case("add_i8", "Add", (NCHW, NCHW), (0.0156, 0.0263), (-5, 9), acts=(I8, I8), out=I8),
    Case("add_relu", "Add", (NCHW, NCHW), (0.024, 0.019), (128, 110), activation="Relu"),
    Case("add_clip_i8_output", "Add", (NCHW, NCHW), (0.024, 0.019), (128, 110), out=I8,
         activation="Clip"),
    Case("add_saturating", "Add", (NCHW, NCHW), (0.0213, 0.0371), (120, 97), out=I8,
         in_fill=1.3, out_fill=0.35),
    # 39200 elements on a batch of one: the loop runs on the runtime's threads in 37
    # blocks of 1088 (quarc-parallelize-loops), the last one of 32.
    Case("add_parallel_blocks", "Add", ((1, 8, 70, 70), (1, 8, 70, 70)), (0.0213, 0.0371),
         (120, 97)),
    # The pair multiplier: the smaller real has ~7 (~8) fewer significant bits.
    Case("add_scale_ratio_100", "Add", (NCHW, NCHW), (0.04, 0.0004), (128, 128)),
    Case("add_scale_ratio_1_to_300", "Add", (NCHW, NCHW), (0.0001, 0.03), (100, 140)),
    Case("add_pow2_scales_ties", "Add", (NCHW, NCHW), (2**-6, 2**-5), (-5, 9), acts=(I8, I8),
         out=I8, pow2_scales=True),
    # quarc.qmul
    Case("mul_se_block_u8", "Mul", ((1, 8, 6, 6), (1, 8, 1, 1)), (0.0235, 1 / 255), (0, 0)),
    Case("mul_i8_u8", "Mul", (NCHW, NCHW), (0.0172, 0.0118), (3, 128), acts=(I8, U8), out=I8),
    Case("mul_saturating", "Mul", (NCHW, NCHW), (0.0172, 0.0118), (100, 128), out_fill=0.3),
    # quarc.qaverage_pool; input zero points far from the middle, so that a wrong divisor
    # changes the result by far more than a step
    Case("avgpool_3x3_s2_p1_exclude_pad", "AveragePool", ((1, 4, 11, 11),), (0.0213,), (10,),
         attrs={**POOL_3X3_S2_P1, "count_include_pad": 0}),
    Case("avgpool_3x3_s2_p1_include_pad", "AveragePool", ((1, 4, 11, 11),), (0.0213,), (10,),
         attrs={**POOL_3X3_S2_P1, "count_include_pad": 1}),
    # 10 + 2 pads: the sixth window (ceil_mode) starts on the end pad and runs one past it.
    Case("avgpool_ceil_mode_include_pad", "AveragePool", ((1, 4, 10, 10),), (0.0213,), (10,),
         attrs={**POOL_3X3_S2_P1, "ceil_mode": 1, "count_include_pad": 1}),
    Case("avgpool_ceil_mode_exclude_pad", "AveragePool", ((1, 4, 10, 10),), (0.0213,), (10,),
         attrs={**POOL_3X3_S2_P1, "ceil_mode": 1, "count_include_pad": 0}),
    Case("avgpool_1d_i8", "AveragePool", ((1, 6, 23),), (0.0117,), (-100,), acts=(I8,),
         out=I8, attrs={"kernel_shape": [4], "strides": [3], "pads": [2, 1],
                        "count_include_pad": 1}),
    # Divisors 4, 2 and 1 (corners): sums of four taps land on halves.
    Case("avgpool_2x2_pow2_ties", "AveragePool", ((1, 4, 10, 10),), (2**-6,), (-20,),
         acts=(I8,), out=I8, pow2_scales=True,
         attrs={"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    Case("global_avgpool", "GlobalAveragePool", ((2, 32, 7, 7),), (0.0213,), (20,)),
    # quarc.lut
    Case("sigmoid", "Table", (TABLE_SHAPE,), (0.047,), (128,), table="Sigmoid"),
    Case("tanh_i8_output", "Table", (TABLE_SHAPE,), (0.027,), (128,), table="Tanh", out=I8),
    Case("hardswish", "Table", (TABLE_SHAPE,), (0.035,), (140,), table="HardSwish"),
    Case("hardsigmoid", "Table", (TABLE_SHAPE,), (0.021,), (128,), table="HardSigmoid"),
    Case("leakyrelu", "Table", (TABLE_SHAPE,), (0.03,), (160,), table="LeakyRelu", out=I8),
    Case("gelu", "Table", (TABLE_SHAPE,), (0.031,), (128,), table="Gelu"),
    Case("gelu_tanh", "Table", (TABLE_SHAPE,), (0.031,), (128,), table="GeluTanh"),
    Case("x_times_sigmoid_x", "Table", (TABLE_SHAPE,), (0.039,), (150,), table="SiLU"),
    Case("add_mul_scalar", "Table", (TABLE_SHAPE,), (0.0213,), (120,), table="AddMulScalar"),
    Case("sigmoid_i8_input", "Table", (TABLE_SHAPE,), (0.043,), (-3,), acts=(I8,),
         table="Sigmoid"),
    # 8085 bytes: a partial last register of 21 (64 and 32 lanes) or 5 (16 lanes) bytes.
    Case("sigmoid_odd_size", "Table", ((1, 7, 33, 35),), (0.047,), (128,), table="Sigmoid"),
    # 32 KiB: the lookup loop runs on the runtime's threads.
    Case("hardswish_parallel", "Table", ((1, 8, 64, 64),), (0.035,), (140,),
         table="HardSwish"),
    # quarc.requantize
    Case("requantize_u8_to_i8", "Requantize", (NCHW,), (0.0213,), (120,), out=I8),
    Case("requantize_saturating", "Requantize", (NCHW,), (0.0213,), (120,), in_fill=1.2,
         out_fill=0.45),
    # out_fill 2: the output scale is twice the input's, so odd values are ties.
    Case("requantize_pow2_ties_i8_to_u8", "Requantize", (NCHW,), (2**-6,), (-5,),
         acts=(I8,), pow2_scales=True, out_fill=2.0),
    Case("concat_one_requantized", "Concat", ((1, 4, 6, 6), (1, 3, 6, 6)), (0.0213, 0.0371),
         (120, 97), out_like_input=True),
    Case("concat_both_requantized_i8", "Concat", ((1, 4, 6, 6), (1, 3, 6, 6)),
         (0.0213, 0.0371), (120, 97), out=I8),
    # pass-through ops on quantized tensors
    Case("maxpool_u8", "MaxPool", ((1, 4, 11, 11),), (0.02,), (128,), out=None,
         out_like_input=True, attrs=POOL_3X3_S2_P1),
    Case("maxpool_u8_ceil_mode", "MaxPool", ((1, 4, 11, 11),), (0.02,), (100,), out=None,
         out_like_input=True, attrs={"kernel_shape": [2, 2], "strides": [2, 2],
                                     "ceil_mode": 1}),
    # Rows wider than a vector register of bytes (the strip kernel's 32 + 5 pixels with
    # AVX2), signed values (a signed max), a stride-1 window.
    Case("maxpool_i8_wide_rows", "MaxPool", ((1, 3, 9, 75),), (0.02,), (-7,), acts=(I8,),
         out=None, out_like_input=True, attrs=POOL_3X3_S2_P1),
    Case("maxpool_u8_stride1", "MaxPool", ((1, 2, 7, 70),), (0.02,), (128,), out=None,
         out_like_input=True, attrs={"kernel_shape": [3, 3], "strides": [1, 1],
                                     "pads": [1, 1, 1, 1]}),
    Case("reshape_transpose_flatten", "ReshapeTransposeFlatten", ((1, 4, 6, 10),), (0.02,),
         (128,), out=None, out_like_input=True,
         attrs={"shape": (1, 8, 3, 10), "perm": (0, 3, 1, 2), "axis": 2}),
    Case("resize_nearest", "Resize", ((1, 4, 6, 10),), (0.02,), (128,), out=None,
         out_like_input=True, attrs={"scales": (1.0, 1.0, 2.0, 1.5), "mode": "nearest"}),
    Case("slice_negative_step", "Slice", ((1, 4, 9, 11),), (0.02,), (128,), out=None,
         out_like_input=True,
         attrs={"starts": (1, 8), "ends": (-1, 0), "axes": (2, 3), "steps": (2, -3)}),
]


# --- the tables -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Step:
    """One float op of a table's chain."""
    op: str  # ONNX op type
    inputs: tuple  # "x": the table's input; "y": the previous step's result; a float constant
    value: Callable  # ONNX's definition, on float64 operands
    attrs: dict = dataclasses.field(default_factory=dict)


def f32(value: float) -> float:
    """A float attribute or constant as the model stores it (f32), in float64."""
    return float(np.float32(value))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


erf = np.vectorize(math.erf)

TABLES = {
    "Sigmoid": [Step("Sigmoid", ("x",), sigmoid)],
    "Tanh": [Step("Tanh", ("x",), np.tanh)],
    # alpha = 1/6, beta = 1/2
    "HardSwish": [Step("HardSwish", ("x",), lambda x: x * np.clip(x / 6 + 0.5, 0, 1))],
    "HardSigmoid": [Step("HardSigmoid", ("x",),
                         lambda x: np.clip(f32(0.3) * x + f32(0.55), 0, 1),
                         {"alpha": 0.3, "beta": 0.55})],
    "LeakyRelu": [Step("LeakyRelu", ("x",), lambda x: np.where(x < 0, f32(0.1) * x, x),
                       {"alpha": 0.1})],
    "Gelu": [Step("Gelu", ("x",), lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))))],
    "GeluTanh": [Step("Gelu", ("x",), lambda x: 0.5 * x * (1 + np.tanh(
        math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))), {"approximate": "tanh"})],
    "SiLU": [Step("Sigmoid", ("x",), sigmoid), Step("Mul", ("x", "y"), np.multiply)],
    "AddMulScalar": [Step("Add", ("x", 0.75), np.add), Step("Mul", ("y", -1.25), np.multiply)],
}


# --- the inputs -----------------------------------------------------------------------------

@dataclasses.dataclass
class Problem:
    case: Case
    xs: list  # the f32 inputs
    scales: list  # np.float32, one per input
    so: np.float32 | None = None
    zo: int | None = None


def make_problem(case: Case) -> Problem:
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    xs, scales = [], []
    for shape, scale, zero_point, act in zip(case.shapes, case.scales, case.zero_points,
                                             case.acts):
        qmin, qmax = RANGES[act]
        scale = np.float32(scale)
        lo, hi = (qmin - zero_point) * float(scale), (qmax - zero_point) * float(scale)
        wave = smooth(rng, shape, min(2, len(shape) - 1))
        xs.append(((lo + hi) / 2 + (hi - lo) / 2 * case.in_fill * wave).astype(np.float32))
        scales.append(scale)
    return Problem(case, xs, scales)


def quantized_inputs(p: Problem) -> list[np.ndarray]:
    return [quantize_input(x, s, z, act) for x, s, z, act in
            zip(p.xs, p.scales, p.case.zero_points, p.case.acts)]


# --- the reference ----------------------------------------------------------------------------

def rounding_shift(value: np.ndarray, m, n) -> np.ndarray:
    """(value * M + 2^(n-1)) >> n in int64 (M, n scalars or arrays): one rounding, half up."""
    value = np.asarray(value, np.int64) * np.asarray(m, np.int64)
    return (value + np.left_shift(np.int64(1), np.asarray(n, np.int64) - 1)) >> n


def requantize(value: np.ndarray, real: float, zo: int, dtype) -> np.ndarray:
    m, n = fixed_point(real)
    return np.clip(rounding_shift(value, m, n) + zo, *RANGES[dtype])


def fixed_point_pair(real_a: float, real_b: float) -> tuple[int, int, int]:
    """(Ma, Mb, n): the larger real's fixed_point, the smaller round(real * 2^n) at the same
    n, ties away from zero (floor(. + 0.5): for values below 2^31, double gets it right)."""
    larger, smaller = max(real_a, real_b), min(real_a, real_b)
    m, n = fixed_point(larger)
    m_smaller = min(math.floor(math.ldexp(smaller, n) + 0.5), m)
    return (m, m_smaller, n) if real_a >= real_b else (m_smaller, m, n)


def add_reference(p: Problem, qs: list) -> np.ndarray:
    (a, b), (za, zb), (sa, sb) = qs, p.case.zero_points, p.scales
    ma, mb, n = fixed_point_pair(float(sa) / float(p.so), float(sb) / float(p.so))
    value = (a - za) * ma + (b - zb) * mb  # one sum, one rounding
    return np.clip(rounding_shift(value, 1, n) + p.zo, *RANGES[p.case.out_type()])


def mul_reference(p: Problem, qs: list) -> np.ndarray:
    (a, b), (za, zb), (sa, sb) = qs, p.case.zero_points, p.scales
    return requantize((a - za) * (b - zb), (float(sa) * float(sb)) / float(p.so), p.zo,
                      p.case.out_type())


def pool_starts(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
                ceil_mode: bool) -> list[int]:
    """Where each output's window starts, in input coordinates (negative: in the pads)."""
    span = size + pad_begin + pad_end - kernel
    count = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + pad_begin:
        count -= 1  # a window must start inside the input or its begin pads
    return [o * stride - pad_begin for o in range(count)]


def pool_windows(case: Case, spatial: tuple) -> list[list[tuple[int, int, int]]]:
    """For each spatial dim, each output's (first tap, end tap) inside the input and the
    number of taps AveragePool divides by along that dim."""
    attrs = case.attrs
    if case.op == "GlobalAveragePool":
        return [[(0, size, size)] for size in spatial]
    rank = len(spatial)
    pads = attrs.get("pads", [0] * 2 * rank)
    strides = attrs.get("strides", [1] * rank)
    dims = []
    for d, size in enumerate(spatial):
        kernel, begin, end = attrs["kernel_shape"][d], pads[d], pads[d + rank]
        windows = []
        for start in pool_starts(size, kernel, strides[d], begin, end,
                                 attrs.get("ceil_mode", 0)):
            first, last = max(start, 0), min(start + kernel, size)
            if attrs.get("count_include_pad", 0):  # the pads, not past them
                count = min(start + kernel, size + end) - max(start, -begin)
            else:
                count = last - first
            windows.append((first, last, count))
        dims.append(windows)
    return dims


def pool(x: np.ndarray, case: Case, reduce) -> tuple[np.ndarray, np.ndarray]:
    """(reduce over each window's taps inside the input, each output position's divisor)."""
    dims = pool_windows(case, x.shape[2:])
    out = np.zeros(x.shape[:2] + tuple(map(len, dims)), np.int64)
    counts = np.ones(out.shape[2:], np.int64)
    for position in itertools.product(*[range(len(windows)) for windows in dims]):
        taps = tuple(slice(dims[d][o][0], dims[d][o][1]) for d, o in enumerate(position))
        window = x[(slice(None), slice(None)) + taps]
        out[(slice(None), slice(None)) + position] = reduce(
            window.reshape(window.shape[:2] + (-1,)), axis=-1)
        counts[position] = math.prod(dims[d][o][2] for d, o in enumerate(position))
    return out, counts


def average_pool_reference(p: Problem, qs: list) -> np.ndarray:
    sums, counts = pool(qs[0] - p.case.zero_points[0], p.case, np.sum)  # pads add 0
    multipliers = {int(c): fixed_point((float(p.scales[0]) / float(p.so)) / int(c))
                   for c in np.unique(counts)}
    m = np.vectorize(lambda c: multipliers[c][0])(counts)
    n = np.vectorize(lambda c: multipliers[c][1])(counts)
    return np.clip(rounding_shift(sums, m, n) + p.zo, *RANGES[p.case.out_type()])


def evaluate_chain(steps: list[Step], x: np.ndarray) -> np.ndarray:
    """The chain on f32 x: each op in float64, rounded to float32 after it, as the float code
    rounds. Transcendental functions of different libms may differ in the last float64 ulp;
    that this moves a result across a float32 rounding boundary (and then a quantization
    boundary) is astronomically unlikely, so the table is compared exactly."""
    y = None
    for step in steps:
        operands = [x if i == "x" else y if i == "y" else np.float32(i) for i in step.inputs]
        y = np.asarray(step.value(*[np.asarray(v, np.float64) for v in operands]))
        y = y.astype(np.float32)
    return y


def table_values(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(every stored input value, the chain at its dequantized value, f32)."""
    case = p.case
    qmin, qmax = RANGES[case.acts[0]]
    stored = np.arange(qmin, qmax + 1)
    x = (stored - case.zero_points[0]).astype(np.float32) * p.scales[0]  # DQ in f32
    return stored, evaluate_chain(TABLES[case.table], x)


def table_reference(p: Problem, qs: list) -> np.ndarray:
    stored, y = table_values(p)
    table = quantize_input(y, p.so, p.zo, p.case.out_type())
    return table[qs[0] - stored[0]]


def requantize_input(p: Problem, q: np.ndarray, i: int) -> np.ndarray:
    """Input i in the output's parameters; unchanged when they are the same."""
    case = p.case
    if p.scales[i] == p.so and case.zero_points[i] == p.zo and case.acts[i] == case.out_type():
        return q
    return requantize(q - case.zero_points[i], float(p.scales[i]) / float(p.so), p.zo,
                      case.out_type())


def requantize_reference(p: Problem, qs: list) -> np.ndarray:
    return requantize_input(p, qs[0], 0)


def concat_reference(p: Problem, qs: list) -> np.ndarray:
    return np.concatenate([requantize_input(p, q, i) for i, q in enumerate(qs)], axis=1)


def max_pool_reference(p: Problem, qs: list) -> np.ndarray:
    # The stored values compare as what they are (qs holds them as int64, so uint8 values
    # above 127 are large, not negative). Padded taps are not taps.
    return pool(qs[0], p.case, np.max)[0]


def reshape_transpose_flatten_reference(p: Problem, qs: list) -> np.ndarray:
    attrs = p.case.attrs
    y = qs[0].reshape(attrs["shape"]).transpose(attrs["perm"])
    return y.reshape(math.prod(y.shape[:attrs["axis"]]), -1)


def resize_reference(p: Problem, qs: list) -> np.ndarray:
    """Nearest, coordinate_transformation_mode half_pixel, nearest_mode round_prefer_floor
    (ONNX's defaults): output o reads input clip(ceil((o + 0.5) / scale - 0.5 - 0.5))."""
    y = qs[0]
    for axis, scale in enumerate(p.case.attrs["scales"]):
        size = y.shape[axis]
        out = [(o + 0.5) / scale - 0.5 for o in range(math.floor(size * scale))]
        index = np.clip([math.ceil(c - 0.5) for c in out], 0, size - 1)
        y = np.take(y, index, axis=axis)
    return y


def slice_reference(p: Problem, qs: list) -> np.ndarray:
    # These starts/ends/steps mean the same in numpy as in ONNX.
    attrs = p.case.attrs
    index = [slice(None)] * qs[0].ndim
    for start, end, axis, step in zip(attrs["starts"], attrs["ends"], attrs["axes"],
                                      attrs["steps"]):
        index[axis] = slice(start, end, step)
    return qs[0][tuple(index)]


def real_result(p: Problem, qs: list) -> np.ndarray:
    """The exact result of the float op on the dequantized inputs, in float64 (a table's in
    float32), before the activation: what the output parameters are chosen for."""
    case = p.case
    ds = [(q - z) * float(s) for q, z, s in zip(qs, case.zero_points, p.scales)]
    if case.op == "Add":
        return ds[0] + ds[1]
    if case.op == "Mul":
        return ds[0] * ds[1]
    if case.op in ("AveragePool", "GlobalAveragePool"):
        sums, counts = pool(qs[0] - case.zero_points[0], case, np.sum)
        return sums * float(p.scales[0]) / counts
    if case.op == "Table":
        stored, y = table_values(p)
        return y[qs[0] - stored[0]].astype(np.float64)
    if case.op == "Requantize":
        return ds[0]
    if case.op == "Concat":
        return np.concatenate(ds, axis=1)
    return None  # a pass-through op: the output takes its input's parameters


def choose_output_params(p: Problem, real: np.ndarray) -> None:
    """An output scale and zero point for which the result (before any activation, so that
    a fused Relu/Clip clamps something) spans the quantized range (out_fill = 1), or a scale
    1/out_fill times smaller and a middle zero point, so that many values saturate."""
    case = p.case
    if case.out_like_input:
        p.so, p.zo = p.scales[0], case.zero_points[0]
        return
    qmin, qmax = RANGES[case.out_type()]
    lo, hi = min(real.min(), 0.0), max(real.max(), 0.0)
    p.so = np.float32((hi - lo) / (qmax - qmin) * case.out_fill)
    if case.pow2_scales:
        p.so = np.float32(2.0 ** math.ceil(math.log2(p.so)))  # up: no saturation
    if case.out_fill < 1:
        p.zo = (qmin + qmax + 1) // 2
    else:
        p.zo = int(np.clip(round(qmin - lo / float(p.so)), qmin, qmax))


def exact_ties(p: Problem, real: np.ndarray | None) -> np.ndarray:
    """Where the real result is exactly k + 1/2 output steps (exact in float64 with
    power-of-two scales)."""
    if real is None:
        return np.zeros((), bool)
    steps = real / float(p.so)
    return steps - np.floor(steps) == 0.5


def activation_clamp(p: Problem, out: np.ndarray) -> np.ndarray:
    """Quantizing is monotonic: quantize(clip(y, lo, hi)) = clip(quantize(y), quantize(lo),
    quantize(hi)), with QuantizeLinear's own rounding of the bounds."""
    lo, hi = {None: (None, None), "Relu": (0.0, None), "Clip": CLIP_BOUNDS}[p.case.activation]
    dtype = p.case.out_type()
    if lo is not None:
        out = np.maximum(out, quantize_input(np.array(lo), p.so, p.zo, dtype))
    if hi is not None:
        out = np.minimum(out, quantize_input(np.array(hi), p.so, p.zo, dtype))
    return out


def reference(p: Problem) -> tuple[np.ndarray, np.ndarray | None]:
    """(the expected integers, the real result they approximate (None for pass-through ops)),
    choosing p.so and p.zo."""
    qs = quantized_inputs(p)
    family = FAMILIES[p.case.op]
    real = real_result(p, qs)
    choose_output_params(p, real)
    return activation_clamp(p, family.reference(p, qs)), real


# --- the model --------------------------------------------------------------------------------

def table_nodes(case: Case, inputs: list) -> tuple[list, list, str]:
    nodes, init, y = [], [], None
    for k, step in enumerate(TABLES[case.table]):
        names = []
        for j, i in enumerate(step.inputs):
            if i == "x":
                names.append(inputs[0])
            elif i == "y":
                names.append(y)
            else:
                init.append(scalar(i, np.float32, f"c{k}_{j}"))
                names.append(f"c{k}_{j}")
        y = f"t{k}"
        nodes.append(helper.make_node(step.op, names, [y], name=f"step{k}", **step.attrs))
    return nodes, init, y


def op_nodes(case: Case, inputs: list) -> tuple[list, list, str]:
    """The float part: (nodes, initializers, its output) between the inputs' DQ and the Q."""
    op, attrs = case.op, case.attrs
    if op == "Table":
        return table_nodes(case, inputs)
    if op == "Requantize":
        return [], [], inputs[0]
    if op in ("Add", "Mul", "AveragePool", "GlobalAveragePool", "MaxPool"):
        return [helper.make_node(op, inputs, ["y"], name=op.lower(), **attrs)], [], "y"
    if op == "Concat":
        return [helper.make_node(op, inputs, ["y"], name="concat", axis=1)], [], "y"
    if op == "ReshapeTransposeFlatten":
        return [helper.make_node("Reshape", [inputs[0], "shape"], ["r"], name="reshape"),
                helper.make_node("Transpose", ["r"], ["t"], name="transpose",
                                 perm=list(attrs["perm"])),
                helper.make_node("Flatten", ["t"], ["y"], name="flatten", axis=attrs["axis"])
                ], [numpy_helper.from_array(np.array(attrs["shape"], np.int64), "shape")], "y"
    if op == "Resize":
        onnx_attrs = {k: v for k, v in attrs.items() if k != "scales"}
        return ([helper.make_node("Resize", [inputs[0], "", "scales"], ["y"], name="resize",
                                  **onnx_attrs)],
                [numpy_helper.from_array(np.array(attrs["scales"], np.float32), "scales")], "y")
    if op == "Slice":
        names = ["starts", "ends", "axes", "steps"]
        return ([helper.make_node("Slice", [inputs[0]] + names, ["y"], name="slice")],
                [numpy_helper.from_array(np.array(attrs[k], np.int64), k) for k in names], "y")
    raise AssertionError(op)


def build_model(p: Problem, output_shape: tuple) -> onnx.ModelProto:
    """x_i -> Q -> DQ, the float op(s), [Relu/Clip], Q [-> DQ]; the graph output is the last."""
    case = p.case
    init, nodes, inputs = [], [], []
    for i, (scale, zero_point, act) in enumerate(zip(p.scales, case.zero_points, case.acts)):
        init += [scalar(scale, np.float32, f"s{i}"), scalar(zero_point, act, f"z{i}")]
        nodes += [helper.make_node("QuantizeLinear", [f"x{i}", f"s{i}", f"z{i}"], [f"x{i}q"],
                                   name=f"quantize_x{i}"),
                  helper.make_node("DequantizeLinear", [f"x{i}q", f"s{i}", f"z{i}"],
                                   [f"x{i}d"], name=f"dequantize_x{i}")]
        inputs.append(f"x{i}d")
    op_node_list, op_init, output = op_nodes(case, inputs)
    nodes += op_node_list
    init += op_init
    if case.activation == "Relu":
        nodes.append(helper.make_node("Relu", [output], ["ya"], name="relu"))
        output = "ya"
    elif case.activation == "Clip":
        init += [scalar(CLIP_BOUNDS[0], np.float32, "clip_lo"),
                 scalar(CLIP_BOUNDS[1], np.float32, "clip_hi")]
        nodes.append(helper.make_node("Clip", [output, "clip_lo", "clip_hi"], ["ya"],
                                      name="clip"))
        output = "ya"
    out_type = case.out_type()
    init += [scalar(p.so, np.float32, "so"), scalar(p.zo, out_type, "zo")]
    nodes.append(helper.make_node("QuantizeLinear", [output, "so", "zo"], ["yq"],
                                  name="quantize_y"))
    output, elem_type = "yq", ONNX_TYPES[out_type]
    graph = helper.make_graph(
        nodes, case.name,
        [helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, list(shape))
         for i, shape in enumerate(case.shapes)],
        [helper.make_tensor_value_info(output, elem_type, list(output_shape))], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model, full_check=True)
    return model


# --- the op families --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Family:
    reference: Callable  # (Problem, quantized inputs) -> the expected integers
    ops: tuple  # the ops quarc-fold-qdq has to leave (besides quantize/dequantize/constants)
    pass_through: bool = False  # the ops run on !quant.uniform tensors as they are


FAMILIES = {
    "Add": Family(add_reference, ("quarc.qadd",)),
    "Mul": Family(mul_reference, ("quarc.qmul",)),
    "AveragePool": Family(average_pool_reference, ("quarc.qaverage_pool",)),
    "GlobalAveragePool": Family(average_pool_reference, ("quarc.qaverage_pool",)),
    "Table": Family(table_reference, ("quarc.lut",)),
    "Requantize": Family(requantize_reference, ("quarc.requantize",)),
    "Concat": Family(concat_reference, ("quarc.concat",), pass_through=True),
    "MaxPool": Family(max_pool_reference, ("quarc.max_pool",), pass_through=True),
    "ReshapeTransposeFlatten": Family(
        reshape_transpose_flatten_reference,
        ("quarc.reshape", "quarc.transpose", "quarc.flatten"), pass_through=True),
    "Resize": Family(resize_reference, ("quarc.resize",), pass_through=True),
    "Slice": Family(slice_reference, ("quarc.slice",), pass_through=True),
}


def expected_ops(p: Problem) -> collections.Counter:
    """The compute ops the folded model must have, with their counts."""
    case = p.case
    ops = collections.Counter(FAMILIES[case.op].ops)
    if case.op == "Concat":
        ops["quarc.requantize"] = sum(
            not (s == p.so and z == p.zo and act == case.out_type())
            for s, z, act in zip(p.scales, case.zero_points, case.acts))
    return ops


# --- running quarc ------------------------------------------------------------------------------

# Quantization boundaries, constants and absent operands.
GLUE_OPS = {"quarc.quantize", "quarc.dequantize", "quarc.storage_cast", "quarc.constant",
            "quarc.none"}


def folded_ir(model_path) -> str:
    code, out, err = quarc_tools.run_tool([str(quarc_tools.tool_path("quarc-opt")),
                                           str(model_path), "--canonicalize",
                                           "--quarc-fold-qdq"])
    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    assert code == 0, err
    return out


def check_folded(p: Problem, ir: str) -> dict[str, list[str]]:
    """Asserts that the model folded into exactly the expected integer / quantized ops, with
    no float op left and no quantize but the inputs'; returns their lines by op."""
    ops = re.findall(r"=\s*(quarc\.\w+)", ir)
    compute = collections.Counter(op for op in ops if op not in GLUE_OPS)
    assert compute == expected_ops(p), f"expected {dict(expected_ops(p))}:\n{ir}"
    assert ops.count("quarc.quantize") == len(p.case.shapes), f"a float island is left:\n{ir}"
    lines = {op: [line for line in ir.splitlines() if re.search(rf"=\s*{op} ", line)]
             for op in compute}
    for op, op_lines in lines.items():
        for line in op_lines:
            # The first operand and the first result are quantized tensors (a Resize's
            # scales are f32, a MaxPool's indices i64).
            operand_types, result_types = line.rsplit(" : ", 1)[1].split(" -> ")
            for types in (operand_types, result_types):
                assert re.match(r"\(?tensor<[^,>]*!quant\.uniform", types), line
    return lines


def run_quarc(p: Problem, tmp_path, model_path) -> np.ndarray:
    args = ["run", model_path]
    for i, x in enumerate(p.xs):
        np.save(tmp_path / f"x{i}.npy", x)
        args += ["--input", f"x{i}={tmp_path / f'x{i}.npy'}"]
    code, _, err = quarc(*args, "--output-dir", tmp_path / "out")
    assert code == 0, err
    return np.load(next((tmp_path / "out").iterdir()))


def describe_mismatch(actual: np.ndarray, expected: np.ndarray, real: np.ndarray | None,
                      p: Problem, who: str = "quarc", limit: int = 8) -> str:
    differ = np.argwhere(actual != expected)
    lines = [f"{len(differ)} of {expected.size} elements differ (so={p.so!r}, zo={p.zo}); "
             f"first ones (index: {who}, reference, real / so + zo):"]
    for index in map(tuple, differ[:limit]):
        exact = "-" if real is None else f"{real[index] / float(p.so) + p.zo:.4f}"
        lines.append(f"  {index}: {actual[index]}, {expected[index]}, {exact}")
    return "\n".join(lines)


def case_params(cases):
    return [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c.name]))
            if c.name in KNOWN_BUGS else c for c in cases]


def skip_unless_imported(case: Case):
    """Gelu is ai.onnx from opset 20; skip when this build's importer does not take it."""
    for step in TABLES.get(case.table, []):
        versions = quarc_tools.supported_ops().get(("ai.onnx", step.op))
        if versions is None or not versions[0] <= OPSET <= versions[1]:
            pytest.skip(f"quarc does not import {step.op} at opset {OPSET}")


# --- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("case", case_params(CASES), ids=str)
def test_integer_op_is_bit_exact(case, quarc_driver, tmp_path):
    skip_unless_imported(case)
    p = make_problem(case)
    expected, real = reference(p)
    out_type = case.out_type()
    model_path = tmp_path / f"{case.name}.onnx"
    onnx.save(build_model(p, expected.shape), model_path)

    lines = check_folded(p, folded_ir(model_path))
    for line in lines.get(FAMILIES[case.op].ops[0], []):
        assert ("clamp_min" in line) == (case.activation is not None), line
        assert ("clamp_max" in line) == (case.activation == "Clip"), line

    actual = run_quarc(p, tmp_path, model_path)
    assert actual.shape == expected.shape
    assert actual.dtype == out_type
    assert np.array_equal(actual, expected), describe_mismatch(actual, expected, real, p)

    check_case_exercises_its_name(p, expected, real)


# The byte shuffles each target looks tables up with (quarc-vectorize-table-lookups):
# pshufb on 16, 32 and 64 bytes, AVX-512 VBMI's vpermi2b, NEON's tbl/tbx. x86 code runs in
# process where the host has the feature, AArch64 under qemu-aarch64.
LOOKUP_TARGETS = [
    pytest.param("x86_64", "ssse3", id="x86_64"),
    pytest.param("x86_64+avx2", "avx2", id="avx2"),
    pytest.param("x86_64+avx512f", "avx512bw", id="avx512f"),
    pytest.param("x86_64+avx512vbmi", "avx512vbmi", id="avx512vbmi"),
    pytest.param("aarch64", None, id="aarch64"),
]
LOOKUP_CASES = [c for c in CASES if c.name in (
    "sigmoid", "tanh_i8_output", "sigmoid_i8_input", "sigmoid_odd_size", "hardswish_parallel")]


@pytest.mark.parametrize("target,feature", LOOKUP_TARGETS)
@pytest.mark.parametrize("case", LOOKUP_CASES, ids=str)
def test_table_lookup_on_every_target(case, target, feature, quarc_driver, tmp_path):
    if reason := quarc_tools.cannot_run_target(target, feature):
        pytest.skip(reason)
    p = make_problem(case)
    expected, real = reference(p)
    model_path = tmp_path / f"{case.name}.onnx"
    onnx.save(build_model(p, expected.shape), model_path)
    inputs = []
    for i, x in enumerate(p.xs):
        np.save(tmp_path / f"x{i}.npy", x)
        inputs.append(f"x{i}={tmp_path / f'x{i}.npy'}")
    code, err = quarc_tools.run_for_target(model_path, target, inputs, tmp_path / "out")
    assert code == 0, err
    actual = np.load(next((tmp_path / "out").iterdir()))
    assert np.array_equal(actual, expected), describe_mismatch(actual, expected, real, p)


def check_case_exercises_its_name(p: Problem, expected: np.ndarray, real) -> None:
    case = p.case
    if case.pow2_scales:
        assert all(math.log2(s).is_integer() for s in p.scales + [p.so])
        assert np.mean(exact_ties(p, real)) > 0.1
    qs = quantized_inputs(p)
    qmin, qmax = RANGES[case.out_type()]
    saturated = np.mean((expected == qmin) | (expected == qmax))
    if case.out_fill < 1:
        assert saturated > 0.2, saturated
    elif case.op != "Table" and not case.out_like_input:  # (tables may saturate by design)
        assert saturated < 0.05, saturated
    if case.activation is not None:  # the clamp clamps, at each bound
        unclamped = FAMILIES[case.op].reference(p, qs)
        assert np.mean(unclamped < expected) > 0.05
        assert (np.mean(unclamped > expected) > 0.05) == (case.activation == "Clip")
    for q, act in zip(qs, case.acts):
        in_min, in_max = RANGES[act]
        beyond = np.mean((q == in_min) | (q == in_max))
        assert (beyond > 0.02) == (case.in_fill > 1), beyond
        assert len(np.unique(q)) > min(q.size // 3, 150), "inputs should span their range"
    if case.op == "Table":  # most of the 256 entries are read
        assert len(np.unique(qs[0])) > 200
    if case.op == "MaxPool":  # an int8 comparison of the stored bytes would differ
        signed = pool(qs[0].astype(np.uint8).view(np.int8).astype(np.int64), case, np.max)[0]
        assert np.mean(signed.astype(np.int8).view(np.uint8) != expected) > 0.1
    if case.op == "AveragePool":  # some windows overlap the pads (or run past them)
        taps = pool(np.ones_like(qs[0]), case, np.sum)[0]
        assert len(np.unique(taps)) > 1
    # The result spans most of its range (an activation's clamp narrows it).
    lo, hi = activation_clamp(p, np.array([qmin, qmax]))
    assert len(np.unique(expected)) > min((hi - lo) // 4, expected.size // 4)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_reference_agrees_with_onnxruntime(case):
    """onnxruntime's QDQ model as written (dequantize, float op(s), quantize), with graph
    optimizations off so that it runs exactly that: within one step of the reference, and
    equal on at least 95% of the elements. The difference: onnxruntime computes the op in
    float32 and rounds once, half to even, when it quantizes, while the integer code rounds
    the exact value once, half up, with a 31-bit fixed-point multiplier (and its
    vectorized sigmoid/tanh/erf are a few float32 ulps off), which matters only for values
    within rounding error of a quantization boundary. Exact ties (the pow2_scales cases) are
    left out of the 95%: there the two rules differ by design, for about half of them."""
    ort = pytest.importorskip("onnxruntime")
    p = make_problem(case)
    expected, real = reference(p)
    model = build_model(p, expected.shape)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    theirs = session.run(None, {f"x{i}": x for i, x in enumerate(p.xs)})[0]
    assert theirs.shape == expected.shape
    theirs = theirs.astype(np.int64)
    diff = np.abs(theirs - expected)
    assert diff.max() <= 1, describe_mismatch(theirs, expected, real, p, who="onnxruntime")
    ties = np.broadcast_to(exact_ties(p, real), diff.shape)
    assert np.mean(diff[~ties] == 0) >= 0.95, np.mean(diff[~ties] == 0)
