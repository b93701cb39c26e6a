"""Real-scanner statistics of a scan, as defined in ``data/realism_targets.json``.

The targets were measured on six real dual-energy rail scans; :func:`realism_stats` measures the same
quantities, the same way, on a synthetic scan, so tests and calibration can compare them directly.

**What sets each statistic in the synthesiser.**

* σ(A) per band (adjacent-column differences): photon noise (``photons_high/low``, the compound-Poisson
  second moment) dominates the lowest band and the starved highest; in between, real σ grows faster with A
  than photon noise because adjacent rays through real cargo cross different items. That texture is
  modelled in the scene, not in the noise: the goods are drawn as the items their packages hold, several
  package rows deep (:func:`cargoscan.synth.contents.contents_field`), with a finer log-normal clutter
  (:func:`cargoscan.synth.scene.heterogeneity`; organic bulk of the goods and their metal parts separately,
  per category), the running gear and underframe a clutter field. The system PSF (σ ≈ 1 px) blurs the
  signal before the noise, so it softens edges and texture but leaves the quantum noise white along columns.
* Zero-pixel fraction: photon starvation behind bogies, sills and dense cargo, set by the dark-level
  over-subtraction (``dark_offset``) and the loads (payload-capped fills).
* Median R: the per-scanner ``ratio_offset`` (see :mod:`cargoscan.physics.scanner`).
* Empty container A: the corrugated side walls (:func:`cargoscan.synth.wagons.corrugation`).

**Saturation differs by definition.** Archive format 1.0 fixes air at exactly 65535 (transmission 1), so the
noise clips about half of the air pixels at 65535 (~10% of a scan's pixels). Real scanners flat-field air a few
σ below full scale and saturate only 0.02-0.07% of pixels. The format's definition wins: importing real scans
renormalises their air to 65535, after which they clip the same way. ``saturated_fraction`` is reported but is
not a realism target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


# --- texture: the structure of real loads (targets' ``texture`` section) -------------------------------------

PATCH = 64               # px: the patch side of the texture targets
LOAD_A = 0.3             # a pixel is "in the load" above this A_high
LOAD_SHARE = 0.95        # a patch is in the load when this share of its pixels is
SLOPE_RANGES = {"spec_slope_low": (2, 8), "spec_slope_high": (8, 30)}   # cycles per patch
REALISM_FILE = "realism.json"   # in each archive the synthesiser writes: its texture gates (synth.generator)
TEXTURE_KEYS = ("std_A", "grad_p50", "grad_p90", *SLOPE_RANGES)       # the per-band statistics


def band_bounds(name: str) -> tuple[float, float]:
    """A texture band's (lo, hi) of patch-mean A from its name in the targets (``"1.5-3.0"``)."""
    lo, hi = name.split("-")
    return float(lo), float(hi)


def band_of(mean_a: float, bands) -> str | None:
    """The name of the band (of ``bands``' names) whose [lo, hi) holds a patch's mean A, or None."""
    return next((b for b in bands if band_bounds(b)[0] <= mean_a < band_bounds(b)[1]), None)


def attenuation_high(image: np.ndarray) -> np.ndarray:
    """A_high = −ln T_high of a (2, H, W) uint16 scan, a zero count read as one (float64)."""
    return -np.log(np.maximum(image[0], 1).astype(np.float64) / MAX_VALUE)


def _radial_spectrum(patch: np.ndarray) -> np.ndarray:
    """Radially averaged power spectrum of a mean-removed square patch, indexed by cycles per patch."""
    n = patch.shape[0]
    power = np.abs(np.fft.fftshift(np.fft.fft2(patch - patch.mean()))) ** 2
    yy, xx = np.indices(power.shape) - n // 2
    radius = np.rint(np.hypot(yy, xx)).astype(int)
    sums = np.bincount(radius.ravel(), power.ravel())
    counts = np.bincount(radius.ravel())
    return sums / np.maximum(counts, 1)


def spectral_slope(patch: np.ndarray, lo: int, hi: int) -> float:
    """Log-log slope of the radially averaged power spectrum over ``lo``–``hi`` cycles per patch."""
    spec = _radial_spectrum(patch)
    f = np.arange(lo, hi + 1)
    p = spec[f]
    if np.any(p <= 0):
        return float("nan")
    return float(np.polyfit(np.log(f), np.log(p), 1)[0])


def patch_texture(a: np.ndarray) -> dict[str, float]:
    """The targets' per-patch statistics of a (PATCH, PATCH) patch of A_high."""
    gy, gx = np.gradient(a)
    grad = np.hypot(gx, gy)
    out = {"mean_A": float(a.mean()), "std_A": float(a.std()),
           "grad_p50": float(np.percentile(grad, 50)), "grad_p90": float(np.percentile(grad, 90))}
    for key, (lo, hi) in SLOPE_RANGES.items():
        out[key] = spectral_slope(a, lo, hi)
    return out


def load_patches(a_high: np.ndarray, mask: np.ndarray | None = None) -> list[np.ndarray]:
    """Non-overlapping PATCH × PATCH patches of A_high that lie in the load.

    A patch is in the load when ≥ LOAD_SHARE of its pixels have A_high > LOAD_A (the targets' rule, which
    needs no labels, so a real scan is measured the same way); ``mask`` (optional, e.g. the cargo label)
    additionally requires that share of the patch to be inside it.
    """
    h, w = a_high.shape
    out = []
    for r in range(0, h - PATCH + 1, PATCH):
        for c in range(0, w - PATCH + 1, PATCH):
            p = a_high[r:r + PATCH, c:c + PATCH]
            if (p > LOAD_A).mean() < LOAD_SHARE:
                continue
            if mask is not None and mask[r:r + PATCH, c:c + PATCH].mean() < LOAD_SHARE:
                continue
            out.append(p)
    return out


