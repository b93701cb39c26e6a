"""A tiny world for the report tests: an archive written through ``cargoscan.archive``, an evaluate-stage
``metrics.json``, an exported model's card and config, and inspection results.

The metrics and inspection documents below are RECORDED EXAMPLES of the evaluate stage's and the inspection
engine's outputs (contract B), written by hand to the agreed formats;
they are not produced by those parts here.
Nine scans on four trains cover each case a reviewer must see:

=====  =======  ==========================  =========================  ================================
scan   train    truth                       inspection                 shows
=====  =======  ==========================  =========================  ================================
0      2417     drugs, false_front_wall     drugs area overlapping     a detection
1      2417     clean                       clean                      honest, no flag
2      2417     compartment, false_floor    no area                    a miss
3      2417     clean                       weapon area                a false alarm
4      3001     cigarettes, wrong goods     cigarettes area, category  detection + wrong goods
5      3001     clean, weight understated   mass +30 %, weight flag    understated weight
6      4420     clean                       ANALYSIS_FAILED_           a held corridor
7      4420     clean                       (no result file)           a missing analysis
8      5012     clean                       clean                      a train not held
=====  =======  ==========================  =========================  ================================
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from cargoscan.archive import ArchivePaths, encode_rle, write_json, write_labels, write_scan, write_table
from cargoscan.archive.classes import class_id, class_names
from cargoscan.archive.format import DECLARATIONS_TABLE, RFID_TABLE, SCANS_TABLE, TRUTH_TABLE
from cargoscan.ids import make_container_number, make_wagon_number

H, W = 48, 160
TRAINS = ["2417", "2417", "2417", "2417", "3001", "3001", "4420", "4420", "5012"]
WAGON_KINDS = ["covered", "flat", "covered", "flat", "flat", "covered", "flat", "flat", "covered"]
CATEGORY = ["textiles", "machinery", "food", "textiles", "textiles", "food", "machinery", "food", "textiles"]
TRUE_CATEGORY = CATEGORY[:4] + ["tobacco"] + CATEGORY[5:]
THREATS = {0: ("drugs", "false_front_wall", (12, 14, 22, 34)), 2: ("hidden_compartment", "false_floor",
                                                                   (60, 34, 110, 40)),
           4: ("cigarettes", "in_cargo", (90, 16, 130, 36))}
MISMATCH = {4: "wrong_goods", 5: "weight_understated"}
DECLARED_NET = [18000.0, 21000.0, 15000.0, 17500.0, 20000.0, 14000.0, 22000.0, 16000.0, 19000.0]
TRUE_NET = [d * (1.3 if MISMATCH.get(i) == "weight_understated" else 1.0) for i, d in enumerate(DECLARED_NET)]
ESTIMATE_ERROR = [0.04, -0.03, 0.06, -0.05, 0.02, 0.0, 0.0, 0.05, -0.02]   # the engine's relative mass error
START = datetime(2025, 2, 18, 17, 47, 2, tzinfo=timezone(timedelta(hours=5)))


def scan_id(i: int) -> str:
    return f"32701RF06{(START + timedelta(minutes=3 * i)):%Y%m%d%H%M%S}{i % 10}"


def write_archive(root: Path) -> dict:
    """Write the nine-scan archive (scans, sidecars, labels, the four tables); returns its identities."""
    rng = np.random.default_rng(7)
    paths = ArchivePaths(root)
    paths.scans.mkdir(parents=True, exist_ok=True)
    ids = {"scan_id": [], "wagon": [], "container": []}
    table1, decl, truth, rfid = [], [], [], []
    for i in range(len(TRAINS)):
        sid, wagon, cont = scan_id(i), make_wagon_number(WAGON_KINDS[i], rng), make_container_number(rng)
        ids["scan_id"].append(sid), ids["wagon"].append(wagon), ids["container"].append(cont)
        t = np.full((H, W), 0.95, dtype=np.float32)
        mask = np.zeros((H, W), dtype=np.uint8)
        t[40:46, 4:156], mask[40:46, 4:156] = 0.2, class_id("vehicle")
        t[10:40, 8:152], mask[10:40, 8:152] = 0.45, class_id("cargo")
        instances = [{"id": 1, "class": "cargo", "bbox": [8, 10, 152, 40], "material": "textile",
                      "mass_kg": TRUE_NET[i], "site": "in_cargo", "unit": cont,
                      "mask": {"rle": encode_rle(mask == class_id("cargo"))[1]}}]
        if i in THREATS:
            cls, site, (x0, y0, x1, y1) = THREATS[i]
            region = np.zeros((H, W), dtype=bool)
            region[y0:y1, x0:x1] = True
            t[region] *= 0.6
            mask[region] = class_id(cls)
            bbox, rle = encode_rle(region)
            instances.append({"id": 2, "class": cls, "bbox": bbox, "material": "cocaine", "mass_kg": 40.0,
                              "site": site, "unit": cont, "mask": {"rle": rle}})
        noise = rng.normal(0, 0.01, size=(2, H, W))
        image = np.clip(np.stack([t, t ** 1.1]) + noise, 0, 1)
        write_scan(paths.scan_tiff(sid), (image * 65535).astype(np.uint16))
        stamp = START + timedelta(minutes=3 * i)
        write_json(paths.sidecar(sid), {
            "schema_version": "1.0", "scan_id": sid, "post_code": "32701", "device_id": "RF06",
            "scanned_at": stamp.isoformat(), "energies_mev": [6.0, 4.0], "pixel_pitch_mm": {"row": 5.0,
                                                                                            "column": 5.0},
            "train_number": TRAINS[i], "wagon_number": wagon, "container_numbers": [cont],
            "direction": "import",
            "speed_kmh": 5.0, "wagon_type": WAGON_KINDS[i], "source": {"kind": "synthetic"},
            "generator": {"name": "fixture", "version": "0", "seed": i}})
        write_labels(root, sid, mask, {
            "schema_version": "1.0", "scan_id": sid, "shape": [H, W], "cargo_category": TRUE_CATEGORY[i],
            "wagon_type": WAGON_KINDS[i], "instances": instances,
            "units": [{"kind": "container", "number": cont, "x0": 8, "x1": 152,
                       "cargo_category": TRUE_CATEGORY[i],
                       "net_mass_kg": TRUE_NET[i]}]})
        table1.append({"п/п": str(i + 1), "номер состава": TRAINS[i], "платформа": wagon,
                       "дата": f"{stamp:%d.%m.%Y}", "время": f"{stamp:%H:%M}", "ID снимка": sid})
        decl.append({"pi_number": f"PI{i:04d}", "train_number": TRAINS[i], "wagon_number": wagon,
                     "container_number": cont, "hs_code": "6204", "goods_description": CATEGORY[i],
                     "packages_count": "100", "packaging": "boxes",
                     "gross_weight_kg": f"{DECLARED_NET[i] + 2300:.0f}",
                     "net_weight_kg": f"{DECLARED_NET[i]:.0f}", "consignor": "ТОО «Пример»",
                     "consignee": "ООО «Образец»"})
        truth.append({"scan_id": sid, "pi_number": f"PI{i:04d}", "wagon_number": wagon,
                      "container_number": cont,
                      "true_category": TRUE_CATEGORY[i], "true_hs_code": "6204",
                      "true_goods_description": TRUE_CATEGORY[i], "true_net_weight_kg": f"{TRUE_NET[i]:.0f}",
                      "true_packages_count": "100", "mismatch": MISMATCH.get(i, "none"),
                      "has_threat": "1" if i in THREATS else "0",
                      "threat_classes": THREATS[i][0] if i in THREATS else ""})
        rfid.append({"read_at": stamp.isoformat(), "reader_id": "R1", "train_number": TRAINS[i],
                     "position": str(i + 1), "tag_payload": wagon})
    for name, rows in ((SCANS_TABLE, table1), (DECLARATIONS_TABLE, decl), (TRUTH_TABLE, truth), (RFID_TABLE,
                                                                                                 rfid)):
        write_table(paths.table(name), rows)
    return ids


def metrics_document() -> dict:
    """A recorded example of the evaluate stage's ``reports/metrics.json`` (cargoscan.training.evaluate)."""
    names = class_names()
    return {
        "segmentation": {"iou": {n: round(0.9 - 0.07 * k, 4) for k, n in enumerate(names)},
                         "dice": {n: round(0.94 - 0.05 * k, 4) for k, n in enumerate(names)},
                         "miou": 0.655, "threat_miou": 0.515},
        "detection": {"auroc": 0.9713, "ap": 0.95, "threshold": 0.61, "target_far": 0.02,
                      "detection_rate": 0.874, "false_alarm_rate": 0.0125, "n_positive": 42, "n_negative": 80,
                      "val_false_alarm_rate": 0.018,
                      "per_class": {"drugs": {"n": 19, "detection_rate": 17 / 19,
                                              "class_detection_rate": 0.9},
                                    "weapon": {"n": 11, "detection_rate": 8 / 11,
                                               "class_detection_rate": 0.8},
                                    "cigarettes": {"n": 12, "detection_rate": 1.0,
                                                   "class_detection_rate": 1.0}},
                      "per_site": {"false_front_wall": {"n": 10, "detection_rate": 0.9},
                                   "false_floor": {"n": 8, "detection_rate": 0.625},
                                   "in_cargo": {"n": 24, "detection_rate": 23 / 24}}},
        "operating_point": {"wagon_threshold": 0.61, "class_thresholds": {}, "score_top_k": 16,
                            "chosen_on": "val", "target_far": 0.02},
        "category": {"accuracy": 14 / 17, "n": 17},   # = confusion.csv below
        "wagons": {"val": 60, "test": 122, "test_with_threat": 42},
        "visibility": {"per_class": {"drugs": {"regions": 20, "median_pixels": 171.0, "median_cnr_a_high": 1.69,
                                               "median_cnr_ratio": 0.34, "visible_share": 0.6},
                                     "cigarettes": {"regions": 12, "median_pixels": 10528.0,
                                                    "median_cnr_a_high": 0.28, "median_cnr_ratio": 0.35,
                                                    "visible_share": 0.25}},
                       "wagons_visible": 21, "detection_rate_visible": 19 / 21},
    }


