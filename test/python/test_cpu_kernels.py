"""The CPU kernels on single-op models, checked against onnxruntime.

quarc-convolution-to-matmul, quarc-vectorize-matmul and quarc-vectorize-depthwise
generate their code from the shapes: tile remainders, k blocks, strides and
dilations each take another path. Almost every case here is one ONNX op (Conv,
MatMul, Gemm) with shapes chosen to reach such a path, on smooth images plus
noise; a few chain convolutions, or a convolution and an elementwise op, so that
what the kernels do to their output (the fill they remove) is seen by consumers:

* test_matches_onnxruntime: `quarc run` (the host target) per case;
* test_kernel_is_generated: the LLVM IR for x86_64+avx2 has the kernel's vector
  multiply-adds (a case the kernels should take must not silently fall back to
  the scalar loops, which would pass the numerical test too);
* test_other_targets: all cases in one model, compiled for the other register
  tiles (x86_64 SSE without FMA, AArch64 under qemu, AVX-512) and run as an
  executable where this machine can run it (else only compiled).

|quarc - onnxruntime| <= REL_TOL * max(1, max |onnxruntime|), per output.
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import quarc_tools

pytest.importorskip("onnxruntime")  # the reference (quarc_tools.onnxruntime_reference)

REL_TOL = 1e-4
OPSET = 17
COMPILE_TIMEOUT_S = 300

QEMU = quarc_tools.QEMU_AARCH64
AARCH64_SYSROOT = quarc_tools.AARCH64_SYSROOT


# ---------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    """One op (or a few): its nodes, graph inputs (with the values to feed) and weights."""
    id: str
    nodes: list
    inputs: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    outputs: list[str]
    # The generated kernel the op must run on ("matmul", "depthwise"), or None
    # where the kernels do not take it (the scalar loops run it).
    kernel: str | None


def _rng(case_id: str) -> np.random.Generator:
    """A fixed seed per case: stable across runs, independent of the case order."""
    seed = 0
    for char in case_id.encode():
        seed = (seed * 131 + char) % (2**31 - 1)
    return np.random.default_rng(seed)


def smooth_images(rng: np.random.Generator, shape) -> np.ndarray:
    """NCHW (or NCW) images: a few low-frequency waves per channel plus noise."""
    *lead, height, width = shape if len(shape) == 4 else (*shape[:2], 1, shape[2])
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    images = np.zeros((*lead, height, width))
    for index in np.ndindex(*lead):
        fy, fx = rng.uniform(0.5, 4.0, 2)
        phase = rng.uniform(0, 2 * np.pi)
        images[index] = (np.sin(2 * np.pi * (fy * y + fx * x) + phase)
                         + 0.5 * np.cos(2 * np.pi * fx * x * y))
    images += 0.1 * rng.standard_normal(images.shape)
    return images.reshape(shape).astype(np.float32)


def weights(rng: np.random.Generator, shape, fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


def conv_case(case_id: str, n: int, c: int, hw, f: int, kernel, *, strides=1, dilations=1,
              pads=0, group: int = 1, bias: bool = True, expect: str | None = "matmul") -> Case:
    """Conv of an [n, c, *hw] image (2-D, or 1-D for a single spatial size)."""
    rng = _rng(case_id)
    spatial = len(hw)
    kernel = [kernel] * spatial if isinstance(kernel, int) else list(kernel)
    strides = [strides] * spatial if isinstance(strides, int) else list(strides)
    dilations = [dilations] * spatial if isinstance(dilations, int) else list(dilations)
    pads = [pads] * (2 * spatial) if isinstance(pads, int) else list(pads)
    x = smooth_images(rng, (n, c, *hw))
    w = weights(rng, (f, c // group, *kernel), c // group * int(np.prod(kernel)))
    inputs = ["x", "w"]
    params = {"w": w}
    if bias:
        params["b"] = rng.uniform(-0.5, 0.5, f).astype(np.float32)
        inputs.append("b")
    node = helper.make_node("Conv", inputs, ["y"], kernel_shape=kernel, strides=strides,
                            dilations=dilations, pads=pads, group=group)
    return Case(case_id, [node], {"x": x}, params, ["y"], expect)


def conv_output_size(hw, kernel, strides, dilations, pads) -> list[int]:
    """The spatial output size of an ONNX Conv (pads: begins, then ends)."""
    spatial = len(hw)
    return [(hw[d] + pads[d] + pads[spatial + d] - dilations[d] * (kernel[d] - 1) - 1)
            // strides[d] + 1 for d in range(spatial)]


def conv_chain_case(case_id: str, n: int, c: int, hw, layers: list[dict], *,
                    tail: str | None = None, outputs: str = "last",
                    expect: str | None = "matmul") -> Case:
    """Convs in a row on an [n, c, *hw] image, then optionally an elementwise op.

    Each layer is a dict with f and kernel, and optionally strides, dilations, pads
    and bias (as in conv_case). `tail`: "relu" (Relu of the last conv) or "add" (Add
    of the last conv and another graph input of its shape). `outputs`: "last" (the
    last node's output) or "all" (every node's output: the intermediate ones are
    graph outputs as well as read by the next node).
    """
    rng = _rng(case_id)
    spatial = len(hw)
    x = smooth_images(rng, (n, c, *hw))
    inputs = {"x": x}
    params = {}
    nodes = []
    source, channels, size = "x", c, list(hw)
    for index, layer in enumerate(layers):
        f = layer["f"]
        kernel = layer["kernel"]
        kernel = [kernel] * spatial if isinstance(kernel, int) else list(kernel)
        strides = layer.get("strides", 1)
        strides = [strides] * spatial if isinstance(strides, int) else list(strides)
        dilations = layer.get("dilations", 1)
        dilations = [dilations] * spatial if isinstance(dilations, int) else list(dilations)
        pads = layer.get("pads", 0)
        pads = [pads] * (2 * spatial) if isinstance(pads, int) else list(pads)
        w_name, b_name, y_name = f"w{index}", f"b{index}", f"y{index}"
        params[w_name] = weights(rng, (f, channels, *kernel), channels * int(np.prod(kernel)))
        node_inputs = [source, w_name]
        if layer.get("bias", True):
            params[b_name] = rng.uniform(-0.5, 0.5, f).astype(np.float32)
            node_inputs.append(b_name)
        nodes.append(helper.make_node("Conv", node_inputs, [y_name], kernel_shape=kernel,
                                      strides=strides, dilations=dilations, pads=pads))
        source, channels = y_name, f
        size = conv_output_size(size, kernel, strides, dilations, pads)
    if tail == "relu":
        nodes.append(helper.make_node("Relu", [source], ["z"]))
    elif tail == "add":
        inputs["other"] = smooth_images(rng, (n, channels, *size))
        nodes.append(helper.make_node("Add", [source, "other"], ["z"]))
    elif tail is not None:
        raise ValueError(f"unknown tail {tail!r}")
    names = [name for node in nodes for name in node.output]
    return Case(case_id, nodes, inputs, params, names if outputs == "all" else names[-1:],
                expect)


def depthwise_case(case_id: str, n: int, c: int, hw, kernel, **kwargs) -> Case:
    kwargs.setdefault("expect", "depthwise")
    return conv_case(case_id, n, c, hw, c, kernel, group=c, **kwargs)


def matmul_case(case_id: str, a_shape, b_shape, *, b_is_input: bool = False,
                expect: str | None = "matmul") -> Case:
    rng = _rng(case_id)
    a = smooth_images(rng, (1, 1, *a_shape[-2:]))
    a = np.broadcast_to(a.reshape(a_shape[-2:]), a_shape).copy()
    a += 0.1 * rng.standard_normal(a_shape).astype(np.float32)
    b = weights(rng, b_shape, b_shape[-2])
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    if b_is_input:
        return Case(case_id, [node], {"a": a, "b": b}, {}, ["y"], expect)
    return Case(case_id, [node], {"a": a}, {"b": b}, ["y"], expect)


def gemm_case(case_id: str, m: int, k: int, n: int, *, trans_a: int = 0, trans_b: int = 0,
              alpha: float = 1.0, beta: float = 1.0, expect: str | None = "matmul") -> Case:
    rng = _rng(case_id)
    a = smooth_images(rng, (1, 1, m, k)).reshape(m, k)
    if trans_a:
        a = np.ascontiguousarray(a.T)
    b = weights(rng, (n, k) if trans_b else (k, n), k)
    bias = rng.uniform(-0.5, 0.5, n).astype(np.float32)
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=trans_a, transB=trans_b,
                            alpha=alpha, beta=beta)
    return Case(case_id, [node], {"a": a}, {"b": b, "c": bias}, ["y"], expect)


CASES = [
    # Dense convolutions: pointwise (no window copy), im2col, and direct (output rows
    # >= 16 wide with unit stride along the width: conv3x3_pad1_c8_f16_15x20,
    # conv5x5_pad2_c16_f17_15x20, conv3x1_c8_f5_15x20, conv1d_k3_pad1_c8_f13_w33).
    conv_case("conv1x1_c16_f13_7x9", 1, 16, (7, 9), 13, 1),
    conv_case("conv1x1_c300_f17_15x20_batch2", 2, 300, (15, 20), 17, 1),  # K = 300: k blocks
    conv_case("conv1x1_s2_c8_f5_15x20", 1, 8, (15, 20), 5, 1, strides=2),
    conv_case("conv3x3_pad1_c8_f16_15x20", 1, 8, (15, 20), 16, 3, pads=1),
    conv_case("conv3x3_s2_pad1_c32_f17_15x20_batch2", 2, 32, (15, 20), 17, 3, strides=2,
              pads=1),  # K = 288
    conv_case("conv3x3_dil2_pad2_c12_f5_7x9", 1, 12, (7, 9), 5, 3, dilations=2, pads=2),
    conv_case("conv3x3_c64_f24_10x10_nobias", 1, 64, (10, 10), 24, 3,
              bias=False),  # K = 576: a loop over k blocks
    conv_case("conv5x5_pad2_c16_f17_15x20", 1, 16, (15, 20), 17, 5, pads=2),  # K = 400
    conv_case("conv5x5_s2_pads1221_c3_f16_33x19", 1, 3, (33, 19), 16, 5, strides=2,
              pads=[1, 2, 2, 1]),
    conv_case("conv3x3_s2_c4_f13_7x9", 1, 4, (7, 9), 13, 3, strides=2),
    conv_case("conv3x3_s1x2_dil2x1_pad2x1_c6_f13_15x20", 1, 6, (15, 20), 13, 3,
              strides=[1, 2], dilations=[2, 1], pads=[2, 1, 2, 1]),
    conv_case("conv3x1_c8_f5_15x20", 1, 8, (15, 20), 5, (3, 1), pads=[1, 0, 1, 0]),
    conv_case("conv1d_k3_pad1_c8_f13_w33", 2, 8, (33,), 13, 3, pads=1),
    # Direct convolution (implicit GEMM, quarc-vectorize-matmul): a window larger
    # than 1x1, unit stride along the width, output rows >= 16 wide. AVX2 tiles are
    # 4 output channels x 24 output columns; k = (input channel, kernel row, kernel
    # column) is blocked along input channels, 28 channels per block for 3x3.
    # Column tiles, 3x3 pad 1 (output width = input width):
    conv_case("direct3x3_pad1_c4_f8_6x16", 1, 4, (6, 16), 8, 3,
              pads=1),  # 16 columns: a single tile narrower than 24, no whole tile
    conv_case("direct3x3_pad1_c4_f8_6x24", 1, 4, (6, 24), 8, 3, pads=1),  # 1 whole tile
    conv_case("direct3x3_pad1_c4_f8_5x48", 1, 4, (5, 48), 8, 3, pads=1),  # 2 whole tiles
    conv_case("direct3x3_pad1_c4_f8_6x25", 1, 4, (6, 25), 8, 3,
              pads=1),  # 1 whole tile + a remainder of 1 column (vector<1xf32>)
    conv_case("direct3x3_pad1_c4_f8_6x40", 1, 4, (6, 40), 8, 3,
              pads=1),  # 1 whole tile + a remainder of 16 (two full registers)
    conv_case("direct3x3_pad1_c3_f8_4x161", 1, 3, (4, 161), 8, 3,
              pads=1),  # 6 whole tiles + a remainder of 17 (8 + 8 + 1 lanes)
    # k blocks (28 input channels for 3x3) and row tiles (4 output channels):
    conv_case("direct3x3_pad1_c96_f17_6x30", 1, 96, (6, 30), 17, 3,
              pads=1),  # k blocks 28+28+28+12; F = 4*4 + 1; columns 24 + 6
    conv_case("direct3x3_pad1_c29_f5_8x24", 1, 29, (8, 24), 5, 3,
              pads=1),  # k blocks 28 + 1; F = 4 + 1
    conv_case("direct3x3_c29_f1_8x26_nobias", 1, 29, (8, 26), 1, 3,
              bias=False),  # k blocks 28 + 1, one output channel, from the zero fill
    conv_case("direct3x3_pad1_c28_f6_6x20", 1, 28, (6, 20), 6, 3,
              pads=1),  # exactly one k block (no block loop); F = 4 + 2
    conv_case("direct3x3_pad1_c56_f7_6x24_nobias", 1, 56, (6, 24), 7, 3, pads=1,
              bias=False),  # two whole k blocks, the first from the zero fill; F = 4 + 3
    # Strides along the height, dilations, pads:
    conv_case("direct3x3_s2x1_pad1_c8_f13_15x20", 1, 8, (15, 20), 13, 3, strides=[2, 1],
              pads=1),  # stride 2 along the height only: still direct
    conv_case("direct3x3_s3x1_c6_f5_14x18", 1, 6, (14, 18), 5, 3,
              strides=[3, 1]),  # stride 3 along the height, last input row unread
    conv_case("direct3x3_dil1x2_pad1x2_c8_f5_9x24", 1, 8, (9, 24), 5, 3, dilations=[1, 2],
              pads=[1, 2, 1, 2]),  # dilation 2 along the width: B rows offset by 2j
    conv_case("direct3x3_dil2_pad2_c6_f8_9x20", 1, 6, (9, 20), 8, 3, dilations=2,
              pads=2),  # dilation 2 along both
    conv_case("direct3x3_pads0213_c5_f9_8x18", 1, 5, (8, 18), 9, 3,
              pads=[0, 2, 1, 3]),  # asymmetric pads: output 7 x 21
    conv_case("direct3x3_s2x1_dil2_pads2130_c7_f6_13x22", 1, 7, (13, 22), 6, 3,
              strides=[2, 1], dilations=2, pads=[2, 1, 3, 0],
              bias=False),  # all together, asymmetric pads, from the zero fill
    # Batches (image and output row are both dims of the parallel loop):
    conv_case("direct3x3_pad1_c8_f8_6x20_batch2", 2, 8, (6, 20), 8, 3, pads=1),
    conv_case("direct3x3_pad1_c5_f7_5x33_batch3_nobias", 3, 5, (5, 33), 7, 3, pads=1,
              bias=False),  # 3 images, 24 + 9 columns, from the zero fill
    # 1-D (an image of height 1):
    conv_case("direct1d_k5_pad2_c16_f9_w40_batch3", 3, 16, (40,), 9, 5, pads=2),
    conv_case("direct1d_k3_dil2_c8_f4_w64", 1, 8, (64,), 4, 3, dilations=2),  # output 60
    # Other windows: k blocks of 10 channels (5x5), 5 (7x7), 85 (1x3, 3x1):
    conv_case("direct5x5_pad2_c12_f8_8x24", 1, 12, (8, 24), 8, 5, pads=2),  # blocks 10 + 2
    conv_case("direct7x7_pad3_c11_f6_9x20", 1, 11, (9, 20), 6, 7,
              pads=3),  # k blocks 5 + 5 + 1
    conv_case("direct1x3_pad0x1_c8_f5_6x32", 1, 8, (6, 32), 5, (1, 3), pads=[0, 1, 0, 1]),
    conv_case("direct3x1_pad1x0_c90_f13_6x24", 1, 90, (6, 24), 13, (3, 1),
              pads=[1, 0, 1, 0]),  # k blocks 85 + 5
    # Not direct: im2col, then the matmul kernel.
    conv_case("im2col3x3_s1x2_pad1_c8_f13_9x40", 1, 8, (9, 40), 13, 3, strides=[1, 2],
              pads=1),  # stride 2 along the width (output 9 x 20)
    conv_case("im2col3x3_pad1_c8_f13_9x15_narrow", 1, 8, (9, 15), 13, 3,
              pads=1),  # output rows 15 wide: fewer than 16
    # Direct convolutions in a graph: the fill removed and the kernel's stores must
    # leave the consumers right.
    conv_chain_case("direct_conv_conv_nobias_c8_10x24", 1, 8, (10, 24),
                    [dict(f=16, kernel=3, pads=1, bias=False),
                     dict(f=13, kernel=3, pads=1, bias=False)]),  # two zero fills
    conv_chain_case("direct_conv5x5_conv3x3_c6_12x28", 1, 6, (12, 28),
                    [dict(f=8, kernel=5, pads=2),
                     dict(f=5, kernel=3, bias=False)]),  # second: no pad, 10 x 26
    conv_chain_case("direct_conv_relu_nobias_c16_f17_12x20", 1, 16, (12, 20),
                    [dict(f=17, kernel=3, pads=1, bias=False)], tail="relu"),
    conv_chain_case("direct_conv_relu_c8_f8_6x30_batch2", 2, 8, (6, 30),
                    [dict(f=8, kernel=3, pads=1)], tail="relu"),
    conv_chain_case("direct_conv_add_c8_f8_8x24_both_outputs", 1, 8, (8, 24),
                    [dict(f=8, kernel=3, pads=1)], tail="add",
                    outputs="all"),  # the conv's output is read by Add and a graph output
    conv_chain_case("direct_conv_add_nobias_c12_f6_7x25", 1, 12, (7, 25),
                    [dict(f=6, kernel=3, pads=1, bias=False)], tail="add"),
    # Fewer output pixels (4) than an AVX2 register: the scalar loops.
    conv_case("conv3x3_c8_f5_4x4_narrow", 1, 8, (4, 4), 5, 3, expect=None),
    # Batches of images with fewer than 32 output pixels: one product whose columns
    # are the pixels of all images (an im2col buffer [C*KH*KW, N*OH*OW]), added to
    # the NCHW output by a transposing pass. Frames of a signal, as in a voice
    # activity detector (a fixed-basis STFT, then narrow 1-D convs).
    conv_case("frames1d_k256_s128_c1_f33_w832_batch20", 20, 1, (832,), 33, 256,
              strides=128),  # 5 pixels per image
    conv_case("frames1d_k3_pad1_c17_f9_w4_batch30", 30, 17, (4,), 9, 3, pads=1),
    conv_case("frames3x3_c8_f5_4x4_batch6_nobias", 6, 8, (4, 4), 5, 3, bias=False),
    conv_case("frames1x1_c16_f7_3x5_batch4", 4, 16, (3, 5), 7, 1),  # the copy transposes
    conv_chain_case("frames_conv_conv_relu_c4_w5_batch8", 8, 4, (5,),
                    [dict(f=6, kernel=3, pads=1), dict(f=3, kernel=3, strides=2)],
                    tail="relu", outputs="all"),
    # Grouped (conv_2d_ngchw_gfchw): the direct kernel with the group as a batch dim.
    conv_case("conv3x3_group2_c8_f6_15x20", 1, 8, (15, 20), 6, 3, pads=1, group=2),
    conv_case("conv3x3_group3_c12_f9_9x40_batch2", 2, 12, (9, 40), 9, 3, pads=1, group=3,
              bias=False),  # 40 columns = 24 + 16, 3 output channels per group
    conv_case("conv5x5_group2_s2x1_c32_f10_11x30", 1, 32, (11, 30), 10, 5, strides=[2, 1],
              pads=2, group=2),
    # Stride 2 along the width: no kernel for grouped convolutions (no im2col path).
    conv_case("conv3x3_group2_s2_c8_f6_15x20", 1, 8, (15, 20), 6, 3, strides=2, pads=1,
              group=2, expect=None),
    # Depthwise.
    depthwise_case("dw3x3_pad1_c8_19x19", 1, 8, (19, 19), 3, pads=1),
    depthwise_case("dw3x3_s2_pad1_c16_33x33", 1, 16, (33, 33), 3, strides=2, pads=1),
    depthwise_case("dw5x5_pad2_c8_19x19", 1, 8, (19, 19), 5, pads=2),
    depthwise_case("dw5x5_s2_pad2_c6_33x19", 1, 6, (33, 19), 5, strides=2, pads=2),
    depthwise_case("dw3x3_dil2_pad2_c8_19x19", 1, 8, (19, 19), 3, dilations=2, pads=2),
    depthwise_case("dw3x3_s2_c4_19x19_nobias", 1, 4, (19, 19), 3, strides=2, bias=False),
    depthwise_case("dw3x3_s3_pad1_c4_19x33", 1, 4, (19, 33), 3, strides=3, pads=1),
    depthwise_case("dw3x3_s1x2_pad1_c5_15x33_batch2", 2, 5, (15, 33), 3, strides=[1, 2],
                   pads=1),
    depthwise_case("dw5x5_s2_dil2_pads_c3_33x33", 1, 3, (33, 33), 5, strides=2, dilations=2,
                   pads=[4, 3, 4, 3]),
    # A channel multiplier of 2 is a grouped convolution (2 output channels per
    # group), not a depthwise one: the direct kernel with 2-row tiles.
    conv_case("dw3x3_multiplier2_c4_f8_19x19", 1, 4, (19, 19), 8, 3, pads=1, group=4),
    # MatMul and Gemm.
    matmul_case("matmul_5x300_300x29", (5, 300), (300, 29)),
    matmul_case("matmul_2x3x17x64_64x40", (2, 3, 17, 64), (64, 40)),
    matmul_case("matmul_1x600_600x96", (1, 600), (600, 96)),
    matmul_case("matmul_batched_3x7x33_3x33x50_inputs", (3, 7, 33), (3, 33, 50),
                b_is_input=True),
    matmul_case("matmul_13x24_24x8_inputs", (13, 24), (24, 8), b_is_input=True),
    matmul_case("matmul_9x16_16x5_narrow", (9, 16), (16, 5), expect=None),
    # Few column tiles and many rows: the parallel loop also splits rows into blocks
    # (100 rows = 36 + 36 + 28; 512 = 16 blocks of 32 rows).
    matmul_case("matmul_100x64_64x24_row_blocks", (100, 64), (64, 24)),
    conv_case("conv1x1_c64_f512_7x7_row_blocks", 1, 64, (7, 7), 512, 1),
    conv_case("conv3x3_pad1_c32_f100_5x20_row_blocks", 1, 32, (5, 20), 100, 3, pads=1),
    gemm_case("gemm_13x70x37", 13, 70, 37, alpha=0.5, beta=2.0),
    gemm_case("gemm_transA_11x40x29", 11, 40, 29, trans_a=1),
    # transB: B is read as (n, k); quarc-simplify-layout transposes the constant at
    # compile time, so the kernel reads it contiguous along n.
    gemm_case("gemm_transB_7x64x30", 7, 64, 30, trans_b=1),
]

CASE_IDS = [case.id for case in CASES]


def make_model(cases: list[Case], prefix: bool, dynamic_batch: bool = False) -> onnx.ModelProto:
    """One graph with every case's nodes; names get the case id as prefix when `prefix`.

    `dynamic_batch`: the inputs' first dim is symbolic ("N"), as exporters write a batch.
    """
    nodes, inputs, outputs, initializers = [], [], [], []
    for case in cases:
        rename = (lambda name, case=case: f"{case.id}.{name}") if prefix else (lambda name: name)
        for index, node in enumerate(case.nodes):
            copy = onnx.NodeProto()
            copy.CopyFrom(node)
            copy.name = case.id if len(case.nodes) == 1 else f"{case.id}.{index}"
            copy.input[:] = [rename(name) for name in node.input]
            copy.output[:] = [rename(name) for name in node.output]
            nodes.append(copy)
        for name, value in case.inputs.items():
            shape = ["N", *value.shape[1:]] if dynamic_batch else list(value.shape)
            inputs.append(helper.make_tensor_value_info(rename(name), TensorProto.FLOAT, shape))
        for name, value in case.weights.items():
            initializers.append(numpy_helper.from_array(value, rename(name)))
        for name in case.outputs:
            outputs.append(helper.make_tensor_value_info(rename(name), TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, "cpu_kernels", inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    # Shape inference gives the outputs their shapes (onnx.checker wants them).
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model)
    return model


def feeds(cases: list[Case], prefix: bool) -> dict[str, np.ndarray]:
    return {(f"{case.id}.{name}" if prefix else name): value
            for case in cases for name, value in case.inputs.items()}


reference = quarc_tools.onnxruntime_reference


def check_quarc(what: str, code: int, stderr: str) -> None:
    if quarc_tools.is_crash(code, stderr):
        pytest.fail(f"{what} crashed: {quarc_tools.crash_summary(code, stderr)}")
    if code != 0:
        pytest.fail(f"{what} failed (exit {code}): {quarc_tools.first_error_line(stderr)}")


def save_inputs(folder: Path, inputs: dict[str, np.ndarray]) -> list[str]:
    flags = []
    for name, value in inputs.items():
        path = folder / ("in_" + quarc_tools.output_file_name(name))
        np.save(path, value)
        flags += ["--input", f"{name}={path}"]
    return flags


def mismatch(name: str, got: np.ndarray | None, expected: np.ndarray) -> str | None:
    """Why `got` does not match onnxruntime's `expected`, or None when it does."""
    if got is None:
        return f"{name}: no output written"
    if got.shape != expected.shape:
        return f"{name}: shape {got.shape}, onnxruntime {expected.shape}"
    if not np.all(np.isfinite(got)):
        return f"{name}: {np.count_nonzero(~np.isfinite(got))} non-finite values"
    error = np.abs(got.astype(np.float64) - expected)
    bound = REL_TOL * max(1.0, float(np.max(np.abs(expected))))
    if error.max() > bound:
        where = np.unravel_index(np.argmax(error), error.shape)
        bad = np.count_nonzero(error > bound)
        return (f"{name}: max error {error.max():.3g} > {bound:.3g} at {where} "
                f"(quarc {got[where]:.6g}, onnxruntime {expected[where]:.6g}); "
                f"{bad} of {error.size} elements off")
    return None


