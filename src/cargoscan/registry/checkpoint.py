"""Ed25519 signatures: of every audit entry, and of checkpoints of the audit head kept away from the database.

The registry signs each entry's hash as it appends it (:func:`sign_entry`), with the private key of the post;
``audit verify`` checks the signatures with the public key, so an entry appended by someone who can write to
the database but does not hold the key (a forgery with a correct hash) is caught.

A checkpoint says "the trail had ``count`` entries and entry ``count`` hashed to ``hash``", signed with a
key the database administrator does not hold. Verifying against it catches what the in-database head cannot:
an administrator who drops the triggers, truncates the trail and rewrites the head to match.
Signatures come from ``cryptography`` (Ed25519).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cargoscan.registry.models import utcnow


def keygen(private_path: str | Path, public_path: str | Path) -> None:
    """Write a new Ed25519 key pair as PEM files (the private one readable by the owner only)."""
    key = Ed25519PrivateKey.generate()
    private_path, public_path = Path(private_path), Path(public_path)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


ENTRY_CONTEXT = b"cargoscan-audit-entry-v1\n"  # keeps entry signatures apart from checkpoint signatures


def load_private(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file (as written by :func:`keygen`).

    Raises:
        ValueError: when the file is not an (unencrypted) Ed25519 private key; OSError when it cannot be read.
    """
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file (ValueError when it is not one)."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def sign_entry(key: Ed25519PrivateKey, digest: str) -> str:
    """Base64 signature of one audit entry's hash."""
    return base64.b64encode(key.sign(ENTRY_CONTEXT + digest.encode())).decode()


def entry_verifier(key: Ed25519PublicKey) -> Callable[[str, str | None], bool]:
    """A function ``(hash, signature) -> bool`` that checks entry signatures against ``key``."""

    def check(digest: str, signature: str | None) -> bool:
        if not signature or not isinstance(signature, str):
            return False
        try:
            key.verify(base64.b64decode(signature, validate=True), ENTRY_CONTEXT + str(digest).encode())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    return check


def _message(count: int, digest: str, at: str) -> bytes:
    return json.dumps({"count": count, "hash": digest, "at": at}, sort_keys=True, separators=(",", ":")).encode()


def sign(count: int, digest: str, private_path: str | Path) -> dict:
    """A signed checkpoint document for entry ``count`` with hash ``digest``."""
    key = load_private(private_path)
    at = utcnow()
    sig = key.sign(_message(count, digest, at))
    return {"count": count, "hash": digest, "at": at, "signature": base64.b64encode(sig).decode()}


def load(path: str | Path, public_path: str | Path) -> tuple[int, str]:
    """Read a checkpoint and check its signature.

    Raises:
        ValueError: when the signature does not verify (the checkpoint itself was altered).
    """
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable checkpoint ({exc})") from exc
    key = load_public(public_path)
    try:
        key.verify(base64.b64decode(doc["signature"]), _message(doc["count"], doc["hash"], doc["at"]))
    except (InvalidSignature, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: checkpoint signature does not verify") from exc
    return int(doc["count"]), str(doc["hash"])
