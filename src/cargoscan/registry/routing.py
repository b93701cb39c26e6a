"""Corridor routing (risk 2): red, held or green, computed whenever a declaration or an inspection arrives.

| linked scans                                         | corridor                                           |
| ---------------------------------------------------- | -------------------------------------------------- |
| any scan ever «под подозрением» (since the officer)  | red, with the recommendation to inspect and areas  |
| every scan «без подозрения», with its provenance     | green (the scans do not hold the declaration back) |
| a missing, failed or unproven analysis, no scan      | held, never green                                  |

A result clears a scan only with its provenance: the SHA-256 of the very scan that was registered and the
hash of the model that read it; without them it holds the declaration. Suspicion is sticky: a later
«без подозрения» never overrides an earlier «под подозрением» for the same scan, whoever sends it. Only an
officer's recorded inspection, newer than the results it covers, moves a red or held declaration on:
«no violation» makes it green (until a new suspicious or failed result arrives), «violation» keeps it red.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cargoscan.registry import audit
from cargoscan.registry.intake import json_problems
from cargoscan.registry.models import Declaration, Inspection, OfficerInspection, Scan, utcnow

RED, HELD, GREEN = "red", "held", "green"
SUSPICIOUS = "Контроль ИДК, под подозрением"
NOT_SUSPICIOUS = "Контроль ИДК, без подозрения"
DECISIONS = (SUSPICIOUS, NOT_SUSPICIOUS)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


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


def _history(results: ScanResult | Sequence[ScanResult] | None) -> list[ScanResult]:
    if results is None:
        return []
    if isinstance(results, ScanResult):
        return [results]
    return sorted(results, key=lambda r: r.seq)


def _classify(results: dict[str, Any], cleared: int) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Red and held reasons and risk areas, counting only results newer than an officer's clearance."""
    red, held, areas = [], [], []
    if not results and not cleared:
        held.append("no scan is linked to the declaration")
    for scan_id, value in sorted(results.items()):
        history = _history(value)
        for r in history:
            if r.seq > cleared and r.complete and r.suspicious:
                red.append(f"{scan_id}: «под подозрением» ({', '.join(r.reasons) or 'no reason given'})")
                areas.extend({**a, "scan_id": scan_id} for a in r.risk_areas)
        last = history[-1] if history else None
        if last is None:
            if not cleared:
                held.append(f"{scan_id}: no inspection result yet")
        elif last.seq > cleared and not last.complete:
            held.append(f"{scan_id}: analysis failed or unproven ({', '.join(last.reasons) or 'incomplete'})")
    return red, held, areas


def decide(results: dict[str, ScanResult | Sequence[ScanResult] | None],
           officer: OfficerResult | None = None) -> Corridor:
    """The corridor of a declaration from its linked scans' results and the officer's latest inspection.

    Args:
        results: scan ID → its inspection results (one, or every one in any order), ``None`` where none arrived.
        officer: the latest officer inspection of the declaration, if any.
    """
    red, held, areas = _classify(results, 0)
    if red:
        base = Corridor(RED, "physical inspection recommended (рекомендуется досмотр): " + "; ".join(red), areas)
    elif held:
        base = Corridor(HELD, "held: " + "; ".join(held))
    else:
        base = Corridor(GREEN, "every linked scan «без подозрения»")
    if officer is None:
        return base
    if officer.outcome != "no_violation":
        return Corridor(RED, f"violation found by officer inspection ({officer.officer})", base.risk_areas)
    red, held, areas = _classify(results, officer.seq)
    if red:
        return Corridor(RED, "physical inspection recommended (рекомендуется досмотр) after the officer's "
                             "inspection: " + "; ".join(red), areas)
    if held:
        return Corridor(HELD, "held after the officer's inspection: " + "; ".join(held))
    if base.corridor == GREEN:
        return base
    return Corridor(GREEN, f"cleared by officer inspection ({officer.officer}); was {base.corridor}: {base.reason}",
                    base.risk_areas)


def linked_scans(session: Session, decl: Declaration) -> list[Scan]:
    """Scans of the declaration's train whose wagon or container matches it."""
    scans = session.scalars(select(Scan).where(Scan.train_number == decl.train_number)).all()
    return [s for s in scans if (decl.wagon_number and s.wagon_number == decl.wagon_number)
            or (decl.container_number and decl.container_number in (s.container_numbers or []))]


