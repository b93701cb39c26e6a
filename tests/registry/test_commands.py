"""The CLI: ingest, declarations, inspections, exports, and `audit verify` naming where the chain breaks."""

from __future__ import annotations

import json

import pytest
from tests.registry.conftest import inspection
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cargoscan.cli import app

runner = CliRunner()


def _out(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture
def keys(tmp_path, monkeypatch):
    """A post key pair, the private one set as the registry's signing key."""
    key, pub = tmp_path / "k.pem", tmp_path / "k.pub"
    assert runner.invoke(app, ["audit", "keygen", "--private-key", str(key), "--public-key", str(pub)]).exit_code == 0
    monkeypatch.setenv("CARGOSCAN_AUDIT_KEY", str(key))
    monkeypatch.delenv("CARGOSCAN_AUDIT_PUBLIC_KEY", raising=False)
    return key, pub


def _loop(tmp_path, make_archive) -> str:
    root, info = make_archive(n_trains=1, n_wagons=3)
    db = f"sqlite:///{tmp_path / 'reg.db'}"
    r = runner.invoke(app, ["registry", "ingest", str(root), "--db", db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["registry", "declarations", str(root / "declarations.csv"), "--db", db])
    assert r.exit_code == 0, r.output
    docs = []
    for i, sc in enumerate(info["scans"]):
        p = tmp_path / f"ins{i}.json"
        p.write_text(json.dumps(inspection(sc["scan_id"], i == 0, scan_sha256=sc["sha256"]), ensure_ascii=False),
                     "utf-8")
        docs.append(str(p))
    assert runner.invoke(app, ["registry", "inspections", *docs, "--db", db]).exit_code == 0
    return db


def test_cli_loop_and_tamper(tmp_path, make_archive, keys):
    key, pub = keys
    db = _loop(tmp_path, make_archive)
    out = tmp_path / "decl.xlsx"
    assert runner.invoke(app, ["registry", "export", "--out", str(out), "--db", db]).exit_code == 0
    corridors = {r[0]: r[9] for r in load_workbook(out).active.iter_rows(min_row=2, values_only=True)}
    assert corridors == {"PI-0-0": "красный", "PI-0-1": "зелёный", "PI-0-2": "зелёный"}
    t1 = tmp_path / "t1.csv"
    assert runner.invoke(app, ["registry", "table1", "--out", str(t1), "--db", db]).exit_code == 0
    assert t1.read_text("utf-8-sig").splitlines()[0] == "п/п,номер состава,платформа,дата,время,ID снимка"

    r = runner.invoke(app, ["audit", "verify", "--db", db, "--public-key", str(pub)])
    assert r.exit_code == 0 and "intact" in _out(r) and "signatures valid for all" in _out(r), r.output

    # Sign a checkpoint, then tamper as an administrator would: drop the trigger and edit entry 4.
    cp = tmp_path / "cp.json"
    assert runner.invoke(app, ["audit", "checkpoint", "--private-key", str(key), "--out", str(cp),
                               "--db", db]).exit_code == 0
    eng = create_engine(db)
    with eng.begin() as c:
        c.execute(text("DROP TRIGGER audit_log_no_update"))
        c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4"))
    eng.dispose()
    r = runner.invoke(app, ["audit", "verify", "--db", db, "--checkpoint", str(cp), "--public-key", str(pub)])
    assert r.exit_code == 1
    assert "BROKEN at seq 4" in _out(r) and "edited" in _out(r)


def test_verify_finds_an_edited_release_corridor(tmp_path, make_archive, keys):
    """A business row changed behind the registry's back (no trigger guards it) is found and named."""
    _, pub = keys
    db = _loop(tmp_path, make_archive)
    eng = create_engine(db)
    with eng.begin() as c:
        c.execute(text("UPDATE declarations SET corridor = 'green' WHERE pi_number = 'PI-0-0'"))
    eng.dispose()
    r = runner.invoke(app, ["audit", "verify", "--db", db, "--public-key", str(pub)])
    assert r.exit_code == 1
    assert "row edited" in _out(r) and "declarations:PI-0-0" in _out(r)


def test_verify_refuses_a_database_that_does_not_exist(tmp_path):
    typo = tmp_path / "typo.db"
    r = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{typo}"])
    assert r.exit_code != 0 and "intact" not in _out(r)
    assert "no registry database" in _out(r)
    assert not typo.exists()  # nothing was created
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    r = runner.invoke(app, ["audit", "verify", "--db", f"sqlite:///{empty}"])
    assert r.exit_code != 0 and "not a cargoscan registry" in _out(r)


def test_verify_without_the_key_says_signatures_were_not_checked(tmp_path, make_archive, keys):
    db = _loop(tmp_path, make_archive)
    r = runner.invoke(app, ["audit", "verify", "--db", db])
    assert r.exit_code == 0 and "signatures not checked" in _out(r)


def test_ingest_of_a_missing_archive_fails_clearly(tmp_path):
    db = tmp_path / "reg.db"
    r = runner.invoke(app, ["registry", "ingest", str(tmp_path / "nonexistent"), "--db", f"sqlite:///{db}"])
    assert r.exit_code != 0
    assert "no such archive folder" in _out(r) and "Traceback" not in _out(r)
    assert not db.exists()


def test_ingest_quarantines_a_bad_scan_and_goes_on(tmp_path, make_archive, keys):
    root, info = make_archive(n_trains=1, n_wagons=3)
    bad = info["scans"][1]["scan_id"]
    side = root / "scans" / f"{bad}.json"
    doc = json.loads(side.read_text("utf-8"))
    side.write_text(json.dumps({**doc, "scanned_at": "2025-13-45T10:00:00+06:00"}), "utf-8")
    db = f"sqlite:///{tmp_path / 'reg.db'}"
    r = runner.invoke(app, ["registry", "ingest", str(root), "--db", db])
    assert r.exit_code == 1 and "2 added" in _out(r) and "1 quarantined" in _out(r), r.output
    eng = create_engine(db)
    with eng.connect() as c:
        rows = c.execute(text("SELECT scan_id, reason FROM scan_quarantine")).all()
        stored = {s for (s,) in c.execute(text("SELECT scan_id FROM scans"))}
    eng.dispose()
    assert [r[0] for r in rows] == [bad] and "scanned_at" in rows[0][1]
    assert bad not in stored and len(stored) == 2
