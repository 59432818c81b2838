"""`quarc report` on PP-OCR's text-direction classifier (rapidocr-onnxruntime's
ch_ppocr_mobile_v2.0_cls_infer.onnx, input 1x3x48x192): text lines rendered with a real font
and preprocessed like rapidocr, half of them upside down (what the classifier tells apart),
calibrated and measured on the same lines. Writes bench/results/report_cls.{md,png}.

Usage: .venv/bin/python bench/report_cls.py [--lines N]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "python"))
sys.path.insert(0, str(ROOT / "bench"))
from ptq_accuracy import text_lines  # noqa: E402
from test_compiled_models import cls_input, ocr_model, render_line  # noqa: E402


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=32)
    args = parser.parse_args()
    model = ocr_model("ch_ppocr_mobile_v2.0_cls_infer")
    rng = np.random.default_rng(2026)
    # Paths relative to the checkout, as the report prints them.
    data = ROOT / "build" / "report-cls-lines"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    for i, text in enumerate(text_lines(rng, args.lines)):
        image = render_line(text)
        if i % 2:
            image = np.ascontiguousarray(image[::-1, ::-1])  # upside down
        np.save(data / f"{i:03d}.npy", cls_input(image))
    results = Path("bench") / "results"
    command = [ROOT / "build" / "bin" / "quarc", "report", os.path.relpath(model, ROOT),
               "--data", data.relative_to(ROOT), "--input-shape", "x=1x3x48x192",
               "-o", results / "report_cls.md", "--png", results / "report_cls.png"]
    try:
        subprocess.run([str(c) for c in command], check=True, cwd=ROOT)
    finally:
        shutil.rmtree(data)
    print(f"wrote {results}/report_cls.{{md,png}} ({args.lines} lines; {cpu_name()})")


if __name__ == "__main__":
    main()
