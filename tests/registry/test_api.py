"""The HTTP service: the whole loop, the authorisation matrix, and schemathesis finding no 500s."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
import schemathesis
from tests.registry.conftest import OFFICER, declaration_row, inspection, sidecar
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from openpyxl import load_workbook
from sqlalchemy import select

from cargoscan.registry.api import create_app
from cargoscan.registry.auth import PERMISSIONS, ROLES, TokenStore, hash_token
from cargoscan.registry.db import Registry
from cargoscan.registry.models import AuditEntry

TOKENS = {role: f"token-of-the-{role}-0123456789abcdef" for role in ROLES}
WAGON, CONTAINER = "28652303", "CSQU3054383"
SCAN_ID = "32701RF06202502181747029"


def _store() -> TokenStore:
    entries = []
    for role, tok in TOKENS.items():
        e = {"sha256": hash_token(tok), "role": role, "name": f"{role}-1"}
        if role == "officer":
            e["officer"] = {"id": OFFICER.officer_id, "name": OFFICER.officer_name, "stamp": OFFICER.stamp}
        entries.append(e)
    return TokenStore(entries)


def _auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


@pytest.fixture
def client(registry):
    return TestClient(create_app(registry, _store()), raise_server_exceptions=False)


def _scan_body() -> dict:
    when = datetime.fromisoformat("2025-02-18T17:47:02+06:00")
    return {"sidecar": sidecar(SCAN_ID, "KZ1", WAGON, [CONTAINER], when), "scan_sha256": "a" * 64,
            "position": 1, "rfid_tags": [WAGON]}


def test_the_whole_loop(client, registry):
    r = client.post("/scans", json=_scan_body(), headers=_auth("operator"))
    assert r.status_code == 201 and r.json()["status"] == "added", r.text
    r = client.post("/inspections", json=inspection(SCAN_ID, True), headers=_auth("system"))
    assert r.status_code == 201 and r.json()["added"]
    r = client.post("/declarations", json=declaration_row("PI-1", "KZ1", WAGON, CONTAINER), headers=_auth("operator"))
    assert r.status_code == 201 and r.json()["corridor"] == "red"
    r = client.get("/declarations/PI-1/corridor", headers=_auth("officer"))
    assert r.json()["corridor"] == "red" and r.json()["risk_areas"] and r.json()["scans"] == [SCAN_ID]

    # The officer's identity comes from the token: a body that claims another officer is ignored.
    r = client.post("/declarations/PI-1/release", json={"basis": "x", "officer_name": "Someone Else"},
                    headers=_auth("officer"))
    assert r.status_code == 409
    r = client.post("/declarations/PI-1/officer-inspection", json={"outcome": "no_violation", "findings": "пусто"},
                    headers=_auth("officer"))
    assert r.status_code == 201 and r.json()["corridor"] == "green"
    r = client.post("/declarations/PI-1/release", json={"basis": "досмотр"}, headers=_auth("officer"))
    assert r.status_code == 201 and r.json()["officer_name"] == OFFICER.officer_name

    r = client.get("/exports/declarations", headers=_auth("auditor"))
    ws = load_workbook(io.BytesIO(r.content)).active
    assert OFFICER.officer_name in [c.value for c in ws[2]]
    r = client.get("/table1", params={"format": "csv"}, headers=_auth("operator"))
    assert SCAN_ID in r.content.decode("utf-8-sig")
    r = client.get("/audit/verify", headers=_auth("auditor"))
    assert r.json()["ok"] is True
    with registry.read() as s:
        actions = {a for (a,) in s.execute(select(AuditEntry.action))}
    assert {"ingest", "inspection", "routing", "declaration", "override_refused", "officer_inspection", "release",
            "export"} <= actions


CALLS = [  # (action, method, path, body)
    ("ingest_scan", "post", "/scans", _scan_body()),
    ("register_declaration", "post", "/declarations", declaration_row("PI-1", "KZ1", WAGON, CONTAINER)),
    ("read_corridor", "get", "/declarations/PI-1/corridor", None),
    ("record_inspection", "post", "/inspections", inspection(SCAN_ID, False)),
    ("record_officer_inspection", "post", "/declarations/PI-1/officer-inspection", {"outcome": "violation"}),
    ("release", "post", "/declarations/PI-1/release", {}),
    ("read_table1", "get", "/table1", None),
    ("export_declarations", "get", "/exports/declarations", None),
    ("verify_audit", "get", "/audit/verify", None),
]


def test_authorisation_matrix(client, registry):
    assert {a for a, *_ in CALLS} == set(PERMISSIONS)
    for action, method, path, body in CALLS:
        kw = {"json": body} if body is not None else {}
        assert client.request(method, path, **kw).status_code == 401
        assert client.request(method, path, headers={"Authorization": "Bearer nope"}, **kw).status_code == 401
        for role in ROLES:
            code = client.request(method, path, headers=_auth(role), **kw).status_code
            if role in PERMISSIONS[action]:
                assert code not in (401, 403, 500), (action, role, code)
            else:
                assert code == 403, (action, role, code)
    with registry.read() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "authz_refused")).all()
    expected = sum(len(ROLES) - len(PERMISSIONS[a]) for a, *_ in CALLS)
    assert len(refused) == expected


# --- schemathesis -------------------------------------------------------------------------------------------

ROLE_FOR = {("POST", "/scans"): "operator", ("POST", "/declarations"): "operator",
            ("POST", "/inspections"): "system", ("GET", "/audit/verify"): "auditor",
            ("GET", "/exports/declarations"): "auditor", ("GET", "/table1"): "operator"}


@pytest.mark.slow
def test_no_server_errors(tmp_path):
    """Every operation, with generated inputs (positive and negative), the matching role's token: never a 500."""
    from hypothesis import given

    reg = Registry(f"sqlite:///{tmp_path / 'st.db'}")
    app = create_app(reg, _store())
    seed = TestClient(app)
    seed.post("/scans", json=_scan_body(), headers=_auth("operator"))
    seed.post("/declarations", json=declaration_row("PI-1", "KZ1", WAGON, CONTAINER), headers=_auth("operator"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) == len(CALLS)
    for op in operations:
        role = ROLE_FOR.get((op.method.upper(), op.path), "officer")

        @given(case=op.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = case.call(headers=_auth(role))
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])

        run()
    reg.close()
