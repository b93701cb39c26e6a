"""The CLI: ingest, declarations, inspections, exports, and `audit verify` naming where the chain breaks."""

from __future__ import annotations

import json

from tests.registry.conftest import inspection
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cargoscan.cli import app

runner = CliRunner()


def test_cli_loop_and_tamper(tmp_path, make_archive):
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
    out = tmp_path / "decl.xlsx"
    assert runner.invoke(app, ["registry", "export", "--out", str(out), "--db", db]).exit_code == 0
    corridors = {r[0]: r[9] for r in load_workbook(out).active.iter_rows(min_row=2, values_only=True)}
    assert corridors == {"PI-0-0": "красный", "PI-0-1": "зелёный", "PI-0-2": "зелёный"}
    t1 = tmp_path / "t1.csv"
    assert runner.invoke(app, ["registry", "table1", "--out", str(t1), "--db", db]).exit_code == 0
    assert t1.read_text("utf-8-sig").splitlines()[0] == "п/п,номер состава,платформа,дата,время,ID снимка"

    r = runner.invoke(app, ["audit", "verify", "--db", db])
    assert r.exit_code == 0 and "intact" in r.output

    # Sign a checkpoint, then tamper as an administrator would: drop the trigger and edit entry 4.
    key, pub, cp = tmp_path / "k.pem", tmp_path / "k.pub", tmp_path / "cp.json"
    assert runner.invoke(app, ["audit", "keygen", "--private-key", str(key), "--public-key", str(pub)]).exit_code == 0
    assert runner.invoke(app, ["audit", "checkpoint", "--private-key", str(key), "--out", str(cp),
                               "--db", db]).exit_code == 0
    eng = create_engine(db)
    with eng.begin() as c:
        c.execute(text("DROP TRIGGER audit_log_no_update"))
        c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4"))
    eng.dispose()
    r = runner.invoke(app, ["audit", "verify", "--db", db, "--checkpoint", str(cp), "--public-key", str(pub)])
    assert r.exit_code == 1
    assert "BROKEN at seq 4" in r.output and "edited" in r.output
