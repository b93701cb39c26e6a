"""Threat image projection: insertions per second on 2 cores, and how wrong log-additive insertion would be.

Usage: ``PYTHONPATH=src python benchmarks/bench_tip.py [--n 40]``

Prints
* TIP throughput on a full-resolution scan (720 × 3000 px): placement + projection + re-noise per threat;
* the log-additive error: A_background + A_threat(in air) against the polyenergetic A of both together,
  per background and threat, in per cent (the reason TIP goes through the scanner model);
* the TIP error: A of the projected threat against the same threat synthesised directly into the scan.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # before numpy: the budget is 2 cores

import argparse  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from cargoscan.physics.scanner import Scanner, ScannerParams  # noqa: E402
from cargoscan.tip.config import TipParams  # noqa: E402
from cargoscan.tip.library import PatchInstance, ThreatPatch, create_threat, list_threats  # noqa: E402
from cargoscan.tip.placement import PlacementError, find_envelope, place  # noqa: E402
from cargoscan.tip.project import Projector  # noqa: E402


def wagon(h: int, w: int, cargo_steel_cm: float = 0.0, wood_cm: float = 0.0) -> dict[str, np.ndarray]:
    """Walls, a load block, floor, bogies with starved axles (cm of material along the beam)."""
    p = {"steel": np.zeros((h, w), np.float32), "wood": np.zeros((h, w), np.float32)}
    top, floor, bottom = int(0.12 * h), int(0.78 * h), int(0.96 * h)
    p["steel"][top:floor, 20 : w - 20] = 0.5
    p["steel"][top + 30 : floor - 10, 60 : w - 60] += cargo_steel_cm
    p["wood"][top + 30 : floor - 10, 60 : w - 60] += wood_cm
    p["steel"][floor : floor + 20, 20 : w - 20] = 30.0
    for cx in (int(0.15 * w), int(0.85 * w)):
        p["steel"][floor + 20 : bottom, cx - 120 : cx + 120] = 25.0
        p["steel"][floor + 40 : floor + 70, cx - 30 : cx + 30] = 250.0
    return p


def throughput(scanner: Scanner, projector: Projector, n: int) -> float:
    rng = np.random.default_rng(0)
    image = scanner.acquire(wagon(720, 3000, 2.0, 40.0), rng)
    env = find_envelope(image)
    names = list_threats()
    done, t0 = 0, time.perf_counter()
    for i in range(n):
        patch = create_threat(names[i % len(names)], rng, (4.6, 5.0))
        try:
            y, x = place(image, patch.footprint, patch.site, rng, envelope=env)
        except PlacementError:
            continue
        projector.project(image, patch, y, x, rng)
        done += 1
    return done / (time.perf_counter() - t0)


def errors(scanner: Scanner, projector: Projector) -> None:
    h, w, y, x, ph, pw = 200, 360, 60, 150, 30, 50
    inner = (slice(y + 3, y + ph - 3), slice(x + 3, x + pw - 3))
    print(f"{'background':>22} {'threat':>16} | log-additive error H / L (%) | TIP − direct H / L (%)")
    for bg_name, bg in (
        ("empty wagon", wagon(h, w)),
        ("wood 40 cm", wagon(h, w, 0.0, 40.0)),
        ("steel 5 cm + wood 40", wagon(h, w, 5.0, 40.0)),
        ("steel 12 cm", wagon(h, w, 12.0)),
    ):
        for material, length in (("cocaine", 40.0), ("tobacco", 80.0), ("steel", 5.0)):
            patch = ThreatPatch(
                "block",
                "in_cargo",
                {material: np.full((ph, pw), length, np.float32)},
                [PatchInstance("drugs", np.ones((ph, pw), bool), material, 0.0)],
            )
            alone = {material: np.zeros((h, w), np.float32)}
            alone[material][y : y + ph, x : x + pw] = length
            both = {k: v.copy() for k, v in bg.items()}
            both[material] = both.get(material, np.zeros((h, w), np.float32)) + alone[material]
            a_both = -np.log(scanner.transmission(both))
            a_add = -np.log(scanner.transmission(bg)) - np.log(scanner.transmission(alone))
            e_add = [100 * (a_add[c][inner].mean() / a_both[c][inner].mean() - 1) for c in range(2)]
            direct = scanner.acquire(both, np.random.default_rng(1))
            tip = projector.project(
                scanner.acquire(bg, np.random.default_rng(2)), patch, y, x, np.random.default_rng(3)
            )
            a = [-np.log(np.clip(s.astype(float) / 65535, 0.5 / 65535, 1)) for s in (direct, tip)]
            e_tip = [100 * (a[1][c][inner].mean() / a[0][c][inner].mean() - 1) for c in range(2)]
            print(
                f"{bg_name:>22} {material + f' {length:g} cm':>16} | {e_add[0]:+6.2f} / {e_add[1]:+6.2f}"
                f"                  | {e_tip[0]:+6.2f} / {e_tip[1]:+6.2f}"
            )


#: Scanner overrides for the false-rejection measurement: low and high dose, blur at the ends of the ranges of
#: ``cargoscan.physics.scanner.DEFAULT_RANGES`` (photons a third beyond them: another scanner, another dose).
SCANNER_VARIANTS = {
    "low_dose_soft": {"photons_high": [6000.0, 9000.0], "photons_low": [2800.0, 4100.0], "blur_row": [1.2, 1.3],
                      "blur_col": [1.1, 1.2], "electronic_noise": [5e-5, 6e-5]},
    "high_dose_sharp": {"photons_high": [13000.0, 18000.0], "photons_low": [6200.0, 8500.0],
                        "blur_row": [0.8, 0.85], "blur_col": [0.7, 0.75], "electronic_noise": [2e-5, 3e-5]},
}


def rate(k: int, n: int) -> dict:
    from cargoscan.scoring import wilson

    lo, hi = wilson(k, n)
    return {"n": n, "rejected": k, "rate": round(k / n, 4) if n else None, "ci95": [round(lo, 4), round(hi, 4)]}


def import_rejections(archive, n: int, work) -> dict:
    """Round-trip ``n`` valid scans through the importer as a vendor export (.npy H×W×2, low energy first, rail at
    the top, air at 60000 counts: ``--high-channel 1 --air-value 60000 --rail-at-top``), then the engine's
    validity gate on the imported archive. Both false-rejection counts, with Wilson 95 % intervals."""
    from datetime import datetime, timedelta, timezone

    from cargoscan.archive import ArchivePaths, read_scan, read_sidecar
    from cargoscan.archive.validity import scan_problems
    from cargoscan.tip.importer import ImportOptions, ImportRefused, ScanMeta, import_scan

    paths = ArchivePaths(archive)
    ids = paths.scan_ids()[:n]
    refused, gate, reasons = 0, 0, {}
    t0 = datetime(2025, 3, 1, 8, 0, 0, tzinfo=timezone(timedelta(hours=5)))
    for i, sid in enumerate(ids):
        im, meta = read_scan(paths.scan_tiff(sid)), read_sidecar(paths.sidecar(sid))
        raw = np.round(im.astype(np.float64) / 65535 * 60000).astype(np.uint16)[::-1][:, ::-1, :]
        src = work / f"{sid}.npy"
        np.save(src, np.moveaxis(raw, 0, -1))
        pitch = (meta["pixel_pitch_mm"]["row"], meta["pixel_pitch_mm"]["column"])
        opts = ImportOptions(high_channel=1, air_value=60000.0, rail_at_bottom=False, pitch_mm=pitch)
        smeta = ScanMeta(post_code="32701", device_id="RF06", scanned_at=t0 + timedelta(minutes=i),
                         train_number="2001", direction="import", speed_kmh=5.0, energies_mev=(6.0, 4.0))
        try:
            tiff = import_scan([src], opts, smeta, work / "imported")
        except ImportRefused as exc:
            refused += 1
            reasons[str(exc)[:120]] = reasons.get(str(exc)[:120], 0) + 1
            continue
        finally:
            src.unlink()
        if scan_problems(read_scan(tiff), pitch):
            gate += 1
    return {"import": rate(refused, len(ids)), "gate_on_imported": rate(gate, len(ids) - refused),
            "reasons": reasons}


def scanner_rejections(n: int, work, seed: int = 4242) -> dict:
    """``n`` scans synthesised per scanner variant (``synth.scanner`` overrides in a temporary parameter file)
    and the validity gate's false rejections on them."""
    import subprocess
    import sys

    import yaml

    from cargoscan.archive import ArchivePaths, read_scan, read_sidecar
    from cargoscan.archive.validity import scan_problems

    out = {}
    for name, ranges in SCANNER_VARIANTS.items():
        doc = yaml.safe_load(open("params.yaml", encoding="utf-8"))
        doc["synth"]["scanner"] = ranges
        params = work / f"params-{name}.yaml"
        params.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        root = work / name
        subprocess.run([sys.executable, "-m", "cargoscan", "synth", "--n", str(n), "--seed", str(seed), "--out",
                        str(root), "--params", str(params), "--workers", "2"], check=True, capture_output=True)
        paths = ArchivePaths(root)
        bad, reasons = 0, {}
        for sid in paths.scan_ids():
            m = read_sidecar(paths.sidecar(sid))
            probs = scan_problems(read_scan(paths.scan_tiff(sid)),
                                  (m["pixel_pitch_mm"]["row"], m["pixel_pitch_mm"]["column"]))
            if probs:
                bad += 1
                reasons[probs[0].name] = reasons.get(probs[0].name, 0) + 1
        out[name] = {**rate(bad, len(paths.scan_ids())), "ranges": ranges, "reasons": reasons}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40, help="insertions to time")
    ap.add_argument("--rejections", type=int, default=0, metavar="N",
                    help="instead: false rejections of the validity gate on N scans imported from --archive and on "
                         "N synthesised per scanner variant")
    ap.add_argument("--archive", default="data/raw")
    args = ap.parse_args()
    cv2.setNumThreads(2)
    if args.rejections:
        import json
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory(prefix="bench-tip-") as work:
            work = Path(work)
            report = {"imported": import_rejections(Path(args.archive), args.rejections, work),
                      "scanners": scanner_rejections(args.rejections, work)}
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    t0 = time.perf_counter()
    scanner = Scanner(ScannerParams())
    projector = Projector(scanner, TipParams())
    print(f"scanner + projector set-up: {time.perf_counter() - t0:.2f} s (once per scanner)")
    print(
        f"TIP throughput, 720x3000 scan, mixed library: "
        f"{throughput(scanner, projector, args.n):.1f} insertions/s"
    )
    errors(scanner, projector)


if __name__ == "__main__":
    main()
