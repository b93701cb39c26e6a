"""Corridor routing (risk 2): red, held or green, computed whenever a declaration or an inspection arrives.

| linked scans                          | corridor                                                   |
| ------------------------------------- | ---------------------------------------------------------- |
| any scan «под подозрением»            | red, with the recommendation to inspect and the risk areas |
| every scan «без подозрения»           | green (the scans do not hold the declaration back)         |
| a missing or failed analysis, no scan | held, never green                                          |

Only an officer's recorded inspection, newer than every linked scan's latest result, moves a red or held
declaration on: «no violation» makes it green, «violation» keeps it red.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoscan.registry import audit
from cargoscan.registry.models import Declaration, Inspection, OfficerInspection, Scan, utcnow

RED, HELD, GREEN = "red", "held", "green"
SUSPICIOUS = "Контроль ИДК, под подозрением"
NOT_SUSPICIOUS = "Контроль ИДК, без подозрения"
DECISIONS = (SUSPICIOUS, NOT_SUSPICIOUS)


@dataclass(frozen=True)
class ScanResult:
    """What routing needs of a scan's latest inspection (``None`` in the map means no inspection yet)."""

    suspicious: bool
    complete: bool
    reasons: tuple[str, ...] = ()
    risk_areas: tuple[dict[str, Any], ...] = ()
    seq: int = 0


@dataclass(frozen=True)
class OfficerResult:
    """An officer's recorded inspection of the declaration."""

    outcome: str  # "no_violation" | "violation"
    officer: str
    seq: int


@dataclass
class Corridor:
    corridor: str
    reason: str
    risk_areas: list[dict[str, Any]] = field(default_factory=list)


def decide(results: dict[str, ScanResult | None], officer: OfficerResult | None = None) -> Corridor:
    """The corridor of a declaration from its linked scans' latest results and the officer's inspection.

    Args:
        results: scan ID → latest inspection result, ``None`` where none arrived.
        officer: the latest officer inspection of the declaration, if any.
    """
    red, held, areas = [], [], []
    if not results:
        held.append("no scan is linked to the declaration")
    for scan_id, r in sorted(results.items()):
        if r is None:
            held.append(f"{scan_id}: no inspection result yet")
        elif not r.complete:
            held.append(f"{scan_id}: analysis failed ({', '.join(r.reasons) or 'incomplete'})")
        elif r.suspicious:
            red.append(f"{scan_id}: «под подозрением» ({', '.join(r.reasons) or 'no reason given'})")
            areas.extend({**a, "scan_id": scan_id} for a in r.risk_areas)
    if red:
        base = Corridor(RED, "physical inspection recommended (рекомендуется досмотр): " + "; ".join(red), areas)
    elif held:
        base = Corridor(HELD, "held: " + "; ".join(held))
    else:
        return Corridor(GREEN, "every linked scan «без подозрения»")
    newest = max((r.seq for r in results.values() if r is not None), default=0)
    if officer is not None and officer.seq > newest:
        if officer.outcome == "no_violation":
            return Corridor(GREEN, f"cleared by officer inspection ({officer.officer}); was {base.corridor}: "
                                   f"{base.reason}", base.risk_areas)
        return Corridor(RED, f"violation found by officer inspection ({officer.officer})", base.risk_areas)
    return base


def linked_scans(session: Session, decl: Declaration) -> list[Scan]:
    """Scans of the declaration's train whose wagon or container matches it."""
    scans = session.scalars(select(Scan).where(Scan.train_number == decl.train_number)).all()
    return [s for s in scans if (decl.wagon_number and s.wagon_number == decl.wagon_number)
            or (decl.container_number and decl.container_number in (s.container_numbers or []))]


def latest_result(session: Session, scan_id: str) -> ScanResult | None:
    """The latest (highest audit sequence) inspection of a scan."""
    ins = session.scalars(select(Inspection).where(Inspection.scan_id == scan_id)
                          .order_by(Inspection.audit_seq.desc()).limit(1)).first()
    if ins is None:
        return None
    doc = ins.document
    return ScanResult(suspicious=ins.suspicious or not ins.complete, complete=ins.complete,
                      reasons=tuple(str(r.get("code", "")) for r in doc.get("reasons") or [] if isinstance(r, dict)),
                      risk_areas=tuple(a for a in doc.get("risk_areas") or [] if isinstance(a, dict)),
                      seq=ins.audit_seq)


