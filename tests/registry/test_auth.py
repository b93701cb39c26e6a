"""Roles cannot bypass the red corridor: every role × every API action, against a declaration that is red.

Each action is tried with the body most likely to get a red declaration out unexamined (a «без подозрения»
result with full provenance for the suspicious scan, a re-registration that unlinks the scan, a release…).
The table says the status each role must get and the corridor afterwards: only the officer's recorded
inspection turns red to green, and nothing releases it.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.registry.conftest import auth as _auth, declaration_row, inspection, sidecar, token_store as _store
from fastapi.testclient import TestClient
from sqlalchemy import select

from cargoscan.registry import audit
from cargoscan.registry.api import create_app
from cargoscan.registry.auth import PERMISSIONS, ROLES
from cargoscan.registry.models import AuditEntry

WAGON, OTHER_WAGON, CONTAINER = "28652303", "45488855", "CSQU3054383"
SCAN_ID, SHA = "32701RF06202502181747029", "a" * 64
WHEN = datetime.fromisoformat("2025-02-18T17:47:02+06:00")

#: action → (method, path, body): the bypass attempt.
CALLS = {
    "ingest_scan": ("post", "/scans", {"sidecar": sidecar(SCAN_ID, "KZ1", OTHER_WAGON, [], WHEN), "scan_sha256": SHA,
                                       "position": 1, "rfid_tags": [OTHER_WAGON]}),
    "register_declaration": ("post", "/declarations", declaration_row("PI-1", "KZ1", OTHER_WAGON)),
    "read_corridor": ("get", "/declarations/PI-1/corridor", None),
    "record_inspection": ("post", "/inspections", inspection(SCAN_ID, False, scan_sha256=SHA)),
    "record_officer_inspection": ("post", "/declarations/PI-1/officer-inspection", {"outcome": "no_violation"}),
    "release": ("post", "/declarations/PI-1/release", {"basis": "срочно"}),
    "read_table1": ("get", "/table1", None),
    "export_declarations": ("get", "/exports/declarations", None),
    "verify_audit": ("get", "/audit/verify", None),
}

O, F, A, S = "operator", "officer", "auditor", "system"
#: (action, role) → (status, corridor of PI-1 afterwards). Written out, not derived from PERMISSIONS.
TABLE = {
    ("ingest_scan", O): (201, "red"),  # a re-sent scan with other content is only flagged
    ("register_declaration", O): (422, "red"), ("register_declaration", S): (422, "red"),  # never overwritten
    ("read_corridor", O): (200, "red"), ("read_corridor", F): (200, "red"),
    ("read_corridor", A): (200, "red"), ("read_corridor", S): (200, "red"),
    ("record_inspection", S): (201, "red"),  # a later «без подозрения» never overrides «под подозрением»
    ("record_officer_inspection", F): (201, "green"),  # the one way out of red
    ("release", F): (409, "red"),  # red: refused
    ("read_table1", O): (200, "red"), ("read_table1", F): (200, "red"), ("read_table1", A): (200, "red"),
    ("export_declarations", F): (200, "red"), ("export_declarations", A): (200, "red"),
    ("verify_audit", A): (200, "red"),
}
CASES = [(action, role) for action in CALLS for role in ROLES]



@pytest.fixture
def red(registry):
    """A client and a registry where PI-1 is red: its scan's analysis said «под подозрением»."""
    client = TestClient(create_app(registry, _store()), raise_server_exceptions=False)
    body = {"sidecar": sidecar(SCAN_ID, "KZ1", WAGON, [CONTAINER], WHEN), "scan_sha256": SHA, "position": 1,
            "rfid_tags": [WAGON]}
    assert client.post("/scans", json=body, headers=_auth(O)).status_code == 201
    assert client.post("/inspections", json=inspection(SCAN_ID, True, scan_sha256=SHA),
                       headers=_auth(S)).status_code == 201
    r = client.post("/declarations", json=declaration_row("PI-1", "KZ1", WAGON, CONTAINER), headers=_auth(O))
    assert r.json()["corridor"] == "red"
    return client, registry


def test_the_table_covers_every_role_and_action():
    assert set(CALLS) == set(PERMISSIONS)
    assert {(a, r) for a, r in TABLE} == {(a, r) for a in PERMISSIONS for r in PERMISSIONS[a]}


@pytest.mark.parametrize("action, role", CASES, ids=[f"{a}-{r}" for a, r in CASES])
def test_role_action(red, action, role):
    client, registry = red
    method, path, body = CALLS[action]
    status, corridor = TABLE.get((action, role), (403, "red"))
    kw = {"json": body} if body is not None else {}
    r = client.request(method, path, headers=_auth(role), **kw)
    assert r.status_code == status, r.text
    after = client.get("/declarations/PI-1/corridor", headers=_auth(O)).json()
    assert after["corridor"] == corridor and after["released"] is False
    with registry.read() as s:
        res = audit.verify_session(s)
        refused = s.scalars(select(AuditEntry.subject).where(AuditEntry.action == "authz_refused")).all()
    assert res.ok, res.summary()
    assert refused == ([action] if status == 403 else [])  # every refusal is in the audit trail


def test_without_a_token_every_action_is_401(red):
    client, _ = red
    for method, path, body in CALLS.values():
        kw = {"json": body} if body is not None else {}
        assert client.request(method, path, **kw).status_code == 401
        assert client.request(method, path, headers={"Authorization": "Bearer nope"}, **kw).status_code == 401


@pytest.mark.parametrize("provenance, reason", [
    ({}, "PROVENANCE_MISSING"),
    ({"scan_sha256": "b" * 64, "model": {"sha256": "5e" * 32}}, "PROVENANCE_MISMATCH"),
    ({"scan_sha256": SHA, "model": {}}, "PROVENANCE_MISSING"),
])
def test_a_clear_result_without_its_provenance_holds(registry, provenance, reason):
    client = TestClient(create_app(registry, _store()), raise_server_exceptions=False)
    body = {"sidecar": sidecar(SCAN_ID, "KZ1", WAGON, [CONTAINER], WHEN), "scan_sha256": SHA, "position": 1}
    client.post("/scans", json=body, headers=_auth(O))
    client.post("/declarations", json=declaration_row("PI-1", "KZ1", WAGON, CONTAINER), headers=_auth(O))
    doc = {**inspection(SCAN_ID, False), "provenance": provenance}
    assert client.post("/inspections", json=doc, headers=_auth(S)).status_code == 201
    after = client.get("/declarations/PI-1/corridor", headers=_auth(O)).json()
    assert after["corridor"] == "held" and reason in after["reason"]
    proven = inspection(SCAN_ID, False, scan_sha256=SHA)
    client.post("/inspections", json=proven, headers=_auth(S))
    assert client.get("/declarations/PI-1/corridor", headers=_auth(O)).json()["corridor"] == "green"