@pytest.fixture(scope="module")
def case_files(tmp_path_factory, quarc_driver):
    """Each case's model, input files and onnxruntime outputs, written once."""
    root = tmp_path_factory.mktemp("cpu-kernels")

    @functools.lru_cache(maxsize=None)
    def files(case_id: str):
        case = CASES[CASE_IDS.index(case_id)]
        folder = root / case.id
        folder.mkdir()
        path = folder / "model.onnx"
        onnx.save(make_model([case], prefix=False), str(path))
        inputs = feeds([case], prefix=False)
        return folder, path, save_inputs(folder, inputs), reference(path, inputs)

    return files


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_matches_onnxruntime(case_files, case_id):
    folder, model, input_flags, expected = case_files(case_id)
    out = folder / "run-out"
    code, _, err = quarc_tools.run_quarc(["run", model] + input_flags + ["--output-dir", out],
                                         timeout=COMPILE_TIMEOUT_S)
    check_quarc("quarc run", code, err)
    got = quarc_tools.read_outputs(out, expected)
    problems = [p for name in expected if (p := mismatch(name, got.get(name), expected[name]))]
    assert not problems, "\n".join(problems)


# `vector.fma` becomes llvm.fmuladd on vectors; the scalar loops of
# convert-linalg-to-loops have only scalar fmul/fadd in the unoptimized IR.
VECTOR_FMA = re.compile(r"@llvm\.fmuladd\.v(\d+)f32\(")
# Stride 2, 8 lanes: the even elements of two overlapping loads.
EVEN_ELEMENTS = re.compile(r"shufflevector <8 x float> %\d+, <8 x float> %\d+, <8 x i32> "
                           r"<i32 0, i32 2, i32 4, i32 6, i32 9, i32 11, i32 13, i32 15>")


