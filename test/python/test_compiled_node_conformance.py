"""Runs the ONNX backend node test cases through `quarc run` and checks the numbers.

Every case the importer takes (the same selection as test_onnx_node_conformance.py)
is compiled for the host with each input's shape fixed from the case's own input
arrays (`--input-shape NAME=...` for every input), run on those arrays, and each
output compared with the case's expected output: same dtype and shape, floats to
rtol 1e-3 / atol 1e-5, integers and bools exactly.

A case is skipped, with its reason counted in the report, when
  * an op has no native lowering yet ("no lowering: quarc.X"),
  * the lowering rejects this form of an op with its deliberate "... to lower to
    native code" / "... lowers to linalg" diagnostic ("lowering limitation: ..."),
  * an input or output has an element type the runtime cannot pass, or
  * the importer rejects the model.
Everything else that does not give the expected outputs fails; a crash (a signal,
"Stack dump", "LLVM ERROR", an assertion) is never skipped. Pass rate = passed /
(passed + failed). The cases of the families in REQUIRED_FAMILIES (the recurrent
layers) must all pass, and the report counts them. Each failing case is kept with its inputs, expected outputs and
command line under build/test-reports/compiled-node-conformance-failures/.
"""

from __future__ import annotations

import collections
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
import onnx

import quarc_tools

# A tried case compiled, or failed to for a reason other than a known gap, so it
# should give the expected numbers; the 5% slack covers corners where the ONNX
# reference and a native implementation may reasonably differ. Crashes are
# never tolerated.
MIN_PASS_RATE = 0.95

# Float outputs: |got - want| <= ATOL + RTOL * |want|; integer and bool: exact.
RTOL = 1e-3
ATOL = 1e-5

# Families whose node tests must all compile and pass, not just count towards
# the pass rate: {name in the report: case-name pattern}.
REQUIRED_FAMILIES = {
    "recurrent layers (LSTM, GRU, RNN)": re.compile(r"test_(lstm|gru|rnn|simple_rnn)_"),
}

# The machine has 2 cores and the build shares them.
WORKERS = 2

REPORT_NAME = "compiled-node-conformance.txt"
FAILED_CASES_DIR = "compiled-node-conformance-failures"

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"

# The lowering's deliberate "this form of the op does not compile yet" errors,
# e.g. "'quarc.reduce_sum' op axes must be a constant to lower to native code"
# (the node tests pass axes, pads, scales... as graph inputs, which an AOT
# compiler cannot fold) or "only 1-D and 2-D pooling lowers to linalg". Like a
# missing lowering they are skipped, each with its message as the reason.
LIMITATION_RE = re.compile(r"error: (.*\blowers? to (?:native code|linalg)\b.*)")


@dataclass
class Outcome:
    name: str
    status: str
    # The failure's first diagnostic line, or the skip reason.
    detail: str = ""
    crashed: bool = False
    # Kept for failures, so that the case can be re-run by hand.
    command: list[str] = field(default_factory=list)


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The inputs a caller feeds (graph inputs that are not initializers)."""
    initializers = {t.name for t in model.graph.initializer}
    return [v for v in model.graph.input if v.name not in initializers]


def dtype_reason(model: onnx.ModelProto) -> str | None:
    """Why the runtime cannot pass this model's inputs or outputs, or None."""
    for kind, values in (("input", graph_inputs(model)), ("output", model.graph.output)):
        for value in values:
            elem_type = value.type.tensor_type.elem_type
            if elem_type not in quarc_tools.RUNTIME_DTYPES:
                return f"runtime has no {quarc_tools.dtype_name(elem_type)} {kind}s"
    return None


def compare(name: str, got: np.ndarray, want: np.ndarray) -> str | None:
    """None when `got` matches `want`, else a one-line description of the difference."""
    if got.dtype != want.dtype:
        return f"output '{name}': dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"output '{name}': shape {got.shape}, expected {want.shape}"
    if got.size == 0:
        return None
    if np.issubdtype(want.dtype, np.floating):
        g = got.astype(np.float64)
        w = want.astype(np.float64)
        close = np.isclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True)
    else:
        close = got == want
    if close.all():
        return None
    bad = np.argwhere(~close)
    index = tuple(int(i) for i in bad[0])
    return (f"output '{name}': {len(bad)}/{got.size} values differ, "
            f"first at {index}: got {got[index]!r}, expected {want[index]!r}")


