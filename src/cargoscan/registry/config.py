"""Parameters of the registry (the ``registry:`` section of ``params.yaml``) and their environment overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from cargoscan.config import DEFAULT_PARAMS, from_dict, load_params

DEFAULT_DB_URL = "sqlite:///data/registry.db"
DEFAULT_TOKENS_FILE = "data/registry_tokens.yaml"


@dataclass(frozen=True)
class RegistryParams:
    """Where the registry keeps its database and tokens, and how hard it tries under contention.

    Attributes:
        db_url: SQLAlchemy URL; ``CARGOSCAN_DB_URL`` overrides it.
        tokens_file: YAML file of hashed bearer tokens; ``CARGOSCAN_TOKENS_FILE`` overrides it.
        busy_timeout_s: how long SQLite waits for a lock before reporting "database is locked".
        write_retries: how often a write transaction is retried after a lock timeout or serialisation failure.
        signing_key: PEM file of the Ed25519 private key that signs every audit entry (and the checkpoints);
            ``CARGOSCAN_AUDIT_KEY`` overrides it. Empty: entries are written unsigned.
        public_key: PEM file of its public key, which ``audit verify`` checks signatures with;
            ``CARGOSCAN_AUDIT_PUBLIC_KEY`` overrides it.
        max_body_bytes: the largest HTTP request body the API reads; larger ones get 413 unread.
    """

    db_url: str = DEFAULT_DB_URL
    tokens_file: str = DEFAULT_TOKENS_FILE
    busy_timeout_s: float = 30.0
    write_retries: int = 8
    signing_key: str = ""
    public_key: str = ""
    max_body_bytes: int = 2_000_000


def load_registry_params(path: str | Path = DEFAULT_PARAMS) -> RegistryParams:
    """Read the ``registry`` section (defaults when the file or section is missing), then apply the environment."""
    # A missing file or section means defaults (the registry also runs outside the repository); a section that
    # does not fit the dataclass is still an error.
    section = load_params(path).get("registry") if Path(path).exists() else None
    params = from_dict(RegistryParams, section or {}, "registry")
    env_url = os.environ.get("CARGOSCAN_DB_URL")
    env_tokens = os.environ.get("CARGOSCAN_TOKENS_FILE")
    return replace(params, db_url=env_url or params.db_url, tokens_file=env_tokens or params.tokens_file,
                   signing_key=os.environ.get("CARGOSCAN_AUDIT_KEY") or params.signing_key,
                   public_key=os.environ.get("CARGOSCAN_AUDIT_PUBLIC_KEY") or params.public_key)
