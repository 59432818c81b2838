"""Helpers shared by the pytest suites: locate and run the quarc tools, classify ONNX models."""

from __future__ import annotations

import collections
import ctypes
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Iterator, Union

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[2]

# The importer accepts these default-domain (ai.onnx) opsets; see the CLI contract.
MIN_OPSET = 7
MAX_OPSET = 23

# One import of a real model takes well under a second; a minute means a hang.
IMPORT_TIMEOUT_S = 60
TIMEOUT_RETURNCODE = 124

CRASH_MARKERS = ("Stack dump", "LLVM ERROR", "Assertion", "PLEASE submit a bug report")

ModelSource = Union[str, os.PathLike, bytes, onnx.ModelProto]


def build_dir() -> Path:
    """The CMake build folder: $QUARC_BUILD_DIR, else <repo>/build."""
    return Path(os.environ.get("QUARC_BUILD_DIR", REPO_ROOT / "build")).resolve()


def tool_path(name: str) -> Path:
    """Path of a built tool, e.g. tool_path("quarc-translate")."""
    return build_dir() / "bin" / name


def reports_dir() -> Path:
    """Folder for human-readable test reports (created on demand)."""
    path = build_dir() / "test-reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_dir(name: str) -> Path | None:
    """Folder of an installed package, or None when it is not installed."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def normalize_domain(domain: str) -> str:
    """ONNX spells the default domain '' or 'ai.onnx'; use 'ai.onnx'."""
    return domain or "ai.onnx"


def run_tool(args: list[str], timeout: int = IMPORT_TIMEOUT_S) -> tuple[int, str, str]:
    """Run a command; a timeout is reported as TIMEOUT_RETURNCODE, not raised."""
    try:
        proc = subprocess.run(args, capture_output=True, text=True, errors="replace",
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return TIMEOUT_RETURNCODE, "", f"timed out after {timeout} s"
    return proc.returncode, proc.stdout, proc.stderr


def _import_file(path: Path) -> tuple[int, str, str]:
    return run_tool([str(tool_path("quarc-translate")), "--import-onnx", str(path)])


def import_model(model: ModelSource, name: str = "model") -> tuple[int, str, str]:
    """Import a model (a path, serialized bytes or a ModelProto) with quarc-translate.

    Returns (returncode, stdout, stderr). Bytes and protos go through a temporary
    file called `name`.onnx, so that diagnostics name the model.
    """
    if isinstance(model, onnx.ModelProto):
        model = model.SerializeToString()
    if not isinstance(model, bytes):
        return _import_file(Path(model))
    with tempfile.TemporaryDirectory(prefix="quarc-import-") as tmp:
        path = Path(tmp) / f"{name}.onnx"
        path.write_bytes(model)
        code, out, err = _import_file(path)
    # The temporary folder means nothing to a reader of the diagnostics.
    return code, out, err.replace(f"{tmp}/", "")


@functools.lru_cache(maxsize=None)
def supported_ops() -> dict[tuple[str, str], tuple[int, int]]:
    """{(domain, op_type): (first_opset, last_opset)} from `quarc-translate --list-onnx-ops`."""
    code, out, err = run_tool([str(tool_path("quarc-translate")), "--list-onnx-ops"])
    if code != 0:
        raise RuntimeError(f"quarc-translate --list-onnx-ops failed ({code}): {err.strip()}")
    ops = {}
    for line in out.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            raise RuntimeError(f"bad --list-onnx-ops line: {line!r}")
        domain, op_type, lo, hi = fields
        ops[(normalize_domain(domain), op_type)] = (int(lo), int(hi))
    return ops


def is_crash(returncode: int, stderr: str) -> bool:
    """True when the tool died on a signal or printed an LLVM crash/assert report."""
    if returncode < 0 or returncode >= 128:
        return True
    return any(marker in stderr for marker in CRASH_MARKERS)


def first_error_line(stderr: str) -> str:
    """The first line mentioning 'error:', else the first non-empty line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error:" in line:
            return line
    return lines[0] if lines else "(no diagnostic)"


