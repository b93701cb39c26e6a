"""One acceptance policy for identifier readings: the evidence, the margin rules, the decision and its trace.

Every look at an identifier is evidence (:class:`Evidence`): a text line read by the recogniser, the same lines
cut wider, another camera's frame, the RFID tag. Each look scores candidate numbers by their CTC
log-likelihood; looks of one identifier are summed. A number is accepted only when it *leads* its rivals
(:func:`lead`: its log-likelihood minus the likeliest rival's) by a margin, and the rules that say which margin,
over which rivals, at which stage, are the rows of one ordered table (:data:`RULES`). The margins themselves are
:class:`~cargoscan.ocr.config.FusionParams` fields, named by the rules, never copied: summed looks ask for a
multiple of the margin one look needs (the looks are not independent: one network, one font, one M/W bias).

A rule *passes* when its leader leads by at least the needed margin. For the dissent, veto and tag rules the
leader is a rival reading (a camera's own best, the OCR's best against the tag), so passing there speaks against
the number in question. Every check made is kept, in order, as the decision's trace.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import numpy as np

from cargoscan.ocr.config import FusionParams


class Reason(StrEnum):
    """Why a reading was accepted or refused (a ``str``: records and comparisons with plain strings unchanged)."""

    READ = "read"                              # accepted as the network read it
    CORRECTED = "corrected"                    # accepted after a check-digit correction
    AMBIGUOUS = "ambiguous"                    # a valid rival too close to call
    NO_VALID_CANDIDATE = "no_valid_candidate"  # text, but no valid number near it
    LOW_CONFIDENCE = "low_confidence"          # a costly correction, or too unlikely per character
    TOO_DOUBTFUL = "too_doubtful"              # a correction choosing among too many doubtful characters
    NO_TEXT = "no_text"                        # nothing read (blank, corrupt or missing frame)
    VIEWS_AGREE = "views_agree"                # cameras refused alone, accepted summed
    VIEWS_DISAGREE = "views_disagree"          # cameras contradict each other: the operator decides
    UNCONFIRMED = "unconfirmed"                # the second reader contradicted it, or did not confirm a correction


class Status(StrEnum):
    """The fused status of an identification record (contract C)."""

    CONFIRMED = "confirmed"
    OCR_ONLY = "ocr_only"
    RFID_ONLY = "rfid_only"
    CONFLICT = "conflict"
    UNREADABLE = "unreadable"


class Stage(StrEnum):
    """Where a rule applies."""

    LINE = "line"            # one look at a line: the best valid candidate against the others
    COST = "cost"            # a correction against what the network read
    DOUBT = "doubt"          # a correction with one doubtful character too many, against two-change rivals
    WIDE_CUT = "wide_cut"    # a line and the same line cut wider, summed
    CAMERAS = "cameras"      # cameras that each refused the reading, summed
    DISSENT = "dissent"      # a camera that did not accept the number: does it credibly read another?
    VETO = "veto"            # ... so surely that it vetoes a number every camera had to correct
    WEIGH = "weigh"          # the accepted number against the dissenting cameras' readings, all summed
    RFID = "rfid"            # the OCR's best reading against the tag's number


def one_apart(a: str, b: str) -> bool:
    """Two numbers of one length that differ in exactly one character."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


class Rivals(StrEnum):
    """Which candidates a rule's leader is measured against."""

    OTHERS = "others"        # every other candidate: the runner-up
    ONE_APART = "one_apart"  # those one character away: a check digit cannot tell them apart (M/W, G/Q)
    FAR = "far"              # the others: more than one character away
    GIVEN = "given"          # the ones named at the check (the number in question, what was read)

    def admits(self, candidate: str, best: str) -> bool:
        """Whether ``candidate`` is one of ``best``'s rivals of this kind (not for GIVEN)."""
        if self is Rivals.ONE_APART:
            return one_apart(candidate, best)
        return self is Rivals.OTHERS or not one_apart(candidate, best)


