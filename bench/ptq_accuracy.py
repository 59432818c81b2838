"""Post-training quantization accuracy on the three PP-OCR models, side by side.

For each model, six ways of running it on the same evaluation inputs:

* FP32 (onnxruntime): the reference every int8 result is compared with;
* quarc int8: `quarc calibrate` on the calibration inputs, then
  `quarc compile --quantize=int8 --stats` (quarc's default scheme: u8
  asymmetric per-tensor activations, s8 symmetric per-channel weights, min-max);
* quarc compiling onnxruntime's QDQ model (no --quantize: quarc imports the
  QDQ model and folds it into integer ops);
* onnxruntime int8: `quantize_static` (QDQ, per-channel, u8 activations, s8
  weights, min-max) on the same calibration inputs, after onnxruntime's
  recommended `quant_pre_process` (Constant nodes to initializers,
  Conv+BatchNorm folding and the like) and an upgrade to opset 13 (per-channel
  DequantizeLinear). --no-ort-preprocess quantizes the model as shipped, where
  the weights are Constant nodes that quantize_static takes for activations
  (u8, per tensor, quantized at run time);
* quarc's quantization exported as a QDQ model (`quarc quantize`, with quarc
  int8's stats and shape) run by onnxruntime, as written (graph optimizations
  off) and optimized.

Inputs are rendered with a real font (DejaVu Sans) and preprocessed like rapidocr:

* det (ch_PP-OCRv4_det_infer): 360x480 pages with several text lines at
  different sizes, positions and colors on gradient/textured backgrounds with
  soft shapes, rules and photo-like patches, resized by rapidocr's
  DetPreProcess (limit_type min, side 480 -> 1x3x480x640). Metric: IoU of the
  probability map binarized at 0.3 (DBPostProcess's threshold) with FP32's
  mask, the mean absolute difference of the maps, the share of pixels whose
  mask differs, and how many pages give as many text boxes (DBPostProcess
  with rapidocr's settings) as FP32.
* cls (ch_ppocr_mobile_v2.0_cls_infer): text lines as for rec, half of them
  rotated by 180 degrees, rapidocr's 3x48x192 preprocessing. Metric: top-1
  agreement with FP32, accuracy against the true orientation, the largest
  absolute difference of the softmax outputs.
* rec (ch_PP-OCRv4_rec_infer): text lines, rapidocr's preprocessing (height
  48, width >= 320). Metric: character accuracy (1 - character error rate,
  edit distance) of the CTC-decoded text against the rendered truth, lines
  decoding to exactly FP32's text, and the CTC frames whose most likely class
  (blank included) differs from FP32's.

det and cls are compiled for their fixed input shape (--input-shape); rec's
width varies with the line, so it is compiled with the model's dynamic shape.
Each int8 model is compiled once and its executable run on every evaluation
input. A quarc step that fails is reported (command and error) in the table's
notes, not skipped silently.

Prints one Markdown table per model with the machine and writes them to
bench/results/ptq_accuracy.md.

Usage: .venv/bin/python bench/ptq_accuracy.py [--models det,cls,rec] [--calib 16] [--eval 24]
       [--build-dir DIR (default $QUARC_BUILD_DIR or build)] [--no-ort-preprocess]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "test" / "python"))
import quarc_tools  # noqa: E402
from test_compiled_models import (cls_input, ctc_decode, find_font, ocr_model,  # noqa: E402
                                  rec_input, render_line)

WORDS = ("invoice total amount due paid balance order number date customer address street "
         "city phone email quantity price tax discount shipping subtotal receipt account "
         "reference payment bank transfer euro dollar net gross item description unit").split()

FP32 = "FP32 (onnxruntime)"
QUARC = "quarc int8 (`--quantize=int8`)"
QUARC_QDQ = "quarc compiling onnxruntime's QDQ model"
ORT_INT8 = "onnxruntime int8 (its QDQ model)"
EXPORT_AS_WRITTEN = "onnxruntime running quarc's QDQ model (`quarc quantize`), as written"
EXPORT_OPTIMIZED = "onnxruntime running quarc's QDQ model, optimized"
ENGINES = (FP32, QUARC, QUARC_QDQ, ORT_INT8, EXPORT_AS_WRITTEN, EXPORT_OPTIMIZED)

DET_THRESHOLD = 0.3  # rapidocr's DBPostProcess thresh
DET_PAGE = (360, 480)  # rendered page (h, w); DetPreProcess(480, "min") makes it 480x640
DET_SIDE = 480
COMMAND_TIMEOUT_S = 900


# ---------------------------------------------------------------------------
# Inputs


def text_lines(rng: np.random.Generator, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        words = [w.capitalize() if rng.random() < 0.3 else w for w in rng.choice(WORDS, 2)]
        lines.append(f"{' '.join(words)} {rng.integers(1, 9999)}.{rng.integers(0, 99):02d}")
    return lines


def value_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1]: a coarse random grid upsampled bicubically."""
    from PIL import Image

    grid = rng.random((cells + 1, int(cells * w / h) + 2))
    image = Image.fromarray((grid * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    return np.asarray(image, np.float32) / 255.0


def page_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A light gradient at a random angle, blotchy low-frequency texture, paper grain (RGB)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    t = np.cos(angle) * xx / w + np.sin(angle) * yy / h
    t = (t - t.min()) / (t.max() - t.min() + 1e-6)
    c0, c1 = rng.uniform(175, 255, 3), rng.uniform(140, 255, 3)
    image = c0 + (c1 - c0) * t[..., None]
    for cells, strength in (((3, 8), (10, 40)), ((20, 60), (4, 14))):  # blotches, then finer
        texture = value_noise(rng, h, w, int(rng.integers(*cells)))[..., None] - 0.5
        image += texture * rng.uniform(*strength)
    image += rng.normal(0, rng.uniform(1, 5), (h, w, 1))
    return np.clip(image, 0, 255).astype(np.uint8)


def photo_patch(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A photo-like RGBA patch: multi-scale colored noise, darker and more saturated."""
    rgb = np.zeros((h, w, 3), np.float32)
    for cells, weight in ((2, 0.6), (6, 0.3), (18, 0.1)):
        for c in range(3):
            rgb[..., c] += weight * value_noise(rng, h, w, cells)
    tint = rng.uniform(0.4, 1.0, 3)
    rgb = np.clip(rgb * tint * 255, 0, 255)
    alpha = np.full((h, w, 1), rng.uniform(120, 230))
    return np.concatenate([rgb, alpha], axis=2).astype(np.uint8)


def draw_clutter(rng: np.random.Generator, layer, h: int, w: int) -> None:
    """Soft translucent rectangles, ellipses, rules and a photo-like patch."""
    from PIL import Image, ImageDraw

    draw = ImageDraw.Draw(layer)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2))
        color = tuple(int(c) for c in rng.integers(60, 240, 3)) + (int(rng.integers(30, 110)),)
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.rectangle((x0, y0, x1, y1), fill=color)
        elif kind == 1:
            draw.ellipse((x0, y0, x1, y1), fill=color)
        else:
            draw.line((x0, y0, x1, y0 if rng.random() < 0.5 else y1), fill=color[:3] + (160,),
                      width=int(rng.integers(1, 4)))
    if rng.random() < 0.6:
        ph, pw = int(rng.integers(h // 5, h // 2)), int(rng.integers(w // 5, w // 2))
        patch = Image.fromarray(photo_patch(rng, ph, pw), "RGBA")
        layer.alpha_composite(patch, (int(rng.integers(0, w - pw)), int(rng.integers(0, h - ph))))


def page_line(rng: np.random.Generator) -> str:
    """One to four words, half of the time followed by an amount."""
    words = [str(w).capitalize() if rng.random() < 0.3 else str(w)
             for w in rng.choice(WORDS, int(rng.integers(1, 5)))]
    if rng.random() < 0.5:
        words.append(f"{rng.integers(1, 9999)}.{rng.integers(0, 99):02d}")
    return " ".join(words)


def render_page(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, list[str]]:
    """A page with text lines at random sizes (14-37 px), x positions and gaps (BGR, truth)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font_path = find_font()
    if font_path is None:
        sys.exit("no TrueType font found (install fonts-dejavu-core)")
    image = Image.fromarray(page_background(rng, h, w)).convert("RGBA")
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw_clutter(rng, layer, h, w)
    blurred = layer.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))
    image = Image.alpha_composite(image, blurred)
    draw = ImageDraw.Draw(image)
    lines, y = [], int(rng.integers(8, 30))
    while True:
        font = ImageFont.truetype(str(font_path), size=int(rng.integers(14, 38)))
        text = page_line(rng)
        left, top, right, bottom = font.getbbox(text)
        if y + bottom > h - 8:
            break
        if right - left > w - 16:
            continue
        x = int(rng.integers(8, max(9, w - (right - left) - 8)))
        ink = tuple(int(c) for c in rng.integers(0, 80, 3)) + (255,)
        draw.text((x - left, y), text, fill=ink, font=font)
        lines.append(text)
        y += bottom + int(rng.integers(4, 40))
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1]), lines


