"""Post-training quantization of an LSTM voice-activity detector, side by side with onnxruntime.

The model is Silero VAD v6 as faster-whisper ships it (`faster_whisper/assets/
silero_vad_v6.onnx` in the PyPI wheel faster-whisper 1.2.1, opset 18): a convolutional
encoder (an STFT as a strided Conv with a fixed basis, its magnitude, four Conv+ReLU) run on
every frame, then ONE LSTM (hidden 128, batch 1) over all frames as its sequence, then a 1x1
Conv and a Sigmoid. Inputs: `input` [frames, 576] f32, each row 64 samples of context and 512
new samples of 16 kHz audio (32 ms), and the LSTM state `h`, `c` [1, 1, 128] (zeros here);
outputs: `speech_probs` [frames] (one speech probability per frame), `hn`, `cn`. Audio is
framed as faster_whisper/vad.py's SileroVADModel.__call__ does: the clip is cut into rows of
512 samples and each row gets the previous row's last 64 samples in front, the first row 64
zeros. (faster-whisper's own code also zeroes the last 64 samples of the last row, as a side
effect of writing into a view of the audio; the clips here end in silence, and the script
does not copy that.) The wheel is installed with `python -m pip install --no-deps` when it is
missing (only the .onnx file is used; its dependencies, ctranslate2 and the like, are not).

Audio: English speech synthesized by espeak-ng (`espeak-ng -w FILE -v VOICE -s SPEED
TEXT`: 16-bit mono at 22050 Hz), real sentences written below, 2-3 per clip, each with its
own voice (British, American, Scottish and Caribbean English, male and female variants) and
speed (140-200 words per minute), all drawn from a seeded generator. Each utterance is
trimmed to where its amplitude first and last exceeds 1% of its peak, resampled to 16 kHz
(band-limited FFT resampling of the whole utterance: its spectrum cut at 8 kHz, the new
Nyquist bin dropped, and transformed back at 16000/22050 of the length) and scaled to an RMS
of -20 to -30 dBFS. The utterances are placed in an 8 s clip (250 frames: one static shape
for quarc) with silences of random lengths before, between and after them (at least 0.25 s
each), and the whole clip gets background noise 30-40 dB below the speech's RMS (white, or
pink: white noise shaped by 1/sqrt(f) in the frequency domain). Ground truth: a frame is
speech when its 512 new samples overlap a placed utterance (espeak's pauses inside an
utterance, at commas, count as speech). Calibration clips (for the static models) and
evaluation clips use different sentences and seeds.

Engines, all on the same evaluation clips:

* FP32 (onnxruntime): the reference;
* quarc FP32 (`quarc compile`, no quantization);
* quarc int8: `quarc calibrate` on the calibration clips (one .npz per clip, keyed by input
  name: input, h, c), then `quarc compile --quantize=int8 --stats` (u8 asymmetric per-tensor
  activations, s8 per-channel weights, min-max): the convolutions become integer code, the
  LSTM stays float (static quantization has no LSTM form);
* quarc dynamic int8: `quarc compile --quantize=dynamic-int8`: the LSTM's W and R become s8
  (one scale per row), X is quantized to u8 once per run and the hidden state once per step,
  as onnxruntime's DynamicQuantizeLSTM; the convolutions stay float;
* onnxruntime static int8: `quantize_static` (QDQ, per-channel, QUInt8 activations, QInt8
  weights, MinMax) on the same calibration clips, after `quant_pre_process`
  (skip_symbolic_shape: sympy is not in the venv), as bench/ptq_accuracy.py and
  bench/ptq_embeddings.py do; the LSTM stays float there too;
* onnxruntime dynamic int8: `quantize_dynamic` (per_channel, QInt8 weights) of the same
  pre-processed model: the LSTM becomes com.microsoft DynamicQuantizeLSTM (checked), and by
  default every Conv becomes ConvInteger with u8 activations quantized per run;
* onnxruntime dynamic int8 of the LSTM alone (op_types_to_quantize=['LSTM']): what quarc's
  dynamic mode quantizes;
* quarc compiling onnxruntime's static QDQ model (no --quantize).

A second table shows where static int8 loses: quarc int8 and onnxruntime static with the STFT
front end kept float (its Conv, the two Pows, the Add and the Sqrt: `--exclude-nodes` and
`nodes_to_exclude`), then also the first Conv that reads its magnitudes (conv_layers.0).

Metrics per engine against FP32 over all evaluation frames: mean and max |p - p_FP32| of the
speech probabilities; agreement of the frame decisions at threshold 0.5 (p > 0.5) with
FP32's, and how many frames differ; and the clips where the engine finds as many speech
segments as FP32 (segments as faster-whisper's get_speech_timestamps forms them, simplified:
start at p >= 0.5, end after 100 ms below 0.35, segments shorter than 250 ms dropped, no
padding or merging). A sanity table compares FP32's decisions with the ground truth.

Then the latency of one clip (250 frames) at one thread: median of --runs runs, --rounds
rounds interleaved across engines, each engine in its own process: each quarc executable's
--benchmark, each onnxruntime model through bench/ort_runner.py (bench/ptq_embeddings.py's
latency()). The CPU is named in the output.

quarc is the one of $QUARC_BUILD_DIR (default build/), copied when the script starts so that
a rebuild meanwhile changes nothing; each model is compiled once and its executable run on
every clip. A quarc step that fails becomes a "failed" row, with the command and its errors
under the table (bench/ptq_accuracy.py's Quarc). Writes bench/results/ptq_vad.md.

Usage: .venv/bin/python bench/ptq_vad.py [--calib 8] [--eval 20] [--runs 50] [--rounds 5]
       [--build-dir DIR (default $QUARC_BUILD_DIR or build)]
"""
from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
import ptq_accuracy as pa  # noqa: E402  (CPU line, quarc runs and failures, snapshot)
import ptq_embeddings as pe  # noqa: E402  (package install, latency rounds, tables)
import quarc_tools  # noqa: E402  (on sys.path through ptq_accuracy)

