"""quarc int8 against quarc FP32 and onnxruntime FP32 and int8, end to end on real models.

Models (bench/compare_ort.py's known_models()): PP-OCRv4 det (1x3x480x640), PP-OCR mobile
v2.0 cls (1x3x48x192), PP-OCRv4 rec (1x3x48x320) and ResNet-50 (bench/resnet50_model.py: the
real topology and weight shapes with seeded random weights, input "input", 1x3x224x224).
Every quarc executable is compiled for that fixed shape (--input-shape).

Four engines per model:

* quarc int8: `quarc calibrate` on the calibration inputs (--threads 2), then
  `quarc compile --quantize=int8 --stats` (u8 per-tensor activations, s8 per-channel
  weights, min-max);
* quarc FP32: `quarc compile`;
* onnxruntime int8: its QDQ model from `quantize_static` on the same calibration inputs, at
  the settings bench/ptq_accuracy.py found best (ort_quantize with preprocess: opset 13,
  quant_pre_process, QDQ, per-channel, QUInt8 activations, QInt8 weights, MinMax), run with
  default session options (graph optimizations on: that is what puts the QDQ pairs on its
  int8 kernels);
* onnxruntime FP32: the model as shipped (as built, for ResNet-50).

Calibration inputs: for det, cls and rec the rendered pages and text lines of
bench/ptq_accuracy.py, preprocessed as rapidocr does (rec: only lines that fit rapidocr's
320-wide input, see rec_fixed_samples); for ResNet-50 photo-like smooth colour noise
normalized like ImageNet inputs (its weights are random, so no real images would mean more).
One more input from the same generator, not a calibration one, is the evaluation input: it
is what every engine is timed on, and the first output of quarc int8 and of onnxruntime
int8 on it is compared with onnxruntime FP32's as a user of the model would read it (det's
text mask, cls's class, rec's decoded text, ResNet-50's top classes): a check that the int8
executables compute the model and not something fast and wrong.

Timing: for each model and thread count, --rounds rounds in which the four engines run one
after the other (order reversed every other round, so that drift hits all alike), each in its
own process doing one warm-up and --runs timed runs (more for a fast engine: enough for
--min-seconds of timed work, estimated from a 3-run process first) (quarc executables' --benchmark,
onnxruntime through bench/ort_runner.py, both print "median X ms"); the table gives the median
of the rounds' medians, and each ratio the median of the rounds' ratios (the two engines of a
ratio ran seconds apart in the same round, so that a drift of the machine's speed between
rounds cancels out).

quarc is the one of --build-dir (default $QUARC_BUILD_DIR or build/), copied when the script
starts so that a rebuild meanwhile changes nothing. A step that fails (quarc calibrate or
compile, onnxruntime's quantization, a timed run) becomes "failed" in the table, with the
command and its error under it.

Writes bench/results/int8_latency.md (led by the CPU line and bench/peak.sh's FP32 and int8
peaks, measured in the same run) and the bar chart bench/results/int8_latency.png.

With --target T (a `quarc compile --target`, e.g. x86_64+avx2 on a machine with AVX-512),
quarc's two executables are compiled for T and onnxruntime is not timed: its kernels follow
the host's own features, so it would not run the code of T's machine. That gives an
indication of T's int8 / FP32 ratio on this host's cores, not a measurement of T's machine.
A T whose features this machine lacks (or another architecture) is refused up front.

Usage: .venv/bin/python bench/int8_latency.py [--models det cls rec resnet50] [--threads 1 2]
       [--rounds 3] [--runs 10] [--min-seconds 0.3] [--calib 8] [--target host] [--build-dir DIR (default
       $QUARC_BUILD_DIR or build)] [--output bench/results/int8_latency.md] [--keep-work]
"""
from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
import compare_ort as co  # noqa: E402  (models, timed runs, CPU line)
import ptq_accuracy as pa  # noqa: E402  (renderers, quarc runs and failures, ort_quantize)
import quarc_tools  # noqa: E402  (on sys.path through ptq_accuracy)

