"""Import of declarations and preliminary information from CSV and XLSX, validated by the project's one rule.

Every row's values go through ``cargoscan.archive.records.declaration_problems`` (the rule the inspection
engine applies too: finite positive weights within the unit's cap, gross ≥ net, HS codes, counts, check
digits, no control characters, bounded lengths).

Rows that fail go to the ``declaration_rejects`` table whole, with every reason; nothing is dropped. A row
whose PI number is already registered with the same content is skipped (idempotent import); with different
content it is rejected, never overwritten.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoscan.archive import read_declarations
from cargoscan.archive.tables import EXTRA_CELLS
from cargoscan.archive.format import DECLARATIONS_TABLE, TABLE_COLUMNS
from cargoscan.archive.records import declaration_problems
from cargoscan.registry import audit
from cargoscan.registry.intake import escape_unwritable
from cargoscan.registry.models import Declaration, DeclarationReject
from cargoscan.registry.routing import route

log = logging.getLogger(__name__)

COLUMNS = TABLE_COLUMNS[DECLARATIONS_TABLE]


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, optional BOM) or XLSX (first sheet) file as text, header from the first row.

    Raises:
        ArchiveError: naming the file when it cannot be read; bad rows are returned, for :func:`validate_rows`.
    """
    return read_declarations(path)


def validate_rows(rows: list[dict[str, str]]) -> dict[int, list[str]]:
    """Reasons per row index for the rows that fail the schema (empty for a clean batch)."""
    if not rows:
        return {}
    surplus = {i: [f"cells past the header: {r[EXTRA_CELLS]!r}"] for i, r in enumerate(rows) if EXTRA_CELLS in r}
    if surplus:   # a row with surplus cells is that row's fault, not the batch's
        reasons = validate_rows([{k: v for k, v in r.items() if k != EXTRA_CELLS} for r in rows])
        for i, why in surplus.items():
            reasons.setdefault(i, []).extend(why)
        return reasons
    columns = {str(k) for r in rows for k in r}
    missing = [c for c in COLUMNS if c not in columns]
    extra = sorted(columns - set(COLUMNS))
    if missing or extra:
        why = (f"missing columns {missing}" if missing else "") + (f" unknown columns {extra}" if extra else "")
        return {i: [why.strip()] for i in range(len(rows))}
    # One rule for a declaration's values, the one the inspection engine applies too.
    reasons = {i: declaration_problems({c: row.get(c) for c in COLUMNS}) for i, row in enumerate(rows)}
    return {i: why for i, why in reasons.items() if why}


def content_hash(row: dict[str, str]) -> str:
    return hashlib.sha256(audit.canonical_details({c: row.get(c, "") for c in COLUMNS}).encode()).hexdigest()


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    rejected: int = 0
    corridors: dict[str, str] = field(default_factory=dict)
    rejects: list[tuple[int, list[str]]] = field(default_factory=list)


def _reject(session: Session, source: str, row_number: int, raw: dict, reasons: list[str], actor: str,
            role: str) -> bool:
    # Kept whole, but storable on both backends (a NUL or lone surrogate would fail the whole import).
    raw = {escape_unwritable(str(k)): escape_unwritable(str(v)) for k, v in raw.items()}
    reasons = [escape_unwritable(r) for r in reasons]
    source = source[:400]
    same = session.scalars(select(DeclarationReject).where(DeclarationReject.source == source,
                                                           DeclarationReject.row_number == row_number)).all()
    if any(r.raw == raw and r.reasons == reasons for r in same):
        return False
    audit.append(session, actor=actor, role=role, action="declaration_rejected", subject=str(raw.get("pi_number", "")),
                 details={"source": source, "row": row_number, "reasons": reasons},
                 rows=[DeclarationReject(source=source, row_number=row_number, raw=raw, reasons=reasons)])
    return True


def register_rows(session: Session, rows: list[dict[str, str]], source: str, *, actor: str,
                  role: str) -> ImportReport:
    """Validate and register declaration rows inside a write transaction; route each new declaration.

    Row numbers in rejects are 1-based data rows (line ``n + 1`` of a file with a header).
    """
    report = ImportReport()
    bad = validate_rows(rows)
    for i, row in enumerate(rows):
        n = i + 1
        if i in bad:
            report.rejected += 1
            report.rejects.append((n, bad[i]))
            _reject(session, source, n, row, bad[i], actor, role)
            continue
        digest = content_hash(row)
        existing = session.get(Declaration, row["pi_number"])
        if existing is not None:
            if existing.content_sha256 == digest:
                report.unchanged += 1
                report.corridors[existing.pi_number] = existing.corridor
                continue
            why = [f"pi_number {row['pi_number']} is already registered with different content"]
            report.rejected += 1
            report.rejects.append((n, why))
            _reject(session, source, n, row, why, actor, role)
            continue
        decl = Declaration(
            pi_number=row["pi_number"], train_number=row["train_number"], wagon_number=row["wagon_number"].strip(),
            container_number=row["container_number"].strip(), hs_code=row["hs_code"].strip(),
            goods_description=row["goods_description"], packages_count=int(row["packages_count"]),
            packaging=row["packaging"], gross_weight_kg=float(row["gross_weight_kg"]),
            net_weight_kg=float(row["net_weight_kg"]), consignor=row["consignor"], consignee=row["consignee"],
            source=source[:200], content_sha256=digest, corridor="held", corridor_reason="", risk_areas=[])
        audit.append(session, actor=actor, role=role, action="declaration", subject=decl.pi_number,
                     details={"source": source, "content_sha256": digest, "row": n}, rows=[decl])
        report.corridors[decl.pi_number] = route(session, decl, actor=actor, role=role,
                                                 trigger="declaration registered").corridor
        report.added += 1
    return report


def import_file(registry, path: str | Path, *, actor: str = "cli", role: str = "operator") -> ImportReport:
    """Import a CSV or XLSX file of declarations in one write transaction."""
    path = Path(path)
    rows = read_rows(path)
    return registry.write(lambda s: register_rows(s, rows, path.name, actor=actor, role=role))