def latest_officer(session: Session, pi_number: str) -> OfficerResult | None:
    oi = session.scalars(select(OfficerInspection).where(OfficerInspection.pi_number == pi_number)
                         .order_by(OfficerInspection.audit_seq.desc()).limit(1)).first()
    if oi is None:
        return None
    return OfficerResult(oi.outcome, f"{oi.officer_name}, ID {oi.officer_id}, stamp {oi.officer_stamp}", oi.audit_seq)


def route(session: Session, decl: Declaration, *, actor: str, role: str, trigger: str) -> Corridor:
    """Recompute and store a declaration's corridor, recording the routing in the audit trail."""
    scans = linked_scans(session, decl)
    corridor = decide({s.scan_id: latest_result(session, s.scan_id) for s in scans},
                      latest_officer(session, decl.pi_number))
    previous = decl.corridor
    decl.corridor, decl.corridor_reason, decl.risk_areas = corridor.corridor, corridor.reason, corridor.risk_areas
    decl.routed_at = utcnow()
    audit.append(session, actor=actor, role=role, action="routing", subject=decl.pi_number,
                 details={"corridor": corridor.corridor, "previous": previous, "reason": corridor.reason,
                          "trigger": trigger, "scans": [s.scan_id for s in scans]})
    return corridor


def route_for_scan(session: Session, scan: Scan, *, actor: str, role: str, trigger: str) -> list[str]:
    """Re-route every declaration linked to ``scan``; returns their PI numbers."""
    decls = session.scalars(select(Declaration).where(Declaration.train_number == scan.train_number)).all()
    hits = [d for d in decls if (d.wagon_number and d.wagon_number == scan.wagon_number)
            or (d.container_number and d.container_number in (scan.container_numbers or []))]
    for d in hits:
        route(session, d, actor=actor, role=role, trigger=trigger)
    return [d.pi_number for d in hits]


def check_inspection(doc: dict[str, Any]) -> None:
    """Refuse an inspection document that does not carry what routing needs (contract B)."""
    if not isinstance(doc, dict):
        raise ValueError("an inspection result is a JSON object")
    for key, kind in (("scan_id", str), ("decision", str), ("suspicious", bool), ("complete", bool)):
        if not isinstance(doc.get(key), kind):
            raise ValueError(f"inspection result: {key!r} missing or not a {kind.__name__}")
    if doc["decision"] not in DECISIONS:
        raise ValueError(f"inspection result: decision {doc['decision']!r} is not one of {list(DECISIONS)}")


def record_inspection(session: Session, doc: dict[str, Any], *, actor: str, role: str) -> tuple[bool, list[str]]:
    """Store an inspection result of a registered scan and re-route its declarations.

    A result with ``complete: false`` counts as suspicious and holds the declaration (fail closed).

    Returns:
        ``(added, routed PI numbers)``; ``added`` is False when the same document was already recorded.

    Raises:
        ValueError: for a malformed document; LookupError when the scan is not registered.
    """
    check_inspection(doc)
    scan = session.scalars(select(Scan).where(Scan.scan_id == doc["scan_id"])).first()
    if scan is None:
        raise LookupError(f"scan {doc['scan_id']} is not registered; ingest it first")
    digest = hashlib.sha256(audit.canonical_details(doc).encode()).hexdigest()
    if session.scalars(select(Inspection.id).where(Inspection.scan_id == scan.scan_id,
                                                  Inspection.document_sha256 == digest)).first():
        return False, []
    complete = bool(doc["complete"])
    suspicious = bool(doc["suspicious"]) or doc["decision"] == SUSPICIOUS or not complete
    entry = audit.append(session, actor=actor, role=role, action="inspection", subject=scan.scan_id,
                         details={"decision": doc["decision"], "suspicious": suspicious, "complete": complete,
                                  "document_sha256": digest})
    session.add(Inspection(scan_id=scan.scan_id, decision=doc["decision"], suspicious=suspicious,
                           complete=complete, document=json.loads(audit.canonical_details(doc)),
                           document_sha256=digest, audit_seq=entry.seq))
    session.flush()
    return True, route_for_scan(session, scan, actor=actor, role=role, trigger=f"inspection of {scan.scan_id}")
