#!/usr/bin/env bash
# Builds and runs the FP32 FMA peak probe for the widest vectors the host
# has, and prints the CPU name and features with the figure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="-O2 -mavx2 -mfma"
grep -qw avx512f /proc/cpuinfo && flags="-O2 -mavx512f -mfma"
/usr/lib/llvm-22/bin/clang $flags "$here/peak_fma.c" -o "$out/peak_fma"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "features: $(grep -m1 -o 'avx512_vnni\|avx512f\|avx2\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$out/peak_fma"
