"""The synthesiser's loads against the real-scanner texture targets (issue #17's table), measured as the targets were.

Run: ``python benchmarks/bench_realism.py [--n 32] [--seed 2024] [--payload-rate R] [--labels-free]``. Renders
``--n`` loaded container flat wagons (the kind the six real scans show; no concealment, no empty or partial
units), measures them with :func:`cargoscan.synth.realism.texture_stats` (64 px patches in the load, per band of
patch-mean A) and prints, per band, real / synthetic for each statistic with a mark where the synthetic value
lies outside the targets' tolerance (±25 %, slopes ±0.5), then the load's A quantiles, its share above A = 6 and
the fully blocked share. The patches lie inside the load (the cargo label, as the archive's ``realism.json``
measures them, :data:`cargoscan.synth.generator.LOAD_CLASS`); ``--labels-free`` measures by the targets' A rule
alone, as a real archive is, which also counts the wagon's underframe, deck and container floor.
"""

from __future__ import annotations

import argparse
import time

from cargoscan.archive.classes import class_id
from cargoscan.synth.config import LoadParams, SynthParams, ThreatParams
from cargoscan.synth.generator import LOAD_CLASS, render
from cargoscan.synth.manifest import plan_scans
from cargoscan.synth.realism import TEXTURE_KEYS as STATS
from cargoscan.synth.realism import load_targets, texture_stats, within


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--payload-rate", type=float, default=LoadParams().payload_rate)
    ap.add_argument("--labels-free", action="store_true")
    args = ap.parse_args()
    p = SynthParams(n=args.n, seed=args.seed, load=LoadParams(wagon_types={"flat": 1.0}, empty_rate=0.0,
                                                              partial_rate=0.0, payload_rate=args.payload_rate),
                    threats=ThreatParams(wagon_rate=0.0))
    t0 = time.perf_counter()
    images, masks = [], []
    for plan in plan_scans(p):
        image, scene, _ = render(plan, p.geometry)
        images.append(image)
        masks.append(scene.mask == class_id(LOAD_CLASS))
    seconds = (time.perf_counter() - t0) / args.n
    stats = texture_stats(images, None if args.labels_free else masks)
    target = load_targets()["texture"]
    tol = target["tolerance"]
    print(f"{args.n} wagons (seed {args.seed}, payload rate {args.payload_rate}), {stats['n_patches']} patches, "
          f"{seconds:.2f} s/wagon to render; real / synthetic, * = outside the tolerance")
    print("band      n    " + "  ".join(f"{k:>18s}" for k in STATS))
    for band, real in target["bands"].items():
        mine = stats["bands"].get(band, {})
        cells = []
        for k in STATS:
            v = mine.get(k, float("nan"))
            mark = " " if within(k, real[k], v, tol) else "*"
            cells.append(f"{real[k]:7.3g} / {v:7.3g}{mark}")
        print(f"{band:8s} {mine.get('n', 0):5d}  " + "  ".join(f"{c:>18s}" for c in cells))
    load, real_load = stats["load"], target["load"]
    print("load A quantiles 10/50/90: real %s, synthetic %s" % (real_load["A_quantiles_10_50_90"],
                                                                [round(q, 2) for q in load["A_quantiles_10_50_90"]]))
    print(f"share above A = 6: real {real_load['share_A_gt_6']}, synthetic {load['share_A_gt_6']:.3f} "
          f"(gate {tol['share_A_gt_6']})")
    print(f"fully blocked share: real {real_load['blocked_share']}, synthetic {load['blocked_share']:.3f} "
          f"(gate ≤ {tol['blocked_share_max']})")


if __name__ == "__main__":
    main()
