"""The plan and the tables: IDs, identifiers, trains, declarations, RFID faults and the rates of params.yaml."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from cargoscan.archive.format import ScanId
from cargoscan.archive.validate import validation_errors
from cargoscan.ids import is_valid_container, is_valid_wagon, wagon_type
from cargoscan.synth.cargo import list_categories, weighs_out
from cargoscan.synth.config import LoadParams, RfidParams, SynthParams
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


@pytest.mark.parametrize("name,heavy", [("food", True), ("machinery", True), ("paper", True), ("chemicals", True),
                                        ("garments", False), ("footwear", False), ("tyres", False)])
def test_weighs_out_splits_goods_at_a_40ft_containers_payload_density(name, heavy):
    """Heavy: mid stowed density above a 40 ft container's payload over its volume (~395 kg/m³): food at
    400-700 kg/m³ is, tyres at 250-450 are not."""
    assert weighs_out(name) is heavy


def _heavy_share(p: SynthParams) -> dict[str, float]:
    """Share of loaded containers carrying heavy goods, per container size (20 ft: two on a wagon)."""
    counts = {"20ft": [0, 0], "40ft": [0, 0]}
    for plan in plan_scans(p):
        if plan.wagon_type != "flat":
            continue
        size = "20ft" if len(plan.units) == 2 else "40ft"
        for u in plan.units:
            if u.category:
                counts[size][0] += weighs_out(u.category)
                counts[size][1] += 1
    return {k: h / n for k, (h, n) in counts.items()}


def test_heavy_goods_ride_in_20ft_containers_by_the_size_bias():
    """With load.size_bias = 3, heavy goods are ~3x likelier (in odds) in a 20 ft container and light ones in a
    40 ft one; with 1 the container size says nothing about the goods."""
    load = dict(wagon_types={"flat": 1.0}, empty_rate=0.0)
    biased = _heavy_share(SynthParams(n=1500, seed=8, load=LoadParams(**load, size_bias=3.0)))
    plain = _heavy_share(SynthParams(n=1500, seed=8, load=LoadParams(**load, size_bias=1.0)))
    prior = sum(map(weighs_out, list_categories("flat"))) / len(list_categories("flat"))
    odds = lambda q: q / (1 - q)                                       # noqa: E731
    assert odds(biased["20ft"]) / odds(prior) == pytest.approx(3.0, rel=0.2)
    assert odds(prior) / odds(biased["40ft"]) == pytest.approx(3.0, rel=0.2)
    assert plain["20ft"] == pytest.approx(prior, abs=0.05) and plain["40ft"] == pytest.approx(prior, abs=0.05)
