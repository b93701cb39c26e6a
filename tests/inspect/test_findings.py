"""Risk areas and unit spans."""

from __future__ import annotations

import numpy as np

from cargoscan.archive.classes import class_names, threat_ids
from cargoscan.inspect.findings import risk_areas, unit_spans


def test_unit_spans_find_gaps_or_split_equally():
    a = np.zeros((50, 300), np.float32)
    a[10:40, 10:140] = 1.0
    a[10:40, 160:290] = 1.0
    u = unit_spans(a, ["AAAU0000001", "BBBU0000002"], "45488855")
    assert u.method == "gaps" and 140 <= u.spans[0][1] <= 160 and u.spans[0][0] == 10 and u.spans[1][1] == 290
    solid = np.zeros((50, 300), np.float32)
    solid[10:40, 10:290] = 1.0
    u = unit_spans(solid, ["AAAU0000001", "BBBU0000002"], None)
    assert u.method == "equal" and u.spans == ((10, 150), (150, 290))
    assert unit_spans(solid, [], "45488855").names == ("45488855",)


def test_risk_areas_components_scores_and_metres():
    names = tuple(class_names())
    threat = np.isin(np.arange(len(names)), threat_ids())
    labels = np.zeros((40, 100), np.uint8)
    score = np.full((40, 100), 0.5, np.float16)
    labels[5:15, 10:20] = names.index("drugs")
    score[5:15, 10:20] = 0.9
    labels[20:30, 60:90] = names.index("weapon")
    score[20:30, 60:90] = 0.7
    labels[0, 99] = names.index("weapon")              # a one-pixel speck: dropped
    units = unit_spans(np.ones((40, 100), np.float32), ["AAAU0000001", "BBBU0000002"], None)
    areas, id_map = risk_areas(labels, score, names, threat, (80, 200), (5.0, 5.0), (10.0, 10.0), units,
                               min_area_px=4)
    assert [a.cls for a in areas] == ["drugs", "weapon"] and [a.id for a in areas] == [1, 2]
    d = areas[0]
    assert d.bbox_px == [20, 10, 40, 30]                  # model px × 2 = scan px
    assert d.bbox_m == [0.1, 0.25, 0.2, 0.35]             # heights above the rail: (80 − 30) × 5 mm ...
    assert abs(d.area_m2 - 100 * 1e-4) < 1e-9 and abs(d.score - 0.9) < 1e-3
    assert d.unit == "AAAU0000001" and areas[1].unit == "BBBU0000002"
    assert (id_map == 1).sum() == 100 and (id_map == 2).sum() == 300
