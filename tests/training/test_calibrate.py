"""Export's category fusion on a validation archive (training.calibrate.category_fusion), on hand-made
inspections: fitted on wagons of one true category, each wagon's cargo evidence from a fusion fitted without it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cargoscan.archive import ArchivePaths
from cargoscan.archive.tables import write_table
from cargoscan.inspect.fusion import CategoryFusion
from cargoscan.training.calibrate import MIN_FUSION_WAGONS, category_fusion
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
    assert set(fusion.classes) == {"footwear", "garments"} and record["n_wagons"] == 160
    assert np.isfinite(evidence).all()
    # wrong declarations read far more evidence than honest ones (density tells the two apart, the head cannot)
    assert np.median(evidence[:20]) > 1.0 > np.median(evidence[20:])


def test_too_few_wagons_leave_the_head_alone(tmp_path):
    df, root = archive(tmp_path, MIN_FUSION_WAGONS - 2)
    assert category_fusion(df, root, list(HEAD), p_rule=0.1) == (None, None)
