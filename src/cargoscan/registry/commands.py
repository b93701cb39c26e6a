"""CLI: ``cargoscan registry …``, ``cargoscan audit …`` and ``cargoscan serve``."""

from __future__ import annotations

import errno
import json
import logging
from pathlib import Path
from typing import Optional

import typer

log = logging.getLogger(__name__)

registry_app = typer.Typer(help="Scan registry: ingest, declarations, inspections, Table 1, exports, tokens.",
                           no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail: verify, signed checkpoints.", no_args_is_help=True)

DB = typer.Option(None, "--db", help="SQLAlchemy URL (default: CARGOSCAN_DB_URL or params.yaml registry.db_url)")


def _open(db: str | None, create: bool = True):
    """The registry; ``create=False`` for commands that only make sense on an existing one (no typo creates one)."""
    from cargoscan.registry.db import open_registry

    return open_registry(db, create=create)


@registry_app.command("init")
def init(db: Optional[str] = DB) -> None:
    """Create or upgrade the registry database (Alembic migrations)."""
    reg = _open(db)
    log.info("registry ready at %s", reg.url)


@registry_app.command("ingest")
def ingest(root: Path = typer.Argument(Path("data/raw"), help="archive root"),
           identification: Optional[Path] = typer.Option(None, help="identification records (JSONL)"),
           db: Optional[str] = DB) -> None:
    """Ingest an archive's scans with RFID events (rfid.csv) and identification records (idempotent).

    A scan that cannot be read or registered is quarantined with its reason and the rest are ingested; the
    command then exits 1. A folder that is not an archive is refused before the database is opened.
    """
    from cargoscan.registry.ingest import ingest_archive, read_archive

    read_archive(root, identification, scan_ids=[])  # refuses a missing archive before anything is written
    rep = ingest_archive(_open(db), root, identification, actor="cli", role="operator", progress=True)
    log.info("ingest: %d added, %d unchanged, %d duplicate IDs, %d flags, %d quarantined", rep.added,
             rep.unchanged, rep.duplicates, rep.flags, rep.quarantined)
    for e in rep.errors:
        log.error(e)
    if rep.errors:
        raise typer.Exit(1)


@registry_app.command("declarations")
def declarations(path: Path = typer.Argument(..., help="CSV or XLSX of declarations"), db: Optional[str] = DB) -> None:
    """Import declarations / preliminary information; bad rows go to the rejects table with reasons."""
    from cargoscan.registry.declarations import import_file

    rep = import_file(_open(db), path)
    log.info("declarations: %d added, %d unchanged, %d rejected", rep.added, rep.unchanged, rep.rejected)
    for n, reasons in rep.rejects[:20]:
        log.warning("row %d rejected: %s", n, "; ".join(reasons))


@registry_app.command("inspections")
def inspections(paths: list[Path] = typer.Argument(..., help="inspection result JSON files (contract B)"),
                db: Optional[str] = DB) -> None:
    """Record inspection results and re-route the declarations of their scans."""
    from cargoscan.registry.routing import record_inspection

    for p in paths:  # every file there before anything is recorded; a missing one is the CLI's one-line error
        if not p.is_file():
            raise FileNotFoundError(errno.ENOENT, "no such inspection result file", str(p))
    reg, failed = _open(db), 0
    for p in paths:
        try:
            doc = json.loads(p.read_text("utf-8"))
            added, routed = reg.write(lambda s: record_inspection(s, doc, actor="cli", role="system"))
            log.info("%s: %s; routed %s", p.name, "recorded" if added else "already recorded", routed or "-")
        except (ValueError, LookupError) as exc:
            failed += 1
            log.error("%s: %s", p, exc)
    if failed:
        raise typer.Exit(1)


@registry_app.command("table1")
def table1(out: Path = typer.Option(Path("data/registry/table1.xlsx"), help=".csv or .xlsx"),
           db: Optional[str] = DB) -> None:
    """Write Table 1 (п/п, номер состава, платформа, дата, время, ID снимка)."""
    from cargoscan.registry import audit
    from cargoscan.registry.export import table1_file

    fmt = out.suffix.lstrip(".").lower()

    def work(s):
        audit.append(s, actor="cli", role="operator", action="export", subject="table1", details={"format": fmt})
        return table1_file(s, fmt)

    data = _open(db, create=False).write(work)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    log.info("wrote %s", out)


@registry_app.command("export")
def export(out: Path = typer.Option(Path("data/registry/declarations.xlsx"), help=".xlsx or .csv"),
           db: Optional[str] = DB) -> None:
    """Export transit declarations with their corridor and the officer who released each."""
    from cargoscan.registry.export import export_declarations

    fmt = out.suffix.lstrip(".").lower()
    data = _open(db, create=False).write(lambda s: export_declarations(s, fmt, actor="cli", role="auditor"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    log.info("wrote %s", out)


@registry_app.command("add-token")
def add_token(role: str = typer.Option(..., help="operator | officer | auditor | system"),
              name: str = typer.Option(..., help="label in the audit trail"),
              officer_id: Optional[str] = typer.Option(None), officer_name: Optional[str] = typer.Option(None),
              stamp: Optional[str] = typer.Option(None, help="the officer's personal numbered stamp"),
              tokens_file: Optional[Path] = typer.Option(None)) -> None:
    """Create a bearer token; only its SHA-256 is stored. The token is printed once."""
    from cargoscan.registry.auth import add_token as add
    from cargoscan.registry.config import load_registry_params

    path = tokens_file or Path(load_registry_params().tokens_file)
    token = add(path, role, name, officer_id, officer_name, stamp)
    typer.echo(token)


def _public_key(option: Path | None) -> Path | None:
    from cargoscan.registry.config import load_registry_params

    if option is not None:
        return option
    configured = load_registry_params().public_key
    return Path(configured) if configured else None


@audit_app.command("verify")
def verify(db: Optional[str] = DB,
           checkpoint: list[Path] = typer.Option([], help="signed checkpoint file(s) to check against"),
           public_key: Optional[Path] = typer.Option(
               None, help="Ed25519 public key (PEM) of the entries and checkpoints (default: registry.public_key, "
                          "CARGOSCAN_AUDIT_PUBLIC_KEY)")) -> None:
    """Verify the hash chain, the entries' signatures and the business tables.

    Exits 0 when intact, 1 with the exact sequence number where it breaks. A database that does not exist, or
    is not a registry, is refused (nothing is created).
    """
    from cargoscan.registry import audit, checkpoint as cp
    from cargoscan.registry.db import open_registry

    key = _public_key(public_key)
    if checkpoint and key is None:
        raise typer.BadParameter("--public-key is needed with --checkpoint")
    anchors = [cp.load(p, key) for p in checkpoint]
    check = cp.entry_verifier(cp.load_public(key)) if key is not None else None
    reg = open_registry(db, create=False)
    try:
        with reg.read() as s:
            res = audit.verify_session(s, anchors, check)
    finally:
        reg.close()
    typer.echo(res.summary())
    for b in res.breaks[:50]:
        typer.echo(f"  seq {b.seq if b.seq is not None else '-'}: {b.kind}: {b.message}")
    if not res.ok:
        raise typer.Exit(1)


@audit_app.command("keygen")
def keygen(private_key: Path = typer.Option(...), public_key: Path = typer.Option(...)) -> None:
    """Create an Ed25519 key pair for signed checkpoints."""
    from cargoscan.registry import checkpoint as cp

    cp.keygen(private_key, public_key)
    log.info("wrote %s and %s; sign entries with registry.signing_key (CARGOSCAN_AUDIT_KEY) = the private key",
             private_key, public_key)


@audit_app.command("checkpoint")
def make_checkpoint(private_key: Path = typer.Option(...), out: Path = typer.Option(...),
                    db: Optional[str] = DB,
                    accept_unsigned: bool = typer.Option(
                        False, help="anchor entries written before signing was set up (review them first)")) -> None:
    """Verify the trail (signatures included), then write a signed checkpoint of its head; keep it elsewhere."""
    from cargoscan.registry import audit, checkpoint as cp
    from cargoscan.registry.db import open_registry

    check = None if accept_unsigned else cp.entry_verifier(cp.load_private(private_key).public_key())
    with open_registry(db, create=False).read() as s:
        res = audit.verify_session(s, signature_ok=check)
    if not res.ok:
        typer.echo(res.summary())
        raise typer.Exit(1)
    doc = cp.sign(res.rows, res.last_hash, private_key)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
    log.info("checkpoint at entry %d written to %s", res.rows, out)


def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000), db: Optional[str] = DB,
          tokens_file: Optional[Path] = typer.Option(None, help="default: CARGOSCAN_TOKENS_FILE or params")) -> None:
    """Start the registry's HTTP API (uvicorn); OpenAPI at /docs and /openapi.json."""
    import uvicorn

    from cargoscan.registry.api import create_app
    from cargoscan.registry.auth import TokenStore
    from cargoscan.registry.config import load_registry_params

    path = tokens_file or Path(load_registry_params().tokens_file)
    app = create_app(_open(db), TokenStore.from_file(path))
    uvicorn.run(app, host=host, port=port)


def register(app: typer.Typer) -> None:
    """Add ``registry``, ``audit`` and ``serve`` to the ``cargoscan`` command."""
    app.add_typer(registry_app, name="registry")
    app.add_typer(audit_app, name="audit")
    app.command("serve")(serve)