def det_input(page: np.ndarray) -> np.ndarray:
    """rapidocr's DetPreProcess (resize to multiples of 32, (x/255-0.5)/0.5, NCHW)."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    return DetPreProcess(limit_side_len=DET_SIDE, limit_type="min")(page).astype(np.float32)


@dataclass
class Sample:
    x: np.ndarray
    truth: object  # the lines of a page (det), 0/1 for 0/180 degrees (cls), the text (rec)


def det_samples(rng: np.random.Generator, count: int) -> list[Sample]:
    pages = [render_page(rng, *DET_PAGE) for _ in range(count)]
    return [Sample(det_input(image), lines) for image, lines in pages]


def cls_samples(rng: np.random.Generator, count: int) -> list[Sample]:
    flips = rng.permutation(np.arange(count) % 2)
    samples = []
    for text, flip in zip(text_lines(rng, count), flips):
        image = render_line(text)
        samples.append(Sample(cls_input(np.ascontiguousarray(image[::-1, ::-1]) if flip else image),
                              int(flip)))
    return samples


def rec_samples(rng: np.random.Generator, count: int) -> list[Sample]:
    return [Sample(rec_input(render_line(t)), t) for t in text_lines(rng, count)]


# ---------------------------------------------------------------------------
# Metrics: each returns the table's header and one row per engine (FP32 first)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions of characters."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def char_accuracy(predicted: str, truth: str) -> float:
    """1 - character error rate: an inserted character costs as much as a lost one."""
    return max(0.0, 1.0 - edit_distance(predicted, truth) / max(len(truth), 1))


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def det_box_count(probability_map: np.ndarray) -> int:
    """Text boxes rapidocr's DBPostProcess finds (its TextDetector's settings)."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess

    post = DBPostProcess(thresh=DET_THRESHOLD, box_thresh=0.5, unclip_ratio=1.6,
                         use_dilation=True, score_mode="fast")
    boxes, _ = post(probability_map, probability_map.shape[2:])
    return len(boxes)


