"""Corridor routing: the rules as a table of cases, then the same rules end to end through the database."""

from __future__ import annotations

import pytest
from tests.registry.conftest import OFFICER, declaration_row, inspection

from cargoscan.registry.declarations import register_rows
from cargoscan.registry.ingest import archive_inputs, ingest_one
from cargoscan.registry.release import ReleaseRefused, record_officer_inspection, release, release_declaration
from cargoscan.registry.routing import GREEN, HELD, RED, OfficerResult, ScanResult, decide, record_inspection

CLEAR = ScanResult(suspicious=False, complete=True, seq=1)
HIT = ScanResult(suspicious=True, complete=True, reasons=("THREAT_DRUGS",), risk_areas=({"id": 1},), seq=2)
FAILED = ScanResult(suspicious=True, complete=False, reasons=("ANALYSIS_FAILED_MODEL",), seq=3)
LATER_CLEAR = ScanResult(suspicious=False, complete=True, seq=5)
AFTER_OFFICER_HIT = ScanResult(suspicious=True, complete=True, reasons=("THREAT_DRUGS",), seq=11)
AFTER_OFFICER_FAILED = ScanResult(suspicious=True, complete=False, seq=12)
AFTER_OFFICER_CLEAR = ScanResult(suspicious=False, complete=True, seq=13)
CLEARED = OfficerResult("no_violation", "officer", seq=10)
VIOLATION = OfficerResult("violation", "officer", seq=10)
STALE = OfficerResult("no_violation", "officer", seq=0)

CASES = [
    # (linked scans → latest result, officer inspection, expected corridor)
    ({}, None, HELD),                                     # no scan linked: held, never green
    ({"a": None}, None, HELD),                            # analysis missing
    ({"a": FAILED}, None, HELD),                          # analysis failed (complete: false)
    ({"a": CLEAR}, None, GREEN),                          # every scan «без подозрения»
    ({"a": CLEAR, "b": CLEAR}, None, GREEN),
    ({"a": HIT}, None, RED),                              # any scan «под подозрением»
    ({"a": CLEAR, "b": HIT}, None, RED),
    ({"a": HIT, "b": FAILED}, None, RED),                 # red outranks held
    ({"a": CLEAR, "b": None}, None, HELD),                # one scan still without result
    ({"a": CLEAR, "b": FAILED}, None, HELD),
    ({"a": HIT}, CLEARED, GREEN),                         # only an officer's inspection clears red
    ({"a": FAILED}, CLEARED, GREEN),                      # ... and held
    ({"a": HIT}, VIOLATION, RED),
    ({"a": CLEAR}, VIOLATION, RED),                       # a violation the officer found is never green
    ({"a": HIT}, STALE, RED),                             # an inspection older than the latest result counts not
    # Suspicion is sticky: a later «без подозрения» for the same scan never overrides it ...
    ({"a": [HIT, LATER_CLEAR]}, None, RED),
    ({"a": [LATER_CLEAR, HIT]}, None, RED),               # (whatever order the history comes in)
    ({"a": [HIT, LATER_CLEAR], "b": CLEAR}, None, RED),
    # ... only the officer's inspection does, and a result after it counts again.
    ({"a": [HIT, LATER_CLEAR]}, CLEARED, GREEN),
    ({"a": [HIT, AFTER_OFFICER_HIT]}, CLEARED, RED),
    ({"a": [HIT, AFTER_OFFICER_FAILED]}, CLEARED, HELD),
    ({"a": [HIT, AFTER_OFFICER_CLEAR]}, CLEARED, GREEN),  # a clear result after the clearance adds no suspicion
    ({"a": [FAILED, LATER_CLEAR]}, None, GREEN),          # a failed analysis redone and proven clear
]


@pytest.mark.parametrize("results, officer, expected", CASES)
def test_decide_table(results, officer, expected):
    assert decide(results, officer).corridor == expected