QUARC_INT8 = "quarc int8"
QUARC_FP32 = "quarc FP32"
ORT_INT8 = "ORT int8"
ORT_FP32 = "ORT FP32"
ENGINES = (QUARC_INT8, QUARC_FP32, ORT_INT8, ORT_FP32)
MODELS = ("det", "cls", "rec", "resnet50")

REC_WIDTH = 320  # rec's compiled width, rapidocr's minimum (rec_image_shape 3x48x320)
RESNET_SEED = 2029  # the PP-OCR models use bench/ptq_accuracy.py's seeds
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


# ---------------------------------------------------------------------------
# Inputs: each sampler takes (rng, count) and returns preprocessed float32 inputs


def rec_fixed_samples(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Text lines for rec compiled at width 320: only the lines that rapidocr itself feeds
    as 1x3x48x320, i.e. at most 320 px wide once scaled to height 48 (about a quarter of
    ptq_accuracy's lines); rapidocr pads them on the right with 0 (mid-grey after its
    (x/255-0.5)/0.5), so these are exactly the inputs this executable sees in use. Wider
    lines would need a wider input: cropping them would cut characters and squeezing them
    would distort the glyphs, either way activations the model never gets from rapidocr.
    (The choice favours short lines, 1-3 words, with more padding than the average line.)"""
    kept: list[np.ndarray] = []
    for _ in range(100):  # bounded: the renderer keeps about one line in four
        kept += [s.x for s in pa.rec_samples(rng, 4 * count)
                 if s.x.shape[-1] == REC_WIDTH]
        if len(kept) >= count:
            return kept[:count]
    sys.exit(f"the renderer gave fewer than {count} lines at most {REC_WIDTH} px wide")


def resnet_samples(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Photo-like 224x224 RGB images: smooth colour noise at three scales (ptq_accuracy's
    value_noise; not white noise: real images are dominated by low frequencies, and the
    convolutions' output ranges depend on that), each channel stretched to a random range
    within [0, 1] so that dark, bright, dull and saturated images occur, then normalized
    with ImageNet's mean and std, NCHW."""
    images = []
    for _ in range(count):
        rgb = np.zeros((224, 224, 3), np.float32)
        for c in range(3):
            for cells, weight in ((2, 0.6), (6, 0.3), (18, 0.1)):
                rgb[..., c] += weight * pa.value_noise(rng, 224, 224, cells)
            low, high = rng.uniform(0.0, 0.35), rng.uniform(0.65, 1.0)
            channel = rgb[..., c]
            rgb[..., c] = low + (high - low) * (channel - channel.min()) / (np.ptp(channel) + 1e-6)
        x = (rgb - IMAGENET_MEAN) / IMAGENET_STD
        images.append(np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis], np.float32))
    return images


def sampler(key: str) -> tuple[Callable[[np.random.Generator, int], list[np.ndarray]], int]:
    """The sampler and seed of a model."""
    if key == "resnet50":
        return resnet_samples, RESNET_SEED
    if key == "rec":
        return rec_fixed_samples, pa.TASKS["rec"].seed
    make = {"det": pa.det_samples, "cls": pa.cls_samples}[key]
    return (lambda rng, count: [s.x for s in make(rng, count)]), pa.TASKS[key].seed


# ---------------------------------------------------------------------------
# Preparing the engines


@dataclass
class Prepared:
    """One model's engines: the command that times each one that was built (without
    --threads and --benchmark), and how the int8 models agree with FP32 on the evaluation
    input (see output_agreement)."""
    key: str
    shape: str
    commands: dict[str, list[str]] = field(default_factory=dict)
    agreement: str = "-"


def build_model(model: co.Model, work: Path) -> Path:
    """The model's file: as shipped, or written by its `make` command (ResNet-50)."""
    if model.path is not None:
        return model.path
    path = work / f"{model.key}.onnx"
    subprocess.run(model.make + [str(path)], check=True, capture_output=True)
    return path


