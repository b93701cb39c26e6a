"""Materials by composition and density, and their NIST attenuation by the mixture rule.

Each :class:`Material` gives mass fractions by element symbol; μ/ρ of a compound is Σ wᵢ (μ/ρ)ᵢ over the
elements (NIST XCOM, total with coherent scattering). Compositions follow the NIST/ICRU compound tables where
one exists (water, polyethylene, PVC, cellulose, glass, concrete); cargo mixtures (food, grain, tobacco, soap,
fertilizer ...) are typical dry-matter + moisture formulations. At 1–6 MeV attenuation depends on electron
density (Compton) and Z² (pair production), so these rounded formulations are accurate enough.

Densities are bulk densities of the material as it sits in the beam (a solid block); scenes scale path
lengths for packing fraction themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cargoscan.physics import xcom


@dataclass(frozen=True)
class Material:
    """A material: ``composition`` maps element symbol → mass fraction (sums to 1)."""

    name: str
    density_g_cm3: float
    composition: dict[str, float] = field(hash=False)

    def __post_init__(self):
        total = sum(self.composition.values())
        if abs(total - 1.0) > 1e-3:
            raise ValueError(f"material {self.name!r}: mass fractions sum to {total:.4f}, not 1")
        if self.density_g_cm3 <= 0:
            raise ValueError(f"material {self.name!r}: density must be positive")

    @property
    def zeff(self) -> float:
        """Effective atomic number for MeV attenuation: electron-weighted mean Z (Σ wᵢ Zᵢ²/Aᵢ / Σ wᵢ Zᵢ/Aᵢ).

        This is the Z that makes pair production per electron match; it is the quantity the dual-energy ratio
        measures at 4–6 MeV (photoelectric power-law definitions belong to kV imaging).
        """
        num = den = 0.0
        for el, w in self.composition.items():
            z, a = xcom.Z_OF[el], xcom.ATOMIC_WEIGHT[el]
            num += w * z * z / a
            den += w * z / a
        return num / den


def _formula(counts: dict[str, float]) -> dict[str, float]:
    """Mass fractions from an atom-count formula, e.g. {"C": 2, "H": 4}."""
    mass = {el: n * xcom.ATOMIC_WEIGHT[el] for el, n in counts.items()}
    total = sum(mass.values())
    return {el: m / total for el, m in mass.items()}


def _mix(parts: dict[str, float]) -> dict[str, float]:
    """Mass-weighted blend of other materials' compositions: {"water": 0.6, "cellulose": 0.4}."""
    out: dict[str, float] = {}
    total = sum(parts.values())
    for name, w in parts.items():
        for el, f in MATERIALS[name].composition.items():
            out[el] = out.get(el, 0.0) + w / total * f
    return out


MATERIALS: dict[str, Material] = {}


def register_material(name: str, density_g_cm3: float, composition: dict[str, float]) -> Material:
    """Add a material to :data:`MATERIALS` (fractions renormalised to 1) and return it."""
    total = sum(composition.values())
    m = Material(name, density_g_cm3, {el: w / total for el, w in composition.items()})
    MATERIALS[name] = m
    return m


# --- pure substances and NIST/ICRU compounds ---------------------------------------------------------------
register_material("water", 1.0, _formula({"H": 2, "O": 1}))
register_material("polyethylene", 0.94, _formula({"C": 2, "H": 4}))
register_material("pvc", 1.38, _formula({"C": 2, "H": 3, "Cl": 1}))
register_material("cellulose", 1.5, _formula({"C": 6, "H": 10, "O": 5}))  # paper, cardboard, cotton
register_material("aluminium", 2.70, {"Al": 1.0})
register_material("copper", 8.96, {"Cu": 1.0})
register_material("lead", 11.35, {"Pb": 1.0})
register_material("iron", 7.874, {"Fe": 1.0})
register_material("tungsten", 19.3, {"W": 1.0})
register_material("carbon", 2.0, {"C": 1.0})
register_material("steel", 7.85, {"Fe": 0.982, "C": 0.002, "Mn": 0.012, "Si": 0.004})  # carbon steel
register_material("stainless", 8.0, {"Fe": 0.70, "Cr": 0.19, "Ni": 0.09, "Mn": 0.02})
register_material("brass", 8.5, {"Cu": 0.65, "Zn": 0.35})
register_material("glass", 2.5, {"O": 0.4598, "Si": 0.3366, "Na": 0.0964, "Ca": 0.1072})  # soda-lime
register_material("concrete", 2.3, {"H": 0.0100, "C": 0.0010, "O": 0.5291, "Na": 0.0160, "Mg": 0.0020,
                                    "Al": 0.0339, "Si": 0.3370, "K": 0.0130, "Ca": 0.0440, "Fe": 0.0140})  # NIST ordinary
