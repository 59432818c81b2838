#!/usr/bin/env bash
# `make demo`: compiles a real model shipped in a PyPI package (the PP-OCR
# text direction classifier from rapidocr-onnxruntime) to a native
# executable, runs it on an image of rendered text, and compares its answer
# with onnxruntime's. (Quantization to int8 joins this demo once the PTQ
# work lands; today the compiled model is FP32.)
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
# A line of text rendered with a real font, preprocessed like rapidocr's
# classifier: 48x192, scaled to [-1, 1].
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 28)
image = Image.new("RGB", (192, 48), "white")
ImageDraw.Draw(image).text((6, 8), "quarc demo 42", fill="black", font=font)
x = (np.asarray(image, np.float32) / 255.0 - 0.5) / 0.5
np.save(out / "x.npy", x.transpose(2, 0, 1)[None].copy())
print(pathlib.Path(rapidocr_onnxruntime.__file__).parent / "models" /
      "ch_ppocr_mobile_v2.0_cls_infer.onnx")
PY
)
echo "quarc demo: compiling $(basename "$model") ($(du -h "$model" | cut -f1)) for the host"
time "$build/bin/quarc" compile "$model" --input-shape x=1x3x48x192 -o "$out/classifier"
echo
echo "header (first lines of $out/classifier.h):"
sed -n 2,7p "$out/classifier.h"
echo
echo "running the executable on rendered text:"
"$out/classifier" --input "x=$out/x.npy" --output-dir "$out/result"
"$out/classifier" --input "x=$out/x.npy" --benchmark 10
"$python" - "$model" "$out" <<'PY'
import pathlib, sys
import numpy as np
import onnxruntime as ort
model, out = sys.argv[1], pathlib.Path(sys.argv[2])
x = np.load(out / "x.npy")
reference = ort.InferenceSession(model).run(None, {"x": x})[0]
(result,) = sorted((out / "result").glob("*.npy"))
quarc = np.load(result)
print(f"quarc:       {quarc.ravel()} (0 = upright, 1 = rotated 180)")
print(f"onnxruntime: {reference.ravel()}")
print(f"max abs difference: {np.abs(quarc - reference).max():.2e}")
PY
