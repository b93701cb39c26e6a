"""Declaration import from CSV and XLSX: pandera validation, rejects kept whole, idempotence, Cyrillic."""

from __future__ import annotations

import csv

import pytest
from tests.registry.conftest import declaration_row
from openpyxl import Workbook
from sqlalchemy import select

from cargoscan.registry.declarations import COLUMNS, import_file, register_rows, validate_rows
from cargoscan.registry.models import Declaration, DeclarationReject

WAGON = "28652303"


def _rows():
    return [
        declaration_row("PI-1", "KZ1", WAGON, "CSQU3054383"),
        declaration_row("PI-2", "KZ1", "28652304"),                                  # bad check digit
        declaration_row("PI-3", "KZ1", WAGON, net_weight_kg="9999"),                 # net > gross
        declaration_row("PI-4", "KZ1", WAGON, hs_code="64a", container_number="CSQU3054384"),  # two faults
        declaration_row("PI-5", "KZ1", WAGON, goods_description="Чай «Хуа», =HYPERLINK()"),
    ]


def test_validate_rows_gives_every_reason():
    bad = validate_rows(_rows())
    assert set(bad) == {1, 2, 3}
    assert [r.split(":")[0] for r in bad[1]] == ["wagon_number"]
    assert [r.split(":")[0] for r in bad[2]] == ["gross_weight_kg"]  # net 9999 > gross 2400
    assert sorted(r.split(":")[0] for r in bad[3]) == ["container_number", "hs_code"]


@pytest.mark.parametrize("field, value", [
    ("net_weight_kg", "0"), ("net_weight_kg", "1" + "0" * 400), ("gross_weight_kg", "1e5"),
    ("goods_description", "Обувь\x1b[31m"), ("consignor", "ООО\x00"), ("pi_number", "P" * 65),
    ("train_number", "7" * 65), ("packages_count", "-1"),
])
def test_values_that_are_no_declaration_are_rejected(registry, field, value):
    rep = registry.write(lambda s: register_rows(s, [declaration_row("PI-1", "KZ1", WAGON, **{field: value})], "t",
                                                 actor="op", role="operator"))
    assert (rep.added, rep.rejected) == (0, 1) and rep.rejects[0][1][0].startswith(field), rep.rejects
    with registry.read() as s:
        assert s.get(Declaration, "PI-1") is None
        assert len(s.scalars(select(DeclarationReject)).all()) == 1  # kept, storable on both backends


def test_missing_column_rejects_every_row():
    rows = [{k: v for k, v in r.items() if k != "hs_code"} for r in _rows()[:2]]
    bad = validate_rows(rows)
    assert set(bad) == {0, 1} and "hs_code" in bad[0][0]


def _check_import(registry, path):
    rep = import_file(registry, path)
    assert (rep.added, rep.rejected) == (2, 3)
    with registry.read() as s:
        rejects = s.scalars(select(DeclarationReject).order_by(DeclarationReject.row_number)).all()
        assert [r.row_number for r in rejects] == [2, 3, 4]
        assert rejects[0].raw["pi_number"] == "PI-2" and rejects[0].reasons  # kept whole, with reasons
        d = s.get(Declaration, "PI-5")
        assert d.goods_description == "Чай «Хуа», =HYPERLINK()" and d.consignor == "ООО «Восток»"
        assert d.corridor == "held"  # no scan linked yet
    again = import_file(registry, path)
    assert (again.added, again.unchanged) == (0, 2)
    with registry.read() as s:
        assert len(s.scalars(select(DeclarationReject)).all()) == 3  # not duplicated


def test_import_csv(registry, tmp_path):
    path = tmp_path / "pi.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(_rows())
    _check_import(registry, path)


def test_import_xlsx_with_numeric_cells(registry, tmp_path):
    path = tmp_path / "pi.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in _rows():
        # Spreadsheets hold numbers as numbers: the importer must turn them back into the same text.
        ws.append([int(r[c]) if c in ("wagon_number", "packages_count", "gross_weight_kg") and r[c].isdigit()
                   else r[c] for c in COLUMNS])
    wb.save(path)
    _check_import(registry, path)


def test_changed_declaration_is_rejected_not_overwritten(registry, tmp_path):
    path = tmp_path / "a.csv"
    for desc in ("Обувь", "Оружие"):
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, COLUMNS)
            w.writeheader()
            w.writerow(declaration_row("PI-9", "KZ1", WAGON, goods_description=desc))
        rep = import_file(registry, path)
    assert rep.rejected == 1 and "different content" in rep.rejects[0][1][0]
    with registry.read() as s:
        assert s.get(Declaration, "PI-9").goods_description == "Обувь"
