"""Export's category fusion on a validation archive (training.calibrate.category_fusion), on hand-made
inspections: fitted on wagons of one true category, each wagon's cargo evidence from a fusion fitted without it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cargoscan.archive import ArchivePaths
from cargoscan.archive.tables import write_table
from cargoscan.inspect.fusion import CategoryFusion
from cargoscan.training.calibrate import MIN_FUSION_UNITS, category_fusion
from tests.inspect.conftest import scan_id_for
from tests.inspect.test_fusion import HEAD, inspection


def archive(tmp_path, n: int, declared_wrong: int = 0) -> tuple[pd.DataFrame, object]:
    """n wagons alternately footwear and garments, the first ``declared_wrong`` declared as the other one."""
    rng = np.random.default_rng(7)
    truth = ["footwear" if i % 2 else "garments" for i in range(n)]
    docs = []
    for i, t in enumerate(truth):
        doc = inspection(rng, t)
        other = "garments" if t == "footwear" else "footwear"
        doc["cargo"]["declared"] = [other if i < declared_wrong else t]
        docs.append(doc)
    ids = [scan_id_for(i) for i in range(n)]
    root = tmp_path / "val"
    paths = ArchivePaths(root)
    paths.table("truth.csv").parent.mkdir(parents=True, exist_ok=True)
    write_table(paths.table("truth.csv"), [
        {"scan_id": s, "pi_number": f"32701/030225/{i:07d}", "wagon_number": "45488855",
         "container_number": "CSQU3054383", "true_category": t, "true_hs_code": "6204" if t == "garments" else "6403",
         "true_goods_description": t, "true_net_weight_kg": "9000", "true_packages_count": "300", "mismatch": "none",
         "has_threat": "0", "threat_classes": ""} for i, (s, t) in enumerate(zip(ids, truth))])
    return pd.DataFrame({"scan_id": ids, "doc": docs}), root


@pytest.mark.slow
def test_fusion_is_fitted_and_judges_each_wagon_out_of_fold(tmp_path):
    df, root = archive(tmp_path, 160, declared_wrong=20)
    record, evidence = category_fusion(df, root, list(HEAD), p_rule=0.1)
    fusion = CategoryFusion.from_dict(record)
    assert set(fusion.classes) == {"footwear", "garments"} and record["n_units"] == 160
    assert np.isfinite(evidence).all()
    # wrong declarations read far more evidence than honest ones (density tells the two apart, the head cannot)
    assert np.median(evidence[:20]) > 1.0 > np.median(evidence[20:])


def test_too_few_wagons_leave_the_head_alone(tmp_path):
    df, root = archive(tmp_path, MIN_FUSION_UNITS - 2)
    assert category_fusion(df, root, list(HEAD), p_rule=0.1) == (None, None)


def two_container_archive(tmp_path, n: int, declared_wrong: int) -> tuple[pd.DataFrame, object]:
    """n flat wagons of two containers, footwear in one and garments in the other (each a unit block as the
    engine writes it); in the first ``declared_wrong`` wagons the second container is declared as the first's."""
    rng = np.random.default_rng(11)
    docs, rows, ids = [], [], [scan_id_for(i) for i in range(n)]
    for i, sid in enumerate(ids):
        cats = ("footwear", "garments") if i % 2 else ("garments", "footwear")
        names = (f"CSQU{i:06d}3", f"MSKU{i:06d}5")
        blocks = [inspection(rng, c) for c in cats]
        declared = [cats[0], cats[0] if i < declared_wrong else cats[1]]
        docs.append({"meta": blocks[0]["meta"],
                     "cargo": {"declared": sorted(set(declared)), "units": [
                         {"unit": u, "probabilities": b["cargo"]["probabilities"], "declared": [d]}
                         for u, b, d in zip(names, blocks, declared)]},
                     "material": {"per_unit": [{"unit": u, **b["material"]} for u, b in zip(names, blocks)]},
                     "mass": {"units": [{"unit": u, **b["mass"]} for u, b in zip(names, blocks)]}})
        rows += [{"scan_id": sid, "pi_number": f"32701/030225/{2 * i + k:07d}", "wagon_number": "45488855",
                  "container_number": u, "true_category": c, "true_hs_code": "", "true_goods_description": c,
                  "true_net_weight_kg": "9000", "true_packages_count": "300", "mismatch": "none",
                  "has_threat": "0", "threat_classes": ""} for k, (u, c) in enumerate(zip(names, cats))]
    root = tmp_path / "val2"
    ArchivePaths(root).table("truth.csv").parent.mkdir(parents=True, exist_ok=True)
    write_table(ArchivePaths(root).table("truth.csv"), rows)
    return pd.DataFrame({"scan_id": ids, "doc": docs}), root


