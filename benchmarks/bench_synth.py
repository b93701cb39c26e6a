"""Wagons per second of ``cargoscan synth`` at full resolution (~720 rows × 2,500-3,200 columns).

Run: ``python benchmarks/bench_synth.py [--n 12] [--workers 2]``. Prints the scene-only rate (one process),
the full render (scene + physics) rate, and the end-to-end rate of ``generate`` with files written.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

from cargoscan.synth.config import SynthParams
from cargoscan.synth.generator import build_scene, generate, render
from cargoscan.synth.manifest import plan_scans


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    p = dataclasses.replace(SynthParams(), n=args.n, seed=1, previews=0)
    plans = plan_scans(p)
    render(plans[0], p.geometry)                   # warm the physics tables
    t = time.perf_counter()
    shapes = [build_scene(sp, p.geometry)[0] for sp in plans]
    scene_s = time.perf_counter() - t
    t = time.perf_counter()
    for sp in plans:
        render(sp, p.geometry)
    render_s = time.perf_counter() - t
    cols = sum(s.cols for s in shapes) / len(shapes)
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        generate(p, d + "/raw", workers=args.workers, show_progress=False)
        gen_s = time.perf_counter() - t
    print(f"image: {shapes[0].rows} rows x {cols:.0f} columns (mean)")
    print(f"scene rasterisation, 1 process: {len(plans) / scene_s:.2f} wagons/s")
    print(f"scene + physics, 1 process:     {len(plans) / render_s:.2f} wagons/s")
    print(f"synth end-to-end, {args.workers} workers (files written, incl. start-up): "
          f"{len(plans) / gen_s:.2f} wagons/s")


if __name__ == "__main__":
    main()
