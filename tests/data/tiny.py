"""A tiny synthetic archive for the training-side tests (until the shared generator fixture lands).

Each scan is a 64×256 px wagon at 10 mm pitch: a steel body, a block of cargo and, in every other wagon, a
block of drugs hidden in the cargo (organic: the low-energy attenuation rises more than the high one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cargoscan.archive import encode_rle, write_json, write_labels, write_scan, write_table
from cargoscan.archive.classes import class_id
from cargoscan.ids import make_wagon_number

H, W = 64, 256
CATEGORIES = ("food", "timber")


def scan_id(i: int) -> str:
    return f"32701RF06202502{10 + i // 24:02d}{i % 24:02d}0000{i % 10}"


def make_tiny_archive(root: Path, n_trains: int = 6, wagons_per_train: int = 2, seed: int = 0) -> Path:
    """Write a valid archive under ``root`` and return it."""
    rng = np.random.default_rng(seed)
    (root / "scans").mkdir(parents=True, exist_ok=True)
    table, truth = [], []
    i = 0
    for t in range(n_trains):
        train = f"T{1000 + t}"
        for pos in range(wagons_per_train):
            sid = scan_id(i)
            wagon = make_wagon_number("covered", rng)
            a = np.zeros((2, H, W), np.float32)            # attenuation, high and low
            mask = np.zeros((H, W), np.uint8)
            a[:, 6:60, 8:248] += [[[0.3]], [[0.35]]]           # steel body
            mask[6:60, 8:248] = class_id("vehicle")
            c0 = int(rng.integers(20, 60))
            a[:, 14:56, c0:c0 + 150] += [[[1.0]], [[1.2]]]     # cargo
            mask[14:56, c0:c0 + 150] = class_id("cargo")
            threat = i % 2 == 1
            instances = []
            if threat:
                y0, x0 = int(rng.integers(18, 34)), int(rng.integers(c0 + 10, c0 + 110))
                a[:, y0:y0 + 16, x0:x0 + 30] += [[[0.6]], [[0.9]]]  # drugs: organic, low energy rises more
                mask[y0:y0 + 16, x0:x0 + 30] = class_id("drugs")
                bbox, rle = encode_rle(mask == class_id("drugs"))
                instances.append({"id": 1, "class": "drugs", "bbox": bbox, "mask": {"rle": rle},
                                  "material": "cocaine", "mass_kg": 12.0,
                                  "site": "in_cargo" if i % 4 == 1 else "false_floor", "unit": wagon})
            t_img = np.exp(-a) * (1 + 0.01 * rng.standard_normal(a.shape))
            image = np.clip(np.round(t_img * 65535), 0, 65535).astype(np.uint16)
            write_scan(root / "scans" / f"{sid}.tiff", image)
            category = CATEGORIES[(i // 2) % 2]
            write_json(root / "scans" / f"{sid}.json", {
                "schema_version": "1.0", "scan_id": sid, "post_code": "32701", "device_id": "RF06",
                "scanned_at": f"2025-02-{10 + i // 24:02d}T{i % 24:02d}:00:00+05:00", "energies_mev": [6.0, 4.0],
                "pixel_pitch_mm": {"row": 10.0, "column": 10.0}, "train_number": train, "wagon_number": wagon,
                "container_numbers": [], "direction": "import", "speed_kmh": 5.0, "wagon_type": "covered",
                "source": {"kind": "synthetic"}, "generator": {"name": "tiny", "version": "0", "seed": seed}})
            write_labels(root, sid, mask, {
                "schema_version": "1.0", "scan_id": sid, "shape": [H, W], "cargo_category": category,
                "units": [{"kind": "wagon", "number": wagon, "x0": 8, "x1": 248, "cargo_category": category}],
                "instances": instances})
            table.append({"п/п": i + 1, "номер состава": train, "платформа": wagon,
                          "дата": f"{10 + i // 24:02d}.02.2025", "время": f"{i % 24:02d}:00", "ID снимка": sid})
            truth.append({"scan_id": sid, "pi_number": f"PI{i}", "wagon_number": wagon, "container_number": "",
                          "true_category": category, "true_hs_code": "0901", "true_goods_description": category,
                          "true_net_weight_kg": "1000", "true_packages_count": "10", "mismatch": "none",
                          "has_threat": "1" if threat else "0", "threat_classes": "drugs" if threat else ""})
            i += 1
    write_table(root / "scans.csv", table)
    write_table(root / "truth.csv", truth)
    return root
