"""Render planned scans in parallel and write the archive through ``cargoscan.archive``.

Determinism: the plan is drawn in order from the seed; each scan's pixels come from its own seed; workers write
only their own files; the tables are written once, by the main process, in plan order. Same seed and params →
byte-identical files, whatever ``--workers`` is.
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cargoscan.archive import ArchivePaths, write_json, write_labels, write_scan, write_table
from cargoscan.archive.format import DECLARATIONS_TABLE, RFID_TABLE, SCANS_TABLE, TRUTH_TABLE
from cargoscan.archive.validate import check
from cargoscan.synth.cargo import load_unit, merge
from cargoscan.synth.concealment import conceal
from cargoscan.synth.config import GeometryParams, SynthParams, validate
from cargoscan.synth.manifest import ScanPlan, UnitPlan, consignment_rows, plan_scans, rfid_rows, scans_table
from cargoscan.synth.scene import Scene
from cargoscan.synth.wagons import create_wagon, wagon_length

log = logging.getLogger(__name__)

GENERATOR_NAME = "cargoscan.synth"
GENERATOR_VERSION = "1.3.0"   # 1.2.0: weapons weigh their catalogue mass; 1.3.0: goods drawn as items (contents),
                              # carton board at its real weight, package rows offset, payload-packed loads
ENERGIES_MEV = [6.0, 4.0]


@lru_cache(maxsize=8)
def _scanner(items: tuple[tuple[str, float], ...]):
    from cargoscan.physics.scanner import Scanner, ScannerParams
    return Scanner(ScannerParams(**dict(items)))


def scanner_for(plan: ScanPlan):
    """The (cached) physics scanner of a plan's device."""
    return _scanner(tuple(sorted(plan.scanner.items())))


def build_scene(plan: ScanPlan, geom: GeometryParams) -> tuple[Scene, list[dict[str, Any]]]:
    """Draw a planned wagon, its cargo and its concealments; returns the scene and per-unit results."""
    rng = np.random.default_rng(plan.seed)
    col_pitch = plan.speed_kmh / 3.6 / geom.pulse_rate_hz / geom.column_scale
    gap0, gap1 = rng.uniform(*geom.end_gap_m, size=2)
    total = gap0 + 0.35 + wagon_length(plan.wagon_type) + 0.35 + gap1
    rows = geom.rows
    s = Scene(rows, int(round(total / col_pitch)), plan.row_pitch_mm / 1000.0, col_pitch, geom.z_bottom_m)
    ident: list[str] | str = plan.container_numbers if plan.wagon_type == "flat" else plan.wagon_number
    units = create_wagon(plan.wagon_type, s, gap0 + 0.35, ident, rng)
    loads = [load_unit(s, u, up.category, up.fill, rng, up.dense) for u, up in zip(units, plan.units)]
    threats: list[list[str]] = [[] for _ in units]
    for spec in plan.threats:
        k = spec["unit"] % len(units)
        threats[k] += conceal(s, loads[k], spec, rng)
    results = []
    for u, up, ld, th in zip(units, plan.units, loads, threats):
        net = ld.goods_mass()
        pack = sum(ld.packing.mass_kg(m) for m in ld.packing.paths)
        merge(s, ld)
        c0, c1 = int(s.col_of(u.x0)), int(np.ceil(s.col_of(u.x1)))
        s.units.append({"kind": u.kind, "number": u.number, "x0": max(c0, 0), "x1": min(c1, s.cols),
                        "cargo_category": up.category, "net_mass_kg": round(net, 1)})
        results.append({"kind": u.kind, "net_mass_kg": round(net, 1), "packages": ld.packages if up.category else 0,
                        "gross_extra_kg": round(pack, 1), "threats": th})
    return s, results


def render(plan: ScanPlan, geom: GeometryParams) -> tuple[np.ndarray, Scene, list[dict[str, Any]]]:
    """A planned scan's (2, H, W) uint16 image, its scene and per-unit results."""
    s, results = build_scene(plan, geom)
    rng = np.random.default_rng(np.random.SeedSequence([plan.seed, 99]))
    image = scanner_for(plan).acquire(s.paths, rng)
    return image, s, results


