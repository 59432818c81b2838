"""pytest set-up for the quarc Python tests: make quarc_tools importable, skip without a build."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quarc_tools  # noqa: E402  (needs the path above)


@pytest.fixture(scope="session")
def quarc_translate() -> Path:
    """Path of the built quarc-translate; skips the test when it has not been built."""
    path = quarc_tools.tool_path("quarc-translate")
    if not path.is_file():
        pytest.skip(f"{path} not built (set QUARC_BUILD_DIR to use another build)")
    return path


@pytest.fixture(scope="session")
def supported_ops(quarc_translate):
    """The importer's op table, from `quarc-translate --list-onnx-ops`."""
    return quarc_tools.supported_ops()


@pytest.fixture(scope="session")
def quarc_driver() -> Path:
    """Path of the built `quarc` driver; skips the test when it has not been built."""
    path = quarc_tools.tool_path("quarc")
    if not path.is_file():
        pytest.skip(f"{path} not built (set QUARC_BUILD_DIR to use another build)")
    return path
