"""Reading CTC output: greedy decoding with per-character probabilities, and the exact likelihood of a string.

The fusion step needs more than the best path: it scores candidate corrections by :func:`ctc_log_likelihood`,
the forward-algorithm probability that the network's output spells a given string (summed over all alignments),
which is what makes "0 or O here?" a comparison of probabilities rather than of guesses.
"""

from __future__ import annotations

import math
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
    return ctc_log_likelihoods(logprobs, [text])[0]


def ctc_log_likelihoods(logprobs: np.ndarray, texts: list[str]) -> list[float]:
    """:func:`ctc_log_likelihood` of several strings at once (strings of one length share one forward pass).

    Correction scores a dozen candidates of the same length per reading: one pass over the time steps for all of
    them instead of one each.
    """
    out: dict[str, float] = {}
    T = logprobs.shape[0]
    by_length: dict[int, list[str]] = {}
    for text in dict.fromkeys(texts):
        by_length.setdefault(len(text), []).append(text)
    for n, group in by_length.items():
        if n > T:
            out |= {t: -np.inf for t in group}
            continue
        labels = np.array([[ALPHABET.index(c) + 1 for c in t] for t in group], dtype=np.int64).reshape(len(group), n)
        ext = np.full((len(group), 2 * n + 1), BLANK, dtype=np.int64)
        ext[:, 1::2] = labels
        S = ext.shape[1]
        # A step s-2 -> s skip is allowed onto a non-blank that differs from the label two states back.
        skip = np.zeros(ext.shape, bool)
        skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
        alpha = np.full(ext.shape, -np.inf)
        alpha[:, 0] = logprobs[0, BLANK]
        if S > 1:
            alpha[:, 1] = logprobs[0, ext[:, 1]]
        a1, a2 = np.full(ext.shape, -np.inf), np.full(ext.shape, -np.inf)
        for t in range(1, T):
            a1[:, 1:] = alpha[:, :-1]
            a2[:, 2:] = np.where(skip[:, 2:], alpha[:, :-2], -np.inf)
            alpha = np.logaddexp(np.logaddexp(alpha, a1), a2) + logprobs[t][ext]
        final = np.logaddexp(alpha[:, -1], alpha[:, -2]) if S > 1 else alpha[:, -1]
        out |= dict(zip(group, final.tolist()))
    return [out[t] for t in texts]


def _lae(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) on Python floats (the beam's inner loop; numpy scalars are ~10x slower here)."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def constrained_beam(logprobs: np.ndarray, allowed: list[str], beam: int = 16, per_step: int = 3,
                     min_prob: float = 0.01) -> list[tuple[str, float]]:
    """CTC prefix beam search restricted to a fixed-length grammar: the best strings the network could spell.

    Position ``i`` of the string may only hold a character of ``allowed[i]`` (e.g. 3 letters, then U/J/Z, then 7
    digits for an ISO 6346 code). Unlike greedy decoding followed by substitutions, this finds readings that
    differ in length from the best path: a letter the network rated a few per cent at a step where the blank won
    (the commonest container error: "CAU" for "CMAU") is put back when the grammar needs a character there.

    Args:
        logprobs: (T, C) log-probabilities, class 0 the blank.
        allowed: per position, the characters allowed there; its length is the string's length.
        beam: prefixes kept per time step.
        per_step: new characters tried per prefix and step (the most likely allowed ones at that step).
        min_prob: steps where no allowed character is this likely add no new characters.

    Returns:
        Complete strings with their beam log-likelihood (a lower bound of the exact CTC likelihood), best first.
    """
    T = logprobs.shape[0]
    length = len(allowed)
    sets = {a: np.array([ALPHABET.index(c) + 1 for c in a]) for a in set(allowed)}
    k = {a: min(per_step, len(idx)) for a, idx in sets.items()}
    top = {a: np.take_along_axis(np.broadcast_to(idx, (T, len(idx))),
                                 np.argsort(-logprobs[:, idx], axis=1)[:, : k[a]], axis=1).tolist()
           for a, idx in sets.items()}
    lp_all = logprobs.tolist()
    # Steps where no allowed character reaches ``min_prob`` only carry the prefixes on (blank or repeat): a new
    # character there would be one the network never saw, which correction refuses anyway. Saves most steps.
    idx = np.unique(np.concatenate(list(sets.values())))
    quiet = (logprobs[:, idx].max(axis=1) < math.log(min_prob)).tolist()
    neg = -math.inf
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, neg)}   # prefix -> (ends in blank, not)
    for t in range(T):
        lp = lp_all[t]
        if quiet[t]:
            beams = {p: (_lae(pb, pnb) + lp[BLANK], pnb + lp[p[-1]] if p else neg) for p, (pb, pnb) in beams.items()}
            continue
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _lae(pb, pnb)
            e = nxt.setdefault(prefix, [neg, neg])
            e[0] = _lae(e[0], total + lp[BLANK])
            if prefix:
                e[1] = _lae(e[1], pnb + lp[prefix[-1]])
            if len(prefix) < length:
                for c in top[allowed[len(prefix)]][t]:
                    n = nxt.setdefault(prefix + (c,), [neg, neg])
                    # A repeat of the last character needs a blank between the two (CTC merges repeats).
                    n[1] = _lae(n[1], (pb if prefix and c == prefix[-1] else total) + lp[c])
        # Prefixes that can no longer be completed in the steps left are dropped before pruning.
        left = T - 1 - t
        ranked = sorted(((_lae(*v), p) for p, v in nxt.items() if length - len(p) <= left), reverse=True)
        beams = {p: tuple(nxt[p]) for _, p in ranked[:beam]}
    done = [("".join(ALPHABET[c - 1] for c in p), _lae(*v)) for p, v in beams.items() if len(p) == length]
    return sorted(done, key=lambda kv: -kv[1])


def join_lines(logprobs: list[np.ndarray]) -> np.ndarray:
    """CTC outputs of lines joined into one, a sure blank step between two lines."""
    blank = np.full((1, logprobs[0].shape[1]), -30.0, np.float32)
    blank[0, BLANK] = 0.0
    parts = []
    for lp in logprobs:
        parts += [lp, blank]
    return np.concatenate(parts[:-1])
