#!/usr/bin/env bash
# `make demo`: compiles a real model shipped in a PyPI package (the PP-OCR
# text direction classifier from rapidocr-onnxruntime) to native
# executables, FP32 and int8 (calibrated on a few lines of rendered text),
# runs both on another rendered line, and compares their answers with
# onnxruntime's.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
python="$root/.venv/bin/python"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

model=$("$python" - "$out" <<'PY'
import pathlib, sys
import numpy as np
import rapidocr_onnxruntime
from PIL import Image, ImageDraw, ImageFont

out = pathlib.Path(sys.argv[1])
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)


def line(text: str, upside_down: bool) -> np.ndarray:
    """A line of text rendered with a real font, preprocessed like rapidocr's
    classifier: 48x192, scaled to [-1, 1]."""
    image = Image.new("RGB", (192, 48), "white")
    ImageDraw.Draw(image).text((6, 8), text, fill="black", font=font)
    if upside_down:
        image = image.rotate(180)
    x = (np.asarray(image, np.float32) / 255.0 - 0.5) / 0.5
    return x.transpose(2, 0, 1)[None].copy()


np.save(out / "x.npy", line("quarc demo 42", False))
# Calibration samples: other lines, half of them upside down.
(out / "calib").mkdir()
texts = ["Invoice total 118.40", "Order number 5531", "paid in full",
         "Customer address", "Bank transfer 42.00", "Quantity 7 units",
         "Shipping and tax", "Receipt 2026-12-05"]
for i, text in enumerate(texts):
    np.save(out / "calib" / f"{i}.npy", line(text, i % 2 == 1))
print(pathlib.Path(rapidocr_onnxruntime.__file__).parent / "models" /
      "ch_ppocr_mobile_v2.0_cls_infer.onnx")
PY
)
shape=(--input-shape x=1x3x48x192)
echo "quarc demo: compiling $(basename "$model") ($(du -h "$model" | cut -f1)) for the host"
time "$build/bin/quarc" compile "$model" "${shape[@]}" -o "$out/classifier"
echo
echo "calibrating on 8 rendered lines and compiling to int8:"
"$build/bin/quarc" calibrate "$model" "${shape[@]}" --data "$out/calib" -o "$out/stats.json"
time "$build/bin/quarc" compile "$model" "${shape[@]}" --quantize=int8 \
  --stats "$out/stats.json" -o "$out/classifier_int8"
echo
echo "header (first lines of $out/classifier.h):"
sed -n 2,7p "$out/classifier.h"
echo
for name in classifier classifier_int8; do
  echo "running $name on a rendered line:"
  "$out/$name" --input "x=$out/x.npy" --output-dir "$out/result_$name"
  "$out/$name" --input "x=$out/x.npy" --benchmark 10
done
"$python" - "$model" "$out" <<'PY'
import pathlib, sys
import numpy as np
import onnxruntime as ort
model, out = sys.argv[1], pathlib.Path(sys.argv[2])
x = np.load(out / "x.npy")
reference = ort.InferenceSession(model).run(None, {"x": x})[0]
print(f"onnxruntime: {reference.ravel()} (0 = upright, 1 = rotated 180)")
for name in ("classifier", "classifier_int8"):
    (result,) = sorted((out / f"result_{name}").glob("*.npy"))
    ours = np.load(result)
    print(f"quarc {name + ':':17s}{ours.ravel()} "
          f"(max abs difference {np.abs(ours - reference).max():.2e})")
PY
