"""The append-only, hash-chained audit trail.

Each entry stores ``prev_hash`` and ``hash = SHA-256(prev_hash ‖ "\\n" ‖ canonical JSON of the record)``, where
the record is ``seq, at, actor, role, action, subject, details`` and ``details`` is itself canonical JSON text
(hashed as stored, so verifying needs no re-parsing). The chain starts from 64 zeros. The ``audit_head`` row
keeps the count and the last hash: deleting entries from the end (truncation) leaves the head pointing past
the chain. Against an administrator who rewrites the head too, Ed25519-signed checkpoints (``checkpoint.py``)
kept elsewhere anchor the chain.

Two more links close the gaps an administrator could otherwise use:

* **Signatures.** Each entry's hash is signed with the post's Ed25519 key (``checkpoint.sign_entry``; the key
  rides in ``session.info["audit_signer"]``, see ``db.Registry``). The signature is stored beside the entry,
  outside the hash. Verifying with the public key catches an entry appended, or a chain re-hashed, by someone
  without the key. Entries up to a matching signed checkpoint are authenticated by the checkpoint through the
  hash chain, so only the entries after it need their signatures checked (which keeps verifying fast).
* **Business rows.** An entry that writes a business row records the row's digest (``ledger``); verifying
  reads the tables and finds every row edited, deleted or inserted outside the registry.

:func:`verify_rows` works on plain tuples, so that it is fast (>= 50,000 rows/s) and can be tested on
in-memory copies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cargoscan.registry import ledger
from cargoscan.registry.checkpoint import sign_entry
from cargoscan.registry.models import AuditEntry, AuditHead, utcnow

GENESIS_HASH = "0" * 64

#: Column order of an audit row as :func:`verify_rows` reads it.
ROW_FIELDS = ("seq", "at", "actor", "role", "action", "subject", "details", "prev_hash", "hash", "signature")

#: Where a write session keeps the Ed25519 private key that signs its entries.
SIGNER = "audit_signer"

#: Actions the registry records.
ACTIONS = ("ingest", "flag", "inspection", "declaration", "declaration_rejected", "routing",
           "officer_inspection", "override_refused", "release", "release_refused", "export", "authz_refused",
           "quarantine", "baseline")

_encode_details = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode


def canonical_details(details: dict[str, Any] | None) -> str:
    """Canonical JSON text of an entry's details (sorted keys, no spaces, UTF-8 kept)."""
    return _encode_details(details or {})


_q = json.encoder.encode_basestring  # what the encoder above uses for strings (ensure_ascii=False)


def canonical_record(seq: int, at: str, actor: str, role: str, action: str, subject: str, details: str) -> str:
    """Canonical JSON of one record: keys sorted, no spaces, UTF-8 kept.

    Spelled out with the encoder's own string quoting, because the generic encoder is the verifier's
    bottleneck; for any other types (a tampered copy) it falls back to the encoder, with the same result.
    """
    if type(seq) is int and all(type(v) is str for v in (at, actor, role, action, subject, details)):
        return (f'{{"action":{_q(action)},"actor":{_q(actor)},"at":{_q(at)},"details":{_q(details)},'
                f'"role":{_q(role)},"seq":{seq},"subject":{_q(subject)}}}')
    return _encode_details({"action": action, "actor": actor, "at": at, "details": details, "role": role,
                            "seq": seq, "subject": subject})


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, role: str, action: str, subject: str,
               details: str) -> str:
    """SHA-256 over the previous hash, a newline and the canonical JSON of one record."""
    record = canonical_record(seq, at, actor, role, action, subject, details)
    return hashlib.sha256(f"{prev_hash}\n{record}".encode()).hexdigest()


