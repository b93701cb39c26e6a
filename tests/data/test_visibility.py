import numpy as np
import pytest

from cargoscan.data.dataset import Prepared
from cargoscan.data.visibility import region_contrast, threat_visibility, visibility_summary, visible_scans


def _scene(contrast: float, seed: int = 0):
    """A wagon of textured cargo (A ≈ 2 ± 0.1) with a 6×6 region offset by ``contrast`` in A_high only."""
    rng = np.random.default_rng(seed)
    image = np.stack([2 + 0.1 * rng.standard_normal((40, 40)), 1.5 + 0.1 * rng.standard_normal((40, 40)),
                      1.1 + 0.01 * rng.standard_normal((40, 40))]).astype(np.float32)
    mask = np.full((40, 40), 2, dtype=np.uint8)
    region = np.zeros((40, 40), dtype=bool)
    region[17:23, 17:23] = True
    image[0][region] += contrast
    return image, mask, region


def test_a_dense_block_stands_out_and_a_matched_one_does_not():
    bright = region_contrast(*_scene(0.5), channels=[0, 2])
    hidden = region_contrast(*_scene(0.0), channels=[0, 2])
    assert bright[0] > 3 and bright[1] < 1        # attenuation contrast, no material contrast
    assert hidden[0] < 1 and hidden[1] < 1


def test_a_region_with_only_air_around_it_cannot_be_measured():
    image, mask, region = _scene(0.5)
    mask[:] = 0                                    # nothing labelled around: no texture to compare with
    assert region_contrast(image, mask, region, channels=[0]) is None


def test_visibility_of_the_tiny_archive_covers_every_threat_scan(tiny_prepared):
    data = Prepared(tiny_prepared)
    regions = threat_visibility(data)
    threat_scans = set(data.index.loc[data.index["has_threat"] == 1, "scan_id"])
    assert set(regions["scan_id"]) <= threat_scans and len(regions) > 0
    assert {"cnr_a_high", "cnr_ratio", "visible"} <= set(regions.columns)
    assert (regions[["cnr_a_high", "cnr_ratio"]] >= 0).all().all()
    summary = visibility_summary(regions)
    assert sum(v["regions"] for v in summary.values()) == len(regions)
    assert all(0.0 <= v["visible_share"] <= 1.0 for v in summary.values())
    assert visible_scans(regions) == set(regions.loc[regions["visible"], "scan_id"])
    only_test = threat_visibility(data, "test")
    test_scans = set(data.index.loc[data.index["split"] == "test", "scan_id"])
    assert set(only_test["scan_id"]) <= test_scans
