"""Fixtures of the registry tests: a database per test on each backend, and a tiny archive.

The PostgreSQL variant needs ``CARGOSCAN_PG_URL`` (a superuser URL, as ``.ci/run`` sets it); each test gets a
database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cargoscan.archive import ArchivePaths, write_json, write_scan, write_table
from cargoscan.ids import make_container_number, make_wagon_number
from cargoscan.registry.auth import ROLES, Identity, TokenStore, hash_token
from cargoscan.registry.db import Registry
from cargoscan.registry.ingest import sha256_file

PG_URL = os.environ.get("CARGOSCAN_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=[pytest.mark.postgres,
                                      pytest.mark.skipif(not PG_URL, reason="CARGOSCAN_PG_URL is not set: no "
                                                                            "PostgreSQL server to test against")]),
]

OFFICER = Identity("officer", "officer-kz0042", "KZ0042", "Сейтказиев Арман Болатович", "№ 117")
SUSPICIOUS = "Контроль ИДК, под подозрением"
CLEAR = "Контроль ИДК, без подозрения"


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    name = f"cs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def registry(db_url):
    reg = Registry(db_url)
    yield reg
    reg.close()


def sidecar(scan_id: str, train: str, wagon: str | None, containers: list[str], when: datetime) -> dict:
    return {"schema_version": "1.0", "scan_id": scan_id, "post_code": scan_id[:5], "device_id": scan_id[5:9],
            "scanned_at": when.isoformat(timespec="seconds"), "energies_mev": [6.0, 4.0],
            "pixel_pitch_mm": {"row": 5.0, "column": 5.0}, "train_number": train, "wagon_number": wagon,
            "container_numbers": containers, "direction": "transit", "speed_kmh": 5.0}


MODEL_SHA = "5e" * 32


def inspection(scan_id: str, suspicious: bool, complete: bool = True, areas: int = 1,
               scan_sha256: str | None = None) -> dict:
    """A contract-B inspection result (what the inspection engine will send), with its provenance.

    A «без подозрения» result clears a scan only when ``scan_sha256`` is the registered image's hash.
    """
    risk = [{"id": i + 1, "class": "drugs", "score": 0.9, "bbox_px": [1, 1, 5, 5], "bbox_m": [0, 0, 1, 1],
             "area_m2": 0.4, "unit": None} for i in range(areas if suspicious and complete else 0)]
    return {"schema_version": "1.0", "scan_id": scan_id,
            "decision": SUSPICIOUS if suspicious or not complete else CLEAR,
            "suspicious": suspicious or not complete, "complete": complete,
            "reasons": ([{"code": "ANALYSIS_FAILED_MODEL", "text": "анализ не выполнен"}] if not complete else
                        [{"code": "THREAT_DRUGS", "text": "наркотики"}] if suspicious else []),
            "risk_areas": risk, "declaration": None,
            "provenance": {"scan_sha256": scan_sha256, "model": {"name": "unet", "sha256": MODEL_SHA}},
            "inspected_at": "2025-02-18T17:50:00+06:00"}


def declaration_row(pi: str, train: str, wagon: str, container: str = "", **over) -> dict:
    row = {"pi_number": pi, "train_number": train, "wagon_number": wagon, "container_number": container,
           "hs_code": "640299", "goods_description": "Обувь спортивная", "packages_count": "120",
           "packaging": "коробки", "gross_weight_kg": "2400", "net_weight_kg": "2200",
           "consignor": "ООО «Восток»", "consignee": "ТОО «Запад»"}
    row.update(over)
    return row


@pytest.fixture
def make_archive(tmp_path):
    """Write a tiny archive: ``n_trains`` trains of ``n_wagons`` scans, rfid.csv and declarations.csv.

    Train 1's wagon 2 has no RFID read and wagon 3 a tag that disagrees with the sidecar; every other
    wagon's tag matches. Returns the archive root and a dict describing what was written.
    """

    def make(n_trains: int = 2, n_wagons: int = 4, name: str = "raw"):
        rng = np.random.default_rng(7)
        root = tmp_path / name
        paths = ArchivePaths(root)
        paths.scans.mkdir(parents=True)
        start = datetime(2025, 2, 18, 17, 47, 2, tzinfo=timezone(timedelta(hours=6)))
        scans, rfid, decls = [], [], []
        for t in range(n_trains):
            train = f"KZ{2000 + t}"
            for w in range(n_wagons):
                when = start + timedelta(minutes=10 * t, seconds=20 * w)
                scan_id = f"32701RF06{when:%Y%m%d%H%M%S}{w % 10}"
                wagon = make_wagon_number("covered", rng)
                containers = [make_container_number(rng)]
                image = rng.integers(0, 65535, size=(2, 4, 6), dtype=np.uint16)
                write_scan(paths.scan_tiff(scan_id), image)
                write_json(paths.sidecar(scan_id), sidecar(scan_id, train, wagon, containers, when))
                scans.append({"scan_id": scan_id, "train": train, "wagon": wagon, "containers": containers,
                              "position": w + 1, "sha256": sha256_file(paths.scan_tiff(scan_id))})
                decls.append(declaration_row(f"PI-{t}-{w}", train, wagon, containers[0]))
                tag = wagon
                if t == 0 and w == 1:
                    continue  # no RFID read at this position
                if t == 0 and w == 2:
                    tag = make_wagon_number("covered", rng)  # a valid tag of another wagon
                rfid.append({"read_at": when.isoformat(timespec="seconds"), "reader_id": "R1", "train_number": train,
                             "position": str(w + 1), "tag_payload": tag})
        write_table(paths.table("rfid.csv"), rfid)
        write_table(paths.table("declarations.csv"), decls)
        return root, {"scans": scans, "declarations": decls}

    return make


# --- API tokens: one per role, the officer's carrying the officer's identity ------------------------------------

TOKENS = {role: f"token-of-the-{role}-0123456789abcdef" for role in ROLES}


def token_store() -> TokenStore:
    """A token store with one token per role (only hashes stored, as in production)."""
    entries = []
    for role, tok in TOKENS.items():
        e = {"sha256": hash_token(tok), "role": role, "name": f"{role}-1"}
        if role == "officer":
            e["officer"] = {"id": OFFICER.officer_id, "name": OFFICER.officer_name, "stamp": OFFICER.stamp}
        entries.append(e)
    return TokenStore(entries)


def auth(role: str) -> dict[str, str]:
    """The Authorization header of the role's token."""
    return {"Authorization": f"Bearer {TOKENS[role]}"}
