"""The int8 matrix-product kernel alone, as a fraction of the host's int8 peak.

For every shape M x N x K a one-op ONNX model is built: a uint8 input [M, K]
(DequantizeLinear with a zero point), an int8 constant weight [K, N] with
per-column scales, MatMul, QuantizeLinear to uint8. quarc compiles such a QDQ
model to one `quarc.qmatmul` with u8 in and u8 out, so the executable runs the
packed int8 kernel (quarc-vectorize-integer-matmul) and its output stage, and
nothing converts floats. Each executable is timed on one thread with its own
`--benchmark` (one warm-up run, then `--runs` timed runs; the median), and the
rate 2 M N K / time is set against bench/peak.sh's int8 peak of one core for
the widest int8 dot product the host has (vpdpbusd zmm with AVX-512 VNNI,
vpmaddubsw + vpmaddwd otherwise), measured in the same run. The shapes are the
issue's: squares from 64 to 2048 and the rows of batch-1 transformer layers
(M = 1 and M = 32 against BERT-base sized weights). `--weight-bits 7` draws the
weights from [-64, 64] (no pair of u8 x s8 products passes int16): on x86
without VNNI the kernel then takes vpmaddubsw, as it does for weights quantized
by the default scheme there (reduce-range=pairs), instead of the exact 16-bit
path that full-range weights need.

Prints a Markdown table with the CPU and writes it to
bench/results/int8_gemm.md.

Usage: .venv/bin/python bench/int8_gemm.py [--runs 20] [--rounds 3]
       [--shapes MxNxK ...] [--weight-bits 8|7] [--build-dir DIR] [--output FILE.md]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import compare_ort  # noqa: E402  (bench scripts import each other by path)

RESULTS = ROOT / "bench" / "results"
SQUARES = [(s, s, s) for s in (64, 128, 256, 512, 1024, 2048)]
BATCH_1 = [(1, 768, 768), (1, 3072, 768), (1, 768, 3072),
           (32, 768, 768), (32, 3072, 768), (32, 768, 3072)]


def gemm_model(m: int, n: int, k: int, weight_bits: int) -> onnx.ModelProto:
    """u8 [M, K] -> DequantizeLinear -> MatMul(int8 [K, N] per column) -> u8."""
    rng = np.random.default_rng(m * 1_000_003 + n * 1009 + k)
    high = 127 if weight_bits == 8 else 64
    weight = rng.integers(-high, high + 1, (k, n)).astype(np.int8)
    # Output scale for the accumulators' typical range, so the output stage
    # neither saturates everything nor rounds everything to zero.
    scale_x, scale_w = 0.02, rng.uniform(0.002, 0.01, n).astype(np.float32)
    spread = float(np.sqrt(k) * 60 * scale_x * scale_w.mean())
    init = [
        numpy_helper.from_array(np.float32(scale_x), "sx"),
        numpy_helper.from_array(np.uint8(128), "zx"),
        numpy_helper.from_array(weight, "w"),
        numpy_helper.from_array(scale_w, "sw"),
        numpy_helper.from_array(np.zeros(n, np.int8), "zw"),
        numpy_helper.from_array(np.float32(spread / 100), "sy"),
        numpy_helper.from_array(np.uint8(128), "zy"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["x", "sx", "zx"], ["xf"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["w", "sw", "zw"], ["wf"], name="dq_w", axis=1),
        helper.make_node("MatMul", ["xf", "wf"], ["yf"], name="matmul"),
        helper.make_node("QuantizeLinear", ["yf", "sy", "zy"], ["y"], name="q_y"),
    ]
    graph = helper.make_graph(
        nodes, f"gemm_{m}x{n}x{k}",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, [m, n])], init)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def int8_peak() -> tuple[float | None, str]:
    """bench/peak.sh's best int8 figure for one core, and its line."""
    out = subprocess.run(["bash", str(ROOT / "bench" / "peak.sh")], capture_output=True,
                         text=True).stdout
    best, line = None, "int8 peak not measured"
    for text in out.splitlines():
        match = re.search(r"int8 peak \(([^)]*)\): ([0-9.]+) GOPS", text)
        if match and (best is None or float(match.group(2)) > best):
            best, line = float(match.group(2)), text.strip()
    return best, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", nargs="+", help="MxNxK (default: squares and batch-1)")
    parser.add_argument("--weight-bits", type=int, choices=[8, 7], default=8,
                        help="the weights' range: 8 [-127, 127], 7 [-64, 64]")
    parser.add_argument("--output", type=Path, default=RESULTS / "int8_gemm.md")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")))
    args = parser.parse_args()
    quarc = args.build_dir / "bin" / "quarc"
    shapes = ([tuple(int(v) for v in s.split("x")) for s in args.shapes] if args.shapes
              else SQUARES + BATCH_1)

    peak, peak_line = int8_peak()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        executables = {}
        for m, n, k in shapes:
            name = f"gemm_{m}x{n}x{k}"
            model = work / f"{name}.onnx"
            onnx.save(gemm_model(m, n, k, args.weight_bits), model)
            exe = work / name
            subprocess.run([str(quarc), "compile", str(model), "-o", str(exe)], check=True,
                           capture_output=True)
            sample = work / f"{name}.npy"
            np.save(sample, np.random.default_rng(0).integers(0, 256, (m, k)).astype(np.uint8))
            executables[(m, n, k)] = (exe, sample)
        timings = {shape: [] for shape in shapes}
        for _ in range(args.rounds):  # rounds interleave the shapes against drift
            for shape, (exe, sample) in executables.items():
                command = [str(exe), "--input", f"x={sample}", "--threads", "1",
                           "--benchmark", str(args.runs)]
                timings[shape].append(compare_ort.timed_process(command)[0])
        for (m, n, k), times in timings.items():
            ms = float(np.median(times))
            gops = 2 * m * n * k / (ms * 1e-3) / 1e9
            rows.append((m, n, k, ms, gops, gops / peak if peak else None))

    lines = [f"CPU: {compare_ort.cpu_description()}; {peak_line}; int8 weights of "
             f"{args.weight_bits} bits", "",
             "| M | N | K | median ms (1 thread) | GOPS | fraction of int8 peak |",
             "|---|---|---|---|---|---|"]
    for m, n, k, ms, gops, fraction in rows:
        share = f"{fraction:.0%}" if fraction is not None else "-"
        lines.append(f"| {m} | {n} | {k} | {ms:.4f} | {gops:.1f} | {share} |")
    lines += ["", "Each time includes the output stage (requantization of the M x N "
              "accumulators to uint8) and the call into the model; GOPS counts 2 M N K."]
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
