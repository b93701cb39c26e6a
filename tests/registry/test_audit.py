"""The audit trail: appends chain, triggers refuse changes, and every tampering is found and located."""

from __future__ import annotations

import hmac
import random

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cargoscan.registry import audit, checkpoint
from cargoscan.registry.audit import ROW_FIELDS, verify_rows


def _fill(registry, n: int) -> None:
    for i in range(n):
        registry.write(lambda s, i=i: audit.append(s, actor="tester", role="operator", action="ingest",
                                                   subject=f"S{i}", details={"i": i, "текст": "Кириллица"}))


def _rows(registry):
    with registry.read() as s:
        return [tuple(r) for r in s.execute(text(f"SELECT {', '.join(ROW_FIELDS)} FROM audit_log ORDER BY seq"))]


def test_append_chains_and_verifies(registry):
    _fill(registry, 12)
    with registry.read() as s:
        res = audit.verify_session(s)
    assert res.ok and res.rows == 12 and res.head_count == 12
    rows = _rows(registry)
    assert rows[0][7] == audit.GENESIS_HASH and all(rows[i][7] == rows[i - 1][8] for i in range(1, 12))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
                                       "DELETE FROM audit_log WHERE seq = 3",
                                       "DELETE FROM audit_log",
                                       "UPDATE audit_head SET count = 1",
                                       "DELETE FROM audit_head"])
def test_triggers_refuse_changes(registry, statement):
    _fill(registry, 4)
    with pytest.raises(DBAPIError):
        with registry.engine.begin() as conn:
            conn.execute(text(statement))
    with registry.read() as s:
        assert audit.verify_session(s).ok


# --- random tampering of in-memory copies ------------------------------------------------------------------

KEY = Ed25519PrivateKey.generate()
SIGNED = checkpoint.entry_verifier(KEY.public_key())


def _fast_sign(digest: str) -> str:
    """A stand-in signature (HMAC) where a test exercises the chain logic, not Ed25519, over many copies."""
    return hmac.new(b"post key", digest.encode(), "sha256").hexdigest()


def _fast_ok(digest: str, signature: str | None) -> bool:
    return signature == _fast_sign(digest)


def _chain(n: int, key=KEY, sign=None) -> tuple[list[tuple], tuple[int, str]]:
    """A signed chain of ``n`` entries as rows, and its head."""
    prev, rows = audit.GENESIS_HASH, []
    for seq in range(1, n + 1):
        rec = (seq, f"2025-02-18T12:00:{seq % 60:02d}.000000+00:00", "op", "operator", "ingest", f"S{seq}",
               audit.canonical_details({"n": seq}))
        h = audit.entry_hash(prev, *rec)
        rows.append((*rec, prev, h, sign(h) if sign else checkpoint.sign_entry(key, h)))
        prev = h
    return rows, (n, prev)


def _tamper(rows, rng):
    """One random tampering: (kind, tampered rows, the seqs the first reported break may name)."""
    rows = list(rows)
    n = len(rows)
    kind = rng.choice(["edit", "delete", "reorder", "truncate"])
    if kind == "edit":
        i, f = rng.randrange(n), rng.randrange(len(ROW_FIELDS))
        r = list(rows[i])
        old = r[f]
        r[f] = old + rng.randint(1, 5) if isinstance(old, int) else (old + "x" if rng.random() < .5 else old[:-1] + "0"
                                                                     if old[-1] != "0" else old[:-1] + "1")
        rows[i] = tuple(r)
        return kind, rows, {i + 1, r[0]}  # an edited seq is reported under the seq now stored
    if kind == "delete":
        i = rng.randrange(n - 1)  # the last one is "truncation"
        k = rng.randint(1, min(3, n - 1 - i))
        del rows[i:i + k]
        return kind, rows, {i + 1}  # the first missing entry
    if kind == "reorder":
        i, j = sorted(rng.sample(range(n), 2))
        rows[i], rows[j] = rows[j], rows[i]
        return kind, rows, {i + 1}  # where the order first breaks
    k = rng.randint(1, n - 1)
    return kind, rows[:n - k], {n - k + 1}


