"""AArch64 code from the same compiler: cross-compiled executables run under
qemu-aarch64 and agree with the x86-64 build of the same model (float
tolerance: the two backends may contract or reorder differently)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import quarc_tools

QEMU = shutil.which("qemu-aarch64")
SYSROOT = Path("/usr/aarch64-linux-gnu")

pytestmark = pytest.mark.skipif(
    QEMU is None or not (SYSROOT / "lib").is_dir(),
    reason="needs qemu-aarch64 and the AArch64 cross libc (scripts/setup.sh installs them)")


def cls_model() -> Path:
    import rapidocr_onnxruntime
    return (Path(rapidocr_onnxruntime.__file__).parent / "models"
            / "ch_ppocr_mobile_v2.0_cls_infer.onnx")


def compile_and_run(model: Path, target: str, sample: Path, work: Path,
                    runner: list[str]) -> np.ndarray:
    exe = work / f"model_{target.replace('+', '_')}"
    subprocess.run([str(quarc_tools.tool_path("quarc")), "compile", str(model), "-o", str(exe),
                    f"--target={target}", "--input-shape=x=1x3x48x192"],
                   check=True, capture_output=True, text=True)
    out = work / f"out_{target.replace('+', '_')}"
    subprocess.run(runner + [str(exe), "--input", f"x={sample}", "--output-dir", str(out)],
                   check=True, capture_output=True, text=True, timeout=600)
    (result,) = sorted(out.glob("*.npy"))
    return np.load(result)


@pytest.mark.parametrize("target", ["aarch64", "aarch64+dotprod", "aarch64+i8mm"])
def test_aarch64_matches_x86(tmp_path, target):
    rng = np.random.default_rng(7)
    sample = tmp_path / "x.npy"
    np.save(sample, rng.uniform(-1, 1, (1, 3, 48, 192)).astype(np.float32))
    x86 = compile_and_run(cls_model(), "host", sample, tmp_path, [])
    arm = compile_and_run(cls_model(), target, sample, tmp_path,
                          [QEMU, "-L", str(SYSROOT)])
    assert arm.shape == x86.shape
    np.testing.assert_allclose(arm, x86, rtol=1e-5, atol=1e-6)
