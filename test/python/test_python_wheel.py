"""`pip install .`: the checkout builds a wheel of the quarc package (pyproject.toml,
scikit-build-core), which works installed outside the checkout and the build tree.

The wheel is built with the checkout's virtual environment (nanobind and
scikit-build-core are in it: no download) in build/python-wheel/, which
persists, so only the first run compiles quarc. It compiles through ccache
when there is one (the Makefile's keying, CCACHE_BASEDIR, makes a fresh
clone hit what an earlier clone's wheel build stored: about 9 minutes of the
CI run on 2 cores otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import quarc_tools

pytest.importorskip("scikit_build_core", reason="scikit-build-core is not installed "
                    "(scripts/setup.sh installs it)")
pytest.importorskip("nanobind", reason="nanobind is not installed (scripts/setup.sh "
                    "installs it)")

WHEEL_TIMEOUT_S = 3600


def test_pip_wheel_installs_and_runs(tmp_path):
    model = quarc_tools.package_dir("rapidocr_onnxruntime")
    if model is None:
        pytest.skip("rapidocr_onnxruntime is not installed")
    model = model / "models" / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
    wheels = tmp_path / "wheels"
    env = dict(os.environ)
    if shutil.which("ccache"):
        for language in ("C", "CXX"):
            env.setdefault(f"CMAKE_{language}_COMPILER_LAUNCHER", "ccache")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "-w", str(wheels), str(quarc_tools.REPO_ROOT)],
        capture_output=True, text=True, timeout=WHEEL_TIMEOUT_S, check=False, env=env)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = wheels.glob("quarc-*.whl")
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target),
         str(wheel)], capture_output=True, text=True, timeout=600, check=False)
    assert install.returncode == 0, install.stderr[-3000:]

    # In a folder of its own, with only the installed package on the path.
    script = textwrap.dedent(f"""
        import numpy as np, onnxruntime as ort, quarc
        assert quarc.__file__.startswith({str(target)!r}), quarc.__file__
        x = np.random.default_rng(0).random((1, 3, 48, 192), dtype=np.float32)
        model = quarc.compile({str(model)!r}, input_shapes={{"x": x.shape}})
        want = ort.InferenceSession({str(model)!r}).run(None, {{"x": x}})[0]
        assert np.abs(model(x) - want).max() < 1e-4
        model.save("cls.so")
        assert quarc.load("cls.so")(x).tobytes() == model(x).tobytes()
        print("wheel ok", quarc.__version__)
    """)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    result = subprocess.run([sys.executable, "-c", script], cwd=run_dir,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wheel ok" in result.stdout
