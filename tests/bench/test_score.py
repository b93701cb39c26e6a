"""Scoring an archive through the engine: contrast at native pitch, the per-wagon row, resumability."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from cargoscan.archive import ArchivePaths, read_json
from cargoscan.archive.classes import class_id
from cargoscan.bench.score import SCORE_COLUMNS, label_truth, max_cnr, overlaps, score_archive, wagon_row
from cargoscan.inspect.config import InspectParams
from cargoscan.models.artifact import sha256_file
from tests.bench.conftest import N_TEST, N_THREAT


def hand_made(contrast: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 2-page scan: noisy cargo (T ≈ 0.3, σ_T 0.01) with a 10 × 10 drug block whose transmission is lower by
    ``contrast`` σ_T, and its label mask (cargo around, drugs in the block)."""
    rng = np.random.default_rng(seed)
    t = 0.3 + 0.01 * rng.standard_normal((2, 60, 80))
    t[:, 25:35, 35:45] -= contrast * 0.01
    mask = np.full((60, 80), class_id("cargo"), np.uint8)
    mask[25:35, 35:45] = class_id("drugs")
    return np.clip(t * 65535, 0, 65535).astype(np.uint16), mask


def test_max_cnr_measures_a_region_against_its_ring_at_native_pitch():
    strong, mask = hand_made(6.0)
    faint, _ = hand_made(0.0)
    hi, ratio = max_cnr(strong, mask)
    # A = -ln T: a 0.06 drop of T at 0.3 raises A by ~0.22 against σ_A ≈ 0.033: CNR ≈ 6-7
    assert 5.0 < hi < 9.0
    assert max_cnr(faint, mask)[0] < 1.0
    clean = np.full_like(mask, class_id("cargo"))
    assert all(math.isnan(v) for v in max_cnr(strong, clean))        # no threat region: nothing to measure


def test_overlaps_uses_exclusive_ends():
    assert overlaps([0, 0, 10, 10], [9, 9, 20, 20])
    assert not overlaps([0, 0, 10, 10], [10, 0, 20, 10])
    assert not overlaps([0, 0, 10, 10], [0, 10, 10, 20])


def test_wagon_row_reads_the_contract_and_fails_closed():
    truth = {"scan_id": "s", "wagon_type": "flat", "category": "garments", "has_threat": True,
             "threat_classes": "drugs", "sites": "in_cargo"}
    doc = {"wagon_score": {"score": 0.7, "probability": 0.9, "threshold": 0.5, "over": True}, "suspicious": True,
           "complete": True, "reasons": [{"code": "THREAT_DRUGS"}, {"code": "MASS_MISMATCH"}],
           "risk_areas": [{"class": "drugs", "score": 0.8, "bbox_px": [5, 5, 9, 9], "id": 1}]}
    row = wagon_row(doc, truth, [[8, 8, 20, 20]], (3.0, math.nan), 0.4, "inspected")
    assert (row["score"], row["probability"], row["over"], row["hit"]) == (0.7, 0.9, True, True)
    assert row["reason_codes"] == "THREAT_DRUGS;MASS_MISMATCH" and row["max_cnr"] == 3.0
    assert json.loads(row["risk_areas"]) == [{"class": "drugs", "score": 0.8, "bbox_px": [5, 5, 9, 9]}]
    # an artifact without calibration: the probability is the score
    doc["wagon_score"] = {"score": 0.2, "threshold": 0.5, "over": False}
    row = wagon_row(doc, truth, [[50, 50, 60, 60]], (math.nan, math.nan), 0.4, "inspected")
    assert (row["probability"], row["over"], row["hit"]) == (0.2, False, False) and math.isnan(row["max_cnr"])
    # a failed analysis has no wagon score: over the threshold, probability 1 (as the engine would decide)
    failed = wagon_row({"suspicious": True, "complete": False, "reasons": [{"code": "ANALYSIS_FAILED_SCAN"}]},
                       truth, [], (math.nan, math.nan), 0.1, "inspected")
    assert failed["over"] is True and failed["probability"] == 1.0 and math.isnan(failed["score"])


