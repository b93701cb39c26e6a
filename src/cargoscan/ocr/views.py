"""Several cameras, one identifier: the readings of a unit's views combined into one.

The portal photographs every wagon from both sides of the track. A wagon's number is painted on both of its
sides and an ISO 6346 code on each side wall and end of a container, so each identifier is seen at least twice,
painted twice, dirtied and lit differently. One view alone fails on a glyph hidden by a post, a line clipped at
the frame edge, a smear, a night frame: about one container frame in ten with the small profile's recogniser.
Two views fail together far more rarely, provided that combining them never turns two weak readings into a
confident wrong one. The rules, in order:

1. Views that accept different numbers make the identifier ambiguous (``views_disagree``), whatever their
   confidences: the check digit passed twice, and only an operator can say which camera is wrong.
2. A number accepted by some view, when another view credibly reads a *different* valid number (its likeliest,
   beating the accepted one there by the ambiguity margin), stands only if the views' log-likelihoods summed
   still prefer it to that rival by ``view_margin`` times the margin a single reading needs (the collision
   margin for a rival one character away). A camera that read CWAU where the other read CMAU clean is weighed,
   not obeyed: if the clean camera finds CWAU far less likely than the doubtful one finds CMAU, the sum says so;
   two cameras with sure, opposite readings stay a disagreement. A number that no view read as it stands (every
   accepting view *corrected* its reading) is not weighed but vetoed when the dissenting view prefers its own
   reading by the collision margin: the check digit was spent on the correction.
3. No view accepted: the views whose readings came near a valid number but were refused alone (``ambiguous``:
   the likeliest valid numbers too close to call, M/W, G/Q; ``low_confidence`` or ``too_doubtful``: the best
   valid number a costly correction of what was read) vote with the exact CTC log-likelihood of every candidate
   of any of them, summed over the views, provided that a view's own best candidate is a credible reading. The
   best must beat every rival by ``view_margin`` times the ambiguity margin, and a rival one character away
   (which the check digit cannot tell apart) by ``view_margin`` times the collision margin. Two independent
   views that each lead by 4 nats are stronger evidence than one that leads by 5, but the views are not fully
   independent (one network, one font family, one bias between M and W): the factor (1.5) asks more of two
   views than of one, less than twice as much. Views that read nothing valid, or nothing credible, do not
   vote: their likelihoods of valid numbers are noise, and noise summed in can flip a choice.
"""

from __future__ import annotations

import dataclasses

from cargoscan.ocr.config import FusionParams
from cargoscan.ocr.fusion import OcrResult, best_of
from cargoscan.ocr.policy import Check, Evidence, Reason, Stage, apply, decide, dissent, plausible, vetoes

#: Readings whose candidates may be summed over the views (rule 3): refused alone, but with valid candidates.
VOTING = (Reason.AMBIGUOUS, Reason.LOW_CONFIDENCE, Reason.TOO_DOUBTFUL)


def _credible(res: OcrResult, number: str, params: FusionParams) -> bool:
    """Whether a view's own best valid reading is a credible reading of the line, not noise."""
    return bool(number) and plausible(res.scores[number], number, params)


def _rivals(res: OcrResult, number: str, params: FusionParams, trace: list[Check]) -> list[str]:
    """The other valid numbers a view that did not accept ``number`` credibly reads instead (rule 2).

    Its likeliest valid reading, when that is not ``number``, is credible and beats ``number`` in this view by
    the ambiguity margin; with it, the view's other candidates about as likely.
    """
    if not res.scores:
        return []
    top = next(iter(res.scores))
    if top == number or not _credible(res, top, params):
        return []
    return dissent(_with(res, number), top, number, params, trace)


def _with(res: OcrResult, number: str) -> dict[str, float]:
    """A view's candidates and ``number``, scored by that view."""
    return {**res.scores, number: res.loglik(number)}


