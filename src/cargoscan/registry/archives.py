"""Reading an archive for ingest: sidecars, image hashes, RFID events, identification records, positions.

A scan's position in its train comes from its identification record when there is one, otherwise from its
rank by ``scanned_at`` among the train's scans: those of the archive *and* those already registered, so that
archives that overlap, or split a train, do not number each part from 1 (which would compare every wagon
with another wagon's RFID tag).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cargoscan.archive import ArchiveError, ArchivePaths, read_sidecar, read_table
from cargoscan.archive.format import RFID_TABLE
from cargoscan.models.artifact import sha256_file
from cargoscan.registry.db import Registry
from cargoscan.registry.models import Scan


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
        rfid_unreadable: the archive had RFID data that could not be read (flagged: no tag was compared).
    """

    sidecar: dict[str, Any]
    scan_sha256: str | None = None
    position: int | None = None
    rfid_tags: list[str] | None = None
    identification: dict[str, Any] | None = None
    rfid_unreadable: bool = False


def read_identifications(path: Path) -> dict[str, dict[str, Any]]:
    """Identification records (contract C, JSONL) keyed by scan ID; records without a scan ID are skipped.

    Raises:
        ArchiveError: naming the file and line for a line that is not a JSON object, or an unreadable file.
    """
    out = {}
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArchiveError(path, f"cannot read identification records ({exc})") from exc
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ArchiveError(path, f"line {i}: not JSON ({exc})") from exc
        if not isinstance(rec, dict):
            raise ArchiveError(path, f"line {i}: an identification record is a JSON object")
        if isinstance(rec.get("scan_id"), str) and rec["scan_id"]:
            out[rec["scan_id"]] = rec
    return out


def _when(value: Any) -> tuple[int, float, str]:
    """A sort key for ``scanned_at`` that compares instants (offsets differ) and never raises."""
    try:
        return 0, datetime.fromisoformat(value).timestamp(), ""
    except (TypeError, ValueError, OverflowError):
        return 1, 0.0, str(value)  # quarantined at registration anyway


def rank_positions(items: list[ScanInput], known: dict[str, Iterable[tuple[str, str]]] | None = None) -> None:
    """Set each item's position: its identification record's, else its rank by scan time in its train.

    Args:
        items: the archive's scans.
        known: train → ``(scanned_at, scan_id)`` of scans already registered, ranked together with the
            archive's (a scan in both counts once).
    """
    by_train: dict[str, dict[str, str]] = defaultdict(dict)
    for train, scans in (known or {}).items():
        by_train[train].update({scan_id: when for when, scan_id in scans})
    for it in items:
        by_train[str(it.sidecar.get("train_number"))][str(it.sidecar.get("scan_id"))] = it.sidecar.get("scanned_at")
    rank = {train: {sid: n for n, (sid, _) in enumerate(sorted(scans.items(), key=lambda x: (_when(x[1]), x[0])), 1)}
            for train, scans in by_train.items()}
    for it in items:
        pos = (it.identification or {}).get("position")
        it.position = pos if isinstance(pos, int) else rank[str(it.sidecar.get("train_number"))][
            str(it.sidecar.get("scan_id"))]


def read_archive(root: str | Path, identification: str | Path | None = None, scan_ids: list[str] | None = None
                 ) -> tuple[list[ScanInput], list[tuple[str, str]], dict[tuple[str, int], list[str]] | None]:
    """Read an archive's sidecars and hash its TIFFs (positions not yet set).

    Returns:
        The scan inputs; ``(scan ID or file, reason)`` of the entries that could not be read; the RFID tags
        by (train, position), None when the archive has no readable ``rfid.csv``.

    Raises:
        ArchiveError: when ``root`` is not an archive (no such folder, or no ``scans/`` in it), or the
            identification file cannot be read.
    """
    paths = ArchivePaths(Path(root))
    if not paths.root.is_dir():
        raise ArchiveError(paths.root, "no such archive folder")
    if not paths.scans.is_dir():
        raise ArchiveError(paths.root, "not an archive: it has no scans/ folder")
    ids = scan_ids if scan_ids is not None else paths.scan_ids()
    idents = read_identifications(Path(identification)) if identification else {}
    problems: list[tuple[str, str]] = []
    rfid: dict[tuple[str, int], list[str]] | None = None
    if paths.table(RFID_TABLE).exists():
        try:
            rfid = defaultdict(list)
            for row in read_table(paths.table(RFID_TABLE)):
                rfid[(row["train_number"], int(row["position"]))].append(row["tag_payload"])
        except (ArchiveError, OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
            rfid = None
            problems.append((RFID_TABLE, f"RFID table unreadable, scans registered without it: {exc}"))
    items = []
    for scan_id in ids:
        try:
            side = read_sidecar(paths.sidecar(scan_id))
            if side["scan_id"] != scan_id:
                raise ArchiveError(paths.sidecar(scan_id), f"scan_id {side['scan_id']!r} differs from the file name")
            items.append(ScanInput(side, sha256_file(paths.scan_tiff(scan_id)), identification=idents.get(scan_id),
                                   rfid_unreadable=rfid is None and paths.table(RFID_TABLE).exists()))
        except (ArchiveError, OSError, RecursionError, UnicodeDecodeError) as exc:
            problems.append((scan_id, str(exc)))
    return items, problems, rfid


def place(items: list[ScanInput], rfid: dict[tuple[str, int], list[str]] | None,
          known: dict[str, Iterable[tuple[str, str]]] | None = None) -> None:
    """Rank positions (:func:`rank_positions`) and attach the RFID tags read at each position."""
    rank_positions(items, known)
    if rfid is not None:
        for it in items:
            it.rfid_tags = list(rfid.get((it.sidecar["train_number"], it.position), []))


def archive_inputs(root: str | Path, identification: str | Path | None = None, scan_ids: list[str] | None = None,
                   known: dict[str, Iterable[tuple[str, str]]] | None = None
                   ) -> tuple[list[ScanInput], list[str]]:
    """:func:`read_archive` and :func:`place`: the scan inputs and the errors of unreadable entries."""
    items, problems, rfid = read_archive(root, identification, scan_ids)
    place(items, rfid, known)
    return items, [f"{sid}: {why}" for sid, why in problems]


def known_scans(registry: Registry, trains: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """``(scanned_at, scan_id)`` of the registered scans of ``trains``."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    trains = sorted(set(trains))
    with registry.read() as s:
        for i in range(0, len(trains), 500):
            for train, when, sid in s.execute(select(Scan.train_number, Scan.scanned_at, Scan.scan_id)
                                              .where(Scan.train_number.in_(trains[i:i + 500]))):
                out[train].append((when, sid))
    return out
