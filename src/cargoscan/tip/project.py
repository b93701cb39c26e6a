"""Threat image projection through the scanner's polyenergetic physics.

Multiplying transmissions (adding attenuations) is wrong at MeV energies: behind a thick background the beam
is
already hardened, so an added object attenuates it *less* than it would in air — log-additive insertion
overestimates the combined attenuation by several per cent at 6 MeV. So, per pixel of the window around the
threat:

1. the measured scan becomes physical transmission (dark level added back) and, smoothed, is decomposed into
the
   background's equivalent path lengths of two basis materials (:class:`BackgroundModel`: the inverse of the
   scanner model over a table of basis paths);
2. the scanner model gives the transmission of background + threat and of the background alone; their ratio
   ``f ≤ 1`` is the threat's effect *behind this background*, per energy channel;
3. ``f`` goes through the acquisition's geometry: the low channel's column lag and the detector PSF;
4. the measured pixels are multiplied by ``f`` — which keeps the scan's own structure, streaks and noise
   texture — and the noise that the lower transmission lacks is added: the local σ comes from adjacent-column
   differences, quantum variance scales with the signal, so the missing variance is σ²·(f − f²);
5. quantisation as the scanner does it: starved pixels (0) stay 0, values clip at 0 and 65535.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from cargoscan.tip.config import TipParams
from cargoscan.tip.library import ThreatPatch

MAX_VALUE = 65535.0
#: Largest attenuation the inversion aims at: a starved pixel reads ln(131070) ≈ 11.8.
A_MAX = 12.0
_B0, _BMAX, _N = 0.5, 800.0, 96  # basis areal-density grid (g/cm²), log-spaced as the scanner's own table


class BackgroundModel:
    """(A_high, A_low) → equivalent path lengths (cm) of two basis materials, by inverting the scanner model.

    The forward model is tabulated once on a log-spaced grid of basis areal densities (one call of
    ``scanner.transmission`` with the grid as an image) and inverted per pixel by damped Newton steps on its
    bilinear interpolation, started from the nearest grid node. At MeV energies the two basis directions are
    nearly parallel, so the split between them is loosely determined — but any split that reproduces both
    measured attenuations hardens the beam alike, which is all the projection needs.
    """

    def __init__(self, scanner, basis: tuple[str, str], steps: int = 8):
        from cargoscan.synth.materials import get_material

        self.basis = basis
        self.steps = steps
        self.density = np.array([get_material(b).density_g_cm3 for b in basis])
        self.u = np.linspace(0.0, np.log1p(_BMAX / _B0), _N)
        self.du = float(self.u[1] - self.u[0])
        g = _B0 * np.expm1(self.u)
        b1, b2 = np.meshgrid(g, g, indexing="ij")
        t = scanner.transmission(
            {
                basis[0]: (b1 / self.density[0]).astype(np.float32),
                basis[1]: (b2 / self.density[1]).astype(np.float32),
            }
        )
        a = -np.log(np.clip(t.astype(np.float64), 1e-30, 1.0))
        self.table = np.ascontiguousarray(np.moveaxis(a, 0, -1))  # (N, N, 2)
        # First guesses: the nearest grid node in (A_high, A_low). The attenuation surface bends (hardening
        # changes the dual-energy ratio with thickness), so Newton from a fixed start can stall at a bound.
        uu1, uu2 = np.meshgrid(np.arange(_N), np.arange(_N), indexing="ij")
        keep = (a[0] < A_MAX + 1).ravel()
        self._nodes = np.stack([uu1.ravel()[keep], uu2.ravel()[keep]]).astype(np.float64)
        self._tree = cKDTree(np.stack([a[0].ravel()[keep], a[1].ravel()[keep]], axis=1))

    def _eval(self, k1: np.ndarray, k2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bilinear value and derivatives (per grid step) at fractional grid coordinates: (2, N) each."""
        i1 = np.minimum(k1.astype(np.int64), _N - 2)
        i2 = np.minimum(k2.astype(np.int64), _N - 2)
        f1, f2 = (k1 - i1)[:, None], (k2 - i2)[:, None]
        v00, v01 = self.table[i1, i2], self.table[i1, i2 + 1]
        v10, v11 = self.table[i1 + 1, i2], self.table[i1 + 1, i2 + 1]
        value = (1 - f1) * ((1 - f2) * v00 + f2 * v01) + f1 * ((1 - f2) * v10 + f2 * v11)
        d1 = (1 - f2) * (v10 - v00) + f2 * (v11 - v01)
        d2 = (1 - f1) * (v01 - v00) + f1 * (v11 - v10)
        return value.T, d1.T, d2.T

    def invert(self, a_high: np.ndarray, a_low: np.ndarray) -> dict[str, np.ndarray]:
        """Basis path maps (cm, float32, the inputs' shape) reproducing both attenuations."""
        shape = a_high.shape
        target = np.stack([np.clip(a_high, 0, A_MAX).ravel(), np.clip(a_low, 0, A_MAX).ravel()])
        _, nearest = self._tree.query(target.T)
        k1, k2 = self._nodes[0][nearest], self._nodes[1][nearest]
        top = float(_N - 1)
        for _ in range(self.steps):
            value, d1, d2 = self._eval(k1, k2)
            r = value - target
            j11, j21, j12, j22 = d1[0], d1[1], d2[0], d2[1]
            # Levenberg–Marquardt on the 2×2 system: damping keeps the near-parallel directions from blowing
            # up.
            a11, a12, a22 = j11 * j11 + j21 * j21, j11 * j12 + j21 * j22, j12 * j12 + j22 * j22
            lam = 1e-3 * (a11 + a22) + 1e-12
            g1, g2 = j11 * r[0] + j21 * r[1], j12 * r[0] + j22 * r[1]
            det = (a11 + lam) * (a22 + lam) - a12 * a12
            k1 = np.clip(k1 - ((a22 + lam) * g1 - a12 * g2) / det, 0, top)
            k2 = np.clip(k2 - ((a11 + lam) * g2 - a12 * g1) / det, 0, top)
        p = _B0 * np.expm1(np.stack([k1, k2]) * self.du) / self.density[:, None]
        return {b: p[i].reshape(shape).astype(np.float32) for i, b in enumerate(self.basis)}


