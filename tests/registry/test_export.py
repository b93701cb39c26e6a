"""Exports: formula injection neutralised, Cyrillic unchanged, the releasing officer shown."""

from __future__ import annotations

import csv
import io

import pytest
from tests.registry.conftest import OFFICER, declaration_row, inspection
from openpyxl import load_workbook

from cargoscan.registry.declarations import register_rows
from cargoscan.registry.export import DECLARATION_COLUMNS, export_declarations, neutralise, to_csv, to_xlsx
from cargoscan.registry.ingest import ingest_archive
from cargoscan.registry.release import record_officer_inspection, release_declaration
from cargoscan.registry.routing import record_inspection

DANGEROUS = ["=1+1", "+7 701", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "=HYPERLINK(\"http://x\")"]
SAFE = ["Обувь спортивная «Найк»", "ООО \"Восток\"", "a=b", "", "12-34"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_neutralise_quotes_dangerous_prefixes(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", SAFE + [-5, 3.5, None])
def test_neutralise_leaves_the_rest(value):
    assert neutralise(value) == value


def test_xlsx_cells_are_text_and_cyrillic_round_trips():
    data = to_xlsx("Лист", ["колонка", "число"], [[v, -1.5] for v in DANGEROUS + SAFE])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "колонка"
    got = [ws.cell(row=i + 2, column=1).value for i in range(len(DANGEROUS + SAFE))]
    # XML itself turns a bare CR into LF on reading; the quote in front is what matters.
    assert got[:len(DANGEROUS)] == ["'" + v.replace("\r", "\n") for v in DANGEROUS]
    assert [g or "" for g in got[len(DANGEROUS):]] == SAFE
    assert all(ws.cell(row=i + 2, column=1).data_type != "f" for i in range(len(got)))
    assert ws["B2"].value == -1.5  # numbers stay numbers


def test_csv_is_neutralised_and_utf8():
    data = to_csv(["a"], [[v] for v in DANGEROUS + SAFE])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in DANGEROUS] + SAFE


def test_declaration_export_shows_the_releasing_officer(registry, make_archive):
    root, info = make_archive(n_trains=1, n_wagons=2)
    ingest_archive(registry, root)
    s0, s1 = info["scans"]
    rows = [declaration_row("PI-R", s0["train"], s0["wagon"], goods_description="=cmd|' /C calc'!A0"),
            declaration_row("PI-G", s1["train"], s1["wagon"])]
    registry.write(lambda s: register_rows(s, rows, "t", actor="op", role="operator"))
    for sc, hit in ((s0, True), (s1, False)):
        registry.write(lambda s, sc=sc, hit=hit: record_inspection(s, inspection(sc["scan_id"], hit, scan_sha256=sc["sha256"]),
                                                                   actor="eng", role="system"))
    registry.write(lambda s: record_officer_inspection(s, "PI-R", OFFICER, "no_violation"))
    release_declaration(registry, "PI-R", OFFICER)
    data = registry.write(lambda s: export_declarations(s, "xlsx", actor="aud", role="auditor"))
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    assert header == list(DECLARATION_COLUMNS)
    by_pi = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    red = by_pi["PI-R"]
    assert red["ФИО инспектора"] == OFFICER.officer_name and red["личная номерная печать"] == OFFICER.stamp
    assert red["ID инспектора"] == OFFICER.officer_id and red["выпущено"] == "да"
    assert red["описание товара"] == "'=cmd|' /C calc'!A0"
    assert by_pi["PI-G"]["выпущено"] == "нет" and by_pi["PI-G"]["коридор"] == "зелёный"


def test_whatever_is_stored_exports(registry, tmp_path):
    """Rows stored before the door checks (an ESC, a NUL, an impossible date) never break an export."""
    from sqlalchemy import text
    from typer.testing import CliRunner

    from cargoscan.cli import app
    from cargoscan.registry.export import table1_file

    with registry.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO declarations (pi_number, train_number, wagon_number, container_number, hs_code, "
            "goods_description, packages_count, packaging, gross_weight_kg, net_weight_kg, consignor, consignee, "
            "source, content_sha256, registered_at, corridor, corridor_reason, risk_areas) VALUES ('PI-E', 'KZ1', "
            "'28652303', '', '640299', :g, 1, '', 10, 5, '=cmd', '', 'legacy', 'x', 'now', 'held', '', '[]')"),
            {"g": "Обувь\x1b[31m красная"})
        conn.execute(text(
            "INSERT INTO scans (scan_id, train_number, position, wagon_number, container_numbers, scanned_at, "
            "post_code, device_id, direction, scan_sha256, sidecar_sha256, ingested_at) VALUES "
            "('32701RF06202502181747029', 'KZ\x1b1', 1, NULL, '[]', '2025-13-45T10:00:00+06:00', '32701', 'RF06', "
            "'transit', NULL, 'x', 'now')"))
    data = registry.write(lambda s: export_declarations(s, "xlsx", actor="aud", role="auditor"))
    row = [c.value for c in load_workbook(io.BytesIO(data)).active[2]]
    assert row[5] == "Обувь\\x1b[31m красная"  # escaped, not dropped
    t1 = registry.write(lambda s: table1_file(s, "xlsx"))
    cells = [c.value for c in load_workbook(io.BytesIO(t1)).active[2]]
    assert cells[1] == "KZ\\x1b1" and cells[3] == "2025-13-45T10:00:00+06:00"  # shown as stored
    out = tmp_path / "d.xlsx"
    r = CliRunner().invoke(app, ["registry", "export", "--out", str(out), "--db", registry.url])
    assert r.exit_code == 0, r.output
    assert load_workbook(out).active["F2"].value == "Обувь\\x1b[31m красная"
