"""The plan and the tables: IDs, identifiers, trains, declarations, RFID faults and the rates of params.yaml."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from cargoscan.archive.format import ScanId
from cargoscan.archive.validate import validation_errors
from cargoscan.ids import is_valid_container, is_valid_wagon, wagon_type
from cargoscan.synth.config import RfidParams, SynthParams
from cargoscan.synth.manifest import consignment_rows, plan_scans, rfid_rows, scans_table


@pytest.fixture(scope="module")
def plans():
    return plan_scans(SynthParams(n=600, seed=5))


def test_identifiers_and_scan_ids(plans):
    ids = [sp.scan_id for sp in plans]
    assert len(set(ids)) == len(ids)
    for sp in plans:
        sid = ScanId.parse(sp.scan_id)
        assert sid.stamp == datetime.fromisoformat(sp.scanned_at).replace(tzinfo=None)
        assert is_valid_wagon(sp.wagon_number) and wagon_type(sp.wagon_number) == sp.wagon_type
        assert all(is_valid_container(c) for c in sp.container_numbers)
        assert (sp.wagon_type == "flat") == bool(sp.container_numbers)


def test_trains_run_in_order(plans):
    by_train: dict[str, list] = {}
    for sp in plans:
        by_train.setdefault(sp.train_number + sp.scanned_at[:10], []).append(sp)
    for group in by_train.values():
        assert [sp.position for sp in group] == sorted(sp.position for sp in group)
        assert [sp.scanned_at for sp in group] == sorted(sp.scanned_at for sp in group)


def test_threat_rate_matches_params(plans):
    share = sum(bool(sp.threats) for sp in plans) / len(plans)
    assert 0.30 <= share <= 0.40


def test_plan_prefix_does_not_depend_on_n(plans):
    short = plan_scans(SynthParams(n=40, seed=5))
    assert [sp.to_dict() for sp in short[:30]] == [sp.to_dict() for sp in plans[:30]]


def _fake_results(plans):
    return {sp.scan_id: {"units": [{"kind": "container40", "net_mass_kg": (1000.0 + i) * bool(u.category),
                                    "packages": 50 * bool(u.category),
                                    "gross_extra_kg": 80.0, "threats": ["drugs"] if sp.threats else []}
                                   for i, u in enumerate(sp.units)]} for sp in plans}


def test_tables_fit_their_schemas_and_carry_the_mismatches(plans):
    decl, truth = consignment_rows(plans, _fake_results(plans))
    table1 = scans_table(plans)
    for name, rows in (("declarations", decl), ("truth", truth), ("scans_table", table1)):
        assert all(not validation_errors(name, r) for r in rows), name
    assert [r["ID снимка"] for r in table1] == sorted((sp.scan_id for sp in plans),
                                                      key=lambda i: ScanId.parse(i).stamp)
    kinds = {r["mismatch"] for r in truth}
    assert {"undeclared_goods", "wrong_goods", "weight_understated", "weight_overstated", "package_count"} <= kinds
    for d, t in zip(decl, truth):
        if t["mismatch"] == "weight_understated":
            assert float(d["net_weight_kg"]) < float(t["true_net_weight_kg"])
        if t["mismatch"] == "none":
            assert d["hs_code"] == t["true_hs_code"] and d["net_weight_kg"] == t["true_net_weight_kg"]
        if t["mismatch"] == "undeclared_goods":
            assert d["hs_code"] in ("8609", "8606") and float(t["true_net_weight_kg"]) > 0


def test_rfid_faults_at_the_configured_rates(plans):
    p = SynthParams(n=600, seed=5, rfid=RfidParams(missed_rate=0.1, duplicate_rate=0.08, corrupt_rate=0.0))
    rows = rfid_rows(plans, p)
    assert all(not validation_errors("rfid", r) for r in rows)
    wagons = {(sp.train_number, str(sp.position)): sp.wagon_number for sp in plans}
    counts: dict[tuple, int] = {}
    for r in rows:
        key = (r["train_number"], r["position"])
        assert wagons[key] == r["tag_payload"]           # every read refers to a wagon of a scanned train
        counts[(key, r["reader_id"])] = counts.get((key, r["reader_id"]), 0) + 1
    slots = len(plans) * len(p.rfid.readers)
    missed = 1 - len(counts) / slots
    dup = sum(c == 2 for c in counts.values()) / len(counts)
    assert missed == pytest.approx(0.1, abs=0.03) and dup == pytest.approx(0.08, abs=0.03)
