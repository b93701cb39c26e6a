"""The input-validity check: every synthetic wagon kind passes, and each physical fault is named."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.archive import ArchivePaths, load_sample
from cargoscan.archive.validity import gap_clip_share, scan_problems


@pytest.fixture(scope="module")
def samples(tiny_archive):
    out = []
    for s in ArchivePaths(tiny_archive).scan_ids():
        x = load_sample(tiny_archive, s)
        p = x["meta"]["pixel_pitch_mm"]
        out.append((x["image"], (p["row"], p["column"])))
    return out


def names(image, pitch):
    return {p.name for p in scan_problems(np.ascontiguousarray(image), pitch)}


def test_every_synthetic_wagon_passes(samples):
    for im, pitch in samples:
        assert scan_problems(im, pitch) == []


FAULTS = {
    "levels": lambda im: np.stack([np.zeros_like(im[0]), im[1]]),                 # high page zeroed
    "swapped_channels": lambda im: im[::-1],
    "transposed": lambda im: np.swapaxes(im, 1, 2),
    "eight_bit": lambda im: (im >> 8).astype(np.uint16) * 257,
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_fault_is_named(samples, name):
    for im, pitch in samples:
        assert name in names(FAULTS[name](im), pitch), name


def test_inverted_is_refused(samples):
    for im, pitch in samples:
        assert names(65535 - im, pitch) & {"inverted", "swapped_channels", "levels"}


def test_upside_down_is_caught_whatever_the_load(samples):
    """Every wagon upside down or rotated 180° is caught, the one whose dense load starves the top band as much
    as the bogies starve the bottom included: the wagon's ends (couplers low, air above) decide."""
    from cargoscan.archive.validity import attenuation, end_structure

    for im, pitch in samples:
        assert end_structure(attenuation(im)[0]) > 0.02
        assert "orientation" in names(im[:, ::-1], pitch)
        assert "orientation" in names(np.rot90(im, 2, axes=(1, 2)), pitch)


def test_dense_load_at_the_top_is_not_upside_down(samples):
    """A load starved right up to the top rows (ore heaped high, a dense machine) is upright all the same."""
    im, pitch = samples[0]
    dense = im.copy()
    h, w = im.shape[1:]
    band = int(0.15 * h)
    dense[:, :band, int(0.1 * w):int(0.9 * w)] = 0                 # the load's top starves the detector
    assert "orientation" not in names(dense, pitch)
    assert "orientation" in names(dense[:, ::-1], pitch)


def test_low_page_zeroed_and_air_level(samples):
    for im, pitch in samples:
        assert names(np.stack([im[0], np.zeros_like(im[1])]), pitch)
        assert "levels" in names((im.astype(np.float64) * 0.8).astype(np.uint16), pitch)
        # gain too high: with air at full scale, noise clips about half the open beam; a gain of 1.3 clips it all
        for gain in (1.3, 2.0):
            assert "levels" in names(np.clip(im.astype(np.float64) * gain, 0, 65535).astype(np.uint16), pitch)


def test_a_small_gain_error_clips_the_gaps_before_and_after_the_wagon(samples):
    """The gap columns see only air: about half of them clip with air at full scale, all of them with a gain of
    1.08 (three noise σ), whatever thin walls a gain lifts towards full scale inside the wagon."""
    for im, pitch in samples:
        share = gap_clip_share(im[0])
        assert share is not None and 0.2 < share < 0.8
        faulted = np.clip(im.astype(np.float64) * 1.08, 0, 65535).astype(np.uint16)
        assert gap_clip_share(faulted[0]) > 0.95
        assert "levels" in names(faulted, pitch)


def test_gap_clip_share_needs_a_gap():
    wagon = np.full((100, 300), 30000, np.uint16)        # structure from end to end: nothing to measure
    assert gap_clip_share(wagon) is None
    wagon[:, :20] = 65535                                # a 20-column gap of pure, fully clipped air
    assert gap_clip_share(wagon) == 1.0


def test_noise_free_scan_is_refused(samples):
    from scipy import ndimage

    for im, pitch in samples:
        a = -np.log(np.clip(im.astype(np.float64) / 65535, 0.5 / 65535, 1))
        smooth = ndimage.gaussian_filter(a, (0, 3, 3))
        flat = np.clip(np.round(np.exp(-smooth) * 65535), 0, 65535).astype(np.uint16)
        assert "noise" in names(flat, pitch)


@pytest.mark.parametrize("domain", ["counts", "attenuation"])
def test_constant_sigma_noise_is_not_quantum(samples, domain):
    """A smoothed scan with Gaussian noise of constant σ: in counts σ_A grows as e^A (slope 1), in A not at all
    (slope 0); quantum noise grows as e^(A/2). The slope is read on the dual-energy residual, so texture cancels."""
    from scipy import ndimage

    from cargoscan.archive.validity import attenuation, noise_slope

    rng = np.random.default_rng(0)
    for im, pitch in samples:
        a = attenuation(im)
        assert 0.3 < noise_slope(a, 1.08)[0] < 0.8
        t = ndimage.gaussian_filter(im.astype(np.float64) / 65535, (0, 2, 2))
        if domain == "counts":
            noisy = t + rng.normal(0, 0.005, t.shape)
        else:
            noisy = np.exp(-(-np.log(np.clip(t, 1e-5, 1)) + rng.normal(0, 0.02, t.shape)))
        fake = np.clip(np.round(noisy * 65535), 0, 65535).astype(np.uint16)
        assert "noise" in names(fake, pitch)


def test_geometry(samples):
    im, pitch = samples[0]
    assert "geometry" in names(im, (pitch[0], pitch[1] * 10))
    assert "geometry" in names(im, (pitch[0] / 10, pitch[1]))
    assert "geometry" not in names(im, pitch)
