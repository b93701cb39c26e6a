from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cargoscan.archive import ArchivePaths, load_sample
from cargoscan.ids import make_wagon_number
from cargoscan.tip.importer import ImportOptions, ImportRefused, ScanMeta, import_scan
from tests.tip.conftest import plausible_wagon

AIR = 60000.0


@pytest.fixture
def wagon() -> np.ndarray:
    """A wagon the import's validity check accepts at the 5 mm pitch these tests pass."""
    return plausible_wagon()


def meta(seq: int = 0) -> ScanMeta:
    return ScanMeta(
        post_code="32701",
        device_id="RF06",
        scanned_at=datetime(2025, 2, 18, 17, 47, 2, tzinfo=timezone(timedelta(hours=5))),
        train_number="2001",
        direction="import",
        speed_kmh=7.5,
        energies_mev=(6.0, 4.0),
        wagon_number=make_wagon_number("covered", np.random.default_rng(1)),
        seq=seq,
    )


def export(wagon: np.ndarray) -> np.ndarray:
    """A vendor export of ``wagon``: H×W×2, low energy first, rail at the top, air at 60000 counts."""
    raw = np.round(wagon.astype(np.float64) / 65535 * AIR).astype(np.uint16)[::-1]  # (low, high) order
    return np.moveaxis(raw[:, ::-1, :], 0, -1)


def opts(**kw) -> ImportOptions:
    base = dict(high_channel=1, air_value=AIR, rail_at_bottom=False, pitch_mm=(5.0, 5.0))
    base.update(kw)
    return ImportOptions(**base)


def test_import_round_trip_npy(tmp_path, wagon):
    src = tmp_path / "scan.npy"
    np.save(src, export(wagon))
    tiff = import_scan([src], opts(), meta(), tmp_path / "arch")
    sample = load_sample(tmp_path / "arch", tiff.stem)  # validates the sidecar against the schema
    assert sample["image"].shape == wagon.shape
    assert np.abs(sample["image"].astype(int) - wagon.astype(int)).max() <= 2  # only the air rescale rounds
    assert sample["meta"]["source"]["kind"] == "imported"
    assert sample["meta"]["pixel_pitch_mm"] == {"row": 5.0, "column": 5.0}
    assert (sample["image"][wagon == 0] == 0).all()  # starved stays starved


def test_import_tiff_pair(tmp_path, wagon):
    raw = np.round(wagon.astype(np.float64) / 65535 * AIR).astype(np.uint16)
    tifffile.imwrite(tmp_path / "hi.tif", raw[0])
    tifffile.imwrite(tmp_path / "lo.tif", raw[1])
    tiff = import_scan(
        [tmp_path / "hi.tif", tmp_path / "lo.tif"],
        opts(high_channel=0, rail_at_bottom=True),
        meta(),
        tmp_path / "arch",
    )
    assert ArchivePaths(tmp_path / "arch").scan_ids() == [tiff.stem]


def _refused(tmp_path, raw, check: str, **kw):
    src = tmp_path / "scan.npy"
    np.save(src, raw)
    with pytest.raises(ImportRefused, match=rf"\[{check}\]") as err:
        import_scan([src], opts(**kw), meta(), tmp_path / "arch")
    assert not (tmp_path / "arch" / "scans").exists() or not any((tmp_path / "arch" / "scans").iterdir())
    return str(err.value)


def test_swapped_channels_refused(tmp_path, wagon):
    msg = _refused(tmp_path, export(wagon), "swapped_channels", high_channel=0)
    assert "--high-channel" in msg


def test_wrong_orientation_refused(tmp_path, wagon):
    msg = _refused(tmp_path, export(wagon), "orientation", rail_at_bottom=True)
    assert "--rail-at-top" in msg


