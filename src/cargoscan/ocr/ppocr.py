"""The packaged scene-text networks: PP-OCRv4 detection (DBNet) and line recognition, read in our alphabet.

Our own detector and recogniser learned from rendered frames only. PP-OCRv4 learned from millions of real
photographs, and ``rapidocr-onnxruntime`` 1.4.4 (Apache-2.0) ships its ONNX models inside the wheel: nothing is
downloaded at run time. We use the two networks, not RapidOCR's pipeline:

* the **detector** finds every text line of a photograph (a real door carries a dozen markings), as quadrilaterals,
  rotated and vertical ones included;
* the **recogniser** gives CTC probabilities over its 6,625 symbols per time step. :class:`Folding` folds them
  into our 37 (blank + 0-9 + A-Z): each of our characters gathers the symbols that normalise to it (``o`` and the
  full-width ``Ｏ`` count as ``O``), and everything else (spaces, punctuation, Chinese) counts as blank, "nothing of
  ours here". The output then goes through *our* grammar-constrained decoding and check-digit rules, exactly as
  our own recogniser's does: the project's advantage stays, the reading of real paint improves.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import cv2
import numpy as np

from cargoscan.ocr.model import ALPHABET

#: The wheel and its model files (pinned in pyproject: the models are part of the pinned package).
PACKAGE = "rapidocr_onnxruntime"
DET_MODEL = "models/ch_PP-OCRv4_det_infer.onnx"
REC_MODEL = "models/ch_PP-OCRv4_rec_infer.onnx"
#: The recogniser's input height; its width follows the line's aspect.
REC_HEIGHT = 48


def model_path(name: str) -> Path:
    """A model file inside the installed wheel, with a clear error when the wheel is missing."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)      # None when the wheel is not installed
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the scene-text reader needs `pip install --no-deps {PACKAGE}==1.4.4` "
                           "(its ONNX models ship inside the wheel)")
    path = Path(spec.origin).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{path}: model missing from the installed {PACKAGE} wheel")
    return path


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class Folding:
    """How the recogniser's classes (blank, symbols, space) fold into ours: the few symbols that are one of our
    characters, and which. Everything else is blank's, so blank gets what the characters leave of 1."""

    def __init__(self, symbols: list[str]):
        cols, ours = [], []
        for i, sym in enumerate(symbols, start=1):       # class 0 is the recogniser's blank
            ch = unicodedata.normalize("NFKC", sym).upper()
            if len(ch) == 1 and ch in ALPHABET:
                cols.append(i)
                ours.append(ALPHABET.index(ch))
        self.cols = np.array(cols)
        self.matrix = np.zeros((len(cols), len(ALPHABET)), np.float32)
        self.matrix[np.arange(len(cols)), ours] = 1.0

    def __call__(self, probs: np.ndarray) -> np.ndarray:
        """(T, C) probabilities of the recogniser → (T, 37) log-probabilities in our alphabet."""
        chars = probs[:, self.cols] @ self.matrix
        blank = np.clip(1.0 - chars.sum(1, keepdims=True), 0.0, 1.0)
        return np.log(np.clip(np.concatenate([blank, chars], 1), 1e-12, 1.0)).astype(np.float32)


