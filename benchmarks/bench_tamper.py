"""Audit tampering: an administrator with the triggers dropped edits, deletes, inserts, forges and truncates.

Run: ``PYTHONPATH=src python benchmarks/bench_tamper.py [--cases 1200] [--seed 7]``. SQLite always; PostgreSQL
too when ``CARGOSCAN_PG_URL`` is set. Prints JSON per backend: cases and missed (target 0) per kind.

A registry is filled through the registry's own code (scans with flags, declarations and rejects, inspection
results, officer inspections, releases, a quarantined scan), every entry signed with the post's key; a signed
checkpoint is taken at about 80 % of the trail and the work goes on after it, so both defences are exercised:
entries up to the checkpoint are anchored by it, those after it by their signatures. Each case runs in a
transaction that drops the UPDATE/DELETE triggers, tampers once, verifies (``audit.verify_session`` with the
checkpoint and the public key) and rolls back. Kinds:

* ``edit_audit`` — one hashed field of one entry (or the signature of an entry after the checkpoint);
* ``delete_audit`` — one entry;
* ``edit_row`` / ``delete_row`` / ``insert_row`` — one business row (any tracked table, any column);
* ``forge_append`` — an entry with a correct hash and the head moved to it, unsigned, signed with another key,
  with a copied or a random signature; with a forged release row that the entry records;
* ``rehash`` — one entry edited and every later hash recomputed, head rewritten (the chain itself is valid);
* ``truncate`` — the tail cut below the checkpoint and the head rewritten to match;
* ``truncate_refill`` — the same, then refilled with forged entries up to the old length.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cargoscan.ids import make_container_number, make_wagon_number
from cargoscan.registry import audit, checkpoint, ledger
from cargoscan.registry.auth import Identity
from cargoscan.registry.db import Registry
from cargoscan.registry.declarations import register_rows
from cargoscan.registry.ingest import ScanInput, ingest_one, quarantine
from cargoscan.registry.models import utcnow
from cargoscan.registry.release import ReleaseRefused, record_officer_inspection, release
from cargoscan.registry.routing import record_inspection

KINDS = ("edit_audit", "delete_audit", "edit_row", "delete_row", "insert_row", "forge_append", "rehash",
         "truncate", "truncate_refill")
OFFICER = Identity("officer", "officer-kz0042", "KZ0042", "Сейтказиев Арман Болатович", "№ 117")
SQLITE_TRIGGERS = ("audit_log_no_update", "audit_log_no_delete", "audit_head_no_delete", "audit_head_forward_only")
PG_TRIGGERS = (("audit_log_no_change", "audit_log"), ("audit_log_no_truncate", "audit_log"),
               ("audit_head_guard", "audit_head"), ("audit_head_no_truncate", "audit_head"))


# --- the registry under attack ----------------------------------------------------------------------------------

def _side(scan_id: str, train: str, wagon: str, container: str, when: datetime) -> dict:
    return {"schema_version": "1.0", "scan_id": scan_id, "post_code": "32701", "device_id": "RF06",
            "scanned_at": when.isoformat(timespec="seconds"), "energies_mev": [6.0, 4.0],
            "pixel_pitch_mm": {"row": 5.0, "column": 5.0}, "train_number": train, "wagon_number": wagon,
            "container_numbers": [container], "direction": "transit", "speed_kmh": 5.0}


def _result(scan_id: str, sha: str, suspicious: bool) -> dict:
    return {"schema_version": "1.0", "scan_id": scan_id, "complete": True, "suspicious": suspicious,
            "decision": "Контроль ИДК, под подозрением" if suspicious else "Контроль ИДК, без подозрения",
            "reasons": [{"code": "THREAT_DRUGS", "text": "наркотики"}] if suspicious else [],
            "risk_areas": [{"id": 1, "class": "drugs", "score": 0.91, "bbox_px": [1, 2, 30, 40]}] if suspicious else [],
            "provenance": {"scan_sha256": sha, "model": {"name": "unet", "sha256": "5e" * 32}}}


def fill(reg: Registry, wagons: int, rng: random.Random) -> list[str]:
    """Scans, declarations, results, officer inspections and releases; returns the PI numbers."""
    nrng = __import__("numpy").random.default_rng(rng.randrange(2**32))
    start = datetime(2025, 2, 18, 8, 0, tzinfo=timezone(timedelta(hours=6)))
    pis = []
    for i in range(wagons):
        when = start + timedelta(seconds=30 * i)
        scan_id, train = f"32701RF06{when:%Y%m%d%H%M%S}{i % 10}", f"KZ{i // 10}"
        wagon, container, sha = make_wagon_number("covered", nrng), make_container_number(nrng), f"{i:064x}"
        tags = [wagon] if i % 7 else []  # some tags missed: flags
        reg.write(lambda s: ingest_one(s, ScanInput(_side(scan_id, train, wagon, container, when), sha, i % 10 + 1,
                                                    tags), actor="operator-1", role="operator"))
        pi = f"32701/{when:%d%m%y}/{i:07d}"
        row = {"pi_number": pi, "train_number": train, "wagon_number": wagon, "container_number": container,
               "hs_code": "640299", "goods_description": "Обувь «Восток»", "packages_count": str(10 + i),
               "packaging": "коробки", "gross_weight_kg": str(2000 + i), "net_weight_kg": str(1800 + i),
               "consignor": "ООО «Восток»", "consignee": "ТОО «Запад»"}
        bad = dict(row, pi_number=f"BAD-{i}", net_weight_kg="99999")
        reg.write(lambda s: register_rows(s, [row] + ([bad] if i % 9 == 0 else []), "pi.csv", actor="system-1",
                                          role="system"))
        suspicious = i % 3 == 0
        reg.write(lambda s: record_inspection(s, _result(scan_id, sha, suspicious), actor="engine", role="system"))
        if suspicious and i % 2 == 0:
            reg.write(lambda s: record_officer_inspection(s, pi, OFFICER, "no_violation", "пусто"))
        if i % 2 == 0:
            try:
                reg.write(lambda s: release(s, pi, OFFICER, "досмотр"))
            except ReleaseRefused:
                pass
        pis.append(pi)
    reg.write(lambda s: quarantine(s, "32701RF06209913450000000", "archive", "scanned_at: not a real date",
                                   actor="operator-1", role="operator"))
    return pis


# --- one tampering ---------------------------------------------------------------------------------------------

def _changed(value: Any, rng: random.Random) -> Any:
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.randint(1, 5)
    if isinstance(value, float):
        return value * 1.5 + 1.0
    if isinstance(value, str):  # same length: PostgreSQL enforces the column widths
        if value:
            i = rng.randrange(len(value))
            return value[:i] + ("0" if value[i] != "0" else "1") + value[i + 1:]
        return "x"
    if isinstance(value, list):
        return value + ["x"]
    if isinstance(value, dict):
        return {**value, "forged": True}
    return "x"  # a NULL filled in


def _head(conn) -> tuple[int, str]:
    return tuple(conn.execute(text("SELECT count, last_hash FROM audit_head WHERE id = 1")).one())


def _set_head(conn, count: int, digest: str) -> None:
    conn.execute(text("UPDATE audit_head SET count = :c, last_hash = :h WHERE id = 1"), {"c": count, "h": digest})


def _entries(conn, from_seq: int = 1) -> list[dict]:
    cols = ", ".join(audit.ROW_FIELDS)
    return [dict(r._mapping) for r in conn.execute(text(f"SELECT {cols} FROM audit_log WHERE seq >= :s ORDER BY seq"),
                                                   {"s": from_seq})]


def _append_forged(conn, rng: random.Random, how: str, rows: dict | None = None) -> None:
    count, last = _head(conn)
    seq, at = count + 1, utcnow()
    details = audit.canonical_details({"basis": "forged", **({"rows": rows} if rows else {})})
    digest = audit.entry_hash(last, seq, at, "officer-kz0042", "officer", "release", "PI", details)
    signature = {"unsigned": None, "other_key": checkpoint.sign_entry(Ed25519PrivateKey.generate(), digest),
                 "random": base64.b64encode(rng.randbytes(64)).decode(),
                 "copied": conn.execute(text("SELECT signature FROM audit_log WHERE seq = :s"),
                                        {"s": count}).scalar()}[how]
    conn.execute(text(f"INSERT INTO audit_log ({', '.join(audit.ROW_FIELDS)}) VALUES "
                      f"({', '.join(':' + f for f in audit.ROW_FIELDS)})"),
                 dict(zip(audit.ROW_FIELDS, (seq, at, "officer-kz0042", "officer", "release", "PI", details, last,
                                             digest, signature))))
    _set_head(conn, seq, digest)


def _rechain(conn, from_seq: int) -> None:
    """Recompute prev_hash and hash from ``from_seq`` on (the tamperer's cover-up), and the head."""
    rows = _entries(conn, 1)
    prev = audit.GENESIS_HASH
    for r in rows:
        if r["seq"] >= from_seq:
            digest = audit.entry_hash(prev, r["seq"], r["at"], r["actor"], r["role"], r["action"], r["subject"],
                                      r["details"])
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"p": prev, "h": digest, "s": r["seq"]})
            r["hash"] = digest
        prev = r["hash"]
    _set_head(conn, rows[-1]["seq"], prev)


