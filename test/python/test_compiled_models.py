"""Real models compiled by quarc, checked against onnxruntime (the independent reference).

* The three PP-OCR models shipped with rapidocr_onnxruntime, on realistic inputs:
  text rendered with a TrueType font and preprocessed by rapidocr's own code.
  Each is compiled to an executable and also run with `quarc run`; both must
  match onnxruntime to 1e-4 of the output's largest magnitude, and the
  recognizer's CTC-decoded text must be identical.
* The nine CNN architectures the onnx package ships as "light" models (AlexNet,
  DenseNet-121, GoogLeNet, Inception v2, ResNet-50, ShuffleNet, SqueezeNet, VGG-19,
  ZFNet-512), with seeded weights in place of their constant fills, on a synthetic
  outdoor scene: the executable to 1e-4 of onnxruntime, logits and class scores. These
  must compile: no xfail for a missing lowering.
* A small CNN with a dynamic batch, compiled once to a shared library and
  driven through the C API (quarc_runtime.h) with ctypes, for batch 1 and 3,
  plus the API's error paths.

A model whose compilation stops at an op with no native lowering yet is an
xfail (the lowering is still growing); a crash or a numerical mismatch fails.
"""

from __future__ import annotations

import ctypes
import glob
import re
import shutil
import subprocess
from dataclasses import dataclass
from multiprocessing.pool import ThreadPool
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import quarc_tools

pytest.importorskip("onnxruntime")  # the reference (quarc_tools.onnxruntime_reference)

# |quarc - onnxruntime| <= REL_TOL * max(1, max |onnxruntime|), per output.
REL_TOL = 1e-4

# Compiling a PP-OCR model takes ~20 s on an idle core; allow for a busy machine.
COMPILE_TIMEOUT_S = 600

RENDERED_TEXT = "Total: 389.50 EUR"  # one line for rec and cls, at most 320x48
PAGE_LINES = ("quarc compiles ONNX", "to native code", "Total: 42.0")


# ---------------------------------------------------------------------------
# Realistic inputs: rendered text, preprocessed like rapidocr


def find_font() -> Path | None:
    """A TrueType font from the system: DejaVu Sans if present, else any .ttf."""
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True,
                             text=True, timeout=10, check=False).stdout.strip()
        if out.endswith((".ttf", ".TTF")) and Path(out).is_file():
            return Path(out)
    except (OSError, subprocess.TimeoutExpired):
        pass
    fonts = sorted(glob.glob("/usr/share/fonts/**/*.ttf", recursive=True))
    preferred = [f for f in fonts if Path(f).name == "DejaVuSans.ttf"]
    return Path((preferred or fonts)[0]) if fonts else None


