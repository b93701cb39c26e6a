"""Per cargo category: packaging share, bulk density and material class, derived from the synthesiser itself.

The inspection needs, for each declared category, (1) the share p of the loaded mass that is packaging (the
declared *net* weight excludes cartons, pallets, crates and drums: net = loaded·(1 − p)), and (2) the bulk density
ρ and the material classes an honest load of that category shows (DENSITY_MISMATCH). These are not hand-set:
they are measured here on loads drawn by the synthesiser's own builder, through its own physics.

Derivation (:func:`derive_category`), for each category of :data:`cargoscan.synth.cargo.CATEGORIES` and each wagon
kind that carries it (a flat wagon with one 40 ft or two 20 ft containers), :data:`SAMPLES` scenes with seeds from
``SeedSequence([SEED, category index])`` (so one category recomputes alone), and :data:`NOISY_SAMPLES` more at
the native pitch whose attenuation is also acquired with noise:

* the wagon is drawn by :func:`cargoscan.synth.wagons.create_wagon` on a coarse :class:`~cargoscan.synth.scene.
  Scene` (:data:`PITCH_M`), each unit loaded by :func:`cargoscan.synth.cargo.load_unit` with the planner's fill
  (``synth.manifest._unit``: a partial load 0.25–0.6 at ``LoadParams.partial_rate``, else the category's fill, of which
  ``LoadParams.payload_rate`` packed dense to the payload)
  and merged as the generator merges it;
* packaging share = packing-layer mass / (goods + packing mass) per unit, as the generator's truth weighs them
  (``net_mass_kg`` and ``gross_extra_kg``); ``packaging_fraction`` is its mean, ``packaging_sigma`` its standard
  deviation over units (the mass's σ term for the packaging, instead of the prior p/2), and its range is recorded;
* the structure in the beam per unit type (``structure_g_cm2``, :func:`structure_table`): the mean areal density
  of the unloaded wagon's own paths (walls, posts, stanchions, doors, a tank's shell along its chords) over each
  unit's cargo pixels, on the scenes at the native pitch; it is the default of ``InspectParams.structure_g_cm2``,
  the tare the mass subtracts;
* bulk density, as :func:`cargoscan.inspect.material.mass_and_density` reads it: the mean areal density λ over
  the unit's cargo pixels (goods, packaging and the walls in the beam) / the beam depth of the unit type
  (``InspectParams.beam_depth_cm``). λ both as the truth (Σ path·density) and as the synthesiser's decomposer
  reads the polyenergetic attenuation of its default scanner, noiseless (``Scanner.attenuation``) and through the
  whole acquisition chain (``Scanner.acquire``: PSF, quantum noise, crosstalk, dark level, 16 bits);
* material: the λ-weighted median Z_eff of the unit's cargo pixels inside ``Z_VALID``
  (:func:`~cargoscan.inspect.material.region_material`), noiseless and acquired (noise biases the median Z_eff
  of light organic goods up by several units), over the readings whose class the material check judges (≥ 50 %
  of the load inside ``Z_VALID``; all units if none is). The acquired scenes are imaged by scanners drawn from
  the synthesiser's ranges and read as the engine reads them: at native pitch, and binned to each model pitch
  (:data:`MODEL_PITCHES_MM`) and inverted pixel by pixel, where the engine judges the class (read only at native
  pitch, honest food and plastics read "mixed" by a hair on 29 of 1,000 benchmark wagons).

The table's ranges: ``density_g_cm3`` = [min·:data:`DENSITY_MARGIN`\\[0], max·:data:`DENSITY_MARGIN`\\[1]] over
both λ readings (the margins absorb the estimator's residual PSF bias, −9 % to −30 % on dense parts, and the
quantum noise); ``materials`` = the classes of Z_eff over [min − :data:`Z_MARGIN`, max + :data:`Z_MARGIN`].
``empty`` is no synthesiser category: its row stays in ``hs_categories.yaml`` (no load expected).

The values are cached in the packaged ``category_physics.json`` with their provenance (generator version, seed,
samples, a fingerprint of the cargo definitions); :func:`cargoscan.inspect.declarations.load_categories` fills
the rows of ``hs_categories.yaml`` from it. Regenerate after changing the synthesiser's cargo:
``python -m cargoscan.bench.category_physics`` (tests/bench/test_category_physics.py recomputes and compares).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

import cargoscan.inspect
from cargoscan.inspect.declarations import JSON_NAME, load_derived  # noqa: F401  (this module's table)

#: Where the engine reads the table: packaged beside the inspection engine, which never imports the synthesiser
#: (this derivation does, and the engine's reading of a scan, so it sits above both, in bench).
PACKAGED = Path(cargoscan.inspect.__file__).with_name(JSON_NAME)

SEED = 20240615
SAMPLES = 12                     # scenes per (category, wagon kind)
PITCH_M = (0.0184, 0.02)         # row, column: 4× the native row pitch; the cargo's truth does not depend on it
NOISY_SAMPLES = 4                # more scenes per (category, wagon kind) acquired with noise, at the native pitch
NATIVE_PITCH_M = (0.0046, 0.0056)    # GeometryParams.row_pitch_mm; 5 km/h at 250 pulses/s
#: The pitches the engine reads Z_eff at (the model's: the default and the gpu profile's): each pixel's ratio is the
#: mean of the native pixels it bins, so Z_eff's noise — and the class an honest load reads — depends on it.
MODEL_PITCHES_MM = ((16.0, 16.0), (8.0, 8.0))
DENSITY_MARGIN = (0.7, 1.3)
Z_MARGIN = 1.0


def code_digest(source: str) -> str:
    """sha256 of Python code without its comments and docstrings: a reworded docstring is no new physics."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def fingerprint() -> str:
    """sha256 of what the derivation reads: the cargo definitions and their builders (``synth.cargo``,
    ``synth.contents``), payloads, the wagons' builders, material densities and method."""
    import inspect

    from cargoscan.physics.materials import MATERIALS
    from cargoscan.synth import cargo, contents, wagons
    from cargoscan.synth.cargo import CATEGORIES, PAYLOAD_KG

    def source(module) -> str:
        return code_digest(inspect.getsource(module))

    doc = {"categories": {n: asdict(c) for n, c in CATEGORIES.items()}, "payload": PAYLOAD_KG,
           "wagons": source(wagons), "cargo": source(cargo), "contents": source(contents),
           "materials": {n: [m.density_g_cm3, sorted(m.composition.items())] for n, m in MATERIALS.items()},
           "method": [SEED, SAMPLES, NOISY_SAMPLES, PITCH_M, NATIVE_PITCH_M, MODEL_PITCHES_MM, DENSITY_MARGIN,
                      Z_MARGIN]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _tools():
    from cargoscan.physics.decompose import Decomposer
    from cargoscan.physics.scanner import Scanner

    return Scanner(), Decomposer.default()


def _sampled_tools(rng: np.random.Generator):
    """A scanner drawn from the synthesiser's ranges (``physics.scanner.DEFAULT_RANGES``) and its decomposer."""
    from cargoscan.physics.decompose import Decomposer
    from cargoscan.physics.scanner import Scanner, sample_scanner

    params = sample_scanner(rng)
    return Scanner(params), Decomposer.for_scanner(params)


def _model_readings(raw: np.ndarray, cargo: np.ndarray, spans: list[tuple[int, int]], decomposer
                    ) -> list[dict[str, float]]:
    """Per unit, Z_eff as the engine reads it: the acquired scan binned to each model pitch
    (:data:`MODEL_PITCHES_MM`) by the model's own input channels, inverted pixel by pixel over the load and
    pooled by :func:`~cargoscan.inspect.material.region_material` (the engine's ``material.overall``)."""
    from cargoscan.data.channels import input_channels, resample_mask
    from cargoscan.inspect.material import Z_VALID, invert_map, region_material

    native_mm = (NATIVE_PITCH_M[0] * 1000, NATIVE_PITCH_M[1] * 1000)
    out: list[dict[str, float]] = [{} for _ in spans]
    for pitch in MODEL_PITCHES_MM:
        a = input_channels(raw, native_mm, pitch, ("a_high", "a_low"))
        load = resample_mask(cargo.astype(np.uint8), a.shape[1:]) > 0
        scale = a.shape[2] / cargo.shape[1]
        for rec, (c0, c1) in zip(out, spans):
            where = np.zeros_like(load)
            where[:, int(c0 * scale):int(math.ceil(c1 * scale))] = True
            where &= load
            if not where.any():
                continue
            lam, zeff = invert_map(decomposer, a[0], a[1], where)
            key = f"_model{pitch[0]:g}"
            ah = a[0][where]
            rec.update({f"zeff{key}": float(region_material(decomposer, lam, zeff, where, a[0])["zeff"]),
                        f"z_valid{key}": float(((ah >= Z_VALID[0]) & (ah <= Z_VALID[1])).mean())})
    return out


def sample_units(name: str, wagon: str, rng: np.random.Generator, scanner=None, decomposer=None,
                 pitch: tuple[float, float] = PITCH_M, noisy: bool = False) -> list[dict[str, float]]:
    """One synthesised wagon of kind ``wagon`` loaded with category ``name``: per unit, goods and packing mass
    (kg), the mean areal density of the wagon's own structure over its cargo pixels (g/cm²), bulk density (truth
    and as decomposed, g/cm³) and the λ-weighted median Z_eff of its cargo pixels, noiseless and, with ``noisy``
    (meaningful at the native pitch only), through the acquisition chain, at the native pitch and as the engine
    reads it at the model's pitches (:func:`_model_readings`)."""
    from cargoscan.archive.classes import class_id
    from cargoscan.data.channels import transmission
    from cargoscan.inspect.config import BEAM_DEPTH_CM
    from cargoscan.inspect.material import Z_VALID, region_material
    from cargoscan.synth.cargo import CATEGORIES, load_unit, merge
    from cargoscan.synth.config import LoadParams
    from cargoscan.synth.scene import Scene, _density
    from cargoscan.synth.wagons import create_wagon, wagon_length

    if scanner is None:
        scanner, decomposer = _tools()
    cat = CATEGORIES[name]
    rows = int(round(720 * 0.0046 / pitch[0]))
    s = Scene(rows, int(round((wagon_length(wagon) + 1.5) / pitch[1])), pitch[0], pitch[1], 0.30)
    ident = ["CONT%07d" % k for k in range(1 if rng.random() < 0.5 else 2)] if wagon == "flat" else "00000000"
    units = create_wagon(wagon, s, 0.75, ident, rng)
    lam_structure = sum(p * np.float32(_density(m)) for m, p in s.paths.items())   # the wagon alone, unloaded
    out = []
    partial, payload = LoadParams().partial_rate, LoadParams().payload_rate
    for u in units:
        fill = rng.uniform(0.25, 0.6) if rng.random() < partial else rng.uniform(*cat.fill)
        dense = bool(fill > 0.6 and rng.random() < payload)
        ld = load_unit(s, u, name, float(cat.fill[1] if dense else fill), rng, dense)
        goods = ld.goods_mass()
        pack = sum(ld.packing.mass_kg(m) for m in ld.packing.paths)
        merge(s, ld)
        out.append({"unit": u, "goods_kg": goods, "packing_kg": pack})
    lam_true = sum(p * np.float32(_density(m)) for m, p in s.paths.items())
    noiseless = scanner.attenuation(s.paths)
    readings = [("", noiseless)]
    cargo = s.mask == class_id("cargo")
    spans = [(max(int(s.col_of(r["unit"].x0)), 0), int(math.ceil(s.col_of(r["unit"].x1)))) for r in out]
    if noisy:       # the acquisition chain: PSF, quantum noise, dark level (λ then reads low: no deconvolution)
        raw = scanner.acquire(s.paths, rng)
        readings.append(("_noisy", -np.log(transmission(raw))))
        for rec, model in zip(out, _model_readings(raw, cargo, spans, decomposer)):
            rec.update(model)
    kind = "container" if wagon == "flat" else wagon
    depth = BEAM_DEPTH_CM[kind]
    for rec, (c0, c1) in zip(out, spans):
        rec.pop("unit")
        where = np.zeros_like(cargo)
        where[:, c0:c1] = True
        where &= cargo
        rec["rho_true"] = float(lam_true[where].mean()) / depth
        rec["structure_g_cm2"] = float(lam_structure[where].mean())
        for key, a in readings:
            lam, zeff = decomposer.invert(a[0][where], a[1][where])
            lam_map = np.zeros(cargo.shape, np.float32)
            z_map = np.zeros(cargo.shape, np.float32)
            lam_map[where] = np.nan_to_num(lam)
            z_map[where] = np.nan_to_num(zeff)
            reg = region_material(decomposer, lam_map, z_map, where, a[0])
            ah = a[0][where]
            rec.update({f"rho_read{key}": float(lam_map[where].mean()) / depth, f"zeff{key}": float(reg["zeff"]),
                        f"z_valid{key}": float(((ah >= Z_VALID[0]) & (ah <= Z_VALID[1])).mean())})
    return out


def derive_category(name: str, seed: int = SEED, samples: int = SAMPLES) -> dict[str, Any]:
    """The derived row of one category (see the module docstring)."""
    from cargoscan.synth.cargo import CATEGORIES
    from cargoscan.physics.decompose import material_class

    index = list(CATEGORIES).index(name)
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    scanner, decomposer = _tools()
    units, structure = [], {}
    for wagon in CATEGORIES[name].wagons:
        for pitch, noisy in [(PITCH_M, False)] * samples + [(NATIVE_PITCH_M, True)] * NOISY_SAMPLES:
            # a noisy scene is imaged by a scanner drawn as the synthesiser draws its devices, and read with that
            # scanner's calibration, as the engine reads a synthetic scan (its sidecar records the scanner)
            tools = _sampled_tools(rng) if noisy else (scanner, decomposer)
            drawn = [u for u in sample_units(name, wagon, rng, *tools, pitch, noisy)
                     if u["goods_kg"] > 0]
            units += drawn
            if noisy:   # at the native pitch: the edge-on floor and rails cover cargo pixels as in a real scan
                structure.setdefault("container" if wagon == "flat" else wagon, []).extend(
                    u["structure_g_cm2"] for u in drawn)
    share = np.array([u["packing_kg"] / (u["goods_kg"] + u["packing_kg"]) for u in units])
    rho = np.array([[u["rho_true"], u["rho_read"]] for u in units])
    readings = ["", "_noisy"] + [f"_model{p[0]:g}" for p in MODEL_PITCHES_MM]
    z = np.array([u["zeff" + k] for k in readings for u in units if u.get("z_valid" + k, 0) >= 0.5]
                 or [u["zeff"] for u in units])      # the material check's own rule: judged where ≥ 50 % valid
    z_grid = np.arange(z.min() - Z_MARGIN, z.max() + Z_MARGIN + 1e-9, 0.25)
    classes = sorted({str(c) for c in np.atleast_1d(material_class(z_grid))},
                     key=["organic", "mixed", "inorganic", "heavy"].index)
    return {"packaging_fraction": round(float(share.mean()), 3),
            "packaging_sigma": round(float(share.std(ddof=1)) if len(share) > 1 else 0.0, 3),
            "packaging_share_range": [round(float(share.min()), 3), round(float(share.max()), 3)],
            "bulk_density_measured_g_cm3": [round(float(rho.min()), 3), round(float(rho.max()), 3)],
            "density_g_cm3": [math.floor(rho.min() * DENSITY_MARGIN[0] * 1000) / 1000,
                              math.ceil(rho.max() * DENSITY_MARGIN[1] * 1000) / 1000],
            "zeff_range": [round(float(z.min()), 2), round(float(z.max()), 2)], "materials": classes,
            "structure_g_cm2": {k: [round(float(np.mean(v)), 2), len(v)] for k, v in structure.items()},
            "units": len(units)}


def structure_table(categories: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Areal density of the structure in the beam per unit type (g/cm²): the unit-weighted mean over the
    categories of each one's ``structure_g_cm2`` (side walls, posts, stanchions, doors, a tank's shell along its
    chords — what lies over the cargo pixels of honest loads); ``flat`` (no walls) 0, ``other`` the container's."""
    sums: dict[str, list[float]] = {}
    for row in categories.values():
        for kind, (mean, n) in row.get("structure_g_cm2", {}).items():
            acc = sums.setdefault(kind, [0.0, 0])
            acc[0] += mean * n
            acc[1] += n
    table = {k: round(total / n, 2) for k, (total, n) in sorted(sums.items()) if n}
    return {**table, "flat": 0.0, "other": table.get("container", 0.0)}


def derive(seed: int = SEED, samples: int = SAMPLES) -> dict[str, Any]:
    """The whole derived table with its provenance."""
    import cargoscan
    from cargoscan.synth.cargo import CATEGORIES
    from cargoscan.synth.generator import GENERATOR_NAME, GENERATOR_VERSION

    return {"provenance": {"generator": GENERATOR_NAME, "generator_version": GENERATOR_VERSION,
                           "cargoscan_version": cargoscan.__version__, "seed": seed, "samples": samples, "noisy_samples": NOISY_SAMPLES,
                           "pitch_m": list(PITCH_M), "density_margin": list(DENSITY_MARGIN), "z_margin": Z_MARGIN,
                           "scanner": "ScannerParams() defaults noiseless; scanners drawn from DEFAULT_RANGES, acquired with "
                                      "noise at native pitch and read at the model pitches",
                           "model_pitches_mm": [list(p) for p in MODEL_PITCHES_MM],
                           "fingerprint": fingerprint(), "method": "cargoscan.bench.category_physics"},
            "categories": (rows := {n: derive_category(n, seed, samples) for n in CATEGORIES}),
            "structure_g_cm2": structure_table(rows)}


def main(argv: list[str] | None = None) -> int:
    """Recompute and write the packaged table (or ``--out PATH``); prints old → new packaging fractions."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m cargoscan.bench.category_physics", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(PACKAGED))
    args = ap.parse_args(argv)
    doc = derive()
    Path(args.out).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print("structure g/cm²:", doc["structure_g_cm2"])
    for n, r in doc["categories"].items():
        print(f"{n:15s} p={r['packaging_fraction']:.3f} {r['packaging_share_range']} ρ={r['density_g_cm3']} "
              f"measured {r['bulk_density_measured_g_cm3']} Z={r['zeff_range']} {r['materials']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
