"""Render planned scans in parallel and write the archive through ``cargoscan.archive``.

Determinism: the plan is drawn in order from the seed; each scan's pixels come from its own seed; workers write
only their own files; the tables are written once, by the main process, in plan order. Same seed and params →
byte-identical files, whatever ``--workers`` is.
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cargoscan.archive import ArchivePaths, write_json, write_labels, write_scan, write_table
from cargoscan.archive.classes import class_id
from cargoscan.archive.format import DECLARATIONS_TABLE, RFID_TABLE, SCANS_TABLE, TRUTH_TABLE
from cargoscan.archive.validate import check
from cargoscan.synth.cargo import load_unit, merge
from cargoscan.synth.concealment import conceal
from cargoscan.synth.config import GeometryParams, SynthParams, validate
from cargoscan.synth.manifest import ScanPlan, UnitPlan, consignment_rows, plan_scans, rfid_rows, scans_table
from cargoscan.synth.realism import REALISM_FILE, ScanTexture, aggregate_texture, scan_texture, texture_gates
from cargoscan.synth.scene import Scene
from cargoscan.synth.wagons import create_wagon, wagon_length

log = logging.getLogger(__name__)

GENERATOR_NAME = "cargoscan.synth"
GENERATOR_VERSION = "1.5.0"   # 1.2.0: weapons weigh their catalogue mass; 1.3.0: goods drawn as items (contents),
                              # carton board at its real weight, package rows offset, payload-packed loads; 1.4.0:
                              # drugs hidden inside the load's objects (tyres, coils, reels, drums: Load.hollows);
                              # 1.5.0: softer edges along the train (blur_col), heavy goods mostly in 20 ft
                              # containers (load.size_bias); texture measured inside the load
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


#: The targets' patches lie "inside the load": in a synthetic scan, inside this label (its wagon's underframe,
#: deck and container floor, dense edge-on structures below the load, are not the load). A real archive has no
#: labels and is measured by the targets' A rule alone (reports.dataset).
LOAD_CLASS = "cargo"


def like_targets(plan: ScanPlan) -> bool:
    """Whether a scan is of the kind the texture targets were measured on: loaded containers on a flat wagon."""
    return plan.wagon_type == "flat" and all(u.category for u in plan.units)


def write_one(args: tuple[ScanPlan, GeometryParams, str]) -> tuple[str, list[dict[str, Any]], ScanTexture | None]:
    """Render one scan and write its TIFF, sidecar and labels (run in a worker process); returns the scan ID,
    the per-unit results and, for a scan :func:`like_targets`, its texture inside the load (:data:`LOAD_CLASS`)."""
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
    texture = scan_texture(image, s.mask == class_id(LOAD_CLASS)) if like_targets(plan) else None
    return plan.scan_id, results, texture


def write_realism(out: Path, parts: list[ScanTexture | None]) -> list[dict[str, Any]]:
    """Measure the archive against the real scanner's texture targets: ``<out>/realism.json`` and the log.

    ``parts`` holds one entry per scan, None for a scan unlike the targets' (they are measured on loaded
    containers: a covered wagon's or a tank's texture is no evidence either way).

    The gates are reported, not enforced: the stage writes the archive whatever they say, and the dataset
    report shows them beside crops of the load (issue #17 lists what still falls outside).
    """
    measured = [part for part in parts if part is not None]
    stats = aggregate_texture(measured)
    gates = texture_gates(stats)
    failed = [g["gate"] for g in gates if not g["passed"]]
    write_json(out / REALISM_FILE, {"generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION},
                                    "measured_on": "flat wagons with every container loaded",
                                    "patches": f"inside the {LOAD_CLASS} label, >= 95 % of pixels with A_high > 0.3",
                                    "n_scans": len(parts), "n_measured": len(measured), "texture": stats,
                                    "gates": gates, "passed": len(gates) - len(failed), "n_gates": len(gates)})
    log.info("texture gates against the real scanner: %d of %d within, on %d of %d scans (%s)",
             len(gates) - len(failed), len(gates), len(measured), len(parts), REALISM_FILE)
    if failed:
        log.warning("outside the real scanner's texture: %s", ", ".join(failed))
    return gates


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
        textures = []
        with ProcessPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as ex:
            for scan_id, res, texture in (ex.map(write_one, jobs, chunksize=1) if ex else map(write_one, jobs)):
                results[scan_id] = {"units": res}
                textures.append(texture)
                bar.advance(task)
    decl, truth = consignment_rows(plans, results)
    write_table(out / SCANS_TABLE, scans_table(plans))
    write_table(out / DECLARATIONS_TABLE, decl)
    write_table(out / RFID_TABLE, rfid_rows(plans, p))
    write_table(out / TRUTH_TABLE, truth)
    write_realism(out, textures)
    write_json(out / "synth_params.json", {"generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION},
                                           "params": asdict(p)})
    if p.previews:
        from cargoscan.synth.preview import write_preview
        (out / "previews").mkdir(exist_ok=True)
        for sp in plans[:p.previews]:
            write_preview(out, sp.scan_id, out / "previews" / f"{sp.scan_id}.png")
    log.info("wrote %d scans, %d consignments, %d RFID reads", len(plans), len(truth), len(rfid_rows(plans, p)))
    return plans


__all__ = ["GENERATOR_NAME", "GENERATOR_VERSION", "REALISM_FILE", "UnitPlan", "build_scene", "generate", "render",
           "sidecar", "write_realism"]
