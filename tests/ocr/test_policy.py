"""The acceptance policy's rule table on hand-made evidence: each decision, its reason and its trace."""

import dataclasses
import json
import math

import pytest

from cargoscan.ocr.config import FusionParams
from cargoscan.ocr.fusion import OcrResult, fuse_wagon
from cargoscan.ocr.policy import RULES, Doubt, Evidence, Reason, Status, decide, lead
from cargoscan.ocr.views import combine_views

WAGON, OTHER = "45488855", "45488863"     # valid wagon numbers: a Luhn check digit has no valid neighbours
M, W = "BMOU4747064", "BWOU4747064"       # M and W have the same ISO 6346 value mod 11: both pass
G, Q = "TGHU1925614", "TQHU1925614"       # so do G and Q
P = FusionParams()                        # ambiguity 3, correction 3, collision 5, view_margin 1.5, cost 4.6


def trace(decision) -> list[tuple]:
    """The trace as (rule, achieved, needed, passed), leads rounded to what the cases were built with."""
    return [(c.rule, round(c.achieved, 6), c.needed, c.passed) for c in decision.trace]


def test_the_table_names_fusion_parameters_and_unique_rules():
    fields = {f.name for f in dataclasses.fields(FusionParams)}
    assert all(r.margin in fields and (isinstance(r.times, float) or r.times in fields) for r in RULES)
    assert len({r.name for r in RULES}) == len(RULES)
    assert lead({"A": -1.0, "B": -4.5, "C": -9.0}, "A") == 3.5 and lead({"A": -1.0}, "A") == math.inf


def test_a_clean_read_passes_the_runner_up_and_collision_rules():
    res = decide(Evidence("line", {WAGON: -0.2, OTHER: -9.0}, WAGON), P, Doubt(reading_loglik=-0.2))
    assert (res.number, res.reason) == (WAGON, Reason.READ)
    assert trace(res) == [("runner_up", 8.8, 3.0, True), ("collision", math.inf, 5.0, True)]


@pytest.mark.parametrize("rival, best", [(W, M), (Q, G)])
@pytest.mark.parametrize("gap, accepted", [(4.0, False), (5.0, True), (6.5, True)])
def test_a_one_character_collision_is_decided_only_past_the_collision_margin(rival, best, gap, accepted):
    # Both pass the check digit: only the network can tell them apart, and it must be surer than for any runner-up.
    res = decide(Evidence("line", {best: -0.5, rival: -0.5 - gap}, best), P, Doubt(reading_loglik=-0.5))
    assert res.number == (best if accepted else None)
    assert res.reason == (Reason.READ if accepted else Reason.AMBIGUOUS)
    assert trace(res) == [("runner_up", gap, 3.0, True), ("collision", gap, 5.0, accepted)]


def test_a_far_runner_up_is_held_to_the_ambiguity_margin_only():
    far = "CSQU3054383"
    res = decide(Evidence("line", {M: -0.5, far: -3.0, W: -9.0}, M), P, Doubt(reading_loglik=-0.5))
    assert res.number is None and res.reason == Reason.AMBIGUOUS
    assert trace(res) == [("runner_up", 2.5, 3.0, False)]          # the first rule failed: the rest not checked


@pytest.mark.parametrize("gap, accepted", [(3.5, False), (4.5, True)])
def test_a_corrected_reading_needs_the_correction_margin(gap, accepted):
    params = FusionParams(correction_margin=4.0)
    misread = "45488B55"                                               # a B where only digits stand
    res = decide(Evidence("line", {WAGON: -1.0, OTHER: -1.0 - gap}, misread), params, Doubt(reading_loglik=-0.5))
    assert res.number == (WAGON if accepted else None)
    assert res.reason == (Reason.CORRECTED if accepted else Reason.AMBIGUOUS)
    expected = [("runner_up", gap, 3.0, True), ("correction", gap, 4.0, accepted)]
    if accepted:     # the correction costs 0.5 nats against what was read; at most 4.6 may be
        expected += [("collision", math.inf, 5.0, True), ("correction_cost", -0.5, -4.6, True)]
    assert trace(res) == expected


@pytest.mark.parametrize("credit, accepted", [(0.0, False), (1.0, True)])
def test_a_costly_correction_is_refused_unless_the_format_forced_it(credit, accepted):
    evidence = Evidence("line", {WAGON: -6.0, OTHER: -20.0}, "45488B55")
    res = decide(evidence, P, Doubt(reading_loglik=-0.5, credit=credit))
    assert res.reason == (Reason.CORRECTED if accepted else Reason.LOW_CONFIDENCE)
    assert trace(res)[-1] == ("correction_cost", -5.5 + credit, -4.6, accepted)


