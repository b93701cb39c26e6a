"""NIST photon cross-sections packaged with cargoscan, interpolated log-log.

The values are copied unchanged from NIST XCOM (SRD 8, Berger et al.) and from the Hubbell–Seltzer mass
energy-absorption tables (SRD 126); see ``data/README.md``. The package reads only its own copies, so it runs
without the project's shared data folder.

Between native NIST points we interpolate ln(μ/ρ) linearly in ln(E), which is how XCOM itself interpolates
smooth cross-sections. An absorption edge appears in the tables as two rows with the same energy; the row below
the edge is nudged down by a relative 1e-9 so the grid is strictly increasing and each side keeps its value.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

#: Column names of ``xcom_elements.csv`` after ``z`` and ``energy_mev`` (all cm²/g).
COMPONENTS = ("coherent", "incoherent", "photoelectric", "pair_nuclear", "pair_electron", "total_with_coherent")

SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr "
    "Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os "
    "Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U"
).split()
#: Element symbol → atomic number.
Z_OF = {s: i + 1 for i, s in enumerate(SYMBOLS)}
#: Standard atomic weights (g/mol) of the elements the materials use; needed for Z/A-weighted Z_eff.
ATOMIC_WEIGHT = {
    "H": 1.008, "C": 12.011, "N": 14.007, "O": 15.999, "Na": 22.990, "Mg": 24.305, "Al": 26.982, "Si": 28.085,
    "P": 30.974, "S": 32.06, "Cl": 35.45, "K": 39.098, "Ca": 40.078, "Ti": 47.867, "Cr": 51.996, "Mn": 54.938,
    "Fe": 55.845, "Ni": 58.693, "Cu": 63.546, "Zn": 65.38, "Cd": 112.41, "Sn": 118.71, "W": 183.84,
    "Pb": 207.2, "Ag": 107.87, "Au": 196.97, "U": 238.03, "B": 10.81, "F": 18.998, "Ba": 137.33, "I": 126.90,
    "Br": 79.904, "Zr": 91.224, "Mo": 95.95, "Gd": 157.25, "Sr": 87.62, "Bi": 208.98,
}


def _read_csv(name: str) -> np.ndarray:
    text = resources.files("cargoscan.physics").joinpath("data", name).read_text()
    rows = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return np.array([[float(v) for v in ln.split(",")] for ln in rows[1:]])


def _strict_grid(energy: np.ndarray) -> np.ndarray:
    """Nudge the lower row of each duplicated (edge) energy so the grid strictly increases."""
    e = energy.copy()
    dup = np.flatnonzero(np.diff(e) <= 0)
    e[dup] = e[dup + 1] * (1 - 1e-9)
    return e


@functools.cache
def _z_table(name: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Z → (energies MeV, (n, k) coefficients) from a packaged table whose columns are Z, energy, coefficients."""
    arr = _read_csv(name)
    out = {}
    for z in np.unique(arr[:, 0]).astype(int):
        rows = arr[arr[:, 0] == z]
        out[int(z)] = (_strict_grid(rows[:, 1]), rows[:, 2:])
    return out


def _element_table() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Z → (energies MeV, (n, 6) coefficients), from ``xcom_elements.csv``."""
    return _z_table("xcom_elements.csv")


def _absorption_table() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Z → (energies MeV, energy-absorption coefficients), from ``nist_energy_absorption.csv``."""
    return _z_table("nist_energy_absorption.csv")


def _loglog(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Log-log interpolation; zero entries (pair production below threshold) stay zero."""
    lx, lxp = np.log(x), np.log(xp)
    pos = fp > 0
    if pos.all():
        return np.exp(np.interp(lx, lxp, np.log(fp)))
    # Pair production starts at a threshold: log-interpolate where both neighbours are positive, else linear.
    out = np.interp(lx, lxp, fp)
    idx = np.clip(np.searchsorted(lxp, lx) - 1, 0, len(xp) - 2)
    both = pos[idx] & pos[idx + 1]
    out[both] = np.exp(np.interp(lx[both], lxp, np.log(np.where(pos, fp, 1.0))))
    return out


def available_elements() -> list[str]:
    """Symbols of the elements packaged with cargoscan."""
    return [SYMBOLS[z - 1] for z in sorted(_element_table())]


def element_mu_rho(element: str | int, energies_mev, component: str = "total_with_coherent") -> np.ndarray:
    """Mass attenuation coefficient μ/ρ (cm²/g) of one element, NIST XCOM, log-log interpolated.

    Args:
        element: symbol ("Fe") or atomic number.
        energies_mev: photon energies in MeV, within 0.01–10 MeV.
        component: one of :data:`COMPONENTS` (default: total with coherent scattering).

    Returns:
        Array of the shape of ``energies_mev``.
    """
    z = element if isinstance(element, int) else Z_OF.get(element, -1)
    table = _element_table()
    if z not in table:
        raise KeyError(f"element {element!r} is not packaged; available: {available_elements()}")
    if component not in COMPONENTS:
        raise KeyError(f"unknown component {component!r}; use one of {COMPONENTS}")
    e = np.asarray(energies_mev, dtype=float)
    if e.size and (e.min() < 0.01 or e.max() > 10.0 + 1e-9):
        raise ValueError("XCOM values are packaged for 0.01–10 MeV only")
    grid, coef = table[z]
    return _loglog(e.ravel(), grid, coef[:, COMPONENTS.index(component)]).reshape(e.shape)


def element_mu_en_rho(element: str | int, energies_mev) -> np.ndarray:
    """Mass energy-absorption coefficient μ_en/ρ (cm²/g), NIST SRD 126, for O, Cd and W."""
    z = element if isinstance(element, int) else Z_OF.get(element, -1)
    table = _absorption_table()
    if z not in table:
        raise KeyError(f"μ_en/ρ is packaged only for Z in {sorted(table)}")
    e = np.asarray(energies_mev, dtype=float)
    grid, coef = table[z]
    return _loglog(e.ravel(), grid, coef[:, 1]).reshape(e.shape)