MODEL_PACKAGE = ("faster-whisper", "1.2.1", "faster_whisper/assets/silero_vad_v6.onnx")

RATE = 16000  # the model's sample rate
ESPEAK_RATE = 22050  # what espeak-ng writes
HOP = 512  # new samples per frame
CONTEXT = 64  # samples of the previous frame in front of each row
FRAMES = 250  # 8 s per clip: quarc compiles input=250x576
STATE = (1, 1, 128)
THRESHOLD = 0.5  # faster-whisper's default speech threshold
NEG_THRESHOLD = THRESHOLD - 0.15  # its default end-of-speech threshold
MIN_SILENCE_FRAMES = 4  # 100 ms (silero's default min_silence_duration_ms) in 32 ms frames
MIN_SPEECH_FRAMES = 8  # 250 ms (silero's default min_speech_duration_ms)

FP32 = "FP32 (onnxruntime)"
QUARC_FP32 = "quarc FP32 (`quarc compile`)"
QUARC = "quarc int8 (`--quantize=int8`)"
QUARC_DYN = "quarc dynamic int8 (`--quantize=dynamic-int8`)"
ORT_STATIC = "onnxruntime static int8 (quantize_static, QDQ)"
ORT_DYN = "onnxruntime dynamic int8 (quantize_dynamic: LSTM and Convs)"
ORT_DYN_LSTM = "onnxruntime dynamic int8, LSTM only (op_types_to_quantize=['LSTM'])"
QUARC_QDQ = "quarc compiling onnxruntime's static QDQ model"
ENGINES = (FP32, QUARC_FP32, QUARC, QUARC_DYN, ORT_STATIC, ORT_DYN, ORT_DYN_LSTM, QUARC_QDQ)
QUARC_ENGINES = (QUARC_FP32, QUARC, QUARC_DYN, QUARC_QDQ)