def test_thousand_random_tamperings_are_all_detected():
    rows, head = _chain(40, sign=_fast_sign)
    assert verify_rows(rows, head, signature_ok=_fast_ok).ok
    rng = random.Random(20250218)
    kinds = {}
    for _ in range(1200):
        kind, bad, where = _tamper(rows, rng)
        res = verify_rows(bad, head, signature_ok=_fast_ok)
        assert not res.ok, kind
        assert res.breaks[0].seq in where, (kind, where, res.breaks[:2])
        kinds[kind] = kinds.get(kind, 0) + 1
    assert set(kinds) == {"edit", "delete", "reorder", "truncate"}


def test_edit_is_located_exactly():
    rows, head = _chain(30)
    bad = list(rows)
    r = list(bad[16])
    r[6] = audit.canonical_details({"n": 999})
    bad[16] = tuple(r)
    res = verify_rows(bad, head)
    assert [(b.seq, b.kind) for b in res.breaks] == [(17, "edited")]


def test_truncation_with_rewritten_head_needs_a_checkpoint(tmp_path):
    rows, head = _chain(30)
    cut = rows[:20]
    forged_head = (20, cut[-1][8])  # an admin who also rewrote the head
    assert verify_rows(cut, forged_head).ok
    checkpoint.keygen(tmp_path / "k.pem", tmp_path / "k.pub")
    doc = checkpoint.sign(*head, tmp_path / "k.pem")
    import json

    (tmp_path / "cp.json").write_text(json.dumps(doc))
    anchor = checkpoint.load(tmp_path / "cp.json", tmp_path / "k.pub")
    res = verify_rows(cut, forged_head, [anchor])
    assert not res.ok and res.breaks[0].kind == "truncated" and res.breaks[0].seq == 30
    doc["count"] = 20
    (tmp_path / "cp.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="signature"):
        checkpoint.load(tmp_path / "cp.json", tmp_path / "k.pub")


# --- real tampering by an administrator who drops the triggers ------------------------------------------------

def _drop_triggers(conn) -> None:
    if conn.dialect.name == "sqlite":
        for name in ("audit_log_no_update", "audit_log_no_delete"):
            conn.execute(text(f"DROP TRIGGER {name}"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))


@pytest.mark.parametrize("tamper, seq, kind", [
    ("UPDATE audit_log SET subject = 'S99' WHERE seq = 5", 5, "edited"),
    ("DELETE FROM audit_log WHERE seq = 4", 4, "deleted"),
    ("UPDATE audit_log SET seq = -1 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 6;"
     " UPDATE audit_log SET seq = 6 WHERE seq = -1", 3, "edited"),  # two entries swap places
    ("DELETE FROM audit_log WHERE seq > 7", 8, "truncated"),
])
def test_db_tampering_is_located(registry, tamper, seq, kind):
    _fill(registry, 10)
    with registry.engine.begin() as conn:
        _drop_triggers(conn)
        for statement in tamper.split(";"):
            conn.execute(text(statement))
    with registry.read() as s:
        res = audit.verify_session(s)
    assert not res.ok
    assert (res.breaks[0].seq, res.breaks[0].kind) == (seq, kind), res.breaks


def test_fast_canonical_record_equals_the_generic_encoder():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @given(st.integers(min_value=0, max_value=2**40), st.lists(st.text(), min_size=6, max_size=6))
    @settings(max_examples=300, deadline=None, database=None)
    def check(seq, texts):
        fields = dict(zip(("at", "actor", "role", "action", "subject", "details"), texts), seq=seq)
        fast = audit.canonical_record(seq, *texts)
        assert fast == audit._encode_details(fields)

    check()


# --- signatures and business rows ----------------------------------------------------------------------------

def test_an_appended_forgery_with_a_correct_hash_is_caught_by_its_signature():
    rows, head = _chain(20)
    count, last = head
    rec = (21, "2025-02-18T12:01:00.000000+00:00", "officer-kz0042", "officer", "release", "PI-1",
           audit.canonical_details({"basis": "forged"}))
    digest = audit.entry_hash(last, *rec)
    for signature in (None, checkpoint.sign_entry(Ed25519PrivateKey.generate(), digest), rows[-1][9]):
        forged = rows + [(*rec, last, digest, signature)]
        assert verify_rows(forged, (21, digest)).ok  # the hash chain alone cannot tell
        res = verify_rows(forged, (21, digest), signature_ok=SIGNED)
        assert [(b.seq, b.kind) for b in res.breaks] == [(21, "forged")]
    # Entries up to a signed checkpoint are anchored by it; only the later ones need their signatures.
    res = verify_rows(rows, head, [(15, rows[14][8])], signature_ok=SIGNED)
    assert res.ok and "after checkpoint 15" in res.signatures


def test_business_rows_are_bound_to_the_chain(registry, make_archive):
    from cargoscan.registry.ingest import ingest_archive

    root, _ = make_archive(n_trains=1, n_wagons=2)
    ingest_archive(registry, root)
    with registry.read() as s:
        assert audit.verify_session(s).ok
    with registry.engine.begin() as conn:
        conn.execute(text("UPDATE scans SET train_number = 'KZ9' WHERE id = 1"))
        conn.execute(text("DELETE FROM scans WHERE id = 2"))
        conn.execute(text("INSERT INTO flags (scan_id, kind, detail, created_at) VALUES ('x', 'y', 'z', 'now')"))
    with registry.read() as s:
        res = audit.verify_session(s)
    kinds = sorted(b.kind for b in res.breaks)
    assert kinds == ["row deleted", "row edited", "row unrecorded"], res.breaks
    assert all(b.seq is not None for b in res.breaks if b.kind != "row unrecorded")  # names the recording entry


def test_tampering_sample_is_all_detected(db_url):
    """A sample of benchmarks/bench_tamper.py (every kind) on each backend: nothing missed."""
    from benchmarks.bench_tamper import KINDS, bench

    out = bench(db_url, cases=3 * len(KINDS), seed=11, wagons=10)
    assert out["cases"] == 3 * len(KINDS) and all(v["cases"] == 3 for v in out["by_kind"].values())
    assert out["missed"] == 0, out["missed_examples"]


def test_upgrading_a_registry_with_rows_records_them_in_a_baseline(db_url, tmp_path):
    """Rows written before the ledger existed are recorded once by the migration, then guarded like any other."""
    from cargoscan.registry.db import make_engine, migrate

    engine = make_engine(db_url)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO scans (scan_id, train_number, position, wagon_number, container_numbers, scanned_at, "
            "post_code, device_id, direction, scan_sha256, sidecar_sha256, ingested_at) VALUES "
            "('32701RF06202502181747029', 'KZ1', 1, '28652303', '[]', '2025-02-18T17:47:02+06:00', '32701', "
            "'RF06', 'transit', NULL, 'x', 'now')"))
    migrate(engine)
    engine.dispose()
    from cargoscan.registry.db import Registry

    reg = Registry(db_url, signing_key=KEY)
    with reg.read() as s:
        res = audit.verify_session(s)
        assert res.ok and res.rows == 1, res.summary()
        assert not audit.verify_session(s, signature_ok=SIGNED).ok  # the baseline is unsigned ...
    anchor = (1, res.last_hash)  # ... until a checkpoint anchors it (`audit checkpoint --accept-unsigned`)
    with reg.engine.begin() as conn:
        conn.execute(text("UPDATE scans SET train_number = 'KZ2'"))
    with reg.read() as s:
        res = audit.verify_session(s, [anchor], SIGNED)
    assert [b.kind for b in res.breaks] == ["row edited"]
    reg.close()
