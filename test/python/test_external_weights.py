"""Weights in a separate file: `quarc compile --weights=FILE` (docs/cli.md, docs/runtime.md).

A small CNN and PP-OCR's text recognizer are compiled twice, with the weights
embedded and with them in a weights file, to executables and to a shared
library. With the file, results must be bit-identical to the embedded build's
(the same kernels read the same bytes, only from a mapped file) and match
onnxruntime; the artefact must have lost the weights; a weights file of
another model, a truncated one or a missing one is a clear error naming the
file; a failed compile leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import shutil
import struct
import subprocess
from dataclasses import dataclass
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import quarc_tools

pytest.importorskip("onnxruntime")  # the reference (quarc_tools.onnxruntime_reference)

# |quarc - onnxruntime| <= REL_TOL * max(1, max |onnxruntime|): float32 sums in
# another order than onnxruntime's, as in test_compiled_models.py.
REL_TOL = 1e-4

# Compiling the recognizer takes ~10 s on an idle core; allow for a busy machine.
COMPILE_TIMEOUT_S = 600

# quarc_runtime.h: the weights file header and the status for a wrong file.
WEIGHTS_MAGIC = b"QUARCWTS"
WEIGHTS_VERSION = 1
WEIGHTS_HEADER_BYTES = 64
QUARC_ERROR_IO = 6
QUARC_ERROR_WEIGHTS = 7


def fnv1a64(data: bytes) -> int:
    """The 64-bit FNV-1a hash the compiler writes into the header."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def read_header(path: Path) -> dict:
    magic, version, header_bytes, size, digest = struct.unpack_from(
        "<8sIIQQ", path.read_bytes()[:WEIGHTS_HEADER_BYTES])
    return {"magic": magic, "version": version, "header_bytes": header_bytes,
            "weights_bytes": size, "weights_hash": digest}