def write_inputs(key: str, shape: tuple[int, ...], calib_count: int,
                 folder: Path) -> tuple[list[np.ndarray], Path]:
    """Writes the calibration inputs to folder/calib/NNN.npy and the evaluation input to
    folder/eval.npy; returns the calibration arrays and the evaluation file."""
    make, seed = sampler(key)
    inputs = make(np.random.default_rng(seed), calib_count + 1)
    for x in inputs:
        if x.shape != shape:
            sys.exit(f"{key}: a sample of shape {x.shape}, expected {shape}")
    (folder / "calib").mkdir(parents=True)
    for i, x in enumerate(inputs[:-1]):
        np.save(folder / "calib" / f"{i:03d}.npy", x)
    np.save(folder / "eval.npy", inputs[-1])
    return inputs[:-1], folder / "eval.npy"


def quarc_executables(key: str, model: Path, shape_flag: list[str], quarc: pa.Quarc,
                      folder: Path, target: str) -> dict[str, Path]:
    """quarc int8 (calibrate, then compile) and quarc FP32 for `target`, by engine, those
    that built."""
    stats = folder / "stats.json"
    compiles = {QUARC_FP32: [model, "-o", folder / f"{key}_fp32"]}
    if quarc.run(f"{key} {QUARC_INT8}", [quarc.binary, "calibrate", model, "--data",
                                         folder / "calib", "-o", stats, "--threads", "2",
                                         *shape_flag]):
        compiles[QUARC_INT8] = ["--quantize=int8", "--stats", stats, model,
                                "-o", folder / f"{key}_int8"]
    with ThreadPool(2) as pool:  # the two compiles on one core each
        ok = pool.map(lambda item: quarc.run(f"{key} {item[0]}", [quarc.binary, "compile",
                                                                  *item[1], *shape_flag,
                                                                  f"--target={target}"]),
                      compiles.items())
    return {engine: Path(args[-1]) for (engine, args), good in zip(compiles.items(), ok)
            if good}


def ort_int8_model(key: str, model: Path, input_name: str, calib: list[np.ndarray],
                   quarc: pa.Quarc, folder: Path) -> Path | None:
    """onnxruntime's QDQ model, or None (the failure recorded) if its quantization fails."""
    try:
        return pa.ort_quantize(model, calib, folder / f"{key}_ort_int8.onnx", preprocess=True,
                               input_name=input_name)
    except Exception as error:  # noqa: BLE001  (any failure of onnxruntime's tool is a row)
        quarc.failures.append(pa.Failure(f"{key} {ORT_INT8}", "ort_quantize (quantize_static)",
                                         f"{type(error).__name__}: {error}"))
        print(f"  FAILED: {key} ort_quantize: {error}", file=sys.stderr)
        return None


def agreement(key: str, model: Path, got: np.ndarray, want: np.ndarray) -> str:
    """What a user of the model would see differ between an int8 output and FP32's on one
    input: det's text mask (rapidocr's threshold) as IoU, cls's class, rec's decoded text,
    ResNet-50's top-1 and top-5 classes. (A max abs difference said 1.0 for det and rec:
    one flipped pixel of a near-binary map, one softmax frame.)"""
    if key == "det":
        return f"mask IoU {pa.mask_iou(got > pa.DET_THRESHOLD, want > pa.DET_THRESHOLD):.3f}"
    if key == "cls":
        same = "same" if got.argmax() == want.argmax() else "other"
        return f"{same} class ({got.max():.2f} vs {want.max():.2f})"
    if key == "rec":
        text, truth = pa.ctc_decode(model, got)[0], pa.ctc_decode(model, want)[0]
        if text == truth:
            return f"same text ({len(truth)} chars)"
        return f"1 - CER {pa.char_accuracy(text, truth):.3f}"
    top5 = lambda scores: set(np.argsort(scores.ravel())[-5:])  # noqa: E731
    same = "same" if got.argmax() == want.argmax() else "other"
    return f"{same} top-1, top-5 {len(top5(got) & top5(want))}/5"


