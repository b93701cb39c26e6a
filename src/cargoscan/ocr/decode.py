"""Reading CTC output: greedy decoding with per-character probabilities, and the exact likelihood of a string.

The fusion step needs more than the best path: it scores candidate corrections by :func:`ctc_log_likelihood`,
the forward-algorithm probability that the network's output spells a given string (summed over all alignments),
which is what makes "0 or O here?" a comparison of probabilities rather than of guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargoscan.ocr.model import ALPHABET, BLANK


@dataclass(frozen=True)
class Reading:
    """A greedy CTC reading of one text line."""

    text: str                   # the decoded characters
    char_probs: tuple[float, ...]   # the peak probability of each character
    frames: tuple[int, ...]     # the time step where each character peaked
    logprobs: np.ndarray        # (T, C) log-probabilities, kept for rescoring


def greedy(logprobs: np.ndarray) -> Reading:
    """Best-path decoding: argmax per step, merge repeats, drop blanks."""
    best = logprobs.argmax(axis=1)
    text, probs, frames = [], [], []
    prev = BLANK
    for t, k in enumerate(best):
        p = float(np.exp(logprobs[t, k]))
        if k != BLANK and k != prev:
            text.append(ALPHABET[k - 1])
            probs.append(p)
            frames.append(t)
        elif k != BLANK and k == prev and p > probs[-1]:
            probs[-1], frames[-1] = p, t
        prev = k
    return Reading("".join(text), tuple(probs), tuple(frames), logprobs)


def ctc_log_likelihood(logprobs: np.ndarray, text: str) -> float:
    """log P(text | network output) by the CTC forward algorithm.

    Args:
        logprobs: (T, C) log-probabilities, class 0 the blank.
        text: the string to score (characters of :data:`ALPHABET`).
    """
    labels = [ALPHABET.index(c) + 1 for c in text]
    ext = np.full(2 * len(labels) + 1, BLANK, dtype=np.int64)
    ext[1::2] = labels
    S, T = len(ext), logprobs.shape[0]
    if len(labels) > T:
        return -np.inf
    # A step s-2 -> s skip is allowed onto a non-blank that differs from the label two states back.
    skip = np.zeros(S, bool)
    skip[2:] = (ext[2:] != BLANK) & (ext[2:] != ext[:-2])
    alpha = np.full(S, -np.inf)
    alpha[0] = logprobs[0, ext[0]]
    if S > 1:
        alpha[1] = logprobs[0, ext[1]]
    for t in range(1, T):
        a1 = np.concatenate(([-np.inf], alpha[:-1]))
        a2 = np.where(skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, a1), a2) + logprobs[t, ext]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if S > 1 else alpha[-1])