def _disagreement(accepted: list[OcrResult], trace: list[Check] | None = None) -> OcrResult:
    """The identifier left to the operator: views contradict each other (the surest accepting view's reading)."""
    top = max(accepted, key=lambda r: r.confidence)
    return OcrResult(None, top.raw, 0.0, Reason.VIEWS_DISAGREE, top.scores, top.logprobs, tuple(trace or ()))


def _weigh(number: str, accepted: list[OcrResult], views: list[OcrResult], params: FusionParams) -> OcrResult:
    """Rule 2: a number some views accepted, against the views that credibly read another."""
    trace: list[Check] = []
    dissenting = {k: cs for k, r in enumerate(views) if not r.number and (cs := _rivals(r, number, params, trace))}
    if dissenting and all(r.reason == Reason.CORRECTED for r in accepted) and any(
            vetoes(_with(views[k], number), next(iter(views[k].scores)), number, params, trace) for k in dissenting):
        # A correction has spent the check digit's evidence choosing among doubtful characters: a second
        # misread elsewhere lets it choose a valid wrong number (TILU4608209 for TCLU4508209). A view that
        # credibly reads otherwise, and finds the correction far less likely than its own reading, vetoes it.
        return _disagreement(accepted, trace)
    if dissenting:
        # Weigh the dissent: the accepting views and the dissenting ones, summed, must prefer the number to
        # each rival as a single reading must prefer it to a runner-up, times ``view_margin``.
        weighing = accepted + [views[k] for k in dissenting]
        rivals = dict.fromkeys(c for cs in dissenting.values() for c in cs)
        joint = {c: float(sum(r.loglik(c) for r in weighing)) for c in [number, *rivals]}
        if apply(Stage.WEIGH, joint, number, params, trace) is not None:
            return _disagreement(accepted, trace)
    winner = max(accepted, key=lambda r: r.confidence)
    return dataclasses.replace(winner, trace=winner.trace + tuple(trace)) if trace else winner


def _vote(voters: list[OcrResult], params: FusionParams) -> OcrResult | None:
    """Rule 3: the candidates' log-likelihoods summed over the voting views; None unless one clearly wins."""
    candidates = list(dict.fromkeys(c for r in voters for c in r.scores))
    joint = {c: float(sum(r.loglik(c) for r in voters)) for c in candidates}
    decision = decide(Evidence("camera", joint, looks=len(voters)), params)
    if decision.number is None:
        return None
    top = max(voters, key=lambda r: r.loglik(decision.number))
    return OcrResult(decision.number, top.raw, decision.confidence, decision.reason,
                     dict(sorted(joint.items(), key=lambda kv: -kv[1])), top.logprobs, decision.trace)


def combine_views(results: list[OcrResult | None], params: FusionParams = FusionParams()) -> OcrResult:
    """One identifier's reading from the readings of its views (cameras), never a guess.

    Args:
        results: the corrected reading of each view (None: the view was not taken or not loadable).
        params: the acceptance rules (margins, ``min_confidence``).

    Returns:
        The combined reading: the number accepted by the views, or None with the reason ("views_disagree"
        when views contradict each other; otherwise the reason of the most informative view).
    """
    views = [r for r in results if r is not None]
    if not views:
        return OcrResult(None, None, 0.0, Reason.NO_TEXT)
    if len(views) == 1:
        return views[0]
    accepted = [r for r in views if r.number]
    numbers = {r.number for r in accepted}
    if len(numbers) > 1:
        return _disagreement(accepted)
    if numbers:
        return _weigh(numbers.pop(), accepted, views, params)
    voters = [r for r in views if r.reason in VOTING and r.scores and r.logprobs is not None
              and _credible(r, next(iter(r.scores)), params)]   # a garbled line's "best" candidate is no vote
    if len(voters) >= 2:
        voted = _vote(voters, params)
        if voted is not None:
            return voted
    # Nothing accepted: report the view that came nearest (its candidates serve the RFID fusion), as the lines of
    # one frame are reported.
    return best_of(views)
