"""The import checks on the synthesiser's own wagons: every kind passes as is, and each mistake is caught."""

import numpy as np
import pytest

pytest.importorskip("cargoscan.synth.generator")

from cargoscan.archive import ArchivePaths, load_sample  # noqa: E402
from cargoscan.tip.checks import run_checks  # noqa: E402


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