@dataclass(frozen=True)
class ScanTexture:
    """One scan's share of the texture statistics: its patches' rows and the counts behind the load shares."""

    rows: tuple[dict[str, float], ...]   # patch_texture() of each load patch
    load_px: np.ndarray                  # A of those patches, subsampled every 8 px
    blocked: int                         # pixels with T_high == 0 and A_high > LOAD_A
    loaded: int                          # pixels with A_high > LOAD_A


def scan_texture(image: np.ndarray, mask: np.ndarray | None = None) -> ScanTexture:
    """Measure one (2, H, W) uint16 scan's load patches (``mask`` restricts them, see :func:`load_patches`)."""
    a = attenuation_high(image)
    patches = load_patches(a, mask)
    px = np.concatenate([q[::8, ::8].ravel() for q in patches]) if patches else np.zeros(0)
    return ScanTexture(tuple(patch_texture(q) for q in patches), px.astype(np.float32),
                       int(((image[0] == 0) & (a > LOAD_A)).sum()), int((a > LOAD_A).sum()))


def aggregate_texture(parts) -> dict:
    """The texture statistics of several scans from their :class:`ScanTexture` parts (see :func:`texture_stats`)."""
    parts = list(parts)
    rows = [r for part in parts for r in part.rows]
    bands = load_targets()["texture"]["bands"]
    out: dict = {"bands": {}, "n_patches": len(rows), "n_scans": len(parts)}
    for name in bands:
        sel = [r for r in rows if band_of(r["mean_A"], (name,))]
        if sel:
            out["bands"][name] = {"n": len(sel), **{k: float(np.nanmedian([r[k] for r in sel]))
                                                    for k in TEXTURE_KEYS}}
    px = np.concatenate([part.load_px for part in parts]) if parts else np.zeros(0)
    blocked, loaded = sum(part.blocked for part in parts), sum(part.loaded for part in parts)
    out["load"] = {
        "A_quantiles_10_50_90": [float(q) for q in np.percentile(px, [10, 50, 90])] if px.size else None,
        "share_A_gt_6": float((px > 6).mean()) if px.size else None,
        "blocked_share": blocked / loaded if loaded else None,
    }
    return out


def texture_stats(images, masks=None) -> dict:
    """Texture statistics of one or more (2, H, W) uint16 scans, measured as the targets' ``texture`` were.

    Args:
        images: scans (page 0 high energy), value = transmission × 65535.
        masks: optional (H, W) bool masks per scan restricting the patches (e.g. cargo labels).

    Returns:
        ``bands``: {band name: {n, std_A, grad_p50, grad_p90, spec_slope_low, spec_slope_high}} (medians over
        the patches whose mean A falls in the band; absent keys where a band is empty); ``load``: the 10/50/90th
        percentiles of A over the patches subsampled every 8 px, the share above A = 6, and ``blocked_share``
        (T_high == 0 among pixels with A_high > 0.3, whole scans).
    """
    return aggregate_texture(scan_texture(image, None if masks is None else masks[i])
                             for i, image in enumerate(images))


# --- the texture gates: the targets' tolerance, stated once ------------------------------------------------


def allowed_range(key: str, real: float, tol: dict) -> tuple[float, float]:
    """The tolerance of issue #17 around a real band statistic: slopes ±``slope_abs``, every other statistic
    ±``relative`` of the real value."""
    pad = tol["slope_abs"] if key.startswith("spec_slope") else tol["relative"] * abs(real)
    return real - pad, real + pad


def within(key: str, real: float, synthetic: float | None, tol: dict) -> bool:
    """Whether a synthetic band statistic lies in :func:`allowed_range`; an unmeasured one (an empty band) does
    not."""
    lo, hi = allowed_range(key, real, tol)
    return synthetic is not None and bool(np.isfinite(synthetic)) and lo <= synthetic <= hi


def texture_gates(stats: dict, targets: dict | None = None) -> list[dict]:
    """Each texture gate of :func:`texture_stats`'s ``stats`` against the real targets.

    Returns:
        one row per gate: ``gate`` (``<band>/<statistic>`` or ``load/<statistic>``), ``real``, ``synthetic``
        (None where unmeasured), ``allowed`` ([lo, hi]) and ``passed``.
    """
    target = (targets or load_targets())["texture"]
    tol = target["tolerance"]
    rows = []
    for band, real in target["bands"].items():
        mine = stats["bands"].get(band, {})
        for key in TEXTURE_KEYS:
            r, v = real[key], mine.get(key)
            rows.append({"gate": f"{band}/{key}", "real": r, "synthetic": v,
                         "allowed": list(allowed_range(key, r, tol)), "passed": within(key, r, v, tol)})
    load = stats["load"]
    share, blocked = load.get("share_A_gt_6"), load.get("blocked_share")
    lo, hi = tol["share_A_gt_6"]
    rows.append({"gate": "load/share_A_gt_6", "real": target["load"]["share_A_gt_6"], "synthetic": share,
                 "allowed": [lo, hi], "passed": share is not None and lo <= share <= hi})
    rows.append({"gate": "load/blocked_share", "real": target["load"]["blocked_share"], "synthetic": blocked,
                 "allowed": [0.0, tol["blocked_share_max"]],
                 "passed": blocked is not None and blocked <= tol["blocked_share_max"]})
    return rows
