"""pytest set-up for the quarc Python tests: make quarc_tools importable, skip without a build."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quarc_tools  # noqa: E402  (needs the path above)

# Files whose tests take minutes in all (a wheel build, compiles of the PP-OCR
# models and CNNs). scripts/run-tests.sh spreads the files over one worker
# per core (pytest-xdist, --dist loadfile), in collection order: these start
# first, longest first, so that no worker is left with one of them after the
# others are done.
LONGEST_FILES = ("test_python_api.py", "test_python_wheel.py", "test_compiled_models.py")


def pytest_collection_modifyitems(items):
    """Collects LONGEST_FILES first (the sort is stable: the rest keep their order)."""
    def rank(item):
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)
    items.sort(key=rank)


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
