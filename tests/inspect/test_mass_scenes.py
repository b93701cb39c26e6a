"""Mass on hand-built scenes of known λ, imaged by the synthesiser's own scanner (physics.Scanner.acquire: PSF,
quantum noise, crosstalk, streaks, dark level, 16-bit quantisation) at a real native pitch and read at the model
pitch, as the engine reads them: λ from the native scan, PSF deconvolved in transmission (material.native_maps).
"""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.material import default_decomposer, mass_and_density, mass_area, native_maps
from cargoscan.inspect.tiling import model_shape
from cargoscan.physics.materials import get_material
from cargoscan.physics.scanner import Scanner, ScannerParams
from cargoscan.synth.scene import heterogeneity, ring_template

NATIVE = (4.6, 5.6)      # mm: 720 detector channels over 3.3 m; 5 km/h at 250 pulses/s
MODEL = (16.0, 16.0)     # mm: params.yaml prepare.pitch_mm
H, W = 160, 480
PART_PX = (3, 13)         # castings 1.4–6 cm across: resolved by the scanner (PSF σ ≈ 1.2 px)
BOX = (30, 130, 40, 440)  # rows, columns of the goods at native pitch
SCANNER = ScannerParams(blur_row=1.1, blur_col=1.0, crosstalk_row=0.35, photons_high=11000.0,
                        photons_low=5000.0, dark_offset=2e-4)


def _meta() -> dict:
    rec = {k: getattr(SCANNER, k) for k in SCANNER.__dataclass_fields__}
    return {"scan_id": "hand", "wagon_type": "flat", "container_numbers": [],
            "pixel_pitch_mm": {"row": NATIVE[0], "column": NATIVE[1]},
            "generator": {"name": "test", "scanner": rec}}