# Where static int8 loses: the STFT front end (a Conv with a fixed basis, squares, their sum
# and its square root: a magnitude spectrum whose range spans silence and loud speech) kept
# float, then also the first Conv that reads the magnitudes; the same calibration otherwise.
FRONT_END = ["/encoder/feature_extractor/" + n for n in ("Conv", "Pow", "Pow_1", "Add", "Sqrt")]
FIRST_CONV = "/encoder/conv_layers.0/Conv"
QUARC_FE = "quarc int8, the STFT front end float (--exclude-nodes: its Conv, Pow, Add, Sqrt)"
QUARC_FE0 = "quarc int8, the front end and conv_layers.0 float"
ORT_FE = "onnxruntime static int8, the front end float (nodes_to_exclude)"
ORT_FE0 = "onnxruntime static int8, the front end and conv_layers.0 float"
DIAGNOSIS = (FP32, QUARC, QUARC_FE, QUARC_FE0, ORT_STATIC, ORT_FE, ORT_FE0)
EXCLUDED = {QUARC_FE: FRONT_END, QUARC_FE0: FRONT_END + [FIRST_CONV],
            ORT_FE: FRONT_END, ORT_FE0: FRONT_END + [FIRST_CONV]}

# ---------------------------------------------------------------------------
# Speech: short real sentences, 2-3 per clip (8 s must hold them and the silences)

CALIBRATION = [
    ["The weather will be cloudy this afternoon.", "Bring an umbrella just in case."],
    ["Please hold the line.", "Your call is important to us."],
    ["The library opens at nine tomorrow.", "Returns go in the box outside."],
    ["I left my keys on the kitchen table.", "Could you check before you lock up?"],
    ["The next train departs from platform four.", "Mind the gap."],
    ["We need more flour, eggs and butter.", "I will stop by the store tonight."],
    ["Turn the volume down a little.", "The baby is finally asleep."],
    ["Our team won the match in overtime.", "Everyone was cheering."],
]

EVALUATION = [
    ["Good morning, and welcome aboard.", "We will be landing in about twenty minutes."],
    ["The meeting starts at half past ten.", "Please bring the latest sales figures."],
    ["Can you hear me now?", "Hello?", "The connection keeps dropping out."],
    ["The museum is closed on Mondays.", "Tickets are cheaper in the evening."],
    ["Add a pinch of salt to the soup.", "Let it simmer for ten minutes."],
    ["My flight was delayed by three hours.", "I finally got home after midnight."],
    ["The printer on the second floor is broken.", "Use the one near the stairs."],
    ["Thank you for calling.", "All of our agents are busy right now."],
    ["The river flooded the lower fields.", "Farmers lost most of the harvest."],
    ["Remember to water the plants.", "Okay.", "The tomatoes need it every day."],
    ["She plays the cello in an orchestra.", "Her concert is on Saturday night."],
    ["Click the blue button to continue.", "Then enter your password twice."],
    ["The children built a snowman in the garden.", "It melted by the afternoon."],
    ["Traffic is heavy on the northern bridge.", "Expect delays of fifteen minutes."],
    ["I would like a table for two, please.", "Somewhere near the window."],
    ["The package should arrive on Thursday.", "You can track it online."],
    ["Lights off at ten.", "Breakfast is served from seven.", "Sleep well."],
    ["The doctor will see you shortly.", "Please fill in this form first."],
    ["Our new office has a view of the harbour.", "We move in next week."],
    ["Stars are forming in that distant cloud of gas.", "Telescopes see them in infrared."],
]

# espeak-ng voices: language (en = British) plus a male (m*) or female (f*) variant.
VOICES = ["en", "en-us", "en+f3", "en-us+f2", "en-gb-scotland+m3", "en-029", "en+f4",
          "en-us+m7", "en-gb-x-rp+f5", "en+m2"]
SPEEDS = (140, 200)  # words per minute
MIN_SILENCE_S = 0.25