def test_red_carries_recommendation_and_risk_areas():
    c = decide({"a": HIT, "b": CLEAR})
    assert "досмотр" in c.reason and "a" in c.reason
    assert c.risk_areas == [{"id": 1, "scan_id": "a"}]


def _setup(registry, make_archive):
    root, info = make_archive(n_trains=1, n_wagons=3)
    items, errors = archive_inputs(root)
    assert not errors
    for it in items:
        registry.write(lambda s, it=it: ingest_one(s, it, actor="op", role="operator"))
    return info


def test_routing_end_to_end(registry, make_archive):
    info = _setup(registry, make_archive)
    scan = info["scans"][0]
    row = declaration_row("PI-1", scan["train"], scan["wagon"])
    rep = registry.write(lambda s: register_rows(s, [row], "test", actor="op", role="operator"))
    assert rep.corridors["PI-1"] == HELD  # registered before any inspection

    registry.write(lambda s: record_inspection(s, inspection(scan["scan_id"], True), actor="eng", role="system"))
    with registry.read() as s:
        from cargoscan.registry.models import Declaration

        d = s.get(Declaration, "PI-1")
        assert d.corridor == RED and d.risk_areas and d.risk_areas[0]["scan_id"] == scan["scan_id"]

    # A release while red is refused, and the refusal is recorded.
    with pytest.raises(ReleaseRefused):
        release_declaration(registry, "PI-1", OFFICER)
    with registry.read() as s:
        from cargoscan.registry.models import AuditEntry

        actions = [e.action for e in s.query(AuditEntry).order_by(AuditEntry.seq)]
    assert "override_refused" in actions

    corridor = registry.write(lambda s: record_officer_inspection(s, "PI-1", OFFICER, "no_violation", "ok"))
    assert corridor == GREEN
    rel = release_declaration(registry, "PI-1", OFFICER, "досмотр проведён")
    assert rel.officer_name == OFFICER.officer_name and rel.officer_stamp == OFFICER.stamp
    with pytest.raises(ReleaseRefused):  # only once
        release_declaration(registry, "PI-1", OFFICER)


def test_failed_analysis_holds_and_a_new_suspicious_result_reopens(registry, make_archive):
    info = _setup(registry, make_archive)
    scan = info["scans"][1]
    registry.write(lambda s: register_rows(s, [declaration_row("PI-2", scan["train"], scan["wagon"])], "t",
                                           actor="op", role="operator"))
    _, routed = registry.write(lambda s: record_inspection(s, inspection(scan["scan_id"], False, complete=False),
                                                           actor="eng", role="system"))
    assert routed == ["PI-2"]
    with pytest.raises(ReleaseRefused, match="held"):
        release_declaration(registry, "PI-2", OFFICER)
    registry.write(lambda s: record_officer_inspection(s, "PI-2", OFFICER, "no_violation"))
    # A suspicious result arriving after the officer's inspection puts it back to red.
    registry.write(lambda s: record_inspection(s, inspection(scan["scan_id"], True), actor="eng", role="system"))
    with pytest.raises(ReleaseRefused, match="red"):
        release_declaration(registry, "PI-2", OFFICER)


def test_clear_scan_releases_without_override(registry, make_archive):
    info = _setup(registry, make_archive)
    scan = info["scans"][2]
    registry.write(lambda s: register_rows(s, [declaration_row("PI-3", scan["train"], "", scan["containers"][0],
                                                               wagon_number=scan["wagon"])],
                                           "t", actor="op", role="operator"))
    registry.write(lambda s: record_inspection(s, inspection(scan["scan_id"], False, scan_sha256=scan["sha256"]), actor="eng", role="system"))
    rel = release_declaration(registry, "PI-3", OFFICER)
    assert "без подозрения" in rel.basis


def test_non_officer_cannot_release(registry, make_archive):
    from cargoscan.registry.auth import Identity

    _setup(registry, make_archive)
    with pytest.raises(PermissionError):
        registry.write(lambda s: release(s, "PI-x", Identity("operator", "op")))
