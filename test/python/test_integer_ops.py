"""quarc's integer convolutions and matrix products (quarc.qconv, quarc.qmatmul), checked bit
for bit against an independent integer reference written here in numpy int64 / Python ints.

Each case is a small ONNX QDQ model built in the test: QuantizeLinear -> DequantizeLinear on
the f32 input, DequantizeLinear of a constant int8 weight (per channel or per tensor, zero
point 0), then a Conv, MatMul or Gemm, and QuantizeLinear on its result. `quarc-fold-qdq`
turns such a model into integer ops (asserted first, with quarc-opt, so that no case can pass
on the float path); `quarc run` then has to give exactly the reference's integers.

The reference follows the integer semantics directly, not quarc's implementation:

- the input quantizes as ONNX says, q = clip(rint(f32(x) / f32(sx)) + zx), in float32;
- acc = sum over the window of (xq - zx) * w (a padded position holds zx, so adds 0), plus
  the bias at the accumulator's scale, round_half_even(f64(b) / (f64(sx) * f64(sw)));
- the accumulator requantizes with the fixed-point multiplier of
  real = (f64(sx) * f64(sw)) / f64(so): M = round(mantissa * 2^31), n = 31 - exponent,
  out = clip(((acc * M + 2^(n-1)) >> n) + zo);
- a result that no QuantizeLinear consumes comes out as f32(acc) * f32(sx * sw).

The integer and the float requantization differ only near halves, which natural data seldom
meets; `conv_pow2_scales_ties` picks power-of-two scales so that many accumulators land on
exact halves, which this rule rounds up (ONNX's QuantizeLinear, half to even, would not).

The reference itself is checked against onnxruntime running the QDQ model in float, which may
differ by one step on a few elements: `test_reference_agrees_with_onnxruntime`.

A quantized result is the graph's output as the QuantizeLinear writes it, int8 or uint8,
and comes back as a .npy of that type.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools

OPSET = 13  # per-axis DequantizeLinear

RANGES = {np.uint8: (0, 255), np.int8: (-128, 127)}
ONNX_TYPES = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8}


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    op: str  # Conv, MatMul or Gemm
    x_shape: tuple  # the shape the model runs on
    w_shape: tuple  # Conv: F x C/group x kernel; MatMul: K x N; Gemm (transB=1): N x K
    attrs: dict = dataclasses.field(default_factory=dict)
    act: type = np.uint8  # the input's quantized type
    zx: int = 128
    out: object = np.uint8  # np.uint8, np.int8 or "f32" (no QuantizeLinear after the op)
    per_channel: bool = True
    bias: bool = True
    in_fill: float = 0.95  # fraction of the input's quantized range the input spans
    out_fill: float = 1.0  # < 1: a smaller output scale, so that outputs saturate
    dynamic_batch: bool = False
    # Power-of-two scales and small weights: the requantization meets many exact halves.
    pow2_scales: bool = False
    # A Relu or Clip between the op and its QuantizeLinear, which the integer op fuses as
    # a clamp of its quantized result; Clip's bounds are CLIP_BOUNDS.
    activation: str | None = None
    # uint8 weights with zero points (asymmetric, as onnxruntime's QUInt8 weights): the
    # products are x * (w - zw).
    asymmetric_weights: bool = False
    # The bias as a separate Add of a constant after the op (as MatMul exports and
    # PaddlePaddle's convolutions have it), which the integer op takes into its bias.
    bias_add: bool = False
    # The largest weight magnitude (7-bit weights, as `reduce-range` makes them, take the
    # AVX2 kernel's vpmaddubsw fast path).
    w_max: int = 127
    # Weights in pairs of equal sign and magnitude 100..127 along the input channels, the
    # pairs vpmaddubsw adds: with inputs above 128 their i16 sums saturate, which the
    # AVX2 kernel must avoid (it splits such weights in two).
    saturating_pairs: bool = False
    # Runs as Winograd F(2x2, 3x3) for x86_64+avx2 (quarc-winograd-convolution: stride-1
    # 3x3 convolutions with even output sizes, rows of at least 14 pixels, u8 inputs);
    # test_winograd_where_expected checks that the path is the one the case is meant for.
    winograd: bool = False

    def __str__(self):
        return self.name


CASES = [
    Case("conv3x3_pad1_u8", "Conv", (1, 4, 12, 12), (8, 4, 3, 3), {"pads": [1, 1, 1, 1]}),
    Case("conv3x3_stride2_dil2_asym_pads_i8", "Conv", (1, 3, 13, 11), (6, 3, 3, 3),
         {"strides": [2, 2], "dilations": [2, 2], "pads": [0, 1, 1, 2]},
         act=np.int8, zx=-5, out=np.int8),
    Case("conv_group2", "Conv", (1, 6, 10, 10), (8, 3, 3, 3),
         {"pads": [1, 1, 1, 1], "group": 2}, zx=37),
    Case("conv_depthwise", "Conv", (1, 6, 10, 10), (6, 1, 3, 3),
         {"pads": [1, 1, 1, 1], "group": 6}, out=np.int8),
    Case("conv1x1_no_bias", "Conv", (1, 8, 9, 9), (5, 8, 1, 1), zx=37, bias=False),
    # Channels in two groups of eight after padding (i8mm's usmmla), an odd number of
    # output channels, a stride; and eight channels per group of a grouped convolution.
    Case("conv3x3_12ch_stride2_odd_features", "Conv", (1, 12, 11, 13), (7, 12, 3, 3),
         {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
    Case("conv_group2_8ch", "Conv", (1, 16, 9, 9), (10, 8, 3, 3),
         {"pads": [1, 1, 1, 1], "group": 2}, act=np.int8, zx=-5, out=np.int8),
    # Eight channels on images whose rows share column tiles: 4-pixel rows two to a tile,
    # and 14-pixel rows in wide tiles of whole rows (the register tile two vectors at a time).
    Case("conv3x3_8ch_short_rows", "Conv", (1, 8, 4, 4), (6, 8, 3, 3), {"pads": [1, 1, 1, 1]}),
    Case("conv3x3_8ch_wide_tiles", "Conv", (1, 8, 5, 14), (9, 8, 3, 3), {"pads": [1, 1, 1, 1]},
         zx=37),
    Case("conv1d", "Conv", (1, 4, 20), (6, 4, 3), {"pads": [1, 1]},
         act=np.int8, zx=-5, out=np.int8),
    Case("conv_per_tensor_weight", "Conv", (1, 4, 10, 10), (6, 4, 3, 3),
         {"pads": [1, 1, 1, 1]}, per_channel=False),
    Case("conv_saturating_output", "Conv", (1, 4, 10, 10), (6, 4, 3, 3),
         {"pads": [1, 1, 1, 1]}, out=np.int8, out_fill=0.15),
    Case("conv_input_beyond_range", "Conv", (1, 4, 10, 10), (6, 4, 3, 3),
         {"pads": [1, 1, 1, 1]}, zx=37, in_fill=2.0),
    Case("conv_f32_output", "Conv", (1, 4, 10, 10), (6, 4, 3, 3),
         {"pads": [1, 1, 1, 1]}, out="f32"),
    Case("conv_dynamic_batch", "Conv", (2, 3, 9, 9), (4, 3, 3, 3),
         {"pads": [1, 1, 1, 1]}, out=np.int8, dynamic_batch=True),
    Case("conv_pow2_scales_ties", "Conv", (1, 4, 10, 10), (6, 4, 3, 3),
         {"pads": [1, 1, 1, 1]}, act=np.int8, zx=-5, out=np.int8, bias=False,
         pow2_scales=True),
    Case("matmul_2d", "MatMul", (7, 16), (16, 10), bias=False),
    Case("matmul_3d", "MatMul", (2, 5, 16), (16, 12), zx=37, bias=False),
    # Several row and column tiles of every kernel, k past a block of steps, odd rows.
    Case("matmul_3d_tiles", "MatMul", (2, 19, 200), (200, 52), zx=37, bias_add=True),
    Case("matmul_per_tensor_i8", "MatMul", (6, 24), (24, 8),
         act=np.int8, zx=-5, out=np.int8, per_channel=False, bias=False),
    Case("gemm_transb_alpha_beta", "Gemm", (6, 16), (10, 16),
         {"transB": 1, "alpha": 0.5, "beta": 2.0}, act=np.int8, zx=-5),
    Case("matmul_f32_output", "MatMul", (7, 16), (16, 10), out="f32", bias=False),
    Case("conv_relu", "Conv", (1, 4, 10, 10), (6, 4, 3, 3), {"pads": [1, 1, 1, 1]},
         activation="Relu"),
    Case("conv_clip_i8", "Conv", (1, 4, 10, 10), (6, 4, 3, 3), {"pads": [1, 1, 1, 1]},
         act=np.int8, zx=-5, out=np.int8, activation="Clip"),
    Case("gemm_relu", "Gemm", (6, 16), (10, 16), {"transB": 1}, activation="Relu"),
    Case("conv_u8_weights_per_channel_zero_points", "Conv", (1, 4, 10, 10), (6, 4, 3, 3),
         {"pads": [1, 1, 1, 1]}, asymmetric_weights=True),
    Case("matmul_u8_weights_per_tensor_zero_point", "MatMul", (5, 24), (24, 8),
         per_channel=False, bias=False, asymmetric_weights=True),
    Case("gemm_transb_u8_weights", "Gemm", (6, 16), (10, 16), {"transB": 1},
         act=np.int8, zx=-5, asymmetric_weights=True),
    Case("conv_bias_add_relu", "Conv", (1, 4, 10, 10), (6, 4, 3, 3), {"pads": [1, 1, 1, 1]},
         bias_add=True, activation="Relu"),
    Case("matmul_3d_bias_add", "MatMul", (2, 5, 16), (16, 12), zx=37, bias_add=True),
    Case("matmul_bias_add_f32_output", "MatMul", (7, 16), (16, 10), out="f32", bias_add=True),
    # Shapes for the int8 kernels' tiles (quarc-vectorize-integer-matmul): whole and edge
    # column tiles, strided loads, blocks of input channels, row remainders, K padding.
    # (Odd output heights keep the 3x3 ones off the AVX2 Winograd path.)
    Case("conv_saturating_pairs", "Conv", (1, 8, 9, 24), (16, 8, 3, 3),
         {"pads": [1, 1, 1, 1]}, zx=0, saturating_pairs=True),
    Case("conv_7bit_weights", "Conv", (1, 8, 9, 24), (16, 8, 3, 3),
         {"pads": [1, 1, 1, 1]}, w_max=64),
    Case("conv_stride2_wide_rows", "Conv", (1, 16, 9, 111), (24, 16, 3, 3),
         {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
    Case("conv_channel_blocks", "Conv", (1, 160, 5, 20), (9, 160, 3, 3),
         {"pads": [1, 1, 1, 1]}, zx=37),
    Case("conv1x1_channels_not_multiple_of_4", "Conv", (2, 6, 5, 50), (20, 6, 1, 1),
         dynamic_batch=True),
    # Output rows narrower than the tile share column tiles (7 rows of 7 pixels: blocks
    # of 6 rows and 1, pieces cut where rows end); strided as well.
    Case("conv_small_image_rows", "Conv", (1, 16, 7, 7), (24, 16, 3, 3),
         {"pads": [1, 1, 1, 1]}),
    Case("conv_small_image_stride2", "Conv", (1, 8, 13, 13), (8, 8, 3, 3),
         {"pads": [1, 1, 1, 1], "strides": [2, 2]}, zx=37),
    Case("conv_many_channel_blocks", "Conv", (1, 300, 3, 10), (4, 300, 3, 3),
         {"pads": [1, 1, 1, 1]}),
    Case("conv_depthwise_stride2_dilation", "Conv", (1, 8, 15, 15), (8, 1, 3, 3),
         {"pads": [2, 2, 2, 2], "strides": [2, 2], "dilations": [2, 2], "group": 8}),
    # The pixel-rows kernel (AVX-512 VNNI; multiples of 16 output channels, with a window
    # or on a small pointwise image): three panels of 16 channels split in two halves
    # between parallel iterations (one 49-pixel column tile; two panels, then one), two
    # blocks of input channels (60 groups x 9 taps: the panel's 128 KiB hold 56) on two
    # panels per half, with pieces that cross 9-pixel rows, stride 2 on two images, a
    # small pointwise image, and a dynamic batch (two panels, no halves) with asymmetric
    # padding.
    Case("conv_pixel_rows_channel_halves", "Conv", (1, 32, 7, 7), (48, 32, 3, 3),
         {"pads": [1, 1, 1, 1]}),
    Case("conv_pixel_rows_channel_blocks", "Conv", (1, 240, 5, 9), (64, 240, 3, 3),
         {"pads": [1, 1, 1, 1]}, zx=37),
    Case("conv_pixel_rows_stride2_batch", "Conv", (2, 12, 15, 15), (16, 12, 3, 3),
         {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
    Case("conv_pixel_rows_pointwise", "Conv", (1, 20, 6, 6), (32, 20, 1, 1), zx=90),
    Case("conv_pixel_rows_dynamic_batch", "Conv", (2, 8, 6, 10), (32, 8, 3, 3),
         {"pads": [0, 1, 2, 1]}, out=np.int8, dynamic_batch=True),
    # The same shapes with 7-bit weights take the AVX2 pixel-rows kernel (panels of 8
    # channels, images of at most 64 output pixels, filters whose pairs fit vpmaddubsw's
    # i16): six panels in halves of three, two blocks of input channels, 8 x 8 pixels at
    # stride 2, a small pointwise image, a dynamic batch.
    Case("conv_pixel_rows_7bit_channel_halves", "Conv", (1, 32, 7, 7), (48, 32, 3, 3),
         {"pads": [1, 1, 1, 1]}, w_max=64),
    Case("conv_pixel_rows_7bit_channel_blocks", "Conv", (1, 240, 5, 9), (64, 240, 3, 3),
         {"pads": [1, 1, 1, 1]}, zx=37, w_max=64),
    Case("conv_pixel_rows_7bit_stride2_batch", "Conv", (2, 12, 15, 15), (16, 12, 3, 3),
         {"pads": [1, 1, 1, 1], "strides": [2, 2]}, w_max=64),
    Case("conv_pixel_rows_7bit_pointwise", "Conv", (1, 20, 6, 6), (32, 20, 1, 1), zx=90,
         w_max=64),
    Case("conv_pixel_rows_7bit_dynamic_batch", "Conv", (2, 8, 6, 10), (32, 8, 3, 3),
         {"pads": [0, 1, 2, 1]}, out=np.int8, dynamic_batch=True, w_max=64),
    # The depthwise kernel with four taps per step (AVX-512 VNNI with VBMI; the filter rows
    # padded to quads) and the one with two (other x86 targets with AVX2 or AVX-512; an
    # odd row ends with a lone tap): 5 x 5 over rows of 40 (two registers of 16 pixels,
    # then 8), 5 x 5 at stride 2 with a dynamic batch, 3 x 4 taps (rows already quads, no
    # padding), a row of 14 (the pair kernel's second register of 6 pixels reads a
    # 16-byte window that starts 6 bytes before its own), and a row whose strip does not
    # fit a register or a lane's 16 bytes (stride 4, dilation 3: the tap-by-tap kernel).
    Case("conv_depthwise_5x5_quads", "Conv", (1, 6, 9, 40), (6, 1, 5, 5),
         {"pads": [2, 2, 2, 2], "group": 6}, zx=37),
    Case("conv_depthwise_5x5_stride2_batch", "Conv", (2, 4, 13, 45), (4, 1, 5, 5),
         {"pads": [2, 2, 2, 2], "strides": [2, 2], "group": 4}, out=np.int8,
         dynamic_batch=True),
    Case("conv_depthwise_3x4_quads", "Conv", (1, 5, 8, 37), (5, 1, 3, 4),
         {"pads": [1, 2, 1, 1], "group": 5}),
    Case("conv_depthwise_5x5_row_of_14", "Conv", (1, 4, 7, 14), (4, 1, 5, 5),
         {"pads": [2, 2, 2, 2], "group": 4}, zx=201),
    Case("conv_depthwise_wide_strip", "Conv", (1, 3, 10, 80), (3, 1, 3, 3),
         {"pads": [1, 1, 1, 1], "strides": [1, 4], "dilations": [1, 3], "group": 3}),
    # Winograd F(2x2, 3x3) (x86_64+avx2): 6 channels (padded to 8), 5 filters (register
    # tiles of 2, 2 and 1), rows of 15 tiles (a second vector of 7, whose loads past 16
    # bytes from the row's end are shifted back), padding with the zero point 37; 70
    # filters (blocks of 32, 32 and 6) on a dynamic batch of 14-pixel rows; no padding
    # (18 input columns) with a Relu; an f32 result (C stored, no requantization); 600
    # channels of full-range weights (the sums between the transforms pass i32 and wrap);
    # 7-bit weights packed for the AVX2 pixel-rows kernel (panels of 8 filters); 64
    # filters on one block of tile rows, split in halves between parallel iterations.
    Case("conv_winograd_tiles", "Conv", (1, 6, 8, 30), (5, 6, 3, 3), {"pads": [1, 1, 1, 1]},
         zx=37, winograd=True),
    Case("conv_winograd_filter_blocks_batch", "Conv", (2, 16, 6, 14), (70, 16, 3, 3),
         {"pads": [1, 1, 1, 1]}, out=np.int8, dynamic_batch=True, winograd=True),
    Case("conv_winograd_no_pads_relu", "Conv", (1, 8, 10, 18), (16, 8, 3, 3), zx=37,
         activation="Relu", winograd=True),
    Case("conv_winograd_f32_output", "Conv", (1, 4, 6, 16), (6, 4, 3, 3),
         {"pads": [1, 1, 1, 1]}, out="f32", winograd=True),
    Case("conv_winograd_many_channels", "Conv", (1, 600, 4, 16), (8, 600, 3, 3),
         {"pads": [1, 1, 1, 1]}, zx=0, winograd=True),
    Case("conv_winograd_pixel_rows_7bit", "Conv", (1, 8, 4, 16), (16, 8, 3, 3),
         {"pads": [1, 1, 1, 1]}, w_max=64, winograd=True),
    Case("conv_winograd_filter_halves", "Conv", (1, 8, 6, 16), (64, 8, 3, 3),
         {"pads": [1, 1, 1, 1]}, zx=37, winograd=True),
    Case("matmul_panels_of_8", "MatMul", (9, 32), (32, 24), zx=90, bias=False),
    Case("matmul_dynamic_batch", "MatMul", (2, 5, 16), (16, 12), zx=90, bias=False,
         dynamic_batch=True),
    Case("matmul_panels", "MatMul", (37, 68), (68, 96), zx=90, bias_add=True),
    Case("matmul_depth_not_multiple_of_4", "MatMul", (2, 3, 30), (30, 16), zx=90, bias=False),
]

CLIP_BOUNDS = (-0.25, 0.5)


# --- the inputs and constants of a case ---------------------------------------------------

def smooth(rng: np.random.Generator, shape: tuple, lead: int) -> np.ndarray:
    """Values in [-1, 1]: over the dimensions after the first `lead`, a few low-frequency
    waves plus a little noise, independent for each index of the leading dimensions."""
    grids = np.meshgrid(*[np.arange(d) / d for d in shape[lead:]], indexing="ij")
    out = np.zeros(shape, np.float64)
    for index in itertools.product(*map(range, shape[:lead])):
        for _ in range(3):
            phase = sum(rng.uniform(0.3, 2.0) * g for g in grids)
            out[index] += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * phase + rng.uniform(0, 6.3))
    out += 0.05 * rng.standard_normal(shape)
    return out / np.abs(out).max()


@dataclasses.dataclass
class Problem:
    case: Case
    x: np.ndarray  # f32 input
    sx: np.float32
    w: np.ndarray  # int8 (uint8 for asymmetric weights), as the model holds it
    sw: np.ndarray  # f32, one per output channel, or one value
    zw: np.ndarray  # the weights' zero points, of w's type, shaped as sw
    b: np.ndarray | None  # f32 bias (Conv B, Gemm C)
    so: np.float32 | None = None
    zo: int | None = None


def make_problem(case: Case) -> Problem:
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    qmin, qmax = RANGES[case.act]
    sx = np.float32(2.0**-6 if case.pow2_scales else rng.uniform(0.01, 0.03))
    lo, hi = (qmin - case.zx) * float(sx), (qmax - case.zx) * float(sx)
    lead = 2 if case.op == "Conv" else len(case.x_shape) - 2
    x = ((lo + hi) / 2 + (hi - lo) / 2 * case.in_fill * smooth(rng, case.x_shape, lead))
    w_max = 3 if case.pow2_scales else case.w_max
    w = rng.integers(-w_max, w_max + 1, case.w_shape).astype(np.int8)
    if case.saturating_pairs:
        pairs = list(case.w_shape)
        pairs[1] //= 2
        magnitude = rng.integers(100, 128, pairs) * rng.choice([-1, 1], pairs)
        w = np.repeat(magnitude, 2, axis=1).astype(np.int8)
    channels = case.w_shape[1] if case.op == "MatMul" else case.w_shape[0]
    shape = channels if case.per_channel else ()
    zw = np.zeros(shape, np.int8)
    if case.asymmetric_weights:
        w = rng.integers(0, 256, case.w_shape).astype(np.uint8)
        zw = rng.integers(90, 170, shape).astype(np.uint8)
    sw = rng.uniform(0.002, 0.02, shape).astype(np.float32)
    if case.pow2_scales:
        sw = (2.0 ** -rng.integers(6, 9, shape)).astype(np.float32)
    b = rng.normal(0, 0.5, channels).astype(np.float32) if case.bias else None
    return Problem(case, x.astype(np.float32), sx, w, sw, zw, b)


# --- the reference ----------------------------------------------------------------------

def quantize_input(x: np.ndarray, scale: np.float32, zero_point: int, dtype) -> np.ndarray:
    """ONNX QuantizeLinear in float32, as int64."""
    qmin, qmax = RANGES[dtype]
    q = np.rint(x.astype(np.float32) / np.float32(scale)).astype(np.int64) + zero_point
    return np.clip(q, qmin, qmax)


def round_half_even(value: float) -> int:
    return round(value)  # Python rounds floats half to even


def channel_params(p: Problem) -> tuple[np.ndarray, list[float]]:
    """(the int64 bias of each output channel at its accumulator scale, those scales as
    f64), with a Gemm's alpha folded into the weight scales and beta into its C."""
    case = p.case
    channels = case.w_shape[0] if case.op in ("Conv", "Gemm") else case.w_shape[1]
    alpha = float(case.attrs.get("alpha", 1.0))
    beta = float(case.attrs.get("beta", 1.0))
    sw = np.broadcast_to(p.sw, (channels,))
    acc_scales = [float(p.sx) * (float(s) * alpha) for s in sw]
    bias = [0 if p.b is None else round_half_even(float(p.b[f]) * beta / acc_scales[f])
            for f in range(channels)]
    return np.array(bias, np.int64), acc_scales