def write_metrics(reports: Path) -> None:
    """``metrics.json`` and its sibling plot CSVs, as the evaluate stage writes them (recorded examples)."""
    reports.mkdir(parents=True, exist_ok=True)
    write_json(reports / "metrics.json", metrics_document())
    (reports / "roc.csv").write_text("fpr,tpr\n0,0\n0,0.62\n0.0125,0.874\n0.05,0.95\n1,1\n", encoding="utf-8")
    pairs = [("food", "food")] * 5 + [("food", "machinery"), ("machinery", "machinery")] * 2 + \
        [("textiles", "textiles")] * 6 + [("textiles", "tobacco"), ("tobacco", "tobacco")]
    (reports / "confusion.csv").write_text("actual,predicted\n" + "".join(f"{a},{p}\n" for a, p in pairs),
                                           encoding="utf-8")
    rng = np.random.default_rng(3)
    y = rng.random(40) < 0.4
    score = np.clip(np.where(y, 0.7, 0.2) + rng.normal(0, 0.2, 40), 0, 1)
    split = ["test" if i % 4 else "val" for i in range(len(y))]
    rows = "".join(f"W{i:03d},{sp},{int(t)},{v:.4f}\n" for i, (sp, t, v) in enumerate(zip(split, y, score)))
    (reports / "wagon_scores.csv").write_text("scan_id,split,has_threat,score\n" + rows, encoding="utf-8")


