import pytest

from cargoscan.training.train import batch_limit, loss_weights


PREPARED = [0.09, 0.06, 0.08, 1.0, 1.7, 1.5, 2.9, 0.65]  # prepare's inverse-frequency weights, rare classes high


def test_loss_weights_power_zero_is_uniform_and_one_keeps_the_ratios():
    assert loss_weights(PREPARED, 0.0) == pytest.approx([1.0] * len(PREPARED))
    full = loss_weights(PREPARED, 1.0)
    assert sum(full) / len(full) == pytest.approx(1.0)
    assert full[6] / full[1] == pytest.approx(2.9 / 0.06)


def test_loss_weights_soften_the_imbalance_without_reordering():
    half, full = loss_weights(PREPARED, 0.5), loss_weights(PREPARED, 1.0)
    assert sorted(range(8), key=half.__getitem__) == sorted(range(8), key=full.__getitem__)
    assert max(half) / min(half) == pytest.approx((max(full) / min(full)) ** 0.5)


def test_batch_limit_reads_whole_floats_above_one_as_counts():
    assert batch_limit(40.0) == 40 and isinstance(batch_limit(40.0), int)
    assert batch_limit(0.25) == 0.25 and batch_limit(1.0) == 1.0
