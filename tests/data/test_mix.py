import numpy as np
import pytest

from cargoscan.data.mix import real_background_rates, real_sets, select

from tests.tip.conftest import write_background


def _archive(root, kinds: list[str], start: int = 0) -> list[str]:
    ids = []
    for i, kind in enumerate(kinds, start=start):
        ids.append(
            write_background(
                root, np.full((2, 4, 6), 30000, np.uint16), f"32701RF0620250218174{i:03d}0", kind=kind
            )
        )
    return ids


def test_select_hits_the_ratio(tmp_path):
    _archive(tmp_path / "tip", ["tip"] * 30 + ["imported"] * 3)
    rng = np.random.default_rng(0)
    chosen = select(tmp_path / "tip", n_synthetic=60, ratio=0.25, rng=rng)
    assert len(chosen) == 20  # 20 / (20 + 60) = 0.25
    assert len(set(chosen)) == 20
    assert select(tmp_path / "tip", n_synthetic=600, ratio=0.5, rng=rng).__len__() == 30  # all there are
    assert select(tmp_path / "tip", n_synthetic=60, ratio=0.0, rng=rng) == []
    with pytest.raises(ValueError):
        select(tmp_path / "tip", 60, 1.0, rng)


def test_real_sets_and_rates(tmp_path):
    tip_ids = _archive(tmp_path / "tip", ["tip"] * 4)
    clean_ids = _archive(tmp_path / "imp", ["imported"] * 5, start=10)
    sets = real_sets(tmp_path / "tip", tmp_path / "imp")
    assert [s for _, s in sets["tip"]] == tip_ids and [s for _, s in sets["clean"]] == clean_ids
    decisions = {
        tip_ids[0]: True,
        tip_ids[1]: True,
        tip_ids[2]: False,
        tip_ids[3]: True,
        clean_ids[0]: True,
        clean_ids[1]: False,
        clean_ids[2]: False,
        clean_ids[3]: False,
    }
    rates = real_background_rates(decisions, sets)
    assert rates["real_detection_rate"] == pytest.approx(0.75)
    # clean_ids[4] has no decision: fail closed, it counts as an alarm.
    assert rates["real_false_alarm_rate"] == pytest.approx(2 / 5)