def sidecar(plan: ScanPlan, s: Scene) -> dict[str, Any]:
    """The scan's sidecar (sidecar schema), with the generator and scanner recorded."""
    return {"schema_version": "1.0", "scan_id": plan.scan_id, "post_code": plan.post_code,
            "device_id": plan.device_id, "scanned_at": plan.scanned_at, "energies_mev": ENERGIES_MEV,
            "pixel_pitch_mm": {"row": round(s.row_pitch_m * 1000, 4), "column": round(s.col_pitch_m * 1000, 4)},
            "train_number": plan.train_number, "wagon_number": plan.wagon_number,
            "container_numbers": plan.container_numbers, "direction": plan.direction, "speed_kmh": plan.speed_kmh,
            "wagon_type": plan.wagon_type, "source": {"kind": "synthetic"},
            "generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION, "seed": plan.seed,
                          "scanner": {k: round(v, 6) for k, v in plan.scanner.items()}}}


def write_one(args: tuple[ScanPlan, GeometryParams, str]) -> tuple[str, list[dict[str, Any]]]:
    """Render one scan and write its TIFF, sidecar and labels (run in a worker process)."""
    plan, geom, out = args
    image, s, results = render(plan, geom)
    paths = ArchivePaths(Path(out))
    doc = sidecar(plan, s)
    check("sidecar", doc, paths.sidecar(plan.scan_id))
    category = next((u.category for u in plan.units if u.category), None)
    labels = s.label_doc(plan.scan_id, plan.wagon_type, category)
    check("labels", labels, paths.label_json(plan.scan_id))
    write_scan(paths.scan_tiff(plan.scan_id), image)
    write_json(paths.sidecar(plan.scan_id), doc)
    write_labels(out, plan.scan_id, s.mask, labels)
    return plan.scan_id, results


def _prepare_out(out: Path, force: bool) -> None:
    paths = ArchivePaths(out)
    if paths.scan_ids() and not force:
        raise FileExistsError(f"{out}: already holds an archive; pass --force to replace it")
    for sub in (paths.scans, paths.labels, out / "previews"):
        if sub.exists():
            shutil.rmtree(sub)
    paths.scans.mkdir(parents=True, exist_ok=True)
    paths.labels.mkdir(parents=True, exist_ok=True)


def generate(p: SynthParams, out: str | Path, workers: int | None = None, force: bool = False,
             show_progress: bool = True, plans: list[ScanPlan] | None = None) -> list[ScanPlan]:
    """Validate ``p``, render ``p.n`` scans across processes and write the archive at ``out``.

    ``plans`` renders a plan the caller drew with :func:`plan_scans` from the same ``p`` and then edited (the
    benchmark stratifies which wagons keep their concealments, :mod:`cargoscan.bench.archive`); by default the
    plan is ``plan_scans(p)``.

    Raises:
        ConfigError: for invalid parameters, before anything is written.
        FileExistsError: when ``out`` holds an archive and ``force`` is not set.
    """
    from cargoscan.logs import progress

    validate(p)
    out = Path(out)
    plans = plan_scans(p) if plans is None else plans   # drawn and checked before touching the disk
    _prepare_out(out, force)
    workers = workers or p.workers
    log.info("synthesising %d scans into %s with %d worker(s), seed %d", len(plans), out, workers, p.seed)
    results: dict[str, dict[str, Any]] = {}
    jobs = [(sp, p.geometry, str(out)) for sp in plans]
    with progress() as bar:
        task = bar.add_task("synth", total=len(jobs), visible=show_progress)
        if workers == 1:
            it = map(write_one, jobs)
            for scan_id, res in it:
                results[scan_id] = {"units": res}
                bar.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=workers) as ex:
                for scan_id, res in ex.map(write_one, jobs, chunksize=1):
                    results[scan_id] = {"units": res}
                    bar.advance(task)
    decl, truth = consignment_rows(plans, results)
    write_table(out / SCANS_TABLE, scans_table(plans))
    write_table(out / DECLARATIONS_TABLE, decl)
    write_table(out / RFID_TABLE, rfid_rows(plans, p))
    write_table(out / TRUTH_TABLE, truth)
    write_json(out / "synth_params.json", {"generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION},
                                           "params": asdict(p)})
    if p.previews:
        from cargoscan.synth.preview import write_preview
        (out / "previews").mkdir(exist_ok=True)
        for sp in plans[:p.previews]:
            write_preview(out, sp.scan_id, out / "previews" / f"{sp.scan_id}.png")
    log.info("wrote %d scans, %d consignments, %d RFID reads", len(plans), len(truth), len(rfid_rows(plans, p)))
    return plans


__all__ = ["GENERATOR_NAME", "GENERATOR_VERSION", "UnitPlan", "build_scene", "generate", "render", "sidecar"]
