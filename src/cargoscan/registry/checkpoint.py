"""Ed25519-signed checkpoints of the audit head, to be stored away from the database.

A checkpoint says "the trail had ``count`` entries and entry ``count`` hashed to ``hash``", signed with a
key the database administrator does not hold. Verifying against it catches what the in-database head cannot:
an administrator who drops the triggers, truncates the trail and rewrites the head to match.
Signatures come from ``cryptography`` (Ed25519).
"""

from __future__ import annotations

import base64
import json
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


def _message(count: int, digest: str, at: str) -> bytes:
    return json.dumps({"count": count, "hash": digest, "at": at}, sort_keys=True, separators=(",", ":")).encode()


def sign(count: int, digest: str, private_path: str | Path) -> dict:
    """A signed checkpoint document for entry ``count`` with hash ``digest``."""
    key = serialization.load_pem_private_key(Path(private_path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{private_path}: not an Ed25519 private key")
    at = utcnow()
    sig = key.sign(_message(count, digest, at))
    return {"count": count, "hash": digest, "at": at, "signature": base64.b64encode(sig).decode()}


def load(path: str | Path, public_path: str | Path) -> tuple[int, str]:
    """Read a checkpoint and check its signature.

    Raises:
        ValueError: when the signature does not verify (the checkpoint itself was altered).
    """
    doc = json.loads(Path(path).read_text("utf-8"))
    key = serialization.load_pem_public_key(Path(public_path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{public_path}: not an Ed25519 public key")
    try:
        key.verify(base64.b64decode(doc["signature"]), _message(doc["count"], doc["hash"], doc["at"]))
    except (InvalidSignature, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: checkpoint signature does not verify") from exc
    return int(doc["count"]), str(doc["hash"])
