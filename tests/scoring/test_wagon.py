"""The one wagon score: hand-made maps, the streamed top-k, the operating point and the decision."""

import numpy as np
import pytest

from cargoscan.scoring import Calibrator
from cargoscan.scoring import wagon as W
from cargoscan.training import metrics as M


def test_wagon_score_ignores_single_hot_pixels():
    m = np.zeros((10, 10))
    m[0, 0] = 1.0
    assert W.wagon_score(m, 4) == pytest.approx(0.25)
    m[5:7, 5:7] = 0.8
    assert W.wagon_score(m, 4) == pytest.approx((1 + 0.8 * 3) / 4)
    assert W.wagon_score(np.zeros((0, 0)), 4) == 0.0


def test_streamed_top_k_gives_the_whole_map_score():
    rng = np.random.default_rng(0)
    m = rng.random((40, 300)).astype(np.float32)
    best = np.zeros(0, np.float32)
    for c0 in range(0, 300, 37):                     # column windows, as the engine streams a wagon
        best = W.merge_topk(best, m[:, c0:c0 + 37], 16)
    assert best.size == 16
    assert W.wagon_score(best, 16) == pytest.approx(W.wagon_score(m, 16), rel=1e-6)


def test_threat_probability_softmax_and_multilabel():
    p = np.zeros((3, 1, 1))
    p[1], p[2] = 0.5, 0.4
    assert W.threat_probability(p, [1, 2])[0, 0] == pytest.approx(0.9)
    assert W.threat_probability(p, np.array([False, True, True]), multilabel=True)[0, 0] == pytest.approx(1 - 0.5 * 0.6)


def test_threshold_meets_the_false_alarm_target():
    clean = np.array([0.1, 0.2, 0.3, 0.9])
    t = W.threshold_for_far(clean, 0.0)
    assert t > 0.9 and M.rates(clean, np.zeros(4, bool), t)["false_alarm_rate"] == 0
    t25 = W.threshold_for_far(clean, 0.25)   # one of four may alarm
    assert 0.3 < t25 <= 0.9 and M.rates(clean, np.zeros(4, bool), t25)["false_alarm_rate"] == 0.25
    assert W.threshold_for_far(np.array([]), 0.01) == 0.5


def test_decision_is_calibrated_and_fails_closed():
    cal = Calibrator((0.0, 0.5, 1.0), (0.0, 0.2, 1.0))
    d = W.decide(0.75, 0.6, cal)
    assert d.over and d.probability == pytest.approx(0.6)
    assert not W.decide(0.5, 0.6, cal).over
    nan = W.decide(float("nan"), 0.6, cal)
    assert nan.over and nan.probability == 1.0


def test_evaluate_and_the_engine_share_the_score_function():
    from cargoscan.inspect import tiling
    from cargoscan.training import evaluate

    assert evaluate.W.wagon_score is W.wagon_score is tiling.W.wagon_score
    assert tiling.W.threat_probability is evaluate.W.threat_probability
