"""Declaration rows validated as data: each absurd value named, valid rows (synthetic ones too) untouched."""

from __future__ import annotations

import pytest

from cargoscan.archive.records import PAYLOAD_CAP_KG, declaration_problems, payload_cap_kg


def row(**over) -> dict[str, str]:
    base = {"pi_number": "32701/030225/0000001", "train_number": "9458", "wagon_number": "45488855",
            "container_number": "CSQU3054383", "hs_code": "6204", "goods_description": "платья женские",
            "packages_count": "120", "packaging": "коробки", "gross_weight_kg": "8400.0",
            "net_weight_kg": "8000.0", "consignor": "Yiwu Jinhai 义乌金海", "consignee": "ТОО «Получатель»"}
    return {**base, **over}


def test_a_valid_row_has_no_problems():
    assert declaration_problems(row()) == []
    assert declaration_problems(row(hs_code="6204420000")) == []
    # an empty container travelling as goods: 0 kg net is its declaration, not an error
    assert declaration_problems(row(hs_code="8609", net_weight_kg="0.0", gross_weight_kg="3750.0",
                                    packages_count="0")) == []


@pytest.mark.parametrize("over,field", [
    ({"net_weight_kg": "0"}, "net_weight_kg"),
    ({"net_weight_kg": "0.0", "gross_weight_kg": "0.0"}, "gross_weight_kg"),
    ({"net_weight_kg": "1" + "0" * 400, "gross_weight_kg": "1" + "0" * 400}, "net_weight_kg"),
    ({"net_weight_kg": "-5"}, "net_weight_kg"),
    ({"net_weight_kg": "nan"}, "net_weight_kg"),
    ({"net_weight_kg": "inf"}, "net_weight_kg"),
    ({"net_weight_kg": "1e5"}, "net_weight_kg"),
    ({"net_weight_kg": "40000", "gross_weight_kg": "41000"}, "net_weight_kg"),     # over a container's cap
    ({"gross_weight_kg": "7000"}, "gross_weight_kg"),                              # gross < net
    ({"hs_code": "62A4"}, "hs_code"),
    ({"hs_code": "62041"}, "hs_code"),
    ({"hs_code": "0004"}, "hs_code"),
    ({"hs_code": "9999"}, "hs_code"),
    ({"packages_count": "-1"}, "packages_count"),
    ({"packages_count": "1.5"}, "packages_count"),
    ({"packages_count": "9" * 40}, "packages_count"),
    ({"wagon_number": "45488856"}, "wagon_number"),
    ({"container_number": "CSQU3054384"}, "container_number"),
    ({"goods_description": "платья\x1b[31m"}, "goods_description"),
    ({"consignor": "abc\u202eevil"}, "consignor"),
    ({"goods_description": "x" * 5000}, "goods_description"),
    ({"train_number": "9" * 65}, "train_number"),
    ({"pi_number": "  "}, "pi_number"),
])
def test_each_bad_value_is_named(over, field):
    problems = declaration_problems(row(**over))
    assert problems, over
    assert any(p.startswith(field) for p in problems), problems


def test_wagon_caps_are_higher_than_container_caps():
    wagon = row(container_number="", wagon_number="67281766", hs_code="2701")
    assert payload_cap_kg(wagon) == PAYLOAD_CAP_KG["wagon"] > payload_cap_kg(row())
    assert declaration_problems({**wagon, "net_weight_kg": "69000", "gross_weight_kg": "69000"}) == []
    assert declaration_problems({**wagon, "net_weight_kg": "200000", "gross_weight_kg": "200000"})


def test_caps_cover_what_the_synthesiser_loads():
    """No unit of the synthetic scanner carries more than the cap (overstated declarations excepted: 1.6×)."""
    from cargoscan.synth.cargo import PAYLOAD_KG

    assert max(v for k, v in PAYLOAD_KG.items() if k.startswith("container")) <= PAYLOAD_CAP_KG["container"]
    assert max(v for k, v in PAYLOAD_KG.items() if not k.startswith("container")) <= PAYLOAD_CAP_KG["wagon"]


@pytest.mark.parametrize("bad", [None, [], "row", {"pi_number": "x"}, {**row(), "net_weight_kg": 5.0}])
def test_never_raises_on_malformed_rows(bad):
    problems = declaration_problems(bad)
    assert problems and all(isinstance(p, str) for p in problems)


def test_synthetic_declarations_are_valid(tiny_archive):
    from cargoscan.archive import ArchivePaths, read_table

    rows = read_table(ArchivePaths(tiny_archive).table("declarations.csv"))
    assert rows
    for r in rows:
        assert declaration_problems(r) == [], r
