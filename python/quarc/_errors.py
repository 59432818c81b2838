"""quarc's exceptions. Each carries the message and the compiler's diagnostics."""
from dataclasses import dataclass
from typing import List, Optional


@dataclass(frozen=True)
class Diagnostic:
    """One message of the compiler: ``severity`` is "error", "warning",
    "remark" or "note"; ``file`` and ``node`` say where in the ONNX model
    (None when unknown)."""
    severity: str
    message: str
    file: Optional[str] = None
    node: Optional[str] = None

    def __str__(self):
        where = ": ".join(part for part in (
            self.file, f"node '{self.node}'" if self.node else None) if part)
        return f"{where}: {self.severity}: {self.message}" if where else \
            f"{self.severity}: {self.message}"


class QuarcError(Exception):
    """Base of quarc's errors: ``message`` and ``diagnostics`` (a list of
    Diagnostic; empty when the error did not come from the compiler)."""

    def __init__(self, message: str, diagnostics: Optional[List[Diagnostic]] = None):
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics or [])

    @property
    def node(self) -> Optional[str]:
        """The ONNX node of the first error diagnostic, if it names one."""
        for diagnostic in self.diagnostics:
            if diagnostic.severity == "error" and diagnostic.node:
                return diagnostic.node
        return None


class UsageError(QuarcError, ValueError):
    """An argument quarc cannot take: an unknown target, quantization mode,
    scheme, op type; a missing calibration."""


class CompileError(QuarcError):
    """The model does not compile: unreadable or malformed ONNX, an
    unsupported op or opset, shapes that do not fit. ``node`` names the ONNX
    node when the compiler knows it."""


class CalibrationError(QuarcError):
    """Calibration or the report failed: a sample that does not fit the
    model (names, dtypes, shapes, NaN or infinite values), stats of another
    model, an unreadable stats file."""


class LoadError(QuarcError, OSError):
    """A compiled model cannot be loaded: not a library quarc compiled, built
    for another runtime version, a missing or foreign weights file."""


class InputError(QuarcError, ValueError):
    """A run was given inputs the model does not take: wrong names, count,
    element type, rank or static dimension."""

