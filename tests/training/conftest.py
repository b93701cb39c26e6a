"""Prepared data for the training tests: the tiny synthetic archive alone, and mixed with 'real' scans.

The 'real' scans are synthetic scans of another archive imported through ``cargoscan.tip.importer`` (so they lose
their labels and count as imported) and given projected threats by ``cargoscan.tip.insertion``.
"""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

#: A coarse pitch keeps whole-wagon evaluation to a handful of 64-px tiles per scan.
PITCH = (40.0, 40.0)
#: The smallest model that still has an encoder, a decoder with skips and the category head.
TINY_MODEL = {"arch": "unet", "encoder": "resnet18", "encoder_depth": 3, "decoder_channels": (32, 16, 8)}


def _prepare(raw, out, **kw):
    from cargoscan.data.config import PrepareParams
    from cargoscan.data.prepare import prepare

    return prepare(PrepareParams(raw_dir=str(raw), out_dir=str(out), pitch_mm=PITCH, tile=64, overlap=16,
                                 split_fractions=(0.34, 0.33, 0.33), **kw.pop("params", {})), **kw)


@pytest.fixture(scope="session")
def tiny_prepared_train(tiny_trains_archive, tmp_path_factory):
    """``tiny_trains_archive`` prepared with 64-px tiles: one train per split, synthetic only."""
    out = tmp_path_factory.mktemp("prepared")
    _prepare(tiny_trains_archive, out)
    return out


@pytest.fixture(scope="session")
def real_archives(tiny_archive, tmp_path_factory):
    """``imported`` (three untouched 'real' scans, one train each) and ``tip`` (the same with projected threats)."""
    from cargoscan.archive import ArchivePaths, load_sample
    from cargoscan.tip.config import TipParams
    from cargoscan.tip.importer import ImportOptions, ScanMeta, import_scan
    from cargoscan.tip.insertion import tip_scan

    root = tmp_path_factory.mktemp("real")
    imported, tip = root / "imported", root / "tip"
    for i, sid in enumerate(ArchivePaths(tiny_archive).scan_ids()[:3]):
        sample = load_sample(tiny_archive, sid)
        pitch = (sample["meta"]["pixel_pitch_mm"]["row"], sample["meta"]["pixel_pitch_mm"]["column"])
        np.save(root / f"{i}.npy", sample["image"])
        meta = ScanMeta(post_code="32701", device_id="RF07", direction="import", speed_kmh=5.0,
                        scanned_at=datetime(2025, 3, 1, 10, i, tzinfo=timezone(timedelta(hours=5))),
                        train_number=f"R{900 + i}", energies_mev=(6.0, 4.0))
        opts = ImportOptions(high_channel=0, air_value=65535.0, rail_at_bottom=True, pitch_mm=pitch, layout="chw")
        import_scan([root / f"{i}.npy"], opts, meta, imported)
    rng = np.random.default_rng(0)
    written = [tip_scan(imported, tip, sid, 0, None, rng, TipParams(threats_per_scan=(1, 1)))
               for sid in ArchivePaths(imported).scan_ids()]
    assert any(written), "no threat could be projected into the test backgrounds"
    return {"imported": imported, "tip": tip}


@pytest.fixture(scope="session")
def mixed_prepared(tiny_trains_archive, real_archives, tmp_path_factory):
    """``tiny_trains_archive`` with the TIP'd 'real' scans mixed in (as many as there are, ratio 0.5)."""
    out = tmp_path_factory.mktemp("mixed")
    _prepare(tiny_trains_archive, out, params={"extra_dirs": (str(real_archives["tip"]),)}, mix_ratio=0.5)
    return out