def test_inverted_log_refused(tmp_path, wagon):
    raw = export(wagon).astype(np.float64)
    a = -np.log(np.clip(raw / AIR, 1e-5, 1))
    log_image = np.round(a * 5000).astype(np.uint16)  # a display export: attenuation, air = 0
    msg = _refused(tmp_path, log_image, "inverted")
    assert "--encoding attenuation" in msg
    # ...and the option the message names imports it.
    src = tmp_path / "log.npy"
    np.save(src, log_image)
    tiff = import_scan(
        [src],
        opts(encoding="attenuation", attenuation_scale=5000.0, air_value=1.0),
        meta(),
        tmp_path / "arch2",
    )
    got = load_sample(tmp_path / "arch2", tiff.stem)["image"].astype(float) / 65535
    want = wagon.astype(float) / 65535
    loaded = want[0] > 0.01
    assert np.abs(np.log(got[0][loaded]) - np.log(want[0][loaded])).max() < 0.01


def test_eight_bit_rescale_refused(tmp_path, wagon):
    eight = (export(wagon).astype(np.uint32) >> 8).astype(np.uint16) * 257
    _refused(tmp_path, eight, "eight_bit", air_value=65535.0)


def test_eight_bit_dtype_refused(tmp_path, wagon):
    src = tmp_path / "scan.npy"
    np.save(src, (export(wagon) >> 8).astype(np.uint8))
    with pytest.raises(ImportRefused, match="8-bit"):
        import_scan([src], opts(), meta(), tmp_path / "arch")


def test_air_value_too_low_refused(tmp_path, wagon):
    msg = _refused(tmp_path, export(wagon), "air_value", air_value=30000.0)
    assert "--air-value" in msg


@pytest.mark.parametrize(
    "shape,dtype,match",
    [
        ((100, 300), np.uint16, "2-channel"),
        ((100, 300, 3), np.uint16, "2-channel|channel axis|does not fit"),
        ((1, 100, 300), np.uint16, "channel axis"),
        ((100, 300, 2), np.int32, "negative"),
        ((100, 300, 2), np.float32, "NaN"),
        ((2, 100, 2), np.uint16, "channel axis"),
    ],
)
def test_wrong_shapes_and_dtypes_refused(tmp_path, shape, dtype, match):
    raw = np.full(shape, 1000, dtype=dtype)
    if dtype == np.int32:
        raw.flat[0] = -1
    if dtype == np.float32:
        raw.flat[0] = np.nan
    src = tmp_path / "scan.npy"
    np.save(src, raw)
    with pytest.raises(ImportRefused, match=match):
        import_scan([src], opts(), meta(), tmp_path / "arch")


def test_force_records_the_override(tmp_path, wagon):
    src = tmp_path / "scan.npy"
    np.save(src, export(wagon))
    tiff = import_scan([src], opts(rail_at_bottom=True, force=("orientation",)), meta(), tmp_path / "arch")
    side = load_sample(tmp_path / "arch", tiff.stem)["meta"]
    assert side["source"]["forced_checks"] == ["orientation"]


def test_existing_scan_not_overwritten(tmp_path, wagon):
    src = tmp_path / "scan.npy"
    np.save(src, export(wagon))
    tiff = import_scan([src], opts(), meta(), tmp_path / "arch")
    before = tiff.read_bytes()
    with pytest.raises(ImportRefused, match="already in the archive"):
        import_scan([src], opts(), meta(), tmp_path / "arch")
    assert tiff.read_bytes() == before


def test_dicos_refused_honestly(tmp_path):
    p = tmp_path / "scan.dcs"
    p.write_bytes(b"\0" * 10)
    with pytest.raises(ImportRefused, match="DICOS is not supported"):
        import_scan([p], opts(), meta(), tmp_path / "arch")


def test_bad_wagon_number_refused(tmp_path, wagon):
    src = tmp_path / "scan.npy"
    np.save(src, export(wagon))
    m = meta()
    bad = m.wagon_number[:-1] + str((int(m.wagon_number[-1]) + 1) % 10)
    with pytest.raises(ImportRefused, match="check digit"):
        import_scan([src], opts(), ScanMeta(**{**m.__dict__, "wagon_number": bad}), tmp_path / "arch")
    assert not Path(tmp_path / "arch").exists()
