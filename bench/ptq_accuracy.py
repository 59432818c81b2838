"""Post-training quantization accuracy on PP-OCRv4 rec, side by side: FP32 vs quarc int8
(quarc calibrate + --quantize=int8) vs onnxruntime int8 (quantize_static, QDQ, per-channel,
u8/s8, min-max, same calibration images). Metric: character accuracy of the CTC-decoded
text against the rendered ground truth, and agreement with FP32's decoded text.

Text is rendered with a real font (DejaVu Sans) and preprocessed like rapidocr.
Usage: .venv/bin/python bench/ptq_accuracy.py [--calib N] [--eval N]
"""
from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "python"))
from test_compiled_models import ctc_decode, ocr_model, rec_input, render_line  # noqa: E402

WORDS = ("invoice total amount due paid balance order number date customer address street "
         "city phone email quantity price tax discount shipping subtotal receipt account "
         "reference payment bank transfer euro dollar net gross item description unit").split()


def text_lines(rng: np.random.Generator, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        words = [w.capitalize() if rng.random() < 0.3 else w for w in rng.choice(WORDS, 2)]
        lines.append(f"{' '.join(words)} {rng.integers(1, 9999)}.{rng.integers(0, 99):02d}")
    return lines


def char_accuracy(predicted: str, truth: str) -> float:
    matcher = difflib.SequenceMatcher(None, predicted, truth)
    return sum(b.size for b in matcher.get_matching_blocks()) / max(len(truth), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calib", type=int, default=16)
    parser.add_argument("--eval", type=int, default=24)
    args = parser.parse_args()
    quarc = ROOT / "build" / "bin" / "quarc"
    model = ocr_model("ch_PP-OCRv4_rec_infer")
    rng = np.random.default_rng(2026)
    calib_lines, eval_lines = text_lines(rng, args.calib), text_lines(rng, args.eval)
    work = Path(tempfile.mkdtemp(prefix="ptq-"))
    (work / "calib").mkdir()
    calib = [rec_input(render_line(t)) for t in calib_lines]
    for i, x in enumerate(calib):
        np.save(work / "calib" / f"{i:03d}.npy", x)
    subprocess.run([quarc, "calibrate", model, "--data", work / "calib", "-o", work / "stats.json"],
                   check=True)

    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"x": x} for x in calib])

        def get_next(self):
            return next(self.items, None)

    ort_int8 = work / "rec_ort_int8.onnx"
    quantize_static(str(model), str(ort_int8), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    fp32 = ort.InferenceSession(str(model))
    ort_q = ort.InferenceSession(str(ort_int8))
    # Compiled once each: quarc's own int8 model, and onnxruntime's QDQ model
    # compiled by quarc (QDQ import: its parameters, quarc's integer code).
    executables = {"quarc int8": work / "rec_quarc_int8",
                   "quarc compiling onnxruntime's QDQ model": work / "rec_ort_qdq"}
    subprocess.run([quarc, "compile", model, "--quantize=int8", "--stats", work / "stats.json",
                    "-o", executables["quarc int8"]], check=True)
    subprocess.run([quarc, "compile", ort_int8, "-o",
                    executables["quarc compiling onnxruntime's QDQ model"]], check=True)
    rows = {"FP32 (onnxruntime)": [], **{k: [] for k in executables}, "onnxruntime int8": []}
    agree = {k: 0 for k in rows if k != "FP32 (onnxruntime)"}
    for i, truth in enumerate(eval_lines):
        x = rec_input(render_line(truth))
        np.save(work / "x.npy", x)
        probs = {"FP32 (onnxruntime)": fp32.run(None, {"x": x})[0],
                 "onnxruntime int8": ort_q.run(None, {"x": x})[0]}
        for name, exe in executables.items():
            out = work / f"out{i}-{exe.name}"
            subprocess.run([exe, work / "x.npy", "--output-dir", out], check=True,
                           capture_output=True)
            probs[name] = np.load(next(out.glob("*.npy")))
        texts = {k: ctc_decode(model, v)[0] for k, v in probs.items()}
        for k, t in texts.items():
            rows[k].append(char_accuracy(t, truth))
        for k in agree:
            agree[k] += texts[k] == texts["FP32 (onnxruntime)"]
    print(f"PP-OCRv4 rec, {args.calib} calibration lines, {args.eval} evaluation lines")
    print("| model | character accuracy | same text as FP32 |")
    print("| --- | --- | --- |")
    for k, v in rows.items():
        same = "-" if k not in agree else f"{agree[k]}/{args.eval}"
        print(f"| {k} | {np.mean(v):.4f} | {same} |")


if __name__ == "__main__":
    main()
