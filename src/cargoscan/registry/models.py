"""The registry's tables (SQLAlchemy 2 ORM). The schema itself is created by the Alembic migration.

Times are stored as ISO 8601 text in UTC: the audit hash covers them, and text is the one form that
round-trips byte-for-byte through both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> str:
    """The current time as ISO 8601 text in UTC, microsecond precision."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Base(DeclarativeBase):
    pass


class Scan(Base):
    """One scan of one wagon; its row number ``id`` is the п/п of Table 1."""

    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(32), unique=True)
    train_number: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[int | None] = mapped_column(Integer)
    wagon_number: Mapped[str | None] = mapped_column(String(8))
    container_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    scanned_at: Mapped[str] = mapped_column(String(40))
    post_code: Mapped[str] = mapped_column(String(8))
    device_id: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(16))
    scan_sha256: Mapped[str | None] = mapped_column(String(64))
    sidecar_sha256: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[str] = mapped_column(String(40), default=utcnow)


class Flag(Base):
    """A conflict found at ingest, kept for a person to resolve (never resolved silently)."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("scan_id", "kind", "detail"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[str] = mapped_column(String(40), default=utcnow)


class Inspection(Base):
    """An inspection result (contract B) as the engine sent it; the latest per scan counts."""

    __tablename__ = "inspections"
    __table_args__ = (UniqueConstraint("scan_id", "document_sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(32), index=True)
    decision: Mapped[str] = mapped_column(String(80))
    suspicious: Mapped[bool] = mapped_column(Boolean)
    complete: Mapped[bool] = mapped_column(Boolean)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    document_sha256: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[str] = mapped_column(String(40), default=utcnow)


class Declaration(Base):
    """A consignment's preliminary information / transit declaration, with its current corridor and release."""

    __tablename__ = "declarations"
    pi_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    train_number: Mapped[str] = mapped_column(String(64), index=True)
    wagon_number: Mapped[str] = mapped_column(String(8))
    container_number: Mapped[str] = mapped_column(String(11), default="")
    hs_code: Mapped[str] = mapped_column(String(10))
    goods_description: Mapped[str] = mapped_column(Text)
    packages_count: Mapped[int] = mapped_column(Integer)
    packaging: Mapped[str] = mapped_column(String(200), default="")
    gross_weight_kg: Mapped[float] = mapped_column(Float)
    net_weight_kg: Mapped[float] = mapped_column(Float)
    consignor: Mapped[str] = mapped_column(Text, default="")
    consignee: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[str] = mapped_column(String(40), default=utcnow)
    corridor: Mapped[str] = mapped_column(String(8), default="held")
    corridor_reason: Mapped[str] = mapped_column(Text, default="")
    risk_areas: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    routed_at: Mapped[str | None] = mapped_column(String(40))


class DeclarationReject(Base):
    """An imported row that failed validation, kept whole with its reasons (nothing is dropped)."""

    __tablename__ = "declaration_rejects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(400))
    row_number: Mapped[int] = mapped_column(Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(String(40), default=utcnow)


class ScanQuarantine(Base):
    """A scan that ingest refused (unreadable, malformed, impossible values), kept with the reason."""

    __tablename__ = "scan_quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(400))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40), default=utcnow)


class OfficerInspection(Base):
    """A physical inspection recorded by an officer: the only way out of the red (or held) corridor."""

    __tablename__ = "officer_inspections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pi_number: Mapped[str] = mapped_column(ForeignKey("declarations.pi_number"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # "no_violation" | "violation"
    findings: Mapped[str] = mapped_column(Text, default="")
    officer_id: Mapped[str] = mapped_column(String(64))
    officer_name: Mapped[str] = mapped_column(String(200))
    officer_stamp: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[str] = mapped_column(String(40), default=utcnow)


class Release(Base):
    """Who released a declaration, when, and on what basis (one release per declaration)."""

    __tablename__ = "releases"
    pi_number: Mapped[str] = mapped_column(ForeignKey("declarations.pi_number"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(String(64))
    officer_name: Mapped[str] = mapped_column(String(200))
    officer_stamp: Mapped[str] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(Text)
    released_at: Mapped[str] = mapped_column(String(40), default=utcnow)


class AuditEntry(Base):
    """One link of the append-only hash chain (UPDATE and DELETE are refused by triggers)."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON text, hashed as is
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(100))  # Ed25519 over ``hash``, base64 (not hashed)


class AuditHead(Base):
    """The single checkpoint row: how many entries the chain has and the last hash (catches truncation).

    Writers lock this row first (``SELECT … FOR UPDATE``), which serialises appends on PostgreSQL.
    """

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[str] = mapped_column(String(40))


Index("ix_inspections_scan_seq", Inspection.scan_id, Inspection.audit_seq)