@dataclass
class FakeInspection:
    scan_id: str
    score: float

    def to_dict(self) -> dict:
        return {"scan_id": self.scan_id, "decision": "", "suspicious": self.score >= 0.5, "complete": True,
                "reasons": [], "risk_areas": [],
                "wagon_score": {"score": self.score, "threshold": 0.5, "over": self.score >= 0.5},
                "provenance": {"scan_sha256": self.sha, "model": {"sha256": FakeInspector.model_sha},
                               "timings_ms": {"segmentation": 100.0}}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@dataclass
class FakeInspector:
    """Counts its inspections; scores a scan by the length of its ID's last digits (deterministic)."""

    model_sha: str = "f" * 64
    calls: list = field(default_factory=list)

    def inspect(self, scan_path, rows):
        path = Path(scan_path)
        self.calls.append((path.stem, len(rows or [])))
        out = FakeInspection(path.stem, int(path.stem[-3:]) % 100 / 100)
        out.sha = sha256_file(path)
        return out


FAKE = FakeInspector()


def fake_factory(artifact_dir, params):
    assert params.threads == 1              # one engine thread per worker process
    return FAKE


def test_score_archive_is_resumable(tiny_bench, tmp_path):
    root, out = tiny_bench["test"], tmp_path / "inspections"
    FAKE.calls.clear()
    first = score_archive("unused", root, InspectParams(), workers=1, out_dir=out, inspector_factory=fake_factory,
                          show_progress=False)
    assert list(first.columns) == SCORE_COLUMNS and len(first) == N_TEST
    assert len(FAKE.calls) == N_TEST and all(n > 0 for _, n in FAKE.calls)   # the archive's declarations given
    assert sorted(p.stem for p in out.glob("*.json")) == sorted(first["scan_id"])
    # a rerun skips every finished scan and gives the same rows
    again = score_archive("unused", root, InspectParams(), workers=1, out_dir=out, inspector_factory=fake_factory,
                          show_progress=False)
    assert len(FAKE.calls) == N_TEST and set(again["status"]) == {"skipped"}
    assert again["score"].tolist() == first["score"].tolist()
    assert again["seconds"].tolist() == [0.1] * N_TEST                     # the stored engine timings
    # an incomplete stored inspection is done again, and only that one
    victim = out / f"{first['scan_id'][0]}.json"
    doc = json.loads(victim.read_text())
    victim.write_text(json.dumps({**doc, "complete": False}))
    third = score_archive("unused", root, InspectParams(), workers=1, out_dir=out, inspector_factory=fake_factory,
                          show_progress=False)
    assert len(FAKE.calls) == N_TEST + 1 and FAKE.calls[-1][0] == first["scan_id"][0]
    assert (third["status"] == "inspected").sum() == 1


@pytest.mark.slow
def test_score_archive_through_the_engine_in_worker_processes(tiny_bench, stub_artifact, tmp_path):
    root, out = tiny_bench["test"], tmp_path / "inspections"
    params = InspectParams(required_checks=("scan", "validity", "model", "segmentation", "declaration"))
    df = score_archive(stub_artifact, root, params, workers=2, out_dir=out, show_progress=False)
    assert len(df) == N_TEST and set(df["status"]) == {"inspected"}
    assert int(df["has_threat"].sum()) == N_THREAT and int(df["clean"].sum()) == N_TEST - N_THREAT
    for r in df.itertuples():
        truth, boxes, _ = label_truth(root, r.scan_id, with_mask=False)
        assert (r.wagon_type, r.category, r.threat_classes) == (truth["wagon_type"], truth["category"],
                                                                truth["threat_classes"])
        stored = read_json(out / f"{r.scan_id}.json")          # the whole inspection is kept
        assert stored["wagon_score"]["threshold"] == r.threshold
        assert bool(stored["suspicious"]) == r.suspicious
        assert r.seconds > 0
    threat = df[df["has_threat"]]
    assert threat["max_cnr"].notna().all() and df.loc[~df["has_threat"], "max_cnr"].isna().all()
    assert set(ArchivePaths(root).scan_ids()) == set(df["scan_id"])
