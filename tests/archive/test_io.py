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


@pytest.mark.parametrize("text,reason", [
    ("null", "JSON object, found NoneType"),
    ("[]", "JSON object, found list"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("1" * 5000, "not valid JSON"),                           # past Python's int digit limit
    (b"\xff\xfe{}", "not valid JSON"),
])
def test_sidecar_that_is_not_an_object_names_the_file(tmp_path, text, reason):
    side = tmp_path / "x.json"
    side.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ArchiveError, match=reason) as err:
        read_sidecar(side)
    assert err.value.path == side


def test_sidecar_with_nan_is_refused(copy):
    root, sid = copy
    side = ArchivePaths(root).sidecar(sid)
    doc = read_json(side)
    side.write_text(__import__("json").dumps({**doc, "speed_kmh": float("nan")}), encoding="utf-8")
    with pytest.raises(ArchiveError, match="speed_kmh: not a finite number"):
        read_sidecar(side)


def _patch_tag(path, tag, value):
    """Overwrite a SHORT/LONG tag's value in place on every page (a forged header)."""
    import struct

    with tifffile.TiffFile(path) as tif:
        spots = [(p.tags[tag].valueoffset, p.tags[tag].dtype) for p in tif.pages]
        order = tif.byteorder
    data = bytearray(path.read_bytes())
    for offset, dtype in spots:
        fmt = order + ("H" if dtype == 3 else "I")
        struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


def test_absurd_dimensions_in_the_header_are_refused_before_decoding(copy):
    root, sid = copy
    f = ArchivePaths(root).scan_tiff(sid)
    _patch_tag(f, "ImageWidth", 60000)
    _patch_tag(f, "ImageLength", 60000)
    with pytest.raises(ArchiveError, match="60000 × 60000 pixels"):
        read_scan(f)


def test_a_device_or_folder_is_not_a_scan(tmp_path):
    link = tmp_path / "zero.tiff"
    link.symlink_to("/dev/zero")
    with pytest.raises(ArchiveError, match="not a regular file"):
        read_scan(link)
    with pytest.raises(ArchiveError, match="not a regular file"):
        read_scan(tmp_path)


def test_label_png_bomb_is_refused_before_decoding(copy):
    import zlib
    import struct

    root, sid = copy
    png = ArchivePaths(root).label_png(sid)
    w = h = 50_000                                         # 2.5 gigapixels, a few MB compressed

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (w + 1)
    comp = zlib.compressobj()
    idat = b"".join(comp.compress(row) for _ in range(16)) + comp.flush()   # a few rows are enough: never decoded
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                    + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    from cargoscan.archive import read_labels

    with pytest.raises(ArchiveError) as err:
        read_labels(root, sid)
    assert err.value.path == png
