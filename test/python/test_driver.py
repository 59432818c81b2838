"""The `quarc` driver's command line and the executables it writes (exit codes, messages, files)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import quarc_tools

KNOWN_ARCHS = ("x86_64", "aarch64")

# ELF e_machine values (the 2 bytes at offset 18 of a little-endian ELF file).
EM_X86_64 = 62
EM_AARCH64 = 183

# Input and output names with characters that C identifiers and file names
# do not allow, to check that headers, errors and --output-dir handle them.
INPUT_NAMES = ("image_in", "bias:in")
OUTPUT_NAME = "out/put:0"
SHAPE = [2, 4]


def add_sigmoid_model() -> onnx.ModelProto:
    """y = sigmoid(image_in + bias:in), all f32 [2, 4]."""
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, SHAPE) for n in INPUT_NAMES]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, SHAPE)
    nodes = [helper.make_node("Add", list(INPUT_NAMES), ["sum"]),
             helper.make_node("Sigmoid", ["sum"], [OUTPUT_NAME])]
    graph = helper.make_graph(nodes, "driver_test", inputs, [output])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def quarc(*args, timeout: int = quarc_tools.RUN_TIMEOUT_S) -> tuple[int, str, str]:
    return quarc_tools.run_quarc(list(args), timeout=timeout)


def assert_no_crash(code: int, stderr: str) -> None:
    assert not quarc_tools.is_crash(code, stderr), quarc_tools.diagnostic_summary(code, stderr)


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path.name} is not an ELF file"
    assert header[4] == 2, f"{path.name} is not a 64-bit ELF file"
    return int.from_bytes(header[18:20], "little")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, quarc_driver) -> Path:
    path = tmp_path_factory.mktemp("models") / "add_sigmoid.onnx"
    onnx.save(add_sigmoid_model(), str(path))
    return path


@pytest.fixture(scope="module")
def executable(tmp_path_factory, model_path) -> Path:
    """add_sigmoid compiled once to an executable, shared by the tests below."""
    path = tmp_path_factory.mktemp("exe") / "add_sigmoid"
    code, _, err = quarc("compile", model_path, "-o", path)
    assert_no_crash(code, err)
    assert code == 0, quarc_tools.first_error_line(err)
    return path


@pytest.fixture(scope="module")
def input_files(tmp_path_factory) -> dict[str, Path]:
    """Good inputs and some bad ones, as .npy files."""
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(1)
    arrays = {
        "image": rng.standard_normal(SHAPE).astype(np.float32),
        "bias": rng.standard_normal(SHAPE).astype(np.float32),
        "wrong_shape": np.zeros([3, 4], np.float32),
        "wrong_rank": np.zeros([2, 4, 1], np.float32),
        "wrong_dtype": np.zeros(SHAPE, np.float64),
    }
    files = {}
    for key, array in arrays.items():
        files[key] = folder / f"{key}.npy"
        np.save(files[key], array)
    return files


def expected_output(input_files) -> np.ndarray:
    total = np.load(input_files["image"]) + np.load(input_files["bias"])
    return 1 / (1 + np.exp(-total))


# ---------------------------------------------------------------------------
# The driver's own usage


def test_help(quarc_driver):
    code, out, err = quarc("--help")
    assert code == 0, err
    assert "compile" in out and "run" in out
    for arch in KNOWN_ARCHS:
        assert arch in out, f"--help does not list the {arch} target"


@pytest.mark.parametrize("command", ["compile", "run", "calibrate", "report", "quantize"])
def test_help_after_a_command(quarc_driver, command):
    """`quarc COMMAND --help` prints the usage, as `quarc --help` does, even after
    other arguments."""
    code, out, err = quarc(command, "model.onnx", "--help")
    assert code == 0, err
    assert out.startswith("usage:") and f"quarc {command}" in out, out


@pytest.mark.parametrize("args", [["frobnicate"], []], ids=["unknown-command", "no-command"])
def test_usage_errors_exit_2(quarc_driver, args):
    code, _, err = quarc(*args)
    assert code == 2, err
    assert err.startswith("error:"), err


def test_compile_without_output_is_usage_error(model_path):
    code, _, err = quarc("compile", model_path)
    assert code == 2
    assert "error:" in err and "-o" in err


def test_compile_unknown_option_is_usage_error(model_path, tmp_path):
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "m.o", "--frobnicate")
    assert code == 2
    assert "error:" in err and "--frobnicate" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["riscv64", "x86_64+sve", "aarch64+avx2"])
def test_unknown_target_lists_known_targets(model_path, tmp_path, target):
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "m.o", f"--target={target}")
    assert_no_crash(code, err)
    assert code != 0
    assert "error:" in err
    for arch in KNOWN_ARCHS:
        assert arch in err, f"the error for --target={target} does not list {arch}: {err!r}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["compile", "run"])
def test_missing_model_is_one_line_error(tmp_path, quarc_driver, command):
    missing = tmp_path / "no_such_model.onnx"
    extra = ["-o", tmp_path / "m.o"] if command == "compile" else []
    code, _, err = quarc(command, missing, *extra)
    assert_no_crash(code, err)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    assert lines[0].startswith("error:") and "no_such_model.onnx" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_bad_input_shape_flag(model_path, tmp_path):
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "m.o",
                         "--input-shape", "nonexistent=1x2")
    assert_no_crash(code, err)
    assert code != 0
    assert "nonexistent" in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# Artefacts


def test_failed_compile_leaves_no_files(tmp_path, quarc_driver):
    model = tmp_path / "model" / "if.onnx"
    model.parent.mkdir()
    onnx.save(quarc_tools.if_model(rows=2, features=3, outputs=4), str(model))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for output in ("if", "if.so", "if.o", "if.ll"):
        code, _, err = quarc("compile", model, "-o", out_dir / output)
        assert_no_crash(code, err)
        assert code == 1, f"{output}: exit {code}"
        assert "no lowering to native code for 'quarc.if'" in err, err
        left = sorted(p.name for p in out_dir.iterdir())
        assert left == [], f"compiling to {output} failed but left {left}"


@pytest.mark.parametrize("output", ["net.o", "net.so"])
def test_failure_after_codegen_leaves_no_files(model_path, tmp_path, output):
    """A compile that fails late (its header cannot be written) keeps neither file."""
    (tmp_path / "net.h").mkdir()  # the header's name is taken by a folder
    code, _, err = quarc("compile", model_path, "-o", tmp_path / output)
    assert_no_crash(code, err)
    assert code == 1, f"exit {code}: {err}"
    assert "error:" in err and "net.h" in err, err
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["net.h"], f"the failed compile left {left}"


@pytest.mark.parametrize("output, header", [
    ("net.o", "net.h"),
    ("libnet.so", "libnet.h"),
    ("net", "net.h"),
    ("net.ll", None),
])
def test_compile_writes_artifact_and_header(model_path, tmp_path, output, header):
    code, _, err = quarc("compile", model_path, "-o", tmp_path / output)
    assert_no_crash(code, err)
    assert code == 0, quarc_tools.first_error_line(err)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted([output] + ([header] if header else [])), written
    artefact = tmp_path / output
    if output.endswith(".ll"):
        assert "define" in artefact.read_text()
        return
    if output == "net":
        assert os.access(artefact, os.X_OK), "the executable is not executable"
    if sys.platform.startswith("linux"):
        assert elf_machine(artefact) in (EM_X86_64, EM_AARCH64)
    text = (tmp_path / header).read_text()
    stem = Path(output).name.split(".")[0]
    assert f"{quarc_tools.symbol_prefix(stem)}_model" in text
    assert "quarc_session_create" in text
    for name in INPUT_NAMES + (OUTPUT_NAME,):
        assert name in text, f"the header does not mention '{name}'"


def read_fifo_in_background(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    """A reader of everything written into `fifo` (a writer blocks until one opens it)."""
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    return reader, received


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_outputs_into_a_fifo_are_written_not_replaced(model_path, tmp_path):
    """A device or FIFO output (`-o /dev/null`, a pipe) is written into: renaming the
    temporary file onto it replaced the node itself (as root, /dev/null became the
    compiled executable), and a failed tool removed it. A FIFO stands in for /dev/null."""
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    reader, received = read_fifo_in_background(fifo)
    code, _, err = quarc("compile", model_path, "-o", fifo)
    reader.join(timeout=60)
    assert code == 0, quarc_tools.first_error_line(err)
    assert fifo.is_fifo(), "the FIFO was replaced by a regular file"
    assert received and received[0][:4] == b"\x7fELF", "the executable did not go through"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no header next to a FIFO"
    # Failed runs of quarc-opt and quarc-translate do not remove it either (each
    # opens it, so a reader drains whatever they write).
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f( {\n")
    for tool, args in [("quarc-opt", [bad]), ("quarc-translate", ["--import-onnx", bad])]:
        reader, _ = read_fifo_in_background(fifo)
        code, _, err = quarc_tools.run_tool([str(quarc_tools.tool_path(tool)), *map(str, args),
                                             "-o", str(fifo)])
        if reader.is_alive():  # the tool failed before opening it: let the reader go
            with open(fifo, "wb"):
                pass
        reader.join(timeout=60)
        assert code != 0, f"{tool} accepted a broken input"
        assert fifo.is_fifo(), f"a failed {tool} removed its FIFO output"


def test_cross_compile_aarch64_object(model_path, tmp_path):
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "net.o", "--target=aarch64")
    assert_no_crash(code, err)
    assert code == 0, quarc_tools.first_error_line(err)
    assert elf_machine(tmp_path / "net.o") == EM_AARCH64
    assert "aarch64" in (tmp_path / "net.h").read_text()


@pytest.mark.parametrize("output", ["net", "libnet.so"])
def test_cross_compile_aarch64_linked(model_path, tmp_path, output):
    """Executables and libraries need the AArch64 runtime, built when a cross libc is present."""
    runtime = quarc_tools.build_dir() / "lib" / "quarc" / "aarch64" / "libquarc_runtime.a"
    if not runtime.is_file():
        pytest.skip(f"{runtime} not built (no AArch64 cross libc)")
    code, _, err = quarc("compile", model_path, "-o", tmp_path / output, "--target=aarch64")
    assert_no_crash(code, err)
    assert code == 0, quarc_tools.first_error_line(err)
    assert elf_machine(tmp_path / output) == EM_AARCH64


def test_host_object_is_for_this_machine(model_path, tmp_path):
    import platform
    machine = {"x86_64": EM_X86_64, "AMD64": EM_X86_64, "aarch64": EM_AARCH64,
               "arm64": EM_AARCH64}.get(platform.machine())
    if machine is None:
        pytest.skip(f"unknown host {platform.machine()}")
    code, _, err = quarc("compile", model_path, "-o", tmp_path / "net.o")
    assert code == 0, quarc_tools.first_error_line(err)
    assert elf_machine(tmp_path / "net.o") == machine


# ---------------------------------------------------------------------------
# Executables (and `quarc run`, which shares their command line)


def run_exe(executable: Path, *args) -> tuple[int, str, str]:
    return quarc_tools.run_tool([str(executable)] + [str(a) for a in args])


def test_executable_help(executable):
    code, out, err = run_exe(executable, "--help")
    assert code == 0, err
    assert "usage:" in out
    for name in INPUT_NAMES + (OUTPUT_NAME,):
        assert name in out


def test_executable_print_signature(executable):
    code, out, err = run_exe(executable, "--print-signature")
    assert code == 0, err
    assert "inputs:" in out and "outputs:" in out
    assert all(name in out for name in INPUT_NAMES)


def test_executable_runs_and_writes_sanitized_names(executable, input_files, tmp_path):
    code, _, err = run_exe(executable, "--input", f"image_in={input_files['image']}",
                           "--input", f"bias:in={input_files['bias']}",
                           "--output-dir", tmp_path)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out_put_0.npy"]
    got = np.load(tmp_path / "out_put_0.npy")
    assert got.dtype == np.float32 and got.shape == tuple(SHAPE)
    np.testing.assert_allclose(got, expected_output(input_files), rtol=1e-5, atol=1e-6)


def test_quarc_run_matches_executable(model_path, input_files, tmp_path):
    code, _, err = quarc("run", model_path, "--input", f"image_in={input_files['image']}",
                         "--input", f"bias:in={input_files['bias']}", "--output-dir", tmp_path)
    assert code == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "out_put_0.npy"), expected_output(input_files),
                               rtol=1e-5, atol=1e-6)


def dynamic_add_model() -> onnx.ModelProto:
    """y = a + b, with a symbolic batch and width: [N, 3, W] + [N, 3, W]."""
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 3, "W"]) for n in "ab"]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "W"])
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["y"])], "dynamic_add",
                              inputs, [output])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def dynamic_conv_model() -> onnx.ModelProto:
    """A 3x3 Conv of an [N, 4, H, W] image: batch, height and width symbolic."""
    rng = np.random.default_rng(5)
    weight = onnx.numpy_helper.from_array(rng.standard_normal((8, 4, 3, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          name="the_conv")], "dynamic_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8, "H", "W"])],
        initializer=[weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def dynamic_matmul_model() -> onnx.ModelProto:
    """A MatMul of an [N, S, 64] activation by a 64 x 32 weight: batch and rows symbolic."""
    rng = np.random.default_rng(6)
    weight = onnx.numpy_helper.from_array(rng.standard_normal((64, 32), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="the_matmul")], "dynamic_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "S", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "S", 32])],
        initializer=[weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def two_input_matmul_model() -> onnx.ModelProto:
    """A MatMul of two inputs, [N, S, 64] by [64, T]: the columns T dynamic."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="the_matmul")], "two_inputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "S", 64]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [64, "T"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "S", "T"])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("make_model,shape,warning", [
    # height and width dynamic: generic loops
    (dynamic_conv_model, None, "'the_conv'; inputs 'x' (?x4x?x?)"),
    (dynamic_conv_model, "?x4x16x40", None),  # a dynamic batch: the kernels take it
    (dynamic_conv_model, "2x4x16x40", None),
    (dynamic_matmul_model, None, None),  # rows and batch dynamic: the kernel takes them
    (two_input_matmul_model, None, "'the_matmul'; inputs 'x' (?x?x64), 'w' (64x?)"),
], ids=["conv-dynamic-image", "conv-dynamic-batch", "conv-static", "matmul-dynamic-rows",
        "matmul-dynamic-columns"])
