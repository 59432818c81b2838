"""Draws the per-tensor SQNR chart of a `quarc report` JSON file (schema in docs/cli.md).

    python3 report_chart.py REPORT.json CHART.png
    python3 report_chart.py --check      # exit 0 when matplotlib can be imported

`quarc report --png` runs this (installed as share/quarc/report_chart.py next to quarc's
bin/); C++ does not draw. One bar per tensor the integer code writes, in program order;
tensors the integer code reproduces exactly are drawn at the top of the axis in green, the
lowest ones in red and listed; the model outputs' SQNR are horizontal lines.
"""

from __future__ import annotations

import json
import math
import sys

EXIT_USAGE = 2
EXIT_NO_MATPLOTLIB = 3
WORST_MARKED = 5


def load_matplotlib():
    try:
        import matplotlib
    except ImportError:
        sys.stderr.write(f"matplotlib is not installed for {sys.executable} "
                         "(pip install matplotlib, or point QUARC_PYTHON to a Python that has it)\n")
        sys.exit(EXIT_NO_MATPLOTLIB)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def draw(report: dict, png_path: str) -> None:
    plt = load_matplotlib()
    tensors = [t for t in report["tensors"] if t["count"] > 0]
    finite = [t["sqnr_db"] for t in tensors if t["sqnr_db"] is not None]
    top = max(finite + [o["sqnr_db"] for o in report["outputs"] if o["sqnr_db"] is not None]
              + [10.0])
    ceiling = math.ceil(top / 10.0) * 10.0 + 10.0  # where exact tensors are drawn
    heights = [t["sqnr_db"] if t["sqnr_db"] is not None else (ceiling if t["exact"] else 0.0)
               for t in tensors]
    colours = ["tab:green" if t["exact"] else ("tab:orange" if t["type"] == "f32" else "tab:blue")
               for t in tensors]

    worst = sorted((i for i, t in enumerate(tensors) if t["sqnr_db"] is not None),
                   key=lambda i: tensors[i]["sqnr_db"])[:WORST_MARKED]
    for i in worst:
        colours[i] = "tab:red"

    width = min(max(6.0, 0.12 * len(tensors) + 2.0), 40.0)
    fig, ax = plt.subplots(figsize=(width, 4.5))
    ax.bar(range(len(tensors)), heights, color=colours, width=0.8)
    for output in report["outputs"]:
        if output["sqnr_db"] is not None:
            ax.axhline(output["sqnr_db"], color="tab:purple", linestyle="--", linewidth=1)
            ax.text(len(tensors) - 0.5, output["sqnr_db"],
                    f"output {output['name']}: {output['sqnr_db']:.1f} dB",
                    color="tab:purple", va="bottom", ha="right", fontsize=8)
    if worst:
        ax.text(0.99, 0.98, "lowest SQNR:\n" + "\n".join(
                    f"#{i} {tensors[i]['name']}: {tensors[i]['sqnr_db']:.1f} dB" for i in worst),
                transform=ax.transAxes, ha="right", va="top", fontsize=7,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "tab:red"})
    ax.set_xlim(-1, max(len(tensors), 1))
    ax.set_ylim(min(0.0, min(heights, default=0.0)), ceiling + 8.0)
    ax.set_xlabel("tensor written by integer code (program order)")
    ax.set_ylabel("SQNR vs FP32 (dB)")
    model = report["model"].rsplit("/", 1)[-1]
    ax.set_title(f"{model}: {len(tensors)} tensors, {report['samples']} samples\n"
                 + report["scheme"].replace(",", ", "), fontsize=8, wrap=True)
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color="tab:blue", label="quantized"),
                       Patch(color="tab:orange", label="f32 from int32 accumulators"),
                       Patch(color="tab:green", label="exact (SQNR inf)"),
                       Patch(color="tab:red", label=f"{WORST_MARKED} lowest")],
              fontsize=7, loc="upper left", ncol=4)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path, format="png", dpi=110)
    plt.close(fig)


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        load_matplotlib()
        return 0
    if len(argv) != 2:
        sys.stderr.write("usage: report_chart.py REPORT.json CHART.png | --check\n")
        return EXIT_USAGE
    try:
        with open(argv[0], encoding="utf-8") as f:
            report = json.load(f)
        draw(report, argv[1])
    except (OSError, ValueError, KeyError, TypeError) as error:
        sys.stderr.write(f"cannot draw {argv[1]} from {argv[0]}: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