def tamper(conn, kind: str, rng: random.Random, anchor: int) -> str:
    """Apply one tampering of ``kind``; returns a short description."""
    count, _ = _head(conn)
    if kind == "edit_audit":
        seq = rng.randint(1, count)
        fields = [f for f in audit.ROW_FIELDS if f != "seq"] + (["seq"] if rng.random() < 0.1 else [])
        if seq <= anchor:
            fields.remove("signature")  # outside the hash: for anchored entries it carries no content
        field = rng.choice(fields)
        old = conn.execute(text(f"SELECT {field} FROM audit_log WHERE seq = :s"), {"s": seq}).scalar()
        new = _changed(old, rng) if field != "seq" else count + 1000
        conn.execute(text(f"UPDATE audit_log SET {field} = :v WHERE seq = :s"), {"v": new, "s": seq})
        return f"audit_log seq {seq}: {field}"
    if kind == "delete_audit":
        seq = rng.randint(1, count)
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})
        return f"audit_log seq {seq} deleted"
    if kind in ("edit_row", "delete_row", "insert_row"):
        table = ledger.TABLES[rng.choice(sorted(ledger.TABLES))]
        rows = [dict(r._mapping) for r in conn.execute(select(table))]
        row = rng.choice(rows)
        pk = {c.name: row[c.name] for c in table.primary_key.columns}
        where = [table.c[k] == v for k, v in pk.items()]
        if kind == "edit_row":
            column = rng.choice([c.name for c in table.columns if c.name not in pk])
            new = _changed(row[column], rng)
            if table.c[column].foreign_keys:  # point it at another declaration (it must exist)
                others = [p for (p,) in conn.execute(text("SELECT pi_number FROM declarations WHERE pi_number <> :p "
                                                          "AND pi_number NOT IN (SELECT pi_number FROM releases)"),
                                                     {"p": row[column]})]
                new = rng.choice(others)
            conn.execute(table.update().where(*where).values({column: new}))
            return f"{table.name} {pk}: {column}"
        if kind == "delete_row":
            if table.name == "declarations":  # what refers to it goes too (as a tamperer would have to)
                for child in ("releases", "officer_inspections"):
                    conn.execute(ledger.TABLES[child].delete().where(ledger.TABLES[child].c.pi_number == row["pi_number"]))
            conn.execute(table.delete().where(*where))
            return f"{table.name} {pk} deleted"
        copy = dict(row)
        for c in table.primary_key.columns:
            copy[c.name] = (max(r[c.name] for r in rows) + 1) if c.autoincrement is True or isinstance(
                row[c.name], int) else f"{row[c.name]}-forged"
        from sqlalchemy import UniqueConstraint

        unique = {c.name for con in table.constraints if isinstance(con, UniqueConstraint) for c in con.columns}
        for name in unique - {"scan_id"} if table.name != "scans" else unique:  # no collision with the original
            if isinstance(copy[name], str) and copy[name]:
                copy[name] = copy[name][:-1] + ("0" if copy[name][-1] != "0" else "1")
        if table.name == "releases":  # a forged release of a declaration that is not released
            free = [p for (p,) in conn.execute(text("SELECT pi_number FROM declarations WHERE pi_number NOT IN "
                                                    "(SELECT pi_number FROM releases)"))]
            if not free:
                return tamper(conn, kind, rng, anchor)
            copy["pi_number"] = rng.choice(free)
        if table.name == "officer_inspections":
            copy["pi_number"] = row["pi_number"]
        conn.execute(table.insert().values(copy))
        return f"{table.name} row inserted"
    if kind == "forge_append":
        how = rng.choice(["unsigned", "other_key", "random", "copied"])
        rows = None
        if rng.random() < 0.5:  # with a forged release that the forged entry records
            releases = ledger.TABLES["releases"]
            free = [p for (p,) in conn.execute(text("SELECT pi_number FROM declarations WHERE pi_number NOT IN "
                                                    "(SELECT pi_number FROM releases)"))]
            if free:
                rel = {"pi_number": rng.choice(free), "officer_id": "KZ0042", "officer_name": "x",
                       "officer_stamp": "№ 117", "basis": "forged", "released_at": utcnow()}
                conn.execute(releases.insert().values(rel))
                rows = {ledger.key(releases, rel): ledger.digest(releases, rel)}
        for _ in range(rng.randint(1, 3)):
            _append_forged(conn, rng, how, rows)
        return f"forged append ({how}{', with a release' if rows else ''})"
    if kind == "rehash":
        seq = rng.randint(1, count)
        field = rng.choice(["actor", "role", "action", "subject", "details", "at"])
        old = conn.execute(text(f"SELECT {field} FROM audit_log WHERE seq = :s"), {"s": seq}).scalar()
        conn.execute(text(f"UPDATE audit_log SET {field} = :v WHERE seq = :s"), {"v": _changed(old, rng), "s": seq})
        _rechain(conn, seq)
        return f"seq {seq} {field} edited and the chain re-hashed"
    cut = rng.randint(1, anchor - 1)
    conn.execute(text("DELETE FROM audit_log WHERE seq > :c"), {"c": cut})
    last = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :c"), {"c": cut}).scalar()
    _set_head(conn, cut, last)
    if kind == "truncate_refill":
        for _ in range(count - cut):
            _append_forged(conn, rng, rng.choice(["unsigned", "other_key", "random", "copied"]))
    return f"cut to {cut} of {count}"