@dataclass(frozen=True)
class Rule:
    """One margin rule: the leader must lead ``rivals`` by the ``margin`` field of FusionParams × ``times``."""

    name: str
    stage: Stage
    margin: str                      # a FusionParams field: the parameters stay the one source of margins
    rivals: Rivals
    times: float | str = 1.0         # a constant, or a FusionParams field (several looks summed)
    corrections_only: bool = False   # only when the best is not what the network read
    refusal: Reason = Reason.AMBIGUOUS

    def needed(self, params: FusionParams) -> float:
        """The lead this rule needs under ``params`` (nats)."""
        k = getattr(params, self.times) if isinstance(self.times, str) else self.times
        return k * getattr(params, self.margin)


#: The rules, in the order they are checked; at each stage the first that fails decides the refusal.
RULES: tuple[Rule, ...] = (
    Rule("runner_up", Stage.LINE, "ambiguity_margin", Rivals.OTHERS),
    # A correction changes what the network read: it must stand out more than a plain reading.
    Rule("correction", Stage.LINE, "correction_margin", Rivals.OTHERS, corrections_only=True),
    # A valid rival one character away passes the same check digit (ISO 6346 letter values collide mod 11, e.g.
    # BMOU/BWOU4747064): the check digit cannot arbitrate, only the network can, so it must be surer.
    Rule("collision", Stage.LINE, "collision_margin", Rivals.ONE_APART),
    # A correction the network finds far less likely than what it read is a guess, not a reading: the best may
    # trail the reading by at most this (the format's forced coercions not charged).
    Rule("correction_cost", Stage.COST, "max_correction_cost", Rivals.GIVEN, times=-1.0, corrections_only=True,
         refusal=Reason.LOW_CONFIDENCE),
    Rule("two_changes", Stage.DOUBT, "strong_margin", Rivals.OTHERS, corrections_only=True,
         refusal=Reason.TOO_DOUBTFUL),
    # Two looks of one line (the second cut wider): each must hold the margin on average.
    Rule("wide_cut_runner_up", Stage.WIDE_CUT, "ambiguity_margin", Rivals.OTHERS, times=2.0),
    Rule("wide_cut_correction", Stage.WIDE_CUT, "correction_margin", Rivals.OTHERS, times=2.0,
         corrections_only=True),
    Rule("wide_cut_collision", Stage.WIDE_CUT, "collision_margin", Rivals.ONE_APART, times=2.0),
    # Cameras are not independent looks (one network, one font, one M/W bias): more than one camera's margin,
    # less than the sum of theirs.
    Rule("cameras_runner_up", Stage.CAMERAS, "ambiguity_margin", Rivals.OTHERS, times="view_margin"),
    Rule("cameras_collision", Stage.CAMERAS, "collision_margin", Rivals.ONE_APART, times="view_margin"),
    Rule("dissent", Stage.DISSENT, "ambiguity_margin", Rivals.GIVEN),
    Rule("veto", Stage.VETO, "collision_margin", Rivals.GIVEN),
    Rule("weigh_far", Stage.WEIGH, "ambiguity_margin", Rivals.FAR, times="view_margin"),
    Rule("weigh_collision", Stage.WEIGH, "collision_margin", Rivals.ONE_APART, times="view_margin"),
    Rule("ocr_over_tag", Stage.RFID, "ambiguity_margin", Rivals.GIVEN),
)

#: The stage of the margin rules for each source of evidence decided by :func:`decide`.
STAGES = {"line": Stage.LINE, "wide_cut": Stage.WIDE_CUT, "camera": Stage.CAMERAS}


def rules_of(stage: Stage) -> tuple[Rule, ...]:
    """The rules of one stage, in order."""
    return tuple(r for r in RULES if r.stage is stage)


class Check(NamedTuple):
    """One rule checked: the lead achieved, the lead needed (nats), and whether it passed."""

    rule: str
    achieved: float
    needed: float
    passed: bool

    def as_record(self) -> dict:
        """A JSON-friendly entry of an identification record (an infinite lead, no rival at all: None)."""
        achieved = round(self.achieved, 3) if math.isfinite(self.achieved) else None
        return {"rule": self.rule, "achieved": achieved, "needed": round(self.needed, 3), "passed": self.passed}