def cnn_model() -> onnx.ModelProto:
    """Conv(3->32) + Relu + Conv(32->64) + Relu + GlobalAveragePool + Gemm(64->1000).

    About 330 KB of weights, all but the biases above the 1 KiB threshold.
    """
    rng = np.random.default_rng(3)
    weights = {
        "conv1_w": rng.standard_normal((32, 3, 3, 3)).astype(np.float32) * 0.3,
        "conv1_b": rng.standard_normal(32).astype(np.float32),
        "conv2_w": rng.standard_normal((64, 32, 3, 3)).astype(np.float32) * 0.1,
        "conv2_b": rng.standard_normal(64).astype(np.float32),
        "fc_w": rng.standard_normal((64, 1000)).astype(np.float32) * 0.1,
        "fc_b": rng.standard_normal(1000).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "conv1_w", "conv1_b"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "conv2_w", "conv2_b"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "cnn_weights",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
        initializer=[onnx.numpy_helper.from_array(v, k) for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def quarc(*args, timeout: int = COMPILE_TIMEOUT_S) -> tuple[int, str, str]:
    return quarc_tools.run_quarc(list(args), timeout=timeout)


def run_exe(executable: Path, *args) -> tuple[int, str, str]:
    return quarc_tools.run_tool([str(executable)] + [str(a) for a in args],
                                timeout=COMPILE_TIMEOUT_S)


def assert_compiled(code: int, stderr: str) -> None:
    assert not quarc_tools.is_crash(code, stderr), quarc_tools.diagnostic_summary(code, stderr)
    op = quarc_tools.no_lowering_op(stderr)
    if code != 0 and op:
        pytest.xfail(f"no lowering to native code for '{op}' yet")
    assert code == 0, quarc_tools.first_error_line(stderr)


def assert_one_error(stderr: str, *parts: str) -> None:
    """One `error: ...` line on stderr, containing every part."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for part in parts:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"


# ---------------------------------------------------------------------------
# The builds, compiled once per model


@dataclass
class Builds:
    """One model compiled with embedded weights and with a weights file."""
    name: str
    model: Path
    folder: Path
    x: np.ndarray
    embedded: Path   # executable, weights inside
    external: Path   # executable, weights in external_weights
    library: Path    # shared library, weights in library_weights

    @property
    def external_weights(self) -> Path:
        return self.folder / f"{self.name}.weights"

    @property
    def library_weights(self) -> Path:
        return self.folder / f"lib{self.name}.weights"

    @property
    def input_file(self) -> Path:
        return self.folder / "x.npy"


def compile_builds(name: str, model: Path, x: np.ndarray, folder: Path) -> Builds:
    builds = Builds(name, model, folder, x, folder / f"{name}-embedded", folder / name,
                    folder / f"lib{name}.so")
    np.save(builds.input_file, x)
    shape = quarc_tools.shape_flag("x", x.shape)
    jobs = [
        ["compile", model, "-o", builds.embedded] + shape,
        ["compile", model, "-o", builds.external, f"--weights={builds.external_weights}"] + shape,
        ["compile", model, "-o", builds.library, "--weights", builds.library_weights] + shape,
    ]
    with ThreadPool(2) as pool:
        results = pool.map(lambda args: quarc(*args), jobs)
    for code, _, err in results:
        assert_compiled(code, err)
    return builds


@pytest.fixture(scope="module")
def cnn(tmp_path_factory, quarc_driver) -> Builds:
    folder = tmp_path_factory.mktemp("cnn")
    model = folder / "cnn.onnx"
    onnx.save(cnn_model(), str(model))
    x = np.random.default_rng(5).standard_normal((1, 3, 16, 16)).astype(np.float32)
    return compile_builds("cnn", model, x, folder)


@pytest.fixture(scope="module")
def rec(tmp_path_factory, quarc_driver) -> Builds:
    """PP-OCRv4's recognizer (about 10 MB of weights) at 48x320."""
    root = quarc_tools.package_dir("rapidocr_onnxruntime")
    if root is None:
        pytest.skip("rapidocr_onnxruntime is not installed")
    model = root / "models" / "ch_PP-OCRv4_rec_infer.onnx"
    if not model.is_file():
        pytest.skip(f"{model} is missing")
    # Preprocessed images are in [-1, 1]; the numbers, not the text, are compared here.
    x = np.random.default_rng(6).uniform(-1, 1, (1, 3, 48, 320)).astype(np.float32)
    return compile_builds("rec", model, x, tmp_path_factory.mktemp("rec"))


@pytest.fixture(params=["cnn", "rec"])
def builds(request) -> Builds:
    return request.getfixturevalue(request.param)


def run_to_array(executable: Path, builds: Builds, out: Path, *extra) -> np.ndarray:
    code, _, err = run_exe(executable, builds.input_file, "--output-dir", out, *extra)
    assert code == 0, err
    (result,) = [np.load(p) for p in out.iterdir()]
    return result


# ---------------------------------------------------------------------------
# Results and sizes


def test_weights_file_header(builds):
    """Magic, version, header size, the weights' size and their FNV-1a hash."""
    for path in (builds.external_weights, builds.library_weights):
        header = read_header(path)
        payload = path.read_bytes()[WEIGHTS_HEADER_BYTES:]
        assert header["magic"] == WEIGHTS_MAGIC
        assert header["version"] == WEIGHTS_VERSION
        assert header["header_bytes"] == WEIGHTS_HEADER_BYTES
        assert header["weights_bytes"] == len(payload)
        assert header["weights_bytes"] % 64 == 0, "the weights are whole 64-byte blocks"
        assert header["weights_hash"] == fnv1a64(payload)
    # One model, one compiler: the same weights whatever the artefact.
    assert builds.external_weights.read_bytes() == builds.library_weights.read_bytes()


def test_executable_matches_embedded_and_onnxruntime(builds, tmp_path):
    external = run_to_array(builds.external, builds, tmp_path / "external")
    embedded = run_to_array(builds.embedded, builds, tmp_path / "embedded")
    # Same code on the same bytes: bit-identical.
    np.testing.assert_array_equal(external, embedded)
    (want,) = quarc_tools.onnxruntime_reference(builds.model, {"x": builds.x}).values()
    assert external.shape == want.shape and external.dtype == want.dtype
    np.testing.assert_allclose(external, want, rtol=0,
                               atol=REL_TOL * max(1.0, float(np.abs(want).max())))


def test_artefact_has_lost_the_weights(builds):
    weights = builds.external_weights.stat().st_size - WEIGHTS_HEADER_BYTES
    saved = builds.embedded.stat().st_size - builds.external.stat().st_size
    # The small constants (biases, < 1 KiB) stay embedded.
    assert saved >= 0.9 * weights, (
        f"{builds.external.name} is {builds.external.stat().st_size} bytes, the embedded build "
        f"{builds.embedded.stat().st_size}: only {saved} of {weights} bytes of weights moved out")
    assert builds.library.stat().st_size < builds.embedded.stat().st_size - 0.9 * weights


def test_signature_names_the_weights_file(builds):
    code, out, err = run_exe(builds.external, "--print-signature")
    assert code == 0, err
    weights = builds.external_weights.stat().st_size - WEIGHTS_HEADER_BYTES
    assert f"weights: {weights} bytes in a separate file ({builds.name}.weights)" in out, out
    code, out, err = run_exe(builds.embedded, "--print-signature")
    assert code == 0 and "weights:" not in out, out


def test_executable_finds_its_weights_from_another_folder(cnn, tmp_path):
    """By default the weights are the file the compiler wrote, next to the executable."""
    code, out, err = quarc_tools.run_tool([str(cnn.external), str(cnn.input_file)])
    assert code == 0, err
    completed = subprocess.run(
        [str(cnn.external), str(cnn.input_file)], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == out


# ---------------------------------------------------------------------------
# The shared library through the C API


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("dims", ctypes.c_int64 * 8)]


class Library:
    """A shared library from `quarc compile --weights`, through its own session API."""

    def __init__(self, path: Path):
        self.lib = ctypes.CDLL(str(path))
        self.desc = quarc_tools.ModelDesc.in_dll(
            self.lib, f"{quarc_tools.symbol_prefix(path.stem)}_model")
        self.lib.quarc_session_create.argtypes = [ctypes.POINTER(quarc_tools.ModelDesc),
                                                  ctypes.POINTER(ctypes.c_void_p)]
        self.lib.quarc_session_create_with_weights.argtypes = [
            ctypes.POINTER(quarc_tools.ModelDesc), ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_char_p, ctypes.c_size_t]
        self.lib.quarc_session_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(Tensor),
                                               ctypes.c_size_t, ctypes.POINTER(Tensor),
                                               ctypes.c_size_t]
        self.lib.quarc_session_error.restype = ctypes.c_char_p
        self.lib.quarc_session_error.argtypes = [ctypes.c_void_p]
        self.lib.quarc_session_destroy.argtypes = [ctypes.c_void_p]

    def create(self, weights: Path | None) -> tuple[int, ctypes.c_void_p, str]:
        session = ctypes.c_void_p()
        error = ctypes.create_string_buffer(1024)
        status = self.lib.quarc_session_create_with_weights(
            ctypes.byref(self.desc), str(weights).encode() if weights else None,
            ctypes.byref(session), error, len(error))
        return status, session, error.value.decode()

    def run(self, session: ctypes.c_void_p, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, np.float32)
        tensor = Tensor(x.ctypes.data, TensorProto.FLOAT, x.ndim)
        for d, size in enumerate(x.shape):
            tensor.dims[d] = size
        out = Tensor()
        status = self.lib.quarc_session_run(session, ctypes.byref(tensor), 1, ctypes.byref(out), 1)
        assert status == quarc_tools.QUARC_OK, self.lib.quarc_session_error(session).decode()
        shape = tuple(out.dims[d] for d in range(out.rank))
        size = int(np.prod(shape)) * 4
        return np.frombuffer(ctypes.string_at(out.data, size), np.float32).reshape(shape).copy()


def test_shared_library_with_its_weights_file(builds, tmp_path):
    library = Library(builds.library)
    header = read_header(builds.library_weights)
    assert library.desc.weights_file == builds.library_weights.name.encode()
    assert library.desc.weights_bytes == header["weights_bytes"]
    assert library.desc.weights_hash == header["weights_hash"]

    # quarc_session_create cannot run it: it needs its weights.
    session = ctypes.c_void_p()
    assert library.lib.quarc_session_create(ctypes.byref(library.desc),
                                            ctypes.byref(session)) == QUARC_ERROR_WEIGHTS
    assert not session.value

    status, session, error = library.create(builds.library_weights)
    assert status == quarc_tools.QUARC_OK, error
    try:
        got = library.run(session, builds.x)
    finally:
        library.lib.quarc_session_destroy(session)
    want = run_to_array(builds.embedded, builds, tmp_path / "embedded")
    np.testing.assert_array_equal(got, want)


def test_shared_library_rejects_other_weights(cnn, rec):
    library = Library(cnn.library)
    status, session, error = library.create(rec.library_weights)
    assert status == QUARC_ERROR_WEIGHTS and not session.value
    assert str(rec.library_weights) in error and "does not belong" in error, error
    status, session, error = library.create(cnn.folder / "absent.weights")
    assert status == QUARC_ERROR_IO and not session.value
    assert "absent.weights" in error, error


# ---------------------------------------------------------------------------
# Wrong, truncated and missing weights files


def test_weights_of_another_model_are_rejected(cnn, rec):
    code, out, err = run_exe(cnn.external, cnn.input_file, "--weights", rec.external_weights)
    assert code == 1, err
    assert_one_error(err, str(rec.external_weights), "does not belong to the model",
                     "another compile")
    assert out == ""


def test_weights_of_another_compile_of_the_same_model_are_rejected(cnn, tmp_path):
    """Same size, other contents (as after retraining): the hash tells them apart."""
    other = tmp_path / "other.weights"
    data = bytearray(cnn.external_weights.read_bytes())
    data[WEIGHTS_HEADER_BYTES] ^= 1
    data[24:32] = struct.pack("<Q", fnv1a64(bytes(data[WEIGHTS_HEADER_BYTES:])))
    other.write_bytes(bytes(data))
    code, _, err = run_exe(cnn.external, cnn.input_file, "--weights", other)
    assert code == 1
    assert_one_error(err, str(other), "does not belong")


def test_truncated_weights_file(cnn, tmp_path):
    truncated = tmp_path / "truncated.weights"
    truncated.write_bytes(cnn.external_weights.read_bytes()[:-1])
    code, _, err = run_exe(cnn.external, cnn.input_file, "--weights", truncated)
    assert code == 1
    assert_one_error(err, str(truncated), "is truncated")


def test_missing_weights_file(cnn, tmp_path):
    absent = tmp_path / "absent.weights"
    code, _, err = run_exe(cnn.external, cnn.input_file, "--weights", absent)
    assert code == 1
    assert_one_error(err, str(absent), "No such file")
    # Without --weights: the default next to the executable, named in the error.
    lonely = tmp_path / "alone" / "cnn"
    lonely.parent.mkdir()
    shutil.copy2(cnn.external, lonely)
    code, _, err = run_exe(lonely, cnn.input_file)
    assert code == 1
    assert_one_error(err, str(lonely.parent / "cnn.weights"), "--weights FILE")


def test_embedded_model_takes_no_weights(cnn):
    code, _, err = run_exe(cnn.embedded, cnn.input_file, "--weights", cnn.external_weights)
    assert code == 2
    assert_one_error(err, "embedded")


# ---------------------------------------------------------------------------
# The compiler's side


def test_failed_compile_leaves_no_weights_file(tmp_path, quarc_driver):
    model = tmp_path / "if.onnx"
    onnx.save(quarc_tools.if_model(rows=2, features=32, outputs=32), str(model))
    out = tmp_path / "out"
    out.mkdir()
    for output in ("if", "libif.so"):
        code, _, err = quarc("compile", model, "-o", out / output, "--weights", out / "if.weights")
        assert code == 1, err
        assert list(out.iterdir()) == [], f"the failed compile left {list(out.iterdir())}"


@pytest.mark.parametrize("weights", ["cnn", "cnn.h"])
def test_weights_file_must_not_be_another_output(cnn, tmp_path, weights):
    code, _, err = quarc("compile", cnn.model, "-o", tmp_path / "cnn", "--weights",
                         tmp_path / weights)
    assert code == 1
    assert_one_error(err, "would overwrite another output")
    assert list(tmp_path.iterdir()) == []


def test_weights_option_needs_a_value(cnn, tmp_path):
    code, _, err = quarc("compile", cnn.model, "-o", tmp_path / "cnn", "--weights=")
    assert code == 2 and "--weights" in err, err


def test_quarc_run_keeps_weights_in_memory(cnn):
    code, _, err = quarc("run", cnn.model, "--weights", cnn.external_weights, cnn.input_file)
    assert code == 2 and "--weights" in err, err


def test_quarc_opt_pipeline_option(cnn):
    """quarc-opt --quarc-compile-to-llvm=external-weights runs the same pass."""
    code, out, err = quarc_tools.run_tool(
        [str(quarc_tools.tool_path("quarc-opt")), str(cnn.model),
         "--quarc-compile-to-llvm=external-weights input-shapes=x=1x3x16x16"], timeout=300)
    assert code == 0, quarc_tools.first_error_line(err)
    assert "quarc.weights_bytes" in out and "quarc.weights_data" in out