def inspection_document(i: int, sid: str, cont: str) -> dict:
    """A recorded example of one inspection result (contract B) for scan ``i`` of the fixture archive."""
    areas, reasons = [], []
    if i in (0, 4):
        cls, _, (x0, y0, x1, y1) = THREATS[i]
        areas.append({"id": 1, "class": cls, "score": 0.93 if i == 0 else 0.81, "bbox_px": [x0 - 2, y0, x1,
                                                                                            y1 + 1],
                      "bbox_m": [x0 * 0.005, y0 * 0.005, x1 * 0.005, y1 * 0.005], "area_m2": 0.05,
                      "unit": cont})
        reasons.append({"code": f"THREAT_{cls.upper()}", "text": "обнаружена область риска"})
    if i == 3:
        areas.append({"id": 1, "class": "weapon", "score": 0.71, "bbox_px": [120, 12, 140, 30],
                      "bbox_m": [0.6, 0.06, 0.7, 0.15], "area_m2": 0.02, "unit": cont})
        reasons.append({"code": "THREAT_WEAPON", "text": "обнаружена область риска: оружие"})
    est = DECLARED_NET[i] * (1 + ESTIMATE_ERROR[i]) * (1.3 if i == 5 else 1.0)
    weight_flag = abs(est - DECLARED_NET[i]) / DECLARED_NET[i] > 0.1
    if weight_flag:
        reasons.append({"code": "MASS_MISMATCH", "text": "масса не соответствует заявленной"})
    predicted = "tobacco" if i == 4 else CATEGORY[i]
    if predicted != CATEGORY[i]:
        reasons.append({"code": "CARGO_MISMATCH", "text": "груз не соответствует декларации"})
    complete = i != 6
    if not complete:
        areas, reasons = [], [{"code": "ANALYSIS_FAILED_CORRUPT_SCAN",
                               "text": "анализ не выполнен: файл повреждён"}]
    suspicious = bool(reasons)
    top = max((a["score"] for a in areas), default=0.05 + 0.01 * i)
    wagon = {"score": top, "probability": top, "threshold": 0.6, "over": top >= 0.6, "top_k": 16}
    return {
        "schema_version": "1.0", "scan_id": sid, "wagon_score": wagon if complete else {},
        "decision": "Контроль ИДК, под подозрением" if suspicious else "Контроль ИДК, без подозрения",
        "suspicious": suspicious, "complete": complete, "reasons": reasons, "risk_areas": areas,
        "cargo": {"predicted": predicted, "confidence": 0.9 if i != 7 else 0.55, "declared": [CATEGORY[i]],
                  "probabilities": {predicted: 0.9,
                                    **({CATEGORY[i]: 0.05} if predicted != CATEGORY[i] else {})},
                  "match": predicted == CATEGORY[i]},
        "material": {"overall": {"class": "organic"}, "density_flag": False},
        "mass": {"net_kg": est, "sigma_kg": 0.05 * est, "declared_net_kg": DECLARED_NET[i],
                 "difference_rel": (est - DECLARED_NET[i]) / DECLARED_NET[i], "flag": weight_flag,
                 "tolerance_rel": 0.1},
        "references": {"similarity_declared": 0.8, "nearest_category": CATEGORY[i]},
        "meta": {"scan_id": sid, "train_number": TRAINS[i]},
        "provenance": {"scan_sha256": "0" * 64, "model": {"name": "cargoscan-seg", "version": "3",
                                                          "sha256": "1" * 64},
                       "thresholds_version": "1", "software_version": "0.1.0",
                       "timings_ms": {"read": 40.0, "segmentation": 860.0 + 100 * i, "material": 100.0}},
        "declaration": {"pi_number": f"PI{i:04d}"},
        "inspected_at": (START + timedelta(minutes=3 * i + 1)).isoformat(),
    }


def write_world(root: Path) -> dict[str, Path]:
    """Archive, metrics, model card and inspections under ``root``; returns the paths by parameter name."""
    ids = write_archive(root / "raw")
    write_metrics(root / "reports")
    model = root / "models" / "export"
    model.mkdir(parents=True)
    (model / "model_card.md").write_text("# Model card: cargoscan-seg v3\n\nUnet-ResNet18, fixture.\n\n"
                                         "## Limits\n\nTrained on synthetic scans only.\n", encoding="utf-8")
    insp = root / "inspections"
    insp.mkdir()
    for i, (sid, cont) in enumerate(zip(ids["scan_id"], ids["container"])):
        if i != 7:   # scan 7's analysis is missing
            write_json(insp / f"{sid}.json", inspection_document(i, sid, cont))
    (insp / "summary.csv").write_text("scan_id,decision\n",
                                      encoding="utf-8")   # the batch summary: not an inspection
    return {"archive": root / "raw", "metrics": root / "reports" / "metrics.json", "model_dir": model,
            "inspections": insp, "out_dir": root / "reports", "figures_dir": root / "reports" / "figures",
            "work_dir": root / "executed"}
