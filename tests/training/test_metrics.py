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
