"""Per-role bearer tokens, hashed at rest, and what each role may do.

The tokens file (YAML) holds only SHA-256 digests of the tokens: tokens are 256-bit random strings, so a
plain digest cannot be reversed, and a stolen file does not let anyone in. An officer's identity (ID, name,
personal numbered stamp) is stored with the digest of that officer's token; the API takes it from there and
never from a request body.

::

    tokens:
      - sha256: 5f1c…           # of the token handed to the officer
        role: officer
        name: officer-kz0042
        officer: {id: KZ0042, name: Сейтказиев А.Б., stamp: "№ 117"}
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

ROLES = ("operator", "officer", "auditor", "system")

#: Which roles may do what. Reads of the corridor are open to every role; everything else belongs to one or
#: two roles.
PERMISSIONS: dict[str, frozenset[str]] = {
    "ingest_scan": frozenset({"operator"}),
    "register_declaration": frozenset({"operator", "system"}),
    "record_inspection": frozenset({"system"}),
    "record_officer_inspection": frozenset({"officer"}),
    "release": frozenset({"officer"}),
    "read_corridor": frozenset(ROLES),
    "read_table1": frozenset({"operator", "officer", "auditor"}),
    "export_declarations": frozenset({"officer", "auditor"}),
    "verify_audit": frozenset({"auditor"}),
}


@dataclass(frozen=True)
class Identity:
    """Who is calling: a role, a label for the audit trail and, for officers, their personal data."""

    role: str
    name: str
    officer_id: str | None = None
    officer_name: str | None = None
    stamp: str | None = None

    def can(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Digests of the valid tokens and the identities behind them."""

    def __init__(self, entries: list[dict]):
        self._by_digest: dict[str, Identity] = {}
        for i, e in enumerate(entries):
            role, digest = e.get("role"), str(e.get("sha256", ""))
            if role not in ROLES:
                raise ValueError(f"token {i}: role {role!r} is not one of {ROLES}")
            if len(digest) != 64:
                raise ValueError(f"token {i}: sha256 must be a 64-character hex digest")
            officer = e.get("officer") or {}
            if role == "officer" and not all(officer.get(k) for k in ("id", "name", "stamp")):
                raise ValueError(f"token {i}: an officer token needs officer id, name and stamp")
            self._by_digest[digest] = Identity(role, str(e.get("name") or role), officer.get("id"),
                                               officer.get("name"), officer.get("stamp"))

    @classmethod
    def from_file(cls, path: str | Path) -> "TokenStore":
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: tokens file not found; create tokens with `cargoscan registry "
                                    f"add-token`")
        return cls((yaml.safe_load(path.read_text("utf-8")) or {}).get("tokens") or [])

    def authenticate(self, token: str) -> Identity | None:
        """The identity behind ``token``, or ``None``."""
        digest = hash_token(token)
        for known, ident in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return ident
        return None


def add_token(path: str | Path, role: str, name: str, officer_id: str | None = None,
              officer_name: str | None = None, stamp: str | None = None) -> str:
    """Create a token for ``role``, store its digest in the tokens file and return the token (shown once)."""
    path = Path(path)
    doc = (yaml.safe_load(path.read_text("utf-8")) or {}) if path.exists() else {}
    token = secrets.token_urlsafe(32)
    entry: dict = {"sha256": hash_token(token), "role": role, "name": name}
    if officer_id or officer_name or stamp:
        entry["officer"] = {"id": officer_id, "name": officer_name, "stamp": stamp}
    entries = list(doc.get("tokens") or []) + [entry]
    TokenStore(entries)  # validate before writing
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"tokens": entries}, allow_unicode=True, sort_keys=False), "utf-8")
    return token
