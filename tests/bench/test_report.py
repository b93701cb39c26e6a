"""reports/benchmark.json from a hand-made score table: keys, counts, Wilson intervals, the decision rates."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from cargoscan.bench.report import build_report, write_report
from cargoscan.bench.score import SCORE_COLUMNS
from cargoscan.reports import benchmark as B
from cargoscan.scoring.calibration import expected_calibration_error
from cargoscan.scoring.intervals import auroc, wilson


def wagon(i, threat=False, over=False, score=0.1, classes="", sites="", wtype="flat", cat="garments", hit=False,
          cnr=math.nan, honest=True, suspicious=None, codes="", complete=True, status="inspected", seconds=0.5):
    return {"scan_id": f"s{i:03d}", "wagon_type": wtype, "category": cat, "has_threat": threat, "honest": honest,
            "clean": (not threat) and honest, "threat_classes": classes, "sites": sites, "score": score,
            "probability": score, "threshold": 0.5, "over": over,
            "suspicious": over if suspicious is None else suspicious, "complete": complete, "reason_codes": codes,
            "risk_areas": "[]", "n_risk_areas": int(hit), "hit": hit, "max_cnr": cnr, "cnr_a_high": cnr,
            "cnr_ratio": math.nan, "seconds": seconds, "status": status}


@pytest.fixture()
def table() -> pd.DataFrame:
    rows = [wagon(i, score=0.1 + 0.01 * i) for i in range(8)]                           # 8 clean, quiet
    rows += [wagon(8, over=True, score=0.7, wtype="tank", cat="liquids", codes="THREAT_SCORE"),    # false alarm
             wagon(9, score=0.2, suspicious=True, codes="MASS_MISMATCH;DENSITY_MISMATCH", cat="liquids")]
    rows += [wagon(10, threat=True, over=True, score=0.9, classes="drugs;hidden_compartment",
                   sites="false_floor", hit=True, cnr=3.0),
             wagon(11, threat=True, over=True, score=0.8, classes="weapon", sites="in_cargo", cnr=2.5),
             wagon(12, threat=True, over=False, score=0.3, classes="drugs", sites="in_cargo", cnr=0.5),
             wagon(13, threat=True, over=True, score=math.nan, classes="cigarettes", sites="in_cargo",
                   complete=False, codes="ANALYSIS_FAILED_TIMEOUT"),
             wagon(14, score=0.95, over=True, honest=False)]                         # a lie: excluded
    df = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    df.loc[df["score"].isna(), "probability"] = 1.0
    return df


def test_counts_and_operating_point(table):
    r = build_report(table, {"name": "m", "version": "1", "wagon_threshold": 0.5, "calibration": {}}, n_boot=200)
    assert (r["n_wagons"], r["n_clean"], r["n_threat"], r["n_excluded"], r["n_incomplete"]) == (15, 10, 4, 1, 1)
    op = r["detection"]["operating_point"]
    assert op["threshold"] == 0.5 and op["target_far"] == 0.01
    assert op["detection_rate"] == {"n": 4, "k": 3, "detection_rate": 0.75, "ci95": list(wilson(3, 4))}
    assert op["false_alarm_rate"] == {"n": 10, "k": 1, "false_alarm_rate": 0.1, "ci95": list(wilson(1, 10))}
    assert r["false_alarms"]["rate"] == op["false_alarm_rate"]


def test_groups_visibility_localisation(table):
    r = build_report(table, None, cnr_visible=2.0, n_boot=200)
    det = r["detection"]
    # a wagon with two classes counts in both; the unscored wagon counts as detected (fail closed)
    assert det["per_class"]["drugs"] == {"n": 2, "k": 1, "detection_rate": 0.5, "ci95": list(wilson(1, 2))}
    assert det["per_class"]["hidden_compartment"]["k"] == 1 and det["per_class"]["cigarettes"]["k"] == 1
    assert det["per_site"]["in_cargo"] == {"n": 3, "k": 2, "detection_rate": 2 / 3, "ci95": list(wilson(2, 3))}
    assert det["visible"] == {"n": 2, "k": 2, "detection_rate": 1.0, "ci95": list(wilson(2, 2))}
    fa = r["false_alarms"]
    assert fa["per_wagon_type"]["tank"] == {"n": 1, "k": 1, "false_alarm_rate": 1.0, "ci95": list(wilson(1, 1))}
    assert fa["per_wagon_type"]["flat"]["n"] == 9 and fa["per_wagon_type"]["flat"]["k"] == 0
    assert fa["per_category"]["liquids"]["n"] == 2 and "empty" not in fa["per_category"]
    # localisation: among the 3 detected threat wagons, one has a risk area on the labelled threat
    assert r["localisation"]["hit_rate"] == {"n": 3, "k": 1, "hit_rate": 1 / 3, "ci95": list(wilson(1, 3))}
    assert r["visibility"]["measured"] == 3 and r["visibility"]["visible_share"]["k"] == 2


def test_auroc_calibration_decision_timing(table):
    r = build_report(table, None, n_boot=300, seed=1)
    both = table[table["has_threat"] | table["clean"]]
    expected = auroc(both["score"].fillna(np.inf), both["has_threat"])
    a = r["detection"]["auroc"]
    assert a["value"] == pytest.approx(expected) and a["ci95"][0] <= expected <= a["ci95"][1]
    assert r["calibration"]["ece"] == pytest.approx(expected_calibration_error(both["probability"],
                                                                               both["has_threat"], 10))
    assert sum(b["n"] for b in r["calibration"]["reliability"]) == 14
    d = r["decision"]
    assert d["clean_red_rate"] == {"n": 10, "k": 2, "red_rate": 0.2, "ci95": list(wilson(2, 10))}
    assert d["threat_red_rate"]["k"] == 3
    assert d["clean_red_reasons"] == {"THREAT_SCORE": 1, "MASS_MISMATCH": 1, "DENSITY_MISMATCH": 1}
    assert r["seconds_per_wagon"] == pytest.approx(0.5) and r["timing"]["source"] == "this run"


def test_every_rate_has_its_wilson_interval(table):
    r = build_report(table, None, n_boot=100)
    rates = []

    def walk(d):
        if isinstance(d, dict):
            if {"n", "k", "ci95"} <= set(d):
                rates.append(d)
            for v in d.values():
                walk(v)
        elif isinstance(d, list):
            for v in d:
                walk(v)
    walk(r)
    assert len(rates) > 20
    for d in rates:
        assert d["ci95"] == list(wilson(d["k"], d["n"]))
        name = [k for k in d if k not in ("n", "k", "ci95", "bin", "mean_probability")]
        assert len(name) == 1


def test_written_json_is_strict_and_the_report_section_reads_it(table, tmp_path):
    r = build_report(table, None, n_boot=100)
    js, csv = write_report(r, table, tmp_path / "b.json", tmp_path / "b_scores.csv")
    text = js.read_text(encoding="utf-8")
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    for key in ("n_wagons", "n_clean", "n_threat", "seconds_per_wagon"):
        assert key in doc
    for path in (("detection", "auroc"), ("detection", "operating_point", "threshold"), ("detection", "visible"),
                 ("detection", "per_class"), ("detection", "per_site"), ("false_alarms", "per_wagon_type"),
                 ("false_alarms", "per_category"), ("localisation", "hit_rate"), ("calibration", "ece"),
                 ("decision", "clean_red_rate"), ("decision", "threat_red_rate")):
        node = doc
        for k in path:
            node = node[k]
        assert node is not None, path
    assert len(pd.read_csv(csv)) == len(table)
    summary = B.summary_table(B.read_benchmark(js))
    assert summary.loc["false-alarm rate at the operating point, clean wagons", "k / n"] == "1 / 10"
    assert B.group_table(doc, ("detection", "per_class"), "class").loc["drugs", "k / n"] == "1 / 2"
    assert B.roc_figure(B.read_scores(csv), doc) is not None
    assert B.read_benchmark(tmp_path / "absent.json") is None and B.read_scores(tmp_path / "absent.csv") is None
