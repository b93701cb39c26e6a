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