@pytest.mark.parametrize("case_id", [c.id for c in CASES if c.kernel])
def test_kernel_is_generated(case_files, case_id):
    """The case runs on its generated kernel for x86_64+avx2 (8 lanes)."""
    case = CASES[CASE_IDS.index(case_id)]
    folder, model, _, _ = case_files(case_id)
    ir_path = folder / "model.ll"
    code, _, err = quarc_tools.run_quarc(["compile", model, "-o", ir_path,
                                          "--target=x86_64+avx2"], timeout=COMPILE_TIMEOUT_S)
    check_quarc("quarc compile", code, err)
    ir = ir_path.read_text()
    widths = {int(w) for w in VECTOR_FMA.findall(ir)}
    assert widths, f"no vector multiply-add in the LLVM IR: {case.kernel} kernel not generated"
    assert max(widths) <= 8, f"vectors wider than AVX2 registers: {sorted(widths)}"
    strides = next((list(a.ints) for a in case.nodes[0].attribute if a.name == "strides"), [1])
    if case.kernel == "depthwise" and strides[-1] == 2:
        assert EVEN_ELEMENTS.search(ir), "stride 2 without the even-element shuffle"


# ---------------------------------------------------------------------------
# A dynamic batch: the kernels loop over the images whatever their number

# Convolutions whose first input dim is the batch, one per path of the kernels,
# and matrix products whose first dim is their rows.
DYNAMIC_BATCH_CASES = [
    "conv1x1_c300_f17_15x20_batch2",  # pointwise: the input is the matrix
    "conv3x3_s2_pad1_c32_f17_15x20_batch2",  # im2col
    "direct3x3_pad1_c5_f7_5x33_batch3_nobias",  # direct (implicit GEMM)
    "direct1d_k5_pad2_c16_f9_w40_batch3",
    "direct_conv_relu_c8_f8_6x30_batch2",  # with a consumer
    "conv3x3_group3_c12_f9_9x40_batch2",  # grouped
    "dw3x3_s1x2_pad1_c5_15x33_batch2",  # depthwise
    # Products whose rows are the dynamic dim (a Gemm's batch): whole row tiles,
    # then a remainder tile of the height the run has.
    "gemm_13x70x37",
    "matmul_5x300_300x29",  # k blocks, packed B
    "matmul_100x64_64x24_row_blocks",
]


