"""Ingest: linking, check digits, conflict flags, idempotence and concurrent writers."""

from __future__ import annotations

import json
import multiprocessing as mp
import random

from tests.registry.conftest import sidecar
from sqlalchemy import func, select

from cargoscan.registry import audit
from cargoscan.registry.db import Registry
from cargoscan.registry.ingest import ScanInput, find_flags, ingest_archive, ingest_one
from cargoscan.registry.models import AuditEntry, Flag, Scan, ScanQuarantine


def _flags(registry) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with registry.read() as s:
        for f in s.scalars(select(Flag)):
            out.setdefault(f.scan_id, set()).add(f.kind)
    return out


def test_ingest_links_and_flags(registry, make_archive):
    root, info = make_archive(n_trains=2, n_wagons=4)
    rep = ingest_archive(registry, root)
    assert (rep.added, rep.errors) == (8, [])
    with registry.read() as s:
        scans = {x.scan_id: x for x in s.scalars(select(Scan))}
    for sc in info["scans"]:
        row = scans[sc["scan_id"]]
        assert (row.train_number, row.wagon_number, row.container_numbers, row.position) == (
            sc["train"], sc["wagon"], sc["containers"], sc["position"])
    flags = _flags(registry)
    first = [sc["scan_id"] for sc in info["scans"][:4]]
    assert flags.get(first[1]) == {"missing_tag"}        # no RFID read at position 2
    assert flags.get(first[2]) == {"rfid_ocr_conflict"}  # tag of another wagon
    assert not flags.get(first[0]) and not flags.get(info["scans"][5]["scan_id"])


def test_ingest_is_idempotent(registry, make_archive):
    root, _ = make_archive(n_trains=1, n_wagons=3)
    ingest_archive(registry, root)
    with registry.read() as s:
        before = (s.scalar(select(func.count()).select_from(Scan)), s.scalar(select(func.count()).select_from(Flag)),
                  audit.read_head(s))
    rep = ingest_archive(registry, root)
    assert (rep.added, rep.unchanged) == (0, 3)
    with registry.read() as s:
        after = (s.scalar(select(func.count()).select_from(Scan)), s.scalar(select(func.count()).select_from(Flag)),
                 audit.read_head(s))
    assert after == before


def test_duplicate_scan_id_with_other_content_is_flagged_not_overwritten(registry, make_archive):
    root, info = make_archive(n_trains=1, n_wagons=2)
    ingest_archive(registry, root)
    sc = info["scans"][0]
    from datetime import datetime

    other = sidecar(sc["scan_id"], "OTHER-TRAIN", sc["wagon"], [], datetime.fromisoformat("2025-02-18T17:47:02+06:00"))
    for _ in range(2):  # the second time adds nothing
        res = registry.write(lambda s: ingest_one(s, ScanInput(other, "0" * 64), actor="op", role="operator"))
    assert res.status in ("duplicate", "unchanged")
    with registry.read() as s:
        assert s.scalars(select(Scan).where(Scan.scan_id == sc["scan_id"])).one().train_number == sc["train"]
        kinds = [f.kind for f in s.scalars(select(Flag).where(Flag.scan_id == sc["scan_id"]))]
    assert kinds.count("duplicate_scan_id") == 1


def test_find_flags_cases():
    from datetime import datetime

    when = datetime.fromisoformat("2025-02-18T17:47:02+06:00")
    good, other = "28652303", "45488855"
    side = sidecar("32701RF06202502181747020", "T", good, ["CSQU3054383"], when)
    assert find_flags(ScanInput(side, rfid_tags=[good]))[1] == []
    assert find_flags(ScanInput(side))[1] == []  # no RFID data at all: nothing to compare
    kinds = lambda item: {k for k, _ in find_flags(item)[1]}  # noqa: E731
    assert kinds(ScanInput(side, rfid_tags=[])) == {"missing_tag"}
    assert kinds(ScanInput(side, rfid_tags=["28652304"])) == {"rfid_bad_check_digit", "missing_tag"}
    bad = dict(side, wagon_number="28652304", container_numbers=["CSQU3054384"])
    wagon, fl = find_flags(ScanInput(bad, rfid_tags=[good]))
    assert wagon == good and {k for k, _ in fl} == {"bad_check_digit", "wagon_from_rfid"}
    ident = {"train_number": "T", "position": 1, "scan_id": side["scan_id"],
             "wagon": {"number": None, "status": "conflict", "ocr": good, "rfid": other, "confidence": 0.5},
             "containers": []}
    assert "rfid_ocr_conflict" in kinds(ScanInput(side, identification=ident))
    nowagon = dict(side, wagon_number=None)
    assert find_flags(ScanInput(nowagon))[1] == [("wagon_unidentified",
                                                   "no valid wagon number from sidecar, OCR or RFID")]


