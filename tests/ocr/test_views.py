"""Combining the readings of one identifier's views (the portal's cameras on both sides of the track)."""

import numpy as np
from ocr_helpers import confident, ctc_output

from cargoscan.ids import is_valid_container
from cargoscan.ocr.config import FusionParams
from cargoscan.ocr.decode import greedy
from cargoscan.ocr.fusion import OcrResult, correct
from cargoscan.ocr.policy import Reason
from cargoscan.ocr.views import combine_views

CODE = "TGHU1925614"          # TQHU1925614 passes the same check digit (ISO 6346 letter values collide)
RIVAL = "TQHU1925614"


def _read(dists) -> OcrResult:
    return correct(greedy(ctc_output(dists)), "container")


def _torn(p_g: float) -> OcrResult:
    """A view that reads CODE with its G against Q at ``p_g`` : ``1 - p_g``."""
    dists = confident(CODE)
    dists[1] = {"G": p_g, "Q": 1 - p_g}
    return _read(dists)


def _garbage(seed: int = 0) -> OcrResult:
    rng = np.random.default_rng(seed)
    return correct(greedy(np.log(rng.dirichlet(np.ones(37), size=25))), "container")


def test_both_rivals_pass_the_check_digit():
    assert is_valid_container(CODE) and is_valid_container(RIVAL)


def test_one_view_is_that_view():
    res = _read(confident(CODE))
    assert combine_views([res]) is res
    assert combine_views([None, res]) is res
    assert combine_views([]).reason == Reason.NO_TEXT and combine_views([None]).number is None


def test_views_that_accept_different_numbers_are_never_resolved():
    a = _read(confident(CODE))
    b = _read(confident(RIVAL))
    assert a.number == CODE and b.number == RIVAL
    res = combine_views([a, b])
    assert res.number is None and res.reason == Reason.VIEWS_DISAGREE


def test_an_accepted_view_stands_when_the_other_saw_nothing_or_garbage():
    a = _read(confident(CODE))
    for other in (OcrResult(None, None, 0.0, Reason.NO_TEXT), _garbage(1), _garbage(2)):
        assert other.number is None
        assert combine_views([a, other]).number == CODE
        assert combine_views([other, a]).number == CODE


def test_an_accepted_view_is_vetoed_by_a_view_that_credibly_prefers_a_rival():
    a = _read(confident(CODE))
    prefers_rival = _torn(0.1)             # reads Q nine times in ten: Q by ~2.2 nats, short of every margin
    assert prefers_rival.number is None and next(iter(prefers_rival.scores)) == RIVAL
    assert combine_views([a, prefers_rival]).number == CODE     # a lead under the margin does not veto
    strongly = _torn(0.02)                 # Q by ~3.9 nats: more than the ambiguity margin, short of the collision's
    assert strongly.number is None
    res = combine_views([a, strongly])
    assert res.number is None and res.reason == Reason.VIEWS_DISAGREE


def test_two_ambiguous_views_that_agree_settle_the_reading():
    # Each view prefers G by ~3.9 nats: enough for the ordinary margin, not for the collision margin (5), so each
    # alone is ambiguous; together they lead by ~7.8 nats >= 1.5 x 5.
    one = _torn(0.98)
    assert one.number is None and one.reason == Reason.AMBIGUOUS
    both = combine_views([one, _torn(0.98)])
    assert both.number == CODE and both.reason == Reason.VIEWS_AGREE and both.confidence > 0.9
    weak = _torn(0.95)                                  # ~2.9 nats each, 5.9 together: short of 7.5
    assert weak.number is None
    assert combine_views([weak, _torn(0.95)]).number is None


def test_ambiguous_views_pulling_apart_stay_unreadable():
    res = combine_views([_torn(0.98), _torn(0.02)])
    assert res.number is None


def test_views_that_read_nothing_valid_do_not_vote():
    # A garbage view's likelihoods of valid numbers are noise: summed in, they could flip a close call.
    res = combine_views([_torn(0.98), _garbage(3), _garbage(4)])
    assert res.number is None


