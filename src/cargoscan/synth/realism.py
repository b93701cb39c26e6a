"""Real-scanner statistics of a scan, as defined in ``data/realism_targets.json``.

The targets were measured on six real dual-energy rail scans; :func:`realism_stats` measures the same
quantities, the same way, on a synthetic scan, so tests and calibration can compare them directly.

**What sets each statistic in the synthesiser.**

* σ(A) per band (adjacent-column differences): photon noise (``photons_high/low``, the compound-Poisson
  second moment) dominates the lowest band and the starved highest; in between, real σ grows faster with A
  than photon noise because adjacent rays through real cargo cross different items. That texture is
  modelled in the scene, not in the noise: goods carry a log-normal heterogeneity field
  (:func:`cargoscan.synth.scene.heterogeneity`; organic bulk of the goods and their metal parts separately,
  per category), the running gear and underframe a clutter field. The system PSF (σ ≈ 1 px) blurs the
  signal before the noise, so it softens edges and texture but leaves the quantum noise white along columns.
* Zero-pixel fraction: photon starvation behind bogies, sills and dense cargo, set by the dark-level
  over-subtraction (``dark_offset``) and the loads (payload-capped fills).
* Median R: the per-scanner ``ratio_offset`` (see :mod:`cargoscan.synth.physics`).
* Empty container A: the corrugated side walls (:func:`cargoscan.synth.wagons.corrugation`).

**Saturation differs by definition.** Archive format 1.0 fixes air at exactly 65535 (transmission 1), so the
noise clips about half of the air pixels at 65535 (~10% of a scan's pixels). Real scanners flat-field air a few
σ below full scale and saturate only 0.02-0.07% of pixels. The format's definition wins: importing real scans
renormalises their air to 65535, after which they clip the same way. ``saturated_fraction`` is reported but is
not a realism target.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

MAX_VALUE = 65535.0


def load_targets() -> dict:
    """The packaged real-scanner targets (provenance inside)."""
    return json.loads(resources.files("cargoscan.synth").joinpath("data", "realism_targets.json").read_text())


def band_sigma(a: np.ndarray, valid: np.ndarray, bands) -> list[float | None]:
    """σ of A per band from adjacent-column differences: 1.4826·MAD/√2 (robust to edges).

    Args:
        a: (H, W) attenuation −ln T.
        valid: (H, W) bool, pixels with a finite A (non-zero).
        bands: [(lo, hi), ...] bands of A; a pair of neighbours counts when both lie in the band.

    Returns:
        σ per band, None where fewer than 50 pairs fall in it.
    """
    left, right = a[:, :-1], a[:, 1:]
    ok = valid[:, :-1] & valid[:, 1:]
    diff = right - left
    out = []
    for lo, hi in bands:
        sel = ok & (left > lo) & (left < hi) & (right > lo) & (right < hi)
        d = diff[sel]
        if d.size < 50:
            out.append(None)
            continue
        mad = np.median(np.abs(d - np.median(d)))
        out.append(float(1.4826 * mad / np.sqrt(2.0)))
    return out


def realism_stats(image: np.ndarray, bands=None) -> dict:
    """Measure a (2, H, W) uint16 scan the way the real-scanner targets were measured.

    Args:
        image: page 0 high energy, page 1 low; value = transmission × 65535.
        bands: bands of A_high for the noise σ (default: the targets' bands).

    Returns:
        dict with ``zero_fraction`` {high, low}, ``saturated_fraction`` {high, low}, ``sigma_a_high`` and
        ``sigma_a_low`` (lists per band, None for an empty band), ``bands``, ``median_r`` (A_low/A_high over
        0.5 < A_high < 6 with both channels > 0; None without such pixels).
    """
    if image.ndim != 3 or image.shape[0] != 2 or image.dtype != np.uint16:
        raise ValueError(f"expected a (2, H, W) uint16 scan, got {image.shape} {image.dtype}")
    if bands is None:
        bands = load_targets()["noise_sigma_of_A_high"]["bands"]
    valid = image > 0
    a = -np.log(np.maximum(image, 1).astype(np.float64) / MAX_VALUE)
    both = valid[0] & valid[1]
    sel = both & (a[0] > 0.5) & (a[0] < 6.0)
    r = a[1][sel] / a[0][sel]
    # The low channel's noise is measured in the bands of its own A, like the targets' "1.3x noisier" note.
    return {
        "zero_fraction": {"high": float((image[0] == 0).mean()), "low": float((image[1] == 0).mean())},
        "saturated_fraction": {"high": float((image[0] == 65535).mean()),
                               "low": float((image[1] == 65535).mean())},
        "bands": [list(b) for b in bands],
        "sigma_a_high": band_sigma(a[0], valid[0], bands),
        "sigma_a_low": band_sigma(a[1], valid[1], bands),
        "median_r": float(np.median(r)) if r.size else None,
    }
