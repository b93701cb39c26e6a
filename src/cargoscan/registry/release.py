"""Officer inspections and releases with the officer's identity (risk 3).

A release needs the green corridor. A red or held declaration gets there only through an officer's recorded
inspection («no violation»); every refused attempt is recorded in the audit trail as well.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cargoscan.registry import audit
from cargoscan.registry.db import Registry
from cargoscan.registry.auth import Identity
from cargoscan.registry.intake import control_problem
from cargoscan.registry.models import Declaration, OfficerInspection, Release
from cargoscan.registry.routing import GREEN, route

OUTCOMES = ("no_violation", "violation")


class ReleaseRefused(Exception):
    """A release (or an override) that the rules do not allow; the refusal is already in the audit trail."""


def _officer(ident: Identity) -> None:
    if ident.role != "officer" or not (ident.officer_id and ident.officer_name and ident.stamp):
        raise PermissionError("only an officer with ID, name and stamp can do this")


def record_officer_inspection(session: Session, pi_number: str, ident: Identity, outcome: str,
                              findings: str = "") -> str:
    """Record an officer's physical inspection of a declaration and re-route it.

    Returns:
        The new corridor.

    Raises:
        PermissionError: for anyone but an officer; LookupError for an unknown declaration;
        ValueError for an unknown outcome.
    """
    _officer(ident)
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
    problem = control_problem("findings", findings, free_text=True)
    if problem:
        raise ValueError(problem)
    decl = session.get(Declaration, pi_number)
    if decl is None:
        raise LookupError(f"declaration {pi_number} is not registered")
    audit.append(session, actor=ident.name, role=ident.role, action="officer_inspection", subject=pi_number,
                 details={"outcome": outcome, "findings": findings, "officer_id": ident.officer_id,
                          "officer_name": ident.officer_name, "stamp": ident.stamp, "corridor_before": decl.corridor},
                 rows=lambda seq: [OfficerInspection(pi_number=pi_number, outcome=outcome, findings=findings,
                                                     officer_id=ident.officer_id, officer_name=ident.officer_name,
                                                     officer_stamp=ident.stamp, audit_seq=seq)])
    return route(session, decl, actor=ident.name, role=ident.role, trigger="officer inspection").corridor


def release(session: Session, pi_number: str, ident: Identity, basis: str = "") -> Release:
    """Release a declaration in the officer's name.

    The corridor is recomputed first, so a result that arrived a moment ago counts.

    Raises:
        ReleaseRefused: when the declaration is red or held, or already released (the refusal is recorded;
            the caller must commit so that it stays recorded).
    """
    _officer(ident)
    problem = control_problem("basis", basis, free_text=True)
    if problem:
        raise ValueError(problem)
    decl = session.get(Declaration, pi_number)
    if decl is None:
        raise LookupError(f"declaration {pi_number} is not registered")
    who = {"officer_id": ident.officer_id, "officer_name": ident.officer_name, "stamp": ident.stamp}
    done = session.get(Release, pi_number)
    if done is not None:
        audit.append(session, actor=ident.name, role=ident.role, action="release_refused", subject=pi_number,
                     details={**who, "reason": f"already released by {done.officer_name} at {done.released_at}"})
        raise ReleaseRefused(f"{pi_number} was already released by {done.officer_name} ({done.officer_stamp})")
    corridor = route(session, decl, actor=ident.name, role=ident.role, trigger="release request")
    if corridor.corridor != GREEN:
        audit.append(session, actor=ident.name, role=ident.role, action="override_refused", subject=pi_number,
                     details={**who, "corridor": corridor.corridor, "reason": corridor.reason,
                              "basis": basis})
        raise ReleaseRefused(f"{pi_number} is in the {corridor.corridor} corridor ({corridor.reason}); record an "
                             f"officer inspection first")
    full_basis = corridor.reason + (f"; {basis}" if basis else "")
    rel = Release(pi_number=pi_number, officer_id=ident.officer_id, officer_name=ident.officer_name,
                  officer_stamp=ident.stamp, basis=full_basis)
    audit.append(session, actor=ident.name, role=ident.role, action="release", subject=pi_number,
                 details={**who, "basis": full_basis}, rows=[rel])
    return rel


def release_declaration(registry: Registry, pi_number: str, ident: Identity, basis: str = "") -> Release:
    """:func:`release` in its own write transaction, committing a refusal's audit entry before raising it."""

    def work(session: Session) -> Release | ReleaseRefused:
        try:
            return release(session, pi_number, ident, basis)
        except ReleaseRefused as exc:
            return exc

    out = registry.write(work)
    if isinstance(out, ReleaseRefused):
        raise out
    return out
