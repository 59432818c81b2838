#!/usr/bin/env bash
# Prints docs/passes.md: the reference of every quarc pass, generated from
# the Passes.td files by mlir-tblgen (test/Docs/passes-doc.test checks that
# the committed file matches; `make docs` rewrites it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tblgen=${MLIR_TBLGEN:-/usr/lib/llvm-22/bin/mlir-tblgen}
echo "# quarc passes"
echo
echo "Generated from the Passes.td files by \`make docs\`; do not edit by hand."
echo "Every pass runs in \`quarc-opt\` under the name shown. The whole"
echo "compile pipeline is \`quarc-opt --quarc-compile-to-llvm='input-shapes=x=1x3x224x224'\`."
for td in include/quarc/Dialect/Quarc/Transforms/Passes.td \
          include/quarc/Conversion/Passes.td \
          include/quarc/Target/CPU/Passes.td; do
  echo
  case $td in
    *Transforms*) echo "## Graph-level passes (quarc dialect)";;
    *Conversion*) echo "## Conversions";;
    *CPU*) echo "## CPU code generation (linalg, buffers)";;
  esac
  "$tblgen" -gen-pass-doc -I /usr/lib/llvm-22/include -I "$root/include" \
    "$root/$td" | sed 's/^### /### /'
done