@pytest.mark.parametrize("case_id", DYNAMIC_BATCH_CASES)
def test_dynamic_batch(tmp_path, quarc_driver, case_id):
    """Compiled with the batch dim left symbolic, the case runs on its kernel (vector
    multiply-adds in the LLVM IR) and matches onnxruntime at its own batch and at 1."""
    case = CASES[CASE_IDS.index(case_id)]
    path = tmp_path / "model.onnx"
    onnx.save(make_model([case], prefix=False, dynamic_batch=True), str(path))
    ir_path = tmp_path / "model.ll"
    code, _, err = quarc_tools.run_quarc(["compile", path, "-o", ir_path,
                                          "--target=x86_64+avx2"], timeout=COMPILE_TIMEOUT_S)
    check_quarc("quarc compile", code, err)
    assert VECTOR_FMA.search(ir_path.read_text()), "kernel not generated for a dynamic batch"
    exe = tmp_path / "model"
    code, _, err = quarc_tools.run_quarc(["compile", path, "-o", exe],
                                         timeout=COMPILE_TIMEOUT_S)
    check_quarc("quarc compile", code, err)
    for batch in (case.inputs, {k: v[:1] for k, v in case.inputs.items()}):
        folder = tmp_path / f"batch{next(iter(batch.values())).shape[0]}"
        folder.mkdir()
        flags = save_inputs(folder, batch)
        expected = reference(path, batch)
        code, _, err = quarc_tools.run_tool([str(exe), *flags, "--output-dir", str(folder)])
        check_quarc("the executable", code, err)
        got = quarc_tools.read_outputs(folder, expected)
        problems = [p for name in expected if (p := mismatch(name, got.get(name), expected[name]))]
        assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# Every case in one model, for the register tiles of the other targets