@dataclass
class Clip:
    audio: np.ndarray  # FRAMES * HOP samples, f32, 16 kHz
    truth: np.ndarray  # [FRAMES] bool: the frame's new samples overlap an utterance
    utterances: int
    description: str  # voices and speeds, for the log


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Band-limited resampling of a whole signal through its spectrum: keep the bins below
    the new Nyquist frequency (the Nyquist bin itself dropped), inverse-transform at the new
    length. Treats the signal as periodic; utterances start and end near silence."""
    n = len(x)
    m = int(round(n * dst / src))
    spectrum = np.fft.rfft(x.astype(np.float64))
    kept = np.zeros(m // 2 + 1, np.complex128)
    k = min(len(spectrum), m // 2)  # bins 0 .. m/2 - 1
    kept[:k] = spectrum[:k]
    return (np.fft.irfft(kept, m) * (m / n)).astype(np.float32)


def speak(text: str, voice: str, speed: int, folder: Path) -> np.ndarray:
    """espeak-ng's utterance, trimmed to its audible part, at 16 kHz, peak 1."""
    path = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "-v", voice, "-s", str(speed), text],
                   check=True, capture_output=True)
    with wave.open(str(path)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (ESPEAK_RATE, 1, 2):
            sys.exit(f"espeak-ng wrote {w.getframerate()} Hz, {w.getnchannels()} channels, "
                     f"{8 * w.getsampwidth()}-bit; expected 22050 Hz mono 16-bit")
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > 0.01 * np.abs(x).max())
    x = resample(x[loud[0]:loud[-1] + 1], ESPEAK_RATE, RATE)
    return x / np.abs(x).max()


def noise(rng: np.random.Generator, n: int, pink: bool) -> np.ndarray:
    """Unit-RMS white noise, or pink (power falling as 1/f: amplitude shaped by 1/sqrt(f))."""
    x = rng.standard_normal(n)
    if pink:
        spectrum = np.fft.rfft(x)
        f = np.fft.rfftfreq(n)
        spectrum[1:] /= np.sqrt(f[1:])
        spectrum[0] = 0
        x = np.fft.irfft(spectrum, n)
    return x / np.sqrt(np.mean(x * x))