class SceneTextDetector:
    """PP-OCRv4's DBNet: the text lines of a photograph as quadrilaterals (TL, TR, BR, BL), with scores.

    Args:
        side: the longer side the image is scaled to (a multiple of 32): 960 keeps a 15 px code readable in a
            1280 px frame and costs ~0.1 s on two cores.
        threads: onnxruntime intra-op threads.
        box_thresh: the mean text probability a box needs.
    """

    def __init__(self, side: int = 960, threads: int = 2, box_thresh: float = 0.5, unclip_ratio: float = 1.6):
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess

        self.side = side
        self.session = _session(model_path(DET_MODEL), threads)
        self.post = DBPostProcess(thresh=0.3, box_thresh=box_thresh, max_candidates=1000,
                                  unclip_ratio=unclip_ratio, score_mode="fast", use_dilation=True)

    def __call__(self, image: np.ndarray, side: int | None = None) -> list[tuple[np.ndarray, float]]:
        """Text quads of an (H, W, 3) RGB uint8 image, in image pixels; ``side`` overrides the scaled size."""
        # A tight crop (a photo of the code alone) gives DBNet no background to find the line's edge in: pad it
        # with the image's own median colour by a tenth of its shorter side.
        pad = max(8, min(image.shape[:2]) // 10)
        fill = np.median(image.reshape(-1, image.shape[-1]), axis=0)
        padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=fill.tolist())
        h, w = padded.shape[:2]
        scale = (side or self.side) / max(h, w)
        rh, rw = max(32, int(round(h * scale / 32)) * 32), max(32, int(round(w * scale / 32)) * 32)
        x = cv2.resize(padded[..., ::-1], (rw, rh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        x = ((x.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        pred = self.session.run(None, {self.session.get_inputs()[0].name: x})[0]
        quads, scores = self.post(pred, (h, w))
        out = []
        for quad, score in zip(quads, scores):
            quad = order_quad(np.asarray(quad, np.float32) - pad)
            quad[:, 0] = quad[:, 0].clip(0, image.shape[1] - 1)
            quad[:, 1] = quad[:, 1].clip(0, image.shape[0] - 1)
            if min(quad_size(quad)) >= 4:
                out.append((quad, float(score)))
        return out


class SceneTextRecognizer:
    """PP-OCRv4's line recogniser, its CTC output folded into our alphabet."""

    def __init__(self, threads: int = 2):
        self.session = _session(model_path(REC_MODEL), threads)
        symbols = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.fold = Folding(symbols)

    def logprobs(self, crops: list[np.ndarray], batch: int = 8) -> list[np.ndarray]:
        """(T, 37) log-probabilities of each RGB line crop (any size), in our alphabet.

        Crops are batched by width (a batch is padded to its widest crop: one long weight-table line must not
        make every short one as costly).
        """
        widths = [max(8, int(np.ceil(REC_HEIGHT * c.shape[1] / max(1, c.shape[0])))) for c in crops]
        order = np.argsort(widths)
        out: list[np.ndarray | None] = [None] * len(crops)
        for start in range(0, len(crops), batch):
            group = order[start: start + batch]
            width = max(widths[i] for i in group)
            x = np.zeros((len(group), 3, REC_HEIGHT, width), np.float32)
            for row, i in enumerate(group):
                line = cv2.resize(crops[i][..., ::-1], (widths[i], REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
                x[row, :, :, :widths[i]] = ((line.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
            probs = self.session.run(None, {self.session.get_inputs()[0].name: x})[0]
            # Each line keeps only the time steps of its own width (the network downsamples width by 8).
            for p, i in zip(probs, group):
                out[i] = self.fold(p[: max(1, -(-widths[i] // 8))])
        return out


def order_quad(quad: np.ndarray) -> np.ndarray:
    """A quad's corners as TL, TR, BR, BL (by the sums and differences of their coordinates)."""
    s, d = quad.sum(1), quad[:, 1] - quad[:, 0]
    return np.array([quad[s.argmin()], quad[d.argmin()], quad[s.argmax()], quad[d.argmax()]], np.float32)


def quad_size(quad: np.ndarray) -> tuple[float, float]:
    """(width, height) of a TL-TR-BR-BL quad: the mean lengths of its opposite sides."""
    w = (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    h = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
    return float(w), float(h)


def rectify(image: np.ndarray, quad: np.ndarray, pad: float = 0.1) -> np.ndarray:
    """The quad's content warped upright to a rectangle, padded by ``pad`` of its shorter side all round (the
    line's height, or a column's width)."""
    w, h = quad_size(quad)
    m = pad * min(w, h)
    dst = np.array([[m, m], [m + w, m], [m + w, m + h], [m, m + h]], np.float32)
    size = (max(2, int(round(w + 2 * m))), max(2, int(round(h + 2 * m))))
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(quad.astype(np.float32), dst), size,
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@functools.lru_cache(maxsize=1)
def default_networks(threads: int = 2) -> tuple[SceneTextDetector, SceneTextRecognizer]:
    """One detector and recogniser per process (each session holds ~20 MB and takes ~0.3 s to load)."""
    return SceneTextDetector(threads=threads), SceneTextRecognizer(threads=threads)
