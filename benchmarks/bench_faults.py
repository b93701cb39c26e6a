"""Fault injection: ≥ 10,000 wrong inputs of 31 kinds (images, declarations, the model artifact, the reference
library, files) and how many the engine cleared «без подозрения». Target: 0.

Run: ``PYTHONPATH=src python benchmarks/bench_faults.py [--faults 10400] [--subjects 40] [--workers 2]``. Each
subject is a clean wagon of ``--archive`` (no threat in ``truth.csv``), downsampled ``--factor`` times, paired with
a declaration built from the engine's own estimates of it (:mod:`cargoscan.inspect.fault_harness`); each fault
changes one thing. The JSON on standard output gives, per kind, the faults, how many cleared and how many of
them were on subjects that clear unfaulted (where only the fault can make the wagon suspicious), and how many
unfaulted subjects cleared, with Wilson 95 % intervals. It uses the pipeline's export (``--artifact``, with
``config_sha256``) and reference library (``--references``) when both are there in the sealed format, otherwise
the stub model of the tests (``"model": "stub"`` in the JSON). Exit status 1 when any fault cleared.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from cargoscan.archive import ArchivePaths, read_scan, read_sidecar, read_table
from cargoscan.inspect import InspectParams, faults
from cargoscan.inspect import fault_harness as fh
from cargoscan.scoring import wilson

ROOT = Path(__file__).resolve().parents[1]
_STATE: dict = {}


def sealed(artifact: Path, references: Path) -> bool:
    """Both the export and the library in the sealed format (config_sha256; library bound to a model)."""
    try:
        cfg = json.loads((artifact / "config.json").read_text(encoding="utf-8"))
        lib = json.loads((references / "library.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(cfg.get("config_sha256")) and bool(lib.get("library_sha256")) and bool((lib.get("model") or {})
                                                                                        .get("sha256"))


def stub_setup(work: Path, n: int) -> tuple[Path, Path, Path]:
    """The tests' stub artifact, a library and ``n`` stub scans (garments of different loads)."""
    sys.path.insert(0, str(ROOT))
    from tests.inspect import conftest as stub
    from cargoscan.inspect import Inspector
    from cargoscan.inspect.references import build_library

    art = stub.export_artifact(work / "export")
    raw = work / "raw"
    rows = []
    for i in range(n):
        p = stub.make_scan(raw, i, lam=float(40 + 3 * (i % 8)), cargo=(40 + 4 * (i % 10), 20, 360, 90), seed=1000 + i)
        rows.append({"scan_id": p.stem, "pi_number": f"PI-{i}", "wagon_number": "45488855",
                     "container_number": "CSQU3054383", "true_category": "garments", "true_hs_code": "6204",
                     "true_goods_description": "платья", "true_net_weight_kg": "100", "true_packages_count": "1",
                     "mismatch": "none", "has_threat": "0", "threat_classes": ""})
    from cargoscan.archive import write_table

    write_table(raw / "truth.csv", rows)
    inspector = Inspector.load(art, InspectParams(), decomposer_factory=stub.fake_decomposer)
    build_library(raw, inspector).save(work / "references")
    return art, work / "references", raw