def make_clip(rng: np.random.Generator, sentences: list[str], folder: Path) -> Clip:
    """The sentences in their voices and speeds, placed among silences, plus noise."""
    length = FRAMES * HOP
    for attempt in range(4):  # speed up when the speech does not fit with the silences
        voices = [VOICES[int(rng.integers(len(VOICES)))] for _ in sentences]
        speeds = [int(rng.integers(*SPEEDS)) + 25 * attempt for _ in sentences]
        speech = [speak(s, v, w, folder) for s, v, w in zip(sentences, voices, speeds)]
        free = length - sum(len(x) for x in speech)
        minimum = int(MIN_SILENCE_S * RATE)
        if free >= minimum * (len(speech) + 1):
            break
    else:
        sys.exit(f"{sentences} does not fit in {length / RATE} s even at 75 wpm faster")
    # Random shares of the remaining silence before, between and after the utterances.
    shares = rng.dirichlet(np.full(len(speech) + 1, 2.0))
    gaps = minimum + np.floor(shares * (free - minimum * (len(speech) + 1))).astype(int)
    level = 10 ** (rng.uniform(-30, -20) / 20)  # speech RMS, dBFS
    audio = np.zeros(length, np.float64)
    truth = np.zeros(FRAMES, bool)
    at = 0
    for gap, x in zip(gaps, speech):
        at += gap
        audio[at:at + len(x)] = x * level / np.sqrt(np.mean(x * x))
        truth[at // HOP:(at + len(x) - 1) // HOP + 1] = True
        at += len(x)
    snr = rng.uniform(30, 40)
    pink = bool(rng.random() < 0.5)
    audio += noise(rng, length, pink) * level * 10 ** (-snr / 20)
    description = (", ".join(f"{v} {w} wpm" for v, w in zip(voices, speeds))
                   + f"; {'pink' if pink else 'white'} noise {snr:.0f} dB below")
    return Clip(audio.astype(np.float32), truth, len(speech), description)


def frames(audio: np.ndarray) -> np.ndarray:
    """[FRAMES, 576]: each 512-sample row after the previous row's last 64 samples (zeros
    before the first), as faster-whisper's SileroVADModel frames audio."""
    rows = audio.reshape(-1, HOP)
    context = np.zeros((len(rows), CONTEXT), np.float32)
    context[1:] = rows[:-1, -CONTEXT:]
    return np.concatenate([context, rows], axis=1)


def feeds_of(clip: Clip) -> dict[str, np.ndarray]:
    zeros = np.zeros(STATE, np.float32)
    return {"input": frames(clip.audio), "h": zeros, "c": zeros.copy()}


# ---------------------------------------------------------------------------
# Metrics


def segment_count(p: np.ndarray) -> int:
    """Speech segments as get_speech_timestamps forms them, simplified: a segment starts at
    p >= THRESHOLD and ends after MIN_SILENCE_FRAMES frames below NEG_THRESHOLD; segments
    shorter than MIN_SPEECH_FRAMES are dropped."""
    segments, start, below = 0, None, 0
    for i, value in enumerate(p):
        if start is None:
            if value >= THRESHOLD:
                start, below = i, 0
            continue
        below = below + 1 if value < NEG_THRESHOLD else 0
        if below == MIN_SILENCE_FRAMES:
            segments += (i - below + 1) - start >= MIN_SPEECH_FRAMES
            start = None
    if start is not None:
        segments += len(p) - start >= MIN_SPEECH_FRAMES
    return segments


def metrics_table(probs: dict[str, np.ndarray], names: tuple[str, ...]
                  ) -> tuple[list[str], list[list[str]]]:
    """probs: [clips, FRAMES] per engine. One row per engine of names against FP32."""
    header = ["engine", "mean abs diff vs FP32", "max abs diff", "frame decisions as FP32 "
              f"(p > {THRESHOLD})", "frames differing", "clips with FP32's segment count"]
    ref = probs[FP32]
    ref_speech = ref > THRESHOLD
    ref_segments = [segment_count(p) for p in ref]
    total = ref.size
    rows = []
    for name in names:
        if name not in probs:
            continue
        if name == FP32:
            rows.append([name, "-", "-", "-", "-",
                         f"- ({sum(ref_segments)} segments in {len(ref)} clips)"])
            continue
        p = probs[name]
        diff = np.abs(p.astype(np.float64) - ref)
        differ = int(np.sum((p > THRESHOLD) != ref_speech))
        same_segments = sum(segment_count(a) == b for a, b in zip(p, ref_segments))
        rows.append([name, f"{diff.mean():.2e}", f"{diff.max():.2e}",
                     f"{100 * (1 - differ / total):.2f}%", f"{differ}/{total}",
                     f"{same_segments}/{len(ref)}"])
    return header, rows


def truth_lines(ref: np.ndarray, truth: np.ndarray, utterances: int) -> list[str]:
    """FP32's frame decisions against where the speech was placed."""
    speech = ref > THRESHOLD
    tp, fp = int(np.sum(speech & truth)), int(np.sum(speech & ~truth))
    fn, tn = int(np.sum(~speech & truth)), int(np.sum(~speech & ~truth))
    return ["| frames | speech placed | FP32 says speech | accuracy | speech found (recall) | "
            "FP32's speech that was placed (precision) | silence called speech | segments "
            "(FP32) / utterances placed |", "|" + " --- |" * 8,
            f"| {truth.size} | {int(truth.sum())} ({100 * truth.mean():.1f}%) | "
            f"{int(speech.sum())} | {100 * (tp + tn) / truth.size:.1f}% | "
            f"{100 * tp / max(1, tp + fn):.1f}% | {100 * tp / max(1, tp + fp):.1f}% | "
            f"{100 * fp / max(1, fp + tn):.1f}% | "
            f"{sum(segment_count(p) for p in ref)} / {utterances} |"]


# ---------------------------------------------------------------------------
# Engines


def ort_quantize(model: Path, calib: list[dict[str, np.ndarray]], work: Path
                 ) -> dict[str, Path]:
    """onnxruntime's models, by row name, all of the quant_pre_process'd model: static,
    dynamic, dynamic of the LSTM alone, and the static variants of the diagnosis table."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_dynamic, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(calib)

        def get_next(self):
            return next(self.items, None)

    pre = work / "vad_pre.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
    names = {n.name for n in onnx.load(str(pre)).graph.node}
    missing = [n for n in FRONT_END + [FIRST_CONV] if n not in names]
    if missing:
        sys.exit(f"unexpected graph: no nodes {missing}")
    models = {ORT_STATIC: work / "vad_ort_static.onnx", ORT_DYN: work / "vad_ort_dynamic.onnx",
              ORT_DYN_LSTM: work / "vad_ort_dynamic_lstm.onnx",
              ORT_FE: work / "vad_ort_static_fe.onnx", ORT_FE0: work / "vad_ort_static_fe0.onnx"}
    for name in (ORT_STATIC, ORT_FE, ORT_FE0):
        quantize_static(str(pre), str(models[name]), Reader(),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_exclude=EXCLUDED.get(name, []))
    quantize_dynamic(str(pre), str(models[ORT_DYN]), per_channel=True,
                     weight_type=QuantType.QInt8)
    quantize_dynamic(str(pre), str(models[ORT_DYN_LSTM]), per_channel=True,
                     weight_type=QuantType.QInt8, op_types_to_quantize=["LSTM"])
    for name in (ORT_DYN, ORT_DYN_LSTM):
        ops = {n.op_type for n in onnx.load(str(models[name])).graph.node}
        if "DynamicQuantizeLSTM" not in ops or "LSTM" in ops:
            sys.exit(f"{name}: the LSTM did not become DynamicQuantizeLSTM ({sorted(ops)})")
    return models


def op_counts(model: Path) -> str:
    counts: dict[str, int] = {}
    for node in onnx.load(str(model)).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items()))


def ort_probs(model: Path, feeds: list[dict[str, np.ndarray]]) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return np.stack([session.run(["speech_probs"], f)[0].reshape(FRAMES) for f in feeds])


def run_quarc_executables(quarc: pa.Quarc, executables: dict[str, Path], count: int,
                          work: Path) -> dict[str, np.ndarray]:
    """Every executable on every evaluation clip: speech_probs [clips, FRAMES] per engine
    that ran on all of them."""
    runs = pe.run_executables(
        quarc, executables, count, work,
        lambda i: [f"--input={k}={eval_file(work, i, k)}" for k in ("input", "h", "c")],
        ["speech_probs"])
    return {name: np.stack([r["speech_probs"].reshape(FRAMES) for r in got])
            for name, got in runs.items()}


def eval_file(work: Path, i: int, key: str) -> Path:
    """The .npy of one evaluation input: the clip's frames, or the shared zero state."""
    return work / "eval" / (f"{i:03d}_input.npy" if key == "input" else "zeros.npy")


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calib", type=int, default=len(CALIBRATION),
                        help=f"calibration clips (at most {len(CALIBRATION)})")
    parser.add_argument("--eval", type=int, default=len(EVALUATION),
                        help=f"evaluation clips (at most {len(EVALUATION)})")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per latency round")
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds (interleaved)")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")))
    parser.add_argument("--output", type=Path, default=RESULTS / "ptq_vad.md")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng not found (apt-get install espeak-ng)")
    start = time.time()
    model = pe.package_file(MODEL_PACKAGE)

    build_dir = args.build_dir.resolve()
    pa.wait_for(build_dir / "bin" / "quarc")
    build = pa.quarc_build(build_dir, build_dir / "bin" / "quarc")
    work = Path(tempfile.mkdtemp(prefix="ptq-vad-"))
    quarc = pa.Quarc(pa.snapshot(build_dir, work / "quarc"), work)

    # Clips: calibration and evaluation from their own sentences and seeds.
    (work / "calib").mkdir()
    (work / "eval").mkdir()
    calib_clips = [make_clip(np.random.default_rng(3000 + i), s, work)
                   for i, s in enumerate(CALIBRATION[:args.calib])]
    eval_clips = [make_clip(np.random.default_rng(4000 + i), s, work)
                  for i, s in enumerate(EVALUATION[:args.eval])]
    calib = [feeds_of(c) for c in calib_clips]
    feeds = [feeds_of(c) for c in eval_clips]
    for i, f in enumerate(calib):
        np.savez(work / "calib" / f"{i:03d}.npz", **f)
    for i, f in enumerate(feeds):
        np.save(eval_file(work, i, "input"), f["input"])
    np.save(eval_file(work, 0, "h"), np.zeros(STATE, np.float32))
    truth = np.stack([c.truth for c in eval_clips])
    utterances = sum(c.utterances for c in eval_clips)
    for i, c in enumerate(eval_clips):
        print(f"  eval {i:2d}: {c.description}; {int(c.truth.sum())} speech frames",
              file=sys.stderr)
    pa.log("vad", start, f"{len(calib)} calibration and {len(feeds)} evaluation clips of "
           f"{FRAMES} frames, {100 * truth.mean():.0f}% of the evaluation frames speech")

    # quarc: calibrate; onnxruntime: quantize; then every quarc compile, two at a time.
    shape = quarc_tools.shape_flag("input", (FRAMES, CONTEXT + HOP))
    stats = work / "stats.json"
    calibrated = quarc.run(QUARC, [quarc.binary, "calibrate", model, "--data", work / "calib",
                                   "-o", stats, "--threads", "2"] + shape)
    ort_models = ort_quantize(model, calib, work)
    compiles = {QUARC_FP32: [model, "-o", work / "vad_quarc_fp32"],
                QUARC_DYN: ["--quantize=dynamic-int8", model, "-o", work / "vad_quarc_dyn"],
                QUARC_QDQ: [ort_models[ORT_STATIC], "-o", work / "vad_ort_qdq"]}
    if calibrated:
        compiles[QUARC] = ["--quantize=int8", "--stats", stats, model,
                           "-o", work / "vad_quarc_int8"]
        for name, file in ((QUARC_FE, "vad_quarc_int8_fe"), (QUARC_FE0, "vad_quarc_int8_fe0")):
            compiles[name] = ["--quantize=int8", "--stats", stats,
                              "--exclude-nodes=" + ",".join(EXCLUDED[name]), model,
                              "-o", work / file]
    pa.log("vad", start, f"compiling {len(compiles)} quarc models")
    with ThreadPool(2) as pool:
        ok = pool.map(lambda item: quarc.run(item[0], [quarc.binary, "compile", *item[1]] + shape),
                      compiles.items())
    executables = {name: Path(a[-1]) for (name, a), good in zip(compiles.items(), ok) if good}

    pa.log("vad", start, f"running {len(feeds)} clips")
    probs = {FP32: ort_probs(model, feeds)}
    probs.update(run_quarc_executables(quarc, executables, len(feeds), work))
    for name, path in ort_models.items():
        probs[name] = ort_probs(path, feeds)
    table, diagnosis = metrics_table(probs, ENGINES), metrics_table(probs, DIAGNOSIS)
    accuracy_s = time.time() - start

    pa.log("vad", start, f"latency: {args.rounds} rounds of {args.runs} runs")
    load_before = os.getloadavg()[0]
    timed_quarc = {name: executables[name] for name in QUARC_ENGINES if name in executables}
    timed_ort = {FP32: model, **{name: ort_models[name] for name in ENGINES
                                 if name in ort_models}}
    probe = len(feeds) // 2
    times = pe.latency(quarc, timed_quarc, timed_ort,
                       {k: eval_file(work, probe, k) for k in ("input", "h", "c")},
                       args.runs, args.rounds)
    latency_rows = pe.latency_rows(times, ENGINES, QUARC_ENGINES, (FP32, QUARC_FP32))
    load_after = os.getloadavg()[0]
    pa.log("vad", start, "done")

    lines = [
        "# Post-training quantization of an LSTM voice-activity detector (bench/ptq_vad.py)",
        "",
        f"Machine: {pa.cpu_line()}. Measured {datetime.date.today()}, quarc {build}, "
        f"onnxruntime {ort.__version__}; {time.time() - start:.0f} s in all "
        f"(accuracy part {accuracy_s:.0f} s).", "",
        f"Model: Silero VAD v6 (`faster_whisper/assets/silero_vad_v6.onnx` of faster-whisper "
        f"{MODEL_PACKAGE[1]}: STFT Conv, four Conv+ReLU per frame, one LSTM of hidden 128 over "
        f"the frames, 1x1 Conv, Sigmoid; opset 18). quarc compiled for input {FRAMES}x"
        f"{CONTEXT + HOP} (8 s of 16 kHz audio in 32 ms frames, each row with 64 samples of "
        "context), h and c 1x1x128 (zeros).", "",
        f"Audio: espeak-ng speech (real English sentences, {len(VOICES)} voices, 140-200 wpm), "
        "resampled to 16 kHz by band-limited FFT resampling, placed among silences of random "
        "lengths (0.25 s and more), with white or pink noise 30-40 dB below the speech. "
        f"{len(calib)} calibration clips; {len(feeds)} evaluation clips with other sentences "
        f"({utterances} utterances, {truth.size} frames).", "",
        "quarc int8: `quarc calibrate` + `--quantize=int8` (u8 per-tensor activations, s8 "
        "per-channel weights, min-max; the LSTM stays float). quarc dynamic int8: "
        "`--quantize=dynamic-int8` (the LSTM as onnxruntime's DynamicQuantizeLSTM; the Convs "
        "stay float). onnxruntime static: `quantize_static` (QDQ, per-channel, QUInt8 "
        "activations, QInt8 weights, MinMax) on the same calibration clips; onnxruntime "
        "dynamic: `quantize_dynamic` (per_channel, QInt8), all of it or the LSTM only; all "
        "of the model put through `quant_pre_process` (skip_symbolic_shape).", "",
        "onnxruntime's models: " + "; ".join(f"{name}: {op_counts(ort_models[name])}"
                                              for name in ENGINES if name in ort_models) + ".",
        "",
        "## Accuracy", "",
        "Speech probabilities of every evaluation frame against FP32's. Segments: speech "
        "segments per clip as faster-whisper's get_speech_timestamps forms them (start at "
        f"p >= {THRESHOLD}, end after 100 ms below {NEG_THRESHOLD:.2f}, shorter than 250 ms "
        "dropped; no padding or merging).", ""]
    lines += pe.markdown(table, ENGINES)
    lines += ["", "Where static int8 loses (diagnosis: the same calibration and settings, nodes "
              "kept float; the front end is the STFT: `" + "`, `".join(FRONT_END) + "`):", ""]
    lines += pe.markdown(diagnosis, DIAGNOSIS)
    lines += ["", "FP32 against the ground truth (a frame is speech when its 512 new samples "
              "overlap a placed utterance, pauses inside an utterance included):", ""]
    lines += truth_lines(probs[FP32], truth, utterances)
    lines += ["", "## Latency", "",
              f"One clip ({FRAMES}x{CONTEXT + HOP}, 8 s of audio), one thread, median of "
              f"{args.runs} runs after a warm-up, {args.rounds} rounds interleaved across "
              "engines, each engine in its own process (quarc executables' `--benchmark`, "
              "onnxruntime through bench/ort_runner.py); 1-minute load average "
              f"{load_before:.2f} before, {load_after:.2f} after.", "",
              "| engine | median ms | range of round medians | vs onnxruntime FP32 | "
              "vs quarc FP32 |", "| --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in latency_rows]
    if quarc.failures:
        lines += ["", "Failures:"]
        lines += [f"- {f.engine}: `{f.command}`: {f.error}" for f in quarc.failures]
    text = "\n".join(lines) + "\n"
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"written to {args.output} (work files in {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