def crash_summary(returncode: int, stderr: str) -> str:
    """One line for a crash: the signal or assert/LLVM ERROR line, and the innermost quarc frame."""
    lines = [line.strip() for line in stderr.splitlines()]
    what = next((line for line in lines if "Assertion" in line or "LLVM ERROR" in line), None)
    if what is None:
        signal = -returncode if returncode < 0 else returncode - 128
        what = f"signal {signal}" if signal > 0 else f"exit code {returncode}"
    frame = next((_frame_symbol(line) for line in lines
                  if line.startswith("#") and "quarc::" in line), None)
    return f"{what} in {frame}" if frame else what


def _frame_symbol(frame: str) -> str:
    """'#5 0x1234 ns::f(int) (bin+0x10)' -> 'ns::f'."""
    symbol = frame.split(" ", 2)[2] if frame.count(" ") >= 2 else frame
    symbol = symbol.replace("(anonymous namespace)", "{anonymous}")
    return symbol.split("(", 1)[0]


def diagnostic_summary(returncode: int, stderr: str) -> str:
    """The line to show for a failed import: a crash summary or the first error."""
    if is_crash(returncode, stderr):
        return "CRASH: " + crash_summary(returncode, stderr)
    return first_error_line(stderr)


def iter_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Every node of a graph, including those of nested subgraphs (If/Loop/Scan bodies)."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from iter_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from iter_nodes(sub)


def opset_versions(model: onnx.ModelProto) -> dict[str, int]:
    """{normalized domain: imported opset version}."""
    return {normalize_domain(o.domain): o.version for o in model.opset_import}


def has_only_tensor_io(model: onnx.ModelProto) -> bool:
    """True when every graph input and output is a plain (dense) tensor."""
    values = list(model.graph.input) + list(model.graph.output)
    return all(v.type.WhichOneof("value") == "tensor_type" for v in values)


def unsupported_reason(model: onnx.ModelProto,
                       ops: dict[tuple[str, str], tuple[int, int]]) -> str | None:
    """Why the importer is not expected to take this model, or None when it should.

    Checks, in order: non-tensor graph inputs/outputs, the ai.onnx opset against
    MIN_OPSET..MAX_OPSET, then each node's op and its domain's opset against `ops`.
    """
    if not has_only_tensor_io(model):
        return "function-expanded/sequence/optional types"
    versions = opset_versions(model)
    default = versions.get("ai.onnx")
    if default is not None and default < MIN_OPSET:
        return f"opset {default} < {MIN_OPSET}"
    if default is not None and default > MAX_OPSET:
        return f"opset {default} > {MAX_OPSET}"
    for node in iter_nodes(model.graph):
        reason = _node_reason(node, versions, ops)
        if reason:
            return reason
    return None


def _node_reason(node: onnx.NodeProto, versions: dict[str, int],
                 ops: dict[tuple[str, str], tuple[int, int]]) -> str | None:
    domain = normalize_domain(node.domain)
    key = (domain, node.op_type)
    if key not in ops:
        name = node.op_type if domain == "ai.onnx" else f"{domain}.{node.op_type}"
        return f"unsupported op {name}"
    version = versions.get(domain)
    if version is None:
        return f"no opset import for domain {domain}"
    lo, hi = ops[key]
    if not lo <= version <= hi:
        return f"op {node.op_type} supported for opsets {lo}..{hi}, model uses {version}"
    return None


def mlir_string_literal(text: str) -> str:
    """`text` as MLIR prints a string attribute (llvm::printEscapedString), quotes included."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char == "\\":
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F and char != '"':
            out.append(char)
        else:
            out.append(f"\\{byte:02X}")
    return '"' + "".join(out) + '"'


def load_node_cases() -> list:
    """The ONNX backend node test cases generated by the installed onnx wheel (~1900)."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return collect_testcases(None)


