"""Dice + Focal segmentation loss with class weights, built from ``smp.losses``.

SMP's losses take no per-class weights, so: the Dice loss aggregates its per-class terms with a weighted mean
(``aggregate_loss`` is SMP's hook for exactly that), and the Focal loss is SMP's binary focal loss applied per
class (one-vs-rest, the same as SMP's multiclass mode) and summed with the weights.

Pixels labelled :data:`IGNORE_INDEX` (255: wagon pixels of a real scan whose class nobody knows, written by
threat image projection) count in neither term: SMP's ``ignore_index`` drops them from the Focal mean and zeroes
them in the Dice sums.
"""

from __future__ import annotations

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import nn

from cargoscan.data.dataset import IGNORE_INDEX



class WeightedDiceLoss(smp.losses.DiceLoss):
    """SMP Dice loss whose per-class terms are averaged with class weights."""

    def __init__(self, mode: str, weights: torch.Tensor, ignore_index: int | None = IGNORE_INDEX):
        super().__init__(mode=mode, from_logits=True, ignore_index=ignore_index)
        self.register_buffer("weights", torch.as_tensor(weights, dtype=torch.float32))

    def aggregate_loss(self, loss: torch.Tensor) -> torch.Tensor:
        w = self.weights.to(loss)
        return (loss * w).sum() / w.sum()


class AnyThreatLoss(nn.Module):
    """Binary cross-entropy plus a batch-wide Dice on P(any threat class), the map the wagon score is made of.

    The per-class terms spread a threat's gradient over five rare classes and let the common ones (air, vehicle,
    cargo) dominate; a model trained on them alone learns the wagon and not what hides in it. This term asks the
    one question the decision asks, pixel by pixel: is any threat here? ``pos_weight`` lifts the rare positive
    pixels; the Dice is taken over the whole batch, so a batch without a threat pixel still punishes every false
    one (SMP's per-class Dice ignores a class absent from the batch).
    """

    def __init__(self, threat: list[int], pos_weight: float = 5.0):
        super().__init__()
        self.register_buffer("threat", torch.as_tensor(threat, dtype=torch.long))
        self.pos_weight = float(pos_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor, multilabel: bool) -> torch.Tensor:
        if multilabel:  # target (B, K, H, W); P(any) = 1 − Π(1 − σ)
            valid = (target != IGNORE_INDEX).all(1)
            y = (target[:, self.threat] == 1).any(1).float()
            log_none = F.logsigmoid(-logits.float()[:, self.threat]).sum(1)
            logit = torch.log((-torch.expm1(log_none)).clamp(min=1e-7)) - log_none
        else:
            valid = target != IGNORE_INDEX
            y = torch.isin(target, self.threat).float()
            logp = F.log_softmax(logits.float(), dim=1)
            other = torch.ones(logits.shape[1], dtype=torch.bool, device=logits.device)
            other[self.threat] = False
            logit = torch.logsumexp(logp[:, self.threat], 1) - torch.logsumexp(logp[:, other], 1)
        if not bool(valid.any()):
            return logits.sum() * 0.0
        z, t = logit[valid], y[valid]
        bce = F.binary_cross_entropy_with_logits(z, t, pos_weight=z.new_tensor(self.pos_weight))
        p = torch.sigmoid(z)
        dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
        return bce + dice


class SegmentationLoss(nn.Module):
    """``dice_weight · Dice + focal_weight · Focal`` over K classes, softmax (multiclass) or sigmoid (multilabel),
    plus ``any_threat_weight`` · :class:`AnyThreatLoss`.

    Args:
        weights: (K,) class weights, mean about 1.
        multilabel: targets are (B, K, H, W) {0, 1} (255 = ignored, on every channel); otherwise (B, H, W) class
            ids with 255 = ignored.
        threat: the threat class ids, for the any-threat term (empty: no such term).
    """

    def __init__(self, weights: list[float], multilabel: bool = False, dice_weight: float = 1.0,
                 focal_weight: float = 1.0, gamma: float = 2.0, threat: list[int] | None = None,
                 any_threat_weight: float = 0.0, any_threat_pos_weight: float = 5.0):
        super().__init__()
        self.any_threat = AnyThreatLoss(threat, any_threat_pos_weight) if threat and any_threat_weight > 0 else None
        self.any_threat_weight = any_threat_weight
        w = torch.as_tensor(weights, dtype=torch.float32)
        self.multilabel = multilabel
        self.dice = WeightedDiceLoss("multilabel" if multilabel else "multiclass", w)
        self.focal = smp.losses.FocalLoss(mode="binary", alpha=None, gamma=gamma, ignore_index=IGNORE_INDEX)
        self.register_buffer("weights", w)
        self.dice_weight, self.focal_weight = dice_weight, focal_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        k = logits.shape[1]
        if self.multilabel:
            onehot = target.float()
            valid = (target != IGNORE_INDEX).any(1)
        else:
            valid = target != IGNORE_INDEX
            onehot = F.one_hot(torch.where(valid, target, 0), k).permute(0, 3, 1, 2).float()
            onehot = onehot.masked_fill(~valid.unsqueeze(1), IGNORE_INDEX)
        if not bool(valid.any()):  # a batch of nothing but unlabelled pixels teaches nothing (and Focal's mean is NaN)
            return logits.sum() * 0.0
        # Focal per class, one-vs-rest. For softmax models the per-class logit is log p_c − log(1 − p_c), so the
        # focal term sees the same probabilities the softmax assigns.
        if self.multilabel:
            per_class_logits = logits
        else:
            logp = F.log_softmax(logits.float(), dim=1)
            per_class_logits = logp - torch.log1p(-logp.exp().clamp(max=1 - 1e-6))
        focal = sum(self.weights[c] * self.focal(per_class_logits[:, c].contiguous(), onehot[:, c].contiguous())
                    for c in range(k))
        loss = self.dice_weight * self.dice(logits, onehot if self.multilabel else target) + self.focal_weight * focal
        if self.any_threat is not None:
            loss = loss + self.any_threat_weight * self.any_threat(logits, target, self.multilabel)
        return loss


def to_multilabel(mask: torch.Tensor, k: int) -> torch.Tensor:
    """(B, H, W) class ids → (B, K, H, W) {0, 1} targets for the multi-label mode; ignored pixels (255) become
    255 on every channel."""
    valid = mask != IGNORE_INDEX
    out = F.one_hot(torch.where(valid, mask, 0), k).permute(0, 3, 1, 2).to(torch.float32)
    return out.masked_fill(~valid.unsqueeze(1), IGNORE_INDEX)
