"""quarc.calibrate and the stats it returns."""
import os
from typing import Iterable, Mapping, Optional, Union

import numpy as np

from . import _quarc
from ._errors import UsageError
from ._model import format_input_shapes, model_file


def as_named_arrays(sample):
    """A sample as [(input name, contiguous array)]: a dict {name: array},
    or one array for a one-input model (the name "" stands for its input)."""
    if isinstance(sample, Mapping):
        return [(str(name), np.ascontiguousarray(value))
                for name, value in sample.items()]
    if isinstance(sample, np.ndarray):
        return [("", np.ascontiguousarray(sample))]
    raise UsageError("a sample is a dict {input name: array} or, for a model "
                     f"with one input, an array; got {type(sample).__name__}")


class Stats:
    """Calibration statistics (histograms of the model's float tensors):
    what quarc.compile(quantize="int8") and ``quarc compile --stats`` choose
    ranges from. Saved as the JSON file ``quarc calibrate`` writes; stats of
    disjoint samples of one model merge into exactly the stats of one
    calibration over all of them."""

    def __init__(self, native):
        self._native = native

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Stats":
        return cls(_quarc.Stats.load(os.fspath(path)))

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the stats file (under a temporary name, then renamed)."""
        self._native.save(os.fspath(path))

    def merge(self, *others: "Stats") -> "Stats":
        """These stats and ``others`` (same model, disjoint samples) as one."""
        merged = self._native
        for other in others:
            merged = merged.merge(other._native)
        return Stats(merged)

    def to_json(self) -> str:
        return self._native.to_json()

    @property
    def model_hash(self) -> str:
        """"sha256:..." of the model file the stats were made for."""
        return self._native.model_hash

    @property
    def bins(self) -> int:
        return self._native.bins

    @property
    def num_samples(self) -> int:
        return self._native.num_samples

    @property
    def sample_ranges(self):
        """The sample indices covered, as [(first, last), ...]."""
        return [tuple(r) for r in self._native.sample_ranges]

    @property
    def tensors(self):
        """The names of the observed tensors."""
        return list(self._native.tensors)

    def __repr__(self):
        return (f"<quarc.Stats {len(self.tensors)} tensors, "
                f"{self.num_samples} samples, {self.model_hash[:19]}...>")


def calibrate(model, samples: Iterable, *, input_shapes=None, bins: int = 2048,
              threads: int = 1, first_index: int = 0,
              graph_passes: Optional[str] = None) -> Stats:
    """Runs ``model`` (compiled in memory for this machine) on ``samples``
    and returns the histograms of its float tensors.

    samples: any iterable, a generator included (read once, one sample at a
    time): each a dict {input name: array} or, for a one-input model, an
    array. Samples are numbered from ``first_index`` in the stats, so that
    stats of different parts of a calibration set merge (Stats.merge).
    """
    if bins < 1:
        raise UsageError(f"bins must be positive, not {bins}")
    iterator = iter(samples)

    def next_sample():
        try:
            sample = next(iterator)
        except StopIteration:
            return None
        return as_named_arrays(sample)

    import tempfile
    with tempfile.TemporaryDirectory(prefix="quarc-") as folder, \
            model_file(model, folder) as path:
        return Stats(_quarc.calibrate(path, next_sample,
                                      format_input_shapes(input_shapes),
                                      graph_passes or "", int(bins), int(threads),
                                      int(first_index)))