def conv_acc(xq: np.ndarray, zx: int, w: np.ndarray, attrs: dict) -> np.ndarray:
    """sum over each window of (xq - zx) * w, with zero-padded centered inputs, in int64."""
    x = xq.astype(np.int64) - zx
    spatial = x.ndim - 2
    strides = attrs.get("strides", [1] * spatial)
    dilations = attrs.get("dilations", [1] * spatial)
    pads = attrs.get("pads", [0] * 2 * spatial)
    group = attrs.get("group", 1)
    x = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[i + spatial]) for i in range(spatial)])
    kernel = w.shape[2:]
    out_shape = [(x.shape[2 + i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1
                 for i in range(spatial)]
    filters, group_channels = w.shape[:2]
    group_filters = filters // group
    acc = np.zeros((x.shape[0], filters, *out_shape), np.int64)
    for offset in itertools.product(*map(range, kernel)):
        window = tuple(slice(offset[i] * dilations[i],
                             offset[i] * dilations[i] + strides[i] * (out_shape[i] - 1) + 1,
                             strides[i]) for i in range(spatial))
        patch = x[(slice(None), slice(None)) + window]
        for g in range(group):
            xg = patch[:, g * group_channels:(g + 1) * group_channels]
            wg = w[g * group_filters:(g + 1) * group_filters][(Ellipsis,) + offset]
            acc[:, g * group_filters:(g + 1) * group_filters] += np.einsum(
                "nc...,fc->nf...", xg, wg.astype(np.int64))
    return acc


def accumulator(p: Problem) -> tuple[np.ndarray, list[float], int]:
    """(acc with the bias, the accumulator scale of each channel, the channel axis)."""
    case = p.case
    xq = quantize_input(p.x, p.sx, case.zx, case.act)
    bias, acc_scales = channel_params(p)
    # The stored weights minus their zero points, along the output channels (dim 0 of a
    # Conv's W and of a Gemm's transposed B, the columns of a MatMul's B).
    channel_dim = 1 if case.op == "MatMul" else 0
    zw_shape = [1] * p.w.ndim
    zw_shape[channel_dim] = -1
    w = p.w.astype(np.int64) - p.zw.astype(np.int64).reshape(zw_shape)
    if case.op == "Conv":
        acc = conv_acc(xq, case.zx, w, case.attrs)
        axis = 1
    else:
        b = w.T if case.attrs.get("transB", 0) else w
        acc = np.matmul(xq - case.zx, b)
        axis = acc.ndim - 1
    shape = [1] * acc.ndim
    shape[axis] = -1
    acc = acc + bias.reshape(shape)
    assert np.abs(acc).max() < 2**31, "the accumulator has to fit int32"
    return acc, acc_scales, axis


def fixed_point(real: float) -> tuple[int, int]:
    """(M, n) with real ~= M * 2^-n and 2^30 <= M < 2^31."""
    if real == 0:
        return 0, 31
    mantissa, exponent = math.frexp(real)
    m = math.floor(mantissa * 2**31 + 0.5)
    if m == 2**31:
        m, exponent = 2**30, exponent + 1
    n = 31 - exponent
    assert 1 <= n <= 62, f"pick other scales: real multiplier {real} gives n = {n}"
    return m, n


def requantize(acc: np.ndarray, acc_scales: list[float], axis: int, so: np.float32,
               zo: int, dtype) -> np.ndarray:
    qmin, qmax = RANGES[dtype]
    out = np.empty(acc.shape, np.int64)
    for f, scale in enumerate(acc_scales):
        m, n = fixed_point(scale / float(so))
        channel = np.take(acc, f, axis=axis)  # |acc| < 2^31, m < 2^31: no int64 overflow
        r = (channel * m + (1 << (n - 1))) >> n
        index = [slice(None)] * acc.ndim
        index[axis] = f
        out[tuple(index)] = np.clip(r + zo, qmin, qmax)
    return out


def exact_halves(acc: np.ndarray, acc_scales: list[float], axis: int, so: np.float32) -> int:
    """How many accumulators requantize to exactly k + 1/2 (rounded up, by the rule)."""
    count = 0
    for f, scale in enumerate(acc_scales):
        m, n = fixed_point(scale / float(so))
        count += int(np.sum((np.take(acc, f, axis=axis) * m) % (1 << n) == 1 << (n - 1)))
    return count


def f32_output(acc: np.ndarray, acc_scales: list[float], axis: int) -> np.ndarray:
    shape = [1] * acc.ndim
    shape[axis] = -1
    scales = np.array(acc_scales, np.float64).astype(np.float32).reshape(shape)
    return acc.astype(np.float32) * scales


def choose_output_params(p: Problem, acc: np.ndarray, acc_scales: list[float],
                         axis: int) -> None:
    """An output scale and zero point for which the output spans its quantized range
    (out_fill = 1), or a scale 1/out_fill times smaller and a middle zero point, so that
    many values saturate at both ends."""
    case = p.case
    qmin, qmax = RANGES[case.out]
    real = f32_output(acc, acc_scales, axis).astype(np.float64)
    bounds = activation_bounds(case)
    real = np.clip(real, *[-np.inf if b is None else b for b in bounds[:1]],
                   *[np.inf if b is None else b for b in bounds[1:]])
    lo, hi = min(real.min(), 0.0), max(real.max(), 0.0)
    p.so = np.float32((hi - lo) / (qmax - qmin) * case.out_fill)
    if case.pow2_scales:
        p.so = np.float32(2.0 ** round(math.log2(p.so)))
    if case.out_fill < 1:
        p.zo = (qmin + qmax + 1) // 2
    else:
        p.zo = int(np.clip(round(qmin - lo / float(p.so)), qmin, qmax))


def activation_bounds(case: Case) -> tuple[float | None, float | None]:
    """The float range case.activation clamps to."""
    if case.activation == "Relu":
        return 0.0, None
    if case.activation == "Clip":
        return CLIP_BOUNDS
    return None, None


def reference(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(the expected output, the accumulator), choosing p.so and p.zo if quantized."""
    acc, acc_scales, axis = accumulator(p)
    if p.case.out == "f32":
        return f32_output(acc, acc_scales, axis), acc
    if p.so is None:
        choose_output_params(p, acc, acc_scales, axis)
    out = requantize(acc, acc_scales, axis, p.so, p.zo, p.case.out)
    # Quantizing is monotonic: quantize(clip(y, lo, hi)) = clip(quantize(y),
    # quantize(lo), quantize(hi)), with QuantizeLinear's own rounding of the bounds.
    lo, hi = activation_bounds(p.case)
    if lo is not None:
        out = np.maximum(out, quantize_input(np.array(lo), p.so, p.zo, p.case.out))
    if hi is not None:
        out = np.minimum(out, quantize_input(np.array(hi), p.so, p.zo, p.case.out))
    return out, acc


# --- the model ----------------------------------------------------------------------------

def scalar(value, dtype, name: str) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(value, dtype), name)


def build_model(p: Problem, output_shape: tuple) -> onnx.ModelProto:
    """x -> Q -> DQ -> op(., DQ(w)[, b]) [-> Q]; the graph output is the last."""
    case = p.case
    init = [scalar(p.sx, np.float32, "sx"), scalar(case.zx, case.act, "zx"),
            numpy_helper.from_array(p.w, "w"), numpy_helper.from_array(p.sw, "sw"),
            numpy_helper.from_array(p.zw, "zw")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"], name="quantize_x"),
             helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"],
                              name="dequantize_x")]
    weight_axis = {}
    if case.per_channel:
        weight_axis = {"axis": 1 if case.op == "MatMul" else 0}
    nodes.append(helper.make_node("DequantizeLinear", ["w", "sw", "zw"], ["wd"],
                                  name="dequantize_w", **weight_axis))
    inputs = ["xd", "wd"]
    if p.b is not None and not case.bias_add:
        init.append(numpy_helper.from_array(p.b, "b"))
        inputs.append("b")
    nodes.append(helper.make_node(case.op, inputs, ["y"], name=case.op.lower(), **case.attrs))
    if case.bias_add:
        # Along the output channels: C x 1 x 1 after a Conv, N after a MatMul.
        shape = (-1,) + (1,) * (len(case.x_shape) - 2) if case.op == "Conv" else (-1,)
        init.append(numpy_helper.from_array(p.b.reshape(shape), "b"))
        nodes[-1].output[0] = "y0"
        nodes.append(helper.make_node("Add", ["y0", "b"], ["y"], name="bias_add"))
    output, elem_type = "y", TensorProto.FLOAT
    if case.activation == "Relu":
        nodes.append(helper.make_node("Relu", ["y"], ["ya"], name="relu"))
        output = "ya"
    elif case.activation == "Clip":
        init += [scalar(CLIP_BOUNDS[0], np.float32, "clip_lo"),
                 scalar(CLIP_BOUNDS[1], np.float32, "clip_hi")]
        nodes.append(helper.make_node("Clip", ["y", "clip_lo", "clip_hi"], ["ya"], name="clip"))
        output = "ya"
    if case.out != "f32":
        init += [scalar(p.so, np.float32, "so"), scalar(p.zo, case.out, "zo")]
        nodes.append(helper.make_node("QuantizeLinear", [output, "so", "zo"], ["yq"],
                                      name="quantize_y"))
        output, elem_type = "yq", ONNX_TYPES[case.out]
    x_shape, out_shape = list(case.x_shape), list(output_shape)
    if case.dynamic_batch:
        x_shape[0] = out_shape[0] = "N"
    graph = helper.make_graph(
        nodes, case.name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(output, elem_type, out_shape)], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model, full_check=True)
    return model


# --- running quarc ------------------------------------------------------------------------

def quarc(*args) -> tuple[int, str, str]:
    code, out, err = quarc_tools.run_quarc(list(args), timeout=quarc_tools.RUN_TIMEOUT_S)
    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    return code, out, err


def folded_op_line(model_path, op: str) -> str:
    """The one quarc.qconv / quarc.qmatmul line of the model after quarc-fold-qdq."""
    code, out, err = quarc_tools.run_tool([str(quarc_tools.tool_path("quarc-opt")),
                                           str(model_path), "--canonicalize",
                                           "--quarc-fold-qdq"])
    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    assert code == 0, err
    integer_op = "quarc.qconv" if op == "Conv" else "quarc.qmatmul"
    float_ops = re.findall(r"quarc\.(conv|matmul|gemm|relu|clip|add)\b", out)
    assert not float_ops, f"a float {float_ops} is left:\n{out}"
    lines = [line for line in out.splitlines() if f"= {integer_op} " in line]
    assert len(lines) == 1, f"expected one {integer_op}:\n{out}"
    return lines[0]


def describe_mismatch(actual: np.ndarray, expected: np.ndarray, acc: np.ndarray,
                      who: str = "quarc", limit: int = 5) -> str:
    differ = np.argwhere(actual != expected)
    lines = [f"{len(differ)} of {expected.size} elements differ; first ones "
             f"(index: {who}, reference, reference acc):"]
    for index in map(tuple, differ[:limit]):
        lines.append(f"  {index}: {actual[index]}, {expected[index]}, {acc[index]}")
    return "\n".join(lines)


# --- the tests ----------------------------------------------------------------------------

# The targets the integer code is generated for: plain x86_64 has no int8 kernel (the
# products are loops), AVX2 and AVX-512 without VNNI use vpmaddubsw, VNNI vpdpbusd (and
# with VBMI the depthwise kernel with four taps per step); AArch64
# with dotprod sdot (u8 activations shifted by -128), with i8mm usdot (usmmla in matrix
# products of more than one row). x86 code runs in
# process where the host has the feature (`quarc run`); AArch64 executables run under
# qemu-aarch64 and must give the same integers.
TARGETS = [
    pytest.param("x86_64", "sse4_2", id="x86_64"),
    pytest.param("x86_64+avx2", "avx2", id="avx2"),
    pytest.param("x86_64+avx512f", "avx512f", id="avx512f"),
    pytest.param("x86_64+avx512vnni", "avx512_vnni", id="avx512vnni"),
    pytest.param("x86_64+avx512vnni+avx512vbmi", "avx512_vnni avx512vbmi",
                 id="avx512vnni-vbmi"),
    pytest.param("aarch64+dotprod", None, id="aarch64-dotprod"),
    pytest.param("aarch64+i8mm", None, id="aarch64-i8mm"),
]


@pytest.mark.parametrize("target,feature", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_integer_op_is_bit_exact(case, target, feature, quarc_driver, tmp_path):
    if reason := quarc_tools.cannot_run_target(target, feature):
        pytest.skip(reason)
    p = make_problem(case)
    expected, acc = reference(p)
    quantized = case.out != "f32"
    model_path = tmp_path / f"{case.name}.onnx"
    onnx.save(build_model(p, expected.shape), model_path)

    line = folded_op_line(model_path, case.op)
    result_type = line.rsplit("->", 1)[1]
    assert ("!quant.uniform" in result_type) == quantized, line
    assert ("clamp_min" in line) == (case.activation is not None), line

    np.save(tmp_path / "x.npy", p.x)
    code, err = quarc_tools.run_for_target(model_path, target, [f"x={tmp_path / 'x.npy'}"],
                                           tmp_path / "out")
    assert code == 0, err
    actual = np.load(tmp_path / "out" / f"{'yq' if quantized else 'y'}.npy")
    assert actual.shape == expected.shape
    assert actual.dtype == (np.float32 if case.out == "f32" else case.out)
    assert np.array_equal(actual, expected), describe_mismatch(actual, expected, acc)

    # The cases are meant to exercise what their names say.
    if quantized:
        qmin, qmax = RANGES[case.out]
        saturated = np.mean((expected == qmin) | (expected == qmax))
        if case.activation is None:  # an activation's clamp saturates by design
            assert (saturated > 0.2) == (case.out_fill < 1), saturated
        assert len(np.unique(expected)) > min((qmax - qmin) // 4, expected.size // 4)
    if case.pow2_scales:
        acc_scales = channel_params(p)[1]
        axis = 1 if case.op == "Conv" else acc.ndim - 1
        halves = exact_halves(acc, acc_scales, axis, p.so)
        assert halves > acc.size // 20
    xq = np.rint(p.x / p.sx) + case.zx
    if case.saturating_pairs:
        # Some pair of inputs times its pair of weights passes the i16 range.
        stored = np.clip(xq, *RANGES[case.act])
        pair_sums = (stored[:, 0::2] + stored[:, 1::2]).max(axis=(0, 2, 3))
        magnitudes = np.abs(p.w.astype(np.int64)[:, 0::2]).max(axis=(0, 2, 3))
        assert (pair_sums * magnitudes).max() > 32767
    beyond = np.mean((xq < RANGES[case.act][0]) | (xq > RANGES[case.act][1]))
    assert (beyond > 0.05) == (case.in_fill > 1), beyond


@pytest.mark.parametrize("case", [c for c in CASES if c.op == "Conv"], ids=str)
def test_winograd_where_expected(case, quarc_driver, tmp_path):
    """For x86_64+avx2 the cases marked `winograd` run as Winograd F(2x2, 3x3), the others
    on the direct kernels, so that test_integer_op_is_bit_exact covers both paths."""
    p = make_problem(case)
    expected, _ = reference(p)
    model_path = tmp_path / f"{case.name}.onnx"
    onnx.save(build_model(p, expected.shape), model_path)
    ir_path = tmp_path / "model.ll"
    code, _, err = quarc("compile", model_path, "-o", ir_path, "--target=x86_64+avx2")
    assert code == 0, err
    assert ("@__winograd_filter" in ir_path.read_text()) == case.winograd


@pytest.mark.parametrize("case", [c for c in CASES if c.out != "f32"], ids=str)
def test_reference_agrees_with_onnxruntime(case):
    """onnxruntime's QDQ model as written (dequantize, float op, quantize) rounds the float
    result once: within one step of the reference, and mostly equal.

    Its graph optimizations are off: they fuse the QDQ groups into QLinearConv/QLinearMatMul,
    whose u8 x s8 kernels on AVX2 without VNNI (pmaddubsw) saturate pairs of products at
    int16 and are off by tens of steps for uint8 activations with 8-bit weights."""
    ort = pytest.importorskip("onnxruntime")
    p = make_problem(case)
    expected, acc = reference(p)
    model = build_model(p, expected.shape)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    theirs = session.run(None, {"x": p.x})[0].astype(np.int64)
    diff = np.abs(theirs - expected)
    assert diff.max() <= 1, describe_mismatch(theirs, expected, acc, who="onnxruntime")
    assert np.mean(diff == 0) >= 0.95, np.mean(diff == 0)
