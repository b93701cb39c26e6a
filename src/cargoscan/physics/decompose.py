"""Dual-energy decomposition: (A_high, A_low) → (mass thickness λ g/cm², effective Z) and a material class.

The inversion runs against the scanner's own physics: for a ladder of reference materials of known Z (single
elements from carbon to lead, plus polyethylene), :class:`Decomposer` tabulates the noise-free A_high(λ) and
A_low(λ) with :meth:`Scanner.attenuation` — the same spectra, detector response and ratio calibration that made
the image. Its R-curves R(λ) = A_low/A_high then separate materials: at 4–6 MeV R falls with Z (Compton per
electron is Z-blind, pair production grows as Z²), and thick lead even inverts (R < 1).

For a pixel, each reference k gives the λ_k at which its A_high matches, and its ratio R_k there; Z_eff is
interpolated between the two references whose R_k bracket the measured R, and λ between their λ_k. R(Z) is
not monotone for thin layers (see :meth:`Decomposer.invert`), so thin heavy metal reads as a lighter material.

Material classes by Z_eff (the electron-weighted Z of :attr:`Material.zeff`, the quantity MeV dual energy sees):

* ``organic``   Z_eff < 10  — plastics, paper, food, drugs, water (≈ 4.7–8);
* ``mixed``     10 ≤ Z_eff < 18 — aluminium, glass, sand, concrete, PVC (≈ 11–13);
* ``inorganic`` 18 ≤ Z_eff < 30 — steel, copper, brass (≈ 26–29);
* ``heavy``     Z_eff ≥ 30 — tin, tungsten, lead.

The dual-energy contrast at MeV energies is small (R spans ~1.05–1.11 from lead-free metals to organics), so
Z_eff is only meaningful where A_high is roughly 0.5–7: thinner, noise dominates; thicker, photons starve.
"""

from __future__ import annotations

import functools

import numpy as np

from cargoscan.physics.materials import Material, get_material
from cargoscan.physics.scanner import Scanner, ScannerParams
from cargoscan.physics.xcom import SYMBOLS

#: Z_eff class boundaries: [0, 10) organic, [10, 18) mixed, [18, 30) inorganic, [30, ∞) heavy.
CLASS_BOUNDS = (10.0, 18.0, 30.0)
CLASSES = ("organic", "mixed", "inorganic", "heavy")
#: Reference ladder: polyethylene (Z_eff 4.75) and water (6.6) — hydrogen-rich, so organic λ comes out right —
#: then single elements.
REFERENCE_Z = (11, 13, 16, 20, 26, 29, 40, 50, 64, 74, 82)
_R_EPS = 1e-3  # bracket tolerance on R (float32 images)
_LAMBDA = np.geomspace(0.2, 600.0, 160)  # g/cm²


def _references() -> list[Material]:
    refs = [get_material("polyethylene"), get_material("water")]
    refs += [Material(f"element_{SYMBOLS[z - 1]}", 1.0, {SYMBOLS[z - 1]: 1.0}) for z in REFERENCE_Z]
    return refs


def material_class(zeff):
    """Class name(s) for Z_eff: 'organic', 'mixed', 'inorganic' or 'heavy' (see module docstring)."""
    idx = np.searchsorted(np.asarray(CLASS_BOUNDS), np.asarray(zeff, dtype=float), side="right")
    names = np.asarray(CLASSES)[idx]
    return str(names) if names.ndim == 0 else names


class Decomposer:
    """Inverts (A_high, A_low) against one scanner's physics.

    Args:
        scanner: the :class:`Scanner` whose images are decomposed.
    """

    def __init__(self, scanner: Scanner):
        self.scanner = scanner
        self.references = _references()
        self.zeff = np.array([m.zeff for m in self.references])
        n = _LAMBDA.size
        a_hi = np.empty((len(self.references), n))
        a_lo = np.empty_like(a_hi)
        for k, m in enumerate(self.references):
            paths = {m: (_LAMBDA / m.density_g_cm3).astype(np.float32)[None, :]}
            a = scanner.attenuation(paths)
            a_hi[k], a_lo[k] = a[0, 0], a[1, 0]
        self.a_high, self.a_low = a_hi, a_lo
        self.lam = _LAMBDA

    @classmethod
    def for_scanner(cls, params: ScannerParams) -> "Decomposer":
        """Decomposer for a scanner's parameters (cached per parameter set)."""
        return _cached(params)

    @classmethod
    def default(cls) -> "Decomposer":
        """Decomposer for the default :class:`ScannerParams`."""
        return _cached(ScannerParams())

    def r_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Reference name → (λ g/cm², R = A_low/A_high) over the tabulated λ."""
        return {m.name: (self.lam, self.a_low[k] / self.a_high[k]) for k, m in enumerate(self.references)}

    def invert(self, a_high, a_low) -> tuple[np.ndarray, np.ndarray]:
        """(A_high, A_low) arrays → (λ g/cm², Z_eff) arrays of the same shape (float32).

        Z_eff is clipped to the reference ladder (4.75–82); pixels with A_high ≤ 0 give λ = 0 and Z_eff NaN.
        """
        ah = np.asarray(a_high, dtype=float)
        al = np.asarray(a_low, dtype=float)
        if ah.shape != al.shape:
            raise ValueError(f"a_high {ah.shape} and a_low {al.shape} differ in shape")
        flat_h, flat_l = ah.ravel(), al.ravel()
        k_n = len(self.references)
        lam_k = np.empty((k_n, flat_h.size))
        r_k = np.empty_like(lam_k)
        for k in range(k_n):
            # A_high(λ) is monotone: invert by interpolation in log λ.
            lam_k[k] = np.exp(np.interp(flat_h, self.a_high[k], np.log(self.lam)))
            r_k[k] = np.interp(lam_k[k], self.lam, self.a_low[k] / self.a_high[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            r = flat_l / flat_h
        # R(Z) at fixed A_high falls from organics to copper, then rises again for thin high-Z layers (their
        # photoelectric absorption in the low beam): take the first bracketing pair from low Z, so thin heavy
        # metal reads as lighter material — the ambiguity is physical. Outside all brackets: nearest R.
        inside = (np.minimum(r_k[:-1], r_k[1:]) - _R_EPS <= r) & (r <= np.maximum(r_k[:-1], r_k[1:]) + _R_EPS)
        has = inside.any(axis=0)
        lo = np.where(has, inside.argmax(axis=0), 0)
        cols = np.arange(flat_h.size)
        r0, r1 = r_k[lo, cols], r_k[lo + 1, cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.clip(np.nan_to_num((r0 - r) / (r0 - r1)), 0.0, 1.0)
        nearest = np.abs(r_k - r).argmin(axis=0)
        lo = np.where(has, lo, np.minimum(nearest, k_n - 2))
        f = np.where(has, f, (nearest == k_n - 1).astype(float))
        zeff = self.zeff[lo] + f * (self.zeff[lo + 1] - self.zeff[lo])
        lam = lam_k[lo, cols] + f * (lam_k[lo + 1, cols] - lam_k[lo, cols])
        bad = ~(flat_h > 0) | ~np.isfinite(r)
        zeff[bad], lam[bad] = np.nan, 0.0
        return lam.reshape(ah.shape).astype(np.float32), zeff.reshape(ah.shape).astype(np.float32)

    material_class = staticmethod(material_class)


@functools.lru_cache(maxsize=8)
def _cached(params: ScannerParams) -> Decomposer:
    return Decomposer(Scanner(params))
