import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ocr_helpers import confident, ctc_output

from cargoscan.ids import (
    container_check_digit,
    is_valid_container,
    is_valid_wagon,
    make_wagon_number,
    wagon_check_digit,
)
from cargoscan.ocr.config import FusionParams
from cargoscan.ocr.decode import greedy
from cargoscan.ocr.fusion import OcrResult, best_of, candidates, correct, fuse_container, fuse_wagon
from cargoscan.ocr.policy import Reason, Status

WAGON = "45488855"   # make sure the fixture is itself valid (it is the contract's example)


def test_fixture_numbers_pass_their_check_digits():
    assert is_valid_wagon(WAGON) and wagon_check_digit(WAGON[:7]) == int(WAGON[7])
    assert container_check_digit("CSQU305438") == 3


def test_clean_reading_is_accepted_as_read():
    res = correct(greedy(ctc_output(confident(WAGON))), "wagon")
    assert res.number == WAGON and res.reason == Reason.READ and res.confidence > 0.9


def test_letter_in_digit_position_is_coerced_and_checked():
    # O for 0, B for 8, S for 5: typical stencil confusions in an all-digit wagon number.
    number = "40012345"
    number = number[:7] + str(wagon_check_digit(number[:7]))
    misread = number.replace("0", "O")
    res = correct(greedy(ctc_output(confident(misread))), "wagon")
    assert res.number == number and res.reason == Reason.CORRECTED


def test_iso6346_owner_code_digit_is_coerced_to_letter():
    # "C5QU3054383": the S of the owner code read as 5.
    res = correct(greedy(ctc_output(confident("C5QU3054383"))), "container")
    assert res.number == "CSQU3054383"


def test_uncertain_digit_resolved_by_check_digit():
    # The network is torn between 3 and 8 in one position; only one choice passes the Luhn check.
    dists = confident(WAGON)
    dists[2] = {"4": 0.5, "9": 0.45}
    res = correct(greedy(ctc_output(dists)), "wagon")
    assert res.number == WAGON


def test_two_similar_valid_corrections_are_ambiguous_not_guessed():
    # Two positions equally torn; several combinations pass the check digit with similar likelihood.
    rng = np.random.default_rng(3)
    found = False
    for _ in range(200):
        number = make_wagon_number("covered", rng)
        alt = [c for c in "0123456789" if c != number[3]]
        for a in alt:
            for b in "0123456789":
                other = number[:3] + a + number[4] + b + number[6:]
                if b != number[5] and is_valid_wagon(other):
                    dists = confident(number)
                    dists[3] = {number[3]: 0.5, a: 0.5}
                    dists[5] = {number[5]: 0.5, b: 0.5}
                    res = correct(greedy(ctc_output(dists)), "wagon")
                    assert res.number is None and res.reason == Reason.AMBIGUOUS
                    found = True
                    break
            if found:
                break
        if found:
            break
    assert found


def test_garbage_and_wrong_length_are_unreadable():
    assert correct(greedy(ctc_output(confident("12345"))), "wagon").number is None
    assert correct(None, "wagon").reason == Reason.NO_TEXT
    # a flat distribution: no candidate the network supports
    flat = [{c: 0.1 for c in "0123456789"} for _ in range(8)]
    assert correct(greedy(ctc_output(flat)), "wagon").number is None


def test_candidates_all_pass_check_digit():
    dists = confident(WAGON)
    dists[0] = {"4": 0.6, "A": 0.3}
    cands = candidates(greedy(ctc_output(dists)), "wagon")
    assert WAGON in cands and all(is_valid_wagon(c) for c in cands)


# --- the fusion truth table (contract C) --------------------------------------------------------------------

OTHER = "45488863" if is_valid_wagon("45488863") else next(
    f"4548886{d}" for d in "0123456789" if is_valid_wagon(f"4548886{d}"))


def _ocr(number, raw=None, scores=None):
    return OcrResult(number, raw if raw is not None else number, 0.97 if number else 0.0,
                     Reason.READ if number else Reason.NO_VALID_CANDIDATE, scores or {})


@pytest.mark.parametrize(
    "ocr, rfid, status, number",
    [
        (_ocr(WAGON), [WAGON], Status.CONFIRMED, WAGON),
        (_ocr(WAGON), [], Status.OCR_ONLY, WAGON),
        (_ocr(WAGON), ["45488856"], Status.OCR_ONLY, WAGON),          # corrupt tag: fails its check digit
        (_ocr(None, raw=""), [WAGON], Status.RFID_ONLY, WAGON),
        (None, [WAGON], Status.RFID_ONLY, WAGON),
        (_ocr(WAGON), [OTHER], Status.CONFLICT, None),                 # both valid, different: operator decides
        (_ocr(None, raw=""), [WAGON, OTHER], Status.CONFLICT, None),   # two readers disagree
        (_ocr(None, raw="4548"), ["45488856"], Status.UNREADABLE, None),
        (None, [], Status.UNREADABLE, None),
    ],
)
def test_fusion_truth_table(ocr, rfid, status, number):
    rec = fuse_wagon(ocr, rfid)
    assert rec["status"] == status
    assert rec["number"] == number
    if rec["number"] is not None:
        assert is_valid_wagon(rec["number"])