def test_combined_margins_follow_the_parameters():
    assert combine_views([_torn(0.98), _torn(0.98)], FusionParams(view_margin=2.0)).number is None
    assert combine_views([_torn(0.95), _torn(0.95)], FusionParams(view_margin=1.0, collision_margin=5.5)).number \
        == CODE


def test_a_doubtful_dissent_is_weighed_against_a_clean_reading():
    # Camera 1 reads G against Q at 1e6 : 1 (13.8 nats); camera 2 prefers Q by 3.5 nats: a credible rival there,
    # but the sum still prefers G by 10.3 nats >= 1.5 x the collision margin: the clean camera outweighs it.
    clean = correct(greedy(ctc_output(confident(CODE), floor=1e-6)), "container")
    assert clean.number == CODE
    dists = confident(CODE)
    dists[1] = {"G": 0.03, "Q": 0.97}
    doubtful = _read(dists)
    assert doubtful.number is None and next(iter(doubtful.scores)) == RIVAL
    assert combine_views([clean, doubtful]).number == CODE
    # A sure dissent (Q by ~9 nats) is not outweighed: the cameras disagree.
    dists[1] = {"G": 0.0001, "Q": 0.9999}
    sure = _read(dists)
    assert sure.number is None or sure.number == RIVAL
    assert combine_views([clean, sure]).reason == Reason.VIEWS_DISAGREE


def test_two_costly_corrections_to_the_same_number_settle_it_together():
    # Each camera read the serial's "1" as a "7" (a smear across its top), with little left for the "1": alone
    # the check digit's correction costs ~5.5 nats, more than a correction may (4.6); together they agree.
    dists = confident(CODE)
    dists[4] = {"7": 0.995, "1": 0.004}
    one = _read(dists)
    assert one.number is None and one.reason == Reason.LOW_CONFIDENCE
    assert next(iter(one.scores)) == CODE
    both = combine_views([one, _read(dists)])
    assert both.number == CODE and both.reason == Reason.VIEWS_AGREE
    # Garbage in the other camera: one refused correction stays refused.
    assert combine_views([one, _garbage(5)]).number is None


def test_a_garbled_line_that_happens_to_be_ambiguous_does_not_vote():
    # A crop of two lines run together can still have two valid "candidates" close to each other, both absurdly
    # unlikely (-70 nats). Summed in, its likelihoods would be noise deciding the vote: here they would hand the
    # rival a 26-nat lead. Such a view does not vote, and one near-valid view alone settles nothing.
    garbled = OcrResult(None, "TBUJ5332231", 0.0, Reason.AMBIGUOUS, {RIVAL: -70.0, "JQHU1925614": -71.0},
                        ctc_output(confident("XXXX")))
    assert combine_views([_torn(0.98), garbled]).number is None


def test_a_correction_is_vetoed_by_a_view_that_reads_otherwise_by_the_collision_margin():
    # Camera 1 misread two characters (C->Q, 5->6) and the check digit "corrected" the Q into a valid wrong code;
    # camera 2, dirty, read another valid code credibly and finds the correction 16.8 nats less likely.
    wrong, truth = "TILU4608209", "TCLU4508209"
    assert is_valid_container(wrong) and is_valid_container(truth)
    accepted = OcrResult(wrong, "TQLU4608209", 0.99, Reason.CORRECTED, {wrong: -3.3, "TSLU4608209": -10.7})
    dirty = OcrResult(None, "KU54508209", 0.5, Reason.AMBIGUOUS,
                      {"KWTU4508209": -6.3, "KCTU4508209": -7.8, wrong: -23.1})
    res = combine_views([accepted, dirty])
    assert res.number is None and res.reason == Reason.VIEWS_DISAGREE
    # The same dissent against a number read as it stands is weighed (rule 2), not obeyed: camera 1 finds the
    # dirty camera's code impossible, so the summed likelihoods keep the reading.
    read = OcrResult(wrong, wrong, 0.99, Reason.READ, {wrong: -1.9, "IILU4508209": -5.4})
    assert combine_views([read, dirty]).number == wrong
    # A correction that the other view finds only a little less likely than its own reading is weighed too.
    mild = OcrResult(None, "KU54508209", 0.5, Reason.AMBIGUOUS, {"KWTU4508209": -6.3, wrong: -10.3})
    assert combine_views([accepted, mild]).number == wrong
