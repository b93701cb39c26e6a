"""Validation at the door: one check per kind of record, shared by the HTTP API, archive ingest and imports.

Nothing that the registry cannot store on both backends, or cannot export again, gets in:

* a sidecar must fit its archive JSON Schema *and* carry a real date (``2025-13-45`` fits the pattern but is
  no date: stored, it would break Table 1 for everyone), a ``train_number`` that fits the column (64 characters,
  which PostgreSQL enforces and SQLite does not) and no control characters;
* identifiers never contain control characters; free text may hold tabs and line breaks but no other control
  character (an ESC breaks every Excel export; PostgreSQL cannot store NUL at all).

Problems come back as a list of readable strings; callers raise ``ValueError`` (API: 422) or quarantine.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from cargoscan.archive.validate import validation_errors

#: Column widths of the registry's text columns that records fill (``models``).
MAX_TRAIN_NUMBER = 64
MAX_PI_NUMBER = 64

#: Any C0 control character, DEL, the C1 block, and lone surrogates (no UTF-8 form: PostgreSQL refuses them).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same, less tab, line feed and carriage return (allowed in free text).
CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: What neither XML 1.0 (hence XLSX) nor UTF-8 can carry: the above, plus U+FFFE and U+FFFF.
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_unwritable(text: str) -> str:
    """``text`` with every character that a file or database cannot hold written as its escape (``\\x1b``)."""
    return UNWRITABLE.sub(_escape, text)


def control_problem(name: str, value: Any, free_text: bool = False) -> str | None:
    """A message when a string holds a control character it must not (None otherwise)."""
    if not isinstance(value, str):
        return None
    m = (CONTROL_IN_TEXT if free_text else CONTROL).search(value)
    if m is None:
        return None
    return f"{name}: control character U+{ord(m.group()):04X} at position {m.start()}"


def strings(obj: Any, where: str = "") -> list[tuple[str, str]]:
    """Every string in a JSON-like value (keys included), with its path."""
    if isinstance(obj, str):
        return [(where or "(root)", obj)]
    out: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            path = f"{where}/{k}" if where else str(k)
            out.append((f"{path} (key)", str(k)))
            out.extend(strings(v, path))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.extend(strings(v, f"{where}/{i}"))
    return out


def json_problems(obj: Any, free_text: bool = True) -> list[str]:
    """Control characters anywhere in a JSON document (NUL always; others unless ``free_text``)."""
    out = []
    for where, value in strings(obj):
        problem = control_problem(where, value, free_text=free_text)
        if problem:
            out.append(problem)
    return out


def date_problem(name: str, value: Any) -> str | None:
    """A message when ``value`` is not an ISO 8601 date-time with a UTC offset."""
    if not isinstance(value, str):
        return f"{name}: not a string"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        return f"{name}: {value!r} is not a real date and time ({exc})"
    if parsed.tzinfo is None:
        return f"{name}: {value!r} has no UTC offset"
    return None


def sidecar_problems(side: Any) -> list[str]:
    """Why a sidecar cannot be registered (empty when it can)."""
    if not isinstance(side, dict):
        return [f"sidecar: a JSON object is needed, got {type(side).__name__}"]
    problems = validation_errors("sidecar", side)
    if "scanned_at" in side:
        problem = date_problem("scanned_at", side["scanned_at"])
        if problem:
            problems.append(problem)
    train = side.get("train_number")
    if isinstance(train, str) and len(train) > MAX_TRAIN_NUMBER:
        problems.append(f"train_number: {len(train)} characters, at most {MAX_TRAIN_NUMBER}")
    problems.extend(json_problems(side, free_text=False))
    return problems
