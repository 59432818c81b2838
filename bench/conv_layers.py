"""ResNet-50's convolutions one at a time: quarc against onnxruntime, int8 and FP32.

Every distinct convolution of ResNet-50 v1.5 at batch 1 (input channels, output
channels, kernel, stride, input size; 24 shapes) becomes two one-layer ONNX models:

* int8: a uint8 input -> DequantizeLinear -> Conv (int8 weights, per-output-channel
  scales) -> Relu -> QuantizeLinear -> uint8 output. quarc compiles it to one integer
  convolution with its output stage; onnxruntime runs it as one QLinearConv (its QDQ
  fusion), so neither engine converts floats. onnxruntime runs that QLinearConv in NHWC,
  between two Transpose nodes it adds at the model's input and output (its profiler: 10 us
  each for a 14 x 14 x 256 layer, more for larger maps): its times include them, where in
  a whole model the transposes cancel out.
  `--weight-bits 7` draws the weights from [-64, 64] (the range `reduce-range` gives):
  no pair of u8 x s8 products can then pass int16, and quarc's AVX2 kernels take
  `vpmaddubsw` instead of the exact 16-bit path that full 8-bit weights need.
* FP32: a float input -> Conv -> Relu.

Each model runs in quarc's executable (`--benchmark`) and in onnxruntime
(bench/ort_runner.py, default session options, the same intra-op thread count),
interleaved over rounds; the table has the median of the rounds' medians, the rate
(2 MACs per multiply-add) and quarc / onnxruntime, and a last row that weights every
shape by how often ResNet-50 has it. onnxruntime's times include its Python call
(about 10 us), which matters only for the smallest layers.

Prints a Markdown table with the CPU and writes bench/results/conv_layers.md.

Usage: .venv/bin/python bench/conv_layers.py [--threads 1] [--runs 20] [--rounds 3]
       [--only int8|fp32] [--weight-bits 8|7] [--layers NAME ...] [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import compare_ort  # noqa: E402  (bench scripts import each other by path)

RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Layer:
    cin: int
    cout: int
    kernel: int
    stride: int
    size: int  # input height = width
    count: int  # how many ResNet-50 has

    @property
    def name(self) -> str:
        return f"{self.kernel}x{self.kernel}s{self.stride} {self.cin}->{self.cout} @{self.size}"

    @property
    def out_size(self) -> int:
        return (self.size + 2 * (self.kernel // 2) - self.kernel) // self.stride + 1

    @property
    def macs(self) -> int:
        return self.cout * self.out_size ** 2 * self.cin * self.kernel ** 2


# ResNet-50 v1.5 (the stride on the 3x3 convolution): bench/resnet50_model.py.
RESNET50 = [
    Layer(3, 64, 7, 2, 224, 1),
    Layer(64, 64, 1, 1, 56, 1), Layer(256, 64, 1, 1, 56, 2), Layer(64, 64, 3, 1, 56, 3),
    Layer(64, 256, 1, 1, 56, 4),
    Layer(256, 128, 1, 1, 56, 1), Layer(128, 128, 3, 2, 56, 1), Layer(256, 512, 1, 2, 56, 1),
    Layer(128, 512, 1, 1, 28, 4), Layer(512, 128, 1, 1, 28, 3), Layer(128, 128, 3, 1, 28, 3),
    Layer(512, 256, 1, 1, 28, 1), Layer(256, 256, 3, 2, 28, 1), Layer(512, 1024, 1, 2, 28, 1),
    Layer(256, 1024, 1, 1, 14, 6), Layer(1024, 256, 1, 1, 14, 5), Layer(256, 256, 3, 1, 14, 5),
    Layer(1024, 512, 1, 1, 14, 1), Layer(512, 512, 3, 2, 14, 1), Layer(1024, 2048, 1, 2, 14, 1),
    Layer(512, 2048, 1, 1, 7, 3), Layer(2048, 512, 1, 1, 7, 2), Layer(512, 512, 3, 1, 7, 2),
]


def conv_node(layer: Layer, x: str, w: str, y: str) -> onnx.NodeProto:
    k, pad = layer.kernel, layer.kernel // 2
    return helper.make_node("Conv", [x, w], [y], name="conv", kernel_shape=[k, k],
                            strides=[layer.stride] * 2, pads=[pad] * 4)


def int8_model(layer: Layer, weight_bits: int) -> onnx.ModelProto:
    """u8 -> DequantizeLinear -> Conv (s8 per-channel weights) -> Relu -> QuantizeLinear."""
    rng = np.random.default_rng(layer.cin * 7919 + layer.cout * 31 + layer.size)
    high = 127 if weight_bits == 8 else 64
    weight = rng.integers(-high, high + 1, (layer.cout, layer.cin, layer.kernel, layer.kernel))
    scale_w = rng.uniform(0.002, 0.01, layer.cout).astype(np.float32)
    scale_x = 0.02
    # An output scale for the accumulators' typical spread, so that the output stage
    # neither saturates nor rounds everything to zero.
    fan_in = layer.cin * layer.kernel ** 2
    spread = float(np.sqrt(fan_in) * 60 * scale_x * scale_w.mean())
    init = [
        numpy_helper.from_array(np.float32(scale_x), "sx"),
        numpy_helper.from_array(np.uint8(128), "zx"),
        numpy_helper.from_array(weight.astype(np.int8), "w"),
        numpy_helper.from_array(scale_w, "sw"),
        numpy_helper.from_array(np.zeros(layer.cout, np.int8), "zw"),
        numpy_helper.from_array(np.float32(spread / 100), "sy"),
        numpy_helper.from_array(np.uint8(0), "zy"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["x", "sx", "zx"], ["xf"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["w", "sw", "zw"], ["wf"], name="dq_w", axis=0),
        conv_node(layer, "xf", "wf", "c"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("QuantizeLinear", ["r", "sy", "zy"], ["y"], name="q_y"),
    ]
    return graph_model(layer, nodes, init, TensorProto.UINT8)


def fp32_model(layer: Layer) -> onnx.ModelProto:
    """float -> Conv -> Relu."""
    rng = np.random.default_rng(layer.cin * 7919 + layer.cout * 31 + layer.size)
    fan_in = layer.cin * layer.kernel ** 2
    weight = rng.standard_normal((layer.cout, layer.cin, layer.kernel, layer.kernel))
    weight = (weight * np.sqrt(2.0 / fan_in)).astype(np.float32)
    nodes = [conv_node(layer, "x", "w", "c"), helper.make_node("Relu", ["c"], ["y"], name="relu")]
    return graph_model(layer, nodes, [numpy_helper.from_array(weight, "w")], TensorProto.FLOAT)


def graph_model(layer: Layer, nodes, init, elem: int) -> onnx.ModelProto:
    shape_in = [1, layer.cin, layer.size, layer.size]
    shape_out = [1, layer.cout, layer.out_size, layer.out_size]
    graph = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", elem, shape_in)],
                              [helper.make_tensor_value_info("y", elem, shape_out)], init)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def sample(layer: Layer, kind: str) -> np.ndarray:
    rng = np.random.default_rng(1)
    shape = (1, layer.cin, layer.size, layer.size)
    if kind == "int8":
        return rng.integers(0, 256, shape).astype(np.uint8)
    return np.maximum(rng.standard_normal(shape), 0).astype(np.float32)  # post-Relu-like


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["int8", "fp32"])
    parser.add_argument("--weight-bits", type=int, choices=[8, 7], default=8,
                        help="int8 weights' range: 8 [-127, 127], 7 [-64, 64] (reduce-range)")
    parser.add_argument("--layers", nargs="+", help="layer names as printed (default: all)")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")))
    parser.add_argument("--output", type=Path, default=RESULTS / "conv_layers.md")
    args = parser.parse_args()
    quarc = args.build_dir / "bin" / "quarc"
    layers = [layer for layer in RESNET50 if not args.layers or layer.name in args.layers]
    kinds = [args.only] if args.only else ["int8", "fp32"]
    runner = [sys.executable, str(ROOT / "bench" / "ort_runner.py")]
    bench = ["--threads", str(args.threads), "--benchmark", str(args.runs)]

    commands: dict[tuple[str, str, str], list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for index, layer in enumerate(layers):
            for kind in kinds:
                stem = work / f"{kind}_{index}"
                onnx.save(int8_model(layer, args.weight_bits) if kind == "int8" else fp32_model(layer),
                          f"{stem}.onnx")
                np.save(f"{stem}.npy", sample(layer, kind))
                subprocess.run([str(quarc), "compile", f"{stem}.onnx", "-o", str(stem)],
                               check=True, capture_output=True)
                feed = ["--input", f"x={stem}.npy"]
                commands[(layer.name, kind, "quarc")] = [str(stem), *feed, *bench]
                commands[(layer.name, kind, "ort")] = [*runner, f"{stem}.onnx", *feed, *bench]
        times: dict[tuple[str, str, str], list[float]] = {key: [] for key in commands}
        for _ in range(args.rounds):  # rounds interleave engines and layers against drift
            for key, command in commands.items():
                times[key].append(compare_ort.timed_process(command)[0])
    median = {key: float(np.median(values)) for key, values in times.items()}

    lines = [f"CPU: {compare_ort.cpu_description()}; {args.threads} thread(s); "
             f"{args.rounds} rounds x {args.runs} runs; int8 weights of {args.weight_bits} bits",
             ""]
    for kind in kinds:
        lines += [f"### {kind}", "",
                  "| layer | count | MMACs | quarc ms | ORT ms | quarc GOPS | ORT GOPS | "
                  "quarc / ORT |", "|---|---|---|---|---|---|---|---|"]
        total = {"quarc": 0.0, "ort": 0.0}
        for layer in layers:
            q, o = median[(layer.name, kind, "quarc")], median[(layer.name, kind, "ort")]
            total["quarc"] += layer.count * q
            total["ort"] += layer.count * o
            rate = 2 * layer.macs / 1e6
            lines.append(f"| {layer.name} | {layer.count} | {layer.macs / 1e6:.0f} | {q:.3f} | "
                         f"{o:.3f} | {rate / q:.0f} | {rate / o:.0f} | {q / o:.2f} |")
        lines.append(f"| all, weighted by count | | | {total['quarc']:.2f} | {total['ort']:.2f} "
                     f"| | | {total['quarc'] / total['ort']:.2f} |")
        lines.append("")
    table = "\n".join(lines)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