def output_agreement(key: str, exe: Path, ort_int8: Path | None, model: Path,
                     input_name: str, eval_file: Path, quarc: pa.Quarc, folder: Path) -> str:
    """agreement() of quarc int8 and of onnxruntime int8 with onnxruntime FP32 on the
    evaluation input (not a calibration input), as "quarc int8 / ORT int8"."""
    first = onnx.load(str(model), load_external_data=False).graph.output[0].name
    feed = {input_name: np.load(eval_file)}
    want = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(
        [first], feed)[0]
    out = folder / "int8_out"
    quarc_side = "failed"
    if quarc.run(f"{key} {QUARC_INT8} (output check)",
                 [exe, "--input", f"{input_name}={eval_file}", "--output-dir", out]):
        # The executable names the file after the output, other characters than
        # [A-Za-z0-9._-] replaced by '_' (runtime/src/cli.c).
        file = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in first)
        quarc_side = agreement(key, model, np.load(out / f"{file or 'output'}.npy"), want)
    ort_side = "-"
    if ort_int8 is not None:
        got = ort.InferenceSession(str(ort_int8), providers=["CPUExecutionProvider"]).run(
            [first], feed)[0]
        ort_side = agreement(key, model, got, want)
    return f"{quarc_side} / {ort_side}"


def prepare(model: co.Model, args: argparse.Namespace, quarc: pa.Quarc, work: Path,
            start: float) -> Prepared:
    """Inputs, quarc's two executables, onnxruntime's int8 model and the output check."""
    folder = work / model.key
    shape = "x".join(map(str, model.shape))
    prepared = Prepared(model.key, shape)
    path = build_model(model, work)
    pa.log(model.key, start, f"rendering {args.calib} calibration inputs and 1 evaluation input")
    calib, eval_file = write_inputs(model.key, model.shape, args.calib, folder)
    pa.log(model.key, start, "calibrating, compiling, quantizing with onnxruntime")
    shape_flag = quarc_tools.shape_flag(model.input_name, model.shape)
    executables = quarc_executables(model.key, path, shape_flag, quarc, folder, args.target)
    timed_ort = args.target == "host"
    ort_int8 = (ort_int8_model(model.key, path, model.input_name, calib, quarc, folder)
                if timed_ort else None)
    feed = ["--input", f"{model.input_name}={eval_file}"]
    runner = [sys.executable, str(ROOT / "bench" / "ort_runner.py")]
    for engine, exe in executables.items():
        prepared.commands[engine] = [str(exe), *feed]
    if ort_int8 is not None:
        prepared.commands[ORT_INT8] = [*runner, str(ort_int8), *feed]
    if timed_ort:
        prepared.commands[ORT_FP32] = [*runner, str(path), *feed]
    if QUARC_INT8 in executables:
        prepared.agreement = output_agreement(model.key, executables[QUARC_INT8], ort_int8,
                                              path, model.input_name, eval_file, quarc, folder)
    return prepared


# ---------------------------------------------------------------------------
# Timing


def runs_for(command: list[str], threads: int, args: argparse.Namespace) -> int:
    """--runs, or more for a fast engine: enough runs for --min-seconds of timed work per
    process, from a 3-run estimate (10 runs of a 0.15 ms model time the pool's first
    wake-ups more than the model: cls at two threads read twice its one-thread time)."""
    estimate = co.timed_process(command + ["--threads", str(threads), "--benchmark", "3"])[0]
    return max(args.runs, math.ceil(args.min_seconds * 1000 / max(estimate, 1e-3)))


def time_engines(prepared: Prepared, threads: int, args: argparse.Namespace,
                 quarc: pa.Quarc) -> dict[str, list[float]]:
    """Each round's median (ms) per engine that ran; an engine whose run fails is recorded
    and left out (of every round: the lists of the engines left are paired by round)."""
    medians: dict[str, list[float]] = {engine: [] for engine in prepared.commands}
    runs: dict[str, int] = {}
    for r in range(args.rounds):
        order = [e for e in ENGINES if e in medians]
        for engine in order if r % 2 == 0 else reversed(order):
            try:
                if engine not in runs:
                    runs[engine] = runs_for(prepared.commands[engine], threads, args)
            except RuntimeError:
                runs[engine] = args.runs  # the timed run below reports the failure
            command = prepared.commands[engine] + ["--threads", str(threads),
                                                   "--benchmark", str(runs[engine])]
            try:
                medians[engine].append(co.timed_process(command)[0])
            except RuntimeError as error:
                shown = " ".join(quarc.shorten(a) for a in command)
                quarc.failures.append(pa.Failure(f"{prepared.key} {engine}", shown,
                                                 str(error).strip()[-300:]))
                print(f"  FAILED: {shown}\n    {error}", file=sys.stderr)
                del medians[engine]
    return {engine: t for engine, t in medians.items() if t}


