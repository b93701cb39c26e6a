import string

import numpy as np
import torch

from cargoscan.ocr.decode import constrained_beam, ctc_log_likelihood, greedy
from cargoscan.ocr.model import ALPHABET, encode
from ocr_helpers import confident, ctc_output


def test_greedy_merges_repeats_and_drops_blanks():
    # "88" needs a blank between the two 8s; a repeated 8 without blank collapses to one.
    lp = ctc_output(confident("1881"))
    assert greedy(lp).text == "1881"
    doubled = np.repeat(lp, 2, axis=0)   # every step twice: repeats merge, so the text is unchanged
    r = greedy(doubled)
    assert r.text == "1881"
    assert len(r.char_probs) == 4 and all(p > 0.9 for p in r.char_probs)


def test_ctc_likelihood_matches_torch_ctc_loss():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(20, 37))
    lp = torch.tensor(logits).log_softmax(-1)
    for text in ["45488855", "CSQU3054383", "1", "11"]:
        ref = -torch.nn.functional.ctc_loss(lp[:, None], torch.tensor([encode(text)]), torch.tensor([20]),
                                            torch.tensor([len(text)]), reduction="sum").item()
        assert np.isclose(ctc_log_likelihood(lp.numpy(), text), ref, atol=1e-6)


def test_ctc_likelihood_prefers_the_spelled_string():
    lp = ctc_output(confident("45488855"))
    assert ctc_log_likelihood(lp, "45488855") > ctc_log_likelihood(lp, "45488856") + 5
    assert ctc_log_likelihood(lp, "4" * 30) == -np.inf   # longer than the output can spell


def test_joined_lines_read_as_one_and_never_merge_a_repeat():
    from ocr_helpers import confident, ctc_output

    from cargoscan.ocr.identify import joined_runs

    top, bottom = ctc_output(confident("CSQ3")), ctc_output(confident("3054383"))
    runs = joined_runs([top, bottom])
    assert len(runs) == 1
    assert greedy(runs[0]).text == "CSQ33054383"     # the 3 ending one line and starting the next both count
    assert joined_runs([top]) == [] and len(joined_runs([top, bottom, top])) == 3


def _with_weak_letter(text: str, i: int, p: float) -> np.ndarray:
    """CTC output spelling ``text`` except character ``i``, which sits at a blank-dominated step with prob ``p``."""
    from ocr_helpers import C

    lp = np.exp(ctc_output(confident(text)))
    row = 2 * i + 1                                   # the step where character i peaks
    lp[row] = 1e-4
    lp[row, 0] = 1 - p
    lp[row, ALPHABET.index(text[i]) + 1] = p
    return np.log(lp / lp.sum(axis=1, keepdims=True))


def test_constrained_beam_puts_back_a_letter_the_best_path_drops():
    lp = _with_weak_letter("CSQU3054383", 1, 0.05)
    assert greedy(lp).text == "CQU3054383"               # the best path drops the S
    allowed = [string.ascii_uppercase] * 3 + ["UJZ"] + [string.digits] * 7
    best = constrained_beam(lp, allowed, beam=16)
    assert best[0][0] == "CSQU3054383"
    assert all(len(t) == 11 and t[3] in "UJZ" and t[4:].isdigit() for t, _ in best)
    # the beam's score is one alignment set of the exact likelihood: never above it
    assert best[0][1] <= ctc_log_likelihood(lp, best[0][0]) + 1e-6
    assert [s for _, s in best] == sorted((s for _, s in best), reverse=True)


def test_constrained_beam_needs_enough_steps():
    lp = ctc_output(confident("1234"))[:5]      # 5 steps cannot spell 11 characters
    assert constrained_beam(lp, [string.digits] * 11) == []


def test_batched_likelihoods_match_one_at_a_time():
    from cargoscan.ocr.decode import ctc_log_likelihoods

    rng = np.random.default_rng(1)
    lp = torch.tensor(rng.normal(size=(30, 37))).log_softmax(-1).numpy()
    texts = ["CSQU3054383", "45488855", "CSQU3054388", "11", "45488855", "X" * 40]
    batched = ctc_log_likelihoods(lp, texts)
    for text, value in zip(texts, batched):
        ref = -torch.nn.functional.ctc_loss(torch.tensor(lp)[:, None], torch.tensor([encode(text)]),
                                            torch.tensor([30]), torch.tensor([len(text)]), reduction="sum",
                                            zero_infinity=False).item()
        assert np.isclose(value, ref, atol=1e-6) or (np.isinf(value) and np.isinf(ref))
