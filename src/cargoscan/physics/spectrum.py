"""Polyenergetic linac bremsstrahlung spectra (thick tungsten target) with filtration.

Model, per photon energy k (MeV), for an electron beam of kinetic energy T0 (the endpoint):

1. Thin-target cross-section: Schiff's angle-integrated formula (Koch & Motz 1959, formula 3BS(e)), with
   screening, for the target's Z.
2. Thick target: the electron slows down in the target, so the photon yield is the thin-target cross-section
   integrated over the electron's energy, weighted by the path it spends at each energy, dT / S(T), with the
   stopping power S(T) = S_col + (T + mc²)/X₀ (collision ≈ constant at MeV energies, radiative ∝ total energy).
3. Self-absorption in the target (photons are born on average part-way in) and the filter: exp(−μ(k) ρ t).

The result is the photon-number spectrum φ(k) on a fixed energy grid, normalised to sum 1. Real Geant4 W+Cu
spectra for this scanner class have mean energies 1.53 MeV (6 MeV) and 1.16 MeV (4 MeV) after filtration; the
default filter (:data:`DEFAULT_FILTER_MM` of copper) reproduces both (see tests/synth/test_physics.py).
"""

from __future__ import annotations

import numpy as np

from cargoscan.physics.materials import get_material, mu_rho

ELECTRON_MASS_MEV = 0.51099895
#: Photon energy bin width of the spectral grid (MeV); the lowest energies are filtered out anyway.
BIN_MEV = 0.05
#: Lowest photon energy on the grid: below ~50 keV nothing survives the filter and the first slab of steel.
MIN_ENERGY_MEV = 0.05
#: Tungsten target constants: radiation length X₀ (g/cm²) and collision stopping power (MeV cm²/g).
W_RADIATION_LENGTH = 6.76
W_COLLISION_STOPPING = 1.05
#: Mean depth at which photons are born in the target, mm of W (self-absorption).
TARGET_SELF_MM = 0.5
#: Filter material and default copper-equivalent thickness (mm): target backing, linac head, collimator and the
#: beam-hardening filter together. One thickness, fitted to the 6 MeV Geant4 mean energy (1.53 MeV), also
#: gives 1.16 MeV at 4 MeV — the interlaced linac sends both beams through the same filter.
DEFAULT_FILTER_MATERIAL = "copper"
DEFAULT_FILTER_MM = 35.6


def energy_grid(endpoint_mev: float) -> np.ndarray:
    """Bin centres (MeV) from :data:`MIN_ENERGY_MEV` up to the endpoint."""
    n = int(np.floor((endpoint_mev - MIN_ENERGY_MEV) / BIN_MEV))
    return MIN_ENERGY_MEV + BIN_MEV * (np.arange(n) + 0.5)


def schiff_thin(k: np.ndarray, t0: float, z: float) -> np.ndarray:
    """Schiff angle-integrated thin-target cross-section dσ/dk (arbitrary units ∝ Z² r₀² α).

    Args:
        k: photon energies (MeV), 0 < k < t0.
        t0: electron kinetic energy (MeV).
        z: atomic number of the target.
    """
    k = np.asarray(k, dtype=float)
    e0 = (t0 + ELECTRON_MASS_MEV) / ELECTRON_MASS_MEV  # total energies in units of mc²
    kk = k / ELECTRON_MASS_MEV
    e = e0 - kk
    valid = e > 1.0
    e = np.where(valid, e, 1.0 + 1e-9)
    z3 = z ** (1.0 / 3.0)
    b = 2.0 * e0 * e * z3 / (111.0 * kk)
    inv_m = (kk / (2.0 * e0 * e)) ** 2 + (z3 / 111.0) ** 2
    r = e / e0
    atb = np.arctan(b)
    term = (1 + r * r - 2.0 / 3.0 * r) * (-np.log(inv_m) + 1 - 2.0 / b * atb) + r * (
        2.0 / b**2 * np.log1p(b * b) + 4.0 * (2 - b * b) / (3.0 * b**3) * atb - 8.0 / (3.0 * b * b) + 2.0 / 9.0)
    return np.where(valid, z * z * np.clip(term, 0, None) / kk, 0.0)


def thick_target(k: np.ndarray, t0: float, z: float = 74.0, n_steps: int = 200) -> np.ndarray:
    """Thick-target yield ∫ dσ/dk(k; T) dT / S(T) from T = k to T0 (electron slowing down in W)."""
    t = np.linspace(t0 / n_steps, t0, n_steps)
    stopping = W_COLLISION_STOPPING + (t + ELECTRON_MASS_MEV) / W_RADIATION_LENGTH
    yield_ = np.zeros_like(k, dtype=float)
    for ti, si in zip(t, stopping):
        yield_ += np.where(k < ti, schiff_thin(np.minimum(k, ti * 0.999999), ti, z), 0.0) / si
    return yield_ * (t[1] - t[0])


def bremsstrahlung(endpoint_mev: float, filter_mm: float | None = None,
                   filter_material: str = DEFAULT_FILTER_MATERIAL,
                   target_self_mm: float = TARGET_SELF_MM) -> tuple[np.ndarray, np.ndarray]:
    """Filtered photon-number spectrum of a linac with a tungsten target.

    Args:
        endpoint_mev: electron beam energy = spectrum endpoint (MeV), e.g. 6 or 4.
        filter_mm: filter thickness in mm (default :data:`DEFAULT_FILTER_MM`).
        filter_material: material name of the filter (copper, tungsten, steel...).
        target_self_mm: effective tungsten self-absorption depth (mm).

    Returns:
        (energies MeV, photon fraction per bin summing to 1).
    """
    if not 1.0 <= endpoint_mev <= 10.0:
        raise ValueError(f"endpoint {endpoint_mev} MeV outside the modelled 1–10 MeV")
    if filter_mm is None:
        filter_mm = DEFAULT_FILTER_MM
    if filter_mm < 0:
        raise ValueError("filter thickness must be ≥ 0")
    e = energy_grid(endpoint_mev)
    phi = thick_target(e, endpoint_mev)
    w = get_material("tungsten")
    f = get_material(filter_material)
    phi = phi * np.exp(-mu_rho(w, e) * w.density_g_cm3 * target_self_mm / 10.0
                       - mu_rho(f, e) * f.density_g_cm3 * filter_mm / 10.0)
    return e, phi / phi.sum()


def mean_energy(energies: np.ndarray, phi: np.ndarray) -> float:
    """Mean photon energy (MeV) of a photon-number spectrum."""
    return float(np.sum(energies * phi) / np.sum(phi))
