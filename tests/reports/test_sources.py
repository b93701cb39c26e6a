import json

import numpy as np
import pandas as pd
import pytest

from cargoscan.reports import sources as S
from tests.reports.report_world import DECLARED_NET, MISMATCH, THREATS, TRAINS, TRUE_NET


def test_read_archive_counts_and_instances(world):
    arc = S.read_archive(world["archive"])
    assert len(arc.scans) == len(TRAINS)
    assert arc.scans["train_number"].nunique() == len(set(TRAINS))
    assert (arc.scans[["height", "width"]].to_numpy() == [48, 160]).all()
    threats = arc.instances[arc.instances["class"].isin(S.THREAT_CLASSES)]
    assert sorted(threats["class"]) == sorted(c for c, _, _ in THREATS.values())
    assert pd.api.types.is_numeric_dtype(arc.declarations["net_weight_kg"])


def test_scan_truth_joins_declared_and_true_mass(world):
    t = S.scan_truth(S.read_archive(world["archive"])).set_index("scan_id")
    assert t["has_threat"].sum() == len(THREATS)
    assert t["declared_net_kg"].tolist() == DECLARED_NET
    assert t["true_net_kg"].tolist() == [round(v) for v in TRUE_NET]
    assert sorted(t.loc[t["mismatch"] != "none", "mismatch"]) == sorted(MISMATCH.values())


def test_read_archive_refuses_a_non_archive(tmp_path):
    with pytest.raises(FileNotFoundError, match="no scans directory"):
        S.read_archive(tmp_path)


def test_read_metrics(world):
    m = S.read_metrics(world["metrics"])
    raw = json.loads(world["metrics"].read_text())
    assert m.auc == raw["detection"]["auroc"]
    assert set(m.per_class["class"]) == set(raw["segmentation"]["iou"])
    assert m.operating_point["threshold"] == raw["detection"]["threshold"]
    # confusion.csv (one row per wagon) becomes a square matrix whose diagonal are the correct answers
    assert list(m.category_confusion.index) == list(m.category_confusion.columns)
    acc = np.trace(m.category_confusion.to_numpy()) / m.category_confusion.to_numpy().sum()
    assert acc == pytest.approx(raw["category"]["accuracy"], abs=1e-3)
    assert set(m.per_site["group"]) == set(raw["detection"]["per_site"])
    assert len(m.roc) == 5 and (m.wagon_scores["split"] == "test").all()
    assert S.read_metrics(world["metrics"].parent / "absent.json") is None


def test_read_inspections_skips_summaries_and_reports_bad_files(world, tmp_path):
    insp = S.read_inspections(world["inspections"])
    assert len(insp.scans) == len(TRAINS) - 1            # one scan has no result file
    assert insp.errors == []
    assert set(insp.areas["class"]) == {"drugs", "cigarettes", "weapon"}
    failed = insp.scans[insp.scans["failed"]]
    assert len(failed) == 1 and failed["suspicious"].all() and not failed["complete"].any()

    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    bad = S.read_inspections(tmp_path)
    assert bad.scans.empty and len(bad.errors) == 1 and "broken.json" in bad.errors[0]
    assert S.read_inspections(tmp_path / "missing").scans.empty


def test_missing_physics_part_gives_none(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_synth(name, *a, **k):
        if name.startswith("cargoscan.synth"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_synth)
    assert S.realism_function() is None


def test_inspection_row_tolerates_partial_documents():
    # a fail-closed result carries no cargo, mass or timings; unmapped HS codes leave None in "declared"
    row = S._inspection_row({"scan_id": "X", "decision": S.SUSPICIOUS, "suspicious": True, "complete": False,
                             "reasons": [{"code": "ANALYSIS_FAILED_SCAN", "text": "анализ не выполнен: …"}],
                             "cargo": {"declared": [None, "food"], "predicted": "food", "match": True}})
    assert row["failed"] and not row["complete"] and row["declared_category"] == "food"
    assert row["estimated_net_kg"] is None and row["total_ms"] is None
    assert np.isnan(row["wagon_score"]) and not row["threat_alarm"]    # no score: no number invented for it
