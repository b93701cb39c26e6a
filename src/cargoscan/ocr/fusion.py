"""Check-digit constrained correction of OCR readings, and their fusion with the RFID read.

Correction: the OCR's greedy reading is edited by substitutions drawn from the characters painted numbers are
confused with (0/O/D/Q, 1/I/L, 5/S, 8/B, 2/Z, 6/G, ...) and from the network's own runner-up classes, within the
format (a wagon number is 8 digits; an ISO 6346 code is 3 letters, U/J/Z and 7 digits); a CTC beam search
restricted to that format (:func:`constrained_beam`) adds the readings of other lengths than the best path's (a
letter the best path skipped). Only candidates that pass their check digit survive, and each is scored by its
exact CTC likelihood (:func:`ctc_log_likelihood`), as are the valid one-character neighbours of the best. Whether
the best is accepted is the acceptance policy's decision (:func:`cargoscan.ocr.policy.decide`): it must beat every
other valid candidate by ``ambiguity_margin`` nats (two similar valid corrections make the reading ambiguous, and an
ambiguous reading is unreadable, never a guess), and a correction must not cost too much nor choose among too many
doubtful characters. A character put back by the beam needs evidence of its own (``min_inserted``): the check digit
never invents one.

Fusion (contract C): ``confirmed`` when the OCR and the RFID agree; ``ocr_only`` / ``rfid_only`` when one source
alone gives a valid number; ``conflict`` when both give valid numbers that differ (never resolved here: the
operator decides); ``unreadable`` otherwise. An accepted number always passes its check digit.
"""

from __future__ import annotations

import difflib
import itertools
import math
import string
from dataclasses import dataclass, field

import numpy as np

from cargoscan.ids import is_valid_container, is_valid_wagon
from cargoscan.ocr.config import FusionParams
from cargoscan.ocr.decode import Reading, constrained_beam, ctc_log_likelihood, ctc_log_likelihoods
from cargoscan.ocr.model import ALPHABET
from cargoscan.ocr.policy import Check, Doubt, Evidence, Reason, Status, decide, versus_tag

#: Characters painted numbers are misread as, both ways.
CONFUSIONS: dict[str, str] = {
    "0": "ODQ", "O": "0DQC", "D": "0O", "Q": "0O", "C": "OG", "1": "IL7T", "I": "1L", "L": "1I", "T": "17",
    "7": "1T", "5": "S6", "S": "58", "8": "B03S6", "B": "8", "2": "Z", "Z": "2", "6": "G85", "G": "6C", "4": "A",
    "A": "4", "3": "8", "9": "8", "U": "V0", "V": "U",
}

DIGITS, LETTERS = string.digits, string.ascii_uppercase

#: Per kind: the number's length, the characters allowed at each position and the validity check.
FORMATS = {
    "wagon": (8, [DIGITS] * 8, is_valid_wagon),
    "container": (11, [LETTERS] * 3 + ["UJZ"] + [DIGITS] * 7, is_valid_container),
}

STATUSES = tuple(Status)


@dataclass
class OcrResult:
    """The corrected OCR reading of one identifier."""

    number: str | None               # the accepted number (passes its check digit) or None
    raw: str | None                  # what the network read (greedy), None when no text was found
    confidence: float                # posterior of the accepted number among the valid candidates
    reason: Reason
    scores: dict[str, float] = field(default_factory=dict)   # log-likelihood of the valid candidates, best first
    logprobs: np.ndarray | None = None
    trace: tuple[Check, ...] = ()    # the acceptance rules checked, in order (cargoscan.ocr.policy)

    def loglik(self, text: str) -> float:
        """The CTC log-likelihood of any string under this reading (-inf without network output)."""
        if text in self.scores:
            return self.scores[text]
        return ctc_log_likelihood(self.logprobs, text) if self.logprobs is not None else -math.inf


def _options(reading: Reading, base: str, allowed: list[str], k: int, lock: float) -> list[list[str]] | None:
    """For each position: the base character (if allowed) first, then the plausible substitutes.

    A legal character the network read with probability ``lock`` or more is not open to correction: the check
    digit may choose among doubtful characters, never overrule a confident one.
    """
    opts = []
    for i, ch in enumerate(base):
        if ch in allowed[i] and i < len(reading.char_probs) and reading.char_probs[i] >= lock:
            opts.append([ch])
            continue
        cands = [ch] if ch in allowed[i] else []
        cands += [c for c in CONFUSIONS.get(ch, "") if c in allowed[i]]
        if reading.frames and i < len(reading.frames):   # the network's runner-up classes at the character's peak
            row = reading.logprobs[reading.frames[i]]
            for idx in np.argsort(row)[::-1][: k + 1]:
                if idx > 0 and ALPHABET[idx - 1] in allowed[i]:
                    cands.append(ALPHABET[idx - 1])
        cands = list(dict.fromkeys(cands))
        if not cands:
            return None
        opts.append(cands)
    return opts


