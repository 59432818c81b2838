"""quarc.compile, quarc.load and the compiled model they return."""
import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _quarc
from ._errors import InputError, UsageError

QUANTIZE_MODES = ("int8", "dynamic-int8", "int4-weight", "w4a8")

# quarc_dtype (runtime/include/quarc/quarc_runtime.h) -> NumPy.
_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32,
           7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}

ModelSource = Union[str, os.PathLike, bytes]


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output: ``shape`` has None for a dynamic dim."""
    name: str
    dtype: np.dtype
    shape: Tuple[Optional[int], ...]


@contextlib.contextmanager
def model_file(model, folder: str):
    """The path of ``model``: a path as it is; bytes or an onnx.ModelProto
    (anything with SerializeToString) written to ``folder``/model.onnx."""
    if isinstance(model, (str, os.PathLike)):
        yield os.fspath(model)
        return
    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    if not isinstance(model, (bytes, bytearray, memoryview)):
        raise UsageError("model must be a path, the bytes of an .onnx file or an "
                         f"onnx.ModelProto, not {type(model).__name__}")
    path = os.path.join(folder, "model.onnx")
    with open(path, "wb") as f:
        f.write(model)
    yield path


def format_input_shapes(input_shapes) -> list:
    """{name: (d0, d1, ...)} (None, -1 or "?" for a dynamic dim) as the
    driver's NAME=D0xD1 strings; a list of such strings is taken as is."""
    if input_shapes is None:
        return []
    if isinstance(input_shapes, Mapping):
        specs = []
        for name, shape in input_shapes.items():
            dims = ["?" if d is None or d == -1 or d == "?" else str(int(d))
                    for d in shape]
            specs.append(f"{name}={'x'.join(dims)}")
        return specs
    if isinstance(input_shapes, str):
        return [input_shapes]
    return [str(spec) for spec in input_shapes]


def compile_arguments(*, target, quantize, scheme, input_shapes, exclude_nodes,
                      keep_float, graph_passes):
    if quantize is not None and quantize not in QUANTIZE_MODES:
        raise UsageError(f"quantize must be one of {', '.join(QUANTIZE_MODES)} "
                         f"or None, not {quantize!r}")
    args = _quarc.CompileArguments()
    args.target = target
    args.quantize = quantize or ""
    args.scheme = scheme or ""
    args.input_shapes = format_input_shapes(input_shapes)
    args.exclude_nodes = [str(n) for n in exclude_nodes]
    args.keep_float = [str(t) for t in keep_float]
    args.graph_passes = graph_passes or ""
    return args