def shift_columns(img: np.ndarray, shift: float) -> np.ndarray:
    """Sample ``img`` ``shift`` columns later (linear interpolation, edge repeated): the low pulse's lag."""
    if shift == 0:
        return img
    whole = int(np.floor(shift))
    frac = shift - whole
    w = img.shape[-1]
    i0 = np.clip(np.arange(w) + whole, 0, w - 1)
    i1 = np.clip(i0 + 1, 0, w - 1)
    return img[..., i0] * (1 - frac) + img[..., i1] * frac


def blur(img: np.ndarray, sigma_row: float, sigma_col: float) -> np.ndarray:
    """The detector PSF: a separable Gaussian (as the synthesiser's acquisition chain)."""
    if sigma_row < 0.05 and sigma_col < 0.05:
        return img
    return cv2.GaussianBlur(
        img, (0, 0), sigmaX=max(sigma_col, 1e-3), sigmaY=max(sigma_row, 1e-3), borderType=cv2.BORDER_REFLECT
    )


@dataclass(frozen=True)
class _Psf:
    sigma: tuple[float, float]
    kappa: float  #: Σk²: variance kept by the PSF from white noise
    diff_gain: float  #: var(adjacent-column difference) / var(pixel) of PSF-blurred white noise


def _psf(sigma_row: float, sigma_col: float) -> _Psf:
    delta = np.zeros((41, 41), np.float32)
    delta[20, 20] = 1.0
    k = blur(delta, sigma_row, sigma_col).astype(np.float64)
    kappa = float((k**2).sum())
    diff = float(((k - np.roll(k, 1, axis=1)) ** 2).sum())
    return _Psf((sigma_row, sigma_col), kappa, diff / kappa)


