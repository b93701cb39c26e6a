import pandas as pd
import pytest

from cargoscan.reports import batch as B
from cargoscan.reports import sources as S


@pytest.mark.parametrize("suspicious, complete, inspected, expected", [
    ([False, False], [True, True], [True, True], B.NOT_HELD),
    ([True, False], [True, True], [True, True], B.RED),
    ([False, True], [True, False], [True, True], B.HELD),     # a failed (fail-closed) analysis holds
    ([False, True], [True, False], [True, False], B.HELD),    # a missing analysis holds
    ([True, True], [True, False], [True, True], B.RED),       # a real suspicion wins over a failure
    ([], [], [], B.NOT_HELD),
])
def test_corridor_rule(suspicious, complete, inspected, expected):
    def s(v):
        return pd.Series(v, dtype=bool)

    assert B.corridor(s(suspicious), s(complete), s(inspected)) == expected


def test_trains_table(world):
    w = B.wagons(S.read_archive(world["archive"]), S.read_inspections(world["inspections"]))
    t = B.trains(w)
    assert t["corridor"].to_dict() == {"2417": B.RED, "3001": B.RED, "4420": B.HELD, "5012": B.NOT_HELD}
    assert t.loc["4420", "failed"] == 1 and t.loc["4420", "missing"] == 1
    assert t["wagons"].sum() == len(w)
    att = B.attention(w)
    assert set(att["corridor"]) == {B.RED, B.HELD}
    assert "analysis missing" in set(att["status"])


def test_wagons_without_archive(world):
    w = B.wagons(None, S.read_inspections(world["inspections"]))
    assert w["inspected"].all() and set(B.trains(w).index) == {"2417", "3001", "4420", "5012"}


def test_batch_without_inspections_holds_every_train(world, tmp_path):
    w = B.wagons(S.read_archive(world["archive"]), S.read_inspections(tmp_path / "none"))
    t = B.trains(w)
    assert set(t["corridor"]) == {B.HELD} and t["missing"].sum() == len(w)
    B.attention(w), B.decision_counts(w), B.timings_figure(w)