def det_table(model: Path, samples: list[Sample],
              outputs: dict[str, list[np.ndarray]]) -> tuple[list[str], list[list[str]]]:
    header = ["model", "mask IoU vs FP32 (mean / min)", "mean abs diff of probabilities",
              "mask pixels differing", "pages with FP32's box count"]
    ref = outputs[FP32]
    masks = [r > DET_THRESHOLD for r in ref]
    boxes = [det_box_count(r) for r in ref]
    truth = sum(len(s.truth) for s in samples)
    rows = [[FP32, f"- ({np.mean([m.mean() for m in masks]):.1%} of pixels text)", "-", "-",
             f"{sum(boxes)} boxes for {truth} rendered lines"]]
    for name, got in outputs.items():
        if name == FP32:
            continue
        ious = [mask_iou(g > DET_THRESHOLD, m) for g, m in zip(got, masks)]
        diff = np.mean([np.abs(g.astype(np.float64) - r).mean() for g, r in zip(got, ref)])
        flipped = np.mean([((g > DET_THRESHOLD) != m).mean() for g, m in zip(got, masks)])
        same = sum(det_box_count(g) == b for g, b in zip(got, boxes))
        rows.append([name, f"{np.mean(ious):.4f} / {np.min(ious):.4f}", f"{diff:.5f}",
                     f"{flipped:.3%}", f"{same}/{len(samples)}"])
    return header, rows