class Projector:
    """Projects threat patches into scans with one scanner model.

    Args:
        scanner: a ``cargoscan.synth.physics.Scanner`` (its ``params`` give PSF, low-channel lag, dark level).
        params: the ``tip`` parameters.
    """

    def __init__(self, scanner, params: TipParams = TipParams()):
        self.scanner = scanner
        self.params = params
        self.background = BackgroundModel(scanner, params.basis, params.decompose_steps)
        sp = scanner.params
        self.psf = _psf(
            getattr(sp, "blur_row", params.psf_sigma_px), getattr(sp, "blur_col", params.psf_sigma_px)
        )
        self.lag = float(getattr(sp, "misregistration_cols", 0.0))
        self.dark = float(getattr(sp, "dark_offset", params.starvation_value / MAX_VALUE))
        self.margin = int(np.ceil(4 * max(self.psf.sigma) + abs(self.lag))) + 2

    def factor(
        self, t_background: np.ndarray, threat: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel factors of the threat behind the background, no PSF: ``f`` = T(background + threat) /
        T(background) of the signal, and ``f2`` the same of its second moment (what the quantum noise scales
        by:
        the hardened beam deposits more per photon, so the noise falls less than the signal).

        Args:
            t_background: (2, h, w) smooth physical transmission of the background.
            threat: the threat's path maps (cm) over the same window.
        """
        f = np.ones(t_background.shape, np.float64)
        f2 = f.copy()
        sel = np.any([p > 0 for p in threat.values()], axis=0)
        if not sel.any():
            return f, f2
        # Only the threat's pixels change (f = 1 elsewhere, exactly): decompose and project just those, packed
        # into a near-square image (the scanner's lookups want 2-D maps of moderate width).
        n = int(sel.sum())
        cols = int(np.ceil(np.sqrt(n)))
        rows = -(-n // cols)

        def pack(vec: np.ndarray) -> np.ndarray:
            out = np.zeros(rows * cols, np.float32)
            out[:n] = vec
            return out.reshape(rows, cols)

        a = -np.log(np.clip(t_background[:, sel], np.exp(-A_MAX), 1.0))
        bg = {k: pack(v) for k, v in self.background.invert(a[0], a[1]).items()}
        both = dict(bg)
        for name, p in threat.items():
            both[name] = both[name] + pack(p[sel]) if name in both else pack(p[sel])
        t_bg, m_bg = (x.reshape(2, -1)[:, :n] for x in moments(self.scanner, bg))
        t_all, m_all = (x.reshape(2, -1)[:, :n] for x in moments(self.scanner, both))
        f[:, sel] = np.clip(t_all / np.maximum(t_bg, 1e-30), 0.0, 1.0)
        f2[:, sel] = np.clip(m_all / np.maximum(m_bg, 1e-30), 0.0, 1.0)
        return f, f2

    def project(
        self, image: np.ndarray, patch: ThreatPatch, y: int, x: int, rng: np.random.Generator
    ) -> np.ndarray:
        """A copy of ``image`` (2, H, W) uint16 with ``patch`` projected at top-left (``y``, ``x``).

        Raises:
            ValueError: when the patch does not lie wholly inside the image.
        """
        h, w = image.shape[1:]
        ph, pw = patch.shape
        if y < 0 or x < 0 or y + ph > h or x + pw > w:
            raise ValueError(f"a {ph}×{pw} patch at ({y}, {x}) leaves the {h}×{w} scan")
        m = self.margin
        y0, y1, x0, x1 = max(0, y - m), min(h, y + ph + m), max(0, x - m), min(w, x + pw + m)
        raw = image[:, y0:y1, x0:x1]
        v = raw.astype(np.float64) / MAX_VALUE
        t_true = np.minimum(v + self.dark, 1.0)  # dark level back: the physical signal
        sm = self.params.background_smoothing_px
        t_smooth = np.stack([ndimage.gaussian_filter(c, sm) for c in t_true]) if sm > 0 else t_true

        threat = {}
        for name, p in patch.paths.items():
            full = np.zeros((y1 - y0, x1 - x0), np.float32)
            full[y - y0 : y - y0 + ph, x - x0 : x - x0 + pw] = p
            threat[name] = full
        f, f2 = self.factor(t_smooth, threat)
        f[1], f2[1] = shift_columns(f[1], self.lag), shift_columns(f2[1], self.lag)
        f = np.stack([blur(c.astype(np.float32), *self.psf.sigma) for c in f]).astype(np.float64)
        f2 = np.stack([blur(c.astype(np.float32), *self.psf.sigma) for c in f2]).astype(np.float64)

        out = t_true * f
        if self.params.renoise:
            out += self._missing_noise(v, f, f2, rng)
        value = np.rint(np.clip((out - self.dark) * MAX_VALUE, 0, MAX_VALUE))
        value[raw == 0] = 0  # starved stays starved
        result = image.copy()
        result[:, y0:y1, x0:x1] = value.astype(np.uint16)
        return result

    def _missing_noise(
        self, v: np.ndarray, f: np.ndarray, f2: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Noise with the variance the darker pixels lack, σ²·(f₂ − f²), textured by the PSF."""
        var = local_variance(v, self.psf.diff_gain)
        missing = np.clip(var * (f2 - f * f), 0, None)
        white = rng.standard_normal(v.shape) * np.sqrt(missing / self.psf.kappa)
        return np.stack([blur(c.astype(np.float32), *self.psf.sigma) for c in white]).astype(np.float64)


def moments(scanner, paths: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Ideal transmission of the signal and of its second moment, (2, …) each, float64.

    The synthesiser's scanner tabulates both (its ``_lookup`` gives −ln of each); a scanner model without the
    second moment falls back to the signal's (variance ∝ signal, plain Poisson).
    """
    lookup, basis_maps = getattr(scanner, "_lookup", None), getattr(scanner, "basis_maps", None)
    if lookup is not None and basis_maps is not None:
        table = np.asarray(lookup(*basis_maps(paths)), np.float64)
        if table.shape[0] >= 4:
            return np.exp(-table[:2]), np.exp(-table[2:4])
    t = np.asarray(scanner.transmission(paths), np.float64)
    return t, t


def local_variance(v: np.ndarray, diff_gain: float = 2.0, size: tuple[int, int] = (3, 7)) -> np.ndarray:
    """Per-pixel noise variance of (C, h, w) values from adjacent-column differences.

    The median absolute difference (robust to the scan's own edges) over a window, as a Gaussian σ, divided by
    the PSF's difference gain (2 for white noise).
    """
    out = np.empty_like(v)
    for c in range(v.shape[0]):
        d = np.abs(np.diff(v[c], axis=1))
        d = np.concatenate([d, d[:, -1:]], axis=1)
        med = ndimage.median_filter(d, size=size, mode="nearest")
        out[c] = (med / 0.6745) ** 2 / diff_gain
    return out
