"""Material, areal density and mass findings from the dual-energy attenuations.

The physics is the synthesiser's: ``cargoscan.physics.decompose.Decomposer`` inverts (A_high, A_low) into the areal
density λ (g/cm²) and the effective atomic number Z_eff against the scanner's R-curves, and names the material
class (organic, mixed, inorganic, heavy). Nothing here models X-rays.

* Material per region: the class of the λ-weighted median Z_eff of the region's pixels (from a histogram).
* Net cargo mass: M = (Σ λ·a − S)·(1 − p). Σ λ·a runs over the load's column hull (:func:`mass_area`: in each
  column, every pixel from the top of the cargo class to its bottom, and the threat classes; ``a`` the pixel area
  at the model pitch); S is the known structure in the beam — the walls of the container or wagon
  type, as an areal density ``structure_g_cm2[type]`` times the same area (so the tare is counted over the pixels
  summed, not the whole body); p is the declared goods' packaging share (``hs_categories.yaml``: cartons,
  pallets, drums — the declared *net* weight excludes them). 1-σ uncertainty:
  σ² = (ε_λ·Σλa)² + (ε_s·S)² + (p/2 · (Σλa − S))² + P² + B², ε from the parameters, P the mass the PSF
  deconvolution added (its residual is of that order), B the net mass read on pixels at or next to the dark level
  (:data:`DARK_A`), where λ is −ln of noise about zero counts (``lower_bound_kg``).
* λ for the mass comes from the scan at native pitch (:func:`native_maps`): the system PSF (and binning to the
  model pitch) average *transmission* before the log, so heterogeneous goods read low (Jensen) — ~5 % for
  cartons, 36–53 % for dense machine parts. Richardson–Lucy deconvolution of T by the scanner's PSF before the
  log, then λ binned as a mean, removes most of it for parts the scanner resolves (−36 % → −5 %); clutter finer
  than the PSF stays low (tests/inspect/test_mass_scenes.py).
* Quantum noise, pixel by pixel, would bias λ twice; both are undone on the native scan before the inversion:
  each pixel's material is chosen by its neighbourhood's dual-energy ratio (:func:`regional_ratio`), and a pixel
  that read zero counts takes its neighbours' mean transmission (:func:`fill_zero_counts`). With the structure
  derived from the synthesiser's wagons (``InspectParams.structure_g_cm2``), on 103 fresh synthetic units
  (benchmarks/bench_mass.py, seed 777002, true load masks): median |Δ| 12.3 % → 10.1 %, within ±10 % 38 % →
  49 %; of the 29 units not starved 7.5 % → 4.9 % (p90 14 % → 13 %).
* Where ≥ :data:`LOWER_BOUND_SHARE` of the load is at or next to the dark level, the mass is a lower bound
  (``lower_bound``): never flagged as lighter than declared.
* Z_eff (material class) is read only where A_high lies in :data:`Z_VALID`; λ counts everywhere (where photons
  starve, λ is a lower bound and ``starved_fraction`` says how much of the load that is).
* Mass flag (:func:`mass_flag`): an understated weight when M − u·B − declared > max(tol·declared, k·σ_m),
  σ_m without the starved bound, B the mass read on dark pixels and u = :data:`UNSEEN_SHARE` the part of it that
  may be noise (−ln of noise about zero counts reads thick water 10–25 % heavy); an overstated one when
  declared − M > max(tol·declared, k·σ). A declared 0 (an empty unit) is compared too: a load beyond
  ``empty_tolerance_kg`` (500 kg) and k·σ_m is flagged — not the tens of kilograms of structure pixels a
  segmentation calls cargo (17 of 1,000 honest benchmark wagons, all declared empty, were sent red for them). Its
  density is never judged: an empty unit has no goods whose density a range could hold, and a load in it is the
  mass check's to find (16 of 1,000 honest empties were red for the "density" of a few hundred kilograms of
  structure the small model segments as cargo, within the mass's σ).
* Density flag: the bulk density ρ = mean λ / beam depth of the type, or the dominant material class, outside
  what the declared category allows (``hs_categories.yaml``). A starved load (``lower_bound``) is flagged only
  as too dense (its ρ is a lower bound), and its material class only where ≥ 50 % of the load lies in
  :data:`Z_VALID` (``z_valid_fraction``): a real dense load near starvation is not flagged for density alone.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import cv2
import numpy as np

from cargoscan.data.channels import T_FLOOR, transmission
from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.declarations import Category
from cargoscan.inspect.mass_calibration import MassCalibration

log = logging.getLogger(__name__)

STARVED_A = 10.0   # attenuation above this: photon-starved, λ is a lower bound
#: Attenuation above which the signal is at the dark level (the scanner's dark offset, 1.5–3·10⁻⁴ of air, reads
#: 0 from A ≈ 8.1–8.8). The system PSF averages *transmission* over ~1 px before the noise, so a pixel next to
#: one that deep reads −ln of a mean dominated by its brighter neighbour: its λ, too, is only a lower bound.
DARK_A = 8.0
#: Share of the load area at or next to the dark level from which the mass is reported as a lower bound
#: (``mass["lower_bound"]``) and never flagged as lighter than declared.
LOWER_BOUND_SHARE = 0.01
#: The share of a dark pixel's λ that may be noise: it reads at most A = −ln T_FLOOR ≈ 11.8 and holds at least the
#: dark level's A (:data:`DARK_A`), so 1 − 8/11.8 ≈ 0.32 of the mass read there is set aside before a load is
#: called heavier than declared (:func:`mass_evidence`).
UNSEEN_SHARE = 1.0 - DARK_A / -np.log(T_FLOOR)
#: A_high band where Z_eff means something (cargoscan.physics.decompose): thinner is noise, thicker starves.
Z_VALID = (0.5, 7.0)
MATERIAL_RU = {"organic": "органика", "mixed": "смесь", "inorganic": "неорганика", "heavy": "тяжёлые металлы"}


def default_decomposer(meta: dict[str, Any]):
    """The synthesiser's decomposer for this scan's scanner, or its default calibration.

    Raises:
        ImportError: when ``cargoscan.physics.decompose`` is not installed.
    """
    from cargoscan.physics.decompose import Decomposer

    scanner = (meta.get("generator") or {}).get("scanner")
    if scanner:
        try:
            from cargoscan.physics.scanner import ScannerParams

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


#: Richardson–Lucy iterations of the PSF deconvolution (:func:`deconvolve_transmission`). On hand-built scenes
#: (tests/inspect/test_mass_scenes.py) the mass bias of resolved dense parts falls from −36 % to −9 % by 50;
#: clutter finer than the PSF (σ ≈ 1.2 px) is not recoverable (−53 % → −30 %); more iterations mostly amplify
#: the quantum noise. What the deconvolution changed enters σ (``psf_correction_kg``).
RL_ITERATIONS = 25   # half the cost of 50; machinery still within the tests' 12 % (−14 % at 15)


def scanner_psf(meta: dict[str, Any]) -> tuple[float, float, float] | None:
    """The scanner's total PSF in transmission as (σ_row, σ_col, low-channel lag in columns), px at native pitch;
    None when the sidecar records no scanner (``generator.scanner``).

    The system blur (``blur_row`` × ``blur_col``) acts on the signal and the detector crosstalk (``crosstalk_row``)
    on the noisy signal; both are Gaussian, so together they are one Gaussian of σ_row = √(blur_row² +
    crosstalk_row²) (cargoscan.physics.scanner). The values are the sidecar's scanner record (a field it lacks: the
    default of :class:`~cargoscan.physics.scanner.ScannerParams`). Without a record there is no deconvolution:
    deconvolving by a PSF wider than the scanner's sharpens edges past the truth (ringing, clipped at T > 0) and
    reads *high*; an imported scan's PSF must first be measured and recorded.
    """
    from cargoscan.physics.scanner import ScannerParams

    rec = (meta.get("generator") or {}).get("scanner")
    if not isinstance(rec, dict) or not rec:
        return None
    d = ScannerParams()

    def get(name: str) -> float:
        try:
            v = float(rec.get(name, getattr(d, name)))
            return v if np.isfinite(v) and v >= 0 else float(getattr(d, name))
        except (TypeError, ValueError):
            return float(getattr(d, name))

    return float(np.hypot(get("blur_row"), get("crosstalk_row"))), get("blur_col"), get("misregistration_cols")


def deconvolve_transmission(t: np.ndarray, sigma_row: float, sigma_col: float, shift_col: float = 0.0,
                            iterations: int = RL_ITERATIONS) -> np.ndarray:
    """Richardson–Lucy deconvolution of one (H, W) transmission image by the Gaussian PSF (float32 out).

    The PSF mixes the *transmission* of neighbouring pixels before the log, so a dense part next to a light one
    reads −ln of a mean dominated by the light one (Jensen): the attenuation, and the mass, read low. Undoing the
    PSF in T, before the log, removes that bias. ``shift_col`` is the channel's sampling lag (the low-energy
    pulse): the deconvolution also registers it to the high channel. RL keeps T positive and its sum fixed.
    """
    from cargoscan.physics.noise import _gaussian_taps

    if iterations <= 0 or (sigma_row < 0.05 and sigma_col < 0.05 and shift_col == 0):
        return t.astype(np.float32, copy=True)
    kc, kr = _gaussian_taps(sigma_col, shift_col), _gaussian_taps(sigma_row)
    kc_t, kr_t = kc[::-1].copy(), kr[::-1].copy()          # the adjoint: the mirrored kernel

    def fwd(x):
        return cv2.sepFilter2D(x, -1, kc, kr, borderType=cv2.BORDER_REFLECT)

    def adj(x):
        return cv2.sepFilter2D(x, -1, kc_t, kr_t, borderType=cv2.BORDER_REFLECT)

    eps = np.float32(1e-7)
    y = np.maximum(t.astype(np.float32), eps)
    x = y.copy()
    for _ in range(iterations):
        x *= adj(y / np.maximum(fwd(x), eps))
    return x


#: σ (native pixels) of the neighbourhood whose dual-energy ratio R = A_low/A_high chooses the material by which a
#: pixel's λ is read (:func:`regional_ratio`).
RATIO_SIGMA_PX = 4.0
#: A_high above which a pixel's own R is too noisy to choose a material (a few tens of photons in the low pulse):
#: such pixels take the R of their measurable neighbours, else of the whole load's measurable pixels (a load
#: with none: of their neighbours all the same).
RATIO_MAX_A = 5.0


def regional_ratio(a_high: np.ndarray, a_low: np.ndarray, where: np.ndarray, sigma: float) -> np.ndarray:
    """R = A_low/A_high of each pixel's neighbourhood: Gaussian-weighted sums of both attenuations over the load
    pixels ``where`` whose R is measurable (A_high in [Z_VALID[0], :data:`RATIO_MAX_A`]; air and structure outside
    the load never enter), then their ratio. A pixel with no measurable neighbour takes the load's measurable R; a
    load with none, its neighbours' all the same.

    Why: at 4–6 MeV the whole ladder of materials spans R ≈ 1.05–1.11, while one pixel's R carries quantum noise of
    a few per cent. Read pixel by pixel, that noise scatters Z_eff across references whose λ at the same A_high
    differ by up to ~15 %, and the scatter is clipped at both ends of the ladder: λ comes out biased, by sign and
    size depending on the material (+8 % for oil at A_high ≈ 1, −10 % for steel at ≈ 2.7). The material changes
    over centimetres; the noise does not correlate: the neighbourhood's R picks the material, and each pixel's own
    A_high gives its λ (nearly linear in A, so unbiased).
    """
    k = int(2 * np.ceil(3 * sigma) + 1)

    def ratio(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        num = cv2.GaussianBlur((a_low * w).astype(np.float32), (k, k), sigma, borderType=cv2.BORDER_CONSTANT)
        den = cv2.GaussianBlur((a_high * w).astype(np.float32), (k, k), sigma, borderType=cv2.BORDER_CONSTANT)
        with np.errstate(invalid="ignore", divide="ignore"):
            return num / den, den > 1e-3

    measurable = where & (a_high >= Z_VALID[0]) & (a_high <= RATIO_MAX_A)
    if measurable.any():
        total = float(np.sum(a_high[measurable], dtype=np.float64))
        r_near, near = ratio(measurable.astype(np.float32))
        r_load = float(np.sum(a_low[measurable], dtype=np.float64)) / total if total > 0 else 1.0
        r = np.where(near, r_near, r_load)
    else:           # nothing measurable (a load past the dark level): all its pixels, pooled
        r, _ = ratio(where.astype(np.float32))
    return np.nan_to_num(r, nan=1.0, posinf=1.0, neginf=1.0).astype(np.float32)


ZERO_FILL_PX = 5   # box (native px) whose mean transmission stands in for a pixel that read zero counts


def fill_zero_counts(t: np.ndarray, raw: np.ndarray, where: np.ndarray, size: int = ZERO_FILL_PX) -> np.ndarray:
    """(2, H, W) transmissions where a pixel that read zero counts (raw T at :data:`T_FLOOR`) takes the mean raw T
    of its ``size``² box over the load pixels ``where``, zeros included.

    Why: where the signal is tens of photons, noise takes one pixel in eight below the dark level; it reads 0 and
    −ln clips it at 11.8 (λ ≈ 300 g/cm²), so thick light goods read 10–30 % heavy. T is unbiased, so the mean T of
    its neighbours is the pixel's best estimate; pixels that read counts keep their own.
    """
    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT)

    w = where.astype(np.float32)
    out = t.copy()
    zeros = where & (raw <= T_FLOOR * 1.0001)
    if zeros.any():
        count = np.maximum(box(w), 1.0)
        for c in np.flatnonzero(zeros.reshape(len(raw), -1).any(1)):
            out[c][zeros[c]] = (box(raw[c] * w)[zeros[c]] / count[zeros[c]]).astype(np.float32)
    return out


def native_maps(decomposer, image: np.ndarray, meta: dict[str, Any], src_pitch: tuple[float, float],
                dst_pitch: tuple[float, float], load: np.ndarray, max_pixels: int = 0,
                check: Callable[[], None] | None = None, iterations: int = RL_ITERATIONS
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Areal density λ for the mass, at the model pitch, from the scan at its *native* pitch; and the dark share.

    Resampling to the model pitch bins transmission, and the PSF mixes it, before the log: both average T of dense
    and light pixels, so −ln reads low (Jensen) — ~45 % on dense machine parts. Here, on the box of the load
    only: T at native pitch → PSF deconvolution (:func:`deconvolve_transmission`, the scanner's own PSF,
    :func:`scanner_psf`) → −ln → λ by the decomposer at native pitch → λ binned (a mean, so Σλ·area — the mass —
    is kept) to the model grid of ``load``. Returns (λ, dark, psf): λ (H', W') float32, zero off the load; dark
    the share of each model pixel's native pixels at or next to the dark level (:data:`DARK_A`, measured T), where
    λ is only a lower bound; psf the λ the deconvolution added (λ·(1 − A_measured/A_deconvolved), binned alike):
    the residual PSF bias is of that order (sub-PSF clutter is not recoverable), so it enters σ.
    """
    h, w = load.shape
    hn, wn = image.shape[1:]
    lam = np.zeros((h, w), np.float32)
    dark = np.zeros((h, w), np.float32)
    psf_map = np.zeros((h, w), np.float32)
    if not load.any():
        return lam, dark, psf_map
    fy, fx = hn / h, wn / w                   # native pixels per model pixel
    rows, cols = np.flatnonzero(load.any(1)), np.flatnonzero(load.any(0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    psf = scanner_psf(meta)
    sr, sc, lag = psf if psf is not None else (0.0, 0.0, 0.0)
    pad = int(np.ceil(4 * max(sr, sc) + lag)) + 2
    n0, n1 = max(0, int(np.floor(r0 * fy)) - pad), min(hn, int(np.ceil(r1 * fy)) + pad)
    m0, m1 = max(0, int(np.floor(c0 * fx)) - pad), min(wn, int(np.ceil(c1 * fx)) + pad)
    raw = transmission(image[:, n0:n1, m0:m1])
    t = np.stack([deconvolve_transmission(raw[0], sr, sc, 0.0, iterations),
                  deconvolve_transmission(raw[1], sr, sc, lag, iterations)])
    # The load at native pitch: each native pixel takes its model pixel's label.
    yi = np.minimum(((np.arange(n0, n1) + 0.5) / fy).astype(int), h - 1)
    xi = np.minimum(((np.arange(m0, m1) + 0.5) / fx).astype(int), w - 1)
    where = load[yi[:, None], xi[None, :]]
    t = fill_zero_counts(t, raw, where)
    measured_a = -np.log(raw[0])
    a = -np.log(np.clip(t, T_FLOOR, 1.0))
    a_low = regional_ratio(a[0], a[1], where, RATIO_SIGMA_PX) * a[0]     # the neighbourhood's R, this pixel's A
    lam_n, _ = invert_map(decomposer, a[0], a_low, where, max_pixels=max_pixels, check=check)
    dark_n = cv2.dilate((measured_a > DARK_A).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    dark_n *= where
    with np.errstate(invalid="ignore", divide="ignore"):
        psf_n = np.where(where & (a[0] > 0), lam_n * (1.0 - np.clip(measured_a, 0, None) / a[0]), 0.0)
    # Bin to the model grid: the sum of native λ·area over each model pixel, divided by its area.
    idx = (yi[:, None] * w + xi[None, :]).ravel()
    area_ratio = (src_pitch[0] * src_pitch[1]) / (dst_pitch[0] * dst_pitch[1])
    lam[:] = (np.bincount(idx, lam_n.ravel(), h * w) * area_ratio).reshape(h, w)
    psf_map[:] = (np.bincount(idx, np.nan_to_num(psf_n).ravel(), h * w) * area_ratio).reshape(h, w)
    cnt = np.bincount(idx, where.ravel().astype(np.float64), h * w)
    with np.errstate(invalid="ignore", divide="ignore"):
        dark[:] = np.where(cnt > 0, np.bincount(idx, dark_n.ravel(), h * w) / cnt, 0.0).reshape(h, w)
    lam *= load
    dark *= load
    psf_map *= load
    return lam, dark, psf_map


def mass_area(cargo: np.ndarray, threats: np.ndarray | None = None) -> np.ndarray:
    """The pixels the mass is summed over: in each column, every pixel from the top of the cargo to its bottom
    (the column hull), and the threat pixels.

    A segmentation leaves out what reads faint: the holes of tyres and the thin rubber around them, the gaps
    between goods. Those pixels hold the goods' thin parts and, behind the gaps, only the structure that the
    mass subtracts per pixel anyway (``structure_g_cm2``), so summing over the hull keeps the thin parts and adds
    nothing where there is none (tyres read 15–38 % light on the segmented area, 0 % on their true masks:
    benchmarks/bench_mass.py). The hull is the cargo class's own: a threat class marked in the floor or the
    underframe does not stretch it over the wagon's structure."""
    h = cargo.shape[0]
    has = cargo.any(0)
    top = np.where(has, cargo.argmax(0), h)
    bottom = np.where(has, h - 1 - cargo[::-1].argmax(0), -1)
    rows = np.arange(h)[:, None]
    hull = (rows >= top[None, :]) & (rows <= bottom[None, :])
    return hull if threats is None else hull | threats


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
                     packaging_fraction: float = 0.0, dark: np.ndarray | None = None,
                     psf: np.ndarray | None = None, lam_mass: np.ndarray | None = None,
                     thresholds: dict[str, float] | None = None, mass_load: np.ndarray | None = None,
                     calibration: MassCalibration | None = None
                     ) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    """The ``mass`` and ``material`` blocks and the flags raised (code, detail).

    Each block carries its ``evidence`` (:mod:`cargoscan.scoring.budget`: 1.0 is the physical rule); a flag is
    raised where it reaches ``thresholds["mass"]`` / ``thresholds["material"]`` (1.0 when not given).

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
        dark: per load pixel, the share of its area at or next to the dark level (from :func:`native_maps`);
            None: from ``a_high`` > :data:`DARK_A` at this pitch, dilated by one pixel.
        psf: per pixel, the λ the PSF deconvolution added (:func:`native_maps`); its sum is one σ term.
        lam_mass: λ for the mass and the bulk density (:func:`native_maps`); None: ``lam``. ``lam`` (with
            ``zeff``, same pitch and inversion) still weights the material class and shares.
        thresholds: the operating point of the mass and material checks (the artifact's decision budget).
        mass_load: the pixels the mass is summed over (:func:`mass_area`; ``lam_mass`` must cover them); None:
            ``load``. The material and the bulk density stay on ``load``.
        calibration: the mass read at the dark level, per category (:mod:`cargoscan.inspect.mass_calibration`,
            sealed at export); None: such a mass is a lower bound.
    """
    thresholds = thresholds or {}
    kind = unit_type(meta)
    lam_z, lam = lam, (lam if lam_mass is None else lam_mass)
    mass, mass_flags = _mass(lam, a_high, load if mass_load is None else mass_load, pitch_mm, kind, params,
                             declared, category, packaging_fraction, dark, psf, thresholds, calibration)
    declared_empty = bool(declared) and declared.get("net_weight_kg") == 0
    judged = None if declared_empty else category       # an empty unit: its load is the mass check's
    material, material_flags = _material(lam_z, lam, zeff, a_high, load, kind, params, decomposer, judged,
                                         mass["lower_bound"], thresholds)
    return mass, material, mass_flags + material_flags


def _mass(lam: np.ndarray, a_high: np.ndarray, load: np.ndarray, pitch_mm: tuple[float, float], kind: str,
          params: InspectParams, declared: dict[str, Any] | None, category: Category | None,
          packaging_fraction: float, dark: np.ndarray | None, psf: np.ndarray | None, thresholds: dict[str, float],
          calibration: MassCalibration | None = None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The ``mass`` block (net mass, its σ, the lower bound under starvation) and its flag against the
    declaration (see :func:`mass_and_density` for the arguments)."""
    px_cm2 = pitch_mm[0] * pitch_mm[1] / 100.0
    n = int(load.sum())
    gross_kg = float(np.sum(lam[load], dtype=np.float64)) * px_cm2 / 1000.0
    structure_kg = params.structure_g_cm2.get(kind, params.structure_g_cm2.get("other", 0.0)) * n * px_cm2 / 1000
    loaded = max(0.0, gross_kg - structure_kg)
    net = loaded * (1.0 - packaging_fraction)
    # λ where the beam is at or next to the dark level is a lower bound (see DARK_A): the true mass behind it is
    # unmeasured, so one σ of its own size goes into the uncertainty (one-sided in truth: the estimate is low).
    if dark is None:
        dark = cv2.dilate((a_high > DARK_A).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    dark = np.where(load, dark, 0.0).astype(np.float32)
    bound_kg = float(np.sum(lam * dark, dtype=np.float64)) * px_cm2 / 1000.0 * (1.0 - packaging_fraction)
    dark_share = float(dark[load].mean()) if n else 0.0
    lower_bound = dark_share >= LOWER_BOUND_SHARE
    psf_kg = 0.0 if psf is None else abs(float(np.sum(psf[load], dtype=np.float64))) * px_cm2 / 1000.0
    psf_kg *= 1.0 - packaging_fraction
    # the packaging share's spread over honest units of the category (bench/category_physics.py), else p/2
    pack_sigma = getattr(category, "packaging_sigma", None)
    pack_sigma = 0.5 * packaging_fraction if pack_sigma is None else pack_sigma
    sigma = float(np.sqrt((params.lambda_rel_uncertainty * gross_kg) ** 2 + psf_kg ** 2
                          + (params.structure_rel_uncertainty * structure_kg) ** 2
                          + (pack_sigma * loaded) ** 2 + bound_kg ** 2))
    starved = float((a_high[load] > STARVED_A).mean()) if n else 0.0
    mass = {"net_kg": round(net, 1), "sigma_kg": round(sigma, 1), "gross_in_beam_kg": round(gross_kg, 1),
            "structure_kg": round(structure_kg, 1), "structure_type": kind, "psf_correction_kg": round(psf_kg, 1),
            "packaging_fraction": packaging_fraction, "load_area_m2": round(n * px_cm2 / 1e4, 3),
            "starved_fraction": round(starved, 4), "lower_bound": lower_bound, "lower_bound_kg": round(bound_kg, 1),
            "lower_bound_fraction": round(dark_share, 4), "category": getattr(category, "name", None),
            "net_read_kg": round(net, 1), "sigma_read_kg": round(sigma, 1), "calibrated": False,
            "sigma_measured_kg": round(float(np.sqrt(max(sigma ** 2 - bound_kg ** 2, 0.0))), 1),
            "declared_net_kg": None, "difference_rel": None, "flag": False,
            "tolerance_rel": params.mass_tolerance_rel}
    if declared and declared.get("net_weight_kg") is not None:
        mass["declared_net_kg"] = float(declared["net_weight_kg"])
    flag = judge_mass(mass, params, thresholds.get("mass", 1.0), calibration)
    return mass, [("MASS_MISMATCH", flag)] if flag else []


def judge_mass(mass: dict[str, Any], params: InspectParams, threshold: float = 1.0,
               calibration: MassCalibration | None = None) -> str | None:
    """The mass block's estimate against its declaration, in place: from what was read (``net_read_kg``,
    ``sigma_read_kg``, ``sigma_measured_kg`` (σ without the dark pixels' mass), ``lower_bound_kg``,
    ``lower_bound``), calibrated for its ``category`` where ``calibration`` holds it
    (:mod:`cargoscan.inspect.mass_calibration`: ``net_kg``, ``sigma_kg``, ``calibrated``), and its ``evidence``,
    ``difference_rel`` and ``flag``; returns the flag's reason, or None. The engine and export's
    decision budget (re-judging the validation units out of fold) both judge a unit by it."""
    net, sigma, bound = mass["net_read_kg"], mass["sigma_read_kg"], mass["lower_bound_kg"]
    sigma_measured = mass["sigma_measured_kg"]
    lower_bound, unseen = bool(mass["lower_bound"]), bound
    fixed = calibration.correct(mass.get("category"), net, sigma_measured, bound) if calibration else None
    if fixed is not None:      # calibrated: two-sided, nothing unseen left
        net, sigma = fixed
        sigma_measured, lower_bound, unseen = sigma, False, 0.0
    mass.update(net_kg=round(net, 1), sigma_kg=round(sigma, 1), calibrated=fixed is not None, flag=False)
    d = mass.get("declared_net_kg")
    if d is None:
        return None
    d = float(d)
    e = mass_evidence(net, d, sigma, sigma_measured, params, lower_bound, unseen)
    flag = mass_flag(net, d, sigma, sigma_measured, params, lower_bound, threshold, unseen)
    mass.update(difference_rel=round((net - d) / d, 3) if d > 0 and np.isfinite(d) else None,
                evidence=round(e, 4) if np.isfinite(e) else e, flag=bool(flag))
    return flag


def strongest_evidence(blocks: list[dict[str, Any]]) -> float | None:
    """The largest finite ``evidence`` of mass blocks, or None: a wagon whose units decide the mass check takes
    its strongest unit's (the engine, and export's budget re-judging the validation wagons)."""
    values = [float(b["evidence"]) for b in blocks if b.get("evidence") is not None
              and not np.isnan(float(b["evidence"]))]
    return max(values) if values else None


def _material(lam_z: np.ndarray, lam: np.ndarray, zeff: np.ndarray, a_high: np.ndarray, load: np.ndarray,
              kind: str, params: InspectParams, decomposer, category: Category | None, lower_bound: bool,
              thresholds: dict[str, float]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The ``material`` block (class, shares, bulk density) and its flag against the declared category: ``lam_z``
    weights the material class and shares, ``lam`` (the mass's λ) gives the bulk density."""
    n = int(load.sum())
    flags: list[tuple[str, str]] = []
    overall = region_material(decomposer, lam_z, zeff, load, a_high)
    if n:      # the bulk density from the mass's λ
        overall["lambda_mean_g_cm2"] = round(float(np.sum(lam[load], dtype=np.float64)) / n, 2)
    depth = params.beam_depth_cm.get(kind, params.beam_depth_cm.get("other", 240.0))
    rho = overall["lambda_mean_g_cm2"] / depth if overall["lambda_mean_g_cm2"] is not None else None
    shares = class_shares(decomposer, lam_z, zeff, load) if n else {}
    material = {"overall": overall, "shares_by_lambda": shares, "bulk_density_g_cm3": None if rho is None else
                round(rho, 3), "beam_depth_cm": depth, "density_flag": False, "expected": None}
    if category is None or rho is None:
        return material, flags
    lo, hi = category.density_g_cm3
    material["expected"] = {"density_g_cm3": [lo, hi], "materials": list(category.materials)}
    bad = []
    # A starved load's ρ is a lower bound: only "too dense" is then shown. Its Z_eff comes from the few pixels
    # inside Z_VALID, if any: the material class is judged only where most of the load is inside it.
    z_share = float(((a_high[load] >= Z_VALID[0]) & (a_high[load] <= Z_VALID[1])).mean())
    material["z_valid_fraction"] = round(z_share, 3)
    # evidence 1.0 = the rule: ρ at the edge of the category's range; the load's mass half in materials
    # the category does not hold (the dominant class foreign to it)
    e_rho = max(rho / hi if hi > 0 else 0.0, lo / rho if rho > 0 and not lower_bound else 0.0)
    foreign = sum(v for c, v in shares.items() if c not in category.materials)
    if z_share < 0.5:          # Z_eff unmeasurable over most of the load: no material evidence
        e_mat = 0.0
    elif overall["class"] not in category.materials:
        e_mat = max(1.0, foreign / 0.5)
    else:
        e_mat = min(foreign / 0.5, 0.999)
    t = thresholds.get("material", 1.0)
    material["evidence"] = round(max(e_rho, e_mat), 4)
    if e_rho >= t:
        bad.append(f"плотность {rho:.2f} г/см³ вне {lo}–{hi}")
    if e_mat >= t:
        bad.append(f"материал «{overall.get('class_ru')}» не характерен для «{category.ru}»")
    if bad:
        material["density_flag"] = True
        flags.append(("DENSITY_MISMATCH", "; ".join(bad)))
    return material, flags


def mass_evidence(net: float, declared: float, sigma: float, sigma_measured: float, params: InspectParams,
                  lower_bound: bool = False, unseen_kg: float = 0.0) -> float:
    """The mass discrepancy in units of the rule's limit, ``max(tolerance, k·σ)`` (see :func:`mass_flag`): 1.0
    where the rule starts to flag, 0 where it cannot (a lighter estimate that is only a lower bound), ``inf`` for a
    declaration that is not a mass. ``unseen_kg``: the mass read on pixels at the dark level; a heavier load is
    judged only on what they surely hold, the λ of the dark level itself (λ is nearly linear in A, and no pixel
    reads more than A = −ln T_FLOOR), so :data:`UNSEEN_SHARE` of it is set aside: −ln of noise about zero counts
    reads thick water 10–25 % heavy."""
    if not np.isfinite(declared) or declared < 0:
        return float("inf")
    diff = net - declared
    if diff > 0:
        diff = max(diff - UNSEEN_SHARE * unseen_kg, 0.0)
    tol = params.mass_tolerance_rel * declared if declared > 0 else params.empty_tolerance_kg
    if diff > 0:
        return diff / max(tol, params.mass_tolerance_sigma * sigma_measured, 1e-9)
    if diff < 0 and not lower_bound:
        return -diff / max(tol, params.mass_tolerance_sigma * sigma, 1e-9)
    return 0.0


def mass_flag(net: float, declared: float, sigma: float, sigma_measured: float, params: InspectParams,
              lower_bound: bool = False, threshold: float = 1.0, unseen_kg: float = 0.0) -> str | None:
    """Why the estimate contradicts the declared net weight, or None: :func:`mass_evidence` at ``threshold``
    (1.0: the physical rule; the decision budget may raise it).

    The uncertainty is one-sided where photons starve: λ there is a *lower bound*, so the truth can only be
    heavier than ``net``. An *understated* declaration is therefore judged against the measured uncertainty alone
    (``sigma_measured``, without the starved bound): the estimate — a lower bound itself — must exceed the
    declaration by the tolerance. An *overstated* one against the full ``sigma`` (the unseen mass may explain it);
    and never where the estimate is only a lower bound (``lower_bound``: the load starves the detector), since a
    load whose mass is partly unmeasured cannot be shown to be lighter than declared.
    A declaration that is not a finite non-negative number always contradicts (it is also DECLARATION_INVALID).
    """
    if not np.isfinite(declared) or declared < 0:
        return f"заявлено {declared!r} кг — не масса"
    if mass_evidence(net, declared, sigma, sigma_measured, params, lower_bound, unseen_kg) < threshold:
        return None
    if net > declared:
        return (f"оценка не меньше {net - UNSEEN_SHARE * unseen_kg:.0f} ± {sigma_measured:.0f} кг, "
                f"заявлено {declared:.0f} кг")
    return f"оценка {net:.0f} ± {sigma:.0f} кг, заявлено {declared:.0f} кг"


DecomposerFactory = Callable[[dict[str, Any]], Any]