def cls_table(model: Path, samples: list[Sample],
              outputs: dict[str, list[np.ndarray]]) -> tuple[list[str], list[list[str]]]:
    header = ["model", "top-1 agreement with FP32", "accuracy (true orientation)",
              "max abs diff of softmax"]
    ref = np.concatenate(outputs[FP32])
    truth = np.array([s.truth for s in samples])
    rows = []
    for name, got in outputs.items():
        got = np.concatenate(got)
        accuracy = np.mean(got.argmax(axis=1) == truth)
        if name == FP32:
            rows.append([name, "-", f"{accuracy:.4f}", "-"])
            continue
        agree = int(np.sum(got.argmax(axis=1) == ref.argmax(axis=1)))
        rows.append([name, f"{agree}/{len(samples)}", f"{accuracy:.4f}",
                     f"{np.abs(got - ref).max():.2e}"])
    return header, rows


def rec_table(model: Path, samples: list[Sample],
              outputs: dict[str, list[np.ndarray]]) -> tuple[list[str], list[list[str]]]:
    header = ["model", "character accuracy (1 - CER)", "same text as FP32",
              "frames whose top class differs from FP32's"]
    texts = {k: [ctc_decode(model, p)[0] for p in v] for k, v in outputs.items()}
    rows = []
    for name, got in texts.items():
        accuracy = np.mean([char_accuracy(t, s.truth) for t, s in zip(got, samples)])
        if name == FP32:
            rows.append([name, f"{accuracy:.4f}", "-", "-"])
            continue
        same = sum(t == f for t, f in zip(got, texts[FP32]))
        frames = [(g.argmax(axis=-1) != f.argmax(axis=-1)) for g, f in zip(outputs[name],
                                                                            outputs[FP32])]
        differing = sum(int(d.sum()) for d in frames)
        total = sum(d.size for d in frames)
        rows.append([name, f"{accuracy:.4f}", f"{same}/{len(samples)}",
                     f"{differing}/{total}"])
    return header, rows


# ---------------------------------------------------------------------------
# The models


@dataclass
class Task:
    key: str
    model_name: str
    title: str
    seed: int
    make: Callable[[np.random.Generator, int], list[Sample]]
    table: Callable[[Path, list[Sample], dict[str, list[np.ndarray]]],
                    tuple[list[str], list[list[str]]]]
    shape: tuple[int, ...] | None  # fixed for quarc; None keeps the model's dynamic dims
    unit: str


TASKS = {
    "det": Task("det", "ch_PP-OCRv4_det_infer", "PP-OCRv4 det", 2027, det_samples, det_table,
                (1, 3, 480, 640), "pages"),
    "cls": Task("cls", "ch_ppocr_mobile_v2.0_cls_infer", "PP-OCR mobile v2.0 cls", 2028,
                cls_samples, cls_table, (1, 3, 48, 192), "lines (half rotated 180 degrees)"),
    "rec": Task("rec", "ch_PP-OCRv4_rec_infer", "PP-OCRv4 rec", 2026, rec_samples, rec_table,
                None, "lines"),
}


# ---------------------------------------------------------------------------
# Running the engines


def error_kinds(stderr: str) -> str:
    """The distinct 'error: ...' messages of a diagnostic output, without their
    locations and tensor shapes, each with how often it came: one compile can fail
    for several reasons."""
    counts: dict[str, int] = {}
    for line in stderr.splitlines():
        if "error: " in line:
            message = "error: " + line.split("error: ", 1)[1].strip()
            message = re.sub(r"tensor<(?:[0-9?]+x)+", "tensor<", message)  # any shape
            counts[message] = counts.get(message, 0) + 1
    if not counts:
        return quarc_tools.first_error_line(stderr)
    return "; ".join(m if n == 1 else f"{m} ({n} times)" for m, n in counts.items())


@dataclass
class Failure:
    engine: str
    command: str
    error: str


@dataclass
class Quarc:
    binary: Path
    work: Path  # shown as WORK in the commands of failures
    failures: list[Failure] = field(default_factory=list)

    def shorten(self, arg: str) -> str:
        """An argument as a failure shows it: quarc, MODEL.onnx, WORK/..."""
        if arg == str(self.binary):
            return "quarc"
        if arg.endswith(".onnx") and not arg.startswith(str(self.work)):
            return Path(arg).name
        return arg.replace(str(self.work), "WORK")

    def run(self, engine: str, args: list) -> bool:
        """Run a command (quarc or a compiled model); record a failure and return False on error."""
        args = [str(a) for a in args]
        code, _, err = quarc_tools.run_tool(args, timeout=COMMAND_TIMEOUT_S)
        if code == 0:
            return True
        error = (quarc_tools.diagnostic_summary(code, err) if quarc_tools.is_crash(code, err)
                 else f"exit {code}: {error_kinds(err)}")
        command = " ".join(self.shorten(a) for a in args)
        self.failures.append(Failure(engine, command, error))
        print(f"  FAILED: {command}\n    {error}", file=sys.stderr)
        return False