def test_warning_for_sizes_the_kernels_cannot_take(tmp_path, quarc_driver, make_model, shape,
                                                   warning):
    """quarc compile says when dynamic sizes other than a batch leave convolutions or
    matrix products to generic loops, naming the node, the inputs and the flag, and
    still compiles."""
    model = tmp_path / "model.onnx"
    onnx.save(make_model(), str(model))
    flags = ["--input-shape", f"x={shape}"] if shape else []
    code, _, err = quarc("compile", model, "-o", tmp_path / "model.o", *flags)
    assert code == 0, err
    if warning:
        assert err.startswith("warning: 1 of 1 convolutions and matrix products have dynamic "
                              "sizes the vectorized kernels cannot take"), err
        assert warning in err and "--input-shape" in err, err
    else:
        assert "warning" not in err, err


def test_quarc_run_compiles_for_the_data_shapes(tmp_path, quarc_driver):
    """quarc run fixes a model's dynamic dims from its .npy inputs (so the static kernels run)."""
    model = tmp_path / "dynamic_add.onnx"
    onnx.save(dynamic_add_model(), str(model))
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal((2, 3, 5)).astype(np.float32) for _ in range(2))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    inputs = ["--input", f"a={tmp_path / 'a.npy'}", "--input", f"b={tmp_path / 'b.npy'}"]
    code, out, err = quarc("run", model, *inputs, "--print-signature")
    assert code == 0, err
    assert "a: f32 [2, 3, 5]" in out and "y: f32 [2, 3, 5]" in out, out
    code, out, _ = quarc("run", model, "--print-signature")
    assert code == 0 and "a: f32 [?, 3, ?]" in out, out
    code, _, err = quarc("run", model, *inputs, "--output-dir", tmp_path)
    assert code == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), a + b, rtol=1e-6)


