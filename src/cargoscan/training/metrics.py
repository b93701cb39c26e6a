"""Detection and segmentation metrics: pure functions on arrays, so they can be checked on hand-made masks.

The wagon score itself and its operating point are defined once, in :mod:`cargoscan.scoring.wagon`.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.classification import (
    binary_auroc,
    binary_average_precision,
    binary_precision_recall_curve,
    binary_roc,
    multiclass_confusion_matrix,
)


def rates(scores: np.ndarray, positive: np.ndarray, threshold: float) -> dict[str, float]:
    """Detection rate (alarms among positives) and false-alarm rate (alarms among negatives) at a threshold."""
    scores, positive = np.asarray(scores), np.asarray(positive, dtype=bool)
    alarm = scores >= threshold
    return {"detection_rate": float(alarm[positive].mean()) if positive.any() else float("nan"),
            "false_alarm_rate": float(alarm[~positive].mean()) if (~positive).any() else float("nan"),
            "n_positive": int(positive.sum()), "n_negative": int((~positive).sum())}


def curves(scores: np.ndarray, positive: np.ndarray) -> dict[str, np.ndarray | float]:
    """ROC and precision–recall curves, AUROC and average precision (torchmetrics)."""
    s = torch.as_tensor(np.asarray(scores, dtype=np.float32))
    y = torch.as_tensor(np.asarray(positive, dtype=np.int64))
    if y.numel() == 0 or y.min() == y.max():  # one class only: curves are undefined
        return {"fpr": np.array([]), "tpr": np.array([]), "roc_thresholds": np.array([]), "precision": np.array([]),
                "recall": np.array([]), "auroc": float("nan"), "ap": float("nan")}
    fpr, tpr, thr = binary_roc(s, y)
    prec, rec, _ = binary_precision_recall_curve(s, y)
    return {"fpr": fpr.numpy(), "tpr": tpr.numpy(), "roc_thresholds": thr.numpy(), "precision": prec.numpy(),
            "recall": rec.numpy(), "auroc": float(binary_auroc(s, y)), "ap": float(binary_average_precision(s, y))}


def segmentation_scores(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class IoU and Dice from a (K, K) pixel confusion matrix (rows true, columns predicted).

    A class absent from both truth and prediction gets NaN (nothing to score), not 0 or 1.
    """
    c = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(c)
    fp, fn = c.sum(0) - tp, c.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(tp + fp + fn > 0, tp / (tp + fp + fn), np.nan)
        dice = np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    return iou, dice


def pixel_confusion(pred: np.ndarray, target: np.ndarray, k: int, ignore_index: int = 255) -> np.ndarray:
    """(K, K) confusion of two label maps (torchmetrics); target pixels equal to ``ignore_index`` (unlabelled
    pixels of a TIP'd real scan) are not counted."""
    return multiclass_confusion_matrix(torch.as_tensor(pred.astype(np.int64)).ravel(),
                                       torch.as_tensor(target.astype(np.int64)).ravel(), k,
                                       ignore_index=ignore_index).numpy()