def run_command(model_path: Path, inputs: list[onnx.ValueInfoProto], arrays: list[np.ndarray],
                folder: Path) -> list[str]:
    """The `quarc run` command line for a case whose inputs are saved in `folder`."""
    args = ["run", str(model_path)]
    for value, array in zip(inputs, arrays):
        args += quarc_tools.shape_flag(value.name, array.shape)
    for i, (value, array) in enumerate(zip(inputs, arrays)):
        path = folder / f"input{i}.npy"
        np.save(path, array)
        args += ["--input", f"{value.name}={path}"]
    return args + ["--output-dir", str(folder / "out")]


def check_outputs(model: onnx.ModelProto, expected: list[np.ndarray], out_dir: Path) -> str | None:
    """None when every output file matches, else the first problem."""
    for value, want in zip(model.graph.output, expected):
        path = out_dir / quarc_tools.output_file_name(value.name)
        if not path.is_file():
            return f"output '{value.name}' was not written ({path.name})"
        problem = compare(value.name, np.load(path), np.asarray(want))
        if problem:
            return problem
    return None


def lowering_limitation(stderr: str) -> str | None:
    """The lowering's 'does not lower (yet)' message, normalized for counting, or None."""
    match = LIMITATION_RE.search(quarc_tools.first_error_line(stderr))
    if not match:
        return None
    message = re.sub(r"\s*\(run [^)]*\)$", "", match.group(1).strip())
    # 'tensor<3x4x5xui8>' -> 'tensor<...xui8>', so that reasons group by element type.
    return re.sub(r"tensor<(?:[0-9?]+x)+", "tensor<...x", message)


def classify_failure(case, code: int, stderr: str) -> Outcome:
    """The outcome of a `quarc run` that did not exit 0."""
    if quarc_tools.is_crash(code, stderr):
        return Outcome(case.name, FAILED, "CRASH: " + quarc_tools.crash_summary(code, stderr),
                       crashed=True)
    op = quarc_tools.no_lowering_op(stderr)
    if op:
        return Outcome(case.name, SKIPPED, f"no lowering: {op}")
    limitation = lowering_limitation(stderr)
    if limitation:
        return Outcome(case.name, SKIPPED, f"lowering limitation: {limitation}")
    if code != quarc_tools.TIMEOUT_RETURNCODE:
        # The importer test tolerates a few clean rejections of listed ops.
        import_code, _, import_err = quarc_tools.import_model(case.model, name=case.name)
        if import_code != 0 and not quarc_tools.is_crash(import_code, import_err):
            return Outcome(case.name, SKIPPED, "importer rejects the model")
    return Outcome(case.name, FAILED, quarc_tools.first_error_line(stderr))


def run_case(case) -> Outcome:
    """Compile and run one node test case with `quarc run` and check its outputs."""
    model = case.model
    reason = dtype_reason(model)
    if reason:
        return Outcome(case.name, SKIPPED, reason)
    inputs = graph_inputs(model)
    arrays, expected = case.data_sets[0]
    arrays = [np.asarray(a) for a in arrays]
    if len(arrays) != len(inputs):
        return Outcome(case.name, SKIPPED,
                       "input arrays do not match the graph inputs (optional inputs)")
    with tempfile.TemporaryDirectory(prefix="quarc-node-") as tmp:
        folder = Path(tmp)
        model_path = folder / f"{case.name}.onnx"
        onnx.save(model, str(model_path))
        args = run_command(model_path, inputs, arrays, folder)
        code, _, stderr = quarc_tools.run_quarc(args)
        stderr = stderr.replace(f"{tmp}/", "")
        if code != 0:
            outcome = classify_failure(case, code, stderr)
        else:
            problem = check_outputs(model, expected, folder / "out")
            outcome = Outcome(case.name, FAILED if problem else PASSED, problem or "")
        if outcome.status == FAILED:
            outcome.command = [a.replace(f"{tmp}/", "") for a in args]
    return outcome


