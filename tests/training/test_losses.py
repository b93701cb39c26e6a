import torch

from cargoscan.training.losses import AnyThreatLoss, SegmentationLoss, to_multilabel


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


THREAT = [3, 4, 5, 6, 7]


def _confident(target: torch.Tensor, k: int = 8, margin: float = 8.0) -> torch.Tensor:
    """Logits that put nearly all probability on ``target``'s class (ignored pixels: on class 0)."""
    t = torch.where(target == 255, 0, target)
    return torch.nn.functional.one_hot(t, k).permute(0, 3, 1, 2).float() * margin


def test_any_threat_loss_punishes_false_threats_in_a_batch_without_any():
    """SMP's per-class Dice ignores a class absent from the batch; the any-threat term does not."""
    clean = torch.full((2, 16, 16), 2)                       # all cargo, nothing hidden
    right = _confident(clean)
    wrong = right.clone()
    wrong[:, 6, 4:8, 4:8] = 12.0                              # a "weapon" painted on clean cargo
    loss = AnyThreatLoss(THREAT)
    assert loss(wrong, clean, False) > loss(right, clean, False) + 0.1


def test_any_threat_loss_is_low_for_the_right_map_and_ignores_unlabelled_pixels():
    target = torch.full((1, 16, 16), 2)
    target[0, 5:9, 5:9] = 5                                   # drugs
    target[0, 0, :] = 255                                     # unlabelled row
    logits = _confident(target)
    loss = AnyThreatLoss(THREAT)
    base = loss(logits, target, False)
    assert base < 0.05
    noisy = logits.clone()
    noisy[0, :, 0, :] = torch.randn(8, 16) * 10               # anything at all on the ignored row
    assert torch.isclose(loss(noisy, target, False), base)
    missed = logits.clone()
    missed[0, 5, 5:9, 5:9], missed[0, 2, 5:9, 5:9] = 0.0, 8.0  # the drugs called cargo
    assert loss(missed, target, False) > base + 0.5


def test_any_threat_loss_multilabel_matches_the_direction_of_softmax():
    target = torch.full((2, 16, 16), 1)
    target[1, 2:6, 2:6] = 6
    good = _confident(target) - 4.0                            # sigmoid: other classes well below 0.5
    bad = good.clone()
    bad[0, 6, 8:12, 8:12] = 8.0                                # a false weapon in the first tile
    loss = AnyThreatLoss(THREAT)
    ml = to_multilabel(target, 8)
    assert torch.isfinite(loss(bad, ml, True))
    assert loss(bad, ml, True) > loss(good, ml, True)


def test_segmentation_loss_adds_the_any_threat_term_only_when_weighted():
    target = torch.full((1, 16, 16), 2)
    logits = _confident(target)
    logits[0, 6, :4, :4] = 12.0
    off = SegmentationLoss([1.0] * 8, threat=THREAT, any_threat_weight=0.0)
    on = SegmentationLoss([1.0] * 8, threat=THREAT, any_threat_weight=1.0)
    assert off.any_threat is None
    assert on(logits, target) > off(logits, target) + 0.1
