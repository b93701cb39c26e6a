"""The import checks on the synthesiser's own wagons: every kind passes as is, and each mistake is caught."""

import numpy as np
import pytest

from cargoscan.archive import ArchivePaths, load_sample
from cargoscan.synth import generator  # noqa: F401  (tiny_archive renders with it; fail, never skip)
from cargoscan.tip.checks import run_checks


@pytest.fixture(scope="module")
def scans(tiny_archive):
    return [load_sample(tiny_archive, s)["image"] for s in ArchivePaths(tiny_archive).scan_ids()]


def names(raw, image=None, air=65535.0):
    return [f.name for f in run_checks(raw, raw if image is None else image, air)]


def test_every_wagon_kind_passes(scans):
    for im in scans:
        assert names(im) == []


def test_upside_down_caught(scans):
    for im in scans:
        assert "orientation" in names(np.ascontiguousarray(im[:, ::-1]))


def test_swapped_channels_caught(scans):
    for im in scans:
        assert "swapped_channels" in names(np.ascontiguousarray(im[::-1]))


def test_log_image_caught(scans):
    for im in scans:
        a = -np.log(np.clip(im.astype(float) / 65535, 0.5 / 65535, 1))
        log_image = np.rint(a / a.max() * 65535).astype(np.uint16)
        assert names(log_image)[:1] == ["inverted"]


def test_eight_bit_caught(scans):
    for im in scans:
        assert "eight_bit" in names((im >> 8).astype(np.uint16) * 257)
        assert "eight_bit" in names(im >> 8, im)


def test_physical_checks_are_the_engines(scans):
    """One implementation: every physical failure at import is the engine's validity problem, with the option
    to change appended; the raw-value checks are import's own."""
    from cargoscan.archive.validity import scan_problems
    from cargoscan.tip.checks import HINTS, RAW_CHECKS

    for im in scans:
        wrong = np.ascontiguousarray(im[::-1, ::-1])               # pages swapped and upside down
        failures = run_checks(wrong, wrong, 65535.0, pitch_mm=(5.0, 5.0))
        engine = scan_problems(wrong, (5.0, 5.0))
        assert [f.name for f in failures if f.name not in RAW_CHECKS] == [p.name for p in engine]
        assert {"swapped_channels", "orientation"} <= {f.name for f in failures}
        assert all(f.message.endswith(HINTS[f.name]) for f in failures if f.name not in RAW_CHECKS)
        assert "--force orientation" in str(next(f for f in failures if f.name == "orientation"))


def test_wrong_pitch_caught_when_given(scans):
    im = scans[0]
    assert "geometry" in names_with_pitch(im, (0.5, 0.5))
    assert "geometry" not in names_with_pitch(im, (10.0, 10.0))       # 2.4 × 8.3 m
    assert "geometry" not in [f.name for f in run_checks(im, im, 65535.0, skip=("geometry",), pitch_mm=(0.5, 0.5))]


def names_with_pitch(im, pitch):
    return [f.name for f in run_checks(im, im, 65535.0, pitch_mm=pitch)]
