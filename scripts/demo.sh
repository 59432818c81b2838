#!/usr/bin/env bash
# `make demo`: imports a real model shipped in a PyPI package (the PP-OCR text
# direction classifier from rapidocr-onnxruntime), verifies it, and prints a
# summary of its IR: the function signature and how many of each op it has.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
model=$("$root/.venv/bin/python" - <<'PY'
import pathlib, rapidocr_onnxruntime
print(pathlib.Path(rapidocr_onnxruntime.__file__).parent / "models" /
      "ch_ppocr_mobile_v2.0_cls_infer.onnx")
PY
)
echo "quarc demo: importing $(basename "$model") ($(du -h "$model" | cut -f1))"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$build/bin/quarc-translate" --import-onnx "$model" -o "$out/model.mlir"
echo
echo "signature:"
grep -m1 'func.func' "$out/model.mlir" | sed 's/^ */  /'
echo
echo "ops (quarc-opt --print-op-stats):"
"$build/bin/quarc-opt" "$out/model.mlir" --print-op-stats -o /dev/null 2>&1 \
  | sed -n '/Operations encountered/,$p'
