"""Tables and declarations files: one reader for CSV and XLSX, clear errors naming the file for unreadable ones."""

from __future__ import annotations

import zipfile

import pytest

from cargoscan.archive import ArchiveError, read_declarations, read_table, write_table
from cargoscan.archive import tables
from cargoscan.archive.format import TABLE_COLUMNS
from cargoscan.inspect.declarations import read_declaration_file
from cargoscan.registry.declarations import read_rows

COLUMNS = TABLE_COLUMNS["declarations.csv"]
ROW = {"pi_number": "32701/030225/0000001", "train_number": "2001", "wagon_number": "45488855",
       "container_number": "CSQU3054383", "hs_code": "6204", "goods_description": "платья; 连衣裙",
       "packages_count": "120", "packaging": "коробки", "gross_weight_kg": "1050.5", "net_weight_kg": "1000",
       "consignor": "义乌市华通贸易有限公司", "consignee": "ТОО Получатель"}


def _csv(path, rows, bom=False, columns=COLUMNS):
    lines = [",".join(columns)] + [",".join(r.get(c, "") for c in columns) for r in rows]
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _xlsx(path, header, rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("name", ["declarations.csv", "other.csv", "pi-2025-02.txt"])
def test_csv_of_any_name_with_bom_reads_the_same_in_registry_and_inspection(tmp_path, name):
    path = _csv(tmp_path / name, [ROW, {**ROW, "pi_number": "PI-2"}], bom=True)
    rows = read_declarations(path)
    assert rows == [ROW, {**ROW, "pi_number": "PI-2"}]
    assert read_rows(path) == rows
    assert read_declaration_file(path) == rows


def test_xlsx_first_sheet_as_text_even_renamed(tmp_path):
    values = [ROW[c] for c in COLUMNS]
    values[COLUMNS.index("packages_count")] = 120.0        # Excel stores numbers as floats
    values[COLUMNS.index("gross_weight_kg")] = 1050.5
    path = _xlsx(tmp_path / "decl.xlsx", COLUMNS, [values, [None] * len(COLUMNS)])
    renamed = tmp_path / "decl.dat"
    renamed.write_bytes(path.read_bytes())
    for p in (path, renamed):
        assert read_declarations(p) == [ROW]                # the blank row is skipped, 120.0 reads "120"
    assert read_declaration_file(path) == [ROW]


def test_short_and_long_rows_are_kept_for_the_registry_to_reject(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(",".join(COLUMNS) + "\nPI-1,2001\n" + ",".join(ROW[c] for c in COLUMNS) + ",surplus,\n",
                    encoding="utf-8")
    short, long = read_declarations(path)
    assert short["pi_number"] == "PI-1" and short["hs_code"] == "" and set(COLUMNS) <= set(short)
    assert long[tables.EXTRA_CELLS] == "surplus"
    with pytest.raises(ArchiveError, match="line 2") as err:   # inspection refuses the file, naming the line
        read_declaration_file(path)
    assert "d.csv" in str(err.value)


@pytest.mark.parametrize("content,reason", [
    ("pi_number,hs_code\nPI-1,6204\n".encode("cp1251") + "ПИ".encode("cp1251"), "not UTF-8"),
    (b"pi_number,pi_number\nPI-1,PI-2\n", "repeats columns"),
    (b"PK\x03\x04garbage, not a workbook", "not a readable XLSX"),
    (b'pi_number\n"unterminated' + b"x" * (tables.MAX_CSV_FIELD_CHARS + 10), "not a readable CSV"),
])
def test_unreadable_files_raise_archive_error_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    for reader in (read_declarations, read_rows, read_declaration_file):
        with pytest.raises(ArchiveError, match=reason) as err:
            reader(path)
        assert err.value.path == path


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ArchiveError, match="not found"):
        read_declarations(tmp_path / "absent.csv")
    with pytest.raises(ArchiveError, match="not a regular file"):
        read_declarations(tmp_path)


def test_xlsx_zip_bomb_is_refused_before_parsing(tmp_path, monkeypatch):
    path = _xlsx(tmp_path / "d.xlsx", COLUMNS, [[ROW[c] for c in COLUMNS]])
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/padding.bin", b"\0" * 4096, compress_type=zipfile.ZIP_DEFLATED)
    monkeypatch.setattr(tables, "MAX_XLSX_UNPACKED_BYTES", 4096)
    with pytest.raises(ArchiveError, match="unpacks to"):
        read_declarations(path)


def test_empty_files_have_no_rows(tmp_path):
    assert read_declarations(_csv(tmp_path / "e.csv", [], columns=COLUMNS)) == []
    (tmp_path / "zero.csv").write_bytes(b"")
    assert read_declarations(tmp_path / "zero.csv") == []


def test_archive_table_skips_blank_lines_and_names_the_bad_line(tmp_path):
    rows = [{"read_at": "2025-02-18T17:47:02+06:00", "reader_id": "R1", "train_number": "2001", "position": "1",
             "tag_payload": "45488855"}]
    path = tmp_path / "rfid.csv"
    write_table(path, rows)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n")
    assert read_table(path) == rows
    with path.open("a", encoding="utf-8") as fh:
        fh.write("2025-02-18T17:47:03+06:00,R1,2001,2,45488855,extra\n")
    with pytest.raises(ArchiveError, match="line 3"):
        read_table(path)
    path.write_bytes(b"\xff\xfe" + "read_at".encode("utf-16-le"))
    with pytest.raises(ArchiveError, match="not UTF-8"):
        read_table(path)


def test_registry_rejects_only_the_row_with_surplus_cells(tmp_path):
    from cargoscan.registry.declarations import validate_rows

    good = ",".join(f'"{ROW[c]}"' for c in COLUMNS)
    path = tmp_path / "d.csv"
    path.write_text(",".join(COLUMNS) + "\n" + good + "\n" + good.replace("32701/030225/0000001", "PI-2")
                    + ",surplus\n", encoding="utf-8")
    assert validate_rows(read_rows(path)) == {1: ["cells past the header: 'surplus'"]}


def test_an_os_error_on_read_is_an_archive_error(tmp_path, monkeypatch):
    path = _csv(tmp_path / "d.csv", [ROW])

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", denied)
    with pytest.raises(ArchiveError, match=r"cannot read \(Permission denied\)") as err:
        read_declarations(path)
    assert err.value.path == path