def _worker(url: str, root: str, seed: int) -> None:
    from cargoscan.registry.ingest import archive_inputs

    reg = Registry(url, migrate_schema=False)
    items, _ = archive_inputs(root)
    random.Random(seed).shuffle(items)
    for it in items:
        reg.write(lambda s, it=it: ingest_one(s, it, actor=f"worker{seed}", role="operator"))
        # Unique entries too, so that the chain must interleave writers without losing one.
        reg.write(lambda s, it=it: audit.append(s, actor=f"worker{seed}", role="operator", action="flag",
                                                subject=it.sidecar["scan_id"], details={"w": seed}))
    reg.close()


def test_concurrent_ingest_loses_nothing(db_url, make_archive):
    root, info = make_archive(n_trains=2, n_wagons=5)
    Registry(db_url).close()  # migrate once, up front
    n_proc = 4
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(db_url, str(root), k)) for k in range(n_proc)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    reg = Registry(db_url, migrate_schema=False)
    n = len(info["scans"])
    with reg.read() as s:
        assert s.scalar(select(func.count()).select_from(Scan)) == n
        actions = [a for (a,) in s.execute(select(AuditEntry.action))]
        res = audit.verify_session(s)
    assert res.ok, res.summary()
    assert actions.count("ingest") == n            # each scan ingested once, whoever came first
    assert actions.count("flag") == n * n_proc      # no worker's entry lost
    reg.close()


def _part(root, dest, scan_ids):
    """A partial copy of an archive: the given scans and the whole rfid.csv."""
    import shutil

    (dest / "scans").mkdir(parents=True)
    for sid in scan_ids:
        for ext in ("tiff", "json"):
            shutil.copy(root / "scans" / f"{sid}.{ext}", dest / "scans" / f"{sid}.{ext}")
    shutil.copy(root / "rfid.csv", dest / "rfid.csv")
    return dest


def test_overlapping_archives_rank_positions_over_the_whole_train(registry, make_archive, tmp_path):
    root, info = make_archive(n_trains=1, n_wagons=4)
    ids = [sc["scan_id"] for sc in info["scans"]]
    first = _part(root, tmp_path / "a", ids[:3])
    second = _part(root, tmp_path / "b", ids[2:])  # overlaps the first on the third wagon
    assert ingest_archive(registry, first).added == 3
    rep = ingest_archive(registry, second)
    assert (rep.added, rep.unchanged) == (1, 1)
    with registry.read() as s:
        positions = {x.scan_id: x.position for x in s.scalars(select(Scan))}
    assert positions == {sid: n for n, sid in enumerate(ids, start=1)}
    assert not _flags(registry).get(ids[3])  # its own tag, not another wagon's: no spurious conflict


def test_a_bad_scan_is_quarantined_and_the_rest_ingested(registry, make_archive):
    root, info = make_archive(n_trains=1, n_wagons=4)
    ids = [sc["scan_id"] for sc in info["scans"]]
    (root / "scans" / f"{ids[0]}.json").write_text("[]", "utf-8")                  # not a sidecar
    side = json.loads((root / "scans" / f"{ids[1]}.json").read_text("utf-8"))
    (root / "scans" / f"{ids[1]}.json").write_text(json.dumps({**side, "train_number": "7" * 65}), "utf-8")
    rep = ingest_archive(registry, root)
    assert (rep.added, rep.quarantined, len(rep.errors)) == (2, 2, 2)
    with registry.read() as s:
        held = {q.scan_id: q.reason for q in s.scalars(select(ScanQuarantine))}
        assert audit.verify_session(s).ok
    assert set(held) == set(ids[:2]) and "at most 64" in held[ids[1]]
    assert ingest_archive(registry, root).quarantined == 0  # recorded once


def test_an_unreadable_rfid_table_is_flagged_on_every_scan(registry, make_archive):
    root, info = make_archive(n_trains=1, n_wagons=2)
    (root / "rfid.csv").write_bytes(b"\xff\xfe not a table")
    rep = ingest_archive(registry, root)
    assert rep.added == 2 and any("rfid.csv" in e for e in rep.errors)
    assert all(kinds == {"rfid_unreadable"} for kinds in _flags(registry).values()) and len(_flags(registry)) == 2