register_material("sand", 1.6, _formula({"Si": 1, "O": 2}))  # bulk quartz sand
register_material("cdwo4", 7.9, _formula({"Cd": 1, "W": 1, "O": 4}))  # detector scintillator
# --- organics and cargo mixtures ----------------------------------------------------------------------------
register_material("rubber", 1.15, {"C": 0.80, "H": 0.10, "S": 0.02, "Zn": 0.01, "O": 0.03, "Si": 0.04})  # tyre
register_material("wood", 0.6, _mix({"cellulose": 0.88, "water": 0.12}))
register_material("textile", 1.3, _mix({"cellulose": 0.6, "polyethylene": 0.2, "water": 0.2}))
register_material("leather", 0.9, {"C": 0.50, "H": 0.07, "O": 0.25, "N": 0.15, "S": 0.01, "Cr": 0.02})
register_material("oil", 0.85, _formula({"C": 1, "H": 2}))  # hydrocarbon liquid (CH2)n
register_material("plastic_abs", 1.05, _formula({"C": 15, "H": 17, "N": 1}))
register_material("cocaine", 1.2, _formula({"C": 17, "H": 21, "N": 1, "O": 4}))  # pressed brick density
register_material("heroin", 1.2, _formula({"C": 21, "H": 23, "N": 1, "O": 5}))
register_material("grain", 0.75, _mix({"cellulose": 0.86, "water": 0.14}))
register_material("coal", 1.35, {"C": 0.80, "H": 0.05, "O": 0.08, "N": 0.01, "S": 0.01, "Si": 0.03,
                                 "Al": 0.02})
register_material("soap", 1.05, {"C": 0.68, "H": 0.11, "O": 0.14, "Na": 0.07})
register_material("fertilizer", 1.1, _formula({"N": 2, "H": 4, "O": 3}))  # ammonium nitrate
# Tobacco and food carry mineral ash (K, Ca, NaCl): it matters for their dual-energy ratio.
register_material("tobacco", 0.7, {**_mix({"cellulose": 0.75, "water": 0.10}), "K": 0.08 / 0.85,
                                   "Ca": 0.04 / 0.85, "N": 0.02 / 0.85, "Cl": 0.01 / 0.85})
register_material("food", 1.0, {**_mix({"water": 0.7, "cellulose": 0.25, "polyethylene": 0.05}), "Na": 0.005,
                                "K": 0.008, "Cl": 0.007})
MATERIALS["paper"] = Material("paper", 0.9, MATERIALS["cellulose"].composition)


def list_materials() -> list[str]:
    """Names of the registered materials."""
    return sorted(MATERIALS)


def get_material(material: str | Material) -> Material:
    """Look a material up by name (clear error for an unknown one)."""
    if isinstance(material, Material):
        return material
    try:
        return MATERIALS[material]
    except KeyError:
        raise KeyError(f"unknown material {material!r}; known: {', '.join(list_materials())}") from None


def mu_rho(material: str | Material, energies_mev, component: str = "total_with_coherent") -> np.ndarray:
    """Mass attenuation coefficient μ/ρ (cm²/g) of a material by the mixture rule, NIST XCOM.

    Args:
        material: a name in :data:`MATERIALS` or a :class:`Material`.
        energies_mev: photon energies (MeV), 0.01–10.
        component: XCOM column (default total with coherent scattering).
    """
    m = get_material(material)
    e = np.asarray(energies_mev, dtype=float)
    return sum(w * xcom.element_mu_rho(el, e, component) for el, w in m.composition.items())


def mu_linear(material: str | Material, energies_mev) -> np.ndarray:
    """Linear attenuation coefficient μ (1/cm) at the material's bulk density."""
    m = get_material(material)
    return mu_rho(m, energies_mev) * m.density_g_cm3
