"""quarc: an ahead-of-time quantizing compiler for ONNX models.

    import quarc
    model = quarc.compile("model.onnx", quantize="int8", calibration=samples)
    y = model(x)                      # NumPy in, NumPy out
    model.save("model.so")            # with model.h, for C programs
    same = quarc.load("model.so")

    stats = quarc.calibrate("model.onnx", samples)   # a generator is fine
    stats.save("stats.json")
    report = quarc.report("model.onnx", samples)     # per-layer SQNR

docs/python.md documents every function; errors are quarc.QuarcError
subclasses carrying the compiler's diagnostics.
"""
import os as _os

from . import _quarc
from ._calibration import Stats, calibrate
from ._errors import (CalibrationError, CompileError, Diagnostic, InputError,
                      LoadError, QuarcError, UsageError)
from ._model import QUANTIZE_MODES, CompiledModel, TensorInfo, compile, load
from ._report import (ErrorMeasures, OpTypeCount, OutputReport, Report,
                      TensorReport, WeightReport, report)

__version__ = _quarc.version

# The runtime that compiled libraries link lives in this package
# (lib/quarc/<arch>/), not next to a quarc executable.
_quarc.set_resource_root(_os.path.dirname(_os.path.abspath(__file__)))


def host_target() -> str:
    """The target quarc detects for this machine, e.g. "x86_64+avx512vnni"."""
    return _quarc.host_target()


__all__ = [
    "CalibrationError", "CompileError", "CompiledModel", "Diagnostic", "ErrorMeasures",
    "InputError", "LoadError", "OpTypeCount", "OutputReport", "QUANTIZE_MODES",
    "QuarcError", "Report", "Stats", "TensorInfo", "TensorReport",
    "UsageError", "WeightReport", "calibrate", "compile", "host_target", "load",
    "report",
]