def test_ambiguous_ocr_confirmed_by_rfid_naming_one_of_its_candidates():
    ocr = OcrResult(None, WAGON, 0.5, Reason.AMBIGUOUS, {WAGON: -1.0, OTHER: -1.2})
    assert fuse_wagon(ocr, [WAGON])["status"] == Status.CONFIRMED
    # but an RFID number the OCR found far less likely than its own best is only the RFID's word
    ocr = OcrResult(None, WAGON, 0.5, Reason.LOW_CONFIDENCE, {WAGON: -1.0, OTHER: -9.0})
    assert fuse_wagon(ocr, [OTHER])["status"] == Status.RFID_ONLY


def test_container_record():
    ok = fuse_container([_ocr("CSQU3054383")])
    assert ok["status"] == Status.OCR_ONLY and is_valid_container(ok["number"])
    assert fuse_container([_ocr(None, raw="CSQU")])["status"] == Status.UNREADABLE
    assert fuse_container([])["number"] is None


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), noise=st.floats(0.0, 0.6))
def test_no_accepted_number_fails_its_check_digit_and_no_conflict_is_resolved(seed, noise):
    rng = np.random.default_rng(seed)
    truth = make_wagon_number("gondola", rng)
    dists = []
    for ch in truth:   # each character: the truth with prob 1-noise, a random rival with the rest
        rival = str(rng.integers(10))
        dists.append({ch: 1 - noise, rival: noise} if rival != ch else {ch: 1.0})
    res = correct(greedy(ctc_output(dists)), "wagon")
    rfid = make_wagon_number("gondola", rng)
    rec = fuse_wagon(res, [rfid])
    if rec["number"] is not None:
        assert is_valid_wagon(rec["number"])
    if res.number is not None and res.number != rfid:
        assert rec["status"] == Status.CONFLICT and rec["number"] is None


def test_confident_reading_with_wrong_check_digit_is_not_forced_into_a_valid_number():
    # Every character read with certainty and the check digit fails: any valid number means overruling the
    # network somewhere, which is a guess. It must come out unread.
    res = correct(greedy(ctc_output(confident("CSQU3054384"))), "container")
    assert res.number is None and res.reason in (Reason.LOW_CONFIDENCE, Reason.AMBIGUOUS, Reason.NO_VALID_CANDIDATE)
    res = correct(greedy(ctc_output(confident("45488856"))), "wagon")
    assert res.number is None


def test_correction_refused_when_too_many_characters_are_doubtful():
    # The owner code read with three unsure letters and a doubtful digit: a valid combination exists, but
    # choosing it would be a guess.
    dists = confident("CSQU3054383")
    dists[0] = {"C": 0.3, "O": 0.35, "G": 0.3}
    dists[1] = {"S": 0.4, "5": 0.3, "8": 0.25}
    dists[2] = {"Q": 0.4, "O": 0.45}
    dists[6] = {"5": 0.5, "6": 0.45}
    res = correct(greedy(ctc_output(dists)), "container")
    assert res.number is None


def test_letter_dropped_by_the_best_path_is_restored_only_with_evidence():
    from test_decode import _with_weak_letter

    weak = _with_weak_letter("CSQU3054383", 1, 0.3)
    assert greedy(weak).text == "CQU3054383"
    res = correct(greedy(weak), "container")
    assert res.number == "CSQU3054383" and res.reason == Reason.CORRECTED
    # Without the beam only substitutions are tried: a reading one character short stays unread.
    assert correct(greedy(weak), "container", FusionParams(beam=0)).number is None
    # Too little evidence for the S, or none at all: the check digit alone never chooses the missing letter.
    for p in (0.05, 1e-4):
        assert correct(greedy(_with_weak_letter("CSQU3054383", 1, p)), "container").number is None
    # At the line's end the crop may have cut the glyph: the same evidence is not enough there.
    assert correct(greedy(_with_weak_letter("CSQU3054383", 0, 0.3)), "container").number is None


def test_valid_neighbours_differ_in_one_character_and_include_colliding_letters():
    from cargoscan.ocr.fusion import _neighbours

    code = "TGHU1925614"
    assert is_valid_container(code)
    near = _neighbours(code, "container")
    assert near and all(is_valid_container(n) and sum(a != b for a, b in zip(n, code)) == 1 for n in near)
    # G and Q have the same ISO 6346 value mod 11: the check digit cannot tell them apart, the network must.
    assert "TQHU1925614" in near
    # A wagon's Luhn check digit catches every single-digit change: no valid neighbours at all.
    assert _neighbours(WAGON, "wagon") == []


