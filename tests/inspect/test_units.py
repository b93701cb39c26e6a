"""Each unit of a wagon on its own (cargoscan.inspect.units): its declaration rows, its columns' category logits,
and its blocks read back from an inspection document as the fusion reads them."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.inspect.declarations import load_categories
from cargoscan.inspect.findings import UnitSpans
from cargoscan.inspect.tiling import TiledResult
from cargoscan.inspect.declarations import summarise
from cargoscan.inspect.units import forms, judges_goods, split, unit_records, unit_rows
from tests.inspect.conftest import declaration_row

A, B = "CSQU3054383", "MSKU1234565"


def test_rows_follow_their_container_and_the_wagon_takes_all():
    rows = [declaration_row(100.0, container=A, pi="1"), declaration_row(50.0, hs="7208", container=B, pi="2"),
            declaration_row(70.0, container=A, pi="3")]
    assert [r["pi_number"] for r in unit_rows(A, rows, [A, B])] == ["1", "3"]
    assert [r["pi_number"] for r in unit_rows(B, rows, [A, B])] == ["2"]
    assert len(unit_rows("45488855", rows, [])) == 3          # a wagon without containers owns every row


def test_split_gives_each_unit_its_own_declared_categories_and_weight():
    rows = [declaration_row(100.0, container=A, pi="1"), declaration_row(50.0, hs="7208", container=B, pi="2")]
    spans = UnitSpans((A, B), ((0, 40), (45, 90)), "gaps")
    a, b = split(spans, rows, {"container_numbers": [A, B], "wagon_number": "45488855"}, load_categories())
    assert (a.name, a.span, a.declared) == (A, (0, 40), ("garments",))
    assert (b.name, b.span, b.declared) == (B, (45, 90), ("steel_products",))
    assert a.summary["net_weight_kg"] == 100.0 and b.summary["net_weight_kg"] == 50.0
    assert a.columns((3, 100))[:, :40].all() and not a.columns((3, 100))[:, 40:].any()
    (none,) = split(UnitSpans((B,), ((0, 90),), "extent"), rows[:1], {"container_numbers": [B]}, load_categories())
    assert none.rows == () and none.summary is None and none.declared == ()


def _tiled(windows, logits, load) -> TiledResult:
    z = np.zeros((2, 2))
    mean = (np.asarray(logits, float)).sum(0) / np.sum(load)
    return TiledResult(z, z, z, z, mean, np.zeros(3), n_tiles=len(windows),
                       windows=np.asarray(windows), window_logits=np.asarray(logits, float),
                       window_load=np.asarray(load, float))


def test_span_logits_weigh_windows_by_load_and_overlap():
    # three 10-column windows: the first reads category 0, the last category 1, the middle one is air
    t = _tiled([(0, 10), (10, 20), (20, 30)], [[4.0, 0.0], [0.0, 0.0], [0.0, 6.0]], [2.0, 0.0, 3.0])
    assert np.allclose(t.span_logits(0, 10), [2.0, 0.0])       # a window's load-weighted sum over its load
    assert np.allclose(t.span_logits(20, 30), [0.0, 2.0])
    # half of the first window and all of the last: weights 0.5·2 and 1·3
    assert np.allclose(t.span_logits(5, 30), np.array([2.0, 6.0]) / 4.0)
    assert np.allclose(t.span_logits(12, 18), t.label_logits)   # no loaded window: the whole scan's mean
    z = np.zeros((2, 2))
    bare = TiledResult(z, z, z, z, np.array([1.0, -1.0]), np.zeros(3), n_tiles=0)   # no windows kept
    assert np.allclose(bare.span_logits(0, 10), [1.0, -1.0])


def test_unit_records_read_the_per_unit_blocks_and_fall_back_to_the_wagon():
    meta = {"wagon_type": "flat", "container_numbers": [A, B]}
    doc = {"meta": meta,
           "cargo": {"probabilities": {"garments": 0.5}, "declared": ["garments", "steel_products"], "units": [
               {"unit": A, "probabilities": {"garments": 0.9}, "declared": ["garments"]},
               {"unit": B, "probabilities": {"steel_products": 0.2}, "head_probabilities": {"garments": 0.7},
                "declared": ["steel_products"]}]},
           "material": {"bulk_density_g_cm3": 0.3, "per_unit": [{"unit": A, "bulk_density_g_cm3": 0.2},
                                                                 {"unit": B, "bulk_density_g_cm3": 0.4}]},
           "mass": {"gross_in_beam_kg": 9000.0, "units": [{"unit": A, "gross_in_beam_kg": 4000.0},
                                                          {"unit": B, "gross_in_beam_kg": 5000.0}]}}
    (na, ra, da), (nb, rb, db) = unit_records(doc)
    assert (na, da, nb, db) == (A, ["garments"], B, ["steel_products"])
    assert ra["material"]["bulk_density_g_cm3"] == 0.2 and rb["mass"]["gross_in_beam_kg"] == 5000.0
    # the fusion reads the head's probabilities where the unit keeps them beside the fused ones
    assert ra["cargo"]["probabilities"] == {"garments": 0.9} and rb["cargo"]["probabilities"] == {"garments": 0.7}
    assert ra["meta"] == meta
    wagon = {k: v for k, v in doc.items()}
    wagon["cargo"] = {"probabilities": {"garments": 0.5}, "declared": ["garments"]}
    ((name, rec, declared),) = unit_records(wagon)
    assert name == "" and declared == ["garments"] and rec["material"]["bulk_density_g_cm3"] == 0.3
    assert unit_records({"cargo": {"probabilities": {}}}) == []        # nothing measured: nothing to fuse


@pytest.mark.parametrize("missing", ["material", "mass"])
def test_a_unit_without_its_blocks_is_left_out(missing):
    doc = {"cargo": {"units": [{"unit": A, "probabilities": {"garments": 1.0}, "declared": []}]},
           "material": {"per_unit": [{"unit": A}]}, "mass": {"units": [{"unit": A}]}}
    doc[missing] = {}
    assert unit_records(doc) == []


def test_a_unit_accepts_the_forms_its_declared_code_may_take():
    rows = [declaration_row(100.0, hs="2905", container=A)]
    (u,) = split(UnitSpans((A,), ((0, 90),), "extent"), rows, {"container_numbers": [A]}, load_categories())
    assert u.declared == ("chemicals",) and u.accepted == ("chemicals", "liquids")


def test_each_row_is_judged_as_the_form_the_image_shows_among_those_its_code_takes():
    rows = [declaration_row(100.0, hs="2905", pi="1"), declaration_row(50.0, hs="6204", pi="2")]
    summary = summarise(rows, load_categories())
    assert forms(summary, {"liquids": 0.7, "chemicals": 0.1, "garments": 0.2}) == ("liquids", "garments")
    assert forms(summary, {"liquids": 0.1, "chemicals": 0.3, "steel_products": 0.6}) == ("chemicals", "garments")
    assert forms(summary, {}) == ("chemicals", "garments")        # a tie keeps the code's own category
    assert forms(None, {"liquids": 1.0}) == ()


def test_only_goods_are_judged_by_their_look():
    assert judges_goods(["garments"]) and judges_goods(["empty", "garments"])
    assert not judges_goods(["empty"]) and not judges_goods([])
