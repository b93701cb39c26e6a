"""Tables: the archive's CSV tables and declarations files (CSV or XLSX), read as rows of text.

Every reader fails with :class:`ArchiveError` naming the file for a file it cannot read — not UTF-8, not CSV, a
damaged or oversized workbook — and never with the parser's own exception. Whether a *row* is acceptable is the
caller's business: :func:`read_table` validates archive tables whole, while the registry rejects bad
declaration rows one by one with reasons, so :func:`read_declarations` returns every row as it stands.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from cargoscan.archive.format import TABLE_COLUMNS, TABLE_SCHEMAS, ArchiveError
from cargoscan.archive.validate import validation_errors

#: Cells past the header's width, or under an empty header cell, kept under this key (nothing is dropped).
EXTRA_CELLS = "(extra cells)"
#: A workbook whose parts inflate past this is refused before parsing (a zip bomb, not a declarations file).
MAX_XLSX_UNPACKED_BYTES = 256 * 2**20
#: Larger than any field of a real table; Python's csv default (128 KiB) would stop a long goods description.
MAX_CSV_FIELD_CHARS = 2**20

XLSX_SUFFIXES = (".xlsx", ".xlsm")
ZIP_MAGIC = b"PK\x03\x04"


def _read_text(path: Path) -> str:
    """A text file as UTF-8 (a BOM, as Excel writes it, is dropped)."""
    if not path.exists():
        raise ArchiveError(path, "file not found")
    if not path.is_file():
        raise ArchiveError(path, "not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArchiveError(path, f"cannot read ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArchiveError(path, f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
                                 "save it as «CSV UTF-8»") from exc


def _csv_records(path: Path) -> list[list[str]]:
    """Every record of a CSV file, NUL characters included (a schema refuses them later, with the line)."""
    text = _read_text(path)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD_CHARS))   # process-wide: only ever raised
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ArchiveError(path, f"not a readable CSV file ({exc})") from exc


def _rows(path: Path, header: list[str], records: list[list[Any]], cell=str) -> list[dict[str, str]]:
    """Records as dicts by header name; short records padded with "", surplus cells under :data:`EXTRA_CELLS`."""
    names = [cell(h) for h in header]
    seen = [n for n in names if n]
    dupes = sorted({n for n in seen if seen.count(n) > 1})
    if dupes:
        raise ArchiveError(path, f"header repeats columns {dupes}")
    out = []
    for rec in records:
        row = {n: "" for n in names if n}
        extra = []
        for i, v in enumerate(rec):
            text = cell(v)
            if i < len(names) and names[i]:
                row[names[i]] = text
            elif text:
                extra.append(text)
        if extra:
            row[EXTRA_CELLS] = " | ".join(extra)
        out.append(row)
    return out


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Read one archive table and validate its header and every row.

    Raises:
        ArchiveError: naming the file, and the line for a bad row.
    """
    path = Path(path)
    name = path.name
    if name not in TABLE_SCHEMAS:
        raise ArchiveError(path, f"not an archive table; known: {sorted(TABLE_SCHEMAS)}")
    records = [r for r in _csv_records(path) if r]     # csv gives [] for a blank line; csv.DictReader skipped it
    header = records[0] if records else None
    if header != TABLE_COLUMNS[name]:
        raise ArchiveError(path, f"header {header} != expected {TABLE_COLUMNS[name]}")
    rows = _rows(path, header, records[1:])
    for i, row in enumerate(rows, start=2):
        errors = validation_errors(TABLE_SCHEMAS[name], row)
        if errors:
            raise ArchiveError(path, f"line {i}: " + "; ".join(errors[:3]))
    return rows


def write_table(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Write an archive table with its fixed header (UTF-8, no BOM, ``\\n`` line ends)."""
    path = Path(path)
    columns = TABLE_COLUMNS[path.name]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})


def sheet_cell(v: Any) -> str:
    """A spreadsheet cell as text: integral numbers without ".0", empty for blanks."""
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v).strip()


def _xlsx_records(path: Path) -> list[tuple[Any, ...]]:
    """The first sheet's rows (values, not formulas), after checking the workbook is no zip bomb."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise ArchiveError(path, f"workbook unpacks to {unpacked / 2**20:.0f} MiB, over the "
                                     f"{MAX_XLSX_UNPACKED_BYTES / 2**20:.0f} MiB limit")
        with path.open("rb") as fh:               # a file object: openpyxl would refuse a name not ending .xlsx
            wb = load_workbook(fh, read_only=True, data_only=True)
            try:
                if not wb.worksheets:
                    raise ArchiveError(path, "workbook has no worksheet")
                return list(wb.worksheets[0].iter_rows(values_only=True))
            finally:
                wb.close()
    except ArchiveError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many types (BadZipFile, KeyError, XML errors) on damage
        raise ArchiveError(path, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc


def is_workbook(path: Path) -> bool:
    """An XLSX file, by its name or by its first bytes (a zip), so a renamed workbook still reads."""
    if path.suffix.lower() in XLSX_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == ZIP_MAGIC
    except OSError:
        return False


def read_declarations(path: str | Path) -> list[dict[str, str]]:
    """Rows of a declarations file, as text, header from the first row: CSV (UTF-8, optional BOM) or XLSX
    (first sheet), whatever the file is called. Rows are not validated here (see the module docstring); blank
    spreadsheet rows are skipped.

    Raises:
        ArchiveError: naming the file when it is missing or cannot be read as CSV or XLSX.
    """
    path = Path(path)
    if not path.exists():
        raise ArchiveError(path, "file not found")
    if not path.is_file():
        raise ArchiveError(path, "not a regular file")
    if is_workbook(path):
        records = _xlsx_records(path)
        records = [r for r in records if any(v is not None and str(v).strip() for v in r)]
        return _rows(path, list(records[0]), records[1:], sheet_cell) if records else []
    records = [r for r in _csv_records(path) if r]
    return _rows(path, records[0], records[1:]) if records else []