@dataclass
class Row:
    key: str
    shape: str
    threads: int
    rounds: dict[str, list[float]]  # by engine, per round; an engine of `engines` missing here failed
    engines: tuple[str, ...]  # the engines timed
    agreement: str

    @property
    def ms(self) -> dict[str, float]:
        """The median of the rounds' medians, by engine."""
        return {engine: float(np.median(t)) for engine, t in self.rounds.items()}

    def ratio(self, engine: str, other: str) -> str:
        """engine's time over other's, the median of the rounds' ratios: the two ran within
        seconds of each other in a round, so that a machine whose speed drifts between
        rounds (the VMs here, by 20% within minutes) moves both alike."""
        a, b = self.rounds.get(engine), self.rounds.get(other)
        if not a or not b:
            return "-"
        return f"{float(np.median([x / y for x, y in zip(a, b)])):.2f}"


# ---------------------------------------------------------------------------
# Output


def peak_lines() -> list[str]:
    """bench/peak.sh's output (CPU, features, FP32 FMA and int8 dot-product peaks of one
    core), measured now: the figures the latencies are read against."""
    proc = subprocess.run(["bash", str(ROOT / "bench" / "peak.sh")], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        return [f"bench/peak.sh failed (exit {proc.returncode}): {last}"]
    return [line.rstrip() for line in proc.stdout.splitlines() if line.strip()]


def table(rows: list[Row]) -> list[str]:
    header = ["model", "input", "threads", *(f"{e} ms" for e in ENGINES),
              "quarc int8 / quarc FP32", "quarc int8 / ORT int8",
              "agreement with FP32 on an unseen input: quarc int8 / ORT int8"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{row.ms[e]:.2f}" if e in row.ms else "failed" if e in row.engines else "-"
                 for e in ENGINES]
        lines.append(f"| {row.key} | {row.shape} | {row.threads} | {' | '.join(cells)} | "
                     f"{row.ratio(QUARC_INT8, QUARC_FP32)} | {row.ratio(QUARC_INT8, ORT_INT8)} "
                     f"| {row.agreement} |")
    return lines


def markdown(rows: list[Row], peaks: list[str], failures: list[pa.Failure], build: str,
             args: argparse.Namespace, seconds: float) -> str:
    lines = [f"CPU: {co.cpu_description()}", "", "bench/peak.sh (one core):", ""]
    lines += [f"- {line}" for line in peaks]
    lines += ["", f"Measured {datetime.date.today()}, quarc {build}, onnxruntime "
              f"{ort.__version__}; {args.rounds} rounds x {args.runs} runs (or enough for "
              f"{args.min_seconds} s per process), median of the "
              f"rounds' medians, ratios the median of the rounds' ratios; {args.calib} "
              f"calibration inputs; {seconds:.0f} s in all.", ""]
    if args.target != "host":
        lines += [f"quarc compiled with --target={args.target} and run on this host; "
                  "onnxruntime not timed (its kernels follow the host's features).", ""]
    lines += table(rows)
    lines += ["", "quarc int8: `quarc calibrate` + `quarc compile --quantize=int8 --stats`. "
              "ORT int8: onnxruntime's QDQ model from quantize_static (opset 13, "
              "quant_pre_process, per-channel, QUInt8 activations, QInt8 weights, MinMax) on "
              "the same calibration inputs, default session options. Both engines run with the "
              "same intra-op thread count. ResNet-50's weights and calibration inputs are "
              "synthetic (seeded random weights, photo-like noise). The last column compares "
              "each int8 model's first output with onnxruntime FP32's on one input that is not "
              "a calibration input, as a user would read it: det's text mask (IoU at rapidocr's "
              "0.3), cls's class, rec's decoded text, ResNet-50's top classes; "
              "bench/ptq_accuracy.py measures accuracy over many inputs."]
    if failures:
        lines += ["", "Failures:"]
        lines += [f"- {f.engine}: `{f.command}`: {f.error}" for f in failures]
    return "\n".join(lines) + "\n"


def plot(rows: list[Row], path: Path) -> None:
    """One panel per model (their latencies differ by 100x), a group of four bars per
    thread count; a failed engine has no bar."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(row.key for row in rows))
    fig, axes = plt.subplots(1, len(keys), figsize=(max(6, 3.2 * len(keys)), 4), squeeze=False)
    width = 0.8 / len(ENGINES)
    for ax, key in zip(axes[0], keys):
        mine = [row for row in rows if row.key == key]
        x = np.arange(len(mine))
        for i, engine in enumerate(ENGINES):
            ax.bar(x + (i - (len(ENGINES) - 1) / 2) * width,
                   [row.ms.get(engine, np.nan) for row in mine], width, label=engine)
        ax.set_xticks(x, [f"{row.threads} thr" for row in mine])
        ax.set_title(f"{key} ({mine[0].shape})", fontsize=9)
    axes[0][0].set_ylabel("median latency (ms)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(co.cpu_description(), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


# ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per round (at least)")
    parser.add_argument("--min-seconds", type=float, default=0.3,
                        help="timed seconds per process at least: fast engines run more "
                             "than --runs")
    parser.add_argument("--calib", type=int, default=8, help="calibration inputs per model")
    parser.add_argument("--target", default="host",
                        help="quarc compile --target for quarc's executables; other than "
                             "host, onnxruntime is not timed")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")))
    parser.add_argument("--output", type=Path, default=RESULTS / "int8_latency.md",
                        help="the Markdown file; the chart goes next to it as .png")
    parser.add_argument("--keep-work", action="store_true",
                        help="keep the work folder (executables, models, inputs)")
    return parser.parse_args()


def cannot_time_target(target: str) -> str | None:
    """Why quarc's executables for --target cannot run on this machine, or None: the
    target's x86 features (as /proc/cpuinfo spells them) must all be here."""
    if target == "host":
        return None
    arch, *features = target.split("+")
    if arch != "x86_64" or platform.machine() != "x86_64":
        return f"--target {target}: this script runs the executables here, an {platform.machine()}"
    cpuinfo = {"avx512vnni": "avx512_vnni"}
    return quarc_tools.cannot_run_target(target, " ".join(cpuinfo.get(f, f) for f in features))


def main() -> int:
    args = parse_args()
    if reason := cannot_time_target(args.target):
        print(f"error: {reason}", file=sys.stderr)
        return 2
    start = time.time()
    build_dir = args.build_dir.resolve()
    pa.wait_for(build_dir / "bin" / "quarc")
    build = pa.quarc_build(build_dir, build_dir / "bin" / "quarc")
    work = Path(tempfile.mkdtemp(prefix="int8-latency-"))
    quarc = pa.Quarc(pa.snapshot(build_dir, work / "quarc"), work)
    # Measured before the models so that the compiles do not share the cores with it.
    peaks = peak_lines()
    models = co.known_models()
    rows = []
    for key in args.models:
        prepared = prepare(models[key], args, quarc, work, start)
        for threads in args.threads:
            pa.log(key, start, f"timing at {threads} thread(s)")
            timed = ENGINES if args.target == "host" else (QUARC_INT8, QUARC_FP32)
            rows.append(Row(key, prepared.shape, threads,
                            time_engines(prepared, threads, args, quarc),
                            timed, prepared.agreement))
    text = markdown(rows, peaks, quarc.failures, build, args, time.time() - start)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    plot(rows, args.output.with_suffix(".png"))
    if args.keep_work:
        print(f"work files in {work}", file=sys.stderr)
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