def test_quarc_run_reads_file_names_as_the_runtime_does(tmp_path, quarc_driver):
    """A bare argument is a whole file name even when it contains NAME=, and after `--`
    every argument is a file: the shapes quarc run compiles for come from the file the
    run then reads."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    model = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(model))
    data = np.arange(-4, 4, dtype=np.float32).reshape(2, 4)
    np.save(tmp_path / "x=foo.npy", data)
    np.save(tmp_path / "foo.npy", np.zeros((5, 4), np.float32))
    for args in (["x=foo.npy"], ["--output-dir", ".", "--", "x=foo.npy"],
                 ["--input", "x=x=foo.npy"]):
        if "--" not in args:
            args = ["--output-dir", ".", *args]
        proc = subprocess.run([str(quarc_tools.tool_path("quarc")), "run", str(model), *args],
                              cwd=tmp_path, capture_output=True, text=True,
                              timeout=quarc_tools.RUN_TIMEOUT_S)
        assert proc.returncode == 0, f"{args}: {proc.stderr}"
        np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.maximum(data, 0))


def test_quarc_run_data_of_another_shape_is_the_runtime_error(tmp_path, quarc_driver):
    """A .npy whose shape contradicts the model is left to the run's input check."""
    model = tmp_path / "dynamic_add.onnx"
    onnx.save(dynamic_add_model(), str(model))
    np.save(tmp_path / "a.npy", np.zeros((2, 4, 5), np.float32))
    np.save(tmp_path / "b.npy", np.zeros((2, 3, 5), np.float32))
    code, _, err = quarc("run", model, "--input", f"a={tmp_path / 'a.npy'}",
                         "--input", f"b={tmp_path / 'b.npy'}")
    assert_no_crash(code, err)
    assert code == 1 and err.startswith("error:") and "'a'" in err, err


