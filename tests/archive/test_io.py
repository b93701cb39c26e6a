"""Archive format on a generated archive, and clear errors for malformed entries."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tifffile

from cargoscan.archive import ArchiveError, ArchivePaths, load_sample, read_json, read_scan, read_sidecar, read_table, write_json
from cargoscan.archive.classes import class_id
from cargoscan.archive.io import decode_rle
from cargoscan.ids import is_valid_container, is_valid_wagon


def test_every_scan_loads_with_labels_of_its_shape(tiny_archive):
    paths = ArchivePaths(tiny_archive)
    ids = paths.scan_ids()
    assert len(ids) == 6
    for scan_id in ids:
        s = load_sample(tiny_archive, scan_id, labels=True)
        assert s["image"].dtype == np.uint16 and s["image"].shape[0] == 2
        assert s["mask"].shape == s["image"].shape[1:]
        meta = s["meta"]
        assert meta["source"]["kind"] == "synthetic" and meta["generator"]["scanner"]
        assert is_valid_wagon(meta["wagon_number"])
        assert all(is_valid_container(c) for c in meta["container_numbers"])
        for inst in s["instances"]:
            m = decode_rle(inst["bbox"], inst["mask"]["rle"], s["mask"].shape)
            assert m.any()
            if inst["class"] in ("drugs", "weapon", "cigarettes"):
                assert (s["mask"][m] == class_id(inst["class"])).mean() > 0.5
        assert (s["image"][0] == 65535).any() or (s["image"][0] > 60000).any()   # air between wagons


def test_tables_match_the_files(tiny_archive):
    paths = ArchivePaths(tiny_archive)
    table1 = read_table(paths.table("scans.csv"))
    assert sorted(r["ID снимка"] for r in table1) == paths.scan_ids()
    for r in table1:
        meta = read_sidecar(paths.sidecar(r["ID снимка"]))
        assert r["платформа"] == meta["wagon_number"] and r["номер состава"] == meta["train_number"]
        assert r["время"] == meta["scanned_at"][11:16]
    truth = read_table(paths.table("truth.csv"))
    decl = read_table(paths.table("declarations.csv"))
    assert [t["pi_number"] for t in truth] == [d["pi_number"] for d in decl]
    assert {t["scan_id"] for t in truth} == set(paths.scan_ids())
    trains = {r["номер состава"] for r in table1}
    assert {r["train_number"] for r in read_table(paths.table("rfid.csv"))} <= trains
    for t in truth:
        doc = read_json(paths.label_json(t["scan_id"]))
        unit = next(u for u in doc["units"] if u["number"] in (t["container_number"], t["wagon_number"]))
        assert float(t["true_net_weight_kg"]) == pytest.approx(unit["net_mass_kg"], abs=0.1)
    assert (tiny_archive / "previews").exists() and list((tiny_archive / "previews").glob("*.png"))


@pytest.fixture()
def copy(tiny_archive, tmp_path):
    root = tmp_path / "raw"
    shutil.copytree(tiny_archive, root)
    return root, ArchivePaths(root).scan_ids()[0]


def test_truncated_tiff_names_the_file(copy):
    root, sid = copy
    f = ArchivePaths(root).scan_tiff(sid)
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 3])
    with pytest.raises(ArchiveError, match=sid):
        read_scan(f)


@pytest.mark.parametrize("pages,dtype,reason", [(1, np.uint16, "expected 2 pages"), (2, np.uint8, "uint8")])
def test_single_page_and_8_bit_are_refused(copy, pages, dtype, reason):
    root, sid = copy
    f = ArchivePaths(root).scan_tiff(sid)
    tifffile.imwrite(f, np.zeros((pages, 8, 8), dtype) if pages > 1 else np.zeros((8, 8), dtype))
    with pytest.raises(ArchiveError, match=reason) as err:
        read_scan(f)
    assert sid in str(err.value)


def test_missing_sidecar_and_wrong_version(copy):
    root, sid = copy
    side = ArchivePaths(root).sidecar(sid)
    doc = read_json(side)
    write_json(side, {**doc, "schema_version": "0.9"})
    with pytest.raises(ArchiveError, match="schema_version") as err:
        load_sample(root, sid)
    assert sid in str(err.value)
    side.unlink()
    with pytest.raises(ArchiveError, match=f"{sid}.json"):
        load_sample(root, sid)