def clean_scans(archive: Path, n: int) -> list[Path]:
    """Scans of wagons without a threat (truth.csv), spread over the archive."""
    paths = ArchivePaths(archive)
    truth = {r["scan_id"]: r for r in read_table(archive / "truth.csv")} if (archive / "truth.csv").exists() else {}
    ids = [s for s in paths.scan_ids() if truth.get(s, {}).get("has_threat", "0") in ("0", "")]
    step = max(1, len(ids) // max(n, 1))
    return [paths.scan_tiff(s) for s in ids[::step][:n]]


def _init(artifact: str, params: InspectParams, stub: bool) -> None:
    logging.disable(logging.ERROR)          # fail-closed faults log errors by design: thousands of them
    factory = None
    if stub:
        sys.path.insert(0, str(ROOT))
        from tests.inspect.conftest import fake_decomposer as factory
    _STATE.update(inspector=fh.MemoInspector.load(artifact, params, decomposer_factory=factory), factory=factory,
                  artifact=Path(artifact), params=params)


def _task(args) -> dict:
    """One subject: pair it, run its planned faults (and the controls); artifact faults on the first subjects."""
    scan, factor, jobs, artifact_jobs = args
    insp = _STATE["inspector"]
    image, meta = fh.downsample(read_scan(scan), read_sidecar(Path(scan).with_suffix(".json")), factor)
    s = fh.prepare(insp, image, meta)
    out, skipped = [], 0
    with tempfile.TemporaryDirectory(prefix="fault-file-") as tmp:
        for kind, seed in jobs:
            rng = np.random.default_rng(seed)
            if not fh.eligible(kind, s):
                skipped += 1
                continue
            if kind in faults.DECLARATION_FAULTS:
                out.append(fh.run_declaration_fault(insp, s, kind, rng))
            elif kind in faults.FILE_FAULTS:
                out.append(fh.run_file_fault(insp, s, kind, rng, Path(tmp) / str(seed)))
            else:
                out.append(fh.run_image_fault(insp, s, kind, rng))
    for kind, seed in artifact_jobs:
        out += fh.run_artifact_fault(_STATE["artifact"], Path(insp.params.references_dir), insp.params, [s], kind,
                                     np.random.default_rng(seed), decomposer_factory=_STATE["factory"])
    return {"subject": {"scan_id": s.scan_id, "clear": s.clean_clear, "reasons": s.clean_reasons[:3],
                        "loaded_kg": round(s.loaded_kg), "hs": s.rows[0]["hs_code"]},
            "outcomes": [asdict(o) for o in out], "skipped": skipped}


def run(artifact: Path, references: Path, scans: list[Path], n_faults: int, factor: int, workers: int, seed: int,
        stub: bool, artifact_share: float = 0.04, controls: int = 2) -> dict:
    params = replace(InspectParams(), references_dir=str(references), threads=1)   # one per worker process
    plain = [k for k in faults.kinds() if k not in faults.ARTIFACT_FAULTS]
    n_art = max(len(faults.ARTIFACT_FAULTS), int(n_faults * artifact_share))
    rng = np.random.default_rng(seed)
    jobs: list[list] = [[] for _ in scans]
    art_jobs: list[list] = [[] for _ in scans]
    # One subject's faults are never all of one kind: kind i of fault j goes to subject (j + i) mod S.
    for j in range(n_faults - n_art):
        jobs[(j // len(plain) + j) % len(scans)].append((plain[j % len(plain)], int(rng.integers(2**31))))
    arts = list(faults.ARTIFACT_FAULTS)
    for j in range(n_art):
        art_jobs[j % len(scans)].append((arts[j % len(arts)], int(rng.integers(2**31))))
    for i in range(len(scans)):
        jobs[i] += [(k, int(rng.integers(2**31))) for k in faults.CONTROLS for _ in range(controls)]
    tasks = [(str(p), factor, jobs[i], art_jobs[i]) for i, p in enumerate(scans)]
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(str(artifact), params, stub)) as pool:
        results = list(pool.map(_task, tasks))
    outcomes = [fh.Outcome(**o) for r in results for o in r["outcomes"]]
    fault_out = [o for o in outcomes if o.kind not in faults.CONTROLS]
    subjects = [r["subject"] for r in results]
    n_clear = sum(s["clear"] for s in subjects)
    cleared = sum(o.cleared for o in fault_out)
    on_clear = [o for o in fault_out if o.subject_clear]
    return {
        "faults": len(fault_out), "kinds": len({o.kind for o in fault_out}), "cleared": cleared,
        "skipped_not_a_fault_here": sum(r["skipped"] for r in results),   # 100 kg declared on a light wagon
        "cleared_ci95": [round(x, 5) for x in wilson(cleared, len(fault_out))],
        "faults_on_clear_subjects": len(on_clear), "cleared_on_clear_subjects": sum(o.cleared for o in on_clear),
        "subjects": len(subjects), "subjects_clear_unfaulted": n_clear,
        "subjects_clear_ci95": [round(x, 3) for x in wilson(n_clear, len(subjects))],
        "per_kind": fh.summarise(fault_out), "controls": fh.summarise([o for o in outcomes if o.kind in faults.CONTROLS]),
        "subjects_detail": subjects,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faults", type=int, default=10_400, help="planned; an understated weight is no fault on a "
                    "wagon under 1 t and is skipped there (counted), so ≥ 10,000 run")
    ap.add_argument("--subjects", type=int, default=40)
    ap.add_argument("--factor", type=int, default=2, help="downsampling of the subjects (block means)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--archive", type=Path, default=Path("data/raw"))
    ap.add_argument("--artifact", type=Path, default=Path("data/models/export"))
    ap.add_argument("--references", type=Path, default=Path("data/references"))
    ap.add_argument("--stub", action="store_true", help="use the tests' stub model even if the export is there")
    args = ap.parse_args()
    start = time.perf_counter()
    stub = args.stub or not sealed(args.artifact, args.references)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as work:
        if stub:
            artifact, references, archive = stub_setup(Path(work), args.subjects)
        else:
            artifact, references, archive = args.artifact, args.references, args.archive
        scans = clean_scans(archive, args.subjects)
        if not scans:
            raise SystemExit(f"bench_faults: no clean scans in {archive}")
        report = run(artifact, references, scans, args.faults, 1 if stub else args.factor, args.workers,
                     args.seed, stub)
    report = {"model": "stub" if stub else str(args.artifact), "factor": 1 if stub else args.factor,
              "workers": args.workers, "seconds": round(time.perf_counter() - start, 1), **report}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if report["cleared"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