def lead(scores: Mapping[str, float], best: str, rivals: Iterable[str] | None = None) -> float:
    """How many nats ``best`` beats the likeliest of ``rivals`` by (default: every other candidate).

    Returns:
        ``scores[best]`` minus the rivals' highest log-likelihood; +inf with no rival.
    """
    pool = (c for c in scores if c != best) if rivals is None else rivals
    return scores[best] - max((scores[c] for c in pool), default=-math.inf)


def check(rule: Rule, scores: Mapping[str, float], best: str, params: FusionParams,
          rivals: Iterable[str] | None = None, credit: float = 0.0) -> Check:
    """Check ``best`` against one rule.

    Args:
        rivals: the rivals of a GIVEN rule.
        credit: nats added to the lead that the rule does not charge (the format's forced coercions).
    """
    if rule.rivals is not Rivals.GIVEN:
        rivals = [c for c in scores if c != best and rule.rivals.admits(c, best)]
    achieved, needed = float(lead(scores, best, rivals) + credit), rule.needed(params)
    return Check(rule.name, achieved, needed, achieved >= needed)   # plain floats: the trace goes into records


def apply(stage: Stage, scores: Mapping[str, float], best: str, params: FusionParams, trace: list[Check],
          corrected: bool = False, rivals: Iterable[str] | None = None, credit: float = 0.0) -> Rule | None:
    """Check ``best`` against the rules of ``stage`` in order, each check appended to ``trace``.

    Returns:
        The first rule that failed (the later ones are not checked), or None when all passed.
    """
    for rule in rules_of(stage):
        if rule.corrections_only and not corrected:
            continue
        trace.append(check(rule, scores, best, params, rivals, credit))
        if not trace[-1].passed:
            return rule
    return None


def plausible(loglik: float, number: str, params: FusionParams) -> bool:
    """Whether a number's likelihood per character (geometric mean) reaches ``min_confidence``."""
    return math.exp(loglik / len(number)) >= params.min_confidence


def posterior(scores: Mapping[str, float], best: str, looks: int = 1) -> float:
    """The posterior of ``best`` among the candidates; log-likelihoods summed over ``looks`` looks are averaged.

    A candidate some look cannot spell at all (-inf) carries no weight.
    """
    lls = np.array([v for v in scores.values() if np.isfinite(v)]) / looks
    return float(1.0 / np.exp(lls - scores[best] / looks).sum())


@dataclass(frozen=True)
class Evidence:
    """One look at an identifier, or several summed.

    Args:
        source: "line" (a text line read once), "wide_cut" (a line and the same line cut wider, summed) or
            "camera" (cameras' readings summed): what :func:`decide` weighs. The RFID tag is weighed against the
            OCR's scores by :func:`versus_tag`.
        scores: candidate → CTC log-likelihood (summed over the looks).
        reading: what the network read (greedy); None for summed cameras.
        looks: how many looks ``scores`` sums.
    """

    source: str
    scores: Mapping[str, float]
    reading: str | None = None
    looks: int = 1


@dataclass(frozen=True)
class Doubt:
    """What a correction of one line reading changed, for the rules beyond the margins.

    Args:
        reading_loglik: the CTC log-likelihood of what the network read.
        credit: nats of the format's forced coercions, not charged to a correction.
        doubtful: characters of the best not read surely (those put back included).
        weak: a character put back without enough evidence of its own.
        two_change: the valid rivals two doubtful characters away, scored on demand (costly).
    """

    reading_loglik: float = -math.inf
    credit: float = 0.0
    doubtful: int = 0
    weak: bool = False
    two_change: Callable[[], Mapping[str, float]] = dict


@dataclass(frozen=True)
class Decision:
    """The accepted number (None when refused), why, its posterior, and every rule checked."""

    number: str | None
    reason: Reason
    confidence: float
    trace: tuple[Check, ...] = ()


