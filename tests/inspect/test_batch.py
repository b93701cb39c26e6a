"""Batch inspection: resumable, a bad scan does not stop it, summary.csv covers every scan."""

from __future__ import annotations

import csv

from cargoscan.archive import write_table
from cargoscan.inspect import InspectParams
from cargoscan.inspect.batch import inspect_archive
from tests.inspect.conftest import declaration_row, fake_decomposer, make_scan, true_net_kg


def test_batch_resumes_and_survives_a_bad_scan(tmp_path, artifact, library):
    root = tmp_path / "raw"
    good = [make_scan(root, i) for i in (41, 42)]
    bad = make_scan(root, 43)
    bad.write_bytes(b"broken")
    write_table(root / "declarations.csv", [declaration_row(true_net_kg())])
    params = InspectParams(references_dir=str(library))
    out = tmp_path / "out"
    first = inspect_archive(root, out, artifact, params, decomposer_factory=fake_decomposer)
    assert first == {"inspected": 3, "skipped": 0, "suspicious": 1, "failed": 1}
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    by_id = {r["scan_id"]: r for r in rows}
    assert by_id[bad.stem]["complete"] == "0" and "ANALYSIS_FAILED_SCAN" in by_id[bad.stem]["reason_codes"]
    assert all(by_id[p.stem]["suspicious"] == "0" for p in good)
    # a rerun skips the finished scans and retries only the incomplete one
    again = inspect_archive(root, out, artifact, params, decomposer_factory=fake_decomposer)
    assert again["skipped"] == 2 and again["inspected"] == 1 and again["failed"] == 1
    # a changed scan is redone
    make_scan(root, 42, cargo=(50, 20, 300, 90))
    third = inspect_archive(root, out, artifact, params, decomposer_factory=fake_decomposer)
    assert third["inspected"] == 2 and third["skipped"] == 1


def test_batch_restricted_to_a_subset(tmp_path, artifact, library):
    root = tmp_path / "raw"
    scans = [make_scan(root, i) for i in (51, 52, 53)]
    write_table(root / "declarations.csv", [declaration_row(true_net_kg())])
    out = tmp_path / "out"
    only = {scans[1].stem}
    counts = inspect_archive(root, out, artifact, InspectParams(references_dir=str(library)),
                             decomposer_factory=fake_decomposer, only=only)
    assert counts["inspected"] == 1
    assert {p.stem for p in out.glob("*.json")} == only