def candidates(reading: Reading, kind: str, params: FusionParams = FusionParams()) -> dict[str, float]:
    """Valid numbers within ``max_edits`` substitutions (plus forced format coercions) of the reading.

    Returns:
        Each valid candidate with a quick score: the sum of its characters' log-probabilities at the time steps
        where the reading's characters peaked (the exact CTC likelihood is computed for the best few only).
    """
    length, allowed, valid = FORMATS[kind]
    text = reading.text
    if len(text) == length:
        bases = [reading]
    elif len(text) == length + 1:   # one spurious character (a rivet, a box edge): try dropping each
        bases = [Reading(text[:i] + text[i + 1:], reading.char_probs[:i] + reading.char_probs[i + 1:],
                         reading.frames[:i] + reading.frames[i + 1:], reading.logprobs) for i in range(len(text))]
    else:
        return {}
    found: dict[str, float] = {}
    for r in bases:
        opts = _options(r, r.text, allowed, params.alternatives, params.lock_prob)
        if opts is None:
            continue
        rows = reading.logprobs[list(r.frames)]                      # (length, C) at each character's peak
        def quick(cand: str) -> float:
            return float(sum(rows[i, ALPHABET.index(c) + 1] for i, c in enumerate(cand)))
        first = "".join(o[0] for o in opts)        # the base with only the forced coercions
        pool = [first]
        for n in range(1, params.max_edits + 1):
            for positions in itertools.combinations(range(length), n):
                for subs in itertools.product(*[opts[i][1:] for i in positions]):
                    cand = list(first)
                    for i, c in zip(positions, subs):
                        cand[i] = c
                    pool.append("".join(cand))
        for cand in pool:
            if cand not in found and valid(cand):
                found[cand] = quick(cand)
    return found


def correct(reading: Reading | None, kind: str, params: FusionParams = FusionParams()) -> OcrResult:
    """Correct one reading under the check digit; accept it only when it is unambiguous.

    Args:
        reading: the greedy CTC reading, or None when no text was found.
        kind: "wagon" or "container".
        params: the acceptance rules.
    """
    if reading is None or not reading.text:
        return OcrResult(None, None if reading is None else "", 0.0, Reason.NO_TEXT)
    scored = _scored(reading, kind, params)
    if not scored:
        return OcrResult(None, reading.text, 0.0, Reason.NO_VALID_CANDIDATE, scored, reading.logprobs)
    decision = decide(Evidence("line", scored, reading.text), params, _doubt(reading, kind, scored, params))
    return OcrResult(decision.number, reading.text, decision.confidence, decision.reason, scored, reading.logprobs,
                     decision.trace)


def _scored(reading: Reading, kind: str, params: FusionParams) -> dict[str, float]:
    """The valid candidates of a reading with their exact CTC log-likelihoods, best first."""
    quick = candidates(reading, kind, params)
    shortlist = sorted(quick, key=lambda c: -quick[c])[:params.rescore]
    length, allowed, valid = FORMATS[kind]
    # Readings of other lengths than the best path's, within the format (see constrained_beam): a character or two
    # skipped, or one too many. Far shorter or longer readings are other lines (a size-type code), not this one.
    if params.beam and length - 2 <= len(reading.text) <= length + 1:
        shortlist += [c for c, _ in constrained_beam(reading.logprobs, allowed, params.beam) if valid(c)]
    shortlist = list(dict.fromkeys(shortlist))
    scored = dict(zip(shortlist, ctc_log_likelihoods(reading.logprobs, shortlist)))
    if scored:
        # The best candidate's valid neighbours (one character changed) compete with it too, found or not by the
        # searches above: a letter the check digit cannot tell from two others (ISO 6346 letter values collide
        # mod 11) must be told apart by the network, or the reading is ambiguous.
        top = max(scored, key=scored.get)
        near = [n for n in _neighbours(top, kind, reading.text) if n not in scored]
        scored |= dict(zip(near, ctc_log_likelihoods(reading.logprobs, near)))
    return dict(sorted(scored.items(), key=lambda kv: -kv[1]))