def wait_for(binary: Path, seconds: int = 600) -> None:
    """The binary, waiting while a rebuild of its build folder has it briefly missing."""
    deadline = time.time() + seconds
    while not binary.is_file():
        if not binary.parent.is_dir() or time.time() > deadline:
            sys.exit(f"{binary} does not exist (build quarc or pass --build-dir)")
        print(f"waiting for {binary} ...", file=sys.stderr)
        time.sleep(15)


def snapshot(build_dir: Path, folder: Path) -> Path:
    """Copies quarc and its runtime libraries (lib/quarc/ARCH, found next to the binary's
    folder) into `folder`, so that a rebuild while this runs changes nothing; the copy's quarc."""
    binary = folder / "bin" / "quarc"
    binary.parent.mkdir(parents=True)
    shutil.copy2(build_dir / "bin" / "quarc", binary)
    shutil.copytree(build_dir / "lib" / "quarc", folder / "lib" / "quarc")
    return binary


def ort_session(model: Path, optimized: bool = True) -> ort.InferenceSession:
    """onnxruntime; without graph optimizations a QDQ model runs as written
    (QuantizeLinear, DequantizeLinear, float ops), with them on its int8 kernels."""
    options = ort.SessionOptions()
    if not optimized:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def ort_quantize(model: Path, calib: list[np.ndarray], out: Path, preprocess: bool,
                 input_name: str = "x") -> Path:
    """onnxruntime's quantize_static: QDQ, per-channel, u8 activations, s8 weights, min-max
    (`calib` feeds the model's one input, `input_name`)."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{input_name: x} for x in calib])

        def get_next(self):
            return next(self.items, None)

    # PP-OCR's exports are opset 11/12, where DequantizeLinear has no axis:
    # per-channel QDQ needs opset 13 (the FP32 outputs stay bit-identical).
    upgraded = onnx.load(str(model))
    if quarc_tools.opset_versions(upgraded)["ai.onnx"] < 13:
        upgraded = onnx.version_converter.convert_version(upgraded, 13)
    source = opset13 = out.with_name(out.stem + "_opset13.onnx")
    onnx.save(upgraded, str(opset13))
    if preprocess:
        # quant_pre_process turns the weights, Constant nodes in these exports,
        # into initializers: without it quantize_static takes them for
        # activations (u8, per tensor, quantized at run time). Symbolic shape
        # inference needs sympy, which the venv lacks; ONNX shape inference and
        # the graph optimizations (BatchNorm folding) still run.
        source = out.with_name(out.stem + "_pre.onnx")
        quant_pre_process(str(opset13), str(source), skip_symbolic_shape=True)
    quantize_static(str(source), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    return out


def run_executables(quarc: Quarc, executables: dict[str, Path], inputs: list[Path],
                    work: Path) -> dict[str, list[np.ndarray]]:
    """Every executable on every input, two processes at a time (one thread each)."""
    jobs = [(name, exe, i, path) for name, exe in executables.items()
            for i, path in enumerate(inputs)]

    def one(job) -> np.ndarray | None:
        name, exe, i, path = job
        out = work / "out" / exe.name / f"{i:03d}"
        out.mkdir(parents=True, exist_ok=True)
        if not quarc.run(name, [exe, path, "--output-dir", out]):
            return None
        return np.load(next(out.glob("*.npy")))

    with ThreadPool(2) as pool:
        results = pool.map(one, jobs)
    outputs: dict[str, list[np.ndarray]] = {}
    for (name, *_), result in zip(jobs, results):
        outputs.setdefault(name, []).append(result)
    return {k: v for k, v in outputs.items() if all(r is not None for r in v)}


def log(key: str, start: float, what: str) -> None:
    print(f"{key} [{time.time() - start:5.0f} s]: {what}", file=sys.stderr, flush=True)


def quantize_and_compile(task: Task, args: argparse.Namespace, quarc: Quarc, work: Path,
                         calib: list[Sample]) -> tuple[dict[str, Path], Path, Path | None]:
    """quarc's int8 executable and onnxruntime's QDQ model compiled by quarc (those that
    compiled, by row name), onnxruntime's QDQ model, and quarc's exported as a QDQ model
    (`quarc quantize`, for the same shape; None if that failed)."""
    model = ocr_model(task.model_name)
    (work / "calib").mkdir()
    for i, s in enumerate(calib):
        np.save(work / "calib" / f"{i:03d}.npy", s.x)
    shape = quarc_tools.shape_flag("x", task.shape) if task.shape else []
    stats = work / "stats.json"
    calibrated = quarc.run(QUARC, [quarc.binary, "calibrate", model, "--data", work / "calib",
                                   "-o", stats, "--threads", "2"] + shape)
    ort_int8 = ort_quantize(model, [s.x for s in calib], work / f"{task.key}_ort_int8.onnx",
                            args.ort_preprocess)
    compiles = {QUARC_QDQ: [ort_int8, "-o", work / f"{task.key}_ort_qdq"]}
    exported = work / f"{task.key}_quarc_qdq.onnx"
    if not calibrated or not quarc.run(EXPORT_AS_WRITTEN, [quarc.binary, "quantize", model,
                                                           "--stats", stats, "-o", exported]
                                       + shape):
        exported = None
    if calibrated:
        scheme = ["--scheme", args.scheme] if args.scheme else []
        compiles[QUARC] = ["--quantize=int8", *scheme, "--stats", stats, model,
                           "-o", work / f"{task.key}_quarc_int8"]
    with ThreadPool(2) as pool:  # one core each
        ok = pool.map(lambda item: quarc.run(item[0], [quarc.binary, "compile", *item[1]] + shape),
                      compiles.items())
    executables = {name: Path(a[-1]) for (name, a), good in zip(compiles.items(), ok) if good}
    return executables, ort_int8, exported


def markdown_section(task: Task, args: argparse.Namespace, header: list[str],
                     rows: list[list[str]], failures: list[Failure], seconds: float) -> list[str]:
    """The model's table (a failed engine gets a row saying so) and its failures."""
    done = {row[0] for row in rows}
    rows = rows + [[name, "failed (see below)"] + [""] * (len(header) - 2)
                   for name in ENGINES if name not in done]
    rows.sort(key=lambda row: ENGINES.index(row[0]))
    shape = "x".join(map(str, task.shape)) if task.shape else "dynamic (1x3x48xW)"
    lines = [f"### {task.title} ({task.model_name})", "",
             f"{args.calib} calibration and {args.eval} evaluation {task.unit}; quarc input shape "
             f"{shape}; {seconds:.0f} s."
             + (f" quarc int8 with `--scheme {args.scheme}`." if args.scheme else ""), "",
             "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if failures:
        lines += ["", "Failures:"]
        lines += [f"- {f.engine}: `{f.command}`: {f.error}" for f in failures]
    return lines


def evaluate(task: Task, args: argparse.Namespace, quarc: Quarc, work: Path) -> list[str]:
    """Calibrate, quantize, compile and run one model; return its Markdown section."""
    start, first_failure = time.time(), len(quarc.failures)
    work = work / task.key
    (work / "eval").mkdir(parents=True)
    rng = np.random.default_rng(task.seed)
    calib, samples = task.make(rng, args.calib), task.make(rng, args.eval)
    for i, s in enumerate(samples):
        np.save(work / "eval" / f"{i:03d}.npy", s.x)
    log(task.key, start, f"calibrating on {args.calib} samples, quantizing, compiling")
    executables, ort_int8, exported = quantize_and_compile(task, args, quarc, work, calib)
    log(task.key, start, f"running {len(samples)} samples")
    model = ocr_model(task.model_name)
    fp32, ort_q = ort_session(model), ort_session(ort_int8)
    outputs = {FP32: [fp32.run(None, {"x": s.x})[0] for s in samples]}
    outputs.update(run_executables(quarc, executables, sorted((work / "eval").glob("*.npy")), work))
    outputs[ORT_INT8] = [ort_q.run(None, {"x": s.x})[0] for s in samples]
    if exported is not None:
        for name, optimized in ((EXPORT_AS_WRITTEN, False), (EXPORT_OPTIMIZED, True)):
            session = ort_session(exported, optimized)
            outputs[name] = [session.run(None, {"x": s.x})[0] for s in samples]
    outputs = {k: outputs[k] for k in ENGINES if k in outputs}
    log(task.key, start, "done")
    header, rows = task.table(model, samples, outputs)
    return markdown_section(task, args, header, rows, quarc.failures[first_failure:],
                            time.time() - start)


# ---------------------------------------------------------------------------
# The machine


def cpu_line() -> str:
    """'AMD EPYC (family 26, model 2), 2 cores; avx2 yes, avx512f yes, avx512_vnni yes'."""
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    flags = set(info.get("flags", "").split())
    features = ", ".join(f"{f} {'yes' if f in flags else 'no'}"
                         for f in ("avx2", "avx512f", "avx512_vnni"))
    return (f"{info.get('model name', '?')} (family {info.get('cpu family', '?')}, model "
            f"{info.get('model', '?')}), {os.cpu_count()} cores; {features}")


def quarc_build(build_dir: Path, binary: Path) -> str:
    """'3288c1a (2026-11-23), binary of 2026-12-05 18:46': the commit of the source tree
    the build folder belongs to (its parent, when a git checkout), whether that tree has
    uncommitted changes, and when the binary was built."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(build_dir.parent), *args], capture_output=True,
                              text=True, check=False).stdout.strip()

    commit = git("log", "-1", "--format=%h (%cs)") or f"{build_dir} (commit unknown)"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    built = datetime.datetime.fromtimestamp(binary.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    return f"{commit}, binary of {built}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="det,cls,rec",
                        help="comma-separated, of " + ", ".join(TASKS))
    parser.add_argument("--calib", type=int, default=16, help="calibration samples per model")
    parser.add_argument("--eval", type=int, default=24, help="evaluation samples per model")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")))
    parser.add_argument("--scheme", help="quarc int8's --scheme (e.g. reduce-range); "
                        "default: quarc's default scheme")
    parser.add_argument("--no-ort-preprocess", dest="ort_preprocess", action="store_false",
                        help="quantize with onnxruntime without quant_pre_process first")
    parser.add_argument("--output", type=Path, default=RESULTS / "ptq_accuracy.md")
    args = parser.parse_args()
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in TASKS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(TASKS)}")
    build_dir = args.build_dir.resolve()
    wait_for(build_dir / "bin" / "quarc")
    start, build = time.time(), quarc_build(build_dir, build_dir / "bin" / "quarc")
    work = Path(tempfile.mkdtemp(prefix="ptq-"))
    quarc = Quarc(snapshot(build_dir, work / "quarc"), work)
    sections = [evaluate(TASKS[k], args, quarc, work) for k in keys]
    ort_prep = ("on the model upgraded to opset 13 and put through quant_pre_process"
                if args.ort_preprocess else
                "on the model upgraded to opset 13, without quant_pre_process (its Constant-node "
                "weights are quantized like activations: u8, per tensor, at run time)")
    lines = ["# Post-training quantization accuracy (bench/ptq_accuracy.py)", "",
             f"Machine: {cpu_line()}. Measured {datetime.date.today()}, quarc {build}, "
             f"onnxruntime {ort.__version__}; {time.time() - start:.0f} s in all.", "",
             "quarc int8: `quarc calibrate` + `--quantize=int8` (default scheme: u8 per-tensor "
             "activations, s8 per-channel weights, min-max). onnxruntime int8: `quantize_static` "
             f"(QDQ, per-channel, QUInt8 activations, QInt8 weights, MinMax) {ort_prep}. Same "
             "calibration samples for both; the evaluation samples are separate. FP32 is "
             "onnxruntime's. quarc's QDQ model: `quarc quantize` with quarc int8's stats, run "
             "by onnxruntime as written (graph optimizations off: QuantizeLinear, "
             "DequantizeLinear and float ops) and optimized (its int8 kernels).", ""]
    for section in sections:
        lines += section + [""]
    text = "\n".join(lines)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"written to {args.output} (work files in {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
