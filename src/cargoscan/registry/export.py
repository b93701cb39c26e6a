"""Table 1 and the transit-declaration export (CSV and Excel), with formula injection neutralised.

Any text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading apostrophe (OWASP, "CSV injection"), so that a spreadsheet shows it as text instead of running it.
Numbers stay numbers. Cyrillic is written as is (UTF-8 with a BOM in CSV, so Excel reads it right).

Whatever is stored is exported: a control character that XML (hence XLSX) cannot hold, or a lone surrogate
that UTF-8 cannot, is written as its escape (``\x1b``, ``\ud800``) instead of failing the whole export.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoscan.archive.format import SCANS_TABLE, TABLE_COLUMNS
from cargoscan.registry import audit
from cargoscan.registry.intake import escape_unwritable
from cargoscan.registry.models import Declaration, Flag, Release, Scan

TABLE1_COLUMNS = TABLE_COLUMNS[SCANS_TABLE]
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CORRIDOR_RU = {"red": "красный", "green": "зелёный", "held": "задержан"}

#: Columns of the declarations export: (header, row → value).
DECLARATION_COLUMNS = (
    "№ ПИ", "номер состава", "вагон", "контейнер", "код ТН ВЭД", "описание товара", "мест", "брутто, кг",
    "нетто, кг", "коридор", "основание коридора", "выпущено", "дата выпуска", "ID инспектора",
    "ФИО инспектора", "личная номерная печать", "основание выпуска",
)


def neutralise(value: Any) -> Any:
    """Quote a text value that a spreadsheet would read as a formula, escape what a file cannot hold.

    Other values pass unchanged.
    """
    if not isinstance(value, str):
        return value
    value = escape_unwritable(value)
    return "'" + value if value.startswith(DANGEROUS_PREFIXES) else value


def table1_rows(session: Session) -> list[dict[str, Any]]:
    """Table 1 (п/п, номер состава, платформа, дата, время, ID снимка) in scan order, plus each scan's flags."""
    scans = session.scalars(select(Scan).order_by(Scan.scanned_at, Scan.id)).all()
    flags: dict[str, list[str]] = {}
    for f in session.scalars(select(Flag).order_by(Flag.id)):
        flags.setdefault(f.scan_id, []).append(f"{f.kind}: {f.detail}")
    out = []
    for n, s in enumerate(scans, start=1):
        try:
            t = datetime.fromisoformat(s.scanned_at)
            day, clock = f"{t:%d.%m.%Y}", f"{t:%H:%M}"
        except (TypeError, ValueError):  # a row stored before the door check: shown as stored, never a failure
            day, clock = str(s.scanned_at), ""
        out.append({"п/п": n, "номер состава": s.train_number, "платформа": s.wagon_number or "",
                    "дата": day, "время": clock, "ID снимка": s.scan_id,
                    "flags": flags.get(s.scan_id, [])})
    return out


def declaration_rows(session: Session) -> list[list[Any]]:
    """One row per declaration with its corridor and, when released, who released it."""
    releases = {r.pi_number: r for r in session.scalars(select(Release))}
    rows = []
    for d in session.scalars(select(Declaration).order_by(Declaration.registered_at, Declaration.pi_number)):
        r = releases.get(d.pi_number)
        rows.append([d.pi_number, d.train_number, d.wagon_number, d.container_number, d.hs_code,
                     d.goods_description, d.packages_count, d.gross_weight_kg, d.net_weight_kg,
                     CORRIDOR_RU.get(d.corridor, d.corridor), d.corridor_reason, "да" if r else "нет",
                     r.released_at if r else "", r.officer_id if r else "", r.officer_name if r else "",
                     r.officer_stamp if r else "", r.basis if r else ""])
    return rows


def to_csv(header: list[str] | tuple[str, ...], rows: list[list[Any]]) -> bytes:
    """CSV bytes (UTF-8 with BOM), every text cell neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow([neutralise(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(sheet: str, header: list[str] | tuple[str, ...], rows: list[list[Any]]) -> bytes:
    """An Excel workbook as bytes; text cells are neutralised and stored as strings, never as formulas."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for r in rows:
        ws.append([neutralise(v) for v in r])
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would store a leading "=" as a formula; belt and braces
    for i, h in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(60, len(str(h)) + 4))
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def table1_file(session: Session, fmt: str) -> bytes:
    """Table 1 as ``csv`` or ``xlsx`` bytes."""
    rows = [[r[c] for c in TABLE1_COLUMNS] for r in table1_rows(session)]
    if fmt == "csv":
        return to_csv(TABLE1_COLUMNS, rows)
    if fmt == "xlsx":
        return to_xlsx("Таблица 1", TABLE1_COLUMNS, rows)
    raise ValueError(f"format must be csv or xlsx, got {fmt!r}")


def export_declarations(session: Session, fmt: str, *, actor: str, role: str) -> bytes:
    """The transit-declaration export (who released each), recorded in the audit trail; inside a write."""
    rows = declaration_rows(session)
    data = to_xlsx("Декларации", DECLARATION_COLUMNS, rows) if fmt == "xlsx" else to_csv(DECLARATION_COLUMNS, rows)
    audit.append(session, actor=actor, role=role, action="export", subject="declarations",
                 details={"format": fmt, "rows": len(rows), "released": sum(r[11] == "да" for r in rows)})
    return data