def decide(evidence: Evidence, params: FusionParams, doubt: Doubt | None = None) -> Decision:
    """Accept the likeliest candidate of ``evidence`` or refuse it, by the rules of its source in order.

    A line read once is also held to what its correction changed (``doubt``); cameras summed must also reach a
    posterior of ``min_confidence``. A refusal keeps the posterior: it says how close the reading came.
    """
    scores = evidence.scores
    if not scores:
        return Decision(None, Reason.NO_VALID_CANDIDATE, 0.0)
    best = max(scores, key=scores.get)
    corrected = best != evidence.reading
    confidence = posterior(scores, best, evidence.looks)
    trace: list[Check] = []
    failed = apply(STAGES[evidence.source], scores, best, params, trace, corrected)
    refusal = failed.refusal if failed else None
    if refusal is None and doubt is not None:
        refusal = _doubt_refusal(evidence, best, doubt, params, trace)
    if refusal is None and evidence.source == "camera" and confidence < params.min_confidence:
        refusal = Reason.LOW_CONFIDENCE
    if refusal is not None:
        return Decision(None, refusal, confidence, tuple(trace))
    accepted = Reason.VIEWS_AGREE if evidence.source == "camera" else (
        Reason.CORRECTED if corrected else Reason.READ)
    return Decision(best, accepted, confidence, tuple(trace))


def _doubt_refusal(evidence: Evidence, best: str, doubt: Doubt, params: FusionParams,
                   trace: list[Check]) -> Reason | None:
    """A line reading's refusal for what its best candidate changed, or None.

    One check digit can locate nothing: it can only choose among doubtful characters. With more of them than
    ``max_doubtful`` several valid corrections compete, and the choice stands only when it beats every valid
    number two doubtful changes away too (``two_changes``); beyond ``max_doubtful_checked``, or with a character
    put back on no evidence of its own, it is a guess.
    """
    ll, read = evidence.scores[best], evidence.reading
    corrected = best != read
    if corrected:
        failed = apply(Stage.COST, {best: ll, read: doubt.reading_loglik}, best, params, trace, True, [read],
                       doubt.credit)
        if failed:
            return failed.refusal
    if not plausible(ll + doubt.credit, best, params):     # every character must stay likely, not just most
        return Reason.LOW_CONFIDENCE
    if not corrected:
        return None
    if doubt.weak or doubt.doubtful > params.max_doubtful_checked:
        return Reason.TOO_DOUBTFUL
    if doubt.doubtful <= params.max_doubtful:
        return None
    failed = apply(Stage.DOUBT, {**evidence.scores, **doubt.two_change()}, best, params, trace, True)
    return failed.refusal if failed else None


def dissent(scores: Mapping[str, float], own: str, number: str, params: FusionParams,
            trace: list[Check]) -> list[str]:
    """The readings a camera that did not accept ``number`` credibly makes instead.

    Args:
        scores: the camera's candidates, ``number`` included.
        own: the camera's likeliest valid reading (not ``number``).

    Returns:
        Nothing unless ``own`` leads ``number`` by the dissent margin; else the camera's candidates (``number``
        excepted) that ``own`` does not lead by that margin: ``own`` and those about as likely.
    """
    rule = rules_of(Stage.DISSENT)[0]
    if apply(Stage.DISSENT, scores, own, params, trace, rivals=[number]) is not None:
        return []
    return [c for c in scores if c != number and not check(rule, scores, own, params, [c]).passed]


def vetoes(scores: Mapping[str, float], own: str, number: str, params: FusionParams, trace: list[Check]) -> bool:
    """Whether a dissenting camera's own reading leads ``number`` by the veto margin."""
    return apply(Stage.VETO, scores, own, params, trace, rivals=[number]) is None


def versus_tag(scores: Mapping[str, float], tag: str, params: FusionParams) -> Check | None:
    """The OCR's likeliest valid reading against the RFID tag's number; None when the OCR never scored it.

    Failing (the OCR does not lead the tag's number by the margin) makes the tag's number one of the OCR's
    near-best readings: agreement.
    """
    if tag not in scores:
        return None
    rule = rules_of(Stage.RFID)[0]
    return check(rule, scores, max(scores, key=scores.get), params, [tag])