def test_a_correction_among_too_many_doubtful_characters_must_beat_its_two_change_rivals():
    evidence = Evidence("line", {WAGON: -1.0}, "45489855")
    close = Doubt(reading_loglik=-1.5, doubtful=3, two_change=lambda: {OTHER: -4.0})
    res = decide(evidence, P, close)
    assert res.number is None and res.reason == Reason.TOO_DOUBTFUL
    assert trace(res)[-1] == ("two_changes", 3.0, 5.0, False)
    assert decide(evidence, P, dataclasses.replace(close, two_change=lambda: {OTHER: -7.0})).number == WAGON
    too_many = decide(evidence, P, dataclasses.replace(close, doubtful=4))
    assert too_many.reason == Reason.TOO_DOUBTFUL and "two_changes" not in [c.rule for c in too_many.trace]


def _summed(*views: dict[str, float]) -> Evidence:
    return Evidence("camera", {c: sum(v[c] for v in views) for c in views[0]}, looks=len(views))


@pytest.mark.parametrize("each, accepted", [(3.9, True), (2.9, False)])
def test_two_cameras_summed_must_clear_the_view_margin(each, accepted):
    # Each camera alone is ambiguous (G leads Q by less than 5 nats); summed, G must lead by 1.5 x 5.
    view = {G: -0.1, Q: -0.1 - each}
    res = decide(_summed(view, view), P)
    assert res.number == (G if accepted else None)
    assert res.reason == (Reason.VIEWS_AGREE if accepted else Reason.AMBIGUOUS)
    assert trace(res) == [("cameras_runner_up", 2 * each, 4.5, True), ("cameras_collision", 2 * each, 7.5, accepted)]


def test_cameras_pulling_apart_are_refused():
    res = decide(_summed({G: -0.1, Q: -4.0}, {G: -4.0, Q: -0.1}), P)
    assert res.number is None and res.reason == Reason.AMBIGUOUS
    assert trace(res) == [("cameras_runner_up", 0.0, 4.5, False)]


def test_views_that_accept_different_numbers_are_refused():
    a = OcrResult(G, G, 0.99, Reason.READ, {G: -0.1, Q: -9.0})
    b = OcrResult(Q, Q, 0.99, Reason.READ, {Q: -0.1, G: -9.0})
    res = combine_views([a, b])
    assert res.number is None and res.reason == Reason.VIEWS_DISAGREE


@pytest.mark.parametrize("accepted_view, kept", [({G: -0.5, Q: -6.0}, False), ({G: -0.1, Q: -13.9}, True)])
def test_a_credible_dissent_is_weighed_summed_over_the_views(accepted_view, kept):
    accepted = OcrResult(G, G, 0.99, Reason.READ, accepted_view)
    dissent = OcrResult(None, Q, 0.5, Reason.AMBIGUOUS, {Q: -0.5, G: -4.5})     # prefers Q by 4 nats: credible
    res = combine_views([accepted, dissent])
    assert res.number == (G if kept else None)
    assert res.reason == (Reason.READ if kept else Reason.VIEWS_DISAGREE)
    summed_lead = accepted_view[G] - 4.5 - (accepted_view[Q] - 0.5)
    assert trace(res) == [("dissent", 4.0, 3.0, True), ("weigh_far", math.inf, 4.5, True),
                          ("weigh_collision", round(summed_lead, 6), 7.5, kept)]


def test_rfid_agreeing_and_disagreeing():
    torn = OcrResult(None, WAGON, 0.5, Reason.AMBIGUOUS, {WAGON: -1.0, OTHER: -1.2})
    rec = fuse_wagon(torn, [OTHER])                        # the tag names one of the OCR's near-best readings
    assert (rec["number"], rec["status"]) == (OTHER, Status.CONFIRMED)
    assert rec["trace"] == [{"rule": "ocr_over_tag", "achieved": 0.2, "needed": 3.0, "passed": False}]
    sure = OcrResult(None, WAGON, 0.5, Reason.LOW_CONFIDENCE, {WAGON: -1.0, OTHER: -9.0})
    rec = fuse_wagon(sure, [OTHER])                        # the OCR found the tag's number far less likely
    assert (rec["status"], rec["trace"][-1]["passed"]) == (Status.RFID_ONLY, True)
    read = decide(Evidence("line", {WAGON: -0.2, OTHER: -9.0}, WAGON), P, Doubt(reading_loglik=-0.2))
    ocr = OcrResult(read.number, WAGON, read.confidence, read.reason, {WAGON: -0.2, OTHER: -9.0}, None, read.trace)
    agree, disagree = fuse_wagon(ocr, [WAGON]), fuse_wagon(ocr, [OTHER])
    assert agree["status"] == Status.CONFIRMED and disagree["status"] == Status.CONFLICT
    assert disagree["number"] is None
    # The OCR's own rules go into the record, JSON-friendly (no rival at all: no finite lead).
    assert json.loads(json.dumps(agree))["trace"] == [
        {"rule": "runner_up", "achieved": 8.8, "needed": 3.0, "passed": True},
        {"rule": "collision", "achieved": None, "needed": 5.0, "passed": True}]
    assert "trace" not in fuse_wagon(None, [WAGON])       # nothing checked: the record is as before