@pytest.mark.parametrize("bad", ["wrong_shape", "wrong_rank", "wrong_dtype"])
def test_executable_rejects_bad_input(executable, input_files, tmp_path, bad):
    code, out, err = run_exe(executable, "--input", f"image_in={input_files['image']}",
                             "--input", f"bias:in={input_files[bad]}", "--output-dir", tmp_path)
    assert_no_crash(code, err)
    assert code == 1, f"exit {code}: {err}"
    assert err.startswith("error:") and "'bias:in'" in err, err
    assert list(tmp_path.iterdir()) == [], "a failed run wrote outputs"


def test_executable_missing_input_is_usage_error(executable, input_files):
    code, _, err = run_exe(executable, "--input", f"image_in={input_files['image']}")
    assert code == 2
    assert "error:" in err and "bias:in" in err


def test_executable_unknown_input_names_the_inputs(executable, input_files):
    code, _, err = run_exe(executable, "--input", f"nope={input_files['image']}")
    assert code == 2
    assert "'nope'" in err and all(name in err for name in INPUT_NAMES), err


def test_executable_missing_npy_file(executable, tmp_path, input_files):
    code, _, err = run_exe(executable, "--input", f"image_in={tmp_path / 'absent.npy'}",
                           "--input", f"bias:in={input_files['bias']}")
    assert_no_crash(code, err)
    assert code == 1 and "absent.npy" in err, err


def test_executable_benchmark(executable, input_files):
    code, out, err = run_exe(executable, "--input", f"image_in={input_files['image']}",
                             "--input", f"bias:in={input_files['bias']}", "--benchmark", "3")
    assert code == 0, err
    assert "median" in out


def test_executable_has_no_dependency_on_the_build(executable, input_files, tmp_path):
    """The executable runs from another folder, with a clean environment."""
    code = subprocess.run([str(executable), "--help"], cwd=tmp_path, env={},
                          capture_output=True, timeout=30).returncode
    assert code == 0
