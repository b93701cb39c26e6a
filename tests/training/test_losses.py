import torch

from cargoscan.training.losses import SegmentationLoss


def _logits_for(target, k, scale=8.0):
    return torch.nn.functional.one_hot(target, k).permute(0, 3, 1, 2).float() * scale


def test_loss_prefers_the_right_answer_and_weights_rare_classes():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, :2, :2] = 2
    loss = SegmentationLoss([1.0, 1.0, 1.0])
    good, bad = _logits_for(target, 3), _logits_for(torch.zeros_like(target), 3)
    assert loss(good, target) < loss(bad, target)
    heavy = SegmentationLoss([1.0, 1.0, 10.0])
    assert heavy(bad, target) - heavy(good, target) > loss(bad, target) - loss(good, target)


def test_multilabel_loss_backpropagates():
    target = torch.zeros(2, 3, 8, 8)
    target[:, 1, 2:5, 2:5] = 1
    logits = torch.zeros(2, 3, 8, 8, requires_grad=True)
    SegmentationLoss([1.0, 2.0, 1.0], multilabel=True)(logits, target).backward()
    assert logits.grad.abs().sum() > 0
