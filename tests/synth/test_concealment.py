"""Concealment placed among the cargo's own objects: drugs inside a tyre's casing, a coil's eye, a reel, a drum."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cargoscan.synth import concealment as K
from cargoscan.synth.cargo import load_unit
from tests.synth.test_cargo import _unit, _with_hollows

DRUGS = {"kind": "drugs_in_cargo", "unit": 0, "drug": "cocaine", "mass_kg": 12.0}


def _hollow_masks(s, ld) -> np.ndarray:
    """Where any of the load's hollows lies, one pixel wider (a box's edge pixels are half covered)."""
    out = np.zeros((s.rows, s.cols), np.uint8)
    for h in ld.hollows:
        out |= K._box_mask(s, h.x0, h.x1, h.z0, h.z1)
    return cv2.dilate(out, np.ones((3, 3), np.uint8)).astype(bool)


@pytest.mark.parametrize("category,displaces", [("tyres", False), ("paper", True), ("chemicals", True),
                                                ("steel_products", False)])
def test_drugs_in_the_cargo_go_inside_an_object(monkeypatch, category, displaces):
    monkeypatch.setattr(K, "IN_OBJECT_SHARE", 1.0)
    s, ld = _with_hollows(category)
    before = ld.goods_mass()
    assert K.conceal(s, ld, dict(DRUGS), np.random.default_rng(5)) == ["drugs"]
    drugs = s.instances[-1]
    assert drugs.cls == "drugs" and drugs.site == "in_cargo" and drugs.mass_kg == 12.0
    assert drugs.mask.any() and not (drugs.mask & ~_hollow_masks(s, ld)).any()
    removed = before - ld.goods_mass()
    # air in a tyre's casing or a coil's eye is filled, nothing moved; a reel or a drum gives up its own goods
    assert (removed > 1.0) == displaces, removed


def test_a_hollowed_object_is_a_void_with_the_drugs_inside(monkeypatch):
    monkeypatch.setattr(K, "IN_OBJECT_SHARE", 1.0)
    s, ld = _with_hollows("paper")
    spec = {**DRUGS, "kind": "hollowed_goods", "contents": "drugs"}
    assert K.conceal(s, ld, spec, np.random.default_rng(2)) == ["void", "drugs"]
    void, drugs = s.instances[-2:]
    assert void.site == drugs.site == "hollowed_goods"
    assert not (drugs.mask & ~void.mask).any() and void.mask.sum() > drugs.mask.sum()


def test_cigarette_cases_do_not_fit_a_tyre(monkeypatch):
    """Only drugs go inside the objects; a master case of cigarettes stays between them, bigger than a hollow."""
    monkeypatch.setattr(K, "IN_OBJECT_SHARE", 1.0)
    s, ld = _with_hollows("tyres")
    spec = {**DRUGS, "kind": "cigarettes_in_cargo"}
    assert K.conceal(s, ld, spec, np.random.default_rng(1)) == ["cigarettes"]
    assert (s.instances[-1].mask & ~_hollow_masks(s, ld)).any()


def test_boxed_goods_keep_the_old_placement(monkeypatch):
    """Without hollows (cartons), drugs in the cargo sit in a box behind the cover goods, as before."""
    monkeypatch.setattr(K, "IN_OBJECT_SHARE", 1.0)
    s, unit, rng = _unit(seed=1)
    ld = load_unit(s, unit, "garments", 0.9, rng)
    before = ld.goods_mass()
    assert K.conceal(s, ld, dict(DRUGS), rng) == ["drugs"] and ld.goods_mass() < before
