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
3. ``f`` goes through the acquisition's geometry with the scanner's own filters, in its order: the system PSF
   (with the low channel's column lag) on the signal's and the second moment's factors, then the channels'
   crosstalk on the signal's (it acts on the noisy signal);
4. the measured pixels are multiplied by ``f`` — which keeps the scan's own structure, streaks and noise
   texture — and the noise that the lower transmission lacks is added: the local σ comes from adjacent-column
   differences (the noise is white along columns), the quantum variance scales with the second moment, so the
   missing variance is σ²·(f₂ − f²), drawn white and passed through the crosstalk;
5. quantisation as the scanner does it: starved pixels (0) stay 0, values clip at 0 and 65535.

**Removal** (voids, hollowed goods: ``ThreatPatch.removal``). A patch may also take cargo *away*: over its
footprint a fraction ``r`` of the background's equivalent path above the wall level is removed before the
threat's paths are added, ``f = T(bg·(1 − r_eff) + threat) / T(bg)`` with ``r_eff = r·(1 − k)``, where ``k``
is the fraction of the background's (basis) path that alone, in the open beam, attenuates ``A_wall`` =
:attr:`Projector.wall_attenuation`: the wagon's two side walls, in the background's material mix, are never
removed (paths add exactly, attenuations do not). Then ``f`` may exceed 1: the output clips at 65535 as the
scanner does. The noise of a brighter pixel is *lower* than the scaled measured noise f·σ; noise cannot be
taken out, so the missing variance clips at 0 there (the void carries a little too much noise: at most f·σ instead of σ·√f₂, a few per
cent for the removals of the library). Patches without ``removal`` give exactly the results they gave before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from cargoscan.tip.config import TipParams
from cargoscan.tip.library import ThreatPatch

MAX_VALUE = 65535.0
#: Largest attenuation the inversion aims at: a starved pixel reads ln(131070) ≈ 11.8.
A_MAX = 12.0
_B0, _BMAX, _N = 0.5, 800.0, 96  # basis areal-density grid (g/cm²), log-spaced as the scanner's own table
#: A_high of the wagon's own side walls, kept when a patch removes cargo (≈ two 2.5 mm steel walls at 6 MeV).
WALL_ATTENUATION = 0.2


class BackgroundModel:
    """(A_high, A_low) → equivalent path lengths (cm) of two basis materials, by inverting the scanner model.

    The forward model is tabulated once on a log-spaced grid of basis areal densities (one call of
    ``scanner.transmission`` with the grid as an image) and inverted per pixel by damped Newton steps on its
    bilinear interpolation, started from the nearest grid node. At MeV energies the two basis directions are
    nearly parallel, so the split between them is loosely determined — but any split that reproduces both
    measured attenuations hardens the beam alike, which is all the projection needs.
    """

    def __init__(self, scanner, basis: tuple[str, str], steps: int = 8):
        from cargoscan.physics.materials import get_material

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


@dataclass(frozen=True)
class _NoiseTexture:
    kappa: float  #: Σk²: variance kept by the crosstalk filter from white noise
    diff_gain: float  #: var(adjacent-column difference) / var(pixel) of the measured noise


def _noise_texture(scanner) -> _NoiseTexture:
    """How the scanner shapes its quantum noise: only the crosstalk (rows) filters it, the system PSF acts
    before the noise. Measured on an impulse through the scanner's own filter."""
    delta = np.zeros((41, 41), np.float32)
    delta[20, 20] = 1.0
    k = np.asarray(scanner.crosstalk(delta), np.float64)
    kappa = float((k**2).sum())
    diff = float(((k - np.roll(k, 1, axis=1)) ** 2).sum())
    return _NoiseTexture(kappa, diff / kappa)


def psf_reach_px(scanner, n_sigma: float = 3.0) -> tuple[int, int]:
    """(rows, columns) within which the scanner's PSF spreads a sharp edge, at ``n_sigma`` σ: the system blur
    and the crosstalk add in quadrature across rows; along columns the system blur plus the low channel's lag.
    """
    p = scanner.params
    rows = n_sigma * float(np.hypot(p.blur_row, p.crosstalk_row))
    cols = n_sigma * p.blur_col + abs(p.misregistration_cols)
    return int(np.ceil(rows)), int(np.ceil(cols))


class Projector:
    """Projects threat patches into scans with one scanner model.

    The scanner's own filters do the geometry (``Scanner.system_psf``: system blur and the low channel's lag,
    ``Scanner.crosstalk``), in the acquisition's order: system PSF on the noiseless signal and its second
    moment, the noise, then the crosstalk on the noisy signal.

    Args:
        scanner: a ``cargoscan.physics.scanner.Scanner`` (its ``params`` give the dark level; its ``moments``,
            ``system_psf`` and ``crosstalk`` the physics).
        params: the ``tip`` parameters.
    """

    def __init__(self, scanner, params: TipParams = TipParams()):
        self.scanner = scanner
        self.params = params
        self.background = BackgroundModel(scanner, params.basis, params.decompose_steps)
        sp = scanner.params
        self.texture = _noise_texture(scanner)
        self.dark = float(sp.dark_offset)
        self.electronic = float(sp.electronic_noise)
        self.reach = psf_reach_px(scanner, 4.0)
        self.margin = max(self.reach) + 2
        #: A_high of the walls a removal keeps (see the module docstring); set it from the scan when known.
        self.wall_attenuation = WALL_ATTENUATION

    def factor(
        self,
        t_background: np.ndarray,
        threat: dict[str, np.ndarray],
        removal: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel factors of the threat behind the background, no PSF: ``f`` = T(background + threat) /
        T(background) of the signal, and ``f2`` the same of its second moment (what the quantum noise scales
        by:
        the hardened beam deposits more per photon, so the noise falls less than the signal).

        Args:
            t_background: (2, h, w) smooth physical transmission of the background.
            threat: the threat's path maps (cm) over the same window.
            removal: (h, w) fraction of the background's path above the wall level to remove first (missing
                cargo), or None; with it ``f`` may exceed 1.
        """
        f = np.ones(t_background.shape, np.float64)
        f2 = f.copy()
        sel = np.zeros(t_background.shape[1:], bool)
        for p in threat.values():
            sel |= p > 0
        if removal is not None:
            sel |= removal > 0
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
        if removal is not None:
            # Remove r of the path above the walls (paths add exactly; attenuations do not): the walls are the
            # fraction k of the background's path that alone attenuates A_wall.
            keep = self._wall_fraction(bg, n)
            r_eff = pack(np.clip(removal[sel], 0.0, 1.0)) * (1.0 - keep)
            both = {k: (v * (1.0 - r_eff)).astype(np.float32) for k, v in bg.items()}
        for name, p in threat.items():
            both[name] = both[name] + pack(p[sel]) if name in both else pack(p[sel])
        t_bg, m_bg = (x.reshape(2, -1)[:, :n] for x in moments(self.scanner, bg))
        t_all, m_all = (x.reshape(2, -1)[:, :n] for x in moments(self.scanner, both))
        hi = 1.0 if removal is None else np.inf  # adding only attenuates; removing may brighten
        f[:, sel] = np.clip(t_all / np.maximum(t_bg, 1e-30), 0.0, hi)
        f2[:, sel] = np.clip(m_all / np.maximum(m_bg, 1e-30), 0.0, hi)
        return f, f2

    def _wall_fraction(self, bg: dict[str, np.ndarray], n: int) -> np.ndarray:
        """Per pixel of packed basis maps: the fraction k of the background's path whose A_high alone (in the
        open beam) is :attr:`wall_attenuation` — the walls, in the background's own material mix. 1 where the
        background is no denser than the walls."""
        s = np.linspace(0.0, 1.0, 25) ** 2
        shape = next(iter(bg.values())).shape
        scaled = {k: np.concatenate([v * np.float32(f) for f in s]) for k, v in bg.items()}
        a = -np.log(np.clip(self.scanner.transmission(scaled)[0].astype(np.float64), 1e-30, 1.0))
        a = a.reshape(len(s), -1)  # (steps, pixels), increasing along the steps
        target = self.wall_attenuation
        above = (a >= target).argmax(axis=0)  # first step at or above the wall level (0 when never: keep all)
        i1 = np.clip(above, 1, len(s) - 1)
        cols = np.arange(a.shape[1])
        a0, a1 = a[i1 - 1, cols], a[i1, cols]
        k = s[i1 - 1] + (s[i1] - s[i1 - 1]) * np.clip((target - a0) / np.maximum(a1 - a0, 1e-12), 0, 1)
        k = np.where(a[-1] <= target, 1.0, k)
        return k.reshape(shape).astype(np.float32)

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
        if patch.removal is None:
            f, f2 = self.factor(t_smooth, threat)
        else:
            removal = np.zeros((y1 - y0, x1 - x0), np.float32)
            removal[y - y0 : y - y0 + ph, x - x0 : x - x0 + pw] = patch.removal
            f, f2 = self.factor(t_smooth, threat, removal)
        # The acquisition's geometry: system PSF (and the low channel's lag) on the noiseless signal and on
        # its second moment; the crosstalk acts on the noisy signal, so on the signal's factor too.
        sc = self.scanner
        f2 = np.stack([sc.system_psf(c.astype(np.float32), i) for i, c in enumerate(f2)]).astype(np.float64)
        f = np.stack([sc.crosstalk(sc.system_psf(c.astype(np.float32), i)) for i, c in enumerate(f)])
        f = f.astype(np.float64)

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
        """The noise the darker pixels lack, drawn white and passed through the crosstalk as the scanner does.

        The measured noise is the crosstalk of white noise of variance σ_w² = q + e² (quantum, electronic);
        multiplying the scan by ``f`` scales it to f²·σ_w², while the darker pixel's own noise has
        q·f₂ + e² (f₂: the PSF-blurred second-moment factor). The difference is added. Where a removal
        brightens the pixel (f > 1) the difference is negative: noise cannot be removed, so it clips at 0 and
        the pixel keeps the scaled measured noise (slightly too much).
        """
        white_var = local_variance(v, self.texture.diff_gain) / self.texture.kappa
        e2 = self.electronic**2
        want = np.clip(white_var - e2, 0, None) * f2 + np.minimum(white_var, e2)
        missing = np.clip(want - f * f * white_var, 0, None)
        white = (rng.standard_normal(v.shape) * np.sqrt(missing)).astype(np.float32)
        return np.stack([self.scanner.crosstalk(c) for c in white]).astype(np.float64)


def moments(scanner, paths: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Ideal transmission of the signal and of its second moment, (2, …) each, float64 (``Scanner.moments``)."""
    t, t2 = scanner.moments(paths)
    return np.asarray(t, np.float64), np.asarray(t2, np.float64)


def local_variance(v: np.ndarray, diff_gain: float = 2.0, size: tuple[int, int] = (3, 7)) -> np.ndarray:
    """Per-pixel noise variance of (C, h, w) values from adjacent-column differences.

    The median absolute difference (robust to the scan's own edges) over a window, as a Gaussian σ, divided by
    the noise's difference gain (2 for noise uncorrelated along columns, as the scanner's).
    """
    out = np.empty_like(v)
    for c in range(v.shape[0]):
        d = np.abs(np.diff(v[c], axis=1))
        d = np.concatenate([d, d[:, -1:]], axis=1)
        med = ndimage.median_filter(d, size=size, mode="nearest")
        out[c] = (med / 0.6745) ** 2 / diff_gain
    return out
