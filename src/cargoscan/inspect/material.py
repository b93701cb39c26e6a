"""Material, areal density and mass findings from the dual-energy attenuations.

The physics is the synthesiser's: ``cargoscan.synth.decompose.Decomposer`` inverts (A_high, A_low) into the areal
density λ (g/cm²) and the effective atomic number Z_eff against the scanner's R-curves, and names the material
class (organic, mixed, inorganic, heavy). Nothing here models X-rays.

* Material per region: the class of the λ-weighted median Z_eff of the region's pixels (from a histogram).
* Net cargo mass: M = (Σ λ·a − S)·(1 − p). Σ λ·a runs over the load pixels (cargo and threat classes; ``a`` the
  pixel area at the model pitch); S is the known structure in the beam — the walls of the container or wagon
  type, as an areal density ``structure_g_cm2[type]`` times the same area (so the tare is counted over the pixels
  summed, not the whole body); p is the declared goods' packaging share (``hs_categories.yaml``: cartons,
  pallets, drums — the declared *net* weight excludes them). 1-σ uncertainty:
  σ² = (ε_λ·Σλa)² + (ε_s·S)² + (p/2 · (Σλa − S))² + B², ε from the parameters, B the net mass read on pixels
  at or next to the dark level (:data:`DARK_A`), where λ is only a lower bound (``lower_bound_kg``).
* Known bias: the system PSF averages transmission before the log, so heterogeneous goods (metal parts, mixed
  cartons) read low — by 10–15 % for cartons and up to ~50 % for dense machine parts on the synthesiser's
  scans; the estimate is then low, not noisy (see tests/inspect/test_material.py).
* Z_eff (material class) is read only where A_high lies in :data:`Z_VALID`; λ counts everywhere (where photons
  starve, λ is a lower bound and ``starved_fraction`` says how much of the load that is).
* Mass flag (:func:`mass_flag`): an understated weight when M − declared > max(tol·declared, k·σ_m), σ_m
  without the starved bound (M is itself a lower bound there); an overstated one when declared − M > max(tol·
  declared, k·σ). A declared 0 (an empty unit) is compared too: any load beyond k·σ_m is flagged.
* Density flag: the bulk density ρ = mean λ / beam depth of the type, or the dominant material class, outside
  what the declared category allows (``hs_categories.yaml``).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import cv2
import numpy as np

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.declarations import Category

log = logging.getLogger(__name__)

STARVED_A = 10.0   # attenuation above this: photon-starved, λ is a lower bound
#: Attenuation above which the signal is at the dark level (the scanner's dark offset, 1.5–3·10⁻⁴ of air, reads
#: 0 from A ≈ 8.1–8.8). The system PSF averages *transmission* over ~1 px before the noise, so a pixel next to
#: one that deep reads −ln of a mean dominated by its brighter neighbour: its λ, too, is only a lower bound.
DARK_A = 8.0
#: A_high band where Z_eff means something (cargoscan.synth.decompose): thinner is noise, thicker starves.
Z_VALID = (0.5, 7.0)
MATERIAL_RU = {"organic": "органика", "mixed": "смесь", "inorganic": "неорганика", "heavy": "тяжёлые металлы"}


def default_decomposer(meta: dict[str, Any]):
    """The synthesiser's decomposer for this scan's scanner, or its default calibration.

    Raises:
        ImportError: when ``cargoscan.synth.decompose`` is not installed.
    """
    from cargoscan.synth.decompose import Decomposer

    scanner = (meta.get("generator") or {}).get("scanner")
    if scanner:
        try:
            from cargoscan.synth.physics import ScannerParams

            return Decomposer.for_scanner(ScannerParams(**scanner))
        except Exception as exc:  # an unknown scanner record: use the post's default calibration
            log.debug("scanner parameters not usable (%s); default decomposer", exc)
    for name in ("default", "for_default"):
        if hasattr(Decomposer, name):
            return getattr(Decomposer, name)()
    return Decomposer()


def _class_name(decomposer, zeff: float) -> str:
    out = decomposer.material_class(np.asarray([zeff], np.float32))
    out = np.asarray(out).ravel()[0] if not isinstance(out, str) else out
    return str(out.item() if hasattr(out, "item") else out)


def invert_map(decomposer, a_high: np.ndarray, a_low: np.ndarray, where: np.ndarray | None = None,
               chunk: int = 1 << 18, max_pixels: int = 0, check: Callable[[], None] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """λ and Z_eff maps, inverted only ``where`` (the load: air and structure need no inversion), in chunks of
    pixels so that the float working set stays bounded. Elsewhere λ = 0 and Z_eff = 0.

    ``check`` is called before each chunk (the inspection's deadline: it raises ``TimeoutError``), so a timed-out
    inspection stops here instead of finishing the inversion on an abandoned thread.

    With ``max_pixels`` and more load pixels than that (a model at full resolution), the inversion runs on k×k
    blocks — the mean attenuation of each block's load pixels — and each block's λ, Z_eff go back to its load
    pixels: λ is nearly linear in A, so Σλ changes by a few per cent (≈3.5 % at k = 3 on synthetic wagons,
    tests/inspect/test_material.py), at 1/k² of the cost.
    """
    where = np.ones(a_high.shape, bool) if where is None else where
    n = int(where.sum())
    if max_pixels and n > max_pixels:
        k = int(np.ceil(np.sqrt(n / max_pixels)))
        h, w = a_high.shape
        hp, wp = -(-h // k) * k, -(-w // k) * k

        def blocks(x: np.ndarray) -> np.ndarray:
            out = np.zeros((hp, wp), np.float32)
            out[:h, :w] = x
            return out.reshape(hp // k, k, wp // k, k).sum((1, 3))

        m = where.astype(np.float32)
        cnt = blocks(m)
        inb = cnt > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            ah_b, al_b = blocks(a_high * m) / cnt, blocks(a_low * m) / cnt
        lam_b, z_b = invert_map(decomposer, np.nan_to_num(ah_b), np.nan_to_num(al_b), inb, chunk, check=check)
        lam = np.repeat(np.repeat(lam_b, k, 0), k, 1)[:h, :w] * where
        zeff = (np.repeat(np.repeat(z_b, k, 0), k, 1)[:h, :w] * where).astype(np.float16)
        return lam.astype(np.float32), zeff
    lam = np.zeros(a_high.shape, np.float32)
    zeff = np.zeros(a_high.shape, np.float16)
    idx = np.flatnonzero(where)
    ah, al = a_high.reshape(-1), a_low.reshape(-1)
    lf, zf = lam.reshape(-1), zeff.reshape(-1)
    for i in range(0, idx.size, chunk):
        if check is not None:
            check()
        sel = idx[i:i + chunk]
        lv, zv = decomposer.invert(ah[sel].astype(np.float32), al[sel].astype(np.float32))
        lf[sel] = np.nan_to_num(np.asarray(lv, np.float32), nan=0.0, posinf=0.0, neginf=0.0).clip(0)
        zf[sel] = np.nan_to_num(np.asarray(zv, np.float32), nan=0.0)
    return lam, zeff


Z_BINS = np.arange(0.0, 100.25, 0.25)   # Z_eff histogram bins: a λ-weighted median and shares without sorting


def zeff_histogram(lam: np.ndarray, zeff: np.ndarray, where: np.ndarray) -> np.ndarray:
    """λ-weighted histogram of Z_eff over the pixels ``where`` (bins :data:`Z_BINS`)."""
    z = zeff[where].astype(np.float32)
    idx = np.clip((z / 0.25).astype(np.int32), 0, len(Z_BINS) - 2)
    return np.bincount(idx, weights=lam[where], minlength=len(Z_BINS) - 1)


def region_material(decomposer, lam: np.ndarray, zeff: np.ndarray, where: np.ndarray,
                    a_high: np.ndarray | None = None) -> dict[str, Any]:
    """Material class, λ-weighted median Z_eff (to 0.25) and mean λ of the pixels ``where``.

    With ``a_high``, Z_eff is taken only from the pixels inside :data:`Z_VALID` (all of them if none is).
    """
    n = int(where.sum())
    if n == 0:
        return {"class": None, "zeff": None, "lambda_mean_g_cm2": None}
    lam_mean = float(np.sum(lam[where], dtype=np.float64) / n)
    if a_high is not None:
        valid = where & (a_high >= Z_VALID[0]) & (a_high <= Z_VALID[1])
        where = valid if valid.any() else where
    hist = zeff_histogram(lam, zeff, where)
    total = hist.sum()
    if total <= 0:
        return {"class": None, "zeff": None, "lambda_mean_g_cm2": 0.0}
    k = int(np.searchsorted(np.cumsum(hist), total / 2))
    z_med = float(Z_BINS[k] + 0.125)
    cls = _class_name(decomposer, z_med)
    return {"class": cls, "class_ru": MATERIAL_RU.get(cls, cls), "zeff": round(z_med, 2),
            "lambda_mean_g_cm2": round(lam_mean, 2)}


def class_shares(decomposer, lam: np.ndarray, zeff: np.ndarray, where: np.ndarray) -> dict[str, float]:
    """Share of the areal mass (Σλ) per material class over the pixels ``where``."""
    hist = zeff_histogram(lam, zeff, where)
    total = hist.sum()
    if total <= 0:
        return {}
    names = np.asarray(decomposer.material_class(Z_BINS[:-1] + 0.125)).astype(str)
    return {str(c): round(float(hist[names == c].sum() / total), 3) for c in np.unique(names) if hist[names == c].sum()}


def unit_type(meta: dict[str, Any]) -> str:
    """The structure type whose walls the beam crosses: ``container`` when the wagon carries containers."""
    return "container" if meta.get("container_numbers") else (meta.get("wagon_type") or "other")


def mass_and_density(lam: np.ndarray, zeff: np.ndarray, a_high: np.ndarray, load: np.ndarray,
                     pitch_mm: tuple[float, float], meta: dict[str, Any], params: InspectParams,
                     decomposer, declared: dict[str, Any] | None, category: Category | None,
                     packaging_fraction: float = 0.0
                     ) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    """The ``mass`` and ``material`` blocks and the flags raised (code, detail).

    Args:
        lam, zeff: maps from :func:`invert_map` at the model pitch.
        a_high: high-energy attenuation (for photon starvation).
        load: boolean map of the load pixels.
        pitch_mm: the model pitch (row, column).
        meta: the sidecar.
        params: thresholds and structure table.
        decomposer: for material class names.
        declared: the declaration summary (``net_weight_kg``), or None.
        category: the declared cargo category, or None.
        packaging_fraction: the share of the loaded mass that is packaging (cartons, pallets, drums) for the
            declared goods; the declared net weight excludes it.
    """
    px_cm2 = pitch_mm[0] * pitch_mm[1] / 100.0
    n = int(load.sum())
    kind = unit_type(meta)
    gross_kg = float(np.sum(lam[load], dtype=np.float64)) * px_cm2 / 1000.0
    structure_kg = params.structure_g_cm2.get(kind, params.structure_g_cm2.get("other", 0.0)) * n * px_cm2 / 1000
    loaded = max(0.0, gross_kg - structure_kg)
    net = loaded * (1.0 - packaging_fraction)
    # λ where the beam is at or next to the dark level is a lower bound (see DARK_A): the true mass behind it is
    # unmeasured, so one σ of its own size goes into the uncertainty (one-sided in truth: the estimate is low).
    dark = cv2.dilate((a_high > DARK_A).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & load
    bound_kg = float(np.sum(lam[dark], dtype=np.float64)) * px_cm2 / 1000.0 * (1.0 - packaging_fraction)
    sigma = float(np.sqrt((params.lambda_rel_uncertainty * gross_kg) ** 2
                          + (params.structure_rel_uncertainty * structure_kg) ** 2
                          + (0.5 * packaging_fraction * loaded) ** 2 + bound_kg ** 2))
    starved = float((a_high[load] > STARVED_A).mean()) if n else 0.0
    flags: list[tuple[str, str]] = []
    mass = {"net_kg": round(net, 1), "sigma_kg": round(sigma, 1), "gross_in_beam_kg": round(gross_kg, 1),
            "structure_kg": round(structure_kg, 1), "structure_type": kind,
            "packaging_fraction": packaging_fraction, "load_area_m2": round(n * px_cm2 / 1e4, 3),
            "starved_fraction": round(starved, 4), "lower_bound_kg": round(bound_kg, 1),
            "lower_bound_fraction": round(float(dark.sum()) / n, 4) if n else 0.0, "declared_net_kg": None, "difference_rel": None,
            "flag": False, "tolerance_rel": params.mass_tolerance_rel}
    if declared and declared.get("net_weight_kg") is not None:
        d = float(declared["net_weight_kg"])
        sigma_measured = float(np.sqrt(max(sigma ** 2 - bound_kg ** 2, 0.0)))
        flag = mass_flag(net, d, sigma, sigma_measured, params)
        mass.update(declared_net_kg=d, difference_rel=round((net - d) / d, 3) if d > 0 and np.isfinite(d) else None)
        if flag:
            mass["flag"] = True
            flags.append(("MASS_MISMATCH", flag))
    overall = region_material(decomposer, lam, zeff, load, a_high)
    depth = params.beam_depth_cm.get(kind, params.beam_depth_cm.get("other", 240.0))
    rho = overall["lambda_mean_g_cm2"] / depth if overall["lambda_mean_g_cm2"] is not None else None
    shares = class_shares(decomposer, lam, zeff, load) if n else {}
    material = {"overall": overall, "shares_by_lambda": shares, "bulk_density_g_cm3": None if rho is None else
                round(rho, 3), "beam_depth_cm": depth, "density_flag": False, "expected": None}
    if category is not None and rho is not None:
        lo, hi = category.density_g_cm3
        material["expected"] = {"density_g_cm3": [lo, hi], "materials": list(category.materials)}
        bad = []
        if not lo <= rho <= hi:
            bad.append(f"плотность {rho:.2f} г/см³ вне {lo}–{hi}")
        if overall["class"] not in category.materials:
            bad.append(f"материал «{overall.get('class_ru')}» не характерен для «{category.ru}»")
        if bad:
            material["density_flag"] = True
            flags.append(("DENSITY_MISMATCH", "; ".join(bad)))
    return mass, material, flags


def mass_flag(net: float, declared: float, sigma: float, sigma_measured: float, params: InspectParams) -> str | None:
    """Why the estimate contradicts the declared net weight, or None.

    The uncertainty is one-sided where photons starve: λ there is a *lower bound*, so the truth can only be
    heavier than ``net``. An *understated* declaration is therefore judged against the measured uncertainty alone
    (``sigma_measured``, without the starved bound): the estimate — a lower bound itself — must exceed the
    declaration by the tolerance. An *overstated* one against the full ``sigma`` (the unseen mass may explain it).
    A declaration that is not a finite non-negative number always contradicts (it is also DECLARATION_INVALID).
    """
    if not np.isfinite(declared) or declared < 0:
        return f"заявлено {declared!r} кг — не масса"
    diff = net - declared
    tol = params.mass_tolerance_rel * declared
    if diff > 0 and diff > max(tol, params.mass_tolerance_sigma * sigma_measured):
        return f"оценка не меньше {net:.0f} ± {sigma_measured:.0f} кг, заявлено {declared:.0f} кг"
    if diff < 0 and -diff > max(tol, params.mass_tolerance_sigma * sigma):
        return f"оценка {net:.0f} ± {sigma:.0f} кг, заявлено {declared:.0f} кг"
    return None


DecomposerFactory = Callable[[dict[str, Any]], Any]