@pytest.mark.slow
def test_fusion_is_fitted_on_units_and_a_wagon_reads_its_strongest_unit(tmp_path):
    """Two categories per wagon: no wagon has one true category, yet every container is a labelled unit. A lie in
    one container of two is the wagon's evidence."""
    df, root = two_container_archive(tmp_path, 80, declared_wrong=16)
    record, evidence = category_fusion(df, root, list(HEAD), p_rule=0.1)
    assert record is not None and record["n_units"] == 160
    assert np.isfinite(evidence).all()
    assert np.median(evidence[:16]) > 1.0 > np.median(evidence[16:])


def weighed_archive(tmp_path, n: int, understated: int) -> tuple[pd.DataFrame, object]:
    """n clean single-container wagons of liquids whose mass reads 15 % heavy at the dark level (90 % of it
    there); the first ``understated`` declare 75 % of their true weight."""
    from tests.inspect.test_mass_calibration import block

    rng = np.random.default_rng(3)
    ids, docs, rows = [scan_id_for(i) for i in range(n)], [], []
    for i, sid in enumerate(ids):
        true = float(rng.uniform(10000, 25000))
        read = true * 1.15 * (1 + rng.normal(0, 0.01))
        unit = {"unit": "CSQU3054383", **block(read, true * (0.75 if i < understated else 1.0))}
        docs.append({"scan_id": sid, "mass": {**unit, "units": [unit]}})
        rows.append({"scan_id": sid, "pi_number": f"32701/030225/{i:07d}", "wagon_number": "45488855",
                     "container_number": "CSQU3054383", "true_category": "liquids", "true_hs_code": "2710",
                     "true_goods_description": "oil", "true_net_weight_kg": f"{true:.1f}",
                     "true_packages_count": "1", "mismatch": "none", "has_threat": "0", "threat_classes": ""})
    root = tmp_path / "val"
    paths = ArchivePaths(root)
    paths.table("truth.csv").parent.mkdir(parents=True, exist_ok=True)
    write_table(paths.table("truth.csv"), rows)
    return pd.DataFrame({"scan_id": ids, "doc": docs, "clean": True, "evidence_mass": 0.0}), root


def test_mass_calibration_is_fitted_on_weighed_units_and_rejudges_each_wagon_out_of_fold(tmp_path):
    from cargoscan.inspect.config import InspectParams
    from cargoscan.inspect.mass_calibration import MassCalibration
    from cargoscan.training.calibrate import mass_calibration

    df, root = weighed_archive(tmp_path, 80, understated=20)
    record, evidence = mass_calibration(df, root, InspectParams())
    cal = MassCalibration.from_dict(record)
    assert cal.n == {"liquids": 80} and cal.beta["liquids"] == pytest.approx((1 - 1 / 1.15) / 0.9, abs=0.01)
    assert record["fitted_on"] == str(root) and np.isfinite(evidence).all()
    assert evidence[:20].min() > 1.0 > evidence[20:].max()       # seen once calibrated; honest ones pass
    assert (df["evidence_mass"] == 0.0).all()                       # the frame is not changed in place


def test_no_mass_calibration_without_enough_clean_units(tmp_path):
    from cargoscan.inspect.config import InspectParams
    from cargoscan.training.calibrate import mass_calibration

    df, root = weighed_archive(tmp_path, 30, understated=0)
    df["clean"] = np.arange(30) < 5
    assert mass_calibration(df, root, InspectParams()) == (None, None)