def can_run_aarch64() -> bool:
    return quarc_tools.aarch64_runner() is not None


# (target, command prefix that runs its executables, whether this machine can run them).
# A target the machine cannot run is still compiled (the code generator must not fail).
TARGETS = [
    pytest.param("x86_64", [], True, id="x86_64-sse"),
    pytest.param("x86_64+avx512f", [], quarc_tools.host_has("avx512f"), id="x86_64-avx512f"),
    pytest.param("aarch64", [QEMU, "-L", str(AARCH64_SYSROOT)], can_run_aarch64(), id="aarch64",
                 marks=pytest.mark.skipif(not quarc_tools.aarch64_runtime(),
                                          reason="no AArch64 runtime (scripts/setup.sh)")),
]


@pytest.fixture(scope="module")
def combined(tmp_path_factory, quarc_driver):
    """All cases as one model, its input files and onnxruntime's outputs."""
    folder = tmp_path_factory.mktemp("cpu-kernels-all")
    path = folder / "all.onnx"
    onnx.save(make_model(CASES, prefix=True), str(path))
    inputs = feeds(CASES, prefix=True)
    return folder, path, save_inputs(folder, inputs), reference(path, inputs)


@pytest.mark.parametrize("target,runner,runnable", TARGETS)
def test_other_targets(combined, target, runner, runnable):
    folder, model, input_flags, expected = combined
    stem = re.sub(r"\W", "_", target)
    exe = folder / f"model_{stem}"
    code, _, err = quarc_tools.run_quarc(["compile", model, "-o", exe, f"--target={target}"],
                                         timeout=COMPILE_TIMEOUT_S)
    check_quarc(f"quarc compile --target={target}", code, err)
    if not runnable:
        pytest.skip(f"compiled; this machine cannot run {target} code")
    out = folder / f"out_{stem}"
    code, _, err = quarc_tools.run_tool(runner + [str(exe)] + input_flags
                                        + ["--output-dir", str(out)], timeout=COMPILE_TIMEOUT_S)
    check_quarc(f"the {target} executable", code, err)
    got = quarc_tools.read_outputs(out, expected)
    problems = [p for name in expected if (p := mismatch(name, got.get(name), expected[name]))]
    assert not problems, f"{len(problems)} of {len(expected)} outputs differ:\n" + "\n".join(
        problems)
