"""The dataset report: its tables and figures on the report world and on a synthesised archive."""

import dataclasses
import json

from cargoscan.reports import dataset as D
from cargoscan.reports import sources as S
from cargoscan.synth.realism import load_targets
from tests.reports.report_world import MISMATCH, THREATS, TRAINS


def test_contents_and_class_balance(world):
    arc = S.read_archive(world["archive"])
    c = D.contents(arc)["value"]
    assert c["scans"] == len(TRAINS) and c["trains"] == len(set(TRAINS))
    assert c["scans with a threat"] == len(THREATS)
    cb = D.class_balance(arc, 0).set_index("class")
    assert abs(sum(float(v) for v in cb["pixel share, %"]) - 100.0) < 0.05
    assert cb.loc["drugs", "instances"] == 1 and cb.loc["weapon", "instances"] == 0


def test_concealment_sites_and_weights(world):
    arc = S.read_archive(world["archive"])
    sites = D.concealment_sites(arc)
    assert sites.loc["drugs", "false_front_wall"] == 1 and sites.loc["total", "total"] == len(THREATS)
    summary = D.mismatch_summary(D.weights(arc))
    assert summary.loc["weight_understated", "median difference, %"] == 30.0
    assert summary["consignments"].sum() == len(TRAINS)
    assert set(summary.index) == {"none", *MISMATCH.values()}


def test_samples_prefer_threats(world):
    items = D.sample_items(S.read_archive(world["archive"]), 4)
    assert len(items) == 4 and sum("clean" not in i["title"] for i in items) == len(THREATS)
    assert items[0]["image"].shape == (2, 48, 160) and items[0]["mask"].shape == (48, 160)


def test_realism_against_targets(world, monkeypatch):
    # the shapes of cargoscan.synth.realism.realism_stats and realism_targets.json
    monkeypatch.setattr(D, "realism_function", lambda: lambda img: {
        "zero_fraction": {"high": 0.03, "low": 0.2}, "median_r": None, "sigma_a_high": [0.01, None, 0.5]})
    monkeypatch.setattr(D, "read_realism_targets", lambda: {
        "source": "six real scans", "zero_pixel_fraction": {"high": [0.02, 0.05], "low": [0.026, 0.135]},
        "dual_energy_ratio_R": {"median_per_scan": [1.07, 1.10]},
        "noise_sigma_of_A_high": {"bands": [[0.1, 0.5], [0.5, 1.5], [1.5, 3]],
                                  "sigma": [[0.0, 0.02], [0.0, 0.1], [0.07, 0.157]]}})
    table, note = D.realism(S.read_archive(world["archive"]), 2)
    t = table.set_index("statistic")["within"]
    assert t["zero-pixel fraction, high"] == "yes" and t["zero-pixel fraction, low"] == "NO"
    assert t["noise σ of A_high, A 0.1–0.5"] == "yes" and t["noise σ of A_high, A 1.5–3"] == "NO"
    assert not any("median R" in k or "0.5–1.5" in k for k in t.index)   # nothing measured: no row
    assert "2 scans" in note


def test_realism_missing_says_why(world, monkeypatch):
    monkeypatch.setattr(D, "realism_function", lambda: None)
    table, note = D.realism(S.read_archive(world["archive"]), 2)
    assert table is None and "not available" in note


def test_texture_table_reads_the_archives_record(world, tmp_path):
    arc = dataclasses.replace(S.read_archive(world["archive"]), root=tmp_path)
    gates = [{"gate": "3.0-5.0/std_A", "real": 1.54, "synthetic": 2.4, "allowed": [1.155, 1.925], "passed": False},
             {"gate": "load/blocked_share", "real": 0.034, "synthetic": None, "allowed": [0.0, 0.05],
              "passed": False},
             {"gate": "0.5-1.5/std_A", "real": 0.607, "synthetic": 0.6, "allowed": [0.455, 0.759], "passed": True}]
    (tmp_path / "realism.json").write_text(json.dumps({"texture": {"n_patches": 17}, "gates": gates,
                                                       "n_measured": 3, "measured_on": "loaded flats"}))
    table, note = D.texture(arc, 2)
    t = table.set_index("gate")
    assert list(t["within"]) == ["NO", "NO", "yes"] and t.loc["load/blocked_share", "this archive"] == "—"
    assert t.loc["3.0-5.0/std_A", "this archive"] == "2.4"
    assert note.startswith("1 of 3 texture gates") and "17 patches" in note and "3 scans" in note


def test_texture_crops_one_row_per_band(tiny_archive):
    fig = D.texture_crops(S.read_archive(tiny_archive), 6, per_band=3)
    bands = list(load_targets()["texture"]["bands"])
    assert fig is not None and len(fig.axes) == 3 * len(bands)
    shown = [len(ax.images) for ax in fig.axes]
    assert sum(shown) >= 3 and set(shown) <= {0, 1}   # some load patches found, at most one image an axis
    assert fig.axes[0].get_title(loc="left").startswith(f"A {bands[0]}: real std")
