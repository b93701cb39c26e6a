import json
import shutil

import numpy as np
import pandas as pd
import tifffile

from cargoscan.data.channels import input_channels
from cargoscan.data.config import PrepareParams
from cargoscan.data.prepare import prepare


def test_prepare_writes_physical_channels_and_leak_free_splits(tiny_raw, tiny_prepared):
    index = pd.read_csv(tiny_prepared / "index.csv", dtype=str)
    assert index.groupby("train_number")["split"].nunique().max() == 1  # no train in two splits
    assert set(index["split"]) == {"train", "val", "test"}
    sid = index["scan_id"].iloc[0]
    stored = np.load(tiny_prepared / "scans" / f"{sid}.image.npy").astype(np.float32)
    raw = tifffile.imread(tiny_raw / "scans" / f"{sid}.tiff")
    np.testing.assert_allclose(stored, input_channels(raw), rtol=2e-3, atol=2e-3)  # float16 storage
    assert stored[0].max() > 1.0  # attenuation, not an 8-bit or [0, 1] rescale
    stats = json.loads((tiny_prepared / "stats.json").read_text())
    assert stats["categories"] == ["food", "timber"]
    assert stats["class_pixels"]["train"]["drugs"] > 0
    assert stats["class_weights"][5] > stats["class_weights"][2]  # rare drugs outweigh common cargo
    tiles = pd.read_csv(tiny_prepared / "tiles.csv")
    assert set(tiles["scan_id"]) == set(index["scan_id"])
    assert (pd.read_csv(tiny_prepared / "quarantine.csv").shape[0]) == 0


def test_prepare_is_deterministic(tiny_raw, tiny_prepared, tmp_path):
    prepare(PrepareParams(raw_dir=str(tiny_raw), out_dir=str(tmp_path), pitch_mm=(10.0, 10.0), tile=64, overlap=16))
    for f in ("index.csv", "tiles.csv", "stats.json"):
        assert (tmp_path / f).read_bytes() == (tiny_prepared / f).read_bytes()


def test_bad_archive_goes_to_quarantine_with_reasons(tiny_raw, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(tiny_raw, raw)
    scans = sorted((raw / "scans").glob("*.tiff"))
    corrupt, unlabelled = scans[0], scans[1]
    corrupt.write_bytes(corrupt.read_bytes()[:200])                        # truncated TIFF
    (raw / "labels" / f"{unlabelled.stem}.png").unlink()                   # missing label
    lines = (raw / "scans.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("2025", "25")                              # a bad date in Table 1
    (raw / "scans.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "prepared"
    stats = prepare(PrepareParams(raw_dir=str(raw), out_dir=str(out), pitch_mm=(10.0, 10.0), tile=64, overlap=16))
    q = pd.read_csv(out / "quarantine.csv")
    reasons = dict(zip(q["file"], q["reason"]))
    assert any(w in reasons[f"scans/{corrupt.name}"] for w in ("TIFF", "page"))
    assert "label mask not found" in reasons[f"labels/{unlabelled.stem}.png"]
    assert any(f.startswith("scans.csv:line 4") and "дата" in r for f, r in reasons.items())
    index = pd.read_csv(out / "index.csv", dtype=str)
    assert corrupt.stem not in set(index["scan_id"]) and unlabelled.stem not in set(index["scan_id"])
    assert len(index) == len(scans) - 2 and stats["quarantined"] == len(q)