def test_a_colliding_letter_read_without_a_clear_margin_is_ambiguous():
    dists = confident("TGHU1925614")
    dists[1] = {"G": 0.7, "Q": 0.3}                  # Q would pass the check digit just as well
    res = correct(greedy(ctc_output(dists)), "container")
    assert res.number is None and res.reason == Reason.AMBIGUOUS
    dists[1] = {"G": 0.995, "Q": 0.001}
    assert correct(greedy(ctc_output(dists)), "container").number == "TGHU1925614"


def _three_doubtful(rival: tuple[str, str] | None = None) -> list[dict[str, float]]:
    """WAGON read with its fourth digit wrong (9 for 8) and two more digits unsure; ``rival``: the second-best
    classes of those two, spelling a valid number with them."""
    dists = confident(WAGON)
    dists[3] = {"9": 0.5, "8": 0.45}
    a, b = rival or ("X", "X")   # an X can stand nowhere in a wagon number: no rival
    dists[0] = {"4": 0.6, a: 0.35}
    dists[5] = {"8": 0.6, b: 0.35}
    return dists


def test_three_doubtful_characters_need_a_correction_that_beats_every_two_change_rival():
    reading = greedy(ctc_output(_three_doubtful()))
    assert reading.text != WAGON
    # Nothing else valid is near: accepted once its two-change rivals were checked, refused under the old rule.
    res = correct(reading, "wagon")
    assert res.number == WAGON and res.reason == Reason.CORRECTED
    assert correct(reading, "wagon", FusionParams(max_doubtful_checked=2)).reason == Reason.TOO_DOUBTFUL
    # A valid number two changes away that the network finds nearly as likely: the correction is a guess.
    rival = next((a, b) for a in "0123456789" for b in "0123456789"
                 if a != "4" and b != "8" and is_valid_wagon(a + WAGON[1:5] + b + WAGON[6:]))
    reading = greedy(ctc_output(_three_doubtful(rival)))
    assert correct(reading, "wagon").number is None
    # ... refused by the two-change check itself, even when no other search had found that rival.
    assert _alone(reading).reason == Reason.TOO_DOUBTFUL
    assert _alone(reading).trace[-1].rule == "two_changes" and not _alone(reading).trace[-1].passed
    clean = _alone(greedy(ctc_output(_three_doubtful())))
    assert clean.number == WAGON and clean.trace[-1].rule == "two_changes" and clean.trace[-1].passed


def _alone(reading):
    """The policy's decision on WAGON as the only valid candidate of ``reading`` (no other search ran)."""
    from cargoscan.ocr.decode import ctc_log_likelihood
    from cargoscan.ocr.fusion import _doubt
    from cargoscan.ocr.policy import Evidence, decide

    scored = {WAGON: ctc_log_likelihood(reading.logprobs, WAGON)}
    return decide(Evidence("line", scored, reading.text), FusionParams(),
                  _doubt(reading, "wagon", scored, FusionParams()))


def test_a_valid_rival_one_letter_away_needs_the_collision_margin():
    # BMOU/BWOU4747064 both pass the check digit: a reading sure enough for the ordinary margin (3 nats) but not for
    # the collision margin (5 nats) is refused, where it would have been accepted before (a wrong W for M in the
    # pipeline run).
    dists = confident("TGHU1925614")
    dists[1] = {"G": 0.98, "Q": 0.02}
    res = correct(greedy(ctc_output(dists)), "container")
    lead = res.scores["TGHU1925614"] - res.scores["TQHU1925614"]
    assert 3.0 < lead < 5.0
    assert res.number is None and res.reason == Reason.AMBIGUOUS
    loose = correct(greedy(ctc_output(dists)), "container", FusionParams(collision_margin=3.0))
    assert loose.number == "TGHU1925614"


def test_best_of_reports_the_refusal_whose_best_candidate_is_likeliest():
    # An owner code over its serial, read joined, is a near miss (OOLU vs OLIU); the serial joined to the size-type
    # line below is garbage whose far-fetched candidates still have a clear (relative) favourite. The near miss is
    # the refusal worth a second look, whatever the posteriors say.
    near = OcrResult(None, "00LU2789533", 0.93, Reason.AMBIGUOUS, {"OOLU2789533": -3.4, "OLIU2789533": -6.1})
    garbage = OcrResult(None, "278953322G1", 0.96, Reason.AMBIGUOUS, {"TBUJ5332231": -66.9, "JBUJ5332231": -70.3})
    nothing = OcrResult(None, "22G1", 0.0, Reason.NO_VALID_CANDIDATE)
    assert best_of([nothing, garbage, near]) is near
    assert best_of([nothing]) is nothing
    accepted = OcrResult("OOLU2789533", "OOLU2789533", 0.99, Reason.READ, {"OOLU2789533": -0.2})
    assert best_of([garbage, accepted, near]) is accepted                   # an accepted reading always wins
    rival = OcrResult("OLIU2789533", "OLIU2789533", 0.99, Reason.READ, {"OLIU2789533": -0.1})
    assert best_of([accepted, rival]).reason == Reason.AMBIGUOUS                 # two accepted numbers: neither
