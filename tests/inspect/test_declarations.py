"""HS code → category and matching a scan to its declaration rows."""

from __future__ import annotations

import json

import pytest

from cargoscan.inspect.declarations import (hs_alternatives, hs_category, load_categories, match_rows, read_declaration_file,
                                            summarise)
from tests.inspect.conftest import declaration_row


@pytest.mark.parametrize("hs,cat", [("6204420000", "garments"), ("6109", "garments"), ("6403", "footwear"),
                                    ("8517130000", "electronics"), ("8471300000", "electronics"), ("8413", "machinery"), ("8708", "auto_parts"), ("870829", "auto_parts"),
                                    ("8409", "machinery"), ("4011100000", "tyres"), ("4012", None),
                                    ("7208", "steel_products"), ("7306", "steel_products"), ("2701", "bulk_minerals"), ("2710", "liquids"), ("2905", "chemicals"), ("3923", "plastics"), ("9403", "furniture"),
                                    ("1905", "food"), ("2106", "food"), ("4819", "paper"), ("2815", "chemicals"),
                                    ("3808", "chemicals"), ("0101", None), ("2709", None), ("8609", "empty"), ("8606", "empty")])
def test_hs_category(hs, cat):
    assert hs_category(hs, load_categories()) == cat


def test_every_synthetic_hs_code_accepts_the_category_it_is_drawn_as():
    """The synthesiser draws methanol (2905) as a chemical in drums and as a liquid in tank wagons: the code's own
    category is chemicals, and liquids is among the forms it may take."""
    from cargoscan.synth.cargo import CATEGORIES

    cats = load_categories()
    for name, cat in CATEGORIES.items():
        for hs, _ in cat.goods:
            assert name in [hs_category(hs, cats), *hs_alternatives(hs, cats)], (hs, name)
    assert hs_category("2905", cats) == "chemicals" and hs_alternatives("2905", cats) == ["liquids"]


@pytest.mark.parametrize("hs,also", [("2905", ["liquids"]), ("2807", ["liquids"]), ("2710", []), ("6204", []),
                                     ("8609", [])])
def test_hs_alternatives_name_the_other_forms_only(hs, also):
    assert hs_alternatives(hs, load_categories()) == also


def test_the_summary_carries_each_row_s_alternatives():
    rows = [declaration_row(100.0, hs="2905"), declaration_row(50.0, hs="6204", pi="PI-0002")]
    s = summarise(rows, load_categories())
    assert s["categories"] == ["chemicals", "garments"] and s["alternatives"] == [["liquids"], []]


def test_every_category_has_russian_name_and_ranges():
    for c in load_categories().values():
        assert c.ru and c.density_g_cm3[0] < c.density_g_cm3[1]
        assert set(c.materials) <= {"organic", "mixed", "inorganic", "heavy"}


def test_match_by_wagon_or_container_and_train():
    meta = {"wagon_number": "45488855", "container_numbers": ["CSQU3054383"], "train_number": "2001"}
    rows = [declaration_row(10, pi="A"),
            declaration_row(20, wagon="11111111", pi="B"),                     # container moved to another wagon
            declaration_row(30, wagon="11111111", container="MSKU1234565", pi="C"),
            {**declaration_row(40, pi="D"), "train_number": "9999"}]           # another train
    got = match_rows(meta, rows)
    assert [r["pi_number"] for r in got] == ["A", "B"]
    s = summarise(got, load_categories())
    assert s["net_weight_kg"] == 30 and s["categories"] == ["garments", "garments"]
    assert summarise([], load_categories()) is None


def test_declaration_json_is_validated(tmp_path):
    good = tmp_path / "d.json"
    good.write_text(json.dumps([declaration_row(5)]), encoding="utf-8")
    assert read_declaration_file(good)[0]["net_weight_kg"] == "5.0"
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps({**declaration_row(5), "hs_code": "x"}), encoding="utf-8")
    with pytest.raises(ValueError, match="hs_code"):
        read_declaration_file(bad)