def _doubt(reading: Reading, kind: str, scored: dict[str, float], params: FusionParams) -> Doubt:
    """What choosing the best valid candidate changes in the reading (see :class:`cargoscan.ocr.policy.Doubt`).

    A character the best path skipped and the grammar put back counts as doubtful, and it needs evidence of its
    own: without it the check digit alone would be choosing a letter. At either end of the line the crop may have
    cut a glyph off, and the network's say about an edge is weaker: a character put back there needs more evidence.
    """
    best = next(iter(scored))
    inserted = _inserted_evidence(reading, best)
    weak = any(p < (params.min_inserted_edge if edge else params.min_inserted) for p, edge in inserted)
    doubtful = sum(p < params.lock_prob for p in reading.char_probs) + len(inserted)
    return Doubt(ctc_log_likelihood(reading.logprobs, reading.text), _coercion_credit(reading, kind, best), doubtful,
                 weak, lambda: _two_change_scores(reading, kind, best, scored, params.lock_prob))


def _doubtful_positions(reading: Reading, best: str, lock: float) -> list[int]:
    """Positions of ``best`` not read surely: put back, changed, or read with probability below ``lock``."""
    sure = set()
    for op, i0, i1, j0, _ in difflib.SequenceMatcher(None, reading.text, best, autojunk=False).get_opcodes():
        if op == "equal":
            sure |= {j0 + k for k in range(i1 - i0) if reading.char_probs[i0 + k] >= lock}
    return [j for j in range(len(best)) if j not in sure]


def _two_change_scores(reading: Reading, kind: str, best: str, scored: dict[str, float],
                       lock: float) -> dict[str, float]:
    """The valid numbers that change two of the doubtful characters of ``best``, not yet scored, with their CTC
    log-likelihoods.

    With three doubtful characters the truth may lie two changes away from the best candidate, out of reach of the
    one-character neighbours: a correction with one doubtful character too many must beat these as well.
    """
    _, allowed, valid = FORMATS[kind]
    pos = _doubtful_positions(reading, best, lock)
    rivals = []
    for i, j in itertools.combinations(pos, 2):
        for a in allowed[i]:
            for b in allowed[j]:
                if a != best[i] and b != best[j]:
                    cand = best[:i] + a + best[i + 1:j] + b + best[j + 1:]
                    if cand not in scored and valid(cand):
                        rivals.append(cand)
    return dict(zip(rivals, ctc_log_likelihoods(reading.logprobs, rivals)))


def _neighbours(number: str, kind: str, read: str = "") -> list[str]:
    """The valid numbers that differ from ``number`` in one character (within the format).

    Where the format forced a change of the character read (``read`` of the same length, a 5 where a letter must
    stand) to one it is known to be confused with, only those are plausible there (S for 5, not I).
    """
    _, allowed, valid = FORMATS[kind]
    out = []
    for i, ch in enumerate(number):
        forced = len(read) == len(number) and read[i] not in allowed[i] and ch in CONFUSIONS.get(read[i], "")
        for c in allowed[i]:
            if c == ch or (forced and c not in CONFUSIONS.get(read[i], "")):
                continue
            if valid(cand := number[:i] + c + number[i + 1:]):
                out.append(cand)
    return out


def _inserted_evidence(reading: Reading, best: str) -> list[tuple[float, bool]]:
    """For each character of ``best`` that the greedy reading lacks: its peak probability where it would stand,
    and whether it stands at either end of the reading.

    "Where it would stand" is the span of time steps between the greedy characters on either side of it.
    """
    if len(best) <= len(reading.text) or not reading.frames:
        return []
    probs = np.exp(reading.logprobs)
    out = []
    for op, i0, i1, j0, j1 in difflib.SequenceMatcher(None, reading.text, best, autojunk=False).get_opcodes():
        if op in ("insert", "replace") and j1 - j0 > i1 - i0:
            edge = i0 == 0 or i1 == len(reading.text)
            t0 = reading.frames[i0 - 1] if i0 > 0 else 0
            t1 = reading.frames[i1] + 1 if i1 < len(reading.frames) else len(probs)
            out += [(float(probs[t0:t1, ALPHABET.index(c) + 1].max()), edge) for c in best[j0:j1]]
    return out


def _coercion_credit(reading: Reading, kind: str, best: str) -> float:
    """What the format forces: log p(read char) - log p(chosen char), summed where the read char is illegal.

    A letter O where only digits may stand must become a digit whatever the network thought; that change is the
    format's decision, so it is not charged to the correction, but only when the chosen character is one the read
    one is known to be confused with (O→0, not 2→P): any other forced change is a blind one.

    Returns:
        The credit (nats); a blind forced change earns none, so the likelihood alone must carry it.
    """
    length, allowed, _ = FORMATS[kind]
    if len(reading.text) != length or len(reading.frames) != length or len(best) != length:
        return 0.0
    credit = 0.0
    for i, ch in enumerate(reading.text):
        if ch not in allowed[i]:
            if best[i] not in CONFUSIONS.get(ch, ""):
                continue
            row = reading.logprobs[reading.frames[i]]
            credit += float(row[ALPHABET.index(ch) + 1] - row[ALPHABET.index(best[i]) + 1])
    return max(0.0, credit)


