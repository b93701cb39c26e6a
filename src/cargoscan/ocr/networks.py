"""The networks behind :class:`~cargoscan.ocr.identify.OcrEngine`: a text detector and a line recogniser.

:class:`Reader` is all the engine asks of them; :class:`OnnxReader` is the exported pair of a model folder run by
onnxruntime. Tests (and other detectors) pass their own reader to the engine instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from cargoscan.ocr.detect import detector_input
from cargoscan.ocr.lines import content_width


class Reader(Protocol):
    """What the engine needs of a text detector and a line recogniser."""

    rec_input: tuple[int, int]   # (H, W) of the recogniser's line crops

    def heatmap(self, gray: np.ndarray) -> np.ndarray:
        """(h, w) text-core probabilities of a grey frame (float32 in [0, 1])."""

    def logprobs(self, crops: np.ndarray) -> list[np.ndarray]:
        """(T, C) CTC log-probabilities of each (1, H, W) line crop of an (N, 1, H, W) batch."""


class OnnxReader:
    """The exported detector and recogniser, run by onnxruntime.

    Args:
        model_dir: the folder written by :func:`cargoscan.ocr.train.train_ocr`.
        threads: onnxruntime intra-op threads.
    """

    def __init__(self, model_dir: str | Path, threads: int = 2):
        import onnxruntime as ort

        model_dir = Path(model_dir)
        for name in ("config.json", "detector.onnx", "recognizer.onnx"):
            if not (model_dir / name).exists():
                raise FileNotFoundError(f"{model_dir / name}: OCR model missing (run `cargoscan ocr-train`)")
        self.config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.det_input = tuple(self.config["det_input"])
        self.det_norm = self.config.get("det_norm", "global")   # models written before the key normalised globally
        self.rec_input = tuple(self.config["rec_input"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        providers = ["CPUExecutionProvider"]
        self.det = ort.InferenceSession(str(model_dir / "detector.onnx"), opts, providers=providers)
        self.rec = ort.InferenceSession(str(model_dir / "recognizer.onnx"), opts, providers=providers)
        # Recognisers exported with a dynamic width read a frame's crops only as wide as the widest of them.
        self.rec_dynamic = isinstance(self.rec.get_inputs()[0].shape[3], str)

    def heatmap(self, gray: np.ndarray) -> np.ndarray:
        """The detector's text-core probabilities."""
        x = detector_input(gray, self.det_input, self.det_norm)[None]
        return 1.0 / (1.0 + np.exp(-self.det.run(None, {"image": x})[0][0, 0]))

    def logprobs(self, crops: np.ndarray) -> list[np.ndarray]:
        """The recogniser's CTC log-probabilities of each crop."""
        if self.rec_dynamic:
            width = max(content_width(c) for c in crops)
            crops = np.ascontiguousarray(crops[..., : min(crops.shape[-1], -(-width // 32) * 32)])
        return list(self.rec.run(None, {"image": crops})[0])