def append(session: Session, *, actor: str, role: str, action: str, subject: str = "",
           details: dict[str, Any] | None = None,
           rows: Sequence[Any] | Callable[[int], Sequence[Any]] = ()) -> AuditEntry:
    """Append one entry inside the caller's write transaction (which holds the head lock, see ``db``).

    Args:
        rows: business rows (ORM objects of ``ledger.TRACKED``) this entry writes, as they stand after the
            change; or a function of the entry's seq that makes them (for rows that store the seq). They are
            added and flushed, and their digests go into the details under ``rows``.

    Returns:
        The new entry; its ``seq`` orders it against every other recorded action.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; known: {ACTIONS}")
    actor, subject = actor[:200], subject[:200]  # the columns' widths; details keep the whole value
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    seq, at = head.count + 1, utcnow()
    objects = list(rows(seq) if callable(rows) else rows)
    if objects:
        session.add_all(objects)
        session.flush()
        details = {**(details or {}), "rows": ledger.record(objects)}
    body = canonical_details(details)
    digest = entry_hash(head.last_hash, seq, at, actor, role, action, subject, body)
    signer = session.info.get(SIGNER)
    entry = AuditEntry(seq=seq, at=at, actor=actor, role=role, action=action, subject=subject, details=body,
                       prev_hash=head.last_hash, hash=digest,
                       signature=sign_entry(signer, digest) if signer is not None else None)
    session.add(entry)
    head.count, head.last_hash, head.updated_at = seq, digest, at
    session.flush()
    return entry


@dataclass
class Break:
    """One place where the chain does not hold."""

    seq: int | None
    kind: str  # edited | deleted | reordered | truncated | head | forged | row edited | row deleted | row unrecorded
    message: str


@dataclass
class VerifyResult:
    """Outcome of a verification: ``ok`` and, when not, every break found (first one first)."""

    rows: int
    head_count: int | None
    last_hash: str
    breaks: list[Break] = field(default_factory=list)
    signatures: str = "signatures not checked (no public key)"
    tables: str = "business tables not checked"

    @property
    def ok(self) -> bool:
        return not self.breaks

    def summary(self) -> str:
        if self.ok:
            return (f"audit trail intact: {self.rows} entries, last hash {self.last_hash}; {self.signatures}; "
                    f"{self.tables}")
        first = self.breaks[0]
        where = f"at seq {first.seq}" if first.seq is not None else "at the head"
        return f"audit trail BROKEN {where}: {first.message} ({len(self.breaks)} problem(s))"


def verify_rows(rows: Iterable[Sequence[Any]], head: tuple[int, str] | None = None,
                checkpoints: Iterable[tuple[int, str]] = (),
                signature_ok: Callable[[str, str | None], bool] | None = None) -> VerifyResult:
    """Verify a chain given as rows in stored order (``ROW_FIELDS`` order), against its head and checkpoints.

    Each row's hash is recomputed from its own fields and its predecessor's hash, so an edit breaks the edited
    row; a deleted row shows as a gap in ``seq``; rows out of order show as ``seq`` jumping back (and the
    gap they left is then reported as a reordering, not a deletion).

    Args:
        rows: the stored entries, in ``seq`` order as read from the table.
        head: ``(count, last_hash)`` from ``audit_head``; a chain shorter than the head was truncated.
        checkpoints: ``(count, hash)`` pairs from signed checkpoints; each must match entry ``count``.
        signature_ok: ``(hash, signature) -> bool`` (``checkpoint.entry_verifier``); when given, every entry
            after the newest checkpoint must carry a valid signature of its stored hash.
    """
    sha256, canon = hashlib.sha256, canonical_record
    checkpoints = list(checkpoints)
    wanted = {c for c, _ in checkpoints}
    anchored = max(wanted, default=0)  # entries up to here are authenticated by a signed checkpoint
    to_check: list[tuple[int, str, str | None]] = []
    breaks: list[Break] = []
    gaps: list[tuple[Break, int, int]] = []  # (break, first missing, last missing)
    late: set[int] = set()  # seqs met after a later one: evidence of reordering
    hash_at: dict[int, str] = {}
    prev, prev_seq, n = GENESIS_HASH, 0, 0
    for seq, at, actor, role, action, subject, details, prev_hash, digest, signature in rows:
        n += 1
        if signature_ok is not None and (type(seq) is not int or seq > anchored):
            to_check.append((seq, digest, signature))
        if seq != prev_seq + 1:
            if seq > prev_seq + 1:
                b = Break(prev_seq + 1, "deleted", f"expected seq {prev_seq + 1}, found {seq}: "
                                                   f"entries {prev_seq + 1}..{seq - 1} missing")
                gaps.append((b, prev_seq + 1, seq - 1))
            else:
                b = Break(seq, "reordered", f"seq {seq} comes after seq {prev_seq}: the order was changed")
                late.add(seq)
            breaks.append(b)
        elif prev_hash != prev:
            breaks.append(Break(seq, "edited", f"prev_hash does not match the stored hash of seq {prev_seq}: "
                                               f"one of the two entries was rewritten"))
        record = canon(seq, at, actor, role, action, subject, details)
        if sha256(f"{prev_hash}\n{record}".encode()).hexdigest() != digest:
            breaks.append(Break(seq, "edited", "the stored hash does not match the record: the entry was edited"))
        if seq in wanted:
            hash_at[seq] = digest
        prev, prev_seq = digest, seq
    for b, lo, hi in gaps:
        if any(lo <= s <= hi for s in late):
            b.kind, b.message = "reordered", b.message.replace("missing", "moved elsewhere")
    if head is not None:
        count, last = head
        if prev_seq < count:
            breaks.append(Break(prev_seq + 1, "truncated", f"the head records {count} entries but the trail "
                                                           f"ends at seq {prev_seq}: entries {prev_seq + 1}..{count} "
                                                           f"were removed"))
        elif n != count or last != prev:
            breaks.append(Break(None, "head", f"the head (count {count}, hash {last[:12]}…) does not match the "
                                              f"trail ({n} entries, last hash {prev[:12]}…)"))
    for count, h in checkpoints:
        if count > n:
            breaks.append(Break(count, "truncated", f"a signed checkpoint covers seq {count} but the trail ends "
                                                    f"at {n}"))
        elif hash_at.get(count) != h:
            breaks.append(Break(count, "edited", f"entry {count} differs from the signed checkpoint"))
    note = "signatures not checked (no public key)"
    if signature_ok is not None:
        for seq, digest, signature in to_check:
            if not signature_ok(digest, signature):
                what = "has no signature" if not signature else "has a signature that does not verify"
                breaks.append(Break(seq, "forged", f"entry {seq} {what}: written without the post's key"))
        note = (f"signatures valid for the {len(to_check)} entries after checkpoint {anchored}" if anchored else
                f"signatures valid for all {len(to_check)} entries")
    return VerifyResult(rows=n, head_count=head[0] if head else None, last_hash=prev, breaks=breaks,
                        signatures=note)


def read_head(session: Session) -> tuple[int, str]:
    """``(count, last_hash)`` of the audit head."""
    head = session.get(AuditHead, 1)
    if head is None:
        return 0, GENESIS_HASH  # deleted by someone who dropped the trigger; verify reports the mismatch
    return head.count, head.last_hash


def verify_session(session: Session, checkpoints: Iterable[tuple[int, str]] = (),
                   signature_ok: Callable[[str, str | None], bool] | None = None,
                   tables: bool = True) -> VerifyResult:
    """Verify the audit trail stored in the database, streaming rows in ``seq`` order, and the business tables.

    The head, the rows and the tables are read in one snapshot (a repeatable-read transaction on PostgreSQL,
    the immediate transaction on SQLite), so appends running meanwhile do not look like tampering. Pass a
    fresh session: on PostgreSQL the snapshot can only be chosen before the session's first query.

    Args:
        checkpoints: ``(count, hash)`` of signed checkpoints (``checkpoint.load``).
        signature_ok: the entry-signature check (``checkpoint.entry_verifier``); None skips signatures.
        tables: also check every business row against the digests the chain recorded (``ledger``).
    """
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = session.get(AuditHead, 1)
    head_t = (head.count, head.last_hash) if head is not None else (0, GENESIS_HASH)
    cols = ", ".join(ROW_FIELDS)
    result = session.execute(text(f"SELECT {cols} FROM audit_log ORDER BY seq"),
                             execution_options={"yield_per": 10_000})
    recorded: list[tuple[int, str]] = []  # (seq, details) of entries that wrote business rows

    def stream():
        for r in result:  # rows unpack as tuples do
            d = r[6]
            if type(d) is str and '"rows":' in d:
                recorded.append((r[0], d))
            yield r

    out = verify_rows(stream(), head_t, checkpoints, signature_ok)
    if head is None:
        out.breaks.append(Break(None, "head", "the audit head row is missing"))
    if tables:
        problems = ledger.check_tables(ledger.table_rows(session), ledger.expected(recorded))
        out.breaks.extend(Break(seq, kind, msg) for seq, kind, msg in problems)
        out.tables = f"business tables match the trail ({', '.join(ledger.TABLES)})"
    return out
