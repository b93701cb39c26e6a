import json
import shutil

import numpy as np
import pandas as pd

from cargoscan.archive import ArchivePaths, load_sample
from cargoscan.data.channels import input_channels
from cargoscan.data.config import PrepareParams
from cargoscan.data.prepare import prepare

from .conftest import PITCH


def test_prepare_writes_physical_channels_and_leak_free_splits(tiny_trains_archive, tiny_prepared):
    index = pd.read_csv(tiny_prepared / "index.csv", dtype=str, keep_default_na=False)
    assert index.groupby("train_number")["split"].nunique().max() == 1  # no train in two splits
    assert set(index["split"]) == {"train", "val", "test"}
    assert set(index["source"]) == {"synthetic"}
    sid = index["scan_id"].iloc[0]
    stored = np.load(tiny_prepared / "scans" / f"{sid}.image.npy").astype(np.float32)
    sample = load_sample(tiny_trains_archive, sid, labels=True)
    pitch = (sample["meta"]["pixel_pitch_mm"]["row"], sample["meta"]["pixel_pitch_mm"]["column"])
    np.testing.assert_allclose(stored, input_channels(sample["image"], pitch, PITCH), rtol=2e-3, atol=2e-3)
    assert stored[0].max() > 1.0  # attenuation, not an 8-bit or [0, 1] rescale
    # Resampled to the model pitch: the physical size is kept.
    assert abs(stored.shape[1] * PITCH[0] - sample["image"].shape[1] * pitch[0]) <= PITCH[0]
    stats = json.loads((tiny_prepared / "stats.json").read_text())
    labelled = {load_sample(tiny_trains_archive, s, labels=True)["label_doc"].get("cargo_category") or "none"
                for s in ArchivePaths(tiny_trains_archive).scan_ids()}
    assert stats["categories"] == sorted(labelled)
    pixels, w = stats["class_pixels"]["train"], stats["class_weights"]
    present = sorted((pixels[n], w[i]) for i, n in enumerate(stats["classes"]) if pixels[n] > 0)
    assert len(present) >= 4 and present[0][1] > present[-1][1]  # rarer classes weigh more
    assert all(a[1] >= b[1] for a, b in zip(present, present[1:]))
    tiles = pd.read_csv(tiny_prepared / "tiles.csv")
    assert set(tiles["scan_id"]) == set(index["scan_id"])
    assert (pd.read_csv(tiny_prepared / "quarantine.csv").shape[0]) == 0
    assert stats["mix_ratio"] == 0.0


def test_prepare_is_deterministic(tiny_trains_archive, tiny_prepared, tmp_path):
    prepare(PrepareParams(raw_dir=str(tiny_trains_archive), out_dir=str(tmp_path), pitch_mm=PITCH, tile=64,
                          overlap=16))
    for f in ("index.csv", "tiles.csv", "stats.json"):
        assert (tmp_path / f).read_bytes() == (tiny_prepared / f).read_bytes()


def test_bad_archive_goes_to_quarantine_with_reasons(tiny_archive, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(tiny_archive, raw)
    scans = sorted((raw / "scans").glob("*.tiff"))
    corrupt, unlabelled = scans[0], scans[1]
    corrupt.write_bytes(corrupt.read_bytes()[:200])                        # truncated TIFF
    (raw / "labels" / f"{unlabelled.stem}.png").unlink()                   # missing label
    lines = (raw / "scans.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("2025", "25")                              # a bad date in Table 1
    (raw / "scans.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "prepared"
    stats = prepare(PrepareParams(raw_dir=str(raw), out_dir=str(out), pitch_mm=(40.0, 40.0), tile=64, overlap=16,
                                  extra_dirs=(str(tmp_path / "absent"),)), mix_ratio=0.5)
    q = pd.read_csv(out / "quarantine.csv")
    reasons = dict(zip(q["file"], q["reason"]))
    assert any(w in reasons[f"scans/{corrupt.name}"] for w in ("TIFF", "page"))
    assert "label mask not found" in reasons[f"labels/{unlabelled.stem}.png"]
    assert any(f.startswith("scans.csv:line 4") and "дата" in r for f, r in reasons.items())
    index = pd.read_csv(out / "index.csv", dtype=str)
    assert corrupt.stem not in set(index["scan_id"]) and unlabelled.stem not in set(index["scan_id"])
    assert len(index) == len(scans) - 2 and stats["quarantined"] == len(q)
    assert set(index["source"]) == {"synthetic"}  # an absent extra root mixes nothing in


def test_a_label_value_outside_the_classes_is_quarantined(tiny_archive, tmp_path):
    from PIL import Image

    raw = tmp_path / "raw"
    shutil.copytree(tiny_archive, raw)
    png = sorted((raw / "labels").glob("*.png"))[0]
    m = np.array(Image.open(png))
    m[0, 0] = 255  # the TIP 'unlabelled' value is accepted only from TIP archives
    Image.fromarray(m).save(png)
    prepare(PrepareParams(raw_dir=str(raw), out_dir=str(tmp_path / "p"), pitch_mm=(40.0, 40.0), tile=64, overlap=16))
    q = pd.read_csv(tmp_path / "p" / "quarantine.csv")
    assert q["reason"].str.contains("label value 255 is not a class").any()
