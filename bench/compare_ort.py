"""quarc vs onnxruntime, side by side on this machine.

For every model: compile it with quarc (compile time and executable size
are recorded), then time the quarc executable and onnxruntime on the same
input with the same thread count, alternating the two engines for several
rounds so that machine noise hits both alike. Each timing runs in its own
process, so its peak resident memory (ru_maxrss) is that engine's alone.

Prints a Markdown table (median latency over all rounds, the quarc/ORT
ratio, peak memory) with the CPU name, features and measured FMA peak, writes it to
bench/results/compare_ort.md (or --output) and a bar chart next to it (.png).

Usage: .venv/bin/python bench/compare_ort.py [--rounds 3] [--runs 10]
       [--threads 1 2] [--models det cls rec resnet50 cls-dynamic-batch
       resnet50-dynamic-batch] (the last two: compiled with a dynamic batch, run
       at batch 1) [--output bench/results/compare_ort.md] (the chart: the same
       path with .png)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUARC = Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")) / "bin" / "quarc"
RESULTS = ROOT / "bench" / "results"


def rapidocr_models() -> Path:
    import rapidocr_onnxruntime
    return Path(rapidocr_onnxruntime.__file__).parent / "models"


@dataclass
class Model:
    key: str
    path: Path | None  # None: built by `make` into the work folder
    shape: tuple[int, ...]
    input_name: str = "x"
    make: list[str] | None = None  # command that writes the model to the path appended
    # What quarc compiles for, if not `shape`: "?x3x224x224" keeps the batch
    # dynamic, as models are exported, while the timed runs use `shape`.
    compile_shape: str | None = None

    def sample(self) -> np.ndarray:
        # Smooth, image-like values in the normalized range the models see
        # (timing does not depend on the values, but NaN-free inputs keep
        # both engines on their normal paths).
        rng = np.random.default_rng(0)
        base = rng.standard_normal(self.shape).astype(np.float32)
        return np.clip(base * 0.5, -1, 1)


def known_models() -> dict[str, Model]:
    folder = rapidocr_models()
    return {
        "det": Model("det", folder / "ch_PP-OCRv4_det_infer.onnx", (1, 3, 480, 640)),
        "cls": Model("cls", folder / "ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192)),
        "rec": Model("rec", folder / "ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320)),
        # ResNet-50's topology and weight shapes with seeded random weights (no
        # pretrained one ships in a package this project installs).
        "resnet50": Model("resnet50", None, (1, 3, 224, 224), "input",
                          [sys.executable, str(ROOT / "bench" / "resnet50_model.py")]),
        # The same two models compiled with a dynamic batch, run at batch 1.
        "cls-dynamic-batch": Model("cls-dynamic-batch",
                                   folder / "ch_ppocr_mobile_v2.0_cls_infer.onnx",
                                   (1, 3, 48, 192), compile_shape="?x3x48x192"),
        "resnet50-dynamic-batch": Model(
            "resnet50-dynamic-batch", None, (1, 3, 224, 224), "input",
            [sys.executable, str(ROOT / "bench" / "resnet50_model.py")],
            compile_shape="?x3x224x224"),
    }


@dataclass
class Timing:
    medians: list[float] = field(default_factory=list)
    max_rss_mb: float = 0.0


MEDIAN = re.compile(r"median ([0-9.]+) ms")


MAXRSS = re.compile(r"maxrss_kb (\d+)")


def timed_process(args: list[str]) -> tuple[float, float]:
    """Runs one benchmark process under GNU time; returns (median ms, peak
    RSS MB). (A parent's rusage would count the Python process the child
    was forked from.)"""
    proc = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb %M"] + args,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr}")
    match = MEDIAN.search(proc.stdout)
    rss = MAXRSS.search(proc.stderr)
    if not match or not rss:
        raise RuntimeError(f"no timing in output of {args[0]}: {proc.stdout} {proc.stderr}")
    return float(match.group(1)), int(rss.group(1)) / 1024.0


def cpu_description() -> str:
    name = "unknown CPU"
    flags: set[str] = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and name == "unknown CPU":
            name = line.split(":", 1)[1].strip()
        if line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
    features = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni") if f in flags]
    return f"{name}, {os.cpu_count()} cores, features: {' '.join(features) or 'none'}"


def fma_peak() -> str:
    """bench/peak.sh's figure for one core, measured now (machines and clocks vary)."""
    proc = subprocess.run(["bash", str(ROOT / "bench" / "peak.sh")], capture_output=True,
                          text=True)
    match = re.search(r"peak \(([^)]*)\): ([0-9.]+) GFLOPS", proc.stdout)
    return f"FP32 FMA peak {match.group(2)} GFLOPS/core ({match.group(1)})" if match else \
        "FMA peak not measured"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models", nargs="+", default=list(known_models()))
    parser.add_argument("--output", type=Path, default=RESULTS / "compare_ort.md",
                        help="the Markdown table; the chart goes next to it (.png)")
    args = parser.parse_args()

    args.output.parent.mkdir(parents=True, exist_ok=True)
    models = known_models()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for key in args.models:
            model = models[key]
            if model.path is None:
                model.path = work / f"{key}.onnx"
                subprocess.run(model.make + [str(model.path)], check=True, capture_output=True)
            sample = work / f"{key}.npy"
            np.save(sample, model.sample())
            shape = "x".join(map(str, model.shape))
            exe = work / f"{key}_quarc"
            start = time.perf_counter()
            compile_proc = subprocess.run(
                [str(QUARC), "compile", str(model.path), "-o", str(exe),
                 f"--input-shape={model.input_name}={model.compile_shape or shape}"],
                capture_output=True, text=True)
            compile_s = time.perf_counter() - start
            if compile_proc.returncode != 0:
                print(f"{key}: quarc compile failed:\n{compile_proc.stderr}", file=sys.stderr)
                rows.append((key, shape, None, None, None, None, None, compile_s, None))
                continue
            size_mb = exe.stat().st_size / 1e6
            for threads in args.threads:
                quarc_t, ort_t = Timing(), Timing()
                feed = f"{model.input_name}={sample}"
                for _ in range(args.rounds):
                    ms, rss = timed_process([str(exe), "--input", feed, "--threads",
                                             str(threads), "--benchmark", str(args.runs)])
                    quarc_t.medians.append(ms)
                    quarc_t.max_rss_mb = max(quarc_t.max_rss_mb, rss)
                    ms, rss = timed_process([sys.executable, str(ROOT / "bench" / "ort_runner.py"),
                                             str(model.path), "--input", feed, "--threads",
                                             str(threads), "--benchmark", str(args.runs)])
                    ort_t.medians.append(ms)
                    ort_t.max_rss_mb = max(ort_t.max_rss_mb, rss)
                q, o = float(np.median(quarc_t.medians)), float(np.median(ort_t.medians))
                rows.append((key, shape, threads, q, o, quarc_t.max_rss_mb, ort_t.max_rss_mb,
                             compile_s, size_mb))

    lines = [f"CPU: {cpu_description()}; {fma_peak()}", "",
             "| model | input | threads | quarc ms | ORT ms | quarc/ORT | quarc peak MB | ORT peak MB "
             "| compile s | executable MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, shape, threads, q, o, qm, om, cs, size in rows:
        if q is None:
            lines.append(f"| {key} | {shape} | - | compile failed | | | | | {cs:.1f} | |")
            continue
        lines.append(f"| {key} | {shape} | {threads} | {q:.2f} | {o:.2f} | {q / o:.2f} | "
                     f"{qm:.0f} | {om:.0f} | {cs:.1f} | {size:.1f} |")
    lines.append("")
    lines.append("Both run with the same intra-op thread count; ORT peak memory includes the "
                 "Python interpreter.")
    table = "\n".join(lines)
    print(table)
    args.output.write_text(table + "\n")
    plot(rows, args.output.with_suffix(".png"))
    return 0


def plot(rows, path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no chart", file=sys.stderr)
        return
    done = [r for r in rows if r[3] is not None]
    if not done:
        return
    labels = [f"{r[0]}\n{r[2]} thr" for r in done]
    x = np.arange(len(done))
    fig, ax = plt.subplots(figsize=(max(6, len(done) * 1.2), 4))
    ax.bar(x - 0.2, [r[3] for r in done], 0.4, label="quarc")
    ax.bar(x + 0.2, [r[4] for r in done], 0.4, label="onnxruntime")
    ax.set_xticks(x, labels)
    ax.set_ylabel("median latency (ms)")
    ax.set_title(cpu_description(), fontsize=8)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