def classify_node_cases(cases, ops) -> tuple[list, collections.Counter]:
    """Split node test cases into those the importer should take and a Counter of skip reasons."""
    tried, skipped = [], collections.Counter()
    for case in cases:
        reason = unsupported_reason(case.model, ops)
        if reason:
            skipped[reason] += 1
        else:
            tried.append(case)
    return tried, skipped


# ---------------------------------------------------------------------------
# The `quarc` driver and the compiled models' runtime.

# A compile plus one run of a node test model takes about a second; a
# minute means a hang.
RUN_TIMEOUT_S = 60

# `quarc compile`/`quarc run` say this for an op that cannot be compiled yet.
NO_LOWERING_MARKER = "no lowering to native code for '"

# Element types a compiled model can take and return (quarc_runtime.h's
# quarc_dtype, numbered like ONNX's TensorProto.DataType).
RUNTIME_DTYPES = {
    onnx.TensorProto.FLOAT, onnx.TensorProto.UINT8, onnx.TensorProto.INT8,
    onnx.TensorProto.INT16, onnx.TensorProto.INT32, onnx.TensorProto.INT64,
    onnx.TensorProto.BOOL, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
}

# quarc_status values (quarc_runtime.h).
QUARC_OK = 0
QUARC_ERROR_INVALID_ARGUMENT = 1
QUARC_ERROR_DTYPE_MISMATCH = 2
QUARC_ERROR_SHAPE_MISMATCH = 3


def host_has(feature: str) -> bool:
    """Whether this machine's CPU has `feature`, as /proc/cpuinfo spells it (avx2, avx512f,
    avx512_vnni): the tests that run code for a target skip on machines without it."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(rf"\b{feature}\b", flags) is not None


QEMU_AARCH64 = shutil.which("qemu-aarch64")
AARCH64_SYSROOT = Path("/usr/aarch64-linux-gnu")


def aarch64_runtime() -> bool:
    """Whether the build has the runtime that AArch64 executables link."""
    return (build_dir() / "lib" / "quarc" / "aarch64" / "libquarc_runtime.a").is_file()


def aarch64_runner() -> list[str] | None:
    """The command prefix that runs AArch64 executables here (qemu-aarch64 with Debian's
    cross libc), or None if this machine lacks it or the AArch64 runtime."""
    if QEMU_AARCH64 is None or not (AARCH64_SYSROOT / "lib").is_dir() or not aarch64_runtime():
        return None
    return [QEMU_AARCH64, "-L", str(AARCH64_SYSROOT)]


def run_quarc(args: list, timeout: int = RUN_TIMEOUT_S) -> tuple[int, str, str]:
    """Run `quarc ARGS...` (a timeout is reported as TIMEOUT_RETURNCODE)."""
    return run_tool([str(tool_path("quarc"))] + [str(a) for a in args], timeout=timeout)


def cannot_run_target(target: str, features: str | None) -> str | None:
    """Why this machine cannot run code for `target` (x86 with the /proc/cpuinfo `features`,
    separated by spaces, or AArch64, `features` None, under qemu), or None if it can."""
    if features is None:
        if aarch64_runner() is None:
            return "no qemu-aarch64, AArch64 sysroot or AArch64 runtime to run the code"
        return None
    missing = [feature for feature in features.split() if not host_has(feature)]
    if missing:
        return f"this machine cannot run {target} code (no {' '.join(missing)})"
    return None


def run_for_target(model_path, target: str, inputs: list[str], out_dir,
                   *flags) -> tuple[int, str]:
    """Runs the model on `inputs` (NAME=FILE.npy) for `target`, writing its outputs to
    out_dir: in process for x86 (`quarc run --target`), as an executable compiled next to
    out_dir and run under qemu-aarch64 for AArch64. `flags` go to quarc run or compile.
    Returns (exit code, stderr); a crash of quarc fails the test."""
    input_args = [arg for name_file in inputs for arg in ("--input", name_file)]
    if not target.startswith("aarch64"):
        code, _, err = run_quarc(["run", model_path, *input_args, "--output-dir", out_dir,
                                  f"--target={target}", *flags])
        assert not is_crash(code, err), diagnostic_summary(code, err)
        return code, err
    exe = Path(out_dir).parent / f"model_{target.replace('+', '_')}"
    code, _, err = run_quarc(["compile", model_path, "-o", exe, f"--target={target}", *flags])
    assert not is_crash(code, err), diagnostic_summary(code, err)
    if code != 0:
        return code, err
    code, _, err = run_tool(aarch64_runner() + [str(exe), *input_args, "--output-dir",
                                                str(out_dir)], timeout=RUN_TIMEOUT_S)
    return code, err


def no_lowering_op(stderr: str) -> str | None:
    """'quarc.X' when the driver said it has no lowering for that op, else None."""
    start = stderr.find(NO_LOWERING_MARKER)
    if start < 0:
        return None
    start += len(NO_LOWERING_MARKER)
    end = stderr.find("'", start)
    return stderr[start:end] if end > start else None


def dtype_name(elem_type: int) -> str:
    """'float16' for TensorProto.FLOAT16 etc."""
    return onnx.TensorProto.DataType.Name(elem_type).lower()


def output_file_name(name: str) -> str:
    """The file `--output-dir` writes for output `name`: other than [A-Za-z0-9._-] becomes '_'."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    return safe + ".npy"