def best_of(results: list[OcrResult]) -> OcrResult:
    """Combine the readings of several text boxes (or frames) of one identifier.

    Accepted readings that disagree make the identifier ambiguous; otherwise the most confident wins.
    """
    if not results:
        return OcrResult(None, None, 0.0, Reason.NO_TEXT)
    accepted = [r for r in results if r.number]
    if len({r.number for r in accepted}) > 1:
        top = max(results, key=lambda r: r.confidence)
        return OcrResult(None, top.raw, 0.0, Reason.AMBIGUOUS, top.scores, top.logprobs)
    if accepted:
        return max(accepted, key=lambda r: (r.confidence, len(r.raw or "")))
    # Nothing accepted: report the reading whose best valid candidate is the likeliest (its refusal is the one
    # worth a second look). The posterior alone would not do: it is relative, and a garbled joined run whose
    # far-fetched candidates are all unlikely can still have one that stands out among them.
    return max(results, key=lambda r: (max(r.scores.values(), default=-math.inf), r.confidence, len(r.raw or "")))


def fuse_wagon(ocr: OcrResult | None, rfid_payloads: list[str],
               params: FusionParams = FusionParams()) -> dict:
    """The wagon part of an identification record (contract C) from the OCR result and the RFID reads.

    Args:
        ocr: the corrected OCR result, or None when there was no frame.
        rfid_payloads: the tag payloads read for this wagon (several readers, possibly corrupt, possibly none).
        params: the acceptance rules.
    """
    payloads = [p.strip() for p in rfid_payloads if p is not None and str(p).strip()]
    valid_rfid = sorted({p for p in payloads if is_valid_wagon(p)})
    rfid_field = valid_rfid[0] if len(valid_rfid) == 1 else (payloads[0] if payloads else None)
    ocr = ocr or OcrResult(None, None, 0.0, Reason.NO_TEXT)
    record = {"number": None, "status": Status.UNREADABLE, "ocr": ocr.number or ocr.raw or None, "rfid": rfid_field,
              "confidence": 0.0}
    trace = list(ocr.trace)
    if len(valid_rfid) > 1:            # the readers disagree among themselves: the operator decides
        record["status"] = Status.CONFLICT
    elif ocr.number or valid_rfid:
        record.update(_with_tag(ocr, valid_rfid[0] if valid_rfid else None, params, trace))
    return _traced(record, trace)


def _with_tag(ocr: OcrResult, rfid: str | None, params: FusionParams, trace: list[Check]) -> dict:
    """The number, status and confidence of a wagon from its OCR result and its one valid tag number (or None)."""
    if ocr.number and rfid:
        if ocr.number == rfid:
            return {"number": rfid, "status": Status.CONFIRMED, "confidence": 1 - (1 - ocr.confidence) * 0.01}
        return {"status": Status.CONFLICT, "confidence": 0.0}
    if ocr.number:
        return {"number": ocr.number, "status": Status.OCR_ONLY, "confidence": ocr.confidence}
    # An unaccepted OCR reading still counts as evidence when the RFID number is one of its near-best valid
    # candidates (e.g. OCR torn between two corrections, the tag naming one of them): that is agreement.
    verdict = versus_tag(ocr.scores, rfid, params)
    trace.extend([verdict] if verdict else [])
    if verdict and not verdict.passed:
        return {"number": rfid, "status": Status.CONFIRMED, "confidence": 0.99}
    return {"number": rfid, "status": Status.RFID_ONLY, "confidence": 0.95}


def _traced(record: dict, trace: list[Check] | tuple[Check, ...]) -> dict:
    """The record with the acceptance rules checked (a new, optional key: records without checks are unchanged)."""
    if trace:
        record["trace"] = [c.as_record() for c in trace]
    return record


def fuse_container(results: list[OcrResult]) -> dict:
    """One container's part of an identification record: containers carry no RFID tag here."""
    res = best_of(results)
    if res.number:
        record = {"number": res.number, "status": Status.OCR_ONLY, "ocr": res.number, "confidence": res.confidence}
    else:
        record = {"number": None, "status": Status.UNREADABLE, "ocr": res.raw or None, "confidence": 0.0}
    return _traced(record, res.trace)
