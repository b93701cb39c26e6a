import numpy as np
import pytest

from cargoscan.training import metrics as M


def test_segmentation_scores_on_hand_made_masks():
    target = np.zeros((4, 4), int)
    target[:2, :2] = 1                      # 4 pixels of class 1
    pred = np.zeros((4, 4), int)
    pred[:2, :3] = 1                        # 6 predicted: 4 right, 2 wrong
    iou, dice = M.segmentation_scores(M.pixel_confusion(pred, target, 3))
    assert iou[1] == pytest.approx(4 / 6) and dice[1] == pytest.approx(8 / 10)
    assert iou[0] == pytest.approx(10 / 12)
    assert np.isnan(iou[2])                 # absent in both: not scored


def test_top_k_mean_ignores_single_hot_pixels():
    m = np.zeros((10, 10))
    m[0, 0] = 1.0
    assert M.top_k_mean(m, 4) == pytest.approx(0.25)
    m[5:7, 5:7] = 0.8
    assert M.top_k_mean(m, 4) == pytest.approx((1 + 0.8 * 3) / 4)


def test_threat_map_softmax_and_multilabel():
    p = np.zeros((3, 1, 1))
    p[1], p[2] = 0.5, 0.4
    assert M.threat_map(p, [1, 2])[0, 0] == pytest.approx(0.9)
    assert M.threat_map(p, [1, 2], multilabel=True)[0, 0] == pytest.approx(1 - 0.5 * 0.6)


def test_threshold_meets_the_false_alarm_target():
    clean = np.array([0.1, 0.2, 0.3, 0.9])
    t = M.threshold_for_far(clean, 0.0)
    assert t > 0.9 and M.rates(clean, np.zeros(4, bool), t)["false_alarm_rate"] == 0
    t25 = M.threshold_for_far(clean, 0.25)   # one of four may alarm
    assert 0.3 < t25 <= 0.9 and M.rates(clean, np.zeros(4, bool), t25)["false_alarm_rate"] == 0.25


def test_rates_and_curves_on_crafted_wagons():
    scores = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.75])
    positive = np.array([1, 1, 0, 0, 0, 1], bool)
    r = M.rates(scores, positive, 0.72)
    assert r["detection_rate"] == 1.0 and r["false_alarm_rate"] == 0.0
    r = M.rates(scores, positive, 0.78)
    assert r["detection_rate"] == pytest.approx(2 / 3)
    c = M.curves(scores, positive)
    assert c["auroc"] == pytest.approx(1.0) and c["ap"] == pytest.approx(1.0)
    c = M.curves(scores[::-1] * 0 + np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), positive)
    assert c["auroc"] < 1.0
    assert np.isnan(M.curves(scores, np.ones(6, bool))["auroc"])   # one class only: undefined


def test_pixel_confusion_skips_unlabelled_pixels():
    target = np.array([[1, 1, 255, 255]])
    pred = np.array([[1, 0, 2, 2]])
    c = M.pixel_confusion(pred, target, 3)
    assert c.sum() == 2 and c[1, 1] == 1 and c[1, 0] == 1 and c[:, 2].sum() == 0
