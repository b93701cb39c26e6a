"""The business tables under the audit chain: a digest of every row, linked from the entry that wrote it.

Each audit entry that inserts or changes a business row carries, in its details, ``rows: {"<table>:<key>":
<SHA-256 of the row>}`` with the row as it stands after the change. Replaying the chain gives, for every row
that should exist, its last recorded digest; :func:`check_tables` then reads the tables themselves and reports

* a row whose digest differs from the chain's (edited outside the registry),
* a row the chain recorded that is gone (deleted),
* a row the chain never recorded (inserted outside the registry, e.g. a forged release).

Since the entries are hash-chained and signed, rewriting a row *and* its digest needs the signing key.
The digest covers every column, read back through SQLAlchemy's types, so it is the same on SQLite and
PostgreSQL (JSON and floats round-trip through canonical JSON).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cargoscan.registry.models import (Declaration, DeclarationReject, Flag, Inspection, OfficerInspection, Release,
                                       Scan, ScanQuarantine)

#: The tables whose every row must be accounted for by the chain.
TRACKED: tuple[type, ...] = (Scan, Flag, Inspection, Declaration, DeclarationReject, OfficerInspection, Release,
                             ScanQuarantine)
TABLES: dict[str, Table] = {m.__tablename__: m.__table__ for m in TRACKED}

_canon = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
                          allow_nan=True).encode


def _normal(value: Any) -> Any:
    """A value as it will read back from either backend (JSON normalised; floats by repr)."""
    if isinstance(value, (dict, list, tuple)):
        return json.loads(_canon(value))
    if isinstance(value, float):
        return repr(value)
    return value


def digest(table: Table, values: dict[str, Any]) -> str:
    """SHA-256 of one row: canonical JSON of every column of ``table`` (by name) with its value."""
    body = {c.name: _normal(values.get(c.name)) for c in table.columns}
    return hashlib.sha256(_canon({"table": table.name, "row": body}).encode()).hexdigest()


def key(table: Table, values: dict[str, Any]) -> str:
    """``<table>:<primary key>`` of one row (a compound key joined by ``|``)."""
    return f"{table.name}:" + "|".join(str(values.get(c.name)) for c in table.primary_key.columns)


def _values(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def record(objects: Iterable[Any]) -> dict[str, str]:
    """``{key: digest}`` of flushed ORM objects of tracked tables, for an audit entry's details."""
    out = {}
    for obj in objects:
        table = obj.__table__
        if table.name not in TABLES:
            raise ValueError(f"{table.name} is not a tracked business table")
        values = _values(obj)
        out[key(table, values)] = digest(table, values)
    return out


def expected(entries: Iterable[tuple[int, str]]) -> dict[str, tuple[str, int]]:
    """``{key: (digest, seq)}``: the last recorded digest of every row and the entry that recorded it.

    Args:
        entries: ``(seq, details)`` of the chain's entries, in chain order.
    """
    out: dict[str, tuple[str, int]] = {}
    for seq, text in entries:
        if not isinstance(text, str) or '"rows":' not in text:  # canonical JSON: cheap test before parsing
            continue
        try:
            rows = json.loads(text).get("rows")
        except (ValueError, AttributeError):
            continue  # an edited entry: the chain check reports it
        if isinstance(rows, dict):
            out.update({str(k): (str(v), seq) for k, v in rows.items()})
    return out


def table_rows(session: Session) -> Iterator[tuple[str, str]]:
    """``(key, digest)`` of every row now stored in the tracked tables."""
    for table in TABLES.values():
        for row in session.execute(select(table), execution_options={"yield_per": 5_000}):
            values = dict(row._mapping)
            yield key(table, values), digest(table, values)


def check_tables(stored: Iterable[tuple[str, str]],
                 wanted: dict[str, tuple[str, int]]) -> list[tuple[int | None, str, str]]:
    """Problems as ``(seq, kind, message)``, where seq is the entry that recorded the row (None if none did).

    Kinds: ``row edited``, ``row deleted``, ``row unrecorded``.
    """
    problems: list[tuple[int | None, str, str]] = []
    seen = set()
    for k, d in stored:
        seen.add(k)
        want = wanted.get(k)
        if want is None:
            problems.append((None, "row unrecorded", f"{k} is in the table but no audit entry recorded it"))
        elif want[0] != d:
            problems.append((want[1], "row edited", f"{k} differs from the row recorded at seq {want[1]}"))
    for k in sorted(set(wanted) - seen):
        seq = wanted[k][1]
        problems.append((seq, "row deleted", f"{k}, recorded at seq {seq}, is missing from its table"))
    return problems
