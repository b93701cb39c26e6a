"""CLI: ``cargoscan bench-synth`` (the benchmark's archives) and ``cargoscan benchmark`` (score them, report).

Heavy imports stay inside the commands so that ``cargoscan --help`` is quick.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Optional

import typer

log = logging.getLogger(__name__)


def _bench_params(params_file: Path, profile: Optional[str], **overrides):
    from cargoscan.bench.config import load_bench_params, validate

    p = load_bench_params(params_file, profile)
    changes = {k: v for k, v in overrides.items() if v is not None}
    if changes:
        p = dataclasses.replace(p, **changes)
        validate(p)
    return p


def bench_synth(
    split: list[str] = typer.Option(["val", "test"], "--split",
                                    help="Archives to synthesise: val, test (stage bench-synth); shift, mismatch "
                                         "(stages bench-shift, bench-mismatch)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Benchmark root (default: bench.out_dir)."),
    n_val: Optional[int] = typer.Option(None, "--n-val", help="Wagons of the validation archive (bench.n_val)."),
    n_test: Optional[int] = typer.Option(None, "--n-test", help="Wagons of the test archive (bench.n_test)."),
    min_clean: Optional[int] = typer.Option(None, "--min-clean", help="Clean test wagons, at least."),
    min_threat: Optional[int] = typer.Option(None, "--min-threat", help="Threat test wagons, at least."),
    min_per_stratum: Optional[int] = typer.Option(None, "--min-per-stratum",
                                                  help="Threat test wagons per site, wagon type and category."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Processes (bench.workers)."),
    force: bool = typer.Option(False, "--force", help="Render again even when an archive is up to date."),
    params_file: Path = typer.Option(Path("params.yaml"), "--params", help="Parameter file."),
    profile: Optional[str] = typer.Option(None, "--profile", help="Profile overlay (default: the file's)."),
) -> None:
    """Synthesise the benchmark's archives (own seeds): val/test (stratified, honest declarations, manifest.json),
    shift (clean wagons, another scanner) and mismatch (no threats, lying declarations at known rates)."""
    from cargoscan.bench.archive import synthesise
    from cargoscan.bench.config import SPLITS
    from cargoscan.bench.extra import EXTRA, synthesise_extra
    from cargoscan.synth.config import load_synth_params

    bad = sorted(set(split) - set(SPLITS) - set(EXTRA))
    if bad:
        raise typer.BadParameter(f"unknown split {bad}; known: {list(SPLITS + EXTRA)}", param_hint="--split")
    p = _bench_params(params_file, profile, out_dir=str(out) if out else None, n_val=n_val, n_test=n_test,
                      min_clean_test=min_clean, min_threat_test=min_threat, min_per_stratum=min_per_stratum,
                      workers=workers)
    synth = load_synth_params(params_file, profile)
    main = tuple(s for s in SPLITS if s in split)
    if main:
        manifest = synthesise(synth, p, main, force)
        for name, entry in manifest["splits"].items():
            typer.echo(f"{name}: {entry['n']} wagons ({entry['n_clean']} clean, {entry['n_threat']} with a threat), "
                       f"seed {entry['seed']} → {entry['path']}")
    for name in (s for s in EXTRA if s in split):
        entry = synthesise_extra(synth, p, name, force)
        typer.echo(f"{name}: {entry['n']} wagons ({entry['truth']['honest_wagons']} with honest declarations), "
                   f"seed {entry['seed']} → {entry['path']}")


def benchmark(
    archive: Optional[Path] = typer.Option(None, "--archive", help="Archive scored (default: <bench.out_dir>/test)."),
    artifact: Optional[Path] = typer.Option(None, "--artifact", help="Exported model (bench.artifact)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Metrics JSON (bench.report)."),
    scores: Optional[Path] = typer.Option(None, "--scores", help="Per-wagon CSV (default: <report>_scores.csv)."),
    inspections: Optional[Path] = typer.Option(None, "--inspections",
                                               help="Kept inspections (default: <bench.out_dir>/inspections/test)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Processes, one engine thread each."),
    limit: int = typer.Option(0, "--limit", help="Only the first N scans (0 = all)."),
    params_file: Path = typer.Option(Path("params.yaml"), "--params", help="Parameter file."),
    profile: Optional[str] = typer.Option(None, "--profile", help="Profile overlay (default: the file's)."),
) -> None:
    """Score the benchmark archive through the inspection engine → reports/benchmark.json and its scores CSV."""
    import time

    from cargoscan.archive import ArchiveError, ArchivePaths
    from cargoscan.bench.report import artifact_config, build_report, write_report
    from cargoscan.bench.score import BenchError, score_archive
    from cargoscan.inspect.config import load_inspect_params
    from cargoscan.inspect.engine import Inspector

    p = _bench_params(params_file, profile, workers=workers, artifact=str(artifact) if artifact else None,
                      report=str(report) if report else None)
    root = archive or p.archive("test")
    if not ArchivePaths(root).scans.is_dir():
        raise ArchiveError(root, "not a scan archive (no scans/ folder); run `cargoscan bench-synth` first")
    inspect_params = load_inspect_params(str(params_file), profile)
    probe = Inspector.load(p.artifact, inspect_params)    # the engine would fail every wagon closed: refuse now
    if probe.backend is None:
        raise BenchError(f"model not loaded, nothing to benchmark: {probe.load_error} ({p.artifact})")
    del probe
    t0 = time.perf_counter()
    table = score_archive(p.artifact, root, inspect_params, p.workers, inspections or p.inspections("test"), limit)
    wall = time.perf_counter() - t0
    doc = build_report(table, artifact_config(p.artifact), p.target_far, p.cnr_visible, p.n_boot,
                       p.calibration_bins, p.seed, wall, p.workers)
    doc["archive"] = str(root)
    extra = score_extra(p, root, table, inspect_params, inspections or p.inspections("test"), limit, doc)
    json_path, csv_path = write_report(doc, table, p.report, scores or p.scores_csv)
    decl_csv = Path(json_path).with_name(f"{Path(json_path).stem}_declarations.csv")
    extra.to_csv(decl_csv, index=False, float_format="%.6g")
    det, op = doc["detection"], doc["detection"]["operating_point"]
    auc = det["auroc"]["value"]
    typer.echo(f"{doc['n_wagons']} wagons ({doc['n_clean']} clean, {doc['n_threat']} threat): AUROC "
               f"{'—' if auc is None else f'{auc:.3f}'}, detection {op['detection_rate']['k']}/"
               f"{op['detection_rate']['n']}, false alarms {op['false_alarm_rate']['k']}/{op['false_alarm_rate']['n']}"
               f", {doc['seconds_per_wagon'] or float('nan'):.2f} s/wagon → {json_path}, {csv_path}")


def score_extra(p, test_root: Path, test_table, inspect_params, test_inspections: Path, limit: int,
                doc: dict):
    """Issue 15's keys and the scanner shift: the test archive's declaration table from its inspections, the shift
    and mismatch archives scored through the same engine (when rendered; said in the log when not), added to
    ``doc`` by :func:`cargoscan.bench.report.extend_report`. Returns the declaration table of every archive."""
    import json
    import time

    import pandas as pd

    from cargoscan.archive import ArchivePaths
    from cargoscan.bench.checks import declaration_table
    from cargoscan.bench.extra import MANIFEST, archive_path
    from cargoscan.bench.report import extend_report
    from cargoscan.bench.score import score_archive

    decl = {"test": declaration_table(test_root, test_inspections, "test", list(test_table["scan_id"]))}
    scored = {}
    doc.setdefault("archives", {})["test"] = {"path": str(test_root), "n": int(len(test_table))}
    for name in ("shift", "mismatch"):
        root = archive_path(p, name)
        if not ArchivePaths(root).scans.is_dir():
            log.warning("%s: no archive; run `cargoscan bench-synth --split %s` (its keys are left out)", root, name)
            continue
        # beside the test archive's inspections: another model's run (--inspections elsewhere) keeps its own
        out = test_inspections.parent / name if test_inspections.name == "test" else p.inspections(name)
        t0 = time.perf_counter()
        scored[name] = score_archive(p.artifact, root, inspect_params, p.workers, out, limit)
        wall = time.perf_counter() - t0
        decl[name] = declaration_table(root, out, name, list(scored[name]["scan_id"]))
        manifest = root / MANIFEST
        doc["archives"][name] = {"path": str(root), "n": int(len(scored[name])), "wall_s": round(wall, 1),
                                 "seed": (json.loads(manifest.read_text(encoding="utf-8")).get("seed")
                                          if manifest.exists() else None)}
    scanner = None
    if "shift" in scored and (archive_path(p, "shift") / MANIFEST).exists():
        scanner = json.loads((archive_path(p, "shift") / MANIFEST).read_text(encoding="utf-8")).get("scanner")
    extend_report(doc, decl["test"], decl.get("mismatch"), scored.get("shift"),
                  test_table if "shift" in scored else None, scanner, p.mismatch.understated_min, p.n_boot, p.seed)
    return pd.concat(list(decl.values()), ignore_index=True)


def register(app: typer.Typer) -> None:
    """Add ``bench-synth`` and ``benchmark`` to the CLI."""
    app.command("bench-synth")(bench_synth)
    app.command("benchmark")(benchmark)