def provenance_problem(doc: dict[str, Any], scan: Scan) -> str | None:
    """Why a «без подозрения» result cannot clear ``scan`` (None when its provenance binds it to the scan)."""
    prov = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
    model = prov.get("model") if isinstance(prov.get("model"), dict) else {}
    scan_sha, model_sha = prov.get("scan_sha256"), model.get("sha256")
    if not (isinstance(model_sha, str) and SHA256.match(model_sha)):
        return "PROVENANCE_MISSING: no model hash"
    if not (isinstance(scan_sha, str) and SHA256.match(scan_sha)):
        return "PROVENANCE_MISSING: no scan SHA-256"
    if scan.scan_sha256 is None:
        return "PROVENANCE_UNVERIFIABLE: the registered scan has no SHA-256"
    if scan_sha != scan.scan_sha256:
        return "PROVENANCE_MISMATCH: the result is of another image than the registered scan"
    return None


def results_of(session: Session, scan: Scan) -> list[ScanResult]:
    """Every inspection result of a scan in audit order; a clear result without provenance counts as failed."""
    out = []
    for ins in session.scalars(select(Inspection).where(Inspection.scan_id == scan.scan_id)
                               .order_by(Inspection.audit_seq)):
        doc = ins.document if isinstance(ins.document, dict) else {}
        reasons = tuple(str(r.get("code", "")) for r in doc.get("reasons") or [] if isinstance(r, dict))
        complete, suspicious = ins.complete, ins.suspicious or not ins.complete
        if complete and not suspicious:
            problem = provenance_problem(doc, scan)
            if problem is not None:
                complete, reasons = False, (*reasons, problem)
        out.append(ScanResult(suspicious=suspicious, complete=complete, reasons=reasons,
                              risk_areas=tuple(a for a in doc.get("risk_areas") or [] if isinstance(a, dict)),
                              seq=ins.audit_seq))
    return out


def latest_officer(session: Session, pi_number: str) -> OfficerResult | None:
    oi = session.scalars(select(OfficerInspection).where(OfficerInspection.pi_number == pi_number)
                         .order_by(OfficerInspection.audit_seq.desc()).limit(1)).first()
    if oi is None:
        return None
    return OfficerResult(oi.outcome, f"{oi.officer_name}, ID {oi.officer_id}, stamp {oi.officer_stamp}", oi.audit_seq)


def route(session: Session, decl: Declaration, *, actor: str, role: str, trigger: str) -> Corridor:
    """Recompute and store a declaration's corridor, recording the routing in the audit trail."""
    scans = linked_scans(session, decl)
    corridor = decide({s.scan_id: results_of(session, s) for s in scans}, latest_officer(session, decl.pi_number))
    previous = decl.corridor
    decl.corridor, decl.corridor_reason, decl.risk_areas = corridor.corridor, corridor.reason, corridor.risk_areas
    decl.routed_at = utcnow()
    audit.append(session, actor=actor, role=role, action="routing", subject=decl.pi_number,
                 details={"corridor": corridor.corridor, "previous": previous, "reason": corridor.reason,
                          "trigger": trigger, "scans": [s.scan_id for s in scans]}, rows=[decl])
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
    if len(doc["scan_id"]) > 32:
        raise ValueError("inspection result: scan_id longer than 32 characters")
    try:
        json.dumps(doc, allow_nan=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"inspection result: not plain JSON ({exc})") from exc
    problems = json_problems(doc, free_text=True)
    if problems:
        raise ValueError("inspection result: " + "; ".join(problems[:5]))


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
    audit.append(session, actor=actor, role=role, action="inspection", subject=scan.scan_id,
                 details={"decision": doc["decision"], "suspicious": suspicious, "complete": complete,
                          "document_sha256": digest},
                 rows=lambda seq: [Inspection(scan_id=scan.scan_id, decision=doc["decision"], suspicious=suspicious,
                                              complete=complete, document=json.loads(audit.canonical_details(doc)),
                                              document_sha256=digest, audit_seq=seq)])
    return True, route_for_scan(session, scan, actor=actor, role=role, trigger=f"inspection of {scan.scan_id}")
