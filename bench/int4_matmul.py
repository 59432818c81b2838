"""Weight-only int4 matrix products: quarc against onnxruntime's MatMulNBits.

For every shape M x N x K (the products of transformer layers: M = 1 is one
token of decoding, M = 32 a short prompt) one MatMulNBits model is built with
numpy (u4 weights, a scale and a zero point per group of 32 k, packed as
onnxruntime packs them; test/python/quarc_tools.matmul_nbits_model), and a
float MatMul model with the same (dequantized) weights. Four engines run them
side by side, interleaved in rounds against drift, at 1 and 2 threads:

- quarc int4 (level 0): the MatMulNBits model compiled
  (quarc.qmatmul_weight_only; the weights stay packed and are unpacked in
  registers); f32 arithmetic.
- onnxruntime int4 (level 0): MatMulNBits at accuracy level 0, f32
  arithmetic on dequantized weights: the same numbers as quarc's.
- quarc int4 (level 4): the model at accuracy level 4 compiled: the
  activations quantized to int8 per row and block, integer dot products
  (vpdpbusd, vpmaddubsw, sdot).
- onnxruntime int4 (level 4): its int8 path for the same model (the same
  numbers as quarc's level 4).
- quarc f32: the float model, for the speed-up of 4-bit weights.

Each engine times itself (one warm-up, then --runs runs, the median): quarc's
executables with --benchmark, onnxruntime through bench/ort_runner.py. The
table gives the medians, quarc's ratio to onnxruntime at the same accuracy
level, and for M = 1 the rate at which quarc's level 0 kernel reads the
packed weights (GB/s). Writes
bench/results/int4_matmul.md.

Usage: .venv/bin/python bench/int4_matmul.py [--runs 50] [--rounds 3]
       [--shapes MxNxK ...] [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "test" / "python"))
import compare_ort  # noqa: E402  (bench scripts import each other by path)
import quarc_tools  # noqa: E402

RESULTS = ROOT / "bench" / "results"
GROUP = 32
SHAPES = [(m, n, k) for m in (1, 32)
          for n, k in ((768, 768), (3072, 768), (768, 3072), (4096, 4096), (11008, 4096))]
ENGINES = ["quarc int4 (level 0)", "ort int4 (level 0)", "quarc int4 (level 4)",
           "ort int4 (level 4)", "quarc f32"]


def float_model(w: np.ndarray, m: int) -> onnx.ModelProto:
    k, n = w.shape
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "W"], ["Y"], name="mm")], "f32",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "W")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def dequantized(w: np.ndarray) -> np.ndarray:
    """The K x N weights the 4-bit model holds, as f32."""
    k, n = w.shape
    q, scale, zero = quarc_tools.quantize_blocks(w, GROUP, 4, symmetric=False)
    values = ((q - zero[..., None]) * scale[..., None]).astype(np.float32)
    return values.reshape(n, -1)[:, :k].T.copy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", nargs="+", help="MxNxK (default: transformer layers)")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")))
    args = parser.parse_args()
    quarc = args.build_dir / "bin" / "quarc"
    shapes = ([tuple(int(v) for v in s.split("x")) for s in args.shapes] if args.shapes
              else SHAPES)
    python = sys.executable
    runner = str(ROOT / "bench" / "ort_runner.py")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        commands = {}  # (shape, engine, threads) -> command
        for m, n, k in shapes:
            name = f"{m}x{n}x{k}"
            w = np.random.default_rng(n * 7 + k).normal(size=(k, n)).astype(np.float32)
            sample = work / f"{name}.npy"
            np.save(sample, np.random.default_rng(m).normal(size=(m, k)).astype(np.float32))
            nbits = work / f"{name}_int4.onnx"
            onnx.save(quarc_tools.matmul_nbits_model(w, GROUP, [m, k]), nbits)
            nbits4 = work / f"{name}_int4_level4.onnx"
            onnx.save(quarc_tools.matmul_nbits_model(w, GROUP, [m, k], accuracy_level=4), nbits4)
            f32 = work / f"{name}_f32.onnx"
            onnx.save(float_model(dequantized(w), m), f32)
            exes = {}
            for label, model in (("int4", nbits), ("int4_level4", nbits4), ("f32", f32)):
                exe = work / f"{name}_{label}"
                subprocess.run([str(quarc), "compile", str(model), "-o", str(exe)], check=True,
                               capture_output=True)
                exes[label] = exe
            for threads in (1, 2):
                common = ["--input", f"A={sample}", "--threads", str(threads),
                          "--benchmark", str(args.runs)]
                shape = (m, n, k)
                commands[shape, "quarc int4 (level 0)", threads] = [str(exes["int4"]), *common]
                commands[shape, "quarc int4 (level 4)", threads] = [str(exes["int4_level4"]),
                                                                    *common]
                commands[shape, "quarc f32", threads] = [str(exes["f32"]), *common]
                commands[shape, "ort int4 (level 0)", threads] = [python, runner, str(nbits),
                                                                  *common]
                commands[shape, "ort int4 (level 4)", threads] = [python, runner, str(nbits4),
                                                                  *common]
        timings = {key: [] for key in commands}
        for _ in range(args.rounds):
            for key, command in commands.items():
                timings[key].append(compare_ort.timed_process(command)[0])

    ms = {key: float(np.median(times)) for key, times in timings.items()}
    lines = [f"CPU: {compare_ort.cpu_description()}", "",
             "Median latency in ms; in brackets quarc's ratio to onnxruntime at the same "
             "accuracy level (below 1 quarc is faster), and for quarc f32 the speed-up of "
             f"quarc's level 4 over it. u4 weights, groups of {GROUP} along k with zero "
             "points.", "",
             "| M | N | K | threads | quarc L0 | ort L0 | quarc L4 | ort L4 | quarc f32 "
             "| quarc L0 weight read GB/s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m, n, k in shapes:
        for threads in (1, 2):
            t = {engine: ms[(m, n, k), engine, threads] for engine in ENGINES}
            l0, l4 = t["quarc int4 (level 0)"], t["quarc int4 (level 4)"]
            ort0, ort4 = t["ort int4 (level 0)"], t["ort int4 (level 4)"]
            # Packed bytes: 4 bits a weight, an f32 scale and a byte zero point per group.
            weight_bytes = k * n / 2 + (k // GROUP) * n * 5
            rate = f"{weight_bytes / (l0 * 1e-3) / 1e9:.1f}" if m == 1 else "-"
            lines.append(
                f"| {m} | {n} | {k} | {threads} | {l0:.3f} ({l0 / ort0:.2f}) | {ort0:.3f} "
                f"| {l4:.3f} ({l4 / ort4:.2f}) | {ort4:.3f} "
                f"| {t['quarc f32']:.3f} ({t['quarc f32'] / l4:.1f}x) | {rate} |")
    lines += ["", "Each time includes the call into the model (quarc: the compiled executable's "
              "own --benchmark; onnxruntime: session.run from Python, bench/ort_runner.py)."]
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "int4_matmul.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
