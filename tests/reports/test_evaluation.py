import dataclasses

import numpy as np
import pytest

from cargoscan.reports import evaluation as E
from cargoscan.reports import sources as S
from tests.reports.report_world import ESTIMATE_ERROR, THREATS


@pytest.fixture(scope="module")
def loaded(world):
    arc, insp = S.read_archive(world["archive"]), S.read_inspections(world["inspections"])
    return arc, insp, E.joined(arc, insp), S.read_metrics(world["metrics"])


def test_joined_keeps_completed_analyses_only(loaded):
    arc, insp, j, _ = loaded
    assert len(j) == int(insp.scans["complete"].sum())
    assert j["complete"].all()


def test_headline_counts_finds_misses_and_false_alarms(loaded):
    _, insp, j, m = loaded
    h = E.headline(j, m, insp)["answer"]
    # the fixture: drugs (scan 0) and cigarettes (4) found, the false-floor compartment (2) missed,
    # one clean wagon (3) flagged with a weapon area
    assert h.iloc[1].startswith("2 of 3")
    assert h.iloc[2] == "1 of 3"
    assert h.iloc[3].startswith("1 of ")
    op = m.operating_point
    assert h.iloc[0] == f"{op['detection_rate']:.3f} / {op['false_alarm_rate']:.3f}"


def test_instance_detection_by_class_and_site(loaded):
    arc, insp, _, _ = loaded
    inst = E.instance_detection(arc, insp)
    found = dict(zip(inst["class"], inst["found"]))
    assert found == {"drugs": True, "hidden_compartment": False, "cigarettes": True}
    by_site = E.instance_rates(inst, "site")
    assert by_site.loc["false_floor", "found"] == 0 and by_site.loc["false_front_wall", "rate"] == "1.000"


def test_detection_by_wagon_type(loaded):
    _, _, j, _ = loaded
    t = E.detection_by(j, "wagon_type")
    assert t["threat wagons"].sum() == len(THREATS)
    assert t["false alarms"].sum() == 1


def test_mass_errors_follow_the_engine(loaded):
    _, _, j, _ = loaded
    honest = j[j["mismatch"] == "none"]
    expected = np.median(np.abs([ESTIMATE_ERROR[i] for i in range(9) if i not in (4, 5, 6, 7)]))
    assert honest["mass_vs_declared"].abs().median() == pytest.approx(expected)
    s = E.mass_summary(j, 0.1)
    assert s.loc["estimated vs true", "scans"] == len(j)


def test_mismatch_confusion_and_roc(loaded):
    _, _, j, _ = loaded
    cm = E.mismatch_confusion(j)
    assert cm.loc["wrong_goods", "wrong_goods"] == 1
    assert cm.loc["weight_understated", "weight_understated"] == 1
    assert cm.loc["none"].drop("none").sum() == 0         # no honest declaration was flagged
    auc, fig = E.mismatch_roc(j)
    assert auc.loc["weight_understated", "ROC AUC"] == "1.000"
    assert auc.loc["undeclared_goods", "ROC AUC"] == "—"   # no positives in the fixture


def test_calibration_reports_brier(loaded):
    _, _, j, m = loaded
    table, fig = E.calibration(j, 5)                     # from the inspections
    y, p = j["has_threat"].to_numpy(float), j["wagon_score"].to_numpy(float)
    assert table.loc["Brier score", "value"] == f"{np.mean((p - y) ** 2):.3f}"
    assert fig is not None
    table, _ = E.calibration(j, 5, m)                    # from the evaluate stage's test-split scores
    s = m.wagon_scores
    assert table.loc["wagons", "value"] == str(len(s))
    assert table.loc["Brier score", "value"] == f"{np.mean((s['score'] - s['has_threat']) ** 2):.3f}"


def test_worst_galleries_pick_the_right_scans(loaded):
    arc, insp, j, _ = loaded
    misses = E.worst(arc, insp, j, 4, "misses")
    alarms = E.worst(arc, insp, j, 4, "false_alarms")
    assert [i["title"].split(" · ")[2] for i in misses] == ["hidden_compartment"]
    assert len(alarms) == 1 and "weapon" in alarms[0]["title"] and len(alarms[0]["boxes"]) == 1


def test_model_card_is_nested_below_the_report(world):
    md = E.model_card(S.read_model_card(world["model_dir"]), {"name": "m", "version": "2",
                                                              "wagon_threshold": 0.6})
    assert "### Model card" in md and "#### Limits" in md and "0.600" in md
    assert "No exported model" in E.model_card(None, None)


def test_every_section_renders_without_inspections_or_metrics(world, tmp_path):
    # the state before the inspection and evaluate stages have run: the report says so, it does not crash
    arc, insp = S.read_archive(world["archive"]), S.read_inspections(tmp_path / "none")
    assert S.read_metrics(tmp_path / "metrics.json") is None
    j = E.joined(arc, insp)
    assert j.empty
    assert E.headline(j, None, insp)["answer"].iloc[0].startswith("0 of 0")
    assert E.instance_rates(E.instance_detection(arc, insp), "class").empty
    E.detection_by(j, "wagon_type"), E.mass_summary(j, 0.1), E.mass_figures(j, 0.1)
    E.mismatch_confusion(j), E.mismatch_roc(j)
    assert E.worst(arc, insp, j, 4, "misses") == [] and E.calibration(j, 10)[1] is None


def test_mismatch_roc_ranks_an_undeclared_load_above_every_finite_excess(loaded):
    _, _, j, _ = loaded
    j = j.copy()
    honest = j.index[j["mismatch"] == "none"]
    victim = honest[0]
    # a unit declared empty (0 kg) carrying goods: the estimated-over-declared excess is +inf
    j.loc[victim, "mismatch"] = "undeclared_goods"
    j.loc[victim, "mass_vs_declared"] = np.inf
    y, s = E.mismatch_scores(j)["undeclared_goods"]
    assert np.isfinite(s).all() and s[y].min() > s[~y].max()
    auc, _ = E.mismatch_roc(j)
    assert auc.loc["undeclared_goods", "ROC AUC"] == "1.000"


def test_visibility_table_prints_each_threat_class_once_and_is_empty_for_old_metrics(loaded):
    _, _, _, m = loaded
    table = E.visibility_table(m)
    assert list(table.index) == ["cigarettes", "drugs"]
    assert table.loc["drugs", "regions"] == 20 and table.loc["cigarettes", "visible share"] == E.fmt(0.25)
    old = dataclasses.replace(m, raw={k: v for k, v in m.raw.items() if k != "visibility"})
    assert E.visibility_table(old).empty
