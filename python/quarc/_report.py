"""quarc.report: how much int8 quantization changes each layer."""
import json
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from . import _quarc
from ._calibration import Stats, as_named_arrays
from ._model import compile_arguments, model_file


@dataclass(frozen=True)
class ErrorMeasures:
    """The quantized values q against the float ones x, over all samples:
    sqnr_db = 10 log10(sum x^2 / sum (x - q)^2) (inf when equal), cosine
    similarity, mean and largest |x - q|, how many float values fall outside
    what the quantized type represents (clipped), and how many values."""
    sqnr_db: float
    cosine: float
    mean_abs_error: float
    max_abs_error: float
    clipped: int
    count: int


@dataclass(frozen=True)
class TensorReport(ErrorMeasures):
    """A tensor the integer code writes, compared with the float model's.

    node: the ONNX node writing it; op: the quantized op ("qconv", "lut",
    ...); type: "u8", "i8", ... ("f32" for float written by an integer op);
    scale and zero_point: its parameters (None when per-axis or f32)."""
    name: str = ""
    node: str = ""
    op: str = ""
    type: str = ""
    scale: Optional[float] = None
    zero_point: Optional[int] = None
    representable: Optional[Tuple[float, float]] = None
    calibrated_range: Optional[Tuple[float, float]] = None


@dataclass(frozen=True)
class WeightReport:
    node: str
    op: str
    type: str
    elements: int
    channels: int
    float_bytes: int
    quantized_bytes: int
    scale_bytes: int
    zero_point_bytes: int


@dataclass(frozen=True)
class OutputReport(ErrorMeasures):
    """A model output, int8 against float."""
    name: str = ""


@dataclass(frozen=True)
class OpTypeCount:
    op_type: str
    integer: int
    float: int


@dataclass(frozen=True)
class Report:
    """What ``quarc report`` writes, as Python objects: every quantized
    tensor (in program order), every quantized weight, each model output,
    and how many nodes of each ONNX op type run as integer code.
    ``markdown`` and ``json`` are the report as the command writes it."""
    model_hash: str
    scheme: str
    target: str
    samples: int
    calibration_samples: int
    float_constant_bytes: int
    quantized_constant_bytes: int
    tensors: List[TensorReport]
    weights: List[WeightReport]
    outputs: List[OutputReport]
    op_types: List[OpTypeCount]
    markdown: str
    json: str

    def worst(self, count: int = 5) -> List[TensorReport]:
        """The ``count`` tensors with the lowest SQNR: where to look first
        (and what to pass to exclude_nodes)."""
        measured = [t for t in self.tensors if t.count > 0]
        return sorted(measured, key=lambda t: t.sqnr_db)[:count]


def _fields(cls, entry):
    return {name: entry[name] for name in cls.__dataclass_fields__}


def report(model, samples: Iterable, *, stats=None, scheme: Optional[str] = None,
           exclude_nodes: Sequence[str] = (), keep_float: Sequence[str] = (),
           input_shapes=None, threads: int = 1,
           graph_passes: Optional[str] = None) -> Report:
    """Compiles ``model`` in float and in int8 (as quarc.compile with
    quantize="int8"), runs both on ``samples`` (held in memory: they are
    read twice when ``stats`` is None, to calibrate and to measure) and
    compares every tensor the integer code writes with the float one."""
    arguments = compile_arguments(target="host", quantize="int8", scheme=scheme,
                                  input_shapes=input_shapes,
                                  exclude_nodes=exclude_nodes,
                                  keep_float=keep_float, graph_passes=graph_passes)
    named = [as_named_arrays(sample) for sample in samples]
    with tempfile.TemporaryDirectory(prefix="quarc-") as folder, \
            model_file(model, folder) as path:
        if stats is not None:
            if not isinstance(stats, Stats):
                stats = Stats.load(stats)
            arguments.stats_path = os.path.join(folder, "stats.json")
            stats.save(arguments.stats_path)
        built = _quarc.report(path, named, arguments, int(threads))
    return Report(
        model_hash=built["model_hash"], scheme=built["scheme"],
        target=built["target"], samples=built["samples"],
        calibration_samples=built["calibration_samples"],
        float_constant_bytes=built["float_constant_bytes"],
        quantized_constant_bytes=built["quantized_constant_bytes"],
        tensors=[TensorReport(**_fields(TensorReport, t)) for t in built["tensors"]],
        weights=[WeightReport(**_fields(WeightReport, w)) for w in built["weights"]],
        outputs=[OutputReport(**_fields(OutputReport, o)) for o in built["outputs"]],
        op_types=[OpTypeCount(**_fields(OpTypeCount, c)) for c in built["op_types"]],
        markdown=built["markdown"], json=built["json"])
