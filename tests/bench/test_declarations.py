"""Issue 15's keys from hand-made inspection documents and declaration tables: category accuracy and confusion,
mass errors and 2σ coverage, mismatch AUROCs, the decision budget per reason and per check, the scanner shift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cargoscan.bench.checks import COLUMNS, inspection_rows, p_declared
from cargoscan.bench.report import (category_report, decision_extra, extend_report, mass_report, mismatch_report,
                                    shift_report)
from cargoscan.bench.score import SCORE_COLUMNS
from cargoscan.scoring.intervals import auroc, wilson

HEAD = {"garments": 0.0, "machinery": 0.0, "steel_products": 0.0, "food": 0.0}


def truth(*units):
    """Truth rows of one scan: (unit, true_category, true_net_kg, mismatch[, understatement])."""
    return pd.DataFrame([{"scan_id": "s", "unit": u[0], "true_category": u[1], "true_net_kg": u[2],
                          "declared_net_kg": u[2] * (1 - (u[4] if len(u) > 4 else 0.0)), "mismatch": u[3],
                          "understatement": u[4] if len(u) > 4 else math.nan, "has_threat": False}
                         for u in units])


def doc(pred="garments", probs=None, declared=("garments",), net=1000.0, sigma=50.0, d_net=1000.0, diff=0.0,
        suspicious=False, codes=(), checks=None):
    probs = {**HEAD, pred: 0.7, **(probs or {})}
    checks = checks or [{"name": n, "status": "passed"} for n in ("scan", "validity", "model", "segmentation",
                                                                   "declaration", "cargo", "material", "mass")]
    return {"suspicious": suspicious, "complete": True, "reasons": [{"code": c} for c in codes],
            "cargo": {"predicted": pred, "probabilities": probs, "declared": list(declared)},
            "mass": {"net_kg": net, "sigma_kg": sigma, "declared_net_kg": d_net, "difference_rel": diff},
            "checks": checks}


def test_p_declared_sums_the_declared_categories():
    probs = {"garments": 0.5, "food": 0.3, "steel_products": 0.2}
    assert p_declared(probs, ["garments"]) == 0.5
    assert p_declared(probs, ["garments", "food", "garments"]) == pytest.approx(0.8)
    assert p_declared(probs, ["empty"]) == 0.0                       # a category the head does not know
    assert math.isnan(p_declared(probs, [None])) and math.isnan(p_declared({}, ["food"]))


def test_inspection_rows_per_wagon():
    t = truth(("C1", "machinery", 4000.0, "none"), ("C2", "garments", 1000.0, "weight_understated", 0.3))
    d = doc(pred="machinery", declared=("machinery", "garments"), net=5200.0, diff=0.3, suspicious=True,
            codes=("MASS_MISMATCH",), checks=[{"name": "mass", "status": "flagged"},
                                              {"name": "cargo", "status": "passed"}])
    (row,) = inspection_rows(d, t, "test", "s")
    assert set(row) == set(COLUMNS)
    assert (row["level"], row["true_category"], row["true_net_kg"]) == ("wagon", "machinery", 5000.0)
    assert row["p_declared"] == pytest.approx(0.7) and row["category_score"] == pytest.approx(0.3)
    assert (row["mismatch"], row["honest"], row["wagon_honest"]) == ("weight_understated", False, False)
    assert row["understatement"] == pytest.approx(0.3)
    assert (row["flagged_checks"], row["failed_checks"], row["failed"]) == ("mass", "", False)
    # a scan with no inspection: failed, suspicious, no scores
    (gone,) = inspection_rows({}, t, "test", "s")
    assert gone["failed"] and gone["suspicious"] and math.isnan(gone["net_kg"]) and not gone["inspected"]


def test_inspection_rows_per_unit_when_the_engine_judges_units():
    t = truth(("C1", "machinery", 4000.0, "wrong_goods"), ("C2", "garments", 1000.0, "none"))
    d = doc()
    d["cargo"]["units"] = [{"unit": "C1", "predicted": "machinery", "declared": "food",
                            "probabilities": {"machinery": 0.9, "food": 0.05}},
                           {"unit": "C2", "predicted": "garments", "declared": ["garments"],
                            "probabilities": {"garments": 0.8, "food": 0.1}}]
    d["mass"]["units"] = [{"unit": "C1", "net_kg": 3800.0, "sigma_kg": 100.0, "difference_rel": 0.1},
                          {"unit": "C2", "net_kg": 1100.0, "sigma_kg": 40.0, "difference_rel": 0.1}]
    rows = inspection_rows(d, t, "mismatch", "s")
    assert [r["level"] for r in rows] == ["unit", "unit"] and [r["unit"] for r in rows] == ["C1", "C2"]
    c1, c2 = rows
    assert (c1["true_category"], c1["mismatch"], c1["honest"], c1["category_score"]) == \
        ("machinery", "wrong_goods", False, pytest.approx(0.95))
    assert (c2["honest"], c2["wagon_honest"], c2["net_kg"], c2["true_net_kg"]) == (True, False, 1100.0, 1000.0)


def table(rows):
    base = {c: None for c in COLUMNS}
    out = []
    for i, r in enumerate(rows):
        row = {**base, "archive": "test", "scan_id": f"s{i:02d}", "level": "wagon", "unit": "",
               "head_categories": ";".join(sorted(HEAD)), "has_threat": False, "wagon_honest": True, "honest": True,
               "suspicious": False, "complete": True, "failed": False, "reason_codes": "", "flagged_checks": "",
               "failed_checks": "", "mismatch": "", "wagon_mismatch": "", "true_net_kg": 1000.0,
               "net_kg": 1000.0, "sigma_kg": 50.0, "difference_rel": 0.0, "understatement": math.nan,
               "category_score": 0.3, "inspected": True, **r}
        out.append(row)
    return pd.DataFrame(out, columns=COLUMNS)


def test_category_accuracy_and_confusion():
    df = table([{"true_category": "garments", "predicted": "garments"}] * 5
               + [{"true_category": "machinery", "predicted": "steel_products"}] * 2
               + [{"true_category": "machinery", "predicted": "machinery"},
                  {"true_category": "steel_products", "predicted": ""},             # failed: counts wrong
                  {"true_category": "empty", "predicted": "garments"}])             # the head has no "empty"
    r = category_report(df)
    assert r["level"] == "wagon" and r["n_excluded"] == 1
    assert r["accuracy"] == {"n": 9, "k": 6, "accuracy": 6 / 9, "ci95": list(wilson(6, 9))}
    assert r["confusion"] == {"garments": {"garments": 5}, "machinery": {"machinery": 1, "steel_products": 2},
                              "steel_products": {"none": 1}}
    assert r["per_category"]["machinery"] == {"n": 3, "k": 1, "accuracy": 1 / 3, "ci95": list(wilson(1, 3))}


def test_mass_errors_and_coverage_on_clean_loaded_units():
    nets = [1000.0, 1040.0, 950.0, 1200.0, 700.0]
    rows = [{"true_category": "garments", "net_kg": n, "sigma_kg": 60.0} for n in nets]
    rows += [{"true_category": "garments", "net_kg": math.nan},                        # failed: missing
             {"true_category": "empty", "true_net_kg": 0.0, "net_kg": 300.0},          # empty: not counted
             {"true_category": "garments", "net_kg": 5000.0, "has_threat": True},      # not clean
             {"true_category": "garments", "net_kg": 5000.0, "wagon_honest": False}]   # dishonest
    r = mass_report(table(rows))
    err = np.abs(np.array(nets) - 1000.0) / 1000.0
    assert (r["n"], r["n_missing"]) == (5, 1)
    assert r["median_abs_rel_error"] == pytest.approx(np.median(err))
    assert r["p90_abs_rel_error"] == pytest.approx(np.quantile(err, 0.9))
    assert r["coverage_2sigma"] == {"n": 5, "k": 3, "coverage": 0.6, "ci95": list(wilson(3, 5))}
    assert r["within_10pct"]["k"] == 3


def test_mass_report_keeps_the_reading_before_calibration():
    rows = [{"true_category": "liquids", "net_kg": 1010.0, "net_read_kg": 1150.0, "calibrated": True},
            {"true_category": "liquids", "net_kg": 990.0, "net_read_kg": 1140.0, "calibrated": True},
            {"true_category": "garments", "net_kg": 1020.0, "net_read_kg": 1020.0, "calibrated": False}]
    r = mass_report(table(rows))
    assert r["n_calibrated"] == 2 and r["median_abs_rel_error"] == pytest.approx(0.01)
    assert r["as_read"]["median_abs_rel_error"] == pytest.approx(0.14)


def test_mismatch_aurocs_positives_negatives_and_counts():
    rows = [{"mismatch": "", "category_score": s, "difference_rel": dr}
            for s, dr in ((0.1, 0.0), (0.2, -0.05), (0.6, 0.12), (0.3, 0.02))]
    rows += [{"mismatch": "", "true_category": "empty", "true_net_kg": 0.0, "category_score": 1.0,
              "difference_rel": math.nan}]                                     # honest empty: no weight negative
    rows += [{"mismatch": "wrong_goods", "category_score": s} for s in (0.9, 0.5, 0.25)]
    rows += [{"mismatch": "undeclared_goods", "category_score": 1.0}]
    rows += [{"mismatch": "weight_understated", "understatement": u, "difference_rel": dr}
             for u, dr in ((0.3, 0.35), (0.2, 0.1), (0.05, 0.04))]             # the last is under 10 %: left out
    rows += [{"mismatch": "weight_understated", "understatement": 0.4, "difference_rel": math.nan}]   # failed
    rows += [{"mismatch": "package_count", "suspicious": True, "reason_codes": "MASS_MISMATCH"},
             {"mismatch": "package_count"}]
    df = table(rows)
    df["honest"] = df["mismatch"] == ""
    df["wagon_honest"] = df["honest"]
    r = mismatch_report(df, understated_min=0.10, n_boot=300, seed=3)
    honest_scores = [0.1, 0.2, 0.6, 0.3, 1.0]
    w = r["wrong_goods"]["auroc"]
    expected = auroc(np.r_[[0.9, 0.5, 0.25], honest_scores], np.r_[[True] * 3, [False] * 5])
    assert w["value"] == pytest.approx(expected) and (w["n_positive"], w["n_negative"]) == (3, 5)
    assert w["ci95"][0] <= expected <= w["ci95"][1]
    assert r["undeclared_goods"]["auroc"]["value"] == pytest.approx(auroc([1.0, *honest_scores],
                                                                          [True] + [False] * 5))
    u = r["weight_understated"]
    # positives: 0.35, 0.1 and the failed one (ranked highest); negatives: the 4 loaded honest wagons
    assert (u["n"], u["auroc"]["n_positive"], u["auroc"]["n_negative"], u["auroc"]["n_unscored"]) == (3, 3, 4, 1)
    assert u["auroc"]["value"] == pytest.approx(auroc([0.35, 0.1, np.inf, 0.0, -0.05, 0.12, 0.02],
                                                      [True] * 3 + [False] * 4))
    pc = r["package_count"]
    assert "auroc" not in pc and pc["detection_rate"] == {"n": 2, "k": 1, "detection_rate": 0.5,
                                                          "ci95": list(wilson(1, 2))}
    assert pc["reasons"] == {"MASS_MISMATCH": 1}
    assert r["honest"]["n"] == 5


def test_decision_budget_per_reason_and_per_check():
    rows = [{} for _ in range(5)]                                                          # quiet
    rows += [{"advisory_checks": "references"}]                     # shown on the conclusion, not deciding: clear
    rows += [{"suspicious": True, "reason_codes": "MASS_MISMATCH", "flagged_checks": "mass"},
             {"suspicious": True, "reason_codes": "MASS_MISMATCH;DENSITY_MISMATCH",
              "flagged_checks": "mass;material"},
             {"suspicious": True, "reason_codes": "REFERENCE_MISMATCH", "flagged_checks": "references"},
             {"suspicious": True, "reason_codes": "ANALYSIS_FAILED_TIMEOUT;MASS_MISMATCH", "failed": True,
              "flagged_checks": "mass", "failed_checks": "material"},                     # a failure: apart
             {"suspicious": True, "has_threat": True, "reason_codes": "THREAT_DRUGS",
              "flagged_checks": "segmentation"}]                                           # not clean
    test = table(rows)
    mm = table([{"wagon_honest": False, "suspicious": True, "wagon_mismatch": "package_count;wrong_goods"},
                {"wagon_honest": False, "suspicious": False, "wagon_mismatch": "package_count"},
                {"wagon_honest": False, "suspicious": True, "failed": True, "wagon_mismatch": "weight_understated"},
                {"suspicious": True}])
    mm["archive"] = "mismatch"
    d = decision_extra(test, mm)
    assert d["clean_honest_suspicious_rate"] == {"n": 9, "k": 3, "red_rate": 1 / 3, "ci95": list(wilson(3, 9))}
    assert d["clean_honest_by_reason"] == {"MASS_MISMATCH": {"n": 9, "k": 2, "share": 2 / 9,
                                                             "ci95": list(wilson(2, 9))},
                                           "DENSITY_MISMATCH": {"n": 9, "k": 1, "share": 1 / 9,
                                                                "ci95": list(wilson(1, 9))},
                                           "REFERENCE_MISMATCH": {"n": 9, "k": 1, "share": 1 / 9,
                                                                  "ci95": list(wilson(1, 9))}}
    assert d["clean_honest_advisory"] == {"references": {"n": 9, "k": 1, "share": 1 / 9, "ci95": list(wilson(1, 9))}}
    by = d["clean_honest_by_check"]
    assert (by["mass"]["flagged"]["k"], by["mass"]["alone"]["k"]) == (2, 1)
    assert (by["material"]["flagged"]["k"], by["material"]["alone"]["k"]) == (1, 0)
    assert (by["references"]["alone"]["k"], by["segmentation"]["flagged"]["k"], by["cargo"]["alone"]["n"]) == (1, 0, 9)
    assert d["clean_honest_failures"] == {"rate": {"n": 10, "k": 1, "failure_rate": 0.1, "ci95": list(wilson(1, 10))},
                                          "by_code": {"ANALYSIS_FAILED_TIMEOUT": 1}}
    assert d["mismatch_detection_rate"] == {"n": 3, "k": 2, "detection_rate": 2 / 3, "ci95": list(wilson(2, 3))}
    # the package-count-only lie (not asserted) is left out of the rate, and only of it
    assert d["mismatch_detection_rate_asserted"] == {"n": 2, "k": 2, "detection_rate": 1.0,
                                                     "ci95": list(wilson(2, 2))}
    assert d["mismatch_detection_failures"] == 1 and d["mismatch_honest_suspicious_rate"]["k"] == 1


def score_rows(scores, over=None, suspicious=None, clean=True):
    rows = []
    for i, s in enumerate(scores):
        o = s >= 0.5 if over is None else over[i]
        rows.append({c: None for c in SCORE_COLUMNS} | {"scan_id": f"w{i}", "clean": clean, "has_threat": False,
                                                         "honest": True, "score": s, "over": o,
                                                         "suspicious": o if suspicious is None else suspicious[i],
                                                         "reason_codes": "THREAT_SCORE" if o else ""})
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def test_scanner_shift_rates_and_quantiles():
    shifted = score_rows([0.1, 0.2, 0.6, 0.9, math.nan], suspicious=[False, True, True, True, True])
    shifted.loc[4, "over"] = True                                   # never scored: over (fail closed)
    nominal = pd.concat([score_rows([0.05, 0.1, 0.2, 0.3]), score_rows([0.9], clean=False)], ignore_index=True)
    r = shift_report(shifted, nominal, {"photons_high": {"outside": True}})
    assert r["n"] == 5 and r["n_unscored"] == 1
    assert r["false_alarm_rate"] == {"n": 5, "k": 3, "false_alarm_rate": 0.6, "ci95": list(wilson(3, 5))}
    assert r["clean_red_rate"] == {"n": 5, "k": 4, "red_rate": 0.8, "ci95": list(wilson(4, 5))}
    assert r["score_quantiles"]["n"] == 4 and r["score_quantiles"]["p50"] == pytest.approx(0.4)
    assert r["nominal_score_quantiles"] == {"n": 4, "p50": pytest.approx(0.15),
                                            "p90": pytest.approx(np.quantile([0.05, 0.1, 0.2, 0.3], 0.9)),
                                            "p99": pytest.approx(np.quantile([0.05, 0.1, 0.2, 0.3], 0.99))}
    assert r["scanner"] == {"photons_high": {"outside": True}}


def test_extend_report_keeps_the_existing_keys():
    doc = {"decision": {"clean_red_rate": {"n": 1, "k": 0, "red_rate": 0.0, "ci95": [0.0, 0.79]}}}
    test = table([{"true_category": "garments", "predicted": "garments"}])
    extend_report(doc, test, None, score_rows([0.1]), score_rows([0.2]), n_boot=10)
    assert doc["decision"]["clean_red_rate"]["n"] == 1 and "clean_honest_suspicious_rate" in doc["decision"]
    assert {"category", "mass", "scanner_shift"} <= set(doc) and "mismatch" not in doc


def test_the_report_section_shows_the_new_keys(tmp_path):
    """reports.benchmark's tables read the new keys, and the notebook's benchmark cells run on them."""
    import json
    from pathlib import Path

    from cargoscan.bench.report import write_report
    from cargoscan.reports import benchmark as B

    test = table([{"true_category": "garments", "predicted": "garments"},
                  {"true_category": "machinery", "predicted": "garments", "suspicious": True,
                   "reason_codes": "CARGO_MISMATCH", "flagged_checks": "cargo"}])
    mm = table([{"mismatch": "wrong_goods", "wagon_honest": False, "honest": False, "category_score": 0.9},
                {"mismatch": "", "category_score": 0.2}])
    doc = extend_report({"decision": {}}, test, mm, score_rows([0.1, 0.7]), score_rows([0.2]), n_boot=20)
    js, _ = write_report(doc, score_rows([0.1]), tmp_path / "b.json", tmp_path / "b_scores.csv")
    doc = B.read_benchmark(js)
    summary = B.declaration_summary(doc)
    assert summary.loc["cargo category accuracy (top-1) (per wagon)", "k / n"] == "1 / 2"
    assert summary.loc["honest clean wagons «под подозрением» (budget; failures apart)", "k / n"] == "1 / 2"
    assert B.confusion_table(doc).loc["machinery", "garments"] == 1
    assert B.mismatch_table(doc).loc["wrong_goods", "AUROC"] == "1.000"
    assert B.budget_table(doc).loc["cargo", "alone k / n"] == "1 / 2"
    assert B.budget_reasons_table(doc).loc["CARGO_MISMATCH", "k / n"] == "1 / 2"
    assert B.shift_table(doc).iloc[0]["k / n"] == "1 / 2"
    assert B.shift_table({}).empty and B.declaration_summary({}).empty and B.mismatch_table({}).empty
    # the notebook's benchmark cells, run on this document
    nb = json.loads((Path(__file__).resolve().parents[2] / "notebooks" / "evaluation.ipynb").read_text("utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    mine = [c for c in cells if "B.declaration_summary" in c or "B.mismatch_table" in c or "B.budget_table" in c
            or "B.shift_table" in c]
    assert len(mine) == 4
    shown = []
    env = {"B": B, "bench": doc, "display": shown.append, "Markdown": str}
    for c in mine:
        exec(c, env)
    assert len(shown) == 6 and all(len(t) for t in shown)
