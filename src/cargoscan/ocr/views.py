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

import math

import numpy as np

from cargoscan.ocr.config import FusionParams
from cargoscan.ocr.fusion import OcrResult, best_of, one_apart

#: Readings whose candidates may be summed over the views (rule 3): refused alone, but with valid candidates.
VOTING = ("ambiguous", "low_confidence", "too_doubtful")


def _credible(res: OcrResult, number: str, params: FusionParams) -> bool:
    """Whether a view's own best valid reading is a credible reading of the line, not noise."""
    return bool(number) and math.exp(res.scores[number] / len(number)) >= params.min_confidence


def _rivals(res: OcrResult, number: str, params: FusionParams) -> list[str]:
    """The other valid numbers a view that did not accept ``number`` credibly reads instead (rule 2).

    Its likeliest valid reading, when that is not ``number``, is credible and beats ``number`` in this view by
    the ambiguity margin; with it, the view's other candidates about as likely.
    """
    if not res.scores:
        return []
    top, ll = next(iter(res.scores.items()))
    if top == number or not _credible(res, top, params) or ll - res.loglik(number) < params.ambiguity_margin:
        return []
    return [c for c, v in res.scores.items() if c != number and ll - v < params.ambiguity_margin]


def _lead(res: OcrResult, number: str) -> float:
    """How much more likely a view finds its own best valid reading than ``number`` (nats)."""
    return next(iter(res.scores.values())) - res.loglik(number)


def _disagreement(accepted: list[OcrResult]) -> OcrResult:
    """The identifier left to the operator: views contradict each other (the surest accepting view's reading)."""
    top = max(accepted, key=lambda r: r.confidence)
    return OcrResult(None, top.raw, 0.0, "views_disagree", top.scores, top.logprobs)


def _outweighs(number: str, rival: str, views: list[OcrResult], params: FusionParams) -> bool:
    """Whether the views' summed log-likelihoods prefer ``number`` to ``rival`` by the combined margin."""
    margin = params.collision_margin if one_apart(number, rival) else params.ambiguity_margin
    lead = sum(r.loglik(number) - r.loglik(rival) for r in views)
    return lead >= params.view_margin * margin


def clear_winner(joint: dict[str, float], margin: float, collision_margin: float) -> str | None:
    """The candidate that beats every other by ``margin`` nats and every valid rival one character away (which
    the check digit cannot tell apart) by ``collision_margin``; None when no candidate does.

    Args:
        joint: candidate → log-likelihood (summed over the views that read it).
        margin: the lead needed over the runner-up.
        collision_margin: the lead needed over a one-character rival.
    """
    if not joint:
        return None
    best = max(joint, key=joint.get)
    runner = max((v for c, v in joint.items() if c != best), default=-math.inf)
    collider = max((v for c, v in joint.items() if c != best and one_apart(c, best)), default=-math.inf)
    return best if joint[best] - runner >= margin and joint[best] - collider >= collision_margin else None


def posterior(joint: dict[str, float], best: str, n: int) -> float:
    """The posterior of ``best`` among the candidates, from log-likelihoods summed over ``n`` views (averaged)."""
    lls = np.array([v for v in joint.values() if np.isfinite(v)]) / n
    return float(1.0 / np.exp(lls - joint[best] / n).sum())


def _vote(voters: list[OcrResult], params: FusionParams) -> OcrResult | None:
    """Rule 3: the candidates' log-likelihoods summed over the voting views; None unless one clearly wins."""
    candidates = list(dict.fromkeys(c for r in voters for c in r.scores))
    joint = {c: float(sum(r.loglik(c) for r in voters)) for c in candidates}
    k = params.view_margin
    best = clear_winner(joint, k * params.ambiguity_margin, k * params.collision_margin)
    if best is None:
        return None
    confidence = posterior(joint, best, len(voters))
    if confidence < params.min_confidence:
        return None
    top = max(voters, key=lambda r: r.loglik(best))
    return OcrResult(best, top.raw, confidence, "views_agree", dict(sorted(joint.items(), key=lambda kv: -kv[1])),
                     top.logprobs)


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
        return OcrResult(None, None, 0.0, "no_text")
    if len(views) == 1:
        return views[0]
    accepted = [r for r in views if r.number]
    numbers = {r.number for r in accepted}
    if len(numbers) > 1:
        return _disagreement(accepted)
    if numbers:
        number = numbers.pop()
        dissent = {r_id: _rivals(r, number, params) for r_id, r in enumerate(views) if not r.number}
        dissent = {k: v for k, v in dissent.items() if v}
        if dissent and all(r.reason == "corrected" for r in accepted) and any(
                _lead(views[k], number) >= params.collision_margin for k in dissent):
            # A correction has spent the check digit's evidence choosing among doubtful characters: a second
            # misread elsewhere lets it choose a valid wrong number (TILU4608209 for TCLU4508209). A view that
            # credibly reads otherwise, and finds the correction far less likely than its own reading, vetoes it.
            return _disagreement(accepted)
        if dissent:
            # Weigh the dissent: the accepting views and the dissenting ones, summed, must prefer the number to
            # each rival as a single reading must prefer it to a runner-up, times ``view_margin``.
            weighing = accepted + [views[k] for k in dissent]
            if not all(_outweighs(number, c, weighing, params) for cs in dissent.values() for c in cs):
                return _disagreement(accepted)
        return max(accepted, key=lambda r: r.confidence)
    voters = [r for r in views if r.reason in VOTING and r.scores and r.logprobs is not None
              and _credible(r, next(iter(r.scores)), params)]   # a garbled line's "best" candidate is no vote
    if len(voters) >= 2:
        voted = _vote(voters, params)
        if voted is not None:
            return voted
    # Nothing accepted: report the view that came nearest (its candidates serve the RFID fusion), as the lines of
    # one frame are reported.
    return best_of(views)
