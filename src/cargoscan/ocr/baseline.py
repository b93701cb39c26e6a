"""The packaged OCR baseline: RapidOCR (PP-OCRv4 detection + recognition, ONNX models inside the wheel).

``rapidocr-onnxruntime`` 1.4.4 ships its three ONNX models in the wheel and runs them with onnxruntime: nothing is
downloaded at run time. It reads whole frames (its own text detector); we keep the text lines whose characters,
spaces removed, have the identifier's length, and apply the same check-digit rules as our own OCR, without
per-character probabilities: the raw string is accepted when valid, else a correction is accepted only when it is
the single valid candidate within the confusion search.
"""

from __future__ import annotations

import logging
import re

import numpy as np

from cargoscan.ocr.fusion import FORMATS, OcrResult
from cargoscan.ocr.policy import Reason

log = logging.getLogger(__name__)


class BaselineOcr:
    """RapidOCR on a whole frame, limited to the identifier's format."""

    def __init__(self, threads: int = 2):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:   # an optional extra: see pyproject's [ocr-baseline]
            raise RuntimeError("the OCR baseline needs `pip install --no-deps rapidocr-onnxruntime==1.4.4` "
                               "plus pyclipper and shapely") from exc
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        # The default upscales the short side to 736 px (a 2000 px wide image for our frames): ten times slower
        # and no more accurate on 20–40 px painted digits. The angle classifier is off: numbers are upright.
        self.engine = RapidOCR(det_limit_side_len=320, intra_op_num_threads=threads, inter_op_num_threads=1,
                               use_cls=False)

    def texts(self, image: np.ndarray) -> list[tuple[str, float]]:
        """The text lines RapidOCR finds, upper-cased, only letters and digits kept, with their scores."""
        result, _ = self.engine(image)
        return [(re.sub(r"[^0-9A-Z]", "", text.upper()), float(score)) for _, text, score in (result or [])]

    def read(self, image: np.ndarray | None, kind: str) -> OcrResult:
        """Read one frame's identifier (same result type as :meth:`cargoscan.ocr.identify.OcrEngine.read`)."""
        if image is None or image.size == 0 or image.std() < 2.0:
            return OcrResult(None, None, 0.0, Reason.NO_TEXT)
        length, _, _ = FORMATS[kind]
        lines = self.texts(image)
        # Containers are often read as two lines (owner code, serial): try the concatenation as well.
        strings = [t for t, _ in lines] + ["".join(t for t, _ in lines)]
        found = [s for s in strings if len(s) == length]
        if not found:
            return OcrResult(None, lines[0][0] if lines else None, 0.0, Reason.NO_VALID_CANDIDATE)
        accepted = {c for s in found if (c := correct_string(s, kind))}
        if len(accepted) == 1:
            number = accepted.pop()
            return OcrResult(number, found[0], 0.9, Reason.READ if number in found else Reason.CORRECTED)
        return OcrResult(None, found[0], 0.0, Reason.AMBIGUOUS if accepted else Reason.NO_VALID_CANDIDATE)


def correct_string(text: str, kind: str) -> str | None:
    """Check-digit correction of a plain string: forced format coercions, then one confusion substitution.

    Returns:
        The single valid candidate, or None when there is none or more than one.
    """
    from cargoscan.ocr.fusion import CONFUSIONS

    length, allowed, valid = FORMATS[kind]
    if len(text) != length:
        return None
    chars = []
    for ch, ok in zip(text, allowed):
        if ch in ok:
            chars.append(ch)
        else:
            subs = [c for c in CONFUSIONS.get(ch, "") if c in ok]
            if not subs:
                return None
            chars.append(subs[0])
    base = "".join(chars)
    if valid(base):
        return base
    cands = {base[:i] + c + base[i + 1:] for i, ch in enumerate(base)
             for c in CONFUSIONS.get(ch, "") if c in allowed[i] and valid(base[:i] + c + base[i + 1:])}
    return cands.pop() if len(cands) == 1 else None
