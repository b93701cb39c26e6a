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


def test_ignored_pixels_count_in_neither_term():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, :2, :2] = 2
    target[0, 4:, :] = 255                              # unlabelled half
    loss = SegmentationLoss([1.0, 1.0, 3.0])
    good = _logits_for(torch.where(target == 255, 0, target), 3)
    wrong_where_ignored = good.clone()
    wrong_where_ignored[:, :, 4:, :] = _logits_for(torch.full((1, 4, 8), 2), 3)
    assert torch.allclose(loss(good, target), loss(wrong_where_ignored, target))
    assert loss(good, target) < loss(_logits_for(torch.ones_like(target).clamp(max=1), 3), target)
    all_ignored = torch.full_like(target, 255)
    assert loss(good, all_ignored) == 0 and torch.isfinite(loss(good, all_ignored))


def test_multilabel_targets_mark_ignored_pixels_on_every_channel():
    from cargoscan.training.losses import to_multilabel

    mask = torch.tensor([[[0, 2], [255, 1]]])
    t = to_multilabel(mask, 3)
    assert t.shape == (1, 3, 2, 2) and (t[0, :, 1, 0] == 255).all() and t[0, 2, 0, 1] == 1
    logits = torch.zeros(1, 3, 2, 2, requires_grad=True)
    out = SegmentationLoss([1.0, 1.0, 1.0], multilabel=True)(logits, t)
    out.backward()
    assert torch.isfinite(out) and logits.grad[0, :, 1, 0].abs().sum() == 0
