"""Engines, migrations and serialised write transactions for SQLite and PostgreSQL.

Every write transaction first locks the audit head row, so writers queue up one behind another: on SQLite
through ``BEGIN IMMEDIATE`` (the write lock is taken at the start, WAL lets readers carry on), on PostgreSQL
through ``SELECT … FOR UPDATE`` on that row. That keeps the audit chain linear and makes check-then-insert
(idempotent ingest) safe across processes. Lock timeouts and serialisation failures are retried.

A registry opened with a signing key hands it to every session (``session.info``), so that each audit entry
is signed as it is appended. Opening with ``create=False`` (verification, checkpoints) refuses a database
that does not exist or is not a registry at the current schema, instead of creating an empty one.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin chatter at import is not news

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import Engine, create_engine, event, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from cargoscan.registry.models import AuditHead  # noqa: E402

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"


class RegistryError(Exception):
    """The registry database cannot be used as asked (missing, not a registry, unreachable, wrong key)."""


def make_engine(url: str, busy_timeout_s: float = 30.0, create: bool = True) -> Engine:
    """An engine for ``url`` with the settings concurrent writers need.

    SQLite: WAL journal, a busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` for every transaction
    (pysqlite's own deferred BEGIN would let two writers both read, then deadlock on the upgrade to a write
    lock). The parent folder of a SQLite file is created, unless ``create`` is False: then a missing file is
    refused (SQLite would otherwise create an empty database).

    Raises:
        RegistryError: for a URL that cannot be parsed, or (``create=False``) a SQLite file that does not exist.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise RegistryError(f"not a database URL: {url!r} ({exc})") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            if not create and not Path(parsed.database).is_file():
                raise RegistryError(f"no registry database at {parsed.database} (from {url}); nothing was created")
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations packaged with the code."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (creates tables, the genesis audit head and the audit triggers)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two services starting at once must not both create the schema.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7270001)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check_schema(engine: Engine) -> None:
    """Refuse a database that is unreachable, not a registry, or not at the code's schema revision.

    Raises:
        RegistryError: naming what is wrong and what to run.
    """
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise RegistryError(f"cannot open the registry database {engine.url!r}: "
                            f"{str(getattr(exc, 'orig', exc)).strip().splitlines()[0]}") from exc
    if current is None:
        raise RegistryError(f"{engine.url!r} is not a cargoscan registry (no schema revision); nothing was changed")
    if current != head:
        raise RegistryError(f"{engine.url!r} is at schema revision {current}, the code at {head}: run "
                            f"`cargoscan registry init --db …` first")


def _transient(exc: BaseException) -> bool:
    """True for lock timeouts, deadlocks and serialisation failures that a retry can clear."""
    if isinstance(exc, OperationalError) and "locked" in str(exc).lower():
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in {"40001", "40P01", "55P03"}


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction holds the registry's write lock (the audit head row) from its start."""
    with factory() as session, session.begin():
        session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update()).one()
        yield session


def run_write(factory: sessionmaker[Session], work: Callable[[Session], T], retries: int = 8) -> T:
    """Run ``work(session)`` in one serialised write transaction, retrying transient lock failures.

    Args:
        factory: the session factory.
        work: the transaction body; it must be safe to run again after a rollback.
        retries: how many times to retry before giving up.
    """
    for attempt in range(retries + 1):
        try:
            with write_session(factory) as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == retries or not _transient(exc):
                raise
            wait = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
            log.debug("write conflict (%s), retry %d in %.2fs", exc.__class__.__name__, attempt + 1, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


class Registry:
    """An open registry database: engine plus session factory.

    Args:
        url: SQLAlchemy URL.
        migrate_schema: bring the schema to the latest revision on open.
        signing_key: the Ed25519 private key (or its PEM path) that signs every audit entry; None writes
            unsigned entries, which ``audit verify --public-key`` reports.
        create: False refuses a database that does not exist or is not a registry at the current schema
            (and never migrates it).
    """

    def __init__(self, url: str, migrate_schema: bool = True, busy_timeout_s: float = 30.0, retries: int = 8,
                 signing_key=None, create: bool = True):
        from cargoscan.registry.audit import SIGNER
        from cargoscan.registry.checkpoint import load_private

        self.url = url
        self.engine = make_engine(url, busy_timeout_s, create=create)
        if not create:
            check_schema(self.engine)
        elif migrate_schema:
            migrate(self.engine)
        if isinstance(signing_key, (str, Path)):
            try:
                signing_key = load_private(signing_key)
            except (OSError, ValueError) as exc:
                raise RegistryError(f"audit signing key {signing_key}: {exc}") from exc
        self.signing_key = signing_key
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={SIGNER: signing_key})
        self.retries = retries

    def write(self, work: Callable[[Session], T]) -> T:
        """Run one serialised write transaction (see :func:`run_write`)."""
        return run_write(self.sessions, work, self.retries)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading."""
        with self.sessions() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_registry(url: str | None = None, create: bool = True) -> Registry:
    """Open the registry named by ``url`` or by the parameters (``CARGOSCAN_DB_URL``, ``params.yaml``).

    The audit signing key comes from ``registry.signing_key`` (``CARGOSCAN_AUDIT_KEY``); without one the
    registry still works but writes unsigned entries, and says so.
    """
    from cargoscan.registry.config import load_registry_params

    params = load_registry_params()
    if create and not params.signing_key:
        log.warning("no audit signing key (registry.signing_key / CARGOSCAN_AUDIT_KEY): entries are unsigned")
    return Registry(url or params.db_url, busy_timeout_s=params.busy_timeout_s, retries=params.write_retries,
                    signing_key=params.signing_key or None, create=create)