def run_cases(cases) -> list[Outcome]:
    with ThreadPool(WORKERS) as pool:
        return pool.map(run_case, cases)


def summarize(outcomes: list[Outcome], import_skips: collections.Counter) -> str:
    """The report: totals, failures with their first diagnostic, skip reasons by count."""
    by_status = collections.defaultdict(list)
    for o in outcomes:
        by_status[o.status].append(o)
    skipped = collections.Counter(o.detail for o in by_status[SKIPPED])
    skipped.update({f"importer: {reason}": n for reason, n in import_skips.items()})
    tried = len(by_status[PASSED]) + len(by_status[FAILED])
    lines = [f"compiled onnx node conformance: tried {tried}, passed {len(by_status[PASSED])}, "
             f"failed {len(by_status[FAILED])}, skipped {sum(skipped.values())}"]
    for family, pattern in REQUIRED_FAMILIES.items():
        cases = [o for o in outcomes if pattern.match(o.name)]
        passed = sum(o.status == PASSED for o in cases)
        lines.append(f"  {family}: {passed} of {len(cases)} passed")
    if by_status[FAILED]:
        lines += ["", "failures:"]
        for o in sorted(by_status[FAILED], key=lambda o: o.name):
            lines.append(f"  {o.name}: {o.detail}")
    if skipped:
        lines += ["", "skip reasons:"]
        for reason, count in skipped.most_common():
            lines.append(f"  {count:5d}  {reason}")
    return "\n".join(lines) + "\n"


def save_failed_cases(cases, outcomes: list[Outcome]) -> None:
    """Keep each failing case (model, inputs, expected outputs, command) next to the report."""
    folder = quarc_tools.reports_dir() / FAILED_CASES_DIR
    shutil.rmtree(folder, ignore_errors=True)
    failed = {o.name: o for o in outcomes if o.status == FAILED}
    for case in cases:
        outcome = failed.get(case.name)
        if outcome is None:
            continue
        case_dir = folder / case.name
        case_dir.mkdir(parents=True, exist_ok=True)
        onnx.save(case.model, str(case_dir / f"{case.name}.onnx"))
        arrays, expected = case.data_sets[0]
        for i, array in enumerate(arrays):
            np.save(case_dir / f"input{i}.npy", np.asarray(array))
        for value, array in zip(case.model.graph.output, expected):
            np.save(case_dir / ("expected_" + quarc_tools.output_file_name(value.name)),
                    np.asarray(array))
        command = ["quarc"] + outcome.command
        (case_dir / "command.txt").write_text(
            f"# in this folder:\n{' '.join(command)}\n# {outcome.detail}\n")


def test_compiled_node_conformance(supported_ops, quarc_driver):
    cases = quarc_tools.load_node_cases()
    candidates, import_skips = quarc_tools.classify_node_cases(cases, supported_ops)
    outcomes = run_cases(candidates)

    report = summarize(outcomes, import_skips)
    print("\n" + report)
    (quarc_tools.reports_dir() / REPORT_NAME).write_text(report)
    save_failed_cases(candidates, outcomes)

    crashes = [o.name for o in outcomes if o.crashed]
    assert not crashes, f"quarc crashed on: {', '.join(crashes)}"
    for family, pattern in REQUIRED_FAMILIES.items():
        cases = [o for o in outcomes if pattern.match(o.name)]
        assert cases, f"no node test case of the {family}"
        not_passed = [f"{o.name} ({o.status}: {o.detail})" for o in cases if o.status != PASSED]
        assert not not_passed, f"{family}: {'; '.join(not_passed)}"
    passed = sum(o.status == PASSED for o in outcomes)
    tried = passed + sum(o.status == FAILED for o in outcomes)
    assert tried, "no node test case could be compiled"
    assert passed >= MIN_PASS_RATE * tried, (
        f"only {passed}/{tried} compiled cases give the expected outputs "
        f"(need {MIN_PASS_RATE:.0%}); see {quarc_tools.reports_dir() / REPORT_NAME}")
