"""Imports real ONNX models shipped inside the venv's PyPI packages (OCR, CNNs, PyTorch exports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import onnx
import pytest

import quarc_tools


@dataclass(frozen=True)
class RealModel:
    id: str
    path: Path
    # Required models must import; the others are skipped when they use an op
    # (or opset) the importer does not list.
    required: bool


def package_dir(name: str) -> Path | None:
    """Folder of an installed package, or None when it is not installed."""
    return quarc_tools.package_dir(name)


def _models(root: Path | None, pattern: str, group: str, required: bool) -> list[RealModel]:
    if root is None:
        return []
    found = []
    for path in sorted(root.glob(pattern)):
        stem = path.parent.name if path.name == "model.onnx" else path.stem
        found.append(RealModel(f"{group}/{stem}", path, required))
    return found


def real_models() -> list[RealModel]:
    """Every model this suite imports, found through the packages' own locations."""
    ocr = package_dir("rapidocr_onnxruntime")
    ort = package_dir("onnxruntime")
    onnx_data = Path(onnx.__file__).parent / "backend" / "test" / "data"
    models = _models(ocr, "models/*.onnx", "rapidocr", required=True)
    models += _models(onnx_data, "light/*.onnx", "light", required=True)
    for group in ("simple", "pytorch-converted", "pytorch-operator", "real"):
        models += _models(onnx_data, f"{group}/*/model.onnx", group, required=False)
    models += _models(ort, "datasets/*.onnx", "onnxruntime", required=False)
    return models


MODELS = real_models()

# rapidocr ships the PP-OCR det/cls/rec models; onnx ships nine "light" CNNs.
EXPECTED_REQUIRED = {"rapidocr": 3, "light": 9}


def test_required_models_present():
    """Guard against a package upgrade silently emptying the parametrization."""
    for group, count in EXPECTED_REQUIRED.items():
        found = [m for m in MODELS if m.required and m.id.startswith(group + "/")]
        assert len(found) == count, f"expected {count} {group} models, found {len(found)}"


@pytest.mark.parametrize("model", MODELS, ids=[m.id for m in MODELS])
def test_real_model_imports(model: RealModel, supported_ops):
    proto = onnx.load(str(model.path), load_external_data=False)
    if not model.required:
        reason = quarc_tools.unsupported_reason(proto, supported_ops)
        if reason:
            pytest.skip(reason)

    code, out, err = quarc_tools.import_model(model.path)

    assert not quarc_tools.is_crash(code, err), quarc_tools.diagnostic_summary(code, err)
    assert code == 0, quarc_tools.first_error_line(err)
    assert "func.func" in out
    results = result_signature(out)
    missing = [o.name for o in proto.graph.output
               if f"quarc.name = {quarc_tools.mlir_string_literal(o.name)}" not in results]
    assert not missing, f"graph outputs not named in the func results: {missing}"


def result_signature(mlir: str) -> str:
    """The result list of the first func.func, where the importer names the graph outputs."""
    header = next(line for line in mlir.splitlines() if "func.func" in line)
    return header.split(") -> ", 1)[-1]
