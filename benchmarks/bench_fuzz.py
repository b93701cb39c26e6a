"""Loader fuzzing: malformed sidecars, label files, archive tables, TIFF scans and declarations (CSV, XLSX, JSON)
through the loaders every command uses. A loader may accept a case (and must then keep its contract: a
(2, H, W) uint16 scan, rows of text, …) or refuse it with ``ArchiveError``; anything else is a crash.

Run: ``PYTHONPATH=src python benchmarks/bench_fuzz.py [--cases 6000] [--seed 0] [--archive data/raw]``. Seeds are
the first scan of ``--archive`` (cropped, so that a case costs milliseconds) and its tables; the JSON on standard
output counts accepted, refused and crashed cases per loader, with the first crashes' messages; the exit
status is 1 when anything crashed. Target: 0 crashes.
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import tifffile

from cargoscan.archive import (ArchiveError, ArchivePaths, read_labels, read_scan, read_sidecar, read_table,
                               write_json, write_labels, write_scan)
from cargoscan.archive.format import TABLE_COLUMNS
from cargoscan.archive.validate import validation_errors
from cargoscan.inspect.declarations import read_declaration_file
from cargoscan.registry.declarations import read_rows

from fuzz_mutations import (BYTE_MUTATORS, TABLES, csv_mutate, json_mutate, png_mutate, tiff_mutate, to_xlsx,
                            xlsx_mutate)

class Hang(BaseException):
    """A case over its time limit (BaseException: loaders' ``except Exception`` must not swallow it)."""


# ---------------------------------------------------------------- seeds, targets and the run
def make_seeds(archive: Path, rows: int = 6, crop: tuple[int, int] = (64, 192)) -> dict[str, bytes]:
    """Valid files from the first scan of ``archive`` (cropped) and the first rows of its tables."""
    import csv

    paths = ArchivePaths(archive)
    sid = paths.scan_ids()[0]
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-seeds-"))
    write_scan(tmp / "s.tiff", read_scan(paths.scan_tiff(sid))[:, : crop[0], : crop[1]])
    mask, doc = read_labels(archive, sid)
    write_labels(tmp, sid, mask[: crop[0], : crop[1]], doc)
    seeds = {"scan_id": sid.encode(), "tiff": (tmp / "s.tiff").read_bytes(),
             "sidecar": paths.sidecar(sid).read_bytes(),
             "label_png": ArchivePaths(tmp).label_png(sid).read_bytes(),
             "label_json": ArchivePaths(tmp).label_json(sid).read_bytes()}
    for name in TABLES:
        lines = paths.table(name).read_text(encoding="utf-8").splitlines(keepends=True)
        seeds[name] = "".join(lines[: rows + 1]).encode()
    records = list(csv.reader(io.StringIO(seeds["declarations.csv"].decode(), newline="")))
    seeds["decl_xlsx"] = to_xlsx(records, rng=True)
    seeds["decl_json"] = json.dumps([dict(zip(records[0], r)) for r in records[1:3]], ensure_ascii=False).encode()
    return seeds


@dataclass(frozen=True)
class Target:
    name: str
    file: str                     # where the case is written, relative to the work folder ({sid}: the scan ID)
    seed: str
    mutators: tuple[Callable, ...]
    loaders: tuple[tuple[str, Callable, Callable], ...]   # (name, load(work, path), contract(result) -> bool)


def _rows_of_text(rows) -> bool:
    return isinstance(rows, list) and all(isinstance(r, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                                       for k, v in r.items()) for r in rows)


def targets(sid: str, shape: tuple[int, int]) -> list[Target]:
    def table_loader(name):
        return (f"read_table[{name}]", lambda w, p: read_table(p),
                lambda rows: _rows_of_text(rows) and all(list(r) == TABLE_COLUMNS[name] for r in rows))

    decl = (("registry.read_rows", lambda w, p: read_rows(p), _rows_of_text),
            ("inspect.read_declaration_file", lambda w, p: read_declaration_file(p),
             lambda rows: _rows_of_text(rows) and not any(validation_errors("declarations", r) for r in rows)))
    labels = ("read_labels", lambda w, p: read_labels(w, sid, shape),
              lambda r: r[0].dtype == np.uint8 and r[0].shape == shape and isinstance(r[1], dict))
    return [
        Target("sidecar", f"scans/{sid}.json", "sidecar", (json_mutate,),
               (("read_sidecar", lambda w, p: read_sidecar(p),
                 lambda d: isinstance(d, dict) and d.get("schema_version") == "1.0"),)),
        Target("label_json", f"labels/{sid}.json", "label_json", (json_mutate,), (labels,)),
        Target("label_png", f"labels/{sid}.png", "label_png", (png_mutate,), (labels,)),
        Target("scan_tiff", f"scans/{sid}.tiff", "tiff", (tiff_mutate,),
               (("read_scan", lambda w, p: read_scan(p),
                 lambda a: a.ndim == 3 and a.shape[0] == 2 and a.dtype == np.uint16),)),
        *[Target(name, name, name, (csv_mutate,), (table_loader(name),)) for name in TABLES],
        Target("declarations_csv", "pi-2025.csv", "declarations.csv", (csv_mutate,), decl),
        Target("declarations_xlsx", "pi-2025.xlsx", "decl_xlsx", (xlsx_mutate,), decl),
        Target("declaration_json", "decl.json", "decl_json", (json_mutate,), decl[1:]),
    ]


def mutate(seed: bytes, target: Target, rng) -> bytes:
    """One structural mutation of the seed (or bytes, if that fails), sometimes a byte mutation on top."""
    out = None
    if rng.random() < 0.7:
        try:
            out = target.mutators[int(rng.integers(0, len(target.mutators)))](seed, rng)
        except Exception:          # a structural mutation that does not apply: fall back to bytes
            out = None
    if out is None or rng.random() < 0.25:
        byte = BYTE_MUTATORS[rng.choice(sorted(BYTE_MUTATORS))]
        out = byte(seed if out is None else out, rng)
    return out


def _on_alarm(signum, frame):
    raise Hang()


@dataclass
class Tally:
    cases: int = 0
    accepted: int = 0
    refused: int = 0
    crashed: int = 0
    broken_contract: int = 0
    crashes: Counter = field(default_factory=Counter)


def run(archive: Path, cases: int, seed: int = 0, time_limit_s: float = 30.0) -> dict:
    """Fuzz ``cases`` inputs, round robin over the targets; the per-loader tallies and the crash total."""
    seeds = make_seeds(Path(archive))
    sid = seeds["scan_id"].decode()
    shape = tifffile.imread(io.BytesIO(seeds["tiff"])).shape[1:]
    rng = np.random.default_rng(seed)
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    (work / "scans").mkdir()
    (work / "labels").mkdir()
    all_targets = targets(sid, shape)
    for t in all_targets:
        (work / t.file).write_bytes(seeds[t.seed])
    tallies: dict[str, Tally] = {}
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        for i in range(cases):
            target = all_targets[i % len(all_targets)]
            path = work / target.file
            path.write_bytes(mutate(seeds[target.seed], target, rng))
            for name, load, contract in target.loaders:
                tally = tallies.setdefault(name, Tally())
                tally.cases += 1
                signal.setitimer(signal.ITIMER_REAL, time_limit_s)
                try:
                    result = load(work, path)
                    tally.accepted += 1
                    if not contract(result):
                        tally.broken_contract += 1
                        tally.crashes[f"{target.name}: contract broken"] += 1
                except ArchiveError:
                    tally.refused += 1
                except (Exception, Hang) as exc:
                    tally.crashed += 1
                    tally.crashes[f"{target.name}: {type(exc).__name__}: {str(exc)[:160]}"] += 1
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            path.write_bytes(seeds[target.seed])
    finally:
        signal.signal(signal.SIGALRM, previous)
    loaders = {name: {"cases": t.cases, "accepted": t.accepted, "refused": t.refused, "crashed": t.crashed,
                      "broken_contract": t.broken_contract, "examples": [k for k, _ in t.crashes.most_common(5)]}
               for name, t in tallies.items()}
    return {"cases": cases, "seed": seed, "archive": str(archive), "loaders": loaders,
            "crashes": sum(t.crashed + t.broken_contract for t in tallies.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--archive", type=Path, default=Path("data/raw"), help="archive whose first scan seeds the cases")
    args = ap.parse_args()
    if not ArchivePaths(args.archive).scan_ids():
        raise SystemExit(f"bench_fuzz: no scans in {args.archive} (run `cargoscan synth` or pass --archive)")
    start = time.perf_counter()
    report = run(args.archive, args.cases, args.seed)
    report["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if report["crashes"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
