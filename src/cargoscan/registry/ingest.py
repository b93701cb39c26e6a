"""Ingest of scans with their RFID events and camera-OCR identification records.

Each scan is linked to its train, wagon and containers, check digits are checked, and every disagreement is
stored as a flag (never resolved silently): RFID vs OCR, a missing or corrupt tag, a bad check digit, a
duplicate scan ID with different content. Ingest is idempotent: a scan already registered with the same
content adds nothing, not even an audit entry.

Archives are read by ``archives`` (positions ranked over the whole train, overlapping archives included).

Every sidecar passes the door check (``intake.sidecar_problems``). A scan that cannot be read or registered
goes to ``scan_quarantine`` with the reason, in the audit trail too, and ingest goes on with the next one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cargoscan.archive.format import RFID_TABLE
from cargoscan.ids import is_valid_container, is_valid_wagon
from cargoscan.registry import audit
from cargoscan.registry.archives import ScanInput, known_scans, place, read_archive
from cargoscan.registry.archives import archive_inputs, sha256_file  # noqa: F401  (the module's public names)
from cargoscan.registry.db import Registry
from cargoscan.registry.intake import sidecar_problems
from cargoscan.registry.models import Flag, Scan, ScanQuarantine
from cargoscan.registry.routing import route_for_scan

MAX_FLAG_DETAIL = 400  # Flag.detail's width

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    scan_id: str
    status: str  # "added" | "unchanged" | "duplicate"
    flags: list[tuple[str, str]] = field(default_factory=list)
    routed: list[str] = field(default_factory=list)


def find_flags(item: ScanInput) -> tuple[str | None, list[tuple[str, str]]]:
    """The wagon number to register and the conflict flags of one scan (pure: no database)."""
    side, ident = item.sidecar, item.identification or {}
    flags: list[tuple[str, str]] = []
    wagon = side.get("wagon_number")
    if wagon is not None and not is_valid_wagon(wagon):
        flags.append(("bad_check_digit", f"sidecar wagon number {wagon} fails its check digit"))
        wagon = None
    for c in side.get("container_numbers") or []:
        if not is_valid_container(c):
            flags.append(("bad_check_digit", f"container number {c} fails its check digit"))
    w = ident.get("wagon") or {}
    accepted = w.get("number")
    if accepted is not None and not is_valid_wagon(str(accepted)):
        flags.append(("bad_check_digit", f"identification wagon number {accepted} fails its check digit"))
        accepted = None
    if w.get("status") == "conflict":
        flags.append(("rfid_ocr_conflict", f"identification: OCR {w.get('ocr')} vs RFID {w.get('rfid')}"))
    if accepted and wagon and accepted != wagon:
        flags.append(("rfid_ocr_conflict", f"identification {accepted} vs sidecar {wagon}"))
    for c in ident.get("containers") or []:
        if isinstance(c, dict) and c.get("status") == "conflict":
            flags.append(("container_conflict", f"container OCR {c.get('ocr')} conflicts"))
    wagon = wagon or accepted
    tags = item.rfid_tags
    if tags is None and w:
        tags = [w["rfid"]] if w.get("rfid") else None
    if tags is not None:
        good = sorted({t for t in tags if is_valid_wagon(t)})
        for t in sorted(set(tags) - set(good)):
            flags.append(("rfid_bad_check_digit", f"RFID tag {t!r} fails its check digit"))
        if not tags:
            flags.append(("missing_tag", f"no RFID tag read at position {item.position}"))
        elif not good:
            flags.append(("missing_tag", f"no readable RFID tag at position {item.position}"))
        elif wagon and wagon not in good:
            flags.append(("rfid_ocr_conflict", f"RFID {','.join(good)} vs OCR/sidecar {wagon}"))
        elif len(good) > 1:
            flags.append(("rfid_ocr_conflict", f"several RFID tags at one position: {','.join(good)}"))
        elif not wagon:
            flags.append(("wagon_from_rfid", f"wagon number {good[0]} from RFID only"))
            wagon = good[0]
    if not wagon:
        flags.append(("wagon_unidentified", "no valid wagon number from sidecar, OCR or RFID"))
    if item.rfid_unreadable:
        flags.append(("rfid_unreadable", "the archive's rfid.csv could not be read: no tag was compared"))
    return wagon, sorted({(k, d[:MAX_FLAG_DETAIL]) for k, d in flags})


def ingest_one(session: Session, item: ScanInput, *, actor: str, role: str) -> IngestResult:
    """Register one scan inside a write transaction (see ``Registry.write``)."""
    side = item.sidecar
    errors = sidecar_problems(side)
    if errors:
        raise ValueError("sidecar refused: " + "; ".join(errors[:5]))
    scan_id = side["scan_id"]
    side_sha = hashlib.sha256(audit.canonical_details(side).encode()).hexdigest()
    existing = session.scalars(select(Scan).where(Scan.scan_id == scan_id)).first()
    if existing is not None:
        if existing.sidecar_sha256 == side_sha and (item.scan_sha256 in (None, existing.scan_sha256)):
            return IngestResult(scan_id, "unchanged")
        detail = (f"re-sent with different content (sidecar {side_sha[:12]}, image "
                  f"{(item.scan_sha256 or '-')[:12]}) than registered (sidecar {existing.sidecar_sha256[:12]}, "
                  f"image {(existing.scan_sha256 or '-')[:12]})")
        if session.scalars(select(Flag.id).where(Flag.scan_id == scan_id, Flag.kind == "duplicate_scan_id",
                                                 Flag.detail == detail)).first():
            return IngestResult(scan_id, "unchanged")
        audit.append(session, actor=actor, role=role, action="flag", subject=scan_id,
                     details={"kind": "duplicate_scan_id", "detail": detail},
                     rows=[Flag(scan_id=scan_id, kind="duplicate_scan_id", detail=detail)])
        return IngestResult(scan_id, "duplicate", [("duplicate_scan_id", detail)])
    wagon, flags = find_flags(item)
    position = item.position
    if position is None and isinstance((item.identification or {}).get("position"), int):
        position = item.identification["position"]
    scan = Scan(scan_id=scan_id, train_number=side["train_number"], position=position, wagon_number=wagon,
                container_numbers=list(side.get("container_numbers") or []), scanned_at=side["scanned_at"],
                post_code=side["post_code"], device_id=side["device_id"], direction=side["direction"],
                scan_sha256=item.scan_sha256, sidecar_sha256=side_sha)
    audit.append(session, actor=actor, role=role, action="ingest", subject=scan_id,
                 details={"train_number": scan.train_number, "position": position, "wagon_number": wagon,
                          "container_numbers": scan.container_numbers, "scan_sha256": item.scan_sha256,
                          "sidecar_sha256": side_sha, "flags": [list(f) for f in flags]},
                 rows=[scan, *(Flag(scan_id=scan_id, kind=k, detail=d) for k, d in flags)])
    routed = route_for_scan(session, scan, actor=actor, role=role, trigger=f"ingest of {scan_id}")
    return IngestResult(scan_id, "added", flags, routed)


@dataclass
class ArchiveReport:
    added: int = 0
    unchanged: int = 0
    duplicates: int = 0
    flags: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)


def quarantine(session: Session, scan_id: str, source: str, reason: str, *, actor: str, role: str) -> bool:
    """Keep a refused scan with its reason (once per scan, source and reason); True when newly recorded."""
    scan_id, source = scan_id[:200], source[:400]
    if session.scalars(select(ScanQuarantine.id).where(ScanQuarantine.scan_id == scan_id,
                                                       ScanQuarantine.source == source,
                                                       ScanQuarantine.reason == reason)).first():
        return False
    audit.append(session, actor=actor, role=role, action="quarantine", subject=scan_id,
                 details={"source": source, "reason": reason},
                 rows=[ScanQuarantine(scan_id=scan_id, source=source, reason=reason)])
    return True


def ingest_archive(registry: Registry, root: str | Path, identification: str | Path | None = None, *,
                   actor: str = "cli", role: str = "operator", scan_ids: list[str] | None = None,
                   progress: bool = False) -> ArchiveReport:
    """Ingest every scan of an archive, one write transaction per scan (so concurrent ingests interleave).

    A scan that cannot be read or registered is quarantined with the reason (and listed in ``errors``); the
    rest are still ingested.

    Raises:
        ArchiveError: when ``root`` is not an archive, or the identification file cannot be read.
    """
    from contextlib import nullcontext

    from cargoscan.logs import progress as make_bar

    items, problems, rfid = read_archive(root, identification, scan_ids)
    place(items, rfid, known_scans(registry, {str(it.sidecar.get("train_number")) for it in items}))
    report = ArchiveReport()
    source = str(root)
    for scan_id, reason in problems:
        report.errors.append(f"{scan_id}: {reason}")
        if scan_id != RFID_TABLE:
            report.quarantined += registry.write(lambda s, a=scan_id, r=reason: quarantine(
                s, a, source, r, actor=actor, role=role)) or 0
    with make_bar(transient=True) if progress else nullcontext() as bar:
        task = bar.add_task("ingest", total=len(items)) if bar else None
        for it in items:
            try:
                res = registry.write(lambda s, it=it: ingest_one(s, it, actor=actor, role=role))
            except (ValueError, SQLAlchemyError) as exc:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:2000]
                scan_id = str(it.sidecar.get("scan_id"))[:200]
                report.errors.append(f"{scan_id}: {reason}")
                report.quarantined += registry.write(lambda s: quarantine(s, scan_id, source, reason, actor=actor,
                                                                          role=role)) or 0
                continue
            finally:
                if bar:
                    bar.advance(task)
            report.added += res.status == "added"
            report.unchanged += res.status == "unchanged"
            report.duplicates += res.status == "duplicate"
            report.flags += len(res.flags)
    return report
