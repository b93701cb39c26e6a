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
