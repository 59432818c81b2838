#!/usr/bin/env bash
# Builds and runs the peak probes for what the host has: FP32 FMA for its
# widest vectors, and int8 dot products with every instruction set it
# supports (AVX-512 VNNI, AVX-VNNI, AVX2); prints the CPU name and features
# with the figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
clang=/usr/lib/llvm-22/bin/clang
has() { grep -qw "$1" /proc/cpuinfo; }
flags="-O2 -mavx2 -mfma"
has avx512f && flags="-O2 -mavx512f -mfma"
$clang $flags "$here/peak_fma.c" -o "$out/peak_fma"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "features: $(grep -m1 -o 'avx512_vnni\|avx_vnni\|avx512f\|avx2\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$out/peak_fma"
if has avx512_vnni; then
  $clang -O2 -mavx512f -mavx512vnni "$here/peak_int8.c" -o "$out/peak_vnni512"
  "$out/peak_vnni512"
fi
if has avx_vnni; then
  $clang -O2 -mavx2 -mavxvnni "$here/peak_int8.c" -o "$out/peak_avxvnni"
  "$out/peak_avxvnni"
fi
$clang -O2 -mavx2 "$here/peak_int8.c" -o "$out/peak_avx2"
"$out/peak_avx2"
