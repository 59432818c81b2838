"""The ONNX exporter on every op the importer takes: import, export, run, compare.

* Every ONNX backend node test case the importer takes (the selection of
  test_onnx_node_conformance.py) is imported with `quarc-translate --import-onnx`,
  exported back with `--export-onnx`, checked with the PyPI onnx package's full checker
  (it knows opset 23; libonnx 1.12, which the exporter runs, stops at 17) and run by
  onnx.reference on the case's inputs: the outputs must be the case's expected ones
  (floats to rtol 1e-3 / atol 1e-5, as in test_compiled_node_conformance.py; integers
  and bools exactly). Every case must pass: an op the importer takes and the exporter
  cannot write back is a bug in one of them.
* The real models of test_real_models.py's required set (PP-OCR det/rec/cls, the
  onnx "light" CNNs) make the same round trip in float and must give onnxruntime's
  outputs of the original model to 1e-5 of the output's largest magnitude, and keep
  their metadata.

onnx.reference runs the node cases, not onnxruntime, because onnxruntime 1.32 lacks
some of their forms (batchwise RNN layout, Max/Min on int16) and differs from the
specification on others (Resize downsampling with align_corners), on the original
models as on the exported ones.
"""

from __future__ import annotations

import subprocess
import tempfile
import warnings
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx.reference import ReferenceEvaluator

import quarc_tools

# The machine has 2 cores and the build shares them.
WORKERS = 2

RTOL = 1e-3
ATOL = 1e-5
REPORT_NAME = "onnx-export-conformance.txt"


def round_trip(model_path: Path, exported: Path) -> tuple[int, str]:
    """quarc-translate --import-onnx MODEL | quarc-translate --export-onnx -o EXPORTED."""
    translate = str(quarc_tools.tool_path("quarc-translate"))
    imported = subprocess.run([translate, "--import-onnx", str(model_path)],
                              capture_output=True, timeout=quarc_tools.IMPORT_TIMEOUT_S)
    if imported.returncode != 0:
        return -1, imported.stderr.decode(errors="replace")  # the importer's business
    export = subprocess.run([translate, "--export-onnx", "-", "-o", str(exported)],
                            input=imported.stdout, capture_output=True,
                            timeout=quarc_tools.IMPORT_TIMEOUT_S)
    return export.returncode, export.stderr.decode(errors="replace")


def check_case(case) -> tuple[str, str] | None:
    """None if the case round-trips, else (status, detail); status 'skipped' when the
    importer does not take the model."""
    with tempfile.TemporaryDirectory(prefix="quarc-export-") as tmp:
        source, exported = Path(tmp) / "model.onnx", Path(tmp) / "exported.onnx"
        onnx.save(case.model, source)
        code, err = round_trip(source, exported)
        if code < 0:
            return "skipped", "import: " + quarc_tools.first_error_line(err)
        if code != 0 or quarc_tools.is_crash(code, err):
            return "failed", "export: " + quarc_tools.diagnostic_summary(code, err)
        model = onnx.load(exported)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # noqa: BLE001 (the checker raises several kinds)
        return "failed", f"checker: {str(error).splitlines()[0]}"
    inputs, expected = case.data_sets[0]
    names = [v.name for v in model.graph.input]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            got = ReferenceEvaluator(model).run(None, dict(zip(names, map(np.asarray, inputs))))
    except Exception as error:  # noqa: BLE001 (any failure of the exported model)
        return "failed", f"onnx.reference: {type(error).__name__}: {str(error)[:200]}"
    for i, (have, want) in enumerate(zip(got, expected)):
        have, want = np.asarray(have), np.asarray(want)
        if have.shape != want.shape or have.dtype != want.dtype:
            return "failed", f"output {i}: {have.dtype}{list(have.shape)}, expected " \
                             f"{want.dtype}{list(want.shape)}"
        if want.dtype.kind == "f":
            close = np.allclose(have, want, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            close = np.array_equal(have, want)
        if not close:
            return "failed", f"output {i} differs from the expected values"
    return None


def test_node_cases_round_trip(supported_ops):
    cases, _ = quarc_tools.classify_node_cases(quarc_tools.load_node_cases(), supported_ops)
    assert len(cases) > 600, "the node test selection is unexpectedly small"
    with ThreadPool(WORKERS) as pool:
        outcomes = pool.map(check_case, cases)
    failed = {c.name: o[1] for c, o in zip(cases, outcomes) if o and o[0] == "failed"}
    skipped = [c.name for c, o in zip(cases, outcomes) if o and o[0] == "skipped"]
    passed = len(cases) - len(failed) - len(skipped)
    lines = [f"onnx export round trip: tried {len(cases)}, passed {passed}, "
             f"failed {len(failed)}, not imported {len(skipped)}"]
    lines += [f"  {name}: {detail}" for name, detail in sorted(failed.items())]
    (quarc_tools.reports_dir() / REPORT_NAME).write_text("\n".join(lines) + "\n")
    print(lines[0])
    # Models the importer rejects are test_onnx_node_conformance.py's business (it
    # allows 5%); every model it takes must round-trip.
    assert len(skipped) <= 0.05 * len(cases), skipped
    assert not failed, "\n".join(lines)


def real_models() -> list:
    from test_real_models import MODELS

    return [m for m in MODELS if m.required]


@pytest.mark.parametrize("model", real_models(), ids=lambda m: m.id)
def test_real_model_round_trip(model, tmp_path):
    import onnxruntime as ort

    exported = tmp_path / "exported.onnx"
    code, err = round_trip(model.path, exported)
    assert code == 0, quarc_tools.diagnostic_summary(code, err)
    proto = onnx.load(exported)
    onnx.checker.check_model(proto, full_check=True)
    # The metadata (PP-OCR rec's character list) comes back too.
    source = onnx.load(model.path, load_external_data=False)
    assert ({p.key: p.value for p in proto.metadata_props}
            == {p.key: p.value for p in source.metadata_props})
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    original = ort.InferenceSession(str(model.path), options, providers=["CPUExecutionProvider"])
    ours = ort.InferenceSession(str(exported), options, providers=["CPUExecutionProvider"])
    assert [o.name for o in ours.get_outputs()] == [o.name for o in original.get_outputs()]
    rng = np.random.default_rng(0)
    feeds = {}
    for value in original.get_inputs():
        # Dynamic dims: batch 1, PP-OCR's rec needs height 48, the rest 64.
        shape = [d if isinstance(d, int) and d > 0 else (1 if i == 0 else 64)
                 for i, d in enumerate(value.shape)]
        if "rec" in model.id and len(shape) == 4:
            shape[2] = 48
        feeds[value.name] = rng.standard_normal(shape).astype(np.float32)
    for want, got in zip(original.run(None, feeds), ours.run(None, feeds)):
        # The same float ops, in the newest opset's form; the importer's rewrites
        # (BatchNorm kept, Softmax of opset 11 as Flatten+Softmax+Reshape) may change
        # float rounding, nothing more.
        np.testing.assert_allclose(got, want, rtol=0,
                                   atol=1e-5 * max(1.0, float(np.abs(want).max())))
