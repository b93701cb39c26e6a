"""Ingest of scans with their RFID events and camera-OCR identification records.

Each scan is linked to its train, wagon and containers, check digits are checked, and every disagreement is
stored as a flag (never resolved silently): RFID vs OCR, a missing or corrupt tag, a bad check digit, a
duplicate scan ID with different content. Ingest is idempotent: a scan already registered with the same
content adds nothing, not even an audit entry.

A scan's position in its train comes from its identification record when there is one, otherwise from its
rank by ``scanned_at`` among the train's scans in the archive (the portal scans wagons in train order).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoscan.archive import ArchiveError, ArchivePaths, read_sidecar, read_table
from cargoscan.archive.format import RFID_TABLE
from cargoscan.archive.validate import validation_errors
from cargoscan.ids import is_valid_container, is_valid_wagon
from cargoscan.registry import audit
from cargoscan.registry.db import Registry
from cargoscan.registry.models import Flag, Scan
from cargoscan.registry.routing import route_for_scan

log = logging.getLogger(__name__)


@dataclass
class ScanInput:
    """One scan to register.

    Attributes:
        sidecar: the scan's sidecar (schema ``sidecar``).
        scan_sha256: SHA-256 of the TIFF file, when the file is at hand.
        position: the wagon's position in the train, when known.
        rfid_tags: tag payloads read at that position; ``None`` when no RFID data came with the scan,
            an empty list when RFID data came but no tag was read there.
        identification: the OCR part's record for the scan (contract C), if any.
    """

    sidecar: dict[str, Any]
    scan_sha256: str | None = None
    position: int | None = None
    rfid_tags: list[str] | None = None
    identification: dict[str, Any] | None = None


@dataclass
class IngestResult:
    scan_id: str
    status: str  # "added" | "unchanged" | "duplicate"
    flags: list[tuple[str, str]] = field(default_factory=list)
    routed: list[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
    return wagon, sorted(set(flags))


def ingest_one(session: Session, item: ScanInput, *, actor: str, role: str) -> IngestResult:
    """Register one scan inside a write transaction (see ``Registry.write``)."""
    side = item.sidecar
    errors = validation_errors("sidecar", side)
    if errors:
        raise ValueError("sidecar does not fit its schema: " + "; ".join(errors[:5]))
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
        session.add(Flag(scan_id=scan_id, kind="duplicate_scan_id", detail=detail))
        audit.append(session, actor=actor, role=role, action="flag", subject=scan_id,
                     details={"kind": "duplicate_scan_id", "detail": detail})
        return IngestResult(scan_id, "duplicate", [("duplicate_scan_id", detail)])
    wagon, flags = find_flags(item)
    position = item.position
    if position is None and isinstance((item.identification or {}).get("position"), int):
        position = item.identification["position"]
    scan = Scan(scan_id=scan_id, train_number=side["train_number"], position=position, wagon_number=wagon,
                container_numbers=list(side.get("container_numbers") or []), scanned_at=side["scanned_at"],
                post_code=side["post_code"], device_id=side["device_id"], direction=side["direction"],
                scan_sha256=item.scan_sha256, sidecar_sha256=side_sha)
    session.add(scan)
    session.add_all(Flag(scan_id=scan_id, kind=k, detail=d) for k, d in flags)
    audit.append(session, actor=actor, role=role, action="ingest", subject=scan_id,
                 details={"train_number": scan.train_number, "position": position, "wagon_number": wagon,
                          "container_numbers": scan.container_numbers, "scan_sha256": item.scan_sha256,
                          "sidecar_sha256": side_sha, "flags": [list(f) for f in flags]})
    session.flush()
    routed = route_for_scan(session, scan, actor=actor, role=role, trigger=f"ingest of {scan_id}")
    return IngestResult(scan_id, "added", flags, routed)


def read_identifications(path: Path) -> dict[str, dict[str, Any]]:
    """Identification records (contract C, JSONL) keyed by scan ID; records without a scan ID are skipped."""
    out = {}
    for i, line in enumerate(Path(path).read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ArchiveError(path, f"line {i}: not JSON ({exc})") from exc
        if rec.get("scan_id"):
            out[rec["scan_id"]] = rec
    return out


@dataclass
class ArchiveReport:
    added: int = 0
    unchanged: int = 0
    duplicates: int = 0
    flags: int = 0
    errors: list[str] = field(default_factory=list)


def archive_inputs(root: str | Path, identification: str | Path | None = None,
                   scan_ids: list[str] | None = None) -> tuple[list[ScanInput], list[str]]:
    """Read an archive's sidecars, hash its TIFFs and attach RFID events and identification records.

    Returns:
        The scan inputs and the errors of entries that could not be read (each naming its file).
    """
    paths = ArchivePaths(Path(root))
    ids = scan_ids if scan_ids is not None else paths.scan_ids()
    idents = read_identifications(Path(identification)) if identification else {}
    rfid: dict[tuple[str, int], list[str]] | None = None
    if paths.table(RFID_TABLE).exists():
        rfid = defaultdict(list)
        for row in read_table(paths.table(RFID_TABLE)):
            rfid[(row["train_number"], int(row["position"]))].append(row["tag_payload"])
    items, errors = [], []
    for scan_id in ids:
        try:
            side = read_sidecar(paths.sidecar(scan_id))
            if side["scan_id"] != scan_id:
                raise ArchiveError(paths.sidecar(scan_id), f"scan_id {side['scan_id']!r} differs from the file name")
            items.append(ScanInput(side, sha256_file(paths.scan_tiff(scan_id)), identification=idents.get(scan_id)))
        except (ArchiveError, OSError) as exc:
            errors.append(str(exc))
    # Position: the identification record's, else the rank by scan time within the train.
    by_train: dict[str, list[ScanInput]] = defaultdict(list)
    for it in items:
        by_train[it.sidecar["train_number"]].append(it)
    for train, group in by_train.items():
        for rank, it in enumerate(sorted(group, key=lambda x: (x.sidecar["scanned_at"], x.sidecar["scan_id"])), 1):
            pos = (it.identification or {}).get("position")
            it.position = pos if isinstance(pos, int) else rank
            if rfid is not None:
                it.rfid_tags = list(rfid.get((train, it.position), []))
    return items, errors


def ingest_archive(registry: Registry, root: str | Path, identification: str | Path | None = None, *,
                   actor: str = "cli", role: str = "operator", scan_ids: list[str] | None = None,
                   progress: bool = False) -> ArchiveReport:
    """Ingest every scan of an archive, one write transaction per scan (so concurrent ingests interleave).

    Entries that cannot be read are reported in ``errors`` and the rest are still ingested.
    """
    items, errors = archive_inputs(root, identification, scan_ids)
    report = ArchiveReport(errors=errors)
    from contextlib import nullcontext

    from cargoscan.logs import progress as make_bar

    with make_bar(transient=True) if progress else nullcontext() as bar:
        task = bar.add_task("ingest", total=len(items)) if bar else None
        for it in items:
            try:
                res = registry.write(lambda s, it=it: ingest_one(s, it, actor=actor, role=role))
            except ValueError as exc:
                report.errors.append(f"{it.sidecar.get('scan_id')}: {exc}")
                continue
            finally:
                if bar:
                    bar.advance(task)
            report.added += res.status == "added"
            report.unchanged += res.status == "unchanged"
            report.duplicates += res.status == "duplicate"
            report.flags += len(res.flags)
    return report