class CompiledModel:
    """A model compiled to native code and loaded in this process.

    ``model(x)`` runs it on its inputs in declaration order (or by name,
    ``model(x=...)``) and returns the output, or a tuple of outputs;
    ``model.run({name: array})`` returns {name: array}. Inputs must have the
    declared element type (other array-likes are converted); contiguous
    NumPy arrays are passed to the compiled code without a copy. The
    outputs are new arrays. The GIL is released while the model runs; one
    CompiledModel runs one call at a time (use one per thread).
    """

    def __init__(self, library: str, weights: Optional[str] = None, *,
                 _folder=None, _warnings=()):
        # Absolute: dlopen looks for a bare file name on the library path.
        self.path = os.path.abspath(os.fspath(library))
        self._library = _quarc.Library(self.path,
                                       None if weights is None else os.fspath(weights))
        self._folder = _folder  # a TemporaryDirectory of quarc.compile's
        self.warnings = list(_warnings)
        self.inputs = [TensorInfo(n, np.dtype(_DTYPES[d]), tuple(s))
                       for n, d, s in self._library.inputs]
        self.outputs = [TensorInfo(n, np.dtype(_DTYPES[d]), tuple(s))
                        for n, d, s in self._library.outputs]
        self._threads = 1

    @property
    def target(self) -> str:
        """The target it was compiled for, e.g. "x86_64+avx512vnni"."""
        return self._library.target

    @property
    def name(self) -> str:
        """The ONNX graph's name."""
        return self._library.graph_name

    @property
    def threads(self) -> int:
        return self._threads

    @threads.setter
    def threads(self, count: int):
        self._library.set_threads(int(count))
        self._threads = int(count)

    def _arrays(self, named: Mapping[str, object]):
        names = [t.name for t in self.inputs]
        unknown = [n for n in named if n not in names]
        if unknown:
            raise InputError(f"the model has no input {unknown[0]!r} "
                             f"(its inputs: {', '.join(names)})")
        arrays = []
        for info in self.inputs:
            if info.name not in named:
                raise InputError(f"no value for input {info.name!r}")
            value = named[info.name]
            if isinstance(value, np.ndarray):
                if value.dtype != info.dtype:
                    raise InputError(f"input {info.name!r} is {value.dtype}, but "
                                     f"the model expects {info.dtype}")
                value = np.ascontiguousarray(value)
            else:
                value = np.ascontiguousarray(np.asarray(value, dtype=info.dtype))
            arrays.append(value)
        return arrays

    def run(self, inputs: Mapping[str, object]) -> Dict[str, np.ndarray]:
        """Runs on {input name: array}; returns {output name: array}."""
        outputs = self._library.run(self._arrays(inputs))
        return {info.name: value for info, value in zip(self.outputs, outputs)}

    def __call__(self, *args, **kwargs):
        if len(args) > len(self.inputs):
            raise InputError(f"the model takes {len(self.inputs)} inputs, "
                             f"{len(args)} given")
        named = {info.name: value for info, value in zip(self.inputs, args)}
        for name, value in kwargs.items():
            if name in named:
                raise InputError(f"input {name!r} given twice")
            named[name] = value
        outputs = self._library.run(self._arrays(named))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the shared library to ``path`` and its C header beside it
        (``path`` with the extension .h), each under a temporary name first.
        C programs find the model as ``quarc_library_model`` (or
        ``<name>_model``, the header says which) and run it through the
        runtime API the header declares (docs/runtime.md); quarc.load reads
        it back."""
        path = os.fspath(path)
        header = os.path.splitext(path)[0] + ".h"
        source_header = os.path.splitext(self.path)[0] + ".h"
        copies = [(self.path, path)]
        if os.path.exists(source_header):
            copies.append((source_header, header))
        written = []
        try:
            for source, target in copies:
                temporary = target + ".tmp-quarc"
                shutil.copyfile(source, temporary)
                shutil.copymode(source, temporary)
                written.append((temporary, target))
            for temporary, target in written:
                os.replace(temporary, target)
        finally:
            for temporary, _ in written:
                if os.path.exists(temporary):
                    os.remove(temporary)

    def __repr__(self):
        ins = ", ".join(f"{t.name}: {t.dtype}{list(t.shape)}" for t in self.inputs)
        outs = ", ".join(f"{t.name}: {t.dtype}{list(t.shape)}" for t in self.outputs)
        return f"<quarc.CompiledModel {self.name!r} ({ins}) -> ({outs}) for {self.target}>"


def load(path: Union[str, os.PathLike],
         weights: Optional[Union[str, os.PathLike]] = None) -> CompiledModel:
    """Loads a shared library compiled by quarc (``quarc compile -o
    model.so`` or CompiledModel.save). ``weights``: the weights file of a
    model compiled with ``--weights`` (by default the file it names, next
    to the library)."""
    return CompiledModel(path, weights)


def compile(model: ModelSource, *, target: str = "host",
            quantize: Optional[str] = None, calibration=None,
            scheme: Optional[str] = None, input_shapes=None,
            exclude_nodes: Sequence[str] = (), keep_float: Sequence[str] = (),
            graph_passes: Optional[str] = None, threads: int = 1) -> CompiledModel:
    """Compiles an ONNX model (a path, its bytes or an onnx.ModelProto) for
    ``target`` and loads it.

    quantize: None (float), "int8" (static: needs ``calibration``, either a
    quarc.Stats, the path of a stats file, or an iterable of samples, each
    a dict {input name: array} or, for a one-input model, an array),
    "dynamic-int8", "int4-weight" or "w4a8" (as ``quarc compile
    --quantize``; docs/quantization.md). scheme: the --scheme syntax.
    input_shapes: {name: shape} with None for dims left dynamic.
    exclude_nodes / keep_float: ONNX node names / op types kept in float.
    graph_passes: a pass pipeline run before quantization (--graph-passes).
    threads: the threads the model runs on (also for calibrating).

    The library lives in a temporary folder as long as the model does;
    CompiledModel.save keeps it. Only the host's target can be loaded:
    compile other targets with ``quarc compile``.
    """
    from ._calibration import Stats, calibrate  # import cycle
    args = compile_arguments(target=target, quantize=quantize, scheme=scheme,
                             input_shapes=input_shapes, exclude_nodes=exclude_nodes,
                             keep_float=keep_float, graph_passes=graph_passes)
    if quantize is None and (scheme or exclude_nodes or keep_float):
        raise UsageError("scheme, exclude_nodes and keep_float go with quantize")
    if (calibration is None) == (quantize == "int8"):
        raise UsageError("quantize='int8' needs calibration (a quarc.Stats, a "
                         "stats file or samples)" if quantize == "int8" else
                         "calibration goes with quantize='int8'")
    folder = tempfile.TemporaryDirectory(prefix="quarc-")
    with model_file(model, folder.name) as path:
        if quantize == "int8":
            if isinstance(calibration, (str, os.PathLike)):
                stats = Stats.load(calibration)
            elif isinstance(calibration, Stats):
                stats = calibration
            else:
                stats = calibrate(path, calibration, input_shapes=input_shapes,
                                  threads=threads, graph_passes=graph_passes)
            args.stats_path = os.path.join(folder.name, "stats.json")
            stats.save(args.stats_path)
        stem = os.path.splitext(os.path.basename(path))[0] or "model"
        library = os.path.join(folder.name, stem + ".so")
        warnings = _quarc.compile_artifact(path, library, args)
    compiled = CompiledModel(library, _folder=folder, _warnings=warnings)
    if threads != 1:
        compiled.threads = threads
    return compiled
