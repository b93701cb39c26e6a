"""Wagons per second of ``cargoscan synth`` at full resolution (~720 rows × 2,500-4,000 columns).

Run: ``python benchmarks/bench_synth.py [--n 12] [--workers 2]``. Prints the machine's load average, then per
stage the wall-clock rate in one process and its CPU seconds per wagon (scene rasterisation, physics, writing
the TIFF/sidecar/labels), the end-to-end rate of ``generate`` with ``--workers`` processes (files written,
start-up included), and the rate the CPU time implies on that many *free* cores. On a shared machine the
wall-clock figures measure the neighbours as much as the code; the CPU-time projection does not.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

from cargoscan.archive import ArchivePaths
from cargoscan.synth.config import SynthParams
from cargoscan.synth.generator import build_scene, generate, render, write_one
from cargoscan.synth.manifest import plan_scans


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    p = dataclasses.replace(SynthParams(), n=args.n, seed=1, previews=0)
    plans = plan_scans(p)
    print("load average (1, 5, 15 min): %.2f %.2f %.2f on %d cores" % (*os.getloadavg(), os.cpu_count()))
    for dev in {sp.device_id: sp for sp in plans}.values():
        render(dev, p.geometry)                    # warm the physics tables of every device
    n = len(plans)
    scenes, scene_s, scene_cpu = _timed(lambda: [build_scene(sp, p.geometry)[0] for sp in plans])
    _, render_s, render_cpu = _timed(lambda: [render(sp, p.geometry) for sp in plans])
    with tempfile.TemporaryDirectory() as d:
        paths = ArchivePaths(Path(d))
        paths.scans.mkdir(parents=True)
        paths.labels.mkdir(parents=True)
        _, write_s, write_cpu = _timed(lambda: [write_one((sp, p.geometry, d)) for sp in plans])
    with tempfile.TemporaryDirectory() as d:
        _, gen_s, _ = _timed(lambda: generate(p, d + "/raw", workers=args.workers, show_progress=False))
    cols = sum(s.cols for s in scenes) / n
    print(f"image: {scenes[0].rows} rows x {cols:.0f} columns (mean), {n} wagons")
    print(f"scene rasterisation, 1 process:       {n / scene_s:5.2f} wagons/s   {scene_cpu / n:.3f} CPU s/wagon")
    print(f"scene + physics, 1 process:           {n / render_s:5.2f} wagons/s   {render_cpu / n:.3f} CPU s/wagon")
    print(f"render + write files, 1 process:      {n / write_s:5.2f} wagons/s   {write_cpu / n:.3f} CPU s/wagon")
    print(f"synth end-to-end, {args.workers} workers (incl. start-up): {n / gen_s:5.2f} wagons/s")
    print(f"implied by CPU time on {args.workers} free cores:  {args.workers * n / write_cpu:5.2f} wagons/s")
    print("load average after (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
