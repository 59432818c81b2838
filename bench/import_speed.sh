#!/usr/bin/env bash
# Measures how long quarc takes to import a ResNet-50-sized model (102 MB of
# weights), embedded and as external data, to text MLIR and to bytecode.
# Prints the CPU with the figures. usage: bench/import_speed.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
python="$root/.venv/bin/python"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" "$root/bench/resnet50_model.py" "$work/resnet50.onnx"
mkdir -p "$work/ext"
"$python" "$root/bench/resnet50_model.py" "$work/ext/resnet50.onnx" --external-data
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
     "$(nproc) cores, features: $(grep -o -w -E 'avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "model: $(du -h "$work/resnet50.onnx" | cut -f1) (embedded weights)"

run() { # label, command...
  local label=$1; shift
  local best=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    local dt; dt=$(echo "$t1 - $t0" | bc)
    if [ -z "$best" ] || [ "$(echo "$dt < $best" | bc)" = 1 ]; then best=$dt; fi
  done
  printf '%-58s best of 3: %6.2f s\n' "$label" "$best"
}
run "import + verify, write bytecode (embedded weights)" \
  "$build/bin/quarc-opt" "$work/resnet50.onnx" --emit-bytecode -o "$work/out.mlirbc"
run "import + verify, write bytecode (external data file)" \
  "$build/bin/quarc-opt" "$work/ext/resnet50.onnx" --emit-bytecode -o "$work/out.mlirbc"
run "import, print text MLIR (hex weights)" \
  "$build/bin/quarc-translate" --import-onnx "$work/resnet50.onnx" -o "$work/out.mlir"
