"""Time the synthetic scanner's physics on a full-resolution scan (700 × 3000 px).

Usage: PYTHONPATH=src python benchmarks/bench_physics.py [--repeat 5]
"""

import argparse
import logging
import time

import numpy as np

from cargoscan.physics.scanner import Scanner, sample_scanner

log = logging.getLogger("bench_physics")


def scene(rng, h=700, w=3000):
    """A rough wagon-like set of path maps: walls, floor, cargo blocks, bogies."""
    paths = {m: np.zeros((h, w), np.float32) for m in ("steel", "wood", "food", "polyethylene", "aluminium",
                                                     "water", "glass", "rubber")}
    paths["steel"][100:640] = 0.48  # two corrugated walls
    paths["steel"][600:640] += 40.0  # floor / underframe
    paths["steel"][640:700, 300:700] = 60.0  # bogies
    paths["steel"][640:700, 2300:2700] = 60.0
    for name in ("wood", "food", "polyethylene", "aluminium", "water", "glass", "rubber"):
        x0 = int(rng.integers(0, w - 400))
        paths[name][200:600, x0:x0 + 400] = rng.uniform(10, 150)
    return paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    scanner = Scanner(sample_scanner(rng))
    log.info("scanner tables built in %.2f s (cached per parameter set)", time.perf_counter() - t0)
    paths = scene(rng)
    scanner.acquire(paths, rng)  # warm-up: basis fits
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        scanner.acquire(paths, rng)
        times.append(time.perf_counter() - t)
    log.info("acquire 700x3000, %d materials: median %.0f ms, min %.0f ms", len(paths), 1e3 * np.median(times),
             1e3 * min(times))
    print(f"physics ms per 700x3000 scan: {1e3 * np.median(times):.0f}")


if __name__ == "__main__":
    main()
