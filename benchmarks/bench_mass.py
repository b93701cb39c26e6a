"""The mass estimator dissected on fresh synthetic wagons: where its error comes from, per cargo category.

Run: ``PYTHONPATH=src python benchmarks/bench_mass.py [--n 90] [--seed 777002] [--out mass.csv]``. Draws wagons with
the synthesiser (no threats; a seed no rule was written for), renders them through its scanner, and reads each
loaded unit's mass as the engine does (:func:`cargoscan.inspect.material.native_maps` and ``_mass``) over the
*true* load mask, so the segmentation model plays no part. The generator's own layers give the truth of each
term: the λ over the load pixels (goods, packaging, structure), the goods and packaging masses, the structure.

Prints JSON: per category × unit type the median signed error of the net mass, of the λ read against the true λ
over the load (``read``), of the noiseless projection read pixel by pixel (``ideal``: the reference ladder alone),
the true structure over the estimated one (``structure_ratio``) and the share of lower-bound units; overall, the
median and 90th percentile |Δ| of the units that are not lower bounds, how many lower bounds read > 5 % above the
truth (a lower bound must not), and the 2σ coverage.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from unittest import mock

import numpy as np
import pandas as pd


def _units(plan, geom, params, categories) -> list[dict]:
    """One wagon: per loaded unit, the estimate and the truth of each of its terms."""
    import cargoscan.synth.cargo as cargo
    from cargoscan.archive.classes import load_classes
    from cargoscan.data.channels import transmission
    from cargoscan.inspect import material
    from cargoscan.synth import generator
    from cargoscan.synth.scene import _density

    layers: list[tuple[np.ndarray, np.ndarray]] = []
    merge = cargo.merge

    def capture(s, ld):       # the goods' and packaging's λ, before the generator merges them into the scene
        c0 = int(round((ld.goods.x_offset_m - s.x_offset_m) / s.col_pitch_m))
        maps = []
        for layer in (ld.goods, ld.packing):
            lam = np.zeros((s.rows, s.cols), np.float32)
            for m, path in layer.paths.items():
                lam[:, c0:c0 + ld.goods.cols] += np.maximum(path, 0) * _density(m)
            maps.append(lam)
        layers.append(tuple(maps))
        return merge(s, ld)

    with mock.patch.object(generator, "merge", capture):
        s, _ = generator.build_scene(plan, geom)
    scanner = generator.scanner_for(plan)
    image = scanner.acquire(s.paths, np.random.default_rng(np.random.SeedSequence([plan.seed, 99])))
    meta = generator.sidecar(plan, s)
    dec = material.default_decomposer(meta)
    pitch = (meta["pixel_pitch_mm"]["row"], meta["pixel_pitch_mm"]["column"])
    kg = pitch[0] * pitch[1] / 100 / 1000                       # kg per g/cm² over one pixel
    lam_true = sum(p * _density(m) for m, p in s.paths.items())
    ideal_a = scanner.attenuation(s.paths)
    load_ids = [c.id for c in load_classes() if c.name == "cargo" or c.threat]
    load_all = np.isin(s.mask, load_ids)
    ideal, _ = material.invert_map(dec, ideal_a[0], ideal_a[1], load_all)
    a_high = -np.log(transmission(image)[0])
    structure = lam_true - sum(g + p for g, p in layers)
    kind = material.unit_type(meta)
    out = []
    for u, (goods, packing) in zip(s.units, layers):
        if not u.get("cargo_category"):
            continue
        load = load_all.copy()
        load[:, :u["x0"]] = False
        load[:, u["x1"]:] = False
        lam, dark, psf = material.native_maps(dec, image, meta, pitch, pitch, load)
        cat = categories[u["cargo_category"]]
        m, _ = material._mass(lam, a_high, load, pitch, kind, params, None, cat, cat.packaging_fraction, dark, psf,
                              {})
        true_in_load = float(lam_true[load].sum()) * kg
        out.append({"scan_id": plan.scan_id, "category": u["cargo_category"], "type": kind,
                    "true_kg": u["net_mass_kg"], "net_kg": m["net_kg"], "sigma_kg": m["sigma_kg"],
                    "lower_bound": m["lower_bound"], "read": float(lam[load].sum()) * kg / true_in_load - 1,
                    "ideal": float(ideal[load].sum()) * kg / true_in_load - 1,
                    "structure_ratio": float(structure[load].sum()) * kg / max(m["structure_kg"], 1e-9),
                    "packaging_true": float(packing[load].sum() / max((goods + packing)[load].sum(), 1e-9)),
                    "packaging_used": cat.packaging_fraction})
    return out


def run(n: int, seed: int) -> pd.DataFrame:
    from cargoscan.inspect.config import InspectParams
    from cargoscan.inspect.declarations import load_categories
    from cargoscan.logs import progress
    from cargoscan.synth.config import SynthParams
    from cargoscan.synth.manifest import plan_scans

    p = SynthParams(n=n, seed=seed)
    p = replace(p, threats=replace(p.threats, wagon_rate=0.0))
    params, categories = InspectParams(), load_categories()
    rows: list[dict] = []
    with progress() as bar:
        task = bar.add_task("mass", total=n)
        for plan in plan_scans(p):
            rows += _units(plan, p.geometry, params, categories)
            bar.advance(task)
    df = pd.DataFrame(rows)
    df["error"] = (df["net_kg"] - df["true_kg"]) / df["true_kg"]
    return df


def summary(df: pd.DataFrame) -> dict:
    by = df.groupby(["category", "type"])
    table = pd.DataFrame({"n": by.size(), "error": by["error"].median(), "read": by["read"].median(),
                          "ideal": by["ideal"].median(), "structure_ratio": by["structure_ratio"].median(),
                          "lower_bound": by["lower_bound"].mean()}).round(3)
    free, bound = df[~df["lower_bound"]], df[df["lower_bound"]]
    return {"units": len(df),
            "not_lower_bound": {"n": len(free), "median_abs_error": round(float(free["error"].abs().median()), 4),
                                "p90_abs_error": round(float(free["error"].abs().quantile(0.9)), 4)},
            "lower_bound": {"n": len(bound), "above_truth_by_5pct": int((bound["error"] > 0.05).sum())},
            "coverage_2sigma": round(float(((df["net_kg"] - df["true_kg"]).abs() < 2 * df["sigma_kg"]).mean()), 3),
            "median_abs_error_all": round(float(df["error"].abs().median()), 4),
            "by_category": {f"{c}/{t}": row for (c, t), row in table.to_dict("index").items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=90, help="wagons")
    ap.add_argument("--seed", type=int, default=777002)
    ap.add_argument("--out", default="", help="per-unit CSV")
    args = ap.parse_args()
    df = run(args.n, args.seed)
    if args.out:
        df.to_csv(args.out, index=False)
    print(json.dumps(summary(df), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
