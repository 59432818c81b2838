#!/usr/bin/env bash
# Installs what quarc needs and is missing: Debian packages, then a Python virtual
# environment inside the checkout (.venv). Idempotent: a second run with everything
# present only checks and returns in seconds. `setup.sh --asan` also installs the
# sanitizer runtime for `make asan`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

debian_packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  libonnx-dev libprotobuf-dev protobuf-compiler
  cmake ninja-build ccache googletest libgtest-dev zlib1g-dev
  qemu-user libc6-dev-arm64-cross libgcc-12-dev-arm64-cross fonts-dejavu-core time
)
[ "${1:-}" = "--asan" ] && debian_packages+=(libclang-rt-22-dev)
python_packages=(numpy onnx onnxruntime pytest pytest-xdist rapidocr-onnxruntime pillow matplotlib nanobind scikit-build-core)

missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
# A stamp records the package list that was installed, so a re-run skips pip.
stamp="$venv/.quarc-packages"
wanted="${python_packages[*]}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "setup: installing Python packages: $wanted"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q "${python_packages[@]}"
  echo "$wanted" >"$stamp"
fi
