"""Decisions of the engine on synthetic scans with known contents (stub model, fake decomposer)."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.inspect import CLEAR, SUSPICIOUS, InspectParams, Inspector
from tests.inspect.conftest import (declaration_row, fake_decomposer, make_scan, true_net_kg)


def codes(insp):
    return {r.code for r in insp.reasons}


def test_drugs_in_false_wall_is_suspicious_with_overlapping_area(tmp_path, inspector):
    truth = (300, 25, 330, 85)            # a 30-px-thick false wall at the end of the load, filled with drugs
    scan = make_scan(tmp_path, 5, drugs=truth)
    out = inspector.inspect(scan, [declaration_row(true_net_kg())])
    assert out.decision == SUSPICIOUS and out.suspicious and out.complete
    assert "THREAT_DRUGS" in codes(out)
    drugs = [a for a in out.risk_areas if a.cls == "drugs"]
    assert len(drugs) == 1
    x0, y0, x1, y1 = drugs[0].bbox_px
    ix = max(0, min(x1, truth[2]) - max(x0, truth[0])) * max(0, min(y1, truth[3]) - max(y0, truth[1]))
    union = (x1 - x0) * (y1 - y0) + (truth[2] - truth[0]) * (truth[3] - truth[1]) - ix
    assert ix / union > 0.8
    assert drugs[0].unit == "CSQU3054383"
    assert drugs[0].bbox_m[0] == pytest.approx(3.0, abs=0.05)        # 300 px × 10 mm
    assert drugs[0].bbox_m[3] == pytest.approx(0.30 + (160 - 25) * 0.01, abs=0.05)  # top edge above the rail


def test_clean_wagon_with_matching_declaration_is_clear(tmp_path, inspector):
    scan = make_scan(tmp_path, 6)
    out = inspector.inspect(scan, [declaration_row(true_net_kg())])
    assert out.decision == CLEAR, [r.text for r in out.reasons]
    assert not out.suspicious and out.complete and out.reasons == []
    assert out.cargo["predicted"] == "garments" and out.cargo["match"] is True
    assert out.references["nearest_category"] == "garments"
    assert out.provenance["scan_sha256"] and out.provenance["model"]["sha256"]


def test_mass_estimate_within_tolerance_of_truth(tmp_path, inspector):
    box = (60, 10, 340, 80)
    scan = make_scan(tmp_path, 7, cargo=box, lam=35.0)
    out = inspector.inspect(scan, [declaration_row(300.0)])
    truth = true_net_kg(box, lam=35.0)
    assert abs(out.mass["net_kg"] - truth) / truth < 0.05
    assert out.mass["sigma_kg"] > 0
    # declared 300 kg against ~550 ± 80 kg of goods: flagged
    assert out.mass["flag"] and "MASS_MISMATCH" in codes(out) and out.decision == SUSPICIOUS


def test_cargo_mismatch_and_density(tmp_path, inspector):
    scan = make_scan(tmp_path, 8)
    out = inspector.inspect(scan, [declaration_row(true_net_kg(), hs="7208")])   # declared steel
    assert "CARGO_MISMATCH" in codes(out)
    assert "DENSITY_MISMATCH" in codes(out)        # organic material cannot be steel
    # the library holds no steel references: that comparison did not run, so the analysis is incomplete
    assert "ANALYSIS_FAILED_REFERENCES" in codes(out)
    assert out.decision == SUSPICIOUS and not out.complete


def test_no_declaration_is_suspicious(tmp_path, inspector):
    scan = make_scan(tmp_path, 9)
    out = inspector.inspect(scan, None)
    assert "NO_DECLARATION" in codes(out) and out.suspicious
    other = inspector.inspect(scan, [declaration_row(100.0, wagon="12345678", container="")])
    assert "NO_DECLARATION" in codes(other)


def test_units_split_between_two_containers(tmp_path, inspector):
    # two containers with an air gap between them; drugs in the second
    root = tmp_path
    scan = make_scan(root, 10, width=600, containers=("CSQU3054383", "MSKU1234565"), cargo=None,
                     drugs=(420, 30, 450, 80))
    # rewrite with two blocks of cargo
    from cargoscan.archive import read_scan, write_scan
    img = read_scan(scan)
    t = np.exp(-0.9)
    img[:, 20:90, 20:280] = np.uint16(t * 65535)
    img[:, 20:90, 320:580] = np.where(img[:, 20:90, 320:580] < 10000, img[:, 20:90, 320:580], np.uint16(t * 65535))
    write_scan(scan, img)
    out = inspector.inspect(scan, [declaration_row(100.0)])
    assert out.material["units"]["method"] == "gaps"
    drugs = [a for a in out.risk_areas if a.cls == "drugs"]
    assert drugs and drugs[0].unit == "MSKU1234565"


def test_resampled_scan_pitch(tmp_path, artifact, library):
    """A scan at 5 mm inspected by a 10 mm model: boxes come back in scan pixels."""
    insp = Inspector.load(artifact, InspectParams(references_dir=str(library)), decomposer_factory=fake_decomposer)
    scan = make_scan(tmp_path, 11, width=1040, height=320, pitch=5.0, cargo=(80, 40, 720, 180),
                     drugs=(600, 50, 660, 170))
    out = insp.inspect(scan, [declaration_row(true_net_kg((80, 40, 720, 180), pitch=5.0))])
    drugs = [a for a in out.risk_areas if a.cls == "drugs"]
    assert len(drugs) == 1
    x0, y0, x1, y1 = drugs[0].bbox_px
    assert abs(x0 - 600) <= 4 and abs(x1 - 660) <= 4 and abs(y0 - 50) <= 4 and abs(y1 - 170) <= 4
    # truth: the cargo around the drugs plus the drugs (λ = A/μ, less the container walls), less 20 % cartons
    from tests.inspect.conftest import DRUGS_A, GARMENT_PACKAGING, MU, WALL, loaded_kg
    drugs_px = 60 * 120
    # and the coupler plates (A 0.25) and buffers (A 2.0) at both ends, 28 px wide, which the stub calls cargo too
    ends_kg = 2 * 28 * (60 * (0.25 / MU - WALL) + 40 * (2.0 / MU - WALL)) * 0.25 / 1000
    truth = (loaded_kg((80, 40, 720, 180), pitch=5.0) * (1 - drugs_px / (640 * 140))
             + (DRUGS_A / MU - WALL) * drugs_px * 0.25 / 1000 + ends_kg) * (1 - GARMENT_PACKAGING)
    assert abs(out.mass["net_kg"] - truth) / truth < 0.05


def test_wagon_score_operating_point(tmp_path, artifact, library):
    """A threat too small for an area still makes the wagon suspicious when its top-k score passes the
    artifact's wagon threshold (training's per-wagon operating point)."""
    import shutil

    from cargoscan.models.artifact import ArtifactConfig

    art = tmp_path / "art"
    shutil.copytree(artifact, art)
    cfg = ArtifactConfig.load(art)
    ArtifactConfig(**{**cfg.__dict__, "wagon_threshold": 0.9, "extra": {"score_top_k": 4}}).save(art)
    # the edited config is another artifact (its hash changed): the library is rebuilt for it
    from cargoscan.inspect.references import build_library
    from tests.inspect.conftest import make_scan as scan_for_library

    lib_root = tmp_path / "lib_raw"
    lib_scan = scan_for_library(lib_root, 14)
    from cargoscan.archive import write_table
    write_table(lib_root / "truth.csv", [{"scan_id": lib_scan.stem, "pi_number": "PI-1", "wagon_number": "45488855",
                "container_number": "CSQU3054383", "true_category": "garments", "true_hs_code": "6204",
                "true_goods_description": "платья", "true_net_weight_kg": "100", "true_packages_count": "1",
                "mismatch": "none", "has_threat": "0", "threat_classes": ""}])
    build_library(lib_root, Inspector.load(art, InspectParams(), decomposer_factory=fake_decomposer)).save(
        tmp_path / "lib")
    insp = Inspector.load(art, InspectParams(references_dir=str(tmp_path / "lib"), min_area_px=50),
                          decomposer_factory=fake_decomposer)
    scan = make_scan(tmp_path, 12, drugs=(300, 40, 303, 43))        # 9 px: below min_area_px
    out = insp.inspect(scan, [declaration_row(true_net_kg())])
    # the alarm is the wagon's; the area that raised it is shown even below the size filter, with its class
    assert out.wagon_score["over"] and out.suspicious
    assert [a.cls for a in out.risk_areas] == ["drugs"] and "THREAT_DRUGS" in codes(out)
    assert out.risk_areas[0].probability is not None
    clean = insp.inspect(make_scan(tmp_path, 13), [declaration_row(true_net_kg())])
    assert clean.wagon_score["score"] < 0.1 and clean.decision == CLEAR and not clean.risk_areas


def test_areas_below_the_wagon_threshold_do_not_raise_an_alarm(tmp_path, artifact):
    """A threat-class speck in a wagon whose score is under the operating point is not an alarm: it is counted,
    not shown (a wall read as a "hidden compartment" must not send a wagon red)."""
    import shutil

    from cargoscan.models.artifact import ArtifactConfig

    art = tmp_path / "art"
    shutil.copytree(artifact, art)
    cfg = ArtifactConfig.load(art)
    ArtifactConfig(**{**cfg.__dict__, "wagon_threshold": 1.0, "extra": {"score_top_k": 64}}).save(art)
    insp = Inspector.load(art, InspectParams(references_dir="", min_area_px=1, min_area_m2=0.0),
                          decomposer_factory=fake_decomposer)
    out = insp.inspect(make_scan(tmp_path, 12, drugs=(300, 40, 303, 43)), [declaration_row(true_net_kg())])
    assert not out.wagon_score["over"] and not out.risk_areas
    assert out.wagon_score["areas_below_threshold"] == 1
    assert not any(c.startswith("THREAT_") for c in codes(out))


def test_evidence_is_recorded_and_sealed_thresholds_tighten_the_checks(tmp_path, artifact, library):
    """Each budgeted check reports its evidence (1.0 = its physical rule); the artifact's sealed joint thresholds
    (export's decision budget) decide whether it flags — the same discrepancy under a tighter threshold passes."""
    import dataclasses
    import shutil

    from cargoscan.models.artifact import ArtifactConfig

    box = (60, 10, 340, 80)
    scan = make_scan(tmp_path, 14, cargo=box, lam=35.0)
    params = InspectParams(references_dir=str(library))
    loose = Inspector.load(artifact, params, decomposer_factory=fake_decomposer)
    out = loose.inspect(scan, [declaration_row(300.0)])               # ~550 kg declared as 300
    e = out.mass["evidence"]
    assert e > 1.0 and "MASS_MISMATCH" in codes(out)
    assert out.cargo["evidence"] is not None and out.cargo["declared_probability"] is not None

    art = tmp_path / "art"
    shutil.copytree(artifact, art)
    cfg = ArtifactConfig.load(art)
    dataclasses.replace(cfg, extra={**cfg.extra, "decision": {"thresholds": {"mass": e * 1.5}}}).save(art)
    tight = Inspector.load(art, params, decomposer_factory=fake_decomposer)
    assert tight.decision_thresholds == {"mass": e * 1.5}
    again = tight.inspect(scan, [declaration_row(300.0)])
    assert again.mass["evidence"] == pytest.approx(e) and "MASS_MISMATCH" not in codes(again)


def test_cargo_evidence_grows_as_the_head_rules_the_declared_category_out():
    from cargoscan.inspect.declared import cargo_evidence

    assert cargo_evidence(0.1, 0.1) == pytest.approx(1.0)
    assert cargo_evidence(0.5, 0.1) < 1.0 < cargo_evidence(0.01, 0.1) == pytest.approx(2.0)
    assert np.isfinite(cargo_evidence(0.0, 0.1))


def _with_fusion(tmp_path, artifact, record, key: str = "category_fusion") -> Path:
    """A copy of the test artifact with a record sealed in its config.json (a category fusion by default)."""
    import dataclasses
    import shutil

    from cargoscan.models.artifact import ArtifactConfig

    art = tmp_path / "sealed"
    shutil.copytree(artifact, art)
    cfg = ArtifactConfig.load(art)
    dataclasses.replace(cfg, extra={**cfg.extra, key: record}).save(art)
    return art


def _steel_fusion(head: list[str]) -> dict:
    """A fusion that reads steel products whatever it sees: zero weights, intercepts for steel."""
    from cargoscan.inspect.fusion import feature_names

    n, classes = len(feature_names(head)), ["garments", "steel_products", "empty"]
    return {"classes": classes, "head_categories": head, "mean": [0.0] * n, "scale": [1.0] * n,
            "coef": [[0.0] * n for _ in classes], "intercept": [0.0, 12.0, 0.0], "c": 1.0}


def test_a_sealed_fusion_decides_the_category_after_the_material_check(tmp_path, artifact, library):
    """With a fusion sealed at export, the cargo category is the fusion's (the head's probabilities kept beside
    it), read after the material check measured the load; the declaration is judged against it."""
    from cargoscan.models.artifact import ArtifactConfig

    head = list(ArtifactConfig.load(artifact).categories)
    art = _with_fusion(tmp_path, artifact, _steel_fusion(head))
    params = InspectParams(references_dir=str(library))
    scan = make_scan(tmp_path, 21, cargo=(60, 10, 340, 80), lam=35.0)
    plain = Inspector.load(artifact, params, decomposer_factory=fake_decomposer).inspect(
        scan, [declaration_row(true_net_kg((60, 10, 340, 80), 35.0))])
    fused = Inspector.load(art, params, decomposer_factory=fake_decomposer).inspect(
        scan, [declaration_row(true_net_kg((60, 10, 340, 80), 35.0))])
    assert plain.cargo["method"] == "head" and "CARGO_MISMATCH" not in codes(plain)
    assert fused.cargo["method"] == "fusion" and fused.cargo["predicted"] == "steel_products"
    assert set(fused.cargo["head_probabilities"]) == set(head)
    assert "CARGO_MISMATCH" in codes(fused) and fused.suspicious
    assert fused.cargo["evidence"] > 1.0


def test_a_broken_fusion_record_fails_the_cargo_check_closed(tmp_path, artifact, library):
    from cargoscan.models.artifact import ArtifactConfig

    record = _steel_fusion(list(ArtifactConfig.load(artifact).categories))
    record["coef"] = record["coef"][:-1]
    art = _with_fusion(tmp_path, artifact, record)
    inspector = Inspector.load(art, InspectParams(references_dir=str(library)), decomposer_factory=fake_decomposer)
    assert inspector.fusion is None and "shapes disagree" in inspector.fusion_error
    out = inspector.inspect(make_scan(tmp_path, 22), [declaration_row(true_net_kg())])
    assert out.suspicious and "ANALYSIS_FAILED_MODEL" in codes(out)


def test_a_sealed_mass_calibration_is_read_and_a_broken_one_fails_the_mass_check_closed(tmp_path, artifact,
                                                                                         library):
    """The mass blocks say whether they were calibrated and keep what was read; a calibration record that does
    not read fails the mass check (never a lower bound passed off as measured)."""
    params = InspectParams(references_dir=str(library))
    good = _with_fusion(tmp_path / "good", artifact, {"beta": {"garments": 0.1}, "spread": {"garments": 0.02}},
                        "mass_calibration")
    inspector = Inspector.load(good, params, decomposer_factory=fake_decomposer)
    assert inspector.mass_calibration.beta == {"garments": 0.1} and inspector.mass_calibration_error is None
    out = inspector.inspect(make_scan(tmp_path, 23), [declaration_row(true_net_kg())])
    assert out.mass["calibrated"] is False and out.mass["net_read_kg"] == out.mass["net_kg"]   # nothing dark
    assert {"net_read_kg", "sigma_measured_kg", "category"} <= set(out.mass["units"][0])
    broken = _with_fusion(tmp_path / "broken", artifact, {"beta": {"garments": 0.1}}, "mass_calibration")
    inspector = Inspector.load(broken, params, decomposer_factory=fake_decomposer)
    assert inspector.mass_calibration is None and "KeyError" in inspector.mass_calibration_error
    out = inspector.inspect(make_scan(tmp_path, 24), [declaration_row(true_net_kg())])
    assert out.suspicious and "ANALYSIS_FAILED_MODEL" in codes(out)
    assert [c.status for c in out.checks if c.name == "mass"] == ["failed"]
    assert out.mass["net_kg"] > 0 and out.material["overall"]      # measured all the same, and shown


def _two_containers(tmp_path, i: int) -> "Path":
    """A flat wagon of two containers with an air gap between them, the same garment load in each."""
    from cargoscan.archive import read_scan, write_scan

    scan = make_scan(tmp_path, i, width=600, containers=("CSQU3054383", "MSKU1234565"), cargo=(20, 20, 280, 90))
    img = read_scan(scan)
    img[:, 20:90, 320:580] = img[:, 20:90, 20:280]      # the same load, with its own quantum noise pattern
    write_scan(scan, img)
    return scan


def test_each_container_is_judged_against_its_own_declaration_row(tmp_path, inspector):
    """Garments in both containers; the second declared as steel. Judged as one wagon, the garment row would
    cover the lie (P(garments or steel) is high); judged per unit, the second container is a mismatch and the
    first is not. Each unit's mass is its own load against its own declared net mass."""
    from tests.inspect.conftest import true_net_kg

    scan = _two_containers(tmp_path, 23)
    each = true_net_kg((20, 20, 280, 90))
    rows = [declaration_row(each, pi="PI-0001"),
            declaration_row(each / 2, hs="7208", container="MSKU1234565", pi="PI-0002")]
    out = inspector.inspect(scan, rows)
    units = {u["unit"]: u for u in out.cargo["units"]}
    assert set(units) == {"CSQU3054383", "MSKU1234565"}
    assert units["CSQU3054383"]["declared"] == ["garments"] and units["CSQU3054383"]["match"] is True
    assert units["MSKU1234565"]["declared"] == ["steel_products"] and units["MSKU1234565"]["match"] is False
    assert units["MSKU1234565"]["evidence"] > 1.0 > units["CSQU3054383"]["evidence"]
    cargo = [r for r in out.reasons if r.code == "CARGO_MISMATCH"]
    assert len(cargo) == 1 and "(MSKU1234565: " in cargo[0].text and out.suspicious
    assert out.cargo["unit"] == "MSKU1234565" and set(out.cargo["declared"]) == {"garments", "steel_products"}
    masses = {m["unit"]: m for m in out.mass["units"]}
    assert masses["CSQU3054383"]["declared_net_kg"] == pytest.approx(each, abs=0.1)
    assert masses["MSKU1234565"]["declared_net_kg"] == pytest.approx(each / 2, abs=0.1)
    for m in masses.values():      # each container holds its own half of the load
        assert m["gross_in_beam_kg"] == pytest.approx(out.mass["gross_in_beam_kg"] / 2, rel=0.05)
    assert {m["unit"] for m in out.material["per_unit"]} == set(units)
    # the mass is decided per unit: the container declared at half its weight, named; the wagon's evidence is its
    mass_reasons = [r.text for r in out.reasons if r.code == "MASS_MISMATCH"]
    assert out.mass["decided_by"] == "units" and len(mass_reasons) == 1 and "MSKU1234565: " in mass_reasons[0]
    assert masses["MSKU1234565"]["flag"] and not masses["CSQU3054383"]["flag"]
    assert out.mass["evidence"] == max(m["evidence"] for m in masses.values())
    # the same wagon with honest rows: neither unit is a mismatch
    honest = inspector.inspect(scan, [rows[0], declaration_row(each, container="MSKU1234565", pi="PI-0002")])
    assert "CARGO_MISMATCH" not in codes(honest) and all(u["match"] for u in honest.cargo["units"])


def test_a_single_unit_wagon_is_its_own_unit(tmp_path, inspector):
    out = inspector.inspect(make_scan(tmp_path, 24), [declaration_row(true_net_kg())])
    (unit,) = out.cargo["units"]
    assert unit["unit"] == "CSQU3054383" and unit["predicted"] == out.cargo["predicted"]
    (mass,) = out.mass["units"]
    assert mass["net_kg"] == out.mass["net_kg"] and mass["unit"] == "CSQU3054383"


def test_the_conclusion_lists_each_container_with_its_category_and_mass(tmp_path, inspector):
    from cargoscan.inspect.conclusion import layout, load_form
    from tests.inspect.conftest import true_net_kg

    each = true_net_kg((20, 20, 280, 90))
    out = inspector.inspect(_two_containers(tmp_path, 25), [
        declaration_row(each, pi="PI-0001"), declaration_row(each, hs="7208", container="MSKU1234565", pi="PI-0002")])
    sections = {s["title"]: s for s in layout(out.to_dict(), load_form())}
    cargo = sections["Груз по контейнерам (каждый — против своей строки декларации)"]["rows"]
    mass = sections["Масса по контейнерам"]["rows"]
    assert [r[0] for r in cargo] == [r[0] for r in mass] == ["CSQU3054383", "MSKU1234565"]
    assert "изделия из чёрных металлов" in cargo[1][3] and "одежда" in cargo[0][3]


def test_the_cargo_check_sums_every_form_a_declared_code_may_take(tmp_path, inspector):
    """Methanol (2905) is a chemical by its code and a liquid in a tank: P(declared) is the sum of both."""
    out = inspector.inspect(make_scan(tmp_path, 26), [declaration_row(true_net_kg(), hs="2905")])
    (unit,) = out.cargo["units"]
    assert unit["declared"] == ["chemicals"] and unit["accepted"] == ["chemicals", "liquids"]
    p = unit["probabilities"]
    assert unit["declared_probability"] == pytest.approx(p["chemicals"] + p["liquids"], abs=2e-4)
    # the stub head finds neither form likelier: the physics judges by the code's own category
    assert out.material["judged_as"] == ["chemicals"] and out.material["per_unit"][0]["judged_as"] == ["chemicals"]


def test_a_unit_declared_empty_is_left_to_the_mass_check(tmp_path, artifact, library):
    """A fusion that knows "empty" reads steel in a container declared empty: P(empty) is recorded, but no cargo
    evidence is raised — the load in an empty container is the mass check's finding."""
    from cargoscan.models.artifact import ArtifactConfig

    art = _with_fusion(tmp_path, artifact, _steel_fusion(list(ArtifactConfig.load(artifact).categories)))
    inspector = Inspector.load(art, InspectParams(references_dir=str(library)), decomposer_factory=fake_decomposer)
    out = inspector.inspect(make_scan(tmp_path, 27), [declaration_row(0.0, hs="8609")])
    (unit,) = out.cargo["units"]
    assert unit["accepted"] == ["empty"] and unit["declared_probability"] < 0.01 and unit["evidence"] is None
    assert "CARGO_MISMATCH" not in codes(out) and "MASS_MISMATCH" in codes(out) and out.suspicious


def test_rows_that_name_no_container_leave_the_mass_to_the_whole_wagon(tmp_path, inspector):
    """A wagon-level declaration row (no container number) belongs to no unit: the wagon's own mass decides."""
    from tests.inspect.conftest import true_net_kg

    each = true_net_kg((20, 20, 280, 90))
    out = inspector.inspect(_two_containers(tmp_path, 28), [declaration_row(2 * each, container="")])
    assert "decided_by" not in out.mass and "MASS_MISMATCH" not in codes(out)
    assert [m["declared_net_kg"] for m in out.mass["units"]] == [None, None]