def _scene(kind: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Path maps (cm) per material inside BOX."""
    rng = np.random.default_rng(seed)
    r0, r1, c0, c1 = BOX
    shape = (r1 - r0, c1 - c0)
    paths: dict[str, np.ndarray] = {}

    def put(name: str, local: np.ndarray) -> None:
        full = np.zeros((H, W), np.float32)
        full[r0:r1, c0:c1] = local
        paths[name] = paths.get(name, 0) + full

    if kind == "machinery":
        # Crates of steel castings: parts 1–4 px across, 4–15 cm of steel along the beam, in crate timber; the
        # parts cover ~45 % of the area, so each pixel's neighbours are as likely gaps as metal.
        steel = np.zeros(shape, np.float32)
        while (steel > 0).mean() < 0.45:
            h, w = rng.integers(PART_PX[0], PART_PX[1], 2)
            y, x = rng.integers(0, shape[0] - h), rng.integers(0, shape[1] - w)
            steel[y:y + h, x:x + w] = rng.uniform(4.0, 15.0)
        put("steel", steel)
        put("wood", np.full(shape, 6.0, np.float32))
    elif kind == "garments":
        tex = heterogeneity(rng, shape, NATIVE[0] / 1000, NATIVE[1] / 1000, 0.15, 0.005)
        put("textile", 60.0 * tex)
        put("cellulose", np.full(shape, 4.0, np.float32))
    elif kind == "mixed":     # electronics: plastic housings with steel and copper parts, pixel-scale clutter
        tex = heterogeneity(rng, shape, NATIVE[0] / 1000, NATIVE[1] / 1000, 0.25, 0.005)
        put("plastic_abs", 40.0 * tex)
        metal = heterogeneity(rng, shape, NATIVE[0] / 1000, NATIVE[1] / 1000, 0.7, 0.006)
        put("steel", 1.5 * metal * (rng.random(shape) < 0.5))
        put("copper", 0.8 * metal * (rng.random(shape) < 0.3))
    elif kind == "tyres":     # tyres standing in a row, axes along the beam: rings of rubber, air in their holes
        rubber = np.zeros(shape, np.float32)
        ry = shape[0] / 2
        ring = ring_template(ry, ry * NATIVE[0] / NATIVE[1], 0.62)
        x = 0
        while x + ring.shape[1] <= shape[1]:
            h, w = min(ring.shape[0], shape[0]), ring.shape[1]
            rubber[:h, x:x + w] += 35.0 * ring[:h]
            x += int(0.9 * w)
        put("rubber", rubber)
    else:
        raise ValueError(kind)
    return paths


def _true_kg(paths: dict[str, np.ndarray]) -> float:
    area_cm2 = NATIVE[0] * NATIVE[1] / 100.0
    return sum(float(p.sum()) * get_material(m).density_g_cm3 for m, p in paths.items()) * area_cm2 / 1000.0


def _estimate(paths, iterations: int | None = None, seed: int = 1, load: np.ndarray | None = None,
              weighed: np.ndarray | None = None) -> tuple[dict, float]:
    """The engine's mass of the scene, summed over ``weighed`` (None: ``load``); ``load`` None: the goods' box at
    the model pitch (what a segmentation would give)."""
    scanner = Scanner(SCANNER)
    image = scanner.acquire(paths, np.random.default_rng(seed))
    meta = _meta()
    load = _box_mask() if load is None else load
    weighed = load if weighed is None else weighed
    dec = default_decomposer(meta)
    kw = {} if iterations is None else {"iterations": iterations}
    lam, dark, psf = native_maps(dec, image, meta, NATIVE, MODEL, weighed, **kw)
    zeff = np.full(lam.shape, 26.0, np.float16)
    mass, _, _ = mass_and_density(lam, zeff, np.zeros(lam.shape, np.float32), load, MODEL, meta, InspectParams(),
                                  dec, None, None, 0.0, dark, psf, mass_load=weighed)
    return mass, _true_kg(paths)


def _box_mask() -> np.ndarray:
    load = np.zeros(model_shape((H, W), NATIVE, MODEL), bool)
    r0, r1, c0, c1 = BOX
    fy, fx = NATIVE[0] / MODEL[0], NATIVE[1] / MODEL[1]
    load[int(r0 * fy):int(np.ceil(r1 * fy)), int(c0 * fx):int(np.ceil(c1 * fx))] = True
    return load


def _thick_mask(path: np.ndarray, share: float) -> np.ndarray:
    """A segmentation that keeps only where the goods read thick: model pixels whose mean path is ≥ ``share`` of
    the thickest's (it drops the rims and holes of rings, as the trained model does on tyres)."""
    h, w = model_shape((H, W), NATIVE, MODEL)
    yi = np.minimum(((np.arange(H) + 0.5) * h / H).astype(int), h - 1)
    xi = np.minimum(((np.arange(W) + 0.5) * w / W).astype(int), w - 1)
    idx = (yi[:, None] * w + xi[None, :]).ravel()
    binned = np.bincount(idx, path.ravel(), h * w) / np.maximum(np.bincount(idx, minlength=h * w), 1)
    binned = binned.reshape(h, w)
    return binned >= share * binned.max()


def _err(mass: dict, truth: float) -> float:
    return (mass["gross_in_beam_kg"] - truth) / truth


def test_mass_of_hand_built_cartons_within_3_5_percent():
    """Cartons of garments (known λ, not starved): within 3.5 % (5.5 % low without the PSF deconvolution). The
    issue asks 3 %: what is left (−3.0 ± 0.1 % over three scenes) is the reference ladder's, not the noise's — the
    noiseless projection reads textile 2.9 % and cellulose 4.8 % low, since MeV dual energy sees Z_eff, not the
    hydrogen share, and cellulosics carry fewer electrons per gram (Z/A 0.53) than the ladder's polyethylene and
    water (0.57, 0.555)."""
    mass, truth = _estimate(_scene("garments"))
    assert mass["structure_kg"] == 0 and not mass["lower_bound"], mass
    assert abs(_err(mass, truth)) < 0.035, (mass["gross_in_beam_kg"], truth)


def test_deconvolution_removes_most_of_the_dense_parts_bias():
    """Resolved steel castings in crates read 33 % low without the deconvolution (the Jensen bias of the PSF
    mixing T of castings and gaps before the log) and within 6 % with it (−4.7 %; −12 % when each pixel's own
    noisy R chose its material), and the reported σ covers the rest; pixel-scale metal clutter in electronics
    likewise (−4.5 % → −2.5 %)."""
    for kind, before_lt, after_lt in (("machinery", -0.25, 0.06), ("mixed", -0.035, 0.035)):
        before, truth = _estimate(_scene(kind), iterations=0)
        after, _ = _estimate(_scene(kind))
        assert _err(before, truth) < before_lt, (kind, before["gross_in_beam_kg"], truth)
        assert abs(_err(after, truth)) < after_lt, (kind, after["gross_in_beam_kg"], truth)
        assert abs(_err(after, truth)) < abs(_err(before, truth)) / 1.4, kind
        assert abs(after["gross_in_beam_kg"] - truth) < 2 * after["sigma_kg"], (kind, after, truth)
        assert after["psf_correction_kg"] > 0


@pytest.mark.xfail(strict=True, reason="dense machinery reads ~4–5 % low after 25 Richardson-Lucy iterations "
                   "(slow convergence at 100:1 contrast in T, noise); the issue's 3 % needs a better deconvolution")
def test_mass_of_hand_built_machinery_within_3_percent():
    mass, truth = _estimate(_scene("machinery"))
    assert abs(_err(mass, truth)) < 0.03, (mass["gross_in_beam_kg"], truth)


def test_sigma_covers_the_truth_on_hand_built_scenes():
    """±2σ covers the truth on ≥ 90 % of hand-built units (scenes × noise draws; 95 % is the target)."""
    hits = []
    for kind in ("machinery", "garments", "mixed"):
        for seed in range(3):
            mass, truth = _estimate(_scene(kind, seed), seed=seed + 5)
            hits.append(abs(mass["gross_in_beam_kg"] - truth) < 2 * mass["sigma_kg"])
    assert np.mean(hits) >= 0.9, hits


def _slab(material: str, lam_g_cm2: float, seed: int = 3) -> tuple[dict, float]:
    """A uniform slab of ``material`` over BOX, ``lam_g_cm2`` thick along the beam: (mass block, truth kg)."""
    r0, r1, c0, c1 = BOX
    path = np.zeros((H, W), np.float32)
    path[r0:r1, c0:c1] = lam_g_cm2 / get_material(material).density_g_cm3
    return _estimate({material: path}, seed=seed)


@pytest.mark.parametrize("material, lam", [("steel", 60.0), ("polyethylene", 20.0), ("water", 60.0)])
def test_noisy_ratio_does_not_bias_the_mass(material, lam):
    """A uniform slab reads within 3 %: each pixel's λ is read with the material of its neighbourhood's R
    (material.regional_ratio). Read with its own noisy R, steel at 60 g/cm² came out 10 % low and polyethylene at
    20 g/cm² 8 % high (the noise scatters Z_eff across references, clipped at both ends of the ladder); water at
    60 g/cm² sits inside the ladder and read right either way."""
    mass, truth = _slab(material, lam)
    assert not mass["lower_bound"], mass
    assert abs(_err(mass, truth)) < 0.03, (material, mass["gross_in_beam_kg"], truth)


def test_starved_load_is_judged_heavier_only_on_what_is_measured():
    """Water 2.4 m deep (A_high ≈ 10, past the dark level): a lower bound whose σ covers the truth. Judged against a
    declaration, the part of the dark pixels' reading that may be noise (−ln about zero counts) is set aside: an
    estimate 10 % over an honest declaration is not 'understated' (it would be without), while a declaration of
    half the mass still is."""
    from cargoscan.inspect.material import mass_flag

    mass, truth = _slab("water", 240.0)
    bound = mass["lower_bound_kg"]
    assert mass["lower_bound"] and bound > 0.5 * mass["gross_in_beam_kg"], mass
    assert abs(mass["gross_in_beam_kg"] - truth) < 2 * mass["sigma_kg"], (mass, truth)
    p, sigma_m = InspectParams(), 0.02 * truth
    heavy = 1.1 * truth + p.mass_tolerance_rel * truth          # 10 % over the tolerance
    assert mass_flag(heavy, truth, mass["sigma_kg"], sigma_m, p, True, 1.0, bound) is None
    assert mass_flag(heavy, truth, mass["sigma_kg"], sigma_m, p, True, 1.0) is not None
    assert mass_flag(mass["net_kg"], 0.5 * truth, mass["sigma_kg"], sigma_m, p, True, 1.0, bound) is not None


@pytest.mark.xfail(strict=True, reason="the log of ~20-photon pixels and the dark level's over-subtraction read "
                   "thick light goods ~15 % heavy; pooling T where the noise is high would fix it but biases "
                   "heterogeneous dense goods far more (crates of castings −25 % → −45 %)")
def test_thick_light_goods_within_5_percent():
    """Polyethylene 150 g/cm² deep (A_high ≈ 6.5: ~20 photons a pixel, one in twenty reads zero counts)."""
    mass, truth = _slab("polyethylene", 150.0)
    assert abs(_err(mass, truth)) < 0.05, (mass["gross_in_beam_kg"], truth)


def test_mass_over_the_cargo_column_hull_keeps_what_the_segmentation_left_out():
    """Tyres (rings of rubber, air in the holes): a segmentation that keeps the thicker rubber only leaves out the
    thin rubber inside the rings and reads the row light (−8 % and −21 % for masks at 35 % and 50 % of the
    thickest path); summed over the column hull of the same mask (material.mass_area) the holes add nothing and
    the rubber between the mask's top and bottom comes back (−5 %, −12 %). What the hull cannot restore are the
    rims above and below the mask; the goods' own box, which holds them, reads −1 %. The hull of a box is the
    box."""
    paths = _scene("tyres")
    for share in (0.35, 0.5):
        seg = _thick_mask(paths["rubber"], share)
        hull = mass_area(seg)
        assert hull.sum() > seg.sum() and (hull | seg).sum() == hull.sum()
        segmented, truth = _estimate(paths, load=seg)
        weighed, _ = _estimate(paths, load=seg, weighed=hull)
        assert _err(segmented, truth) < -0.07, (share, segmented["gross_in_beam_kg"], truth)
        assert abs(_err(weighed, truth)) < 0.65 * abs(_err(segmented, truth)), (share, weighed, segmented, truth)
        assert weighed["load_area_m2"] > segmented["load_area_m2"]
    assert np.array_equal(mass_area(_box_mask()), _box_mask())
    boxed, truth = _estimate(paths)
    assert abs(_err(boxed, truth)) < 0.03, (boxed["gross_in_beam_kg"], truth)


def test_mass_area_fills_each_column_from_the_cargo_top_to_its_bottom_and_adds_the_threats():
    cargo = np.zeros((8, 5), bool)
    cargo[[1, 5], 1] = True          # a column with a gap
    cargo[3, 3] = True               # a column of one pixel
    threats = np.zeros_like(cargo)
    threats[7, 4] = True             # a threat in the underframe: kept, but it does not stretch the hull
    area = mass_area(cargo, threats)
    assert area[1:6, 1].all() and not area[0, 1] and not area[6:, 1].any()
    assert area[:, 3].sum() == 1 and area[:, 0].sum() == 0 and area[:, 2].sum() == 0
    assert area[7, 4] and area[:, 4].sum() == 1
    assert np.array_equal(mass_area(cargo), area & ~threats)