def render_line(text: str, height: int = 48) -> np.ndarray:
    """Black text on white, as an HxWx3 uint8 BGR image (what cv2.imread gives rapidocr)."""
    font_path = find_font()
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        Image = None
    if Image is not None and font_path is not None:
        font = ImageFont.truetype(str(font_path), size=int(height * 0.62))
        left, top, right, bottom = font.getbbox(text)
        margin = height // 6
        width = right - left + 2 * margin
        image = Image.new("RGB", (width, height), "white")
        y = (height - (bottom - top)) // 2 - top
        ImageDraw.Draw(image).text((margin - left, y), text, fill="black", font=font)
        return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    import cv2  # rapidocr depends on opencv; its Hershey fonts are the fallback

    scale = height / 48
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    image = np.full((height, w + height // 3, 3), 255, np.uint8)
    cv2.putText(image, text, (height // 6, (height + h) // 2), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (0, 0, 0), 2, cv2.LINE_AA)
    return image


def render_page(lines, line_height: int = 40, width: int = 360) -> np.ndarray:
    """A white page with a few text lines, left-aligned with a margin (BGR)."""
    page = np.full((line_height * (len(lines) + 1), width, 3), 255, np.uint8)
    for i, text in enumerate(lines):
        line = render_line(text, line_height)[:, :width - 20]
        top = line_height // 2 + i * line_height
        page[top:top + line.shape[0], 20:20 + line.shape[1]] = line
    return page


def rec_input(image: np.ndarray) -> np.ndarray:
    """rapidocr's TextRecognizer preprocessing: height 48, width padded to 320, (x/255-0.5)/0.5."""
    from rapidocr_onnxruntime.ch_ppocr_rec.text_recognize import TextRecognizer

    shape = [3, 48, 320]
    h, w = image.shape[:2]
    max_wh_ratio = max(shape[2] / shape[1], w / h)
    config = SimpleNamespace(rec_image_shape=shape)
    return TextRecognizer.resize_norm_img(config, image, max_wh_ratio)[np.newaxis].astype(np.float32)


def cls_input(image: np.ndarray) -> np.ndarray:
    """rapidocr's TextClassifier preprocessing: 3x48x192, padded on the right."""
    from rapidocr_onnxruntime.ch_ppocr_cls.text_cls import TextClassifier

    config = SimpleNamespace(cls_image_shape=[3, 48, 192])
    return TextClassifier.resize_norm_img(config, image)[np.newaxis].astype(np.float32)


def det_input(page: np.ndarray) -> np.ndarray:
    """rapidocr's DetPreProcess: resize to multiples of 32, normalize, NCHW.

    limit_side_len is smaller than rapidocr's 736 to keep the test fast; the
    resizing rule (the shorter side to the limit, both to multiples of 32) is theirs.
    """
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    return DetPreProcess(limit_side_len=160, limit_type="min")(page).astype(np.float32)


# ---------------------------------------------------------------------------
# Compiling, running and comparing


@dataclass
class Variant:
    """One way of running the model through quarc, and what it gave."""
    name: str
    code: int
    stderr: str
    outputs: dict[str, np.ndarray]


def check_quarc_result(what: str, code: int, stderr: str, may_lack_lowering: bool = True) -> None:
    """Fail on a crash or an error; xfail when an op has no native lowering yet
    (unless the model is one that must compile)."""
    if quarc_tools.is_crash(code, stderr):
        pytest.fail(f"{what} crashed: {quarc_tools.crash_summary(code, stderr)}")
    if code == 0:
        return
    op = quarc_tools.no_lowering_op(stderr)
    if op and may_lack_lowering:
        pytest.xfail(f"no lowering to native code for '{op}' yet")
    pytest.fail(f"{what} failed (exit {code}): {quarc_tools.first_error_line(stderr)}")


def compile_and_run(model: Path, inputs: dict[str, np.ndarray], output_names: list[str],
                    folder: Path, with_quarc_run: bool = True) -> list[Variant]:
    """`quarc compile` to an executable and run it, and (unless not `with_quarc_run`)
    `quarc run`, side by side (2 cores)."""
    shape_flags, input_flags = [], []
    for name, array in inputs.items():
        path = folder / f"{quarc_tools.output_file_name(name)}"
        np.save(path, array)
        shape_flags += quarc_tools.shape_flag(name, array.shape)
        input_flags += ["--input", f"{name}={path}"]

    def compiled() -> Variant:
        exe = folder / "model"
        code, _, err = quarc_tools.run_quarc(["compile", model, "-o", exe] + shape_flags,
                                             timeout=COMPILE_TIMEOUT_S)
        if code != 0:
            return Variant("quarc compile", code, err, {})
        out = folder / "exe-out"
        code, _, err = quarc_tools.run_tool([str(exe)] + input_flags + ["--output-dir", str(out)],
                                            timeout=COMPILE_TIMEOUT_S)
        return Variant("executable", code, err, quarc_tools.read_outputs(out, output_names))

    def jit() -> Variant:
        out = folder / "run-out"
        code, _, err = quarc_tools.run_quarc(
            ["run", model] + shape_flags + input_flags + ["--output-dir", out],
            timeout=COMPILE_TIMEOUT_S)
        return Variant("quarc run", code, err, quarc_tools.read_outputs(out, output_names))

    with ThreadPool(2) as pool:
        results = [pool.apply_async(f) for f in ((compiled, jit) if with_quarc_run else (compiled,))]
        return [r.get() for r in results]


reference = quarc_tools.onnxruntime_reference


def error_table(model_id: str, variants: list[Variant], ref: dict[str, np.ndarray]) -> list[str]:
    """Compare every variant with the reference; return the problems (and print a table)."""
    problems = []
    rows = [("model", "variant", "output", "shape", "max|ref|", "max abs err", "rel err")]
    for variant in variants:
        for name, want in ref.items():
            got = variant.outputs.get(name)
            if got is None:
                problems.append(f"{variant.name}: output '{name}' was not written")
                continue
            if got.shape != want.shape or got.dtype != want.dtype:
                problems.append(f"{variant.name}: output '{name}' is {got.dtype}{list(got.shape)}, "
                                f"onnxruntime gives {want.dtype}{list(want.shape)}")
                continue
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            max_abs = float(diff.max()) if diff.size else 0.0
            max_ref = float(np.abs(want).max()) if want.size else 0.0
            rel = max_abs / max_ref if max_ref else max_abs
            rows.append((model_id, variant.name, name, "x".join(map(str, want.shape)),
                         f"{max_ref:.4g}", f"{max_abs:.3g}", f"{rel:.3g}"))
            if not np.isfinite(got).all():
                problems.append(f"{variant.name}: output '{name}' has NaN/Inf")
            elif max_abs > REL_TOL * max(1.0, max_ref):
                index = np.unravel_index(int(diff.argmax()), diff.shape)
                problems.append(f"{variant.name}: output '{name}' differs by {max_abs:.3g} at "
                                f"{tuple(int(i) for i in index)} (got {got[index]}, onnxruntime "
                                f"{want[index]}; allowed {REL_TOL * max(1.0, max_ref):.3g})")
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    print("\n" + "\n".join(table))
    REPORT_TABLES.append("\n".join(table + problems))
    return problems


REPORT_NAME = "compiled-models.txt"
REPORT_TABLES: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def error_report():
    """Writes every model's error table to build/test-reports/compiled-models.txt."""
    REPORT_TABLES.clear()
    yield
    if REPORT_TABLES:
        text = "quarc vs onnxruntime, max abs and relative (to max|ref|) error per output\n\n"
        (quarc_tools.reports_dir() / REPORT_NAME).write_text(text + "\n\n".join(REPORT_TABLES) + "\n")


# ---------------------------------------------------------------------------
# PP-OCR


def ocr_model(name: str) -> Path:
    root = quarc_tools.package_dir("rapidocr_onnxruntime")
    if root is None:
        pytest.skip("rapidocr_onnxruntime is not installed")
    path = root / "models" / f"{name}.onnx"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


def ctc_decode(model: Path, probabilities: np.ndarray) -> list[str]:
    """rapidocr's greedy CTC decoding with the character list kept in the model's metadata."""
    from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

    proto = onnx.load(str(model), load_external_data=False)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert "character" in meta, "the rec model has no character list in its metadata"
    decoder = CTCLabelDecode(character=meta["character"].splitlines())
    return [text for text, *_ in decoder(probabilities)]


def run_ocr_model(name: str, x: np.ndarray, tmp_path: Path):
    model = ocr_model(name)
    ref = reference(model, {"x": x})
    variants = compile_and_run(model, {"x": x}, list(ref), tmp_path)
    for variant in variants:
        check_quarc_result(variant.name, variant.code, variant.stderr)
    problems = error_table(name, variants, ref)
    assert not problems, "\n".join(problems)
    return model, ref, variants


@pytest.fixture(scope="module")
def text_line() -> np.ndarray:
    return render_line(RENDERED_TEXT)


def test_ppocr_rec(quarc_driver, text_line, tmp_path):
    x = rec_input(text_line)
    assert x.shape == (1, 3, 48, 320)
    model, ref, variants = run_ocr_model("ch_PP-OCRv4_rec_infer", x, tmp_path)
    (probabilities,) = ref.values()
    expected = ctc_decode(model, probabilities)
    print(f"rendered {RENDERED_TEXT!r}; onnxruntime reads {expected[0]!r}")
    assert expected[0].strip(), "onnxruntime reads nothing: the input is not realistic"
    for variant in variants:
        got = ctc_decode(model, variant.outputs[next(iter(ref))])
        assert got == expected, f"{variant.name} reads {got!r}, onnxruntime {expected!r}"


def test_ppocr_cls(quarc_driver, text_line, tmp_path):
    x = cls_input(text_line)
    assert x.shape == (1, 3, 48, 192)
    _, ref, variants = run_ocr_model("ch_ppocr_mobile_v2.0_cls_infer", x, tmp_path)
    (scores,) = ref.values()
    for variant in variants:
        got = next(iter(variant.outputs.values()))
        assert got.argmax(axis=1).tolist() == scores.argmax(axis=1).tolist()


def test_ppocr_det(quarc_driver, tmp_path):
    x = det_input(render_page(PAGE_LINES))
    assert x.shape[:2] == (1, 3) and x.shape[2] % 32 == 0 and x.shape[3] % 32 == 0
    _, ref, variants = run_ocr_model("ch_PP-OCRv4_det_infer", x, tmp_path)
    (probability_map,) = ref.values()
    assert (probability_map > 0.3).any(), "onnxruntime finds no text: the input is not realistic"
    for variant in variants:
        got = next(iter(variant.outputs.values()))
        # rapidocr binarizes the map at 0.3; the text regions must agree almost everywhere.
        disagree = np.mean((got > 0.3) != (probability_map > 0.3))
        assert disagree < 1e-3, f"{variant.name}: {disagree:.2%} of the text mask differs"


# ---------------------------------------------------------------------------
# The CNN architectures the onnx package ships ("light" models), with real weights


LIGHT_MODELS = ("bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
                "shufflenet", "squeezenet", "vgg19", "zfnet512")


def light_model_path(name: str) -> Path:
    path = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"light_{name}.onnx"
    if not path.is_file():
        pytest.skip(f"{path} is missing from this onnx package")
    return path


def seeded_weight(shape: tuple, uses: set, seed: int) -> np.ndarray:
    """A trained-looking parameter for what reads it: He-initialized filters, small biases,
    batch-norm scales and variances around 1 (the light models fill every one with 0.02,
    which makes all filters equal and every class score the same)."""
    rng = np.random.default_rng(seed)
    if ("Conv", 1) in uses or ("Gemm", 1) in uses or ("Reshape", 0) in uses:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 2 else min(shape)
        return rng.normal(0.0, np.sqrt(2.0 / max(fan_in, 1)), shape)
    if uses & {("BatchNormalization", 1), ("BatchNormalization", 4), ("Mul", 1), ("Mul", 0)}:
        return rng.uniform(0.5, 1.5, shape)  # scales and variances
    return rng.normal(0.0, 0.1, shape)  # biases and means


def light_model_with_weights(name: str) -> tuple[onnx.ModelProto, str]:
    """The light model with seeded weights as initializers, and the logits (the Softmax's
    input) as an extra output: class scores near 1/1000 would hide most errors."""
    model = onnx.load(str(light_model_path(name)))
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    readers: dict[str, set] = {}
    for node in graph.node:
        for index, name_in in enumerate(node.input):
            readers.setdefault(name_in, set()).add((node.op_type, index))
    # Through the Unsqueeze that densenet and inception_v2 put before Mul / Add.
    for node in graph.node:
        if node.op_type == "Unsqueeze":
            readers.setdefault(node.input[0], set()).update(readers.get(node.output[0], set()))
    kept = []
    for seed, node in enumerate(graph.node):
        shape_name = node.input[0] if node.op_type == "ConstantOfShape" else None
        if shape_name not in initializers:
            kept.append(node)
            continue
        shape = tuple(int(d) for d in onnx.numpy_helper.to_array(initializers[shape_name]))
        weight = seeded_weight(shape, readers.get(node.output[0], set()), seed)
        graph.initializer.append(
            onnx.numpy_helper.from_array(weight.astype(np.float32), node.output[0]))
    del graph.node[:]
    graph.node.extend(kept)
    softmax = [n for n in graph.node if n.op_type == "Softmax"]
    model = onnx.shape_inference.infer_shapes(model)
    if softmax:
        logits = softmax[-1].input[0]
        info = [v for v in model.graph.value_info if v.name == logits]
        model.graph.output.extend(info or [helper.make_empty_tensor_value_info(logits)])
    image_input = [i for i in model.graph.input if i.name not in initializers][0].name
    return model, image_input


def natural_image(height: int, width: int, seed: int = 3) -> np.ndarray:
    """An outdoor-looking RGB scene (uint8 HxWx3): a sky gradient over textured ground,
    soft-edged objects in saturated colours, multi-scale texture and sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / np.float32(height)
    horizon = 0.45 + 0.05 * np.sin(6 * x + 1.0)
    sky = np.stack([0.35 + 0.3 * y, 0.55 + 0.25 * y, 0.95 - 0.1 * y], -1)
    ground = np.stack([0.35 + 0.1 * x, 0.45 - 0.1 * y, 0.15 + 0 * x], -1)
    image = np.where((y < horizon)[..., None], sky, ground)
    for _ in range(6):  # soft ellipses: the objects of the scene
        cy, cx = rng.uniform(0.2, 0.9), rng.uniform(0.1, 0.9) * width / height
        ry, rx = rng.uniform(0.05, 0.2, 2)
        inside = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2
        alpha = np.clip(1.5 - inside, 0, 1)[..., None]
        image = image * (1 - alpha) + alpha * rng.uniform(0, 1, 3)
    texture = np.zeros((height, width))
    for scale in (4, 16, 64):  # value noise, coarse to fine
        coarse = rng.normal(0, 1, (height // scale + 2, width // scale + 2))
        texture += np.kron(coarse, np.ones((scale, scale)))[:height, :width] * scale / 256
    image = image + 0.08 * texture[..., None] + rng.normal(0, 0.01, image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def imagenet_input(image: np.ndarray) -> np.ndarray:
    """The usual ImageNet preprocessing: RGB scaled to [0, 1], normalized, NCHW."""
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    x = (image.astype(np.float32) / 255 - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis])


@dataclass
class LightRun:
    """A light model's onnxruntime outputs (the reference) and what quarc gave."""
    ref: dict[str, np.ndarray]
    logits: str  # the name of the logits output
    variants: list[Variant]


@pytest.fixture(scope="module")
def light_runs(quarc_driver, tmp_path_factory) -> dict[str, LightRun]:
    """Every light model compiled to an executable and run, two models at a time (the
    machine has 2 cores). The executable only: `quarc run` compiles the same code (the
    PP-OCR tests run both), and the suite's time matters."""
    root = tmp_path_factory.mktemp("light")

    def run(name: str) -> tuple[str, LightRun]:
        folder = root / name
        folder.mkdir()
        model, image_input = light_model_with_weights(name)
        path = folder / f"{name}.onnx"
        onnx.save(model, str(path))
        shape = [d.dim_value for d in next(i for i in model.graph.input
                                           if i.name == image_input).type.tensor_type.shape.dim]
        x = imagenet_input(natural_image(shape[2], shape[3]))
        ref = reference(path, {image_input: x})
        variants = compile_and_run(path, {image_input: x}, list(ref), folder,
                                   with_quarc_run=False)
        return name, LightRun(ref, model.graph.output[-1].name, variants)

    with ThreadPool(2) as pool:
        return dict(pool.map(run, LIGHT_MODELS))


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_light_cnn(light_runs, name):
    run = light_runs[name]
    assert run.ref[run.logits].std() > 0.1, \
        f"{name}: the class scores barely differ (weights not replaced?)"
    for variant in run.variants:
        check_quarc_result(variant.name, variant.code, variant.stderr, may_lack_lowering=False)
    problems = error_table(f"light_{name}", run.variants, run.ref)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# Dynamic batch through the C API of a shared library


QUARC_MAX_RANK = 8
QUARC_ABI_VERSION = int(re.search(
    r"#define QUARC_ABI_VERSION (\d+)",
    (quarc_tools.REPO_ROOT / "runtime/include/quarc/quarc_runtime.h").read_text()).group(1))


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("dims", ctypes.c_int64 * QUARC_MAX_RANK)]


NUMPY_DTYPES = {
    TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64, TensorProto.FLOAT16: np.float16,
    TensorProto.INT8: np.int8, TensorProto.UINT8: np.uint8, TensorProto.INT16: np.int16,
    TensorProto.INT32: np.int32, TensorProto.INT64: np.int64, TensorProto.BOOL: np.bool_,
}
DTYPE_CODES = {np.dtype(v): k for k, v in NUMPY_DTYPES.items()}

SESSION_API = ("quarc_session_create", "quarc_session_run", "quarc_session_error",
               "quarc_session_destroy", "quarc_status_string")


def cnn_model() -> onnx.ModelProto:
    """Conv(3->4, 3x3, pad 1) + Relu + GlobalAveragePool + Flatten + Gemm(4->5); batch 'N'."""
    rng = np.random.default_rng(7)
    weights = {
        "conv_w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.5,
        "conv_b": rng.standard_normal(4).astype(np.float32),
        "fc_w": rng.standard_normal((4, 5)).astype(np.float32),
        "fc_b": rng.standard_normal(5).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 5])],
        initializer=[onnx.numpy_helper.from_array(v, k) for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


class CompiledModel:
    """A shared library from `quarc compile`, driven through the session API with ctypes."""

    def __init__(self, library: Path, api: ctypes.CDLL):
        self.library = ctypes.CDLL(str(library))
        prefix = quarc_tools.symbol_prefix(library.name.split(".")[0])
        self.desc = quarc_tools.ModelDesc.in_dll(self.library, f"{prefix}_model")
        self.api = api
        api.quarc_session_create.argtypes = [ctypes.POINTER(quarc_tools.ModelDesc),
                                             ctypes.POINTER(ctypes.c_void_p)]
        api.quarc_session_create.restype = ctypes.c_int
        api.quarc_session_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(Tensor), ctypes.c_size_t,
                                          ctypes.POINTER(Tensor), ctypes.c_size_t]
        api.quarc_session_run.restype = ctypes.c_int
        api.quarc_session_error.argtypes = [ctypes.c_void_p]
        api.quarc_session_error.restype = ctypes.c_char_p
        api.quarc_session_destroy.argtypes = [ctypes.c_void_p]
        api.quarc_session_destroy.restype = None
        api.quarc_status_string.argtypes = [ctypes.c_int]
        api.quarc_status_string.restype = ctypes.c_char_p
        self.session = ctypes.c_void_p()
        status = api.quarc_session_create(ctypes.byref(self.desc), ctypes.byref(self.session))
        assert status == quarc_tools.QUARC_OK, self.status_name(status)
        assert self.session.value

    def status_name(self, status: int) -> str:
        return self.api.quarc_status_string(status).decode()

    def error(self) -> str:
        return self.api.quarc_session_error(self.session).decode()

    def signature(self, which: str) -> list[tuple[str, int, list[int]]]:
        count = self.desc.num_inputs if which == "inputs" else self.desc.num_outputs
        descs = getattr(self.desc, which)
        return [(descs[i].name.decode(), descs[i].dtype,
                 [descs[i].dims[d] for d in range(descs[i].rank)]) for i in range(count)]

    def run(self, arrays: list[np.ndarray], dtypes=None, num_outputs=None):
        """(status, [outputs as numpy copies]); `dtypes` overrides the declared dtype codes."""
        arrays = [np.ascontiguousarray(a) for a in arrays]
        inputs = (Tensor * max(1, len(arrays)))()
        for i, array in enumerate(arrays):
            inputs[i].data = array.ctypes.data
            inputs[i].dtype = dtypes[i] if dtypes else DTYPE_CODES[array.dtype]
            inputs[i].rank = array.ndim
            for d, size in enumerate(array.shape):
                inputs[i].dims[d] = size
        n_out = self.desc.num_outputs if num_outputs is None else num_outputs
        outputs = (Tensor * max(1, n_out))()
        status = self.api.quarc_session_run(self.session, inputs, len(arrays), outputs, n_out)
        results = []
        if status == quarc_tools.QUARC_OK:
            for out in outputs[:n_out]:
                shape = tuple(out.dims[d] for d in range(out.rank))
                dtype = np.dtype(NUMPY_DTYPES[out.dtype])
                size = int(np.prod(shape)) * dtype.itemsize
                buffer = ctypes.string_at(out.data, size) if size else b""
                results.append(np.frombuffer(buffer, dtype).reshape(shape).copy())
        else:
            for out in outputs[:n_out]:
                assert not out.data and out.rank == 0, "outputs not zeroed after a failed run"
        return status, results

    def close(self) -> None:
        if self.session:
            self.api.quarc_session_destroy(self.session)
            self.session = ctypes.c_void_p()


def exports_session_api(library: Path) -> bool:
    lib = ctypes.CDLL(str(library))
    return all(hasattr(lib, name) for name in SESSION_API)


def runtime_shim(folder: Path) -> Path:
    """libquarc_runtime.a as a shared library: the session API for a .so that lacks it."""
    archive = quarc_tools.build_dir() / "lib" / "quarc" / "x86_64" / "libquarc_runtime.a"
    clang = shutil.which("clang") or "/usr/lib/llvm-22/bin/clang"
    shim = folder / "libquarc_runtime_shim.so"
    subprocess.run([clang, "-shared", "-fuse-ld=lld", "-o", str(shim), "-Wl,--whole-archive",
                    str(archive), "-Wl,--no-whole-archive", "-lm"], check=True, timeout=60)
    return shim


@pytest.fixture(scope="module")
def cnn(tmp_path_factory, quarc_driver):
    """The CNN compiled once (batch left dynamic) to libnet.so, with its ONNX file."""
    folder = tmp_path_factory.mktemp("cnn")
    model = folder / "net.onnx"
    onnx.save(cnn_model(), str(model))
    library = folder / "libnet.so"
    code, _, err = quarc_tools.run_quarc(["compile", model, "-o", library])
    check_quarc_result("quarc compile", code, err)
    return model, library


def open_session(library: Path, folder: Path) -> CompiledModel:
    if exports_session_api(library):
        api = ctypes.CDLL(str(library))
    else:
        # test_shared_library_exports_session_api reports that; check the rest anyway.
        api = ctypes.CDLL(str(runtime_shim(folder)), mode=ctypes.RTLD_GLOBAL)
    return CompiledModel(library, api)


@pytest.fixture
def session(cnn, tmp_path):
    compiled = open_session(cnn[1], tmp_path)
    yield compiled
    compiled.close()


def test_shared_library_exports_session_api(cnn):
    """docs/cli.md: a .so from `quarc compile` has the runtime included."""
    _, library = cnn
    lib = ctypes.CDLL(str(library))
    missing = [name for name in SESSION_API if not hasattr(lib, name)]
    assert not missing, f"{library.name} does not export {', '.join(missing)}"


def test_dynamic_batch_descriptor(session):
    assert session.desc.abi_version == QUARC_ABI_VERSION
    assert session.signature("inputs") == [("x", TensorProto.FLOAT, [-1, 3, 8, 8])]
    assert session.signature("outputs") == [("logits", TensorProto.FLOAT, [-1, 5])]


@pytest.mark.parametrize("batch", [1, 3])
def test_dynamic_batch_matches_onnxruntime(cnn, session, batch):
    model, _ = cnn
    x = np.random.default_rng(batch).standard_normal((batch, 3, 8, 8)).astype(np.float32)
    x_before = x.copy()
    status, (logits,) = session.run([x])
    assert status == quarc_tools.QUARC_OK, f"{session.status_name(status)}: {session.error()}"
    np.testing.assert_array_equal(x, x_before, err_msg="the run modified its input")
    want = reference(model, {"x": x})["logits"]
    assert logits.shape == (batch, 5) and logits.dtype == np.float32
    np.testing.assert_allclose(logits, want, rtol=REL_TOL, atol=REL_TOL * max(1, np.abs(want).max()))


def test_batches_in_one_session(cnn, session):
    """One session, batch 3 then 1 then 3: each run's outputs are its own."""
    model, _ = cnn
    rng = np.random.default_rng(11)
    for batch in (3, 1, 3):
        x = rng.standard_normal((batch, 3, 8, 8)).astype(np.float32)
        status, (logits,) = session.run([x])
        assert status == quarc_tools.QUARC_OK, session.error()
        np.testing.assert_allclose(logits, reference(model, {"x": x})["logits"],
                                   rtol=REL_TOL, atol=REL_TOL * 10)


@pytest.mark.parametrize("shape, dtype, status", [
    ((2, 3, 9, 8), np.float32, quarc_tools.QUARC_ERROR_SHAPE_MISMATCH),   # a static dim
    ((2, 4, 8, 8), np.float32, quarc_tools.QUARC_ERROR_SHAPE_MISMATCH),   # another one
    ((3, 8, 8), np.float32, quarc_tools.QUARC_ERROR_SHAPE_MISMATCH),      # the rank
    ((2, 3, 8, 8), np.float64, quarc_tools.QUARC_ERROR_DTYPE_MISMATCH),   # the dtype
    ((2, 3, 8, 8), np.int32, quarc_tools.QUARC_ERROR_DTYPE_MISMATCH),
], ids=["dim2", "dim1", "rank", "f64", "i32"])
def test_wrong_input_is_an_error(cnn, session, shape, dtype, status):
    x = np.zeros(shape, dtype)
    got, _ = session.run([x])
    assert got == status, f"{session.status_name(got)} ({session.error()})"
    message = session.error()
    assert "'x'" in message, f"the error does not name the input: {message!r}"
    # The session is still usable.
    good = np.ones((2, 3, 8, 8), np.float32)
    assert session.run([good])[0] == quarc_tools.QUARC_OK, session.error()


def test_wrong_input_count_is_an_error(session):
    x = np.zeros((1, 3, 8, 8), np.float32)
    status, _ = session.run([x, x])
    assert status == quarc_tools.QUARC_ERROR_INVALID_ARGUMENT, session.status_name(status)
    assert session.error()
    status, _ = session.run([x], num_outputs=0)
    assert status == quarc_tools.QUARC_ERROR_INVALID_ARGUMENT, session.status_name(status)


def gemm_model() -> onnx.ModelProto:
    """y = a @ b + c with all three as graph inputs: c is the natural buffer to accumulate into."""
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
              for name, shape in (("a", [3, 6]), ("b", [6, 4]), ("c", [3, 4]))]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    graph = helper.make_graph([helper.make_node("Gemm", ["a", "b", "c"], ["y"])], "gemm",
                              inputs, [output])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_inputs_are_not_modified(quarc_driver, tmp_path):
    """The generated code must not write into the caller's input buffers."""
    model = tmp_path / "gemm.onnx"
    onnx.save(gemm_model(), str(model))
    library = tmp_path / "libgemm.so"
    code, _, err = quarc_tools.run_quarc(["compile", model, "-o", library])
    check_quarc_result("quarc compile", code, err)
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in ((3, 6), (6, 4), (3, 4))]
    copies = [a.copy() for a in arrays]
    compiled = open_session(library, tmp_path)
    try:
        for _ in range(2):  # a second run would see a clobbered input as a wrong result
            status, (y,) = compiled.run(arrays)
            assert status == quarc_tools.QUARC_OK, compiled.error()
            np.testing.assert_allclose(y, copies[0] @ copies[1] + copies[2], rtol=1e-5, atol=1e-5)
    finally:
        compiled.close()
    for name, array, copy in zip("abc", arrays, copies):
        np.testing.assert_array_equal(array, copy, err_msg=f"the run modified input '{name}'")
