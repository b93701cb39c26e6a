"""The HTTP service: the whole loop, validation at the door, the body limit, and the schemathesis contract."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from tests.registry.conftest import (OFFICER, TOKENS, auth as _auth, declaration_row, inspection,
                                      sidecar, token_store as _store)
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from cargoscan.registry.api import create_app
from cargoscan.registry.models import AuditEntry

WAGON, CONTAINER = "28652303", "CSQU3054383"
SCAN_ID = "32701RF06202502181747029"



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


# --- validation at the door ----------------------------------------------------------------------------------

def test_impossible_date_is_refused_and_never_stored(client):
    body = _scan_body()
    body["sidecar"]["scanned_at"] = "2025-13-45T10:00:00+06:00"
    r = client.post("/scans", json=body, headers=_auth("operator"))
    assert r.status_code == 422 and "scanned_at" in r.text
    assert isinstance(r.json()["detail"], list) and r.json()["detail"][0]["loc"] == ["body"]
    r = client.get("/table1", headers=_auth("operator"))
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("field, value, why", [
    ("train_number", "7" * 65, "at most 64"),
    ("train_number", "KZ\x1b1", "control character U+001B"),
    ("train_number", "KZ\x001", "control character U+0000"),
])
def test_sidecar_fields_that_do_not_fit_are_refused(client, field, value, why):
    body = _scan_body()
    body["sidecar"][field] = value
    r = client.post("/scans", json=body, headers=_auth("operator"))
    assert r.status_code == 422 and why in r.text, r.text
    assert client.get("/table1", headers=_auth("operator")).json() == []


def test_declaration_with_a_control_character_is_refused(client):
    row = declaration_row("PI-1", "KZ1", WAGON, CONTAINER, goods_description="Обувь\x1b[31m")
    r = client.post("/declarations", json=row, headers=_auth("operator"))
    assert r.status_code == 422 and "goods_description" in r.text and "U+001B" in r.text
    assert all(set(d) >= {"loc", "msg", "type"} for d in r.json()["detail"])


def test_pi_numbers_in_the_posts_own_form_are_addressable(client):
    pi = "32701/030225/0000001"
    client.post("/scans", json=_scan_body(), headers=_auth("operator"))
    r = client.post("/declarations", json=declaration_row(pi, "KZ1", WAGON, CONTAINER), headers=_auth("operator"))
    assert r.status_code == 201, r.text
    for path in (pi, pi.replace("/", "%2F")):
        r = client.get(f"/declarations/{path}/corridor", headers=_auth("officer"))
        assert r.status_code == 200 and r.json()["pi_number"] == pi, (path, r.text)
    r = client.post(f"/declarations/{pi.replace('/', '%2F')}/officer-inspection", json={"outcome": "violation"},
                    headers=_auth("officer"))
    assert r.status_code == 201 and r.json()["corridor"] == "red"
    assert client.get("/declarations/32701/030225/0000002/corridor", headers=_auth("officer")).status_code == 404


def test_unknown_query_parameters_are_refused(client):
    r = client.get("/table1", params={"formt": "csv"}, headers=_auth("operator"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "formt"]


# --- body size ------------------------------------------------------------------------------------------------

def _asgi(app, headers: list[tuple[bytes, bytes]], chunks: int, chunk: bytes):
    """Drive the ASGI app by hand: how many body chunks it pulled, and the status it answered."""
    import asyncio

    pulled, sent = 0, []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/inspections", "raw_path": b"/inspections",
             "query_string": b"", "headers": [(b"authorization", f"Bearer {TOKENS['system']}".encode()), *headers],
             "http_version": "1.1", "scheme": "http", "server": ("test", 80), "client": ("test", 1), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    return pulled, next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_100_mb_body_gets_413_without_being_read(registry):
    app = create_app(registry, _store(), max_body_bytes=1_000_000)
    mb = b"x" * 1_000_000
    # Announced by Content-Length: refused before a single chunk is read.
    pulled, status = _asgi(app, [(b"content-type", b"application/json"), (b"content-length", b"100000000")], 100, mb)
    assert (pulled, status) == (0, 413)
    # Streamed without a length: refused as soon as the limit is passed, not after 100 MB.
    pulled, status = _asgi(app, [(b"content-type", b"application/json")], 100, mb)
    assert status == 413 and pulled <= 2


def test_a_body_within_the_limit_is_read(client):
    r = client.post("/inspections", json=inspection(SCAN_ID, True), headers=_auth("system"))
    assert r.status_code == 404  # read and understood: the scan is not registered


# --- schemathesis -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_api_contract_has_no_failures(tmp_path):
    """Schemathesis, positive and negative inputs, every default check but positive_data_acceptance: 0 failures."""
    from benchmarks.bench_api_contract import run_contract

    out = run_contract(examples=8, seed=3, db_dir=tmp_path)
    assert out["cases"] >= 9 * 2 * 4
    assert out["failures"] == 0, out["first"]