def drop_triggers(conn) -> None:
    if conn.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        for name, table in PG_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))


def run_cases(reg: Registry, cases: int, seed: int, anchor: tuple[int, str], public_key) -> dict[str, Any]:
    """``cases`` tamperings, kinds in turn; counts and the missed ones."""
    rng = random.Random(seed)
    check = checkpoint.entry_verifier(public_key)
    counts = {k: {"cases": 0, "missed": 0} for k in KINDS}
    missed = []
    with reg.engine.connect() as conn:
        for i in range(cases):
            kind = KINDS[i % len(KINDS)]
            trans = conn.begin()
            try:
                drop_triggers(conn)
                what = tamper(conn, kind, rng, anchor[0])
                with Session(bind=conn) as session:
                    session.execute(text("SELECT 1"))  # join the open transaction: it is the snapshot
                    res = audit.verify_session(session, [anchor], check)
            finally:
                trans.rollback()
            counts[kind]["cases"] += 1
            if res.ok:
                counts[kind]["missed"] += 1
                missed.append(what)
    with reg.read() as s:  # every case was rolled back
        assert audit.verify_session(s, [anchor], check).ok
    return {"cases": sum(c["cases"] for c in counts.values()), "missed": len(missed), "by_kind": counts,
            "missed_examples": missed[:10]}


