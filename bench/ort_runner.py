"""Times one model in onnxruntime, the way a compiled quarc executable's
--benchmark does: warm-up runs for 0.1 s (at least one), then N timed runs; prints
"median X ms, p90 Y ms over N runs". Used by compare_ort.py in a separate
process so that each engine's peak memory is measured alone."""

import argparse
import time

import numpy as np
import onnxruntime as ort

WARM_UP_SECONDS = 0.1  # as runtime/src/cli.c's kWarmUpMs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--input", action="append", default=[], help="NAME=FILE.npy")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--benchmark", type=int, default=10)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    feeds = {}
    for item in args.input:
        name, path = item.split("=", 1)
        feeds[name] = np.load(path)
    warm_up_end = time.perf_counter() + WARM_UP_SECONDS
    session.run(None, feeds)
    while time.perf_counter() < warm_up_end:
        session.run(None, feeds)
    times = []
    for _ in range(args.benchmark):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(f"median {np.median(times):.3f} ms, p90 {p90:.3f} ms over {len(times)} runs")


if __name__ == "__main__":
    main()