def read_outputs(folder: Path, names) -> dict[str, np.ndarray]:
    """The outputs `--output-dir folder` wrote, by name (missing ones left out)."""
    outputs = {}
    for name in names:
        path = folder / output_file_name(name)
        if path.is_file():
            outputs[name] = np.load(path)
    return outputs


class TensorDesc(ctypes.Structure):
    """quarc_tensor_desc of runtime/include/quarc/quarc_runtime.h."""
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("dims", ctypes.POINTER(ctypes.c_int64))]


class ModelDesc(ctypes.Structure):
    """quarc_model_desc as of ABI version 4 (QUARC_ABI_VERSION in quarc_runtime.h)."""
    _fields_ = [("abi_version", ctypes.c_uint32), ("num_inputs", ctypes.c_uint32),
                ("num_outputs", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
                ("name", ctypes.c_char_p), ("target", ctypes.c_char_p),
                ("inputs", ctypes.POINTER(TensorDesc)), ("outputs", ctypes.POINTER(TensorDesc)),
                ("entry", ctypes.c_void_p), ("workspace_bytes", ctypes.c_uint64),
                ("weights_bytes", ctypes.c_uint64), ("weights_hash", ctypes.c_uint64),
                ("weights_file", ctypes.c_char_p)]


def shape_flag(name: str, shape) -> list[str]:
    """['--input-shape', 'NAME=D0xD1x...'] fixing every dim of an input; [] for a scalar."""
    if len(shape) == 0:
        return []
    return ["--input-shape", f"{name}=" + "x".join(str(int(d)) for d in shape)]


def symbol_prefix(stem: str) -> str:
    """The C identifier `quarc compile` derives from an output file stem (libnet -> libnet).

    Non-alphanumeric characters become '_'; a leading digit (or nothing) gets an 'm_' prefix.
    The descriptor symbol is `<prefix>_model`.
    """
    prefix = "".join(c if c.isascii() and c.isalnum() else "_" for c in stem)
    return "m_" + prefix if not prefix or prefix[0].isdigit() else prefix


def onnxruntime_reference(model_path: Path, inputs: dict) -> dict:
    """The outputs of `model_path` on `inputs`, by name, from onnxruntime's CPU
    provider on one thread: the independent reference of the numeric tests."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    names = [out.name for out in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def if_model(rows: int, features: int, outputs: int) -> onnx.ModelProto:
    """A MatMul of a [rows, features] input by a [features, outputs] weight, then an If on
    a run-time condition: the importer takes it, but If has no native lowering, so its
    compile fails."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, features])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, outputs])
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((features, outputs), np.float32), "W")
    branch_out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [rows, outputs])
    then_branch = helper.make_graph([helper.make_node("Relu", ["h"], ["out"])], "then", [],
                                    [branch_out])
    else_branch = helper.make_graph([helper.make_node("Neg", ["h"], ["out"])], "else", [],
                                    [branch_out])
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]),
             helper.make_node("If", ["cond"], ["y"], then_branch=then_branch,
                              else_branch=else_branch)]
    graph = helper.make_graph(nodes, "if", [x, cond], [y], initializer=[weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


# --- com.microsoft MatMulNBits models, packed with numpy ---------------------------------


def quantize_blocks(w, block, bits, symmetric):
    """onnxruntime's round-to-nearest block quantization of w (K x N): integers
    [N, blocks, block], scales and zero points [N, blocks]. Symmetric blocks use its
    scale = (value of largest magnitude) / -2^(bits-1), negative for a positive maximum."""
    k, n = w.shape
    blocks = -(-k // block)
    padded = np.zeros((blocks * block, n), np.float32)
    padded[:k] = w
    wb = padded.T.reshape(n, blocks, block)
    qmax = (1 << bits) - 1
    if symmetric:
        largest = np.take_along_axis(wb, np.abs(wb).argmax(axis=2)[..., None], 2)[..., 0]
        scale = (largest / -(1 << (bits - 1))).astype(np.float32)
        zero = np.full(scale.shape, 1 << (bits - 1), np.int64)
    else:
        lo, hi = np.minimum(wb.min(axis=2), 0), np.maximum(wb.max(axis=2), 0)
        scale = ((hi - lo) / qmax).astype(np.float32)
        zero = np.clip(np.round(-lo / np.where(scale == 0, 1, scale)), 0, qmax).astype(np.int64)
    safe = np.where(scale == 0, 1, scale)
    q = np.clip(np.round(wb / safe[..., None]) + zero[..., None], 0, qmax).astype(np.int64)
    return q, scale, zero


def pack_bits(values, bits):
    """Integers [..., count] packed LSB first into bytes [..., ceil(count * bits / 8)]."""
    count = values.shape[-1]
    out = np.zeros(values.shape[:-1] + (-(-count * bits // 8),), np.uint8)
    for i in range(count):
        for b in range(bits):
            position = i * bits + b
            out[..., position // 8] |= (((values[..., i] >> b) & 1) << (position % 8)).astype(np.uint8)
    return out


def matmul_nbits_model(w, block, a_shape, *, bits=4, zero_points=True, symmetric=False,
                       bias=None, g_idx=False, float_zero_points=False, accuracy_level=0):
    """A one-node MatMulNBits model Y = A W (+ bias) with w (K x N) quantized by
    quantize_blocks and packed as onnxruntime packs it."""
    k, n = w.shape
    q, scale, zero = quantize_blocks(w, block, bits, symmetric)
    inits = [numpy_helper.from_array(pack_bits(q, bits), "B"),
             numpy_helper.from_array(scale.reshape(-1), "scales")]
    inputs = ["A", "B", "scales"]
    if float_zero_points:
        inits.append(numpy_helper.from_array(zero.astype(np.float32).reshape(-1), "zp"))
        inputs.append("zp")
    elif zero_points:
        inits.append(numpy_helper.from_array(pack_bits(zero, bits).reshape(-1), "zp"))
        inputs.append("zp")
    if g_idx:
        inputs += [""] * (4 - len(inputs)) + ["g_idx"]
        inits.append(numpy_helper.from_array(np.arange(k, dtype=np.int32) // block, "g_idx"))
    if bias is not None:
        inputs += [""] * (5 - len(inputs)) + ["bias"]
        inits.append(numpy_helper.from_array(bias.astype(np.float32), "bias"))
    node = helper.make_node("MatMulNBits", inputs, ["Y"], domain="com.microsoft", name="mm",
                            K=k, N=n, bits=bits, block_size=block,
                            accuracy_level=accuracy_level)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("A", TensorProto.FLOAT, a_shape)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, list(a_shape[:-1]) + [n])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21),
                                                   helper.make_opsetid("com.microsoft", 1)])