def bench(url: str, cases: int, seed: int, wagons: int) -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    reg = Registry(url, signing_key=key)
    rng = random.Random(seed)
    t0 = time.perf_counter()
    fill(reg, int(wagons * 0.8), rng)
    with reg.read() as s:
        intact = audit.verify_session(s, signature_ok=checkpoint.entry_verifier(key.public_key()))
    assert intact.ok, intact.summary()
    anchor = (intact.rows, intact.last_hash)  # a checkpoint as `audit checkpoint` signs it
    fill_extra(reg, wagons - int(wagons * 0.8), rng)
    with reg.read() as s:
        intact = audit.verify_session(s, [anchor], checkpoint.entry_verifier(key.public_key()))
    assert intact.ok, intact.summary()
    built = time.perf_counter() - t0
    out = run_cases(reg, cases, seed, anchor, key.public_key())
    out.update(entries=intact.rows, checkpoint_at=anchor[0], build_s=round(built, 1),
               run_s=round(time.perf_counter() - t0 - built, 1))
    reg.close()
    return out


def fill_extra(reg: Registry, wagons: int, rng: random.Random) -> None:
    """More work after the checkpoint (distinct trains and PI numbers)."""
    start = datetime(2025, 2, 19, 8, 0, tzinfo=timezone(timedelta(hours=6)))
    nrng = __import__("numpy").random.default_rng(rng.randrange(2**32))
    for i in range(wagons):
        when = start + timedelta(seconds=30 * i)
        scan_id, wagon, sha = f"32701RF06{when:%Y%m%d%H%M%S}{i % 10}", make_wagon_number("flat", nrng), f"{i + 1:064x}"
        side = _side(scan_id, f"KZX{i // 10}", wagon, make_container_number(nrng), when)
        reg.write(lambda s: ingest_one(s, ScanInput(side, sha, i % 10 + 1, [wagon]), actor="operator-1",
                                       role="operator"))
        reg.write(lambda s: record_inspection(s, _result(scan_id, sha, i % 2 == 0), actor="engine", role="system"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--wagons", type=int, default=40, help="wagons registered before tampering")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = bench(f"sqlite:///{Path(tmp) / 'tamper.db'}", args.cases, args.seed, args.wagons)
    pg = os.environ.get("CARGOSCAN_PG_URL")
    if pg:
        name = f"cs_tamper_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            out["postgresql"] = bench(make_url(pg).set(database=name).render_as_string(hide_password=False),
                                      args.cases, args.seed, args.wagons)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    out["missed"] = sum(v["missed"] for v in out.values() if isinstance(v, dict))
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
