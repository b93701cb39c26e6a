"""Synthetic CTC outputs with chosen per-character probabilities, for fusion tests without a network."""

from __future__ import annotations

import numpy as np

from cargoscan.ocr.model import ALPHABET

C = len(ALPHABET) + 1


def ctc_output(chars: list[dict[str, float]], floor: float = 1e-4) -> np.ndarray:
    """(T, C) log-probabilities: a blank step, then one step per character distribution, then a blank, ...

    Args:
        chars: per position, a mapping character -> probability (the rest shares what is left).
        floor: the probability of every class not named.
    """
    rows = []
    blank = np.full(C, floor)
    blank[0] = 1.0
    rows.append(blank / blank.sum())
    for dist in chars:
        row = np.full(C, floor)
        for ch, p in dist.items():
            row[ALPHABET.index(ch) + 1] = p
        rows.append(row / row.sum())
        rows.append(blank / blank.sum())
    return np.log(np.maximum(np.stack(rows), 1e-12))


def confident(text: str, p: float = 0.98) -> list[dict[str, float]]:
    """Distributions that spell ``text`` with probability ``p`` per character."""
    return [{ch: p} for ch in text]


class FakeReader:
    """A reader without networks, injected into :class:`~cargoscan.ocr.identify.OcrEngine` by tests.

    Its heat map holds the given blocks of text-core probability; its recogniser reads each crop it was told about
    (a box cut with a padding, as the engine cuts it from ``image``) as told, and any other crop as nothing.

    Args:
        image: the frame the engine will read.
        cores: (x0, y0, x1, y1, probability) blocks of the (48, 120) heat map, in heat-map cells.
    """

    rec_input = (24, 224)

    def __init__(self, image: np.ndarray, cores: list[tuple[int, int, int, int, float]]):
        from cargoscan.ocr.detect import to_gray

        self.gray = to_gray(image)
        self.prob = np.zeros((48, 120), np.float32)
        for x0, y0, x1, y1, p in cores:
            self.prob[y0:y1, x0:x1] = p
        self.known: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.asked: list[tuple | None] = []     # (box, pad) of each crop read; None for one not told about

    def boxes(self, threshold: float = 0.5) -> list[tuple[int, int, int, int]]:
        """The line boxes the engine finds in this heat map at ``threshold``."""
        from cargoscan.ocr.detect import boxes_from_heatmap

        return [b for b, _ in boxes_from_heatmap(self.prob, self.gray.shape, threshold)]

    def tell(self, box: tuple, pad: tuple, logprobs: np.ndarray) -> None:
        """Read ``box`` cut with ``pad`` as ``logprobs``."""
        from cargoscan.ocr.detect import crop_line

        self.known[(box, tuple(pad))] = (crop_line(self.gray, box, self.rec_input, tuple(pad)), logprobs)

    def heatmap(self, gray: np.ndarray) -> np.ndarray:
        return self.prob

    def logprobs(self, crops: np.ndarray) -> list[np.ndarray]:
        out = []
        for crop in crops:
            key = next((k for k, (known, _) in self.known.items() if np.array_equal(known, crop)), None)
            self.asked.append(key)
            out.append(self.known[key][1] if key else np.repeat(ctc_output([]), 30, axis=0))   # all blank
        return out